"""The protocol's numbered steps (SPEC.md section 5), by name.

A trace tags an event with its figure and step, ``figN:STEP``; code names the
step instead of spelling the string. Within each figure the steps are listed in
the order the patent walks through them (Fig. 17 and 18 update the pair state,
1711/1811, before 1708/1808); ``rcnlab.catalogue`` reads that order from here.
The patent's misnumberings are settled as SPEC.md says: Fig. 10's ninth step is
1009, Fig. 22's last is 2212.

Prefixes: LIFE (Fig. 9), CREATE (Fig. 10), DUPLEX (Fig. 11), RESYNC (Fig. 12),
FAILOVER (Fig. 13), WRITE (the arrows of Fig. 16); the edges' own flow charts
are SRC_CREATE (Fig. 17), SRC_DUPLEX (Fig. 18), SRC_WR (Fig. 19), TGT_WR
(Fig. 20), TGT_CREATE (Fig. 21) and TGT_DUPLEX (Fig. 22).
"""

from __future__ import annotations

from typing import Final


class Tag:
    """Step tags: each a plain string, exactly as traces carry it."""

    # Fig. 9: life cycle
    LIFE_CONTRACT_CONCLUDED: Final = "fig9:901"
    LIFE_CUSTOMER_CONFIGURED: Final = "fig9:902"
    LIFE_RCN_CONFIGURED: Final = "fig9:903"
    LIFE_PAIR_CREATE_INSTRUCTED: Final = "fig9:904"
    LIFE_PAIR_DUPLEX: Final = "fig9:905"
    LIFE_REMOTE_COPY_FAILED: Final = "fig9:908"
    LIFE_RESYNC_INSTRUCTED: Final = "fig9:909"
    LIFE_SUSPEND_INSTRUCTED: Final = "fig9:910"
    LIFE_FAILOVER_DONE: Final = "fig9:911"

    # Fig. 10: pair creation to Initial-Copying
    CREATE_HOST_COMMAND: Final = "fig10:1001"
    CREATE_TO_EDGE: Final = "fig10:1002"
    CREATE_ENTRY_SENT: Final = "fig10:1003"
    CREATE_TO_TARGET_STORAGE: Final = "fig10:1004"
    CREATE_TARGET_STATE: Final = "fig10:1005"
    CREATE_ICOK_FROM_TARGET: Final = "fig10:1006"
    CREATE_TARGET_EDGE_STATE: Final = "fig10:1007"
    CREATE_ICOK_SENT: Final = "fig10:1008"
    CREATE_SOURCE_EDGE_STATE: Final = "fig10:1009"
    CREATE_ICOK_TO_SOURCE: Final = "fig10:1010"
    CREATE_SOURCE_STATE: Final = "fig10:1011"
    CREATE_HOST_ANSWERED: Final = "fig10:1012"
    CREATE_INITIAL_COPY: Final = "fig10:1013"

    # Fig. 11: Duplex transition
    DUPLEX_TO_EDGE: Final = "fig11:1101"
    DUPLEX_ENTRY_SENT: Final = "fig11:1102"
    DUPLEX_TO_TARGET_STORAGE: Final = "fig11:1103"
    DUPLEX_TARGET_STATE: Final = "fig11:1104"
    DUPLEX_DOK_FROM_TARGET: Final = "fig11:1105"
    DUPLEX_TARGET_EDGE_STATE: Final = "fig11:1106"
    DUPLEX_DOK_SENT: Final = "fig11:1107"
    DUPLEX_SOURCE_EDGE_STATE: Final = "fig11:1108"
    DUPLEX_DOK_TO_SOURCE: Final = "fig11:1109"
    DUPLEX_SOURCE_STATE: Final = "fig11:1110"

    # Fig. 12: resync (differential bitmaps 1209, 1211, 1213)
    RESYNC_HOST_COMMAND: Final = "fig12:1201"
    RESYNC_TO_EDGE: Final = "fig12:1202"
    RESYNC_ENTRY_SENT: Final = "fig12:1203"
    RESYNC_VIA_CORE: Final = "fig12:1204"
    RESYNC_TO_TARGET_STORAGE: Final = "fig12:1205"
    RESYNC_DPOK_FROM_TARGET: Final = "fig12:1206"
    RESYNC_TARGET_EDGE_STATE: Final = "fig12:1207"
    RESYNC_DPOK_VIA_CORE: Final = "fig12:1208"
    RESYNC_EDGE_MERGE: Final = "fig12:1209"
    RESYNC_SOURCE_EDGE_STATE: Final = "fig12:1210"
    RESYNC_STORAGE_MERGE: Final = "fig12:1211"
    RESYNC_SOURCE_STATE: Final = "fig12:1212"

    # Fig. 13: failover
    FAILOVER_SITE_FAILURE_DETECTED: Final = "fig13:1301"
    FAILOVER_HOST_COMMAND: Final = "fig13:1302"
    FAILOVER_TO_EDGE: Final = "fig13:1303"
    FAILOVER_SUSPEND_SENT: Final = "fig13:1304"
    FAILOVER_TIMER_RESET: Final = "fig13:1305"
    FAILOVER_WAITING_FOR_SOK: Final = "fig13:1306"
    FAILOVER_RECEIVING: Final = "fig13:1307"
    FAILOVER_SOK_CHECKED: Final = "fig13:1308"
    FAILOVER_REFLECTING: Final = "fig13:1309"
    FAILOVER_SOK_TO_STORAGE: Final = "fig13:1310"
    FAILOVER_TARGET_STATE: Final = "fig13:1311"
    FAILOVER_APPLICATION_RESTARTED: Final = "fig13:1312"

    # Fig. 16: the write timeline's arrows
    WRITE_HOST_COMMAND: Final = "fig16:1601"
    WRITE_TO_EDGE: Final = "fig16:1602"
    WRITE_WROK_FROM_EDGE: Final = "fig16:1603"
    WRITE_HOST_ANSWERED: Final = "fig16:1604"
    WRITE_ENTRY_SENT: Final = "fig16:1605"
    WRITE_VIA_CORE: Final = "fig16:1606"
    WRITE_TO_TARGET_STORAGE: Final = "fig16:1607"
    WRITE_WROK_FROM_TARGET: Final = "fig16:1608"
    WRITE_WROK_SENT: Final = "fig16:1609"
    WRITE_WROK_VIA_CORE: Final = "fig16:1610"

    # Fig. 17: source edge, pair creation
    SRC_CREATE_RECEIVED: Final = "fig17:1701"
    SRC_CREATE_PAIR_REGISTERED: Final = "fig17:1702"
    SRC_CREATE_LOG_CREATED: Final = "fig17:1703"
    SRC_CREATE_CREATED_COUNTED: Final = "fig17:1704"
    SRC_CREATE_HOP_CHOSEN: Final = "fig17:1705"
    SRC_CREATE_LOG_SENT: Final = "fig17:1706"
    SRC_CREATE_ANSWER_RECEIVED: Final = "fig17:1707"
    SRC_CREATE_STATE_UPDATED: Final = "fig17:1711"
    SRC_CREATE_RIO_TO_STORAGE: Final = "fig17:1708"
    SRC_CREATE_LOG_DELETED: Final = "fig17:1709"
    SRC_CREATE_DELETED_COUNTED: Final = "fig17:1710"

    # Fig. 18: source edge, Duplex transition
    SRC_DUPLEX_INITIAL_COPY_STARTED: Final = "fig18:1801"
    SRC_DUPLEX_RECEIVED: Final = "fig18:1802"
    SRC_DUPLEX_LOG_CREATED: Final = "fig18:1803"
    SRC_DUPLEX_CREATED_COUNTED: Final = "fig18:1804"
    SRC_DUPLEX_HOP_CHOSEN: Final = "fig18:1805"
    SRC_DUPLEX_LOG_SENT: Final = "fig18:1806"
    SRC_DUPLEX_ANSWER_RECEIVED: Final = "fig18:1807"
    SRC_DUPLEX_STATE_UPDATED: Final = "fig18:1811"
    SRC_DUPLEX_RIO_TO_STORAGE: Final = "fig18:1808"
    SRC_DUPLEX_LOG_DELETED: Final = "fig18:1809"
    SRC_DUPLEX_DELETED_COUNTED: Final = "fig18:1810"

    # Fig. 19: source edge, write
    SRC_WR_RECEIVED: Final = "fig19:1901"
    SRC_WR_LOG_CREATED: Final = "fig19:1902"
    SRC_WR_CREATED_COUNTED: Final = "fig19:1903"
    SRC_WR_WROK_RETURNED: Final = "fig19:1904"
    SRC_WR_HOP_CHOSEN: Final = "fig19:1905"
    SRC_WR_LOG_SENT: Final = "fig19:1906"
    SRC_WR_ANSWER_RECEIVED: Final = "fig19:1907"
    SRC_WR_LOG_DELETED: Final = "fig19:1908"
    SRC_WR_DELETED_COUNTED: Final = "fig19:1909"

    # Fig. 20: target edge, write
    TGT_WR_LOG_RECEIVED: Final = "fig20:2001"
    TGT_WR_LOG_STORED: Final = "fig20:2002"
    TGT_WR_ENTRY_SELECTED: Final = "fig20:2003"
    TGT_WR_RIO_CONVERTED: Final = "fig20:2004"
    TGT_WR_RIO_SENT: Final = "fig20:2005"
    TGT_WR_ANSWER_FROM_STORAGE: Final = "fig20:2006"
    TGT_WR_REFLECTED_COUNTED: Final = "fig20:2007"
    TGT_WR_ANSWER_LOG_CREATED: Final = "fig20:2008"
    TGT_WR_HOP_CHOSEN: Final = "fig20:2009"
    TGT_WR_LOG_SENT: Final = "fig20:2010"
    TGT_WR_LOG_DELETED: Final = "fig20:2011"

    # Fig. 21: target edge, pair creation
    TGT_CREATE_LOG_RECEIVED: Final = "fig21:2101"
    TGT_CREATE_LOG_STORED: Final = "fig21:2102"
    TGT_CREATE_PAIR_REGISTERED: Final = "fig21:2103"
    TGT_CREATE_RIO_CONVERTED: Final = "fig21:2104"
    TGT_CREATE_RIO_SENT: Final = "fig21:2105"
    TGT_CREATE_ANSWER_FROM_STORAGE: Final = "fig21:2106"
    TGT_CREATE_REFLECTED_COUNTED: Final = "fig21:2107"
    TGT_CREATE_STATE_UPDATED: Final = "fig21:2108"
    TGT_CREATE_ANSWER_LOG_CREATED: Final = "fig21:2109"
    TGT_CREATE_HOP_CHOSEN: Final = "fig21:2110"
    TGT_CREATE_LOG_SENT: Final = "fig21:2111"
    TGT_CREATE_LOG_DELETED: Final = "fig21:2112"

    # Fig. 22: target edge, Duplex transition
    TGT_DUPLEX_INITIAL_COPY_STARTED: Final = "fig22:2201"
    TGT_DUPLEX_LOG_RECEIVED: Final = "fig22:2202"
    TGT_DUPLEX_LOG_STORED: Final = "fig22:2203"
    TGT_DUPLEX_RIO_CONVERTED: Final = "fig22:2204"
    TGT_DUPLEX_RIO_SENT: Final = "fig22:2205"
    TGT_DUPLEX_ANSWER_FROM_STORAGE: Final = "fig22:2206"
    TGT_DUPLEX_REFLECTED_COUNTED: Final = "fig22:2207"
    TGT_DUPLEX_STATE_UPDATED: Final = "fig22:2208"
    TGT_DUPLEX_ANSWER_LOG_CREATED: Final = "fig22:2209"
    TGT_DUPLEX_HOP_CHOSEN: Final = "fig22:2210"
    TGT_DUPLEX_LOG_SENT: Final = "fig22:2211"
    TGT_DUPLEX_LOG_DELETED: Final = "fig22:2212"


def all_tags() -> list[str]:
    """Every step tag, figure by figure, each figure's in the patent's order."""
    return [value for name, value in vars(Tag).items() if name.isupper()]
