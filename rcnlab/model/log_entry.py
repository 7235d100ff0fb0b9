"""The log entry 211 (Fig. 8): a RIO wrapped with its order information."""

from __future__ import annotations

import attrs

from rcnlab.model.ids import VolumeRef
from rcnlab.model.rio import Rio, RioKind

LOG_ENTRY_HEADER_BYTES = 48


@attrs.frozen(kw_only=True, slots=True, weakref_slot=False)
class LogEntry:
    """A log entry 211.

    target: 801 target storage WWN and LUN
    source: 802 source storage WWN and LUN
    order_id: 803 order assurance ID
    io_time, seq: 804 I/O time and sequential number
    rio: 805 the RIO it carries
    """

    target: VolumeRef
    source: VolumeRef
    order_id: int
    io_time: float
    seq: int
    rio: Rio
    rebase: bool = False  # resync after failure Suspend: the target restarts its sequence here

    @property
    def kind(self) -> RioKind:
        return self.rio.kind

    @property
    def key(self) -> tuple[int, int]:
        return (self.order_id, self.seq)

    @property
    def size(self) -> int:
        return LOG_ENTRY_HEADER_BYTES + self.rio.size
