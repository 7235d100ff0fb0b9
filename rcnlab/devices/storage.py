"""External storage (112, 122): sparse volumes, a pair state per volume pair, and
the synchronous or asynchronous remote copy program of each pair."""

from __future__ import annotations

import hashlib
from typing import Any

import attrs

from rcnlab.devices.base import Device
from rcnlab.emu.journal import short_digest
from rcnlab.emu.kernel import Timer
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.pair_state import (LEGAL, Command, Event, IllegalCommand, IllegalTransition, PairState,
                                     check_command, step)
from rcnlab.model.rio import REPLY, Rio, RioKind, ScsiCommand
from rcnlab.topo.schema import StorageSpec

S = PairState
COPY_TICK = 0.001  # the copy engine sends a share of blocks every millisecond
#: A WR the edge has not answered (1603) within this time means the path to the edge is
#: gone (the edge crashed, the FC link failed): the pair goes to failure Suspend and the
#: block is kept in 1211, as a real array does on a path failure. The FC round trip is
#: tens of microseconds, so this never fires while the edge is alive.
PATH_TIMEOUT = 0.02
#: While the edge cannot be told of such a failure, the storage tells it again this often.
NOTIFY_INTERVAL = 0.05
_ACTIVE = (S.INITIAL_COPYING, S.DUPLEX, S.DUPLEX_PENDING, S.SUSPENDING)


@attrs.define(eq=False)
class Volume:
    """A volume (113, 123) of fixed-size blocks. Sparse: a block costs memory only
    once written; unwritten blocks read as zeros."""

    lun: int
    size: int  # blocks
    block_size: int
    blocks: dict[int, bytes] = attrs.field(factory=dict)
    writes: int = 0  # writes applied (host writes and reflected copies)

    def write(self, block: int, data: bytes) -> None:
        self.blocks[block] = data
        self.writes += 1

    def read(self, block: int) -> bytes:
        return self.blocks.get(block) or bytes(self.block_size)

    def clear(self) -> None:
        self.blocks.clear()

    def digest(self) -> str:
        """Equal exactly when the contents are equal (zero blocks count as unwritten)."""
        h = hashlib.blake2b(digest_size=16)
        zero = bytes(self.block_size)
        for block in sorted(self.blocks):
            data = self.blocks[block]
            if data != zero:
                h.update(block.to_bytes(8, "big"))
                h.update(data)
        return h.hexdigest()


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

    role: str  # "source" or "target"
    local: VolumeRef
    remote: VolumeRef
    mode: str  # "sync" or "async"
    state: PairState = S.SIMPLEX
    bitmap: set[int] = attrs.field(factory=set)  # differential bitmap 1211 (source) / 1213 (target)
    copy: CopyJob | None = None
    takeover: bool = False  # the target host took over the volume (failover)
    swapped: bool = False  # failed back: the pair runs against the direction it was created in
    swap_unconfirmed: bool = False  # failed back here, no DPOK yet: every resync carries the swap
    waiting: dict[RioKind, tuple[str, int]] = attrs.field(factory=dict)  # command kind -> (host, tag)
    copied_blocks: int = 0  # blocks sent by initial and differential copies, for the summary
    differential_blocks: int = 0  # of those, blocks sent by differential copies (resync, failback)
    differential: bool = False  # the running copy is a differential one

    @property
    def source(self) -> VolumeRef:
        return self.local if self.role == "source" else self.remote

    @property
    def target(self) -> VolumeRef:
        return self.remote if self.role == "source" else self.local


@attrs.define(eq=False)
class ExternalStorage(Device):
    spec: StorageSpec = attrs.field(kw_only=True)
    block_size: int = attrs.field(kw_only=True)
    kind: str = attrs.field(default="storage", init=False)
    volumes: dict[int, Volume] = attrs.field(factory=dict, init=False)
    pairs: dict[int, StoragePair] = attrs.field(factory=dict, init=False)  # by local LUN
    refused: int = attrs.field(default=0, init=False)
    reflected_writes: int = attrs.field(default=0, init=False)  # host writes reflected here as a target
    _next_xid: int = attrs.field(default=0, init=False)
    _sync_waiting: dict[int, tuple[str, int]] = attrs.field(factory=dict, init=False)  # xid -> (host, tag)
    # WRs sent to the edge and not yet answered (1603): xid -> (LUN, block, sent at). Kept in
    # the storage's battery-backed memory, so a crash does not lose it.
    _unanswered: dict[int, tuple[int, int, float]] = attrs.field(factory=dict, init=False)
    _path_timer: Timer | None = attrs.field(default=None, init=False)
    _deadlines: dict[tuple[int, RioKind], Timer] = attrs.field(factory=dict, init=False)  # (LUN, answer) -> timer
    _notify: dict[int, Timer] = attrs.field(factory=dict, init=False)  # LUN -> failure notice to repeat

    def __attrs_post_init__(self) -> None:
        for v in self.spec.volumes:
            self.volumes[v.lun] = Volume(v.lun, v.blocks, self.block_size)

    @property
    def wwn(self) -> str:
        return self.spec.wwn

    @property
    def edge(self) -> str:
        return self.spec.edge

    def ref(self, lun: int) -> VolumeRef:
        return VolumeRef(self.wwn, lun)

    def pair_state(self, lun: int) -> PairState:
        pair = self.pairs.get(lun)
        return pair.state if pair else S.SIMPLEX

    # -- sending ---------------------------------------------------------------
    def _to_edge(self, rio: Rio, step: str | None) -> None:
        spec = self.spec
        if spec.attach == "fc":
            wwn = spec.wwn
            addressed = rio.target.wwn if rio.source.wwn == wwn else rio.source.wwn
            self.net.send(self.name, spec.edge, rio, rio.size, step, port_id(wwn), port_id(addressed))
        else:
            self.net.send(self.name, spec.edge, rio, rio.size, step)

    def _command(self, pair: StoragePair, rio: Rio, step: str | None) -> None:
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
        if pair is None or not self.up:
            return
        reason = f"no {answer} from the RCN within {self.spec.command_timeout:g} s"
        self.emit("command-timed-out", None, pair=f"{pair.source}>{pair.target}", waiting_for=str(answer))
        waiting = pair.waiting.pop(answer, None)
        if answer is RioKind.ICOK:
            del self.pairs[lun]
            self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party="source_storage",
                      old=str(pair.state), new=str(S.SIMPLEX))
        elif answer is not RioKind.DPOK and pair.state is not S.FAILURE_SUSPEND:
            self._stop_copy(pair)
            self._set_state(pair, Event.FAIL, None)
            if pair.role == "source":
                self._notify_edge(lun)
            else:  # a failover with no answer: the target host takes the volume over here
                pair.takeover = True
        if waiting:
            self._answer(*waiting, Rio(kind=answer, source=pair.source, target=pair.target), "error", reason)

    def _answer(self, host: str, tag: int, rio: Rio, status: str = "ok", detail: str = "",
                step: str | None = None) -> None:
        if host in self.net.devices:
            self.net.send(self.name, host, ScsiCommand(tag=tag, rio=rio, status=status, detail=detail), rio.size, step)

    def _set_state(self, pair: StoragePair, event: Event, step_tag: str | None) -> None:
        old = pair.state
        try:
            pair.state = step(old, event)
        except IllegalTransition as exc:
            self.emit("state-conflict", None, pair=f"{pair.source}>{pair.target}", party=f"{pair.role}_storage",
                      state=str(old), on=event.value, detail=str(exc))
            return
        if pair.state is not old:
            self.emit("pair-state", step_tag, pair=f"{pair.source}>{pair.target}", party=f"{pair.role}_storage",
                      old=str(old), new=str(pair.state))

    # -- receiving ---------------------------------------------------------------
    def receive(self, src: str, message: Any) -> None:
        if isinstance(message, ScsiCommand):
            self._on_scsi(src, message)
        elif isinstance(message, Rio):
            self._on_rio(message)
        else:
            self.malformed += 1

    def _on_scsi(self, host: str, cmd: ScsiCommand) -> None:
        rio = cmd.rio
        handler = _SCSI_HANDLERS.get(rio.kind)
        if handler is None:
            self._answer(host, cmd.tag, rio, "error", f"{self.name}: unknown SCSI command {rio.kind}")
            return
        try:
            handler(self, host, cmd.tag, rio)
        except IllegalCommand as exc:
            self.refused += 1
            self.emit("command-refused", None, command=str(rio.kind), reason=str(exc))
            self._answer(host, cmd.tag, rio, "error", str(exc))

    def _volume(self, ref: VolumeRef) -> Volume:
        volume = self.volumes.get(ref.lun) if ref.wwn == self.spec.wwn else None
        if volume is None:
            raise IllegalCommand(f"{self.name} has no volume {ref}")
        return volume

    # SCSI WR (1601)
    def _scsi_write(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.target)
        pair = self.pairs.get(volume.lun)
        if pair is not None and pair.role == "target" and pair.state not in (S.SUSPEND, S.FAILURE_SUSPEND):
            raise IllegalCommand(f"write refused: {pair.local} is the target of a pair in state {pair.state}; "
                                 "the target volume may be written only in Suspend or failure Suspend")
        volume.blocks[rio.block] = rio.data  # volume.write, inlined
        volume.writes += 1
        if pair is None or pair.state is S.SIMPLEX:
            self._answer(host, tag, Rio(kind=RioKind.WROK, source=rio.source, target=rio.target))
            return
        if pair.state in (S.SUSPEND, S.FAILURE_SUSPEND, S.SUSPENDING):
            pair.bitmap.add(rio.block)  # 1211 / 1213
            self._answer(host, tag, Rio(kind=RioKind.WROK, source=rio.source, target=rio.target))
            return
        xid = self._next_xid = self._next_xid + 1
        out = Rio(kind=RioKind.WR, source=pair.local, target=pair.remote, block=rio.block, data=rio.data, xid=xid)
        sync = pair.mode == "sync"
        if sync:
            self._sync_waiting[xid] = (host, tag)
        self._track(xid, volume.lun, rio.block)
        self._to_edge(out, "fig16:1602")
        if not sync:
            self._answer(host, tag, Rio(kind=RioKind.WROK, source=rio.source, target=rio.target), step="fig16:1604")

    # SCSI pair create (1001)
    def _scsi_pair_create(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.source)
        check_command(Command.CREATE, self.pair_state(volume.lun), f"{self.name} {rio.source}")
        if rio.mode not in ("sync", "async"):
            raise IllegalCommand(f"pair-create refused: mode must be sync or async, not {rio.mode!r}")
        pair = StoragePair(role="source", local=rio.source, remote=rio.target, mode=rio.mode)
        pair.waiting[RioKind.ICOK] = (host, tag)
        self.pairs[volume.lun] = pair
        self.emit("pair-registered", None, pair=f"{pair.source}>{pair.target}", mode=rio.mode)
        self._command(pair, rio, "fig10:1002")

    def _source_pair(self, rio: Rio, command: Command) -> StoragePair:
        volume = self._volume(rio.source)
        pair = self.pairs.get(volume.lun)
        check_command(command, pair.state if pair else S.SIMPLEX, f"{self.name} {rio.source}")
        assert pair is not None
        if pair.role != "source":
            raise IllegalCommand(f"{command} refused: {self.name} {rio.source} is the target of its pair; "
                                 "give it at the source storage")
        return pair

    # SCSI suspend (910)
    def _scsi_suspend(self, host: str, tag: int, rio: Rio) -> None:
        pair = self._source_pair(rio, Command.SUSPEND)
        self._stop_copy(pair)
        event = Event.SUSPEND_ASYNC if pair.mode == "async" else Event.SUSPEND
        self._set_state(pair, event, "fig9:910")
        pair.waiting[RioKind.SOK] = (host, tag)
        self._command(pair, Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote), None)

    # SCSI resynchronize (1201)
    def _scsi_resync(self, host: str, tag: int, rio: Rio) -> None:
        if rio.swap:
            self._scsi_failback(host, tag, rio)
            return
        pair = self._source_pair(rio, Command.RESYNC)
        pair.waiting[RioKind.DPOK] = (host, tag)
        self.emit("resync-requested", None, pair=f"{pair.source}>{pair.target}", swap=pair.swap_unconfirmed)
        # A failback whose swap never reached the other side (lost with the path) is
        # repeated by the next resync: until then that side holds the old direction.
        self._command(pair, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote,
                                swap=pair.swap_unconfirmed), "fig12:1202")

    # SCSI resynchronize with swap at the target: failback (beyond the patent; pairresync -swaps)
    def _scsi_failback(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.target)
        pair = self.pairs.get(volume.lun)
        where = f"{self.name} {rio.target}"
        check_command(Command.FAILBACK, pair.state if pair else S.SIMPLEX, where)
        assert pair is not None
        if pair.role != "target":
            raise IllegalCommand(f"failback refused: {where} is the source of its pair; give it at the target "
                                 "storage after a failover")
        if not pair.takeover:
            legal = ", ".join(str(c) for c in LEGAL[pair.state] if c is not Command.FAILBACK)
            raise IllegalCommand(f"failback refused: pair is {pair.state} at {where} but no failover took place "
                                 f"(the target host has not taken over); legal now: {legal}")
        old = f"{pair.source}>{pair.target}"
        pair.role = "source"  # local stays; remote (the old source as we address it) becomes the target
        pair.takeover = False
        pair.swapped = not pair.swapped
        pair.swap_unconfirmed = True
        pair.waiting.clear()
        pair.waiting[RioKind.DPOK] = (host, tag)
        self.emit("pair-swapped", None, old=old, new=f"{pair.source}>{pair.target}", party="source_storage",
                  state=str(pair.state), bitmap=len(pair.bitmap))
        self.emit("failback-requested", None, pair=f"{pair.source}>{pair.target}")
        self._command(pair, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote, swap=True),
                      "fig12:1202")

    # SCSI Suspend instruction at the target: failover (1302)
    def _scsi_failover(self, host: str, tag: int, rio: Rio) -> None:
        volume = self._volume(rio.target)
        pair = self.pairs.get(volume.lun)
        check_command(Command.FAILOVER, pair.state if pair else S.SIMPLEX, f"{self.name} {rio.target}")
        assert pair is not None
        if pair.role != "target":
            raise IllegalCommand(f"failover refused: {self.name} {rio.target} is the source of its pair; "
                                 "give it at the target storage")
        pair.waiting[RioKind.SOK] = (host, tag)
        self._command(pair, Rio(kind=RioKind.SUSPEND, source=pair.remote, target=pair.local, failure=True,
                                 mode="prompt" if rio.mode == "prompt" else ""), "fig13:1303")

    # SCSI pair delete
    def _scsi_delete(self, host: str, tag: int, rio: Rio) -> None:
        ref = rio.source if rio.source.wwn == self.wwn else rio.target
        volume = self._volume(ref)
        pair = self.pairs.get(volume.lun)
        check_command(Command.DELETE, pair.state if pair else S.SIMPLEX, f"{self.name} {ref}")
        assert pair is not None
        self._stop_copy(pair)
        del self.pairs[volume.lun]
        self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party=f"{pair.role}_storage",
                  old=str(pair.state), new=str(S.SIMPLEX))
        self._answer(host, tag, Rio(kind=RioKind.DELOK, source=rio.source, target=rio.target))
        self._to_edge(Rio(kind=RioKind.DELETE, source=pair.source, target=pair.target), None)

    # -- RIOs from the edge ---------------------------------------------------------
    def _on_rio(self, rio: Rio) -> None:
        wwn = self.spec.wwn
        if rio.target.wwn == wwn:
            self._as_target(rio)
        elif rio.source.wwn == wwn:
            self._as_source(rio)
        else:
            self.malformed += 1
            self.emit("rio-refused", None, reason=f"neither {rio.source} nor {rio.target} is on {self.name}")

    def _as_target(self, rio: Rio) -> None:
        lun = rio.target.lun
        volume = self.volumes.get(lun)
        if volume is None:
            self._to_edge(attrs.evolve(rio, kind=_reply(rio.kind), data=b"", error=f"no volume {rio.target}"), None)
            return
        pair = self.pairs.get(lun)
        kind = rio.kind
        if kind is RioKind.WR:
            volume.blocks[rio.block] = rio.data  # volume.write, inlined
            volume.writes += 1
            more = rio.more
            seq, order_id, copy = (0, 0, False) if more is None else (more.seq, more.order_id, more.copy)
            if not copy:
                self.reflected_writes += 1
            if self.net.journal.active:
                self.emit("reflected", None, order_id=order_id, seq=seq, volume=str(rio.target),
                          block=rio.block, data_digest=short_digest(rio.data), copy=copy)
            self._to_edge(Rio(kind=RioKind.WROK, source=rio.source, target=rio.target, block=rio.block,
                              seq=seq, order_id=order_id), "fig16:1608")
            return
        if kind is RioKind.PAIR_CREATE:
            if pair is not None and pair.state is not S.SIMPLEX:
                self._to_edge(Rio(kind=RioKind.ICOK, source=rio.source, target=rio.target,
                                  error=f"{rio.target} is already paired ({pair.state})"), None)
                return
            pair = StoragePair(role="target", local=rio.target, remote=rio.source, mode=rio.mode)
            self.pairs[lun] = pair
            volume.clear()  # the initial copy overwrites the whole target volume
            self._set_state(pair, Event.CREATE, "fig10:1005")
            self._to_edge(Rio(kind=RioKind.ICOK, source=rio.source, target=rio.target), "fig10:1006")
            return
        if pair is None:
            self._to_edge(Rio(kind=_reply(kind), source=rio.source, target=rio.target,
                              error=f"{rio.target} is not paired"), None)
            return
        if kind is RioKind.DUPLEX:
            self._set_state(pair, Event.DUPLEX, "fig11:1104")
            self._to_edge(Rio(kind=RioKind.DOK, source=rio.source, target=rio.target), "fig11:1105")
        elif kind is RioKind.RESYNC and rio.swap:  # failback: the old source becomes the target
            self._stop_copy(pair)
            self._cancel_notify(lun)
            if pair.role != "target" or pair.remote != rio.source:  # (a repeated swap finds it turned already)
                old = f"{pair.source}>{pair.target}"
                pair.role = "target"
                pair.remote = rio.source
                pair.swapped = not pair.swapped
                pair.waiting.clear()
                self.emit("pair-swapped", None, old=old, new=f"{pair.source}>{pair.target}", party="target_storage",
                          state=str(pair.state), bitmap=len(pair.bitmap))
            self._set_state(pair, Event.SWAP, "fig12:1206")
            # what this volume got that the new source may lack: its 1211, and WRs never answered
            stray = {b for (l, b, _) in self._unanswered.values() if l == lun}
            for xid in [x for x, v in self._unanswered.items() if v[0] == lun]:
                del self._unanswered[xid]
            bitmap = frozenset(pair.bitmap | stray)
            pair.bitmap.clear()
            self._to_edge(Rio(kind=RioKind.DPOK, source=rio.source, target=rio.target, bitmap=bitmap), "fig12:1206")
        elif kind is RioKind.RESYNC:
            self._set_state(pair, Event.RESYNC, "fig12:1206")
            bitmap = frozenset(pair.bitmap)
            pair.bitmap.clear()
            pair.takeover = False
            self._to_edge(Rio(kind=RioKind.DPOK, source=rio.source, target=rio.target, bitmap=bitmap), "fig12:1206")
        elif kind is RioKind.SUSPEND:
            self._set_state(pair, Event.FAIL if rio.failure else Event.SUSPEND, "fig9:908" if rio.failure else None)
            if not rio.failure:
                self._to_edge(Rio(kind=RioKind.SOK, source=rio.source, target=rio.target), None)
        elif kind is RioKind.SOK:  # failover completes (1310, 1311)
            self._answered(lun, RioKind.SOK)
            self._set_state(pair, Event.FAIL, "fig13:1311")
            pair.takeover = True
            waiting = pair.waiting.pop(RioKind.SOK, None)
            if waiting:
                self._answer(*waiting, rio, step="fig13:1311")
        elif kind is RioKind.DELETE:
            del self.pairs[lun]
            self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party="target_storage",
                      old=str(pair.state), new=str(S.SIMPLEX))
            self._to_edge(Rio(kind=RioKind.DELOK, source=rio.source, target=rio.target), None)
        else:
            self.malformed += 1

    def _as_source(self, rio: Rio) -> None:
        kind = rio.kind
        if kind is RioKind.WROK:  # 1603
            xid = rio.xid
            self._unanswered.pop(xid, None)
            waiting = self._sync_waiting.pop(xid, None) if self._sync_waiting else None
            if waiting:
                self._answer(*waiting, Rio(kind=RioKind.WROK, source=rio.source, target=rio.source),
                             "error" if rio.error else "ok", rio.error, step="fig16:1604")
            return
        pair = self.pairs.get(rio.source.lun)
        if pair is None or pair.role != "source":
            return  # an answer for a pair deleted meanwhile
        self._answered(pair.local.lun, kind)
        if rio.error:
            waiting = pair.waiting.pop(kind, None)
            self.emit("rio-error", None, kind=str(kind), error=rio.error)
            if kind is RioKind.ICOK:
                del self.pairs[rio.source.lun]
            elif kind is RioKind.SOK and pair.state is S.SUSPENDING:
                # the edge refused the suspend: it holds the pair in failure Suspend already
                # (we missed its word, say over a cut FC link); suspended either way
                self._set_state(pair, Event.FAIL, None)
            if waiting:
                self._answer(*waiting, rio, "error", rio.error)
            return
        if kind is RioKind.ICOK:  # 1011, 1012, then the initial copy 1013
            self._set_state(pair, Event.CREATE, "fig10:1011")
            waiting = pair.waiting.pop(RioKind.ICOK, None)
            if waiting:
                self._answer(*waiting, rio, step="fig10:1012")
            volume = self.volumes[pair.local.lun]
            self._start_copy(pair, sorted(volume.blocks), "initial")
        elif kind is RioKind.DOK:  # 1110
            self._set_state(pair, Event.DUPLEX, "fig11:1110")
            if pair.state is S.DUPLEX:
                self.emit("pair-duplex", "fig9:905", pair=f"{pair.source}>{pair.target}")
        elif kind is RioKind.DPOK:  # 1211, 1212, then the differential copy
            pair.swap_unconfirmed = False
            before = len(pair.bitmap)
            pair.bitmap |= rio.bitmap
            self.emit("bitmap-merged", "fig12:1211", pair=f"{pair.source}>{pair.target}", own=before,
                      received=len(rio.bitmap), merged=len(pair.bitmap))
            self._set_state(pair, Event.RESYNC, "fig12:1212")
            waiting = pair.waiting.pop(RioKind.DPOK, None)
            if waiting:
                self._answer(*waiting, rio, step="fig12:1212")
            blocks = sorted(pair.bitmap)
            pair.bitmap.clear()
            self._start_copy(pair, blocks, "differential")
        elif kind is RioKind.SOK:
            if pair.state is S.SUSPENDING:
                self._set_state(pair, Event.SUSPENDED, None)
            waiting = pair.waiting.pop(RioKind.SOK, None)
            if waiting:
                self._answer(*waiting, rio)
        elif kind is RioKind.SUSPEND and rio.failure:  # 908: the edge says remote copy cannot go on
            self._cancel_notify(pair.local.lun)
            self._stop_copy(pair)
            if rio.full:  # the edge lost its log: nobody knows which writes are missing on the target
                volume = self.volumes[pair.local.lun]
                pair.bitmap.update(volume.blocks)
                self.emit("bitmap-full", None, pair=f"{pair.source}>{pair.target}", blocks=len(pair.bitmap))
            self._set_state(pair, Event.FAIL, "fig9:908")
            for xid, waiting in list(self._sync_waiting.items()):
                del self._sync_waiting[xid]
                self._answer(*waiting, Rio(kind=RioKind.WROK, source=pair.local, target=pair.local))

    # -- copying (1013 and after 1212) --------------------------------------------
    def _start_copy(self, pair: StoragePair, blocks: list[int], what: str) -> None:
        """``what``: "initial" (1013), "differential" (after 1212) or "resumed" (after a restart)."""
        pair.copy = CopyJob(blocks=blocks, total=len(blocks))
        if what != "resumed":
            pair.differential = what == "differential"
        self.emit("copy-started", "fig10:1013" if what == "initial" else None, pair=f"{pair.source}>{pair.target}",
                  blocks=len(blocks), copy=what)
        self._copy_tick(pair)

    def _copy_tick(self, pair: StoragePair) -> None:
        job = pair.copy
        if job is None or not self.up:
            return
        share = max(1, int(self.spec.copy_rate * COPY_TICK))
        volume = self.volumes[pair.local.lun]
        for block in job.blocks[job.done:job.done + share]:
            self._next_xid += 1
            self._track(self._next_xid, volume.lun, block)
            self._to_edge(Rio(kind=RioKind.WR, source=pair.local, target=pair.remote, block=block,
                              data=volume.read(block), copy=True, xid=self._next_xid), "fig10:1013")
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
        self._command(pair, Rio(kind=RioKind.DUPLEX, source=pair.local, target=pair.remote), "fig11:1101")

    def _stop_copy(self, pair: StoragePair) -> None:
        """Stop a copy; what it had not sent yet stays marked in the bitmap 1211."""
        job = pair.copy
        if job is None:
            return
        if job.timer is not None:
            job.timer.cancel()
        pair.bitmap.update(job.blocks[job.done:])
        pair.copy = None

    # -- path failure (908 as the storage itself detects it) ------------------------------
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
        if pair is None or pair.role != "source":
            return
        pair.bitmap.update(blocks)
        if pair.state in (S.SIMPLEX, S.FAILURE_SUSPEND):
            return
        self.emit("path-failed", None, pair=f"{pair.source}>{pair.target}", edge=self.edge, blocks=len(blocks))
        self._stop_copy(pair)
        self._set_state(pair, Event.FAIL, "fig9:908")
        self._notify_edge(lun)

    def _notify_edge(self, lun: int) -> None:
        """Tell the edge the pair failed; again and again until it answers (it may be down)."""
        self._notify.pop(lun, None)
        pair = self.pairs.get(lun)
        if pair is None or pair.role != "source" or pair.state is not S.FAILURE_SUSPEND:
            return
        if self.up:
            self._to_edge(Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote, failure=True), None)
        self._notify[lun] = self.net.kernel.timer(NOTIFY_INTERVAL, self._notify_edge, lun, daemon=True)

    def _cancel_notify(self, lun: int) -> None:
        timer = self._notify.pop(lun, None)
        if timer is not None:
            timer.cancel()

    def crash(self) -> None:
        super().crash()
        for pair in self.pairs.values():
            self._stop_copy(pair)
        self._sync_waiting.clear()

    def restart(self) -> None:
        """Volumes and pair records are on disk; an interrupted copy resumes from 1211."""
        super().restart()
        for pair in self.pairs.values():
            if pair.role == "source" and pair.state in (S.INITIAL_COPYING, S.DUPLEX_PENDING) and pair.copy is None:
                blocks = sorted(pair.bitmap)
                pair.bitmap.clear()
                self._start_copy(pair, blocks, "resumed")
        if self._unanswered and self._path_timer is None:
            self._path_timer = self.net.kernel.timer(0.0, self._path_check)
        edge = self.net.devices.get(self.edge)
        if edge is not None:  # the FC port logs in again; the edge hears of it (RSCN)
            self.net.kernel.call_later(self.net.channels[(self.name, self.edge)].latency, self._logged_in, edge)

    def _logged_in(self, edge: Any) -> None:
        if edge.up and self.up:
            edge.storage_logged_in(self.wwn)


def _reply(kind: RioKind) -> RioKind:
    from rcnlab.model.rio import REPLY

    return REPLY.get(kind, kind)


def _scsi_suspend_any(self: ExternalStorage, host: str, tag: int, rio: Rio) -> None:
    """A Suspend from the target's host is a failover (1302); from the source's, a planned suspend."""
    if rio.failure:
        self._scsi_failover(host, tag, rio)
    else:
        self._scsi_suspend(host, tag, rio)


_SCSI_HANDLERS = {
    RioKind.WR: ExternalStorage._scsi_write,
    RioKind.PAIR_CREATE: ExternalStorage._scsi_pair_create,
    RioKind.SUSPEND: _scsi_suspend_any,
    RioKind.RESYNC: ExternalStorage._scsi_resync,
    RioKind.DELETE: ExternalStorage._scsi_delete,
}
