"""An edge crashes and restarts. Its log storage area 413 is volatile (lost: the
groups it held entries for go to failure Suspend, 908) or durable (kept: what was
held is sent again, what was being reflected is reflected again)."""

from __future__ import annotations

from typing import Any

from rcnlab.devices.edge.state import EdgeState
from rcnlab.model.pace import GO
from rcnlab.model.pair_state import PairState

S = PairState


class CrashMixin(EdgeState):
    __slots__ = ()

    def crash(self) -> None:
        super().crash()
        for storage in self._storages():  # their FC ports see ours go dark
            storage.edge_down()
        if self._resend_timer is not None:
            self._resend_timer.cancel()
            self._resend_timer = None
        for fo in self.failovers.values():
            if fo.timer is not None:
                fo.timer.cancel()
        self.failovers.clear()
        self._fetching.clear()
        self._last_xid = dict.fromkeys(self.attached, -1)  # the FC exchanges' state is gone with the crash
        if not self.spec.log_durable:
            # The log storage area 413 was in memory. The entries are gone: they count as
            # deleted (734), so created - deleted == held still holds (SPEC invariant 4);
            # on restart the groups they belonged to go to failure Suspend (908).
            for order_id, _ in self.held:
                self._lost[order_id] = self._lost.get(order_id, 0) + 1
                self.groups[order_id].deleted += 1
            inbound = sum(len(b.pending) + (b.in_progress is not None) for b in self.inbound.values())
            if self.held or inbound:
                self.emit("log-lost", None, held=len(self.held), inbound=inbound)
            self.held.clear()
            self.inbound.clear()
            self.log_bytes = 0
        else:
            for box in self.inbound.values():
                if box.in_progress is not None:  # the storage's answer is lost: reflect it again
                    box.pending[box.in_progress.seq] = box.in_progress
                    box.in_progress = None

    def storage_logged_in(self, wwn: str) -> None:
        """An attached storage came back (FC port login / RSCN): tell it again of the failure
        Suspend it may have missed while it was down or cut off (with the full copy it asked
        for, entries lost in a crash), and send again the WR being reflected to it."""
        for pair in list(self.pairs.values()):
            if pair.state is S.FAILURE_SUSPEND and wwn in (pair.source.wwn, pair.target.wwn):
                self._tell_failed(pair, (pair.source, pair.target) in self._told_full)
        self._reissue_to(wwn)

    def restart(self) -> None:
        super().restart()
        lost, self._lost = self._lost, {}
        for order_id in sorted(lost):  # sent but unconfirmed writes are gone: nothing may be silently lost
            self.remote_copy_failed(order_id, f"log storage area 413 lost in a crash ({lost[order_id]} entries)",
                                    full=True)
        held = self.held
        self._backoff = 1
        for entry in list(held.entries()):
            held.sent_again(entry, self.now - self.spec.resend_timeout, held.resends(entry), move=False)
        self._arm_resend()
        self._flow_check(renew=self.pace != GO)  # the storages stopped waiting for us: tell them again
        for order_id in list(self.inbound):
            self._reflect_next(order_id)
        self.management.edge_back(self)
        for storage in self._storages():  # the fabric tells them (RSCN) once our answers from before are in
            back = self.net.channels[(self.name, storage.name)]
            self.net.kernel.call_later(max(back.latency + back.jitter, back.last_due - self.now), storage.edge_up)

    def _storages(self) -> list[Any]:
        """The attached storages (rcnlab.devices.storage.ExternalStorage)."""
        return [self.net.devices[name] for name in self.attached.values()]
