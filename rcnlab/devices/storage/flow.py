"""Flow control at the storage (the edge's side is ``rcnlab.devices.edge.flow``).

On the edge's notice the storage holds back: its copy engine sends nothing
(``copies``), and host writes to its pairs through the edge wait in the order they
came (``hosts``, policy ``throttle``): the host sees the latency, nothing suspends.
A notice holds for ``PACE_LEASE`` unless repeated. Whatever the notice, the storage
never has more WRs on their way to the edge (sent, no WROK yet, 1603) than a window
of at most ``WINDOW_BYTES``, an eighth of the edge's log storage area 413 at most:
a copy, or writes let go after a wait, never flood 413 faster than it can answer.
"""

from __future__ import annotations

from rcnlab.devices.storage.state import StorageState
from rcnlab.model.kinds import Role
from rcnlab.model.pace import GO, PACE_LEASE, WINDOW_BYTES, Pace, write_window
from rcnlab.model.pair_state import PairState
from rcnlab.model.rio import Rio

S = PairState
#: The pair states in which a host write goes on to the edge.
_SENDING = frozenset({S.INITIAL_COPYING, S.DUPLEX_PENDING, S.DUPLEX})


class FlowMixin(StorageState):
    __slots__ = ()

    def window(self) -> int:
        """WRs that may be on their way to the edge (copies; writes let go after a wait)."""
        capacity = next((e.log_capacity for e in self.net.topo.edges if e.name == self.edge), WINDOW_BYTES * 8)
        return write_window(capacity, self.block_size)

    def _on_pace(self, pace: Pace) -> None:
        pacing = self.pacing
        if pace != pacing.notice:
            self.emit("pacing", None, copies=pace.copies, hosts=pace.hosts, waiting=len(pacing.queue))
        pacing.notice = pace
        if pace != GO:
            pacing.until = self.now + PACE_LEASE
            if pacing.timer is None:
                pacing.timer = self.net.kernel.timer(PACE_LEASE, self._pace_lapsed, daemon=True)
        self._release()

    def _pace_lapsed(self) -> None:
        pacing = self.pacing
        pacing.timer = None
        if not self.up:
            return
        if self.now < pacing.until:
            pacing.timer = self.net.kernel.timer(pacing.until - self.now, self._pace_lapsed, daemon=True)
            return
        self._on_pace(GO)

    def _waits(self, rio: Rio) -> bool:
        """Must this host WR wait? Behind any that wait; or while hosts are held, if it
        would go on to the edge."""
        pacing = self.pacing
        return bool(pacing.queue) or (pacing.notice.hosts and self._goes_to_edge(rio))

    def _window_full(self, rio: Rio) -> bool:
        """Would this host WR go on to the edge beyond the window? Then it waits, whatever the
        notice (else a burst queues on the link, and keeps coming after a throttle notice until
        413 is full: deep profile, 1,000 writes a second of 4 KiB into a 64 KiB log)."""
        on_way = len(self._unanswered)
        return on_way > 0 and on_way >= self.window() and self._goes_to_edge(rio)

    def _goes_to_edge(self, rio: Rio) -> bool:
        pair = self.pairs.get(rio.target.lun) if rio.target.wwn == self.wwn else None
        return pair is not None and pair.role is Role.SOURCE and pair.state in _SENDING

    def _release(self) -> None:
        """Let waiting host writes go, in order, as far as the notice and the window allow."""
        pacing = self.pacing
        queue = pacing.queue
        window = self.window() if queue else 0
        while queue and len(self._unanswered) < window:
            host, cmd = queue[0]
            if pacing.notice.hosts and self._goes_to_edge(cmd.rio):
                break
            queue.popleft()
            pacing.holding = False
            self._on_scsi(host, cmd)
        pacing.holding = bool(queue) or pacing.notice.hosts

    def _reset_pacing(self) -> None:
        """A crash: the waiting commands are lost with the storage's memory, as any in progress."""
        pacing = self.pacing
        if pacing.timer is not None:
            pacing.timer.cancel()
        pacing.timer = None
        pacing.notice = GO
        pacing.queue.clear()
        pacing.holding = False
