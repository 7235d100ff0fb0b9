"""What an external storage (112, 122) holds, and the rules every one of its
concerns uses: its volumes, its pairs (one per local LUN), the WRs the edge has
not answered, the timers of its pair commands. The concerns (``front``,
``commands``, ``pairs``, ``copy``, ``path``) are mixins over this state;
``ExternalStorage`` composes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

from rcnlab.devices.base import Device
from rcnlab.devices.storage.pacing import Pacing
from rcnlab.devices.storage.pair import StoragePair
from rcnlab.devices.storage.volume import Volume
from rcnlab.emu.kernel import Timer
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.kinds import Attach, CopyKind, DeviceKind, Party, ScsiStatus
from rcnlab.model.pace import Pace
from rcnlab.model.pair_state import Event, IllegalTransition, PairState, step
from rcnlab.model.rio import Rio, RioKind, ScsiCommand
from rcnlab.topo.schema import StorageSpec

S = PairState


@attrs.define(eq=False)
class StorageState(Device):
    spec: StorageSpec = attrs.field(kw_only=True)
    block_size: int = attrs.field(kw_only=True)
    kind: ClassVar[DeviceKind] = DeviceKind.STORAGE
    volumes: dict[int, Volume] = attrs.field(factory=dict, init=False)
    pairs: dict[int, StoragePair] = attrs.field(factory=dict, init=False)  # by local LUN
    refused: int = attrs.field(default=0, init=False)
    reflected_writes: int = attrs.field(default=0, init=False)  # host writes reflected here as a target
    #: The last WR reflected here per order assurance ID: (seq, block, data). A target edge
    #: that reissues a WR whose answer is late sends exactly this again; it is answered, not applied.
    last_reflected: dict[int, tuple[int, int, bytes]] = attrs.field(factory=dict, init=False)
    _next_xid: int = attrs.field(default=0, init=False)
    _sync_waiting: dict[int, tuple[str, int]] = attrs.field(factory=dict, init=False)  # xid -> (host, tag)
    # WRs sent to the edge and not yet answered (1603): xid -> (LUN, block, sent at, the WR).
    # Kept in the storage's battery-backed memory, so a crash does not lose it.
    _unanswered: dict[int, tuple[int, int, float, Rio]] = attrs.field(factory=dict, init=False)
    _path_timer: Timer | None = attrs.field(default=None, init=False)
    # The edge is down (its FC port went dark): WRs wait in _unanswered until it is back.
    _edge_down: bool = attrs.field(default=False, init=False)
    # Frames the edge's link to us had lost when _unanswered was last empty: if it lost
    # more since, an unanswered WR may have been logged (its answer lost) and is not resent.
    _lost_before: int = attrs.field(default=0, init=False)
    _deadlines: dict[tuple[int, RioKind], Timer] = attrs.field(factory=dict, init=False)  # (LUN, answer) -> timer
    _expired: list[tuple[int, RioKind]] = attrs.field(factory=list, init=False)  # deadlines passed while down
    _notify: dict[int, Timer] = attrs.field(factory=dict, init=False)  # LUN -> failure notice to repeat
    pacing: Pacing = attrs.field(factory=Pacing, init=False)  # flow control: what the edge holds back

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

    def volume_name(self, ref: VolumeRef) -> str:
        """"ST112:0" for a volume of the lab, addressed by its storage's WWN or a virtual one
        (for messages people read); the reference itself when no storage has it."""
        topo = self.net.topo
        wwn = next((real for e in topo.edges for real, virtual in e.virtual_wwn.items() if virtual == ref.wwn),
                   ref.wwn)
        name = next((s.name for s in topo.storages if s.wwn == wwn), None)
        return f"{name}:{ref.lun}" if name is not None else str(ref)

    if TYPE_CHECKING:  # what one concern calls of another (ExternalStorage composes them all)
        def _volume(self, ref: VolumeRef) -> Volume: raise NotImplementedError
        def _as_target(self, volume: Volume, rio: Rio) -> None: ...
        def _as_source(self, rio: Rio) -> None: ...
        def _command(self, pair: StoragePair, rio: Rio, step: str | None = None) -> None: ...
        def _answered(self, lun: int, kind: RioKind) -> None: ...
        def _start_copy(self, pair: StoragePair, blocks: list[int], what: CopyKind) -> None: ...
        def _stop_copy(self, pair: StoragePair) -> None: ...
        def _track(self, xid: int, lun: int, rio: Rio) -> None: ...
        def _path_check(self) -> None: ...
        def _notify_edge(self, lun: int) -> None: ...
        def _cancel_notify(self, lun: int) -> None: ...
        def _on_scsi(self, host: str, cmd: ScsiCommand) -> None: ...
        def _on_pace(self, pace: Pace) -> None: ...
        def _waits(self, rio: Rio) -> bool: raise NotImplementedError
        def _window_full(self, rio: Rio) -> bool: raise NotImplementedError
        def _release(self) -> None: ...
        def window(self) -> int: raise NotImplementedError

    def _to_edge(self, rio: Rio, step: str | None = None) -> None:
        spec = self.spec
        if self._edge_down and rio.source.wwn == spec.wwn:
            return  # as the source, nothing goes to a dark port; a WR waits in _unanswered (storage.path)
        wwn = spec.wwn
        addressed = rio.target.wwn if rio.source.wwn == wwn else rio.source.wwn
        if spec.attach is Attach.FC:
            self.net.send(self.name, spec.edge, rio, rio.size, step, port_id(wwn), port_id(addressed))
        else:  # over IP the addresses are the IP addresses that stand for the WWNs
            self.net.send(self.name, spec.edge, rio, rio.size, step, wwn, addressed)

    def _answer(self, host: str, tag: int, rio: Rio, status: ScsiStatus = ScsiStatus.OK, detail: str = "",
                step: str | None = None) -> None:
        if rio.kind is RioKind.WROK and self.net.journal.active:  # the order writes are acknowledged in
            self.emit("write-answered", None, host=host, tag=tag, status=status)
        if host in self.net.devices:
            self.net.send(self.name, host, ScsiCommand(tag=tag, rio=rio, status=status, detail=detail), rio.size, step)

    def _answer_waiting(self, pair: StoragePair, kind: RioKind, rio: Rio, status: ScsiStatus = ScsiStatus.OK,
                        detail: str = "", step: str | None = None) -> None:
        """Answer every host command that waits for ``kind`` on ``pair``."""
        for host, tag in pair.waiting.pop(kind, ()):
            self._answer(host, tag, rio, status, detail, step)

    def _wait(self, pair: StoragePair, kind: RioKind, host: str, tag: int) -> None:
        """``host``'s command ``tag`` waits for ``kind`` on ``pair``. A command given before it
        that waits for the same answer gets that answer too: a resync given while a failback
        waits for its DPOK carries the failback's swap on (fuzz seed 9205: the failback was
        never answered)."""
        pair.waiting.setdefault(kind, []).append((host, tag))

    def _drop_waiting(self, pair: StoragePair, reason: str) -> None:
        """Every command still waiting on ``pair`` fails: ``reason`` says why its answer
        will not come."""
        for kind in list(pair.waiting):
            self._answer_waiting(pair, kind, Rio(kind=kind, source=pair.source, target=pair.target), ScsiStatus.ERROR,
                                 reason)

    def _forget(self, lun: int, pair: StoragePair, party: Party) -> None:
        """The pair is gone here: the volume is Simplex again."""
        del self.pairs[lun]
        self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party=party, old=str(pair.state),
                  new=str(S.SIMPLEX))

    def _set_state(self, pair: StoragePair, event: Event, step_tag: str | None) -> None:
        old = pair.state
        try:
            pair.state = step(old, event)
        except IllegalTransition as exc:
            self.emit("state-conflict", None, pair=f"{pair.source}>{pair.target}", party=pair.party,
                      state=str(old), on=event.value, detail=str(exc))
            return
        if pair.state is not old:
            self.emit("pair-state", step_tag, pair=f"{pair.source}>{pair.target}", party=pair.party,
                      old=str(old), new=str(pair.state))
