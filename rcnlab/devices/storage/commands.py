"""Pair commands from a host (SCSI), and the deadline of each: create (1001), suspend
(910), resynchronize (1201), failover at the target (1302), failback (resync with
swap at the target, beyond the patent; pairresync -swaps), delete. Each goes to the
edge as a RIO; its answer must come back within the command timeout, or the
command fails back to the host (create, resync) or the pair goes to failure
Suspend (suspend, Duplex transition, failover)."""

from __future__ import annotations

from rcnlab.devices.storage.pair import StoragePair
from rcnlab.devices.storage.state import StorageState
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import CopyMode, FailoverMode, Party, Role, ScsiStatus
from rcnlab.model.pair_state import LEGAL, Command, Event, IllegalCommand, PairState, check_command
from rcnlab.model.rio import REPLY, Rio, RioKind
from rcnlab.model.steps import Tag

S = PairState


class CommandsMixin(StorageState):
    __slots__ = ()

    def _command(self, pair: StoragePair, rio: Rio, step: str | None = None) -> None:
        """Send a pair command to the edge; its answer must come within the command timeout."""
        self._to_edge(rio, step)
        key = (pair.local.lun, REPLY[rio.kind])
        old = self._deadlines.pop(key, None)
        if old is not None:
            old.cancel()
        self._deadlines[key] = self.net.kernel.timer(self.spec.command_timeout, self._command_timed_out, *key)

    def _answered(self, lun: int, kind: RioKind) -> None:
        timer = self._deadlines.pop((lun, kind), None)
        if timer is not None:
            timer.cancel()

    def _command_timed_out(self, lun: int, answer: RioKind) -> None:
        """No answer from the RCN (the RIO or its answer was lost, say to a crashed edge):
        a create or resync fails back to the host; a suspend, Duplex transition or failover
        ends in failure Suspend, as an array suspends a pair by error."""
        self._deadlines.pop((lun, answer), None)
        pair = self.pairs.get(lun)
        if pair is None:
            return
        if not self.up:  # acted on at restart (the pair records are on disk; a creation
            self._expired.append((lun, answer))  # waiting for ICOK must not wait for ever)
            return
        reason = f"no {answer} from the RCN within {self.spec.command_timeout:g} s"
        self.emit("command-timed-out", None, pair=f"{pair.source}>{pair.target}", waiting_for=str(answer))
        if answer is RioKind.ICOK:
            self._forget(lun, pair, Party.SOURCE_STORAGE)
        elif answer is RioKind.DPOK and pair.role is Role.SOURCE and pair.state in (S.SUSPEND, S.FAILURE_SUSPEND):
            # the RCN may have started the resync and lost only its DPOK on the way back
            # (fuzz seed 1569): it must not go on while this storage stays suspended
            if pair.state is S.SUSPEND:
                self._set_state(pair, Event.FAIL, None)
            self._notify_edge(lun)
        elif answer is not RioKind.DPOK and pair.state is not S.FAILURE_SUSPEND:
            self._stop_copy(pair)
            self._set_state(pair, Event.FAIL, None)
            if pair.role is Role.SOURCE:
                self._notify_edge(lun)
            else:  # a failover with no answer: the target host takes the volume over here
                pair.takeover = True
        self._answer_waiting(pair, answer, Rio(kind=answer, source=pair.source, target=pair.target), ScsiStatus.ERROR,
                             reason)

    # SCSI pair create (1001)
    def _scsi_pair_create(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.source)
        check_command(Command.CREATE, self.pair_state(volume.lun), f"{self.name} {rio.source}")
        if rio.mode not in (CopyMode.SYNC, CopyMode.ASYNC):
            raise IllegalCommand(f"pair-create refused: mode must be sync or async, not {rio.mode!r}")
        pair = StoragePair(role=Role.SOURCE, local=rio.source, remote=rio.target, mode=rio.mode)
        self.pairs[volume.lun] = pair
        self._wait(pair, RioKind.ICOK, host, tag)
        self.emit("pair-registered", None, pair=f"{pair.source}>{pair.target}", mode=rio.mode)
        self._command(pair, rio, Tag.CREATE_TO_EDGE)

    def _pair_for(self, command: Command, ref: VolumeRef, role: Role, after: str = "") -> StoragePair:
        """The pair of volume ``ref`` that a host gives ``command`` for: the command must be
        legal in the pair's state and given at the pair's ``role`` storage."""
        volume = self._volume(ref)
        pair = self.pairs.get(volume.lun)
        where = f"{self.name} {ref}"
        check_command(command, pair.state if pair else S.SIMPLEX, where)
        assert pair is not None
        if pair.role is not role:
            raise IllegalCommand(f"{command} refused: {where} is the {pair.role} of its pair; "
                                 f"give it at the {role} storage{after}")
        return pair

    # SCSI suspend (910)
    def _scsi_suspend(self, host: str, tag: int, rio: Rio) -> None:
        pair = self._pair_for(Command.SUSPEND, rio.source, Role.SOURCE)
        self._stop_copy(pair)
        event = Event.SUSPEND_ASYNC if pair.mode == CopyMode.ASYNC else Event.SUSPEND
        self._set_state(pair, event, Tag.LIFE_SUSPEND_INSTRUCTED)
        self._wait(pair, RioKind.SOK, host, tag)
        self._command(pair, Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote), None)

    # SCSI resynchronize (1201)
    def _scsi_resync(self, host: str, tag: int, rio: Rio) -> None:
        if rio.swap:
            self._scsi_failback(host, tag, rio)
            return
        pair = self._pair_for(Command.RESYNC, rio.source, Role.SOURCE)
        self._wait(pair, RioKind.DPOK, host, tag)
        self.emit("resync-requested", None, pair=f"{pair.source}>{pair.target}", swap=pair.swap_unconfirmed)
        # A failback whose swap never reached the other side (lost with the path) is
        # repeated by the next resync: until then that side holds the old direction.
        self._command(pair, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote,
                                swap=pair.swap_unconfirmed), Tag.RESYNC_TO_EDGE)

    # SCSI resynchronize with swap at the target: failback (beyond the patent; pairresync -swaps)
    def _scsi_failback(self, host: str, tag: int, rio: Rio) -> None:
        pair = self._pair_for(Command.FAILBACK, rio.target, Role.TARGET, " after a failover")
        where = f"{self.name} {rio.target}"
        if not pair.takeover:
            legal = ", ".join(str(c) for c in LEGAL[pair.state] if c is not Command.FAILBACK)
            raise IllegalCommand(f"failback refused: pair is {pair.state} at {where} but no failover took place "
                                 f"(the target host has not taken over); legal now: {legal}")
        old = f"{pair.source}>{pair.target}"
        pair.role = Role.SOURCE  # local stays; remote (the old source as we address it) becomes the target
        pair.takeover = False
        pair.swapped = not pair.swapped
        pair.swap_unconfirmed = True
        self._drop_waiting(pair, f"superseded by the failback at {where}")
        self._wait(pair, RioKind.DPOK, host, tag)
        self.emit("pair-swapped", None, old=old, new=f"{pair.source}>{pair.target}", party=Party.SOURCE_STORAGE,
                  state=str(pair.state), bitmap=len(pair.bitmap))
        self.emit("failback-requested", None, pair=f"{pair.source}>{pair.target}")
        self._command(pair, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote, swap=True),
                      Tag.RESYNC_TO_EDGE)

    # SCSI Suspend instruction at the target: failover (1302)
    def _scsi_failover(self, host: str, tag: int, rio: Rio) -> None:
        pair = self._pair_for(Command.FAILOVER, rio.target, Role.TARGET)
        self._wait(pair, RioKind.SOK, host, tag)
        self._command(pair, Rio(kind=RioKind.SUSPEND, source=pair.remote, target=pair.local, failure=True,
                                 mode=FailoverMode.PROMPT if rio.mode == FailoverMode.PROMPT else FailoverMode.WAIT),
                       Tag.FAILOVER_TO_EDGE)

    # SCSI pair delete
    def _scsi_delete(self, host: str, tag: int, rio: Rio) -> None:
        ref = rio.source if rio.source.wwn == self.wwn else rio.target
        volume = self._volume(ref)
        pair = self.pairs.get(volume.lun)
        check_command(Command.DELETE, pair.state if pair else S.SIMPLEX, f"{self.name} {ref}")
        assert pair is not None
        self._stop_copy(pair)
        self._drop_waiting(pair, f"the pair was deleted at {self.name} {ref}")
        self._forget(volume.lun, pair, pair.party)
        self._answer(host, tag, Rio(kind=RioKind.DELOK, source=rio.source, target=rio.target))
        self._to_edge(Rio(kind=RioKind.DELETE, source=pair.source, target=pair.target))

    def _scsi_suspend_any(self, host: str, tag: int, rio: Rio) -> None:
        """A Suspend from the target's host is a failover (1302); from the source's, a planned suspend."""
        if rio.failure:
            self._scsi_failover(host, tag, rio)
        else:
            self._scsi_suspend(host, tag, rio)
