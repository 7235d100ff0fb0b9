"""Flow control between an edge and the storages attached to it (not in the patent;
an array's journal inflow control). The edge tells each storage, whenever it changes,
what must wait while its log storage area 413 fills; the storage holds that back until
a later notice lets it go."""

from __future__ import annotations

import attrs

from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES

#: Bytes a notice takes on the FC link.
PACE_BYTES = 32
#: A storage holds back for this long after the last notice; the edge repeats a notice
#: this often while it stands. So a storage whose edge died stops waiting (and then
#: finds the path gone).
PACE_LEASE, PACE_RENEW = 0.5, 0.1


@attrs.frozen(kw_only=True)
class Pace:
    """``copies``: the copy engine (initial copy 1013, differential copy after 1212)
    sends nothing; ``hosts``: host writes to pairs through this edge wait (policy
    ``throttle``)."""

    copies: bool = False
    hosts: bool = False


GO = Pace()


#: At most this many bytes of WRs on their way from a storage to its edge (a copy, or writes
#: let go after a wait).
WINDOW_BYTES = 1 << 20


def write_window(log_capacity: int, block_size: int) -> int:
    """WRs a storage may have on their way to an edge with ``log_capacity`` bytes of 413 (sent,
    no WROK yet, 1603), whatever the notice: an eighth of 413, `WINDOW_BYTES` at most."""
    return max(1, min(WINDOW_BYTES, log_capacity // 8) // (LOG_ENTRY_HEADER_BYTES + block_size))
