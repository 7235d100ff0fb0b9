"""Path failure (908 as the storage itself detects it): a WR the edge does not answer
means the path to the edge is gone; the pair goes to failure Suspend, the block is
kept in 1211, and the edge is told as soon as it can hear."""

from __future__ import annotations

from rcnlab.devices.storage.state import StorageState
from rcnlab.model.kinds import Role
from rcnlab.model.pair_state import Event, PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag

S = PairState
#: A WR the edge has not answered (1603) within this time means the path to the edge is
#: gone (the edge crashed, the FC link failed): the pair goes to failure Suspend and the
#: block is kept in 1211, as a real array does on a path failure. The FC round trip is
#: tens of microseconds, so this never fires while the edge is alive.
PATH_TIMEOUT = 0.02
#: While the edge cannot be told of such a failure, the storage tells it again this often.
NOTIFY_INTERVAL = 0.05


class PathMixin(StorageState):
    __slots__ = ()

    def _track(self, xid: int, lun: int, block: int) -> None:
        self._unanswered[xid] = (lun, block, self.net.kernel.now)
        if self._path_timer is None:
            self._path_timer = self.net.kernel.timer(PATH_TIMEOUT, self._path_check)

    def _path_check(self) -> None:
        self._path_timer = None
        if not self.up:
            return
        deadline = self.now - PATH_TIMEOUT
        lost: dict[int, list[int]] = {}
        for xid, (lun, block, sent_at) in list(self._unanswered.items()):
            if sent_at > deadline + 1e-12:
                break
            del self._unanswered[xid]
            lost.setdefault(lun, []).append(block)
            waiting = self._sync_waiting.pop(xid, None)
            if waiting:  # the write is safe in 1211: the host may go on (fence level "never")
                self._answer(*waiting, Rio(kind=RioKind.WROK, source=self.ref(lun), target=self.ref(lun)))
        for lun, blocks in lost.items():
            self._path_failed(lun, blocks)
        if self._unanswered:
            oldest = next(iter(self._unanswered.values()))[2]
            self._path_timer = self.net.kernel.timer(max(0.0, oldest + PATH_TIMEOUT - self.now), self._path_check)

    def _path_failed(self, lun: int, blocks: list[int]) -> None:
        pair = self.pairs.get(lun)
        if pair is None or pair.role is not Role.SOURCE:
            return
        pair.bitmap.update(blocks)
        if pair.state in (S.SIMPLEX, S.FAILURE_SUSPEND):
            return
        self.emit("path-failed", None, pair=f"{pair.source}>{pair.target}", edge=self.edge, blocks=len(blocks))
        self._stop_copy(pair)
        self._set_state(pair, Event.FAIL, Tag.LIFE_REMOTE_COPY_FAILED)
        self._notify_edge(lun)

    def _notify_edge(self, lun: int) -> None:
        """Tell the edge the pair failed; again and again until it answers (it may be down)."""
        self._notify.pop(lun, None)
        pair = self.pairs.get(lun)
        if pair is None or pair.role is not Role.SOURCE or pair.state is not S.FAILURE_SUSPEND:
            return
        if self.up:
            self._to_edge(Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote, failure=True))
        self._notify[lun] = self.net.kernel.timer(NOTIFY_INTERVAL, self._notify_edge, lun, daemon=True)

    def _cancel_notify(self, lun: int) -> None:
        timer = self._notify.pop(lun, None)
        if timer is not None:
            timer.cancel()
