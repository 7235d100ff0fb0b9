"""The external storage (112, 122), composed of its concerns, and what it does when
it crashes and restarts (volumes and pair records are on disk)."""

from __future__ import annotations

from typing import Any

import attrs

from rcnlab.devices.storage.commands import CommandsMixin
from rcnlab.devices.storage.copy import CopyMixin
from rcnlab.devices.storage.flow import FlowMixin
from rcnlab.devices.storage.front import FrontMixin
from rcnlab.devices.storage.path import PathMixin
from rcnlab.devices.storage.transitions import TransitionsMixin
from rcnlab.model.bitmaps import hand_over
from rcnlab.model.kinds import CopyKind, Role
from rcnlab.model.pair_state import PairState

S = PairState


@attrs.define(eq=False)
class ExternalStorage(FrontMixin, CommandsMixin, TransitionsMixin, CopyMixin, PathMixin, FlowMixin):
    """A storage: the SCSI and FC fronts and the write path (``front``), the host's
    pair commands (``commands``), the pair transitions the RCN brings
    (``transitions``), the copy program (``copy``), path failure (``path``), flow
    control (``flow``); their state is ``StorageState``."""

    def crash(self) -> None:
        super().crash()
        for pair in self.pairs.values():
            self._stop_copy(pair)
        self._sync_waiting.clear()
        self._reset_pacing()

    def restart(self) -> None:
        """Volumes and pair records are on disk; an interrupted copy resumes from 1211; a
        command whose answer was due while we were down has timed out (deep hypothesis
        profile: a creation whose failure notice came while down waited for ever)."""
        super().restart()
        expired, self._expired = self._expired, []
        for lun, answer in expired:
            self._command_timed_out(lun, answer)
        for pair in self.pairs.values():
            if pair.role is Role.SOURCE and pair.state in (S.INITIAL_COPYING, S.DUPLEX_PENDING) and pair.copy is None:
                self._start_copy(pair, sorted(hand_over(pair.bitmap)), CopyKind.RESUMED)
        if self._unanswered and self._path_timer is None:
            self._path_timer = self.net.kernel.timer(0.0, self._path_check)
        self.link_restored()

    def link_restored(self) -> None:
        """The FC port logs in again (after a restart, or its link to the edge is back); the
        edge hears of it (RSCN) and tells again of a failure Suspend the storage missed."""
        edge = self.net.devices.get(self.edge)
        if edge is not None:
            self.net.kernel.call_later(self.net.channels[(self.name, self.edge)].latency, self._logged_in, edge)

    def _logged_in(self, edge: Any) -> None:
        if edge.up and self.up:
            edge.storage_logged_in(self.wwn)
