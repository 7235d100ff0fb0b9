"""Path failure (908 as the storage itself detects it): a WR the edge does not answer
within the path timeout of its leaving onto the wire means the path to the edge is gone; the pair goes to failure
Suspend, the block is kept in 1211, and the edge is told as soon as it can hear. An
edge that crashes and is back within the path timeout gets the WRs it missed again."""

from __future__ import annotations

from rcnlab.devices.storage.state import StorageState
from rcnlab.model.kinds import Role
from rcnlab.model.pair_state import Event, PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag
from rcnlab.topo.schema import round_trip

S = PairState
#: The path timeout when the topology leaves ``path_timeout_ms`` out: the longer of a
#: floor and a few round trips of a WR over the storage's attachment (its link to the
#: edge, as it is now: ``set-link`` may change it). A WR still unanswered then means
#: the path is gone (908): the pair goes to failure Suspend and the block is kept in
#: 1211, as an array does on a path failure. The round trips leave room for a WR that
#: waits behind a burst and for jitter, so a healthy long-distance attachment (2,500 km
#: of FC is 25 ms there and back) never times out; the floor (20 ms, far beyond a local
#: FC round trip of tens of microseconds) lets an edge that restarts within it take the
#: WRs it missed, resent by the storage (``edge_up``), instead of failing the pair.
PATH_TIMEOUT_FLOOR = 0.02
PATH_TIMEOUT_ROUND_TRIPS = 4
#: While the edge cannot be told of such a failure, the storage tells it again this often.
NOTIFY_INTERVAL = 0.05


class PathMixin(StorageState):
    __slots__ = ()

    @property
    def path_timeout(self) -> float:
        """Seconds a WR may go unanswered by the edge: the topology's ``path_timeout_ms``,
        else `PATH_TIMEOUT_FLOOR` or `PATH_TIMEOUT_ROUND_TRIPS` round trips, the longer."""
        if self.spec.path_timeout is not None:
            return self.spec.path_timeout
        out, back = (self.net.channels[ends] for ends in ((self.name, self.edge), (self.edge, self.name)))
        rtt = round_trip(max(out.latency, back.latency), max(out.jitter, back.jitter), out.bandwidth,
                         self.block_size)
        return max(PATH_TIMEOUT_FLOOR, PATH_TIMEOUT_ROUND_TRIPS * rtt)

    def _track(self, xid: int, lun: int, rio: Rio) -> None:
        if not self._unanswered:
            self._lost_before = self.net.channels[(self.edge, self.name)].dropped
        # timed from when the WR starts onto the wire: waiting behind others for the link's
        # bandwidth is no sign of a lost path (as the edge's resends are timed)
        departs = max(self.net.kernel.now, self.net.channels[(self.name, self.edge)].busy_until)
        self._unanswered[xid] = (lun, rio.block, departs, rio)
        if self._path_timer is None:
            self._path_timer = self.net.kernel.timer(self.path_timeout, self._path_check)

    def _path_check(self) -> None:
        self._path_timer = None
        if not self.up:
            return
        timeout = self.path_timeout
        deadline = self.now - timeout
        lost: dict[int, list[int]] = {}
        for xid, (lun, block, sent_at, _) in list(self._unanswered.items()):
            if sent_at > deadline + 1e-12:
                break
            del self._unanswered[xid]
            lost.setdefault(lun, []).append(block)
            waiting = self._sync_waiting.pop(xid, None)
            if waiting:  # the write is safe in 1211: the host may go on (fence level "never")
                self._answer(*waiting, Rio(kind=RioKind.WROK, source=self.ref(lun), target=self.ref(lun)))
        for lun, blocks in lost.items():
            self._path_failed(lun, blocks)
        if lost and self.pacing.queue:  # writes waiting for the window go on (to 1211 now)
            self._release()
        if self._unanswered:
            oldest = next(iter(self._unanswered.values()))[2]
            self._path_timer = self.net.kernel.timer(max(0.0, oldest + timeout - self.now), self._path_check)

    # -- the edge's FC port goes dark and comes back (the fabric says so, RSCN) ------------------
    def edge_down(self) -> None:
        """The edge crashed: until it is back, nothing goes to it as from a source; WRs wait.
        What was on its way to it is lost with its port (the fabric aborts the exchanges), so
        that ``edge_up`` sends each WR again once and in order (deep profile: WRs still queued
        on a slow link reached the restarted edge ahead of the resends of older ones lost in
        the crash, and the target took older data over newer)."""
        self._edge_down = True
        self.net.channels[(self.name, self.edge)].flush(self.now)

    def edge_up(self) -> None:
        """The edge is back (its answers to what it took before the crash have all arrived by
        now): send it, in their order, the WRs it never took, unless its link to us lost a
        frame since the oldest was sent (an answer lost there means a WR the edge took,
        which must not be logged twice); the path timeout then counts from each one's new
        departure, as for any WR (timed from their first, a burst of them behind one another
        on a slow link failed the pair: deep profile, a 1 ms crash of a durable edge)."""
        if not self._edge_down or not self.net.devices[self.edge].up:  # not back after all: it crashed again
            return
        self._edge_down = False
        if not self.up or not self._unanswered or self.net.channels[(self.edge, self.name)].dropped != self._lost_before:
            return
        self.emit("writes-resent", None, edge=self.edge, writes=len(self._unanswered))
        out = self.net.channels[(self.name, self.edge)]
        for xid, (lun, block, _, rio) in list(self._unanswered.items()):
            departs = max(self.now, out.busy_until)
            self._to_edge(rio)
            self._unanswered[xid] = (lun, block, departs, rio)

    def _path_failed(self, lun: int, blocks: list[int]) -> None:
        pair = self.pairs.get(lun)
        if pair is None or pair.role is not Role.SOURCE:
            return
        pair.bitmap.update(blocks)
        if pair.state in (S.SIMPLEX, S.FAILURE_SUSPEND):
            return
        self.emit("path-failed", None, pair=f"{pair.source}>{pair.target}", edge=self.edge, blocks=len(blocks),
                  choice="rcnlab's choice: fence level never: synchronous writes waiting are acknowledged, "
                         "their blocks kept in 1211 for the resync")
        self._stop_copy(pair)
        self._set_state(pair, Event.FAIL, Tag.LIFE_REMOTE_COPY_FAILED)
        self._notify_edge(lun)

    def _notify_edge(self, lun: int) -> None:
        """Tell the edge the pair failed; again and again until it answers (it may be down)."""
        self._notify.pop(lun, None)
        pair = self.pairs.get(lun)
        if pair is None or pair.role is not Role.SOURCE or pair.state is not S.FAILURE_SUSPEND:
            return
        if self.up:  # xid: every WR numbered up to this one is answered or kept in 1211
            accounted = next(iter(self._unanswered)) - 1 if self._unanswered else self._next_xid
            self._to_edge(Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote, failure=True,
                              xid=accounted))
        self._notify[lun] = self.net.kernel.timer(NOTIFY_INTERVAL, self._notify_edge, lun, daemon=True)

    def _cancel_notify(self, lun: int) -> None:
        timer = self._notify.pop(lun, None)
        if timer is not None:
            timer.cancel()
