"""What an edge device (104, 105) holds, and the rules every one of its concerns uses.

Its tables: virtual storage 404, access control 405, routes 408, pair information
411, order assurance information 412, and the log storage area 413 (``held``, the
source side; ``inbound``, the target side). The concerns (``front``, ``source``,
``target``, ``failure``, ``failover``, ``crash``) are mixins over this state;
``EdgeDevice`` composes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, Protocol

import attrs

from rcnlab.devices.base import Device
from rcnlab.devices.edge.log import HeldLog, Inbound
from rcnlab.devices.order_ids import OrderIds
from rcnlab.emu.kernel import Timer
from rcnlab.emu.link import Channel
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import DeviceKind, Party
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.pace import GO, Pace
from rcnlab.model.pair_state import Event, IllegalTransition, PairState, step
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.tables import Hop, OrderAssurance, PairInfo, Route, VirtualStorage
from rcnlab.topo.schema import EdgeSpec

PairKey = tuple[VolumeRef, VolumeRef]
K = RioKind
#: The pair-state event a storage's answer means, at either edge.
ANSWER_EVENT = {K.ICOK: Event.CREATE, K.DOK: Event.DUPLEX, K.DPOK: Event.RESYNC, K.SOK: Event.SUSPENDED}


class Management(Protocol):
    """What an edge asks of the management server 103 (`rcnlab.devices.management`)."""

    def route_around(self, edge: Device, order_id: int, reason: str) -> bool: ...
    def report_failure(self, edge: Device, order_id: int, pairs: list[PairKey], reason: str,
                       created: int = 0) -> None: ...
    def report_deleted_at_target(self, edge: Device, pair: PairKey, reason: str) -> None: ...
    def edge_back(self, edge: Device) -> None: ...
    def pair_updated(self, edge: Device, pair: PairInfo) -> None: ...


#: A consistency group at an edge: an order assurance ID and the customer whose pairs in
#: it fail over and back together (with method A-2 customers sharing an edge pair share an
#: order ID, never a failover).
GroupKey = tuple[int, str]


@attrs.define(eq=False)
class Failover:
    """A failover in progress at the target edge (1305-1310), for a whole consistency
    group, until its SOK or its timer 1306; a request for another of its pairs joins it
    and gets the same answer."""

    timer: Timer


@attrs.define(eq=False)
class Lane:
    """A route as this edge's entries use it (flow control): its links onward from
    here, and when the slowest of them is free of what this edge sent before."""

    channels: tuple[Channel, ...]
    free: float = 0.0


@attrs.define(eq=False)
class EdgeState(Device):
    spec: EdgeSpec = attrs.field(kw_only=True)
    management: Management = attrs.field(kw_only=True, repr=False)
    kind: ClassVar[DeviceKind] = DeviceKind.EDGE
    # -- the FC front (403, 405) and the routes (408) --
    attached: dict[str, str] = attrs.field(factory=dict, init=False)  # storage WWN -> storage device
    virtual: dict[str, VirtualStorage] = attrs.field(factory=dict, init=False)  # 404, by virtual WWN
    access: dict[str, set[str]] = attrs.field(factory=dict, init=False)  # 405: virtual WWN -> permitted WWNs
    routes: dict[tuple[str, str], Route] = attrs.field(factory=dict, init=False)  # 408
    _real_of: dict[str, str] = attrs.field(factory=dict, init=False)  # virtual WWN -> real WWN
    _virtual_of: dict[str, str] = attrs.field(factory=dict, init=False)  # real WWN -> virtual WWN
    _hops: dict[tuple[str, str], Hop] = attrs.field(factory=dict, init=False)  # pair (WWNs) -> next hop
    _wwn_of: dict[int | str, str] = attrs.field(factory=dict, init=False)  # attached storage's address -> its WWN
    _virtual_at: dict[int | str, str] = attrs.field(factory=dict, init=False)  # address -> virtual WWN (404)
    _fc: dict[str, Channel] = attrs.field(factory=dict, init=False)  # attached storage device -> our channel to it
    # -- pairs and their order (411, 412) --
    pairs: dict[PairKey, PairInfo] = attrs.field(factory=dict, init=False)  # 411
    order_ids: OrderIds = attrs.field(factory=OrderIds, init=False)  # numbering 726 (from the configuration)
    groups: dict[int, OrderAssurance] = attrs.field(factory=dict, init=False)  # 412
    rebase: set[int] = attrs.field(factory=set, init=False)  # groups whose next entry restarts the sequence
    # -- the log storage area 413 --
    held: HeldLog = attrs.field(factory=HeldLog, init=False)  # 413, source side
    inbound: dict[int, Inbound] = attrs.field(factory=dict, init=False)  # 413, target side
    log_bytes: int = attrs.field(default=0, init=False)  # management information 1701
    # -- source side: resend (908) --
    _resend_timer: Timer | None = attrs.field(default=None, init=False)
    resent: int = attrs.field(default=0, init=False)
    _backoff: int = attrs.field(default=1, init=False)  # resends wait resend_timeout times this
    _answered: int = attrs.field(default=-1, init=False)  # entries deleted (734) at the last resends, -1: none
    _windows: dict[int, int] = attrs.field(factory=dict, init=False)  # order ID -> the target's reorder window
    # -- flow control (``flow``): what the attached storages hold back --
    pace: Pace = attrs.field(default=GO, init=False)
    _flow_up: int = attrs.field(default=0, init=False)  # log_bytes from which pacing may start
    _flow_down: int = attrs.field(default=-1, init=False)  # log_bytes below which it may stop
    _pace_timer: Timer | None = attrs.field(default=None, init=False)
    _lanes: dict[tuple[str, str], Lane] = attrs.field(factory=dict, init=False)  # pair (WWNs) -> its lane
    # -- target side: reflection --
    _answers: dict[tuple[int, int], LogEntry] = attrs.field(factory=dict, init=False)  # control answers sent
    _deleted_here: dict[PairKey, int] = attrs.field(factory=dict, init=False)  # deleted by the target alone -> order ID
    duplicates: int = attrs.field(default=0, init=False)
    denied: int = attrs.field(default=0, init=False)
    unsafe_reflect_any_order: bool = attrs.field(default=False, init=False)  # test hook, never set in a real run
    unsafe_number_any_order: bool = attrs.field(default=False, init=False)  # test hook: WR gaps unseen
    # -- failover (Fig. 13) and the fetch of remaining entries (501) --
    failovers: dict[GroupKey, Failover] = attrs.field(factory=dict, init=False)
    _fetching: set[int] = attrs.field(factory=set, init=False)  # groups reflecting fetched entries (501)
    # -- crash --
    _lost: dict[int, int] = attrs.field(factory=dict, init=False)  # order ID -> entries lost in a crash
    _told_full: set[PairKey] = attrs.field(factory=set, init=False)  # failure Suspend told with a full copy
    _stale: dict[int, int] = attrs.field(factory=dict, init=False)  # order ID -> last entry before its 908
    _last_xid: dict[str, int] = attrs.field(factory=dict, init=False)  # storage WWN -> last WR number seen (-1: unknown)

    @property
    def ip(self) -> str:
        return self.spec.ip

    @property
    def real_of(self) -> Mapping[str, str]:
        """Virtual storage WWN (404) -> the real WWN it stands for (read only)."""
        return MappingProxyType(self._real_of)

    def real_wwn(self, wwn: str) -> str:
        """The real WWN behind ``wwn`` if it is one of our virtual storages, else ``wwn``."""
        return self._real_of.get(wwn, wwn)

    @property
    def log_entries(self) -> int:
        """Entries in the log storage area 413 (management information 1701)."""
        return len(self.held) + sum(len(b.pending) + (b.in_progress is not None) for b in self.inbound.values())

    if TYPE_CHECKING:  # what one concern calls of another (EdgeDevice composes them all)
        def _to_storage(self, rio: Rio, step_tag: str | None = None) -> None: ...
        def _transmit(self, entry: LogEntry, step_hop: str | None = None, step_send: str | None = None,
                      arrow: str | None = None) -> float: raise NotImplementedError
        def _refuse(self, rio: Rio, reason: str) -> None: ...
        def _from_source_storage(self, rio: Rio) -> None: ...
        def _from_target_storage(self, rio: Rio) -> None: ...
        def _on_answer(self, entry: LogEntry) -> None: ...
        def _on_receipt(self, entry: LogEntry) -> None: ...
        def _accept(self, entry: LogEntry) -> None: ...
        def _on_suspend_instruction(self, entry: LogEntry) -> None: ...
        def _sequence(self, pair: PairInfo, rio: Rio) -> LogEntry | None: ...
        def _arm_resend(self) -> None: ...
        def _flow_check(self, renew: bool = False) -> None: ...
        def _leaves(self, entry: LogEntry, departs: float) -> float: raise NotImplementedError
        def path_of(self, key: tuple[str, str]) -> tuple[str, ...] | None: ...
        def _reflect_next(self, order_id: int) -> None: ...
        def _reissue_to(self, wwn: str) -> None: ...
        def _absorb_held(self, order_id: int, only: set[PairKey] | None = None) -> int: raise NotImplementedError
        def _tell_failed(self, pair: PairInfo, full: bool = False) -> None: ...
        def remote_copy_failed(self, order_id: int, reason: str, full: bool = False,
                               spare: PairKey | None = None) -> None: ...
        def _start_failover(self, pair: PairInfo | None, rio: Rio) -> None: ...
        def _complete_failover(self, key: GroupKey) -> None: ...
        def _failing_over(self, entry: LogEntry) -> bool: raise NotImplementedError
        def _failover_turn(self, entry: LogEntry) -> None: ...
        def _sok_arrived(self, entry: LogEntry) -> None: ...
        def _sequence_restarted(self, entry: LogEntry, reflected: int) -> None: ...
        def _fetch_done(self, order_id: int) -> None: ...
        def _swap_at_new_source(self, rio: Rio) -> None: ...
        def _swap_at_new_target(self, entry: LogEntry) -> PairInfo | None: ...

    def order_group(self, order_id: int) -> OrderAssurance:
        group = self.groups.get(order_id)
        if group is None:
            group = self.groups[order_id] = OrderAssurance(order_id)
        return group

    def _forget(self, pair: PairInfo, party: Party) -> None:
        """The pair is gone here (deleted): Simplex again."""
        del self.pairs[(pair.source, pair.target)]
        old, pair.state = pair.state, PairState.SIMPLEX
        self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party=party, old=str(old),
                  new=str(PairState.SIMPLEX))
        self.management.pair_updated(self, pair)  # the collection (411) forgets it

    def _set_state(self, pair: PairInfo, event: Event, step_tag: str | None, party: Party,
                   strict: bool = False) -> None:
        old = pair.state
        try:
            pair.state = step(old, event)
        except IllegalTransition as exc:
            if strict:
                raise
            self.emit("state-conflict", None, pair=f"{pair.source}>{pair.target}", party=party, state=str(old),
                      on=event.value, detail=str(exc))
            return
        if pair.state is not old:
            self.emit("pair-state", step_tag, pair=f"{pair.source}>{pair.target}", party=party, old=str(old),
                      new=str(pair.state))
        self.management.pair_updated(self, pair)
