"""Flow control between an edge and the storages attached to it (not in the patent;
an array's journal inflow control). The edge tells each storage, whenever it changes,
what must wait while its log storage area 413 fills; the storage holds that back until
a later notice lets it go."""

from __future__ import annotations

import attrs

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
