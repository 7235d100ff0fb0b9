"""One volume pair as a storage sees it, and the copy job that fills its target."""

from __future__ import annotations

import attrs

from rcnlab.emu.kernel import Timer
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import Party, Role
from rcnlab.model.pair_state import PairState
from rcnlab.model.rio import RioKind


@attrs.define(eq=False)
class CopyJob:
    """An initial copy (1013) or a differential copy (after 1212) in progress."""

    blocks: list[int]
    total: int
    done: int = 0
    timer: Timer | None = None

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0


@attrs.define(eq=False)
class StoragePair:
    """One volume pair as this storage sees it. ``remote`` is the other volume as
    this storage addresses it (the virtual storage's WWN in the Fig. 2 variant)."""

    role: Role
    local: VolumeRef
    remote: VolumeRef
    mode: str  # "sync" or "async"
    state: PairState = PairState.SIMPLEX
    bitmap: set[int] = attrs.field(factory=set)  # differential bitmap 1211 (source) / 1213 (target)
    copy: CopyJob | None = None
    takeover: bool = False  # the target host took over the volume (failover)
    swapped: bool = False  # failed back: the pair runs against the direction it was created in
    swap_unconfirmed: bool = False  # failed back here, no DPOK yet: every resync carries the swap
    #: answer kind -> the (host, tag) of each command waiting for it, oldest first
    waiting: dict[RioKind, list[tuple[str, int]]] = attrs.field(factory=dict)
    copied_blocks: int = 0  # blocks sent by initial and differential copies, for the summary
    differential_blocks: int = 0  # of those, blocks sent by differential copies (resync, failback)
    differential: bool = False  # the running copy is a differential one

    @property
    def party(self) -> Party:
        """This storage's party to the pair."""
        return Party.SOURCE_STORAGE if self.role is Role.SOURCE else Party.TARGET_STORAGE

    @property
    def source(self) -> VolumeRef:
        return self.local if self.role is Role.SOURCE else self.remote

    @property
    def target(self) -> VolumeRef:
        return self.remote if self.role is Role.SOURCE else self.local
