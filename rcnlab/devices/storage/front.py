"""The storage's fronts and its write path (Fig. 16).

SCSI side: a host's command goes to its handler (a WR here; the pair commands in
``commands``); a refused command is answered with its reason. A WR is applied to
the volume ("write-applied") and, when the volume is paired, sent on to the edge
(1602); a synchronous pair answers the host when the edge's WROK comes back (1603,
1604), an asynchronous one at once ("write-answered": the order of these answers
is the one the host-order checker holds the target to). FC side: a RIO from the
edge is for this storage as the target of a pair (a reflected WR, 1607-1608, or a
pair transition) or as its source (an answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from rcnlab.devices.storage.commands import CommandsMixin
from rcnlab.devices.storage.pair import StoragePair
from rcnlab.devices.storage.state import StorageState
from rcnlab.devices.storage.volume import Volume
from rcnlab.emu.journal import short_digest
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import CopyMode, Role, ScsiStatus
from rcnlab.model.pace import Pace
from rcnlab.model.pair_state import IllegalCommand, PairState
from rcnlab.model.rio import REPLY, Rio, RioKind, ScsiCommand
from rcnlab.model.steps import Tag

S = PairState
#: The states in which a host may write or read the target volume of a pair.
OPEN_TARGET = (S.SUSPEND, S.FAILURE_SUSPEND)


class FrontMixin(StorageState):
    __slots__ = ()

    def receive(self, src: str, message: object) -> None:
        if isinstance(message, ScsiCommand):
            self._on_scsi(src, message)
        elif isinstance(message, Rio):
            self._on_rio(message)
        elif isinstance(message, Pace):
            self._on_pace(message)
        else:
            self.malformed += 1

    # -- SCSI side ---------------------------------------------------------------
    def _on_scsi(self, host: str, cmd: ScsiCommand) -> None:
        rio = cmd.rio
        if rio.kind is RioKind.WR and (self.pacing.holding and self._waits(rio) or self._window_full(rio)):
            self.pacing.queue.append((host, cmd))  # flow control (``flow``)
            self.pacing.held += 1
            self.pacing.holding = True
            return
        handler = SCSI_HANDLERS.get(rio.kind)
        if handler is None:
            self._answer(host, cmd.tag, rio, ScsiStatus.ERROR, f"{self.name}: unknown SCSI command {rio.kind}")
            return
        try:
            handler(self, host, cmd.tag, rio)
        except IllegalCommand as exc:
            self.refused += 1
            self.emit("command-refused", None, command=str(rio.kind), reason=str(exc))
            self._answer(host, cmd.tag, rio, ScsiStatus.ERROR, str(exc))

    def _volume(self, ref: VolumeRef) -> Volume:
        volume = self.volumes.get(ref.lun) if ref.wwn == self.spec.wwn else None
        if volume is None:
            raise IllegalCommand(f"{self.name} has no volume {ref}")
        return volume

    @staticmethod
    def _target_refused(what: str, pair: StoragePair) -> IllegalCommand:
        """A host may write or read a pair's target volume only in Suspend or failure Suspend
        (after a failover), as arrays refuse I/O to a secondary volume in Duplex."""
        done = {"write": "written", "read": "read"}[what]
        return IllegalCommand(f"{what} refused: {pair.local} is the target of a pair in state {pair.state}; "
                              f"the target volume may be {done} only in Suspend or failure Suspend")

    # SCSI WR (1601)
    def _scsi_write(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.target)
        pair = self.pairs.get(volume.lun)
        if pair is not None and pair.role is Role.TARGET and pair.state not in OPEN_TARGET:
            raise self._target_refused("write", pair)
        volume.blocks[rio.block] = rio.data  # volume.write, inlined
        volume.writes += 1
        local = pair is None or pair.state in (S.SIMPLEX, S.SUSPEND, S.FAILURE_SUSPEND, S.SUSPENDING)
        if self.net.journal.active:  # xid: the FC exchange the WR goes to the edge in (0: it does not)
            self.emit("write-applied", None, host=host, tag=tag, volume=str(rio.target), block=rio.block,
                      data_digest=short_digest(rio.data), xid=0 if local else self._next_xid + 1)
        if local:
            if pair is not None and pair.state is not S.SIMPLEX:
                pair.bitmap.add(rio.block)  # 1211 / 1213
            self._answer(host, tag, Rio(kind=RioKind.WROK, source=rio.source, target=rio.target))
            return
        assert pair is not None
        xid = self._next_xid = self._next_xid + 1
        out = Rio(kind=RioKind.WR, source=pair.local, target=pair.remote, block=rio.block, data=rio.data, xid=xid)
        sync = pair.mode == CopyMode.SYNC
        if sync:
            self._sync_waiting[xid] = (host, tag)
        self._track(xid, volume.lun, out)
        self._to_edge(out, Tag.WRITE_TO_EDGE)
        if not sync:
            self._answer(host, tag, Rio(kind=RioKind.WROK, source=rio.source, target=rio.target),
                         step=Tag.WRITE_HOST_ANSWERED)

    # SCSI READ (beyond the patent: a host reads a block back)
    def _scsi_read(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.target)
        pair = self.pairs.get(volume.lun)
        if pair is not None and pair.role is Role.TARGET and pair.state not in OPEN_TARGET:
            raise self._target_refused("read", pair)
        data = volume.read(rio.block)
        self.emit("read-answered", None, host=host, tag=tag, volume=str(rio.target), block=rio.block,
                  data_digest=short_digest(data))
        self._answer(host, tag, Rio(kind=RioKind.READ, source=rio.source, target=rio.target, block=rio.block,
                                    data=data))

    # -- FC side: RIOs from the edge ---------------------------------------------------------
    def _on_rio(self, rio: Rio) -> None:
        wwn = self.spec.wwn
        if rio.target.wwn == wwn:
            volume = self.volumes.get(rio.target.lun)
            if volume is None:
                self._to_edge(attrs.evolve(rio, kind=REPLY.get(rio.kind, rio.kind), data=b"",
                                           error=f"no volume {rio.target}"))
            elif rio.kind is RioKind.WR:
                self._reflect_write(volume, rio)
            else:
                self._as_target(volume, rio)
        elif rio.source.wwn == wwn:
            if rio.kind is RioKind.WROK:
                self._write_answered(rio)
            else:
                self._as_source(rio)
        else:
            self.malformed += 1
            self.emit("rio-refused", None, reason=f"neither {rio.source} nor {rio.target} is on {self.name}")

    def _reflect_write(self, volume: Volume, rio: Rio) -> None:
        """A WR reflected here as the target (1607), answered with WROK (1608). The same WR
        again (the target edge reissued it while the first answer was on its way) is answered
        again and not applied: writes to other storages of its order ID may have been
        reflected since, and applying it twice would put it after them."""
        more = rio.more
        seq, order_id, copy = (0, 0, False) if more is None else (more.seq, more.order_id, more.copy)
        pair = self.pairs.get(volume.lun)
        if pair is None or pair.role is not Role.TARGET:  # deleted here meanwhile: the host's now
            reason = f"{self.name}:{volume.lun} is not the target of a pair"
            self.emit("rio-refused", None, kind=str(rio.kind), reason=reason, order_id=order_id, seq=seq,
                      volume=str(rio.target), block=rio.block)
            self._to_edge(Rio(kind=RioKind.WROK, source=rio.source, target=rio.target, block=rio.block, seq=seq,
                              order_id=order_id, error=reason))
            return
        if seq:
            last = (seq, rio.block, rio.data)
            if self.last_reflected.get(order_id) == last:
                self.emit("reflected-again", None, order_id=order_id, seq=seq, volume=str(rio.target))
                self._to_edge(Rio(kind=RioKind.WROK, source=rio.source, target=rio.target, block=rio.block,
                                  seq=seq, order_id=order_id), Tag.WRITE_WROK_FROM_TARGET)
                return
            self.last_reflected[order_id] = last
        volume.blocks[rio.block] = rio.data  # volume.write, inlined
        volume.writes += 1
        if not copy:
            self.reflected_writes += 1
        if self.net.journal.active:
            self.emit("reflected", None, order_id=order_id, seq=seq, volume=str(rio.target),
                      block=rio.block, data_digest=short_digest(rio.data), copy=copy)
        self._to_edge(Rio(kind=RioKind.WROK, source=rio.source, target=rio.target, block=rio.block,
                          seq=seq, order_id=order_id), Tag.WRITE_WROK_FROM_TARGET)

    def _write_answered(self, rio: Rio) -> None:
        """The edge took the WR (1603): a synchronous pair answers its host now (1604)."""
        xid = rio.xid
        self._unanswered.pop(xid, None)
        if self.pacing.queue:
            self._release()
        waiting = self._sync_waiting.pop(xid, None) if self._sync_waiting else None
        if waiting:
            self._answer(*waiting, Rio(kind=RioKind.WROK, source=rio.source, target=rio.source),
                         ScsiStatus.ERROR if rio.error else ScsiStatus.OK, rio.error, step=Tag.WRITE_HOST_ANSWERED)


#: The handler of each SCSI command a host may give.
SCSI_HANDLERS: dict[RioKind, Callable[[Any, str, int, Rio], None]] = {
    RioKind.WR: FrontMixin._scsi_write,
    RioKind.READ: FrontMixin._scsi_read,
    RioKind.PAIR_CREATE: CommandsMixin._scsi_pair_create,
    RioKind.SUSPEND: CommandsMixin._scsi_suspend_any,
    RioKind.RESYNC: CommandsMixin._scsi_resync,
    RioKind.DELETE: CommandsMixin._scsi_delete,
}
