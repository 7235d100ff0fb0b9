"""The copy program: the initial copy (1013) after pair creation and the differential
copy after a resync (1212) send the blocks to copy to the target, a share every
millisecond (none while the edge says copies wait, and never more than the flow
window on the way to the edge: ``flow``); when it ends the pair goes to Duplex (1101)."""

from __future__ import annotations

from rcnlab.devices.storage.pair import CopyJob, StoragePair
from rcnlab.devices.storage.state import StorageState
from rcnlab.model.bitmaps import hand_over
from rcnlab.model.kinds import CopyKind
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag

COPY_TICK = 0.001  # the copy engine sends a share of blocks every millisecond


class CopyMixin(StorageState):
    __slots__ = ()

    def _start_copy(self, pair: StoragePair, blocks: list[int], what: CopyKind) -> None:
        if pair.copy is not None:  # one runs already (a second DPOK, say): what it has not sent yet comes along
            self._stop_copy(pair)
            blocks = sorted(hand_over(pair.bitmap, set(blocks)))
        pair.copy = CopyJob(blocks=blocks, total=len(blocks))
        if what is not CopyKind.RESUMED:
            pair.differential = what is CopyKind.DIFFERENTIAL
        self.emit("copy-started", Tag.CREATE_INITIAL_COPY if what is CopyKind.INITIAL else None,
                  pair=f"{pair.source}>{pair.target}", blocks=len(blocks), copy=what)
        self._copy_tick(pair)

    def _copy_tick(self, pair: StoragePair) -> None:
        job = pair.copy
        if job is None or not self.up:
            return
        share = max(1, int(self.spec.copy_rate * COPY_TICK))
        if self.pacing.notice.copies:  # the edge's log storage area is filling (``flow``)
            share = 0
        elif len(self._unanswered) + share > (window := self.window()):
            share = max(0, window - len(self._unanswered))
        volume = self.volumes[pair.local.lun]
        for block in job.blocks[job.done:job.done + share]:
            self._next_xid += 1
            wr = Rio(kind=RioKind.WR, source=pair.local, target=pair.remote, block=block, data=volume.read(block),
                     copy=True, xid=self._next_xid)
            self._track(self._next_xid, volume.lun, wr)
            self._to_edge(wr, Tag.CREATE_INITIAL_COPY)
        sent = min(share, job.total - job.done)
        job.done += sent
        pair.copied_blocks += sent
        if pair.differential:
            pair.differential_blocks += sent
        if job.done < job.total:
            job.timer = self.net.kernel.timer(COPY_TICK, self._copy_tick, pair)
            return
        pair.copy = None
        self.emit("copy-finished", None, pair=f"{pair.source}>{pair.target}", blocks=job.total)
        self._command(pair, Rio(kind=RioKind.DUPLEX, source=pair.local, target=pair.remote), Tag.DUPLEX_TO_EDGE)

    def _stop_copy(self, pair: StoragePair) -> None:
        """Stop a copy; what it had not sent yet stays marked in the bitmap 1211."""
        job = pair.copy
        if job is None:
            return
        if job.timer is not None:
            job.timer.cancel()
        pair.bitmap.update(job.blocks[job.done:])
        pair.copy = None
