"""Remote copy I/O requests (RIO): what storage and edges say to each other over FC.

The same kinds travel inside log entries 211 between edges (RIO area 805), and as
SCSI commands between a host and its storage.
"""

from __future__ import annotations

import enum

import attrs

from rcnlab.model.ids import VolumeRef

RIO_HEADER_BYTES = 64


class RioKind(enum.Enum):
    WR = "WR"  # write (1602)
    WROK = "WROK"  # write complete (1603, 1608)
    PAIR_CREATE = "pair-create"  # 1002
    ICOK = "ICOK"  # Initial-Copying transition complete (1006)
    DUPLEX = "Duplex-transition"  # 1101
    DOK = "DOK"  # Duplex transition complete (1105)
    RESYNC = "resynchronize"  # 1202
    DPOK = "DPOK"  # Duplex-Pending transition complete, carries bitmap 1213/1209 (1206, 1210)
    SUSPEND = "Suspend"  # Suspend instruction (910, 1303; 908 when ``failure``)
    SOK = "SOK"  # Suspend transition complete (1304 C, 1310)
    DELETE = "delete"  # pair delete (back to Simplex)
    DELOK = "DELOK"  # pair delete complete

    def __str__(self) -> str:
        return self.value


#: The answer each request kind expects.
REPLY = {
    RioKind.WR: RioKind.WROK,
    RioKind.PAIR_CREATE: RioKind.ICOK,
    RioKind.DUPLEX: RioKind.DOK,
    RioKind.RESYNC: RioKind.DPOK,
    RioKind.SUSPEND: RioKind.SOK,
    RioKind.DELETE: RioKind.DELOK,
}
REPLIES = frozenset(REPLY.values())


@attrs.frozen(kw_only=True, slots=True)
class Rio:
    """A remote copy I/O request.

    ``source`` and ``target`` name the pair: the source volume (113) and the
    target volume (123) as the sender addresses them.
    """

    kind: RioKind
    source: VolumeRef
    target: VolumeRef
    block: int = -1
    data: bytes = b""
    bitmap: frozenset[int] = frozenset()  # DPOK: differential bitmap 1213 / 1209
    mode: str = ""  # PAIR_CREATE: "sync" or "async"
    order_id: int = 0  # PAIR_CREATE with method B: the operator's order assurance ID
    failure: bool = False  # SUSPEND/SOK: go to failure Suspend rather than Suspend
    copy: bool = False  # WR: part of an initial or differential copy (1013), not a host write
    swap: bool = False  # RESYNC: failback, the pair's direction is reversed
    full: bool = False  # SUSPEND failure: the edge lost its log (volatile 413): mark every written block
    xid: int = 0  # FC exchange ID (other headers 1413): matches a WROK to its WR at the source storage
    seq: int = 0  # set by the target edge when it turns a log entry back into a RIO (2004)
    error: str = ""  # a reply that refuses the request (access control 405, illegal state)

    @property
    def size(self) -> int:
        return RIO_HEADER_BYTES + len(self.data) + 8 * len(self.bitmap)


@attrs.frozen(kw_only=True, slots=True)
class ScsiCommand:
    """A SCSI command between a host and its storage (1001, 1201, 1302, 1601), or the
    storage's answer (``status`` "ok" or "error", with ``detail``)."""

    tag: int
    rio: Rio
    status: str = ""
    detail: str = ""

    @property
    def kind(self) -> RioKind:
        return self.rio.kind

    @property
    def size(self) -> int:
        return self.rio.size
