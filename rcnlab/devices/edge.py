"""Edge devices (104, 105).

FC side: the virtual storage provision program 403 presents virtual storage
(106, 107) that impersonates the opposite storage, under access control 405.
The log entry creation/reflection program 406 turns RIOs into log entries 211 in
the log storage area 413 and back, keeping the order assurance information 412.
IP side: the log entry transfer program 407 sends entries along the route 408.

One device is source edge for some pairs and target edge for others; which role
it plays for a message follows from whether the storage the message comes from
(or goes to) is attached to it.
"""

from __future__ import annotations

from typing import Any

import attrs

from rcnlab.devices.base import Device
from rcnlab.devices.held import Held, HeldLog  # noqa: F401 (Held: the records it reads as)
from rcnlab.emu.journal import short_digest
from rcnlab.emu.kernel import Timer
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.pair_state import Event, IllegalTransition, PairState, step
from rcnlab.model.rio import _EMPTY, REPLIES, REPLY, Rio, RioKind, RioMore
from rcnlab.model.tables import AccessControl, OrderAssurance, PairInfo, Route, VirtualStorage
from rcnlab.topo.schema import EdgeSpec

S = PairState
K = RioKind
PairKey = tuple[VolumeRef, VolumeRef]

#: Steps the source edge goes through when it turns a RIO from its storage into a
#: sequenced log entry, by kind: (receive, create, count, hop, send, message arrow).
SOURCE_STEPS: dict[RioKind, tuple[str | None, ...]] = {
    K.WR: ("fig19:1901", "fig19:1902", "fig19:1903", "fig19:1905", "fig19:1906", "fig16:1605"),
    K.PAIR_CREATE: ("fig17:1701", "fig17:1703", "fig17:1704", "fig17:1705", "fig17:1706", "fig10:1003"),
    K.DUPLEX: ("fig18:1802", "fig18:1803", "fig18:1804", "fig18:1805", "fig18:1806", "fig11:1102"),
    K.RESYNC: (None, None, None, None, None, "fig12:1203"),
    K.SUSPEND: (None, None, None, None, None, None),
    K.DELETE: (None, None, None, None, None, None),
    K.SOK: (None, None, None, None, None, "fig13:1304"),
}
#: Steps of the source edge when the answer comes back: (receive, state, RIO to storage, delete, count).
ANSWER_STEPS: dict[RioKind, tuple[str | None, ...]] = {
    K.WROK: ("fig19:1907", None, None, "fig19:1908", "fig19:1909"),
    K.ICOK: ("fig17:1707", "fig17:1711", "fig17:1708", "fig17:1709", "fig17:1710"),
    K.DOK: ("fig18:1807", "fig18:1811", "fig18:1808", "fig18:1809", "fig18:1810"),
    K.DPOK: (None, "fig12:1210", "fig12:1210", None, None),
    K.SOK: (None, None, None, None, None),
    K.DELOK: (None, None, None, None, None),
}
#: Message arrows for the RIO the source edge hands its storage, by answer kind.
ANSWER_ARROWS = {K.ICOK: "fig10:1010", K.DOK: "fig11:1109"}
#: Steps of the target edge, by request kind: (receive, store, convert, send to storage, arrow).
TARGET_STEPS: dict[RioKind, tuple[str | None, ...]] = {
    K.WR: ("fig20:2001", "fig20:2002", "fig20:2004", "fig20:2005", "fig16:1607"),
    K.PAIR_CREATE: ("fig21:2101", "fig21:2102", "fig21:2104", "fig21:2105", "fig10:1004"),
    K.DUPLEX: ("fig22:2202", "fig22:2203", "fig22:2204", "fig22:2205", "fig11:1103"),
    K.RESYNC: (None, None, None, None, "fig12:1205"),
    K.SUSPEND: (None, None, None, None, None),
    K.DELETE: (None, None, None, None, None),
    K.SOK: (None, None, None, None, None),
}
#: Steps of the target edge when its storage answers: (receive, count, state, create, hop, send, arrow, delete).
REFLECT_STEPS: dict[RioKind, tuple[str | None, ...]] = {
    K.WROK: ("fig20:2006", "fig20:2007", None, "fig20:2008", "fig20:2009", "fig20:2010", "fig16:1609",
             "fig20:2011"),
    K.ICOK: ("fig21:2106", "fig21:2107", "fig21:2108", "fig21:2109", "fig21:2110", "fig21:2111", "fig10:1008",
             "fig21:2112"),
    K.DOK: ("fig22:2206", "fig22:2207", "fig22:2208", "fig22:2209", "fig22:2210", "fig22:2211", "fig11:1107",
            "fig22:2212"),
    K.DPOK: (None, None, "fig12:1207", None, None, None, "fig12:1207", None),
    K.SOK: (None, None, None, None, None, None, None, None),
    K.DELOK: (None, None, None, None, None, None, None, None),
}
#: The pair-state event a storage's answer means, at either edge.
ANSWER_EVENT = {K.ICOK: Event.CREATE, K.DOK: Event.DUPLEX, K.DPOK: Event.RESYNC, K.SOK: Event.SUSPENDED}
#: State changes the target edge makes when it reflects an answer, with the patent's step.
STATE_STEP_SOURCE = {K.ICOK: "fig10:1009", K.DOK: "fig11:1108"}
STATE_STEP_TARGET = {K.ICOK: "fig10:1007", K.DOK: "fig11:1106"}


@attrs.define(eq=False)
class Inbound:
    """The target edge's share of the log storage area for one order assurance ID:
    entries waiting by sequence number (O(1) look-up of reflection counter + 1)
    and the one being reflected."""

    pending: dict[int, LogEntry] = attrs.field(factory=dict)
    in_progress: LogEntry | None = None
    since: float = 0.0  # when the entry in progress went to the storage


@attrs.define(eq=False)
class Failover:
    """A failover in progress at the target edge (1305-1310)."""

    pair: PairInfo
    timer: Timer | None


@attrs.define(eq=False)
class EdgeDevice(Device):
    spec: EdgeSpec = attrs.field(kw_only=True)
    kind: str = attrs.field(default="edge", init=False)
    attached: dict[str, str] = attrs.field(factory=dict, init=False)  # storage WWN -> storage device
    virtual: dict[str, VirtualStorage] = attrs.field(factory=dict, init=False)  # 404, by virtual WWN
    access: dict[str, set[str]] = attrs.field(factory=dict, init=False)  # 405: virtual WWN -> permitted WWNs
    routes: dict[tuple[str, str], Route] = attrs.field(factory=dict, init=False)  # 408
    pairs: dict[PairKey, PairInfo] = attrs.field(factory=dict, init=False)  # 411
    groups: dict[int, OrderAssurance] = attrs.field(factory=dict, init=False)  # 412
    held: HeldLog = attrs.field(factory=HeldLog, init=False)  # 413, source side
    inbound: dict[int, Inbound] = attrs.field(factory=dict, init=False)  # 413, target side
    log_bytes: int = attrs.field(default=0, init=False)  # management information 1701
    rebase: set[int] = attrs.field(factory=set, init=False)  # groups whose next entry restarts the sequence
    failovers: dict[int, Failover] = attrs.field(factory=dict, init=False)
    resent: int = attrs.field(default=0, init=False)
    duplicates: int = attrs.field(default=0, init=False)
    denied: int = attrs.field(default=0, init=False)
    unsafe_reflect_any_order: bool = attrs.field(default=False, init=False)  # test hook, never set in a real run
    _real_of: dict[str, str] = attrs.field(factory=dict, init=False)  # virtual WWN -> real WWN
    _virtual_of: dict[str, str] = attrs.field(factory=dict, init=False)  # real WWN -> virtual WWN
    _hops: dict[tuple[str, str], str] = attrs.field(factory=dict, init=False)
    _resend_timer: Timer | None = attrs.field(default=None, init=False)
    _answers: dict[tuple[int, int], LogEntry] = attrs.field(factory=dict, init=False)  # control answers sent
    _lost: dict[int, int] = attrs.field(factory=dict, init=False)  # order ID -> entries lost in a crash
    _fetching: set[int] = attrs.field(factory=set, init=False)  # groups reflecting fetched entries (501)
    _wwn_of: dict[str, str] = attrs.field(factory=dict, init=False)  # attached storage device -> its WWN
    _fc: dict[str, Any] = attrs.field(factory=dict, init=False)  # attached storage device -> our channel to it

    @property
    def ip(self) -> str:
        return self.spec.ip

    # -- configuration from the management server (903) ----------------------------
    def configure(self, attached: dict[str, str], virtual: list[VirtualStorage], access: list[AccessControl],
                  routes: list[Route]) -> None:
        self.attached = dict(attached)
        self._wwn_of = {dev: wwn for wwn, dev in self.attached.items()}
        self._fc = {}
        self.virtual = {v.virtual_wwn: v for v in virtual}
        self._real_of = {v.virtual_wwn: v.corresponding_wwn for v in virtual}
        self._virtual_of = {v.corresponding_wwn: v.virtual_wwn for v in virtual}
        self.access = {}
        for a in access:
            self.access.setdefault(a.virtual_wwn, set()).add(a.permitted_wwn)
        self.set_routes(routes)

    def set_routes(self, routes: list[Route]) -> None:
        self.routes = {(r.source_wwn, r.target_wwn): r for r in routes}
        self._hops = {}

    def order_group(self, order_id: int) -> OrderAssurance:
        group = self.groups.get(order_id)
        if group is None:
            group = self.groups[order_id] = OrderAssurance(order_id)
        return group

    # -- routing (1905, 2009) ----------------------------------------------------------
    def next_hop(self, entry: LogEntry) -> str | None:
        """The next device on the route toward entry 801's storage."""
        key = (entry.source.wwn, entry.target.wwn)
        hop = self._hops.get(key)
        if hop is None:
            route = self.routes.get(key)
            path = route.devices if route else None
            if path is None:
                route = self.routes.get((entry.target.wwn, entry.source.wwn))
                path = tuple(reversed(route.devices)) if route else None
            if path is None or self.name not in path[:-1]:
                return None
            hop = self._hops[key] = path[path.index(self.name) + 1]
        return hop

    def _transmit(self, entry: LogEntry, step_hop: str | None, step_send: str | None, arrow: str | None) -> None:
        hop = self._hops.get((entry.source.wwn, entry.target.wwn)) or self.next_hop(entry)
        if hop is None:
            self.emit("no-route", None, source=str(entry.source), target=str(entry.target), seq=entry.seq)
            return
        net = self.net
        active = net.journal.active
        if step_hop and active:
            self.emit("hop-chosen", step_hop, to=hop, ip=net.ips.get(hop, hop), seq=entry.seq)
        net.send(self.name, hop, (entry,), LOG_ENTRY_HEADER_BYTES + entry.rio.size, arrow)
        if step_send and active:
            self.emit("log-sent", step_send, to=hop, kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq)

    # -- FC side: RIOs from an attached storage -------------------------------------------
    def receive(self, src: str, message: Any) -> None:
        if isinstance(message, Rio):
            self._on_rio(src, message)
        elif isinstance(message, tuple):
            for entry in message:
                if isinstance(entry, LogEntry):
                    self._on_entry(entry)
                else:
                    self.malformed += 1
                    self.emit("entry-refused", None, reason=f"not a log entry: {type(entry).__name__}")
        else:
            self.malformed += 1

    def _to_storage(self, rio: Rio, step_tag: str | None) -> None:
        """Hand a RIO to the attached storage, with the WWN conversions (C)/(D) of Fig. 2."""
        mine = rio.target.wwn if rio.target.wwn in self.attached else rio.source.wwn
        storage = self.attached.get(mine)
        if storage is None:
            self.emit("no-storage", None, source=str(rio.source), target=str(rio.target))
            return
        remote = rio.source if mine == rio.target.wwn else rio.target
        virtual = self._virtual_of.get(remote.wwn, remote.wwn)
        if virtual != remote.wwn:
            remote = VolumeRef(virtual, remote.lun)
            rio = attrs.evolve(rio, source=remote) if mine == rio.target.wwn else attrs.evolve(rio, target=remote)
        ch = self._fc.get(storage)
        if ch is None:
            ch = self._fc[storage] = self.net.channels[(self.name, storage)]
        if ch.kind == "fc":
            self.net.send(self.name, storage, rio, rio.size, step_tag, port_id(virtual), port_id(mine))
        else:
            self.net.send(self.name, storage, rio, rio.size, step_tag)

    def _on_rio(self, src: str, rio: Rio) -> None:
        sender = self._wwn_of.get(src)
        if sender is None:
            sender = getattr(self.net.devices.get(src), "wwn", None)
        if sender is None or sender not in self.attached:
            self._deny(src, rio, f"{src} is not a storage attached to {self.name}")
            return
        forward = rio.source.wwn == sender
        addressed = rio.target.wwn if forward else rio.source.wwn
        if addressed not in self.virtual or sender not in self.access.get(addressed, ()):
            self._deny(src, rio, f"storage {sender} may not reach virtual storage {addressed} (405)")
            return
        real = self._real_of[addressed]  # conversions (A) and (B)
        if real != addressed:
            rio = attrs.evolve(rio, target=VolumeRef(real, rio.target.lun)) if forward else attrs.evolve(
                rio, source=VolumeRef(real, rio.source.lun))
        if forward:
            self._from_source_storage(rio)
        else:
            self._from_target_storage(rio)

    def _deny(self, src: str, rio: Rio, reason: str) -> None:
        self.denied += 1
        self.emit("access-denied", None, src=src, kind=str(rio.kind), reason=reason)
        if rio.kind in REPLY and src in self.net.devices:
            answer = Rio(kind=REPLY[rio.kind], source=rio.source, target=rio.target, xid=rio.xid, error=reason)
            self.send(src, answer, answer.size, None)

    def _refuse(self, rio: Rio, reason: str) -> None:
        self.emit("rio-refused", None, kind=str(rio.kind), reason=reason)
        if rio.kind in REPLY:
            self._to_storage(Rio(kind=REPLY[rio.kind], source=rio.source, target=rio.target, xid=rio.xid,
                                 error=reason), None)

    # -- source edge ---------------------------------------------------------------------
    def _from_source_storage(self, rio: Rio) -> None:
        kind = rio.kind
        key = (rio.source, rio.target)
        pair = self.pairs.get(key)
        if kind is K.WR and pair is not None:
            # suspended here, and the storage has not heard yet: keep the block in 727
            if pair.state is S.SUSPEND or pair.state is S.FAILURE_SUSPEND:
                pair.bitmap.add(rio.block)
                self._to_storage(Rio(kind=K.WROK, source=rio.source, target=rio.target, xid=rio.xid), None)
                return
            if self.net.journal.active:
                self.emit("rio-received", "fig19:1901", kind="WR", source=str(rio.source), block=rio.block)
            self._sequence(pair, rio)
            return
        if kind is K.PAIR_CREATE:
            self.emit("rio-received", SOURCE_STEPS[kind][0], kind=str(kind), source=str(rio.source),
                      target=str(rio.target))
            if pair is not None and pair.state is not S.SIMPLEX:
                # The storage, Simplex, asks again: the creation that left this record failed
                # there (its ICOK never came back). The storage is right; start afresh.
                self._absorb_held(pair.order_id)
                self.rebase.add(pair.order_id)
                self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party="source_edge",
                          old=str(pair.state), new=str(S.SIMPLEX))
            order_id = self.net.management.order_id_for(self, rio)
            pair = self.pairs[key] = PairInfo(source=rio.source, target=rio.target, order_id=order_id,
                                              mode=rio.mode)
            self.emit("pair-registered", "fig17:1702", pair=f"{rio.source}>{rio.target}", order_id=order_id,
                      state=str(pair.state))
            self._sequence(pair, rio)
            return
        if kind is K.RESYNC and rio.swap:
            self._swap_at_new_source(rio)
            return
        if pair is None:
            self._refuse(rio, f"no pair {rio.source}>{rio.target} at {self.name}")
            return
        if kind is K.SUSPEND and rio.failure:  # the storage lost its path to us (908 seen from the storage)
            if pair.state in (S.SIMPLEX, S.SUSPEND, S.FAILURE_SUSPEND):
                self._to_storage(Rio(kind=K.SUSPEND, source=pair.source, target=pair.target, failure=True), None)
                if pair.state is S.SUSPEND:
                    self._set_state(pair, Event.FAIL, None, "source_edge")
            else:
                self.remote_copy_failed(pair.order_id, "the source storage reports a path failure")
            return
        if kind is K.SUSPEND:
            try:
                self._set_state(pair, Event.SUSPEND_ASYNC if pair.mode == "async" else Event.SUSPEND, None,
                                "source_edge", strict=True)
            except IllegalTransition as exc:
                self._refuse(rio, str(exc))
                return
        elif kind is K.DUPLEX:
            self.emit("rio-received", SOURCE_STEPS[kind][0], kind=str(kind), source=str(rio.source))
        elif kind is K.RESYNC:
            if pair.state not in (S.SUSPEND, S.FAILURE_SUSPEND):
                self._refuse(rio, f"resync refused: pair is {pair.state} at {self.name}")
                return
        elif kind is K.DELETE:
            pass
        else:
            self.malformed += 1
            return
        self._sequence(pair, rio)

    def _sequence(self, pair: PairInfo, rio: Rio) -> LogEntry | None:
        """Create a sequenced log entry in 413 (1902, 1703, 1803), count it, send it on."""
        order_id = pair.order_id
        group = self.groups.get(order_id) or self.order_group(order_id)
        kind = rio.kind
        wr = kind is K.WR
        # The RIO area 805 holds the request as the storage sent it, less the FC exchange
        # ID (1413): that one matters only between the storage and this edge.
        carried = Rio(kind=K.WR, source=rio.source, target=rio.target, block=rio.block, data=rio.data,
                      copy=rio.copy) if wr and rio.more is not None else rio
        entry = LogEntry(target=pair.target, source=pair.source, order_id=order_id, io_time=self.net.kernel.now,
                         seq=group.created + 1, rio=carried, rebase=bool(self.rebase) and order_id in self.rebase)
        size = LOG_ENTRY_HEADER_BYTES + carried.size
        if self.log_bytes + size > self.spec.log_capacity:
            self.emit("log-full", None, order_id=pair.order_id, bytes=self.log_bytes)
            if rio.kind is K.WR:
                pair.bitmap.add(rio.block)
                self._to_storage(Rio(kind=K.WROK, source=rio.source, target=rio.target, xid=rio.xid), None)
            self.remote_copy_failed(pair.order_id, "log storage area full")
            return None
        if self.rebase:
            self.rebase.discard(order_id)
        steps = SOURCE_STEPS[kind]
        group.created += 1
        self.held.add(entry)
        self.log_bytes += size
        active = self.net.journal.active
        if active:
            self.emit("log-created", steps[1], kind=str(kind), order_id=entry.order_id, seq=entry.seq,
                      volume=str(entry.target), block=rio.block,
                      data_digest=short_digest(rio.data) if wr else None, rebase=entry.rebase)
            self.emit("counter-incremented", steps[2], order_id=entry.order_id, created=group.created)
        if wr:
            self._to_storage(Rio(kind=K.WROK, source=rio.source, target=rio.target, xid=rio.xid), "fig16:1603")
            if active:
                self.emit("wrok-returned", "fig19:1904", order_id=entry.order_id, seq=entry.seq)
        self._transmit(entry, steps[3], steps[4], steps[5])
        if self._resend_timer is None:
            self._arm_resend()
        return entry

    def _on_answer(self, entry: LogEntry) -> None:
        """An answer came back along the route (1907, 1707, 1807, 1208)."""
        request = self.held.take(entry.order_id, entry.seq)
        if request is None:
            self.duplicates += 1
            self.emit("duplicate-answer", None, kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq)
            return
        kind = entry.kind
        steps = ANSWER_STEPS[kind]
        self.log_bytes -= LOG_ENTRY_HEADER_BYTES + request.rio.size
        group = self.groups.get(entry.order_id) or self.order_group(entry.order_id)
        group.deleted += 1
        active = self.net.journal.active
        if active:
            self.emit("answer-received", steps[0], kind=str(kind), order_id=entry.order_id, seq=entry.seq)
        pair = None if kind is K.WROK else self.pairs.get((request.source, request.target))
        rio = entry.rio
        if pair is not None:
            if rio.error:
                self.emit("request-failed", None, kind=str(request.kind), error=rio.error)
                if kind is K.ICOK:
                    del self.pairs[(request.source, request.target)]
            elif kind is K.DPOK:  # 1209: merge the target's 1213 with our 727
                merged = frozenset(pair.bitmap | rio.bitmap)
                self.emit("bitmap-merged", "fig12:1209", pair=f"{pair.source}>{pair.target}", own=len(pair.bitmap),
                          received=len(rio.bitmap), merged=len(merged))
                pair.bitmap.clear()
                rio = attrs.evolve(rio, bitmap=merged)
                self._set_state(pair, Event.RESYNC, steps[1], "source_edge")
            elif kind is K.SOK:
                if pair.state is S.SUSPENDING:
                    self._set_state(pair, Event.SUSPENDED, None, "source_edge")
            elif kind is K.DELOK:
                del self.pairs[(request.source, request.target)]
                self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party="source_edge",
                          old=str(pair.state), new="Simplex")
            else:
                self._set_state(pair, ANSWER_EVENT[kind], STATE_STEP_SOURCE.get(kind), "source_edge")
                if steps[1]:
                    self.emit("pair-info-updated", steps[1], pair=f"{pair.source}>{pair.target}",
                              state=str(pair.state))
            self._to_storage(rio, ANSWER_ARROWS.get(kind, steps[2]))
            if kind in ANSWER_ARROWS:
                self.emit("rio-sent", steps[2], kind=str(kind))
            if kind is K.ICOK and not rio.error:
                self.emit("initial-copy-started", "fig18:1801", pair=f"{pair.source}>{pair.target}")
        if active:
            self.emit("log-deleted", steps[3], kind=str(request.kind), order_id=entry.order_id, seq=entry.seq)
            self.emit("counter-incremented", steps[4], order_id=entry.order_id, deleted=group.deleted)
        if kind is K.DOK and pair is not None and pair.state is S.DUPLEX:
            self.emit("initial-copy-done", None, pair=f"{pair.source}>{pair.target}")

    # -- resend (908) --------------------------------------------------------------------
    def _arm_resend(self) -> None:
        if self._resend_timer is None and self.held:
            held = self.held
            delay = max(0.0, held.sent_at(held.oldest()) + self.spec.resend_timeout - self.now)
            self._resend_timer = self.net.kernel.timer(delay, self._resend_due)

    def _resend_due(self) -> None:
        self._resend_timer = None
        if not self.up:
            return
        deadline = self.now - self.spec.resend_timeout
        tried_reroute = False
        held = self.held
        while held:
            entry = held.oldest()
            if held.sent_at(entry) > deadline + 1e-12:
                break
            resends = held.resends(entry)
            if resends >= self.spec.resend_limit:
                reason = f"no answer after {resends} resends"
                # 502 may route around a failed core or link first (SPEC: disaster-aware routing)
                if not tried_reroute:
                    tried_reroute = True
                    if self.net.management.route_around(self, entry.order_id, reason):
                        self._restart_resends()
                        continue
                self.remote_copy_failed(entry.order_id, reason)
                continue
            held.sent_again(entry, self.now, resends + 1)
            self.resent += 1
            self.emit("resent", None, kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq,
                      attempt=resends + 1)
            self._transmit(entry, None, None, None)
        self._arm_resend()

    def _restart_resends(self) -> None:
        """After a new route arrived: every held entry gets a fresh set of resends."""
        for entry in list(self.held.entries()):
            self.held.sent_again(entry, self.now, 0)

    def _absorb_held(self, order_id: int) -> int:
        """Turn the group's held entries into 727 (WR blocks); count them deleted (734)."""
        converted = 0
        group = self.order_group(order_id)
        for entry in self.held.group(order_id):
            self.held.take(order_id, entry.seq)
            self.log_bytes -= entry.size
            group.deleted += 1
            rio = entry.rio
            pair = self.pairs.get((entry.source, entry.target))
            if rio.kind is K.WR and pair is not None:
                pair.bitmap.add(rio.block)
                converted += 1
        return converted

    def remote_copy_failed(self, order_id: int, reason: str, full: bool = False) -> None:
        """Step 908: give up on an order group. Its pairs go to failure Suspend; the
        WR entries still held become the differential bitmap 727; both storages are
        told (the target's through the management server). ``full``: the entries
        were lost with a volatile log storage area 413, so nobody knows their blocks;
        the source storage marks every written block in 1211 (a full copy at resync)."""
        pairs = [p for p in self.pairs.values() if p.order_id == order_id and p.source.wwn in self.attached]
        converted = self._absorb_held(order_id)
        self.rebase.add(order_id)
        self.emit("remote-copy-failed", "fig9:908", order_id=order_id, reason=reason, converted=converted,
                  full=full)
        for pair in pairs:
            if pair.state is S.SIMPLEX:
                continue
            self._set_state(pair, Event.FAIL, None, "source_edge")
            self._to_storage(Rio(kind=K.SUSPEND, source=pair.source, target=pair.target, failure=True, full=full),
                             None)
        self.net.management.report_failure(self, order_id, [(p.source, p.target) for p in pairs], reason)

    def fail_pairs(self, keys: list[PairKey], reason: str) -> None:
        """Told by the management server (908): the pairs' remote copy has failed."""
        for key in keys:
            pair = self.pairs.get(key)
            if pair is None or pair.state is S.SIMPLEX:
                continue
            self._set_state(pair, Event.FAIL, "fig9:908", "target_edge")
            self._to_storage(Rio(kind=K.SUSPEND, source=pair.source, target=pair.target, failure=True), None)

    def source_failed(self, keys: list[PairKey], reason: str) -> None:
        """Told by the management server: the target side of these pairs cannot go on (908)."""
        for oid in sorted({self.pairs[k].order_id for k in keys if k in self.pairs}):
            self.remote_copy_failed(oid, reason)

    # -- target edge -------------------------------------------------------------------------
    def _on_entry(self, entry: LogEntry) -> None:
        if entry.target.wwn not in self.attached:
            self.malformed += 1
            self.emit("entry-refused", None, reason=f"{entry.target} is not behind {self.name}", seq=entry.seq)
            return
        kind = entry.kind
        if kind in REPLIES and not (kind is K.SOK and entry.rio.failure):
            self._on_answer(entry)
        elif kind is K.SUSPEND and entry.rio.failure:
            self._on_suspend_instruction(entry)
        else:
            self._accept(entry)

    def _bogus(self, entry: LogEntry) -> str | None:
        """Why an arriving request entry cannot be genuine, or None: it must belong to a
        pair this edge holds with that order assurance ID (pair creation and failback
        introduce a pair), and be numbered within the reorder window."""
        kind = entry.kind
        if not (kind is K.PAIR_CREATE or (kind is K.RESYNC and entry.rio.swap)):
            pair = self.pairs.get((entry.source, entry.target))
            if pair is None or pair.order_id != entry.order_id:
                return f"no pair {entry.source}>{entry.target} with order assurance ID {entry.order_id} here"
        group = self.groups.get(entry.order_id)
        reflected = group.reflected if group else 0
        if not entry.rebase and entry.seq > reflected + self.spec.reorder_window:
            return f"sequence number {entry.seq} is beyond the reorder window ({reflected} + {self.spec.reorder_window})"
        return None

    def _accept(self, entry: LogEntry) -> None:
        """2001-2002, 2101-2102, 2202-2203: keep the entry until its turn comes."""
        bogus = self._bogus(entry)
        if bogus is not None:
            self.malformed += 1
            self.emit("entry-refused", None, reason=bogus, order_id=entry.order_id, seq=entry.seq)
            return
        group = self.order_group(entry.order_id)
        box = self.inbound.get(entry.order_id)
        if box is None:
            box = self.inbound[entry.order_id] = Inbound()
        if entry.rebase and entry.seq > group.reflected + 1:
            dropped = [s for s in box.pending if s < entry.seq]
            for s in dropped:
                self.log_bytes -= box.pending.pop(s).size
            stuck = box.in_progress
            if stuck is not None and stuck.seq < entry.seq:  # its RIO or answer was lost; 727 covers it
                box.in_progress = None
                self.log_bytes -= stuck.size
                dropped.append(stuck.seq)
            self.emit("sequence-rebased", None, order_id=entry.order_id, reflected=group.reflected,
                      now=entry.seq - 1, dropped=len(dropped))
            group.reflected = entry.seq - 1
        if entry.seq <= group.reflected:  # reflected already: answer again, never apply again
            self.duplicates += 1
            self._answer_again(entry)
            return
        if entry.seq in box.pending:
            self.duplicates += 1
            return
        if box.in_progress is not None and box.in_progress.seq == entry.seq:
            self.duplicates += 1
            if entry.kind is K.WR and self.now - box.since >= self.spec.resend_timeout:
                # the storage's answer is long overdue (it was down): ask it again
                self.emit("reissued", None, order_id=entry.order_id, seq=entry.seq)
                box.since = self.now
                self._to_storage(_numbered(entry.rio, entry.order_id, entry.seq), None)
            return
        box.pending[entry.seq] = entry
        self.log_bytes += entry.size
        if self.net.journal.active:
            steps = TARGET_STEPS[entry.kind]
            self.emit("log-received", steps[0], kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq)
            self.emit("log-stored", steps[1], kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq)
        self._reflect_next(entry.order_id)

    def _answer_again(self, entry: LogEntry) -> None:
        answer = self._answers.get(entry.key)
        if answer is None:
            if entry.kind is not K.WR:
                return
            answer = LogEntry(target=entry.source, source=entry.target, order_id=entry.order_id,
                              io_time=entry.io_time, seq=entry.seq,
                              rio=Rio(kind=K.WROK, source=entry.rio.source, target=entry.rio.target))
        self.emit("answered-again", None, kind=str(answer.kind), order_id=entry.order_id, seq=entry.seq)
        self._transmit(answer, None, None, None)

    def _reflect_next(self, order_id: int) -> None:
        """2003: the entry whose number is the reflection counter + 1, if it is here."""
        box = self.inbound[order_id]
        if box.in_progress is not None or not self.up:
            return
        group = self.groups[order_id]
        entry = box.pending.get(group.reflected + 1)
        if entry is None and self.unsafe_reflect_any_order:  # test hook: break rule 2003 (issue 6)
            entry = box.pending.get(max((s for s, e in box.pending.items() if e.kind is K.WR), default=-1))
        if entry is None:
            return
        pair = self.pairs.get((entry.source, entry.target))
        kind = entry.kind
        if (pair is not None and pair.state in (S.SUSPEND, S.FAILURE_SUSPEND) and kind in (K.WR, K.DUPLEX)
                and not (kind is K.WR and order_id in self._fetching)):
            return  # reflection halts while suspended; the entries wait (or are fetched, 501)
        if kind is K.RESYNC and entry.rio.swap:
            pair = self._swap_at_new_target(entry)
        del box.pending[entry.seq]
        if kind is K.SOK:  # 1308: the source edge's SOK, in order: nothing is missing
            self.log_bytes -= entry.size
            group.reflected += 1
            self.emit("sok-received", "fig13:1308", order_id=order_id, seq=entry.seq)
            fo = self.failovers.get(order_id)
            if fo is not None:
                self._complete_failover(order_id)
            self._reflect_next(order_id)
            return
        box.in_progress = entry
        box.since = self.now
        steps = TARGET_STEPS[kind]
        if kind is K.WR:
            if self.net.journal.active:
                self.emit("entry-selected", "fig20:2003", order_id=order_id, seq=entry.seq)
                self.emit("rio-converted", steps[2], order_id=order_id, seq=entry.seq)
            if order_id in self.failovers:  # 1307-1309: received, not the SOK, reflect it in order
                self.emit("sok-checked", "fig13:1308", order_id=order_id, seq=entry.seq, sok=False)
                self.emit("reflecting", "fig13:1309", order_id=order_id, seq=entry.seq)
        elif kind is K.PAIR_CREATE:
            if pair is None or pair.state is S.SIMPLEX:
                pair = self.pairs[(entry.source, entry.target)] = PairInfo(
                    source=entry.source, target=entry.target, order_id=order_id, mode=entry.rio.mode)
                self.emit("pair-registered", "fig21:2103", pair=f"{pair.source}>{pair.target}", order_id=order_id,
                          state=str(pair.state))
            self.emit("rio-converted", steps[2], kind=str(kind), seq=entry.seq)
        elif steps[2]:
            self.emit("rio-converted", steps[2], kind=str(kind), seq=entry.seq)
        rio = _numbered(entry.rio, order_id, entry.seq) if kind is K.WR else entry.rio
        self._to_storage(rio, steps[4])
        if steps[3] and self.net.journal.active:
            self.emit("rio-sent", steps[3], kind=str(kind), seq=entry.seq)

    def _swap_at_new_source(self, rio: Rio) -> None:
        """Failback at the old target's edge: the pair's record turns round and gets a new
        order assurance ID; the resynchronize entry then goes out as in Fig. 12."""
        old = self.pairs.get((rio.target, rio.source))
        turned = self.pairs.get((rio.source, rio.target))
        if old is None and turned is not None and turned.state in (S.SUSPEND, S.FAILURE_SUSPEND):
            self._sequence(turned, rio)  # turned here already; the other side has not heard: tell it again
            return
        if old is None or old.state not in (S.SUSPEND, S.FAILURE_SUSPEND):
            state = old.state if old else S.SIMPLEX
            self._refuse(rio, f"failback refused: pair is {state} at {self.name}")
            return
        box = self.inbound.pop(old.order_id, None)  # entries never reflected: their blocks are in 727 at the
        if box is not None:                          # other edge, so the copy back covers them
            self.log_bytes -= sum(e.size for e in box.pending.values())
        order_id = self.net.management.order_id_for(self, rio)
        pair = self._turn(old, order_id, "source_edge")
        self.rebase.add(order_id)  # the other edge may have counted this group differently: start afresh
        self._sequence(pair, rio)

    def _swap_at_new_target(self, entry: LogEntry) -> PairInfo | None:
        """Failback at the old source's edge: what it still holds for the old direction
        becomes 727 of the turned pair, and goes back to the new source with DPOK."""
        old = self.pairs.get((entry.target, entry.source))
        if old is None:
            return self.pairs.get((entry.source, entry.target))
        self._absorb_held(old.order_id)
        return self._turn(old, entry.order_id, "target_edge")

    def _turn(self, old: PairInfo, order_id: int, party: str) -> PairInfo:
        del self.pairs[(old.source, old.target)]
        pair = PairInfo(source=old.target, target=old.source, order_id=order_id, state=old.state, mode=old.mode)
        pair.bitmap = old.bitmap
        self.pairs[(pair.source, pair.target)] = pair
        self.emit("pair-swapped", None, old=f"{old.source}>{old.target}", new=f"{pair.source}>{pair.target}",
                  party=party, order_id=order_id, state=str(pair.state), bitmap=len(pair.bitmap))
        self.net.management.pair_updated(self, pair)
        return pair

    # -- fetching remaining entries (the prompt failover variant, 501) -----------------------------
    def remaining_entries(self, order_id: int) -> list[LogEntry]:
        """WR entries of the group this edge still holds (either side of 413)."""
        out = [e for e in self.held.group(order_id) if e.kind is K.WR]
        box = self.inbound.get(order_id)
        if box is not None:
            out.extend(e for e in box.pending.values() if e.kind is K.WR)
        return out

    def apply_fetched(self, order_id: int, entries: list[LogEntry]) -> None:
        """The management server hands us entries fetched from the network: reflect the
        ones that continue the sequence, in order, though the pair is failure Suspend."""
        group = self.order_group(order_id)
        box = self.inbound.setdefault(order_id, Inbound())
        added = 0
        for entry in entries:
            if entry.seq > group.reflected and entry.seq not in box.pending and (
                    box.in_progress is None or box.in_progress.seq != entry.seq):
                box.pending[entry.seq] = entry
                self.log_bytes += entry.size
                added += 1
        self._fetching.add(order_id)
        self.emit("fetched-entries", None, order_id=order_id, entries=len(entries), added=added,
                  reflected=group.reflected)
        self._reflect_next(order_id)
        self._fetch_done(order_id)

    def _fetch_done(self, order_id: int) -> None:
        box = self.inbound.get(order_id)
        if order_id in self._fetching and (box is None or box.in_progress is None):
            self._fetching.discard(order_id)
            group = self.order_group(order_id)
            gap = box is not None and bool(box.pending) and (group.reflected + 1) not in box.pending
            self.emit("fetch-finished", None, order_id=order_id, reflected=group.reflected, gap=gap)

    def _from_target_storage(self, rio: Rio) -> None:
        """The target storage answered the RIO being reflected (2006, 2106, 2206, 1206)."""
        kind = rio.kind
        pair = self.pairs.get((rio.source, rio.target))
        if kind is K.SUSPEND and rio.failure:  # 1303: failover asked by the target host
            self._start_failover(pair, rio)
            return
        if pair is None:
            self.emit("rio-refused", None, kind=str(kind), reason=f"no pair {rio.source}>{rio.target}")
            return
        order_id = pair.order_id
        box = self.inbound.get(order_id)
        entry = box.in_progress if box else None
        if entry is None or REPLY.get(entry.kind) is not kind or (kind is K.WROK and rio.seq
                                                                     and rio.seq != entry.seq):
            self.emit("rio-refused", None, kind=str(kind), reason="no request of that kind is being reflected")
            return
        if kind is K.DPOK and pair.bitmap:  # failback: what the old source edge still had goes back too
            rio = attrs.evolve(rio, bitmap=rio.bitmap | frozenset(pair.bitmap))
            pair.bitmap.clear()
        box.in_progress = None
        steps = REFLECT_STEPS[kind]
        group = self.groups[order_id]
        group.reflected += 1  # 2007, 2107, 2207
        group.reflection_delay = self.net.kernel.now - entry.io_time
        self.log_bytes -= LOG_ENTRY_HEADER_BYTES + entry.rio.size
        active = self.net.journal.active
        if active:
            self.emit("answer-from-storage", steps[0], kind=str(kind), order_id=order_id, seq=entry.seq)
            self.emit("counter-incremented", steps[1], order_id=order_id, reflected=group.reflected,
                      reflection_delay=round(group.reflection_delay, 9))
        if kind is K.DELOK:
            del self.pairs[(rio.source, rio.target)]
            self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party="target_edge",
                      old=str(pair.state), new="Simplex")
        elif kind is not K.WROK and not rio.error:
            event = ANSWER_EVENT[kind]
            if kind is K.SOK:
                event = Event.SUSPEND
            if kind is K.DPOK and entry.rio.swap:
                event = Event.SWAP
            if kind is K.ICOK and pair.state is not S.SIMPLEX:
                event = None
            if event is not None:
                self._set_state(pair, event, STATE_STEP_TARGET.get(kind), "target_edge")
                if steps[2] and steps[2] != STATE_STEP_TARGET.get(kind):
                    self.emit("pair-info-updated", steps[2], pair=f"{pair.source}>{pair.target}",
                              state=str(pair.state))
        answer = LogEntry(target=entry.source, source=entry.target, order_id=order_id, io_time=entry.io_time,
                          seq=entry.seq, rio=rio)
        if active:
            self.emit("log-created", steps[3], kind=str(kind), order_id=order_id, seq=entry.seq)
        if kind is not K.WROK:
            self._answers[entry.key] = answer
        self._transmit(answer, steps[4], steps[5], steps[6])
        if active:
            self.emit("log-deleted", steps[7], kind=str(entry.kind), order_id=order_id, seq=entry.seq)
        if kind is K.ICOK and not rio.error:
            self.emit("initial-copy-started", "fig22:2201", pair=f"{pair.source}>{pair.target}")
        self._reflect_next(order_id)
        if order_id in self._fetching:
            self._fetch_done(order_id)

    # -- failover (Fig. 13) ----------------------------------------------------------------
    def _start_failover(self, pair: PairInfo | None, rio: Rio) -> None:
        if pair is None:
            self._to_storage(Rio(kind=K.SOK, source=rio.source, target=rio.target, error="no such pair"), None)
            return
        order_id = pair.order_id
        self.emit("suspend-instruction", None, pair=f"{pair.source}>{pair.target}", prompt=rio.mode == "prompt")
        instruction = LogEntry(target=pair.source, source=pair.target, order_id=order_id, io_time=self.now, seq=0,
                               rio=attrs.evolve(rio, source=pair.source, target=pair.target))
        if rio.mode == "prompt":  # the variant: 1310-1312 right after 1303
            self.failovers[order_id] = Failover(pair, None)
            self._complete_failover(order_id)
            # The source edge (if alive) still hears of it and goes to failure Suspend; what it
            # holds stays there for the fetch through 501 (or becomes 727 when it gives up).
            self._transmit(instruction, None, None, None)
            return
        self._transmit(instruction, None, None, "fig13:1304")
        timer = self.net.kernel.timer(self.spec.suspend_timeout, self._failover_timeout, order_id)
        self.failovers[order_id] = Failover(pair, timer)
        self.emit("timer-reset", "fig13:1305", timeout=self.spec.suspend_timeout)
        self.emit("waiting-for-sok", "fig13:1306", order_id=order_id)
        self.emit("receiving", "fig13:1307", order_id=order_id)

    def _failover_timeout(self, order_id: int) -> None:
        if order_id in self.failovers:
            self.emit("failover-timeout", "fig13:1306", order_id=order_id)
            self._complete_failover(order_id)

    def _complete_failover(self, order_id: int) -> None:
        fo = self.failovers.pop(order_id)
        if fo.timer is not None:
            fo.timer.cancel()
        pair = fo.pair
        if pair.state is not S.FAILURE_SUSPEND:
            self._set_state(pair, Event.FAIL, None, "target_edge")
        self._to_storage(Rio(kind=K.SOK, source=pair.source, target=pair.target, failure=True), "fig13:1310")

    def _on_suspend_instruction(self, entry: LogEntry) -> None:
        """1304 at the source edge: (A) send what is held, (B) failure Suspend, (C) SOK."""
        pair = self.pairs.get((entry.rio.source, entry.rio.target))
        if pair is None:
            return
        order_id = pair.order_id
        for entry in self.held.group(order_id):
            self.held.sent_again(entry, self.now, self.held.resends(entry), move=False)
            self._transmit(entry, None, None, None)
        if pair.state is not S.FAILURE_SUSPEND:
            self._set_state(pair, Event.FAIL, None, "source_edge")
        group = self.order_group(order_id)
        group.created += 1
        group.deleted += 1  # the SOK is not kept: nothing answers it
        sok = LogEntry(target=pair.target, source=pair.source, order_id=order_id, io_time=self.now,
                       seq=group.created, rio=Rio(kind=K.SOK, source=pair.source, target=pair.target, failure=True))
        self.emit("sok-sent", "fig13:1304", order_id=order_id, seq=sok.seq)
        self._transmit(sok, None, None, None)
        self._to_storage(Rio(kind=K.SUSPEND, source=pair.source, target=pair.target, failure=True), None)

    # -- helpers ---------------------------------------------------------------------------------
    def _set_state(self, pair: PairInfo, event: Event, step_tag: str | None, party: str,
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
        self.net.management.pair_updated(self, pair)

    @property
    def log_entries(self) -> int:
        """Entries in the log storage area 413 (management information 1701)."""
        return len(self.held) + sum(len(b.pending) + (b.in_progress is not None) for b in self.inbound.values())

    def crash(self) -> None:
        super().crash()
        if self._resend_timer is not None:
            self._resend_timer.cancel()
            self._resend_timer = None
        for fo in self.failovers.values():
            if fo.timer is not None:
                fo.timer.cancel()
        self.failovers.clear()
        self._fetching.clear()
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
        Suspend it may have missed while it was down."""
        for pair in list(self.pairs.values()):
            if pair.state is S.FAILURE_SUSPEND and wwn in (pair.source.wwn, pair.target.wwn):
                self._to_storage(Rio(kind=K.SUSPEND, source=pair.source, target=pair.target, failure=True), None)

    def restart(self) -> None:
        super().restart()
        lost, self._lost = self._lost, {}
        for order_id in sorted(lost):  # sent but unconfirmed writes are gone: nothing may be silently lost
            self.remote_copy_failed(order_id, f"log storage area 413 lost in a crash ({lost[order_id]} entries)",
                                    full=True)
        held = self.held
        for entry in list(held.entries()):
            held.sent_again(entry, self.now - self.spec.resend_timeout, held.resends(entry), move=False)
        self._arm_resend()
        for order_id in list(self.inbound):
            self._reflect_next(order_id)


def _numbered(rio: Rio, order_id: int, seq: int) -> Rio:
    """The RIO of a WR entry as the target edge hands it to its storage (2004): the
    same request with the order assurance ID and sequence number attached."""
    more = rio.more
    if more is None:
        more = RioMore(_EMPTY, "", order_id, False, False, False, False, 0, seq, "")
    else:
        more = more._replace(order_id=order_id, seq=seq)
    return Rio(kind=rio.kind, source=rio.source, target=rio.target, block=rio.block, data=rio.data, more=more)
