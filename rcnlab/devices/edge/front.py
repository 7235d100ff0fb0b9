"""The edge's two fronts.

FC side: the virtual storage provision program 403 presents virtual storage
(106, 107) that impersonates the opposite storage, under access control 405; a
RIO crossing it gets the WWN conversions of the Fig. 2 variant, (A)/(B) on the
way in, (C)/(D) on the way out. IP side: the log entry transfer program 407
sends entries along the route 408, and hands an arriving entry to the side it is
for (an answer to the source side, a request to the target side, a failover's
Suspend instruction to the failover).
"""

from __future__ import annotations

import attrs

from rcnlab.devices.edge.state import EdgeState
from rcnlab.devices.order_ids import OrderIds
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.kinds import LinkKind
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.rio import REPLIES, REPLY, Rio, RioKind
from rcnlab.model.tables import AccessControl, Hop, Route, VirtualStorage

K = RioKind


class FrontMixin(EdgeState):
    __slots__ = ()

    # -- configuration from the management server (903) ----------------------------
    def configure(self, attached: dict[str, str], virtual: list[VirtualStorage], access: list[AccessControl],
                  routes: list[Route], order_ids: OrderIds) -> None:
        self.attached = dict(attached)
        self.order_ids = order_ids
        self._wwn_of = {self._address(dev, wwn): wwn for wwn, dev in self.attached.items()}
        self._fc = {}
        self.virtual = {v.virtual_wwn: v for v in virtual}
        self._virtual_at = {a: v.virtual_wwn for v in virtual for a in (port_id(v.virtual_wwn), v.virtual_wwn)}
        self._real_of = {v.virtual_wwn: v.corresponding_wwn for v in virtual}
        self._virtual_of = {v.corresponding_wwn: v.virtual_wwn for v in virtual}
        self.access = {}
        for a in access:
            self.access.setdefault(a.virtual_wwn, set()).add(a.permitted_wwn)
        self.set_routes(routes)

    def _address(self, storage: str, wwn: str) -> int | str:
        """How frames from and to an attached storage name ``wwn``: its FC PortID, or over
        IP the address itself (the IP-attached storage's WWN is its IP address)."""
        ch = self.net.channels.get((self.name, storage))
        return wwn if ch is not None and ch.kind is LinkKind.IP else port_id(wwn)

    def set_routes(self, routes: list[Route]) -> None:
        self.routes = {(r.source_wwn, r.target_wwn): r for r in routes}
        self._hops = {}
        self._lanes = {}

    # -- IP side: routing (1905, 2009) and transfer (407) ------------------------------
    def path_of(self, key: tuple[str, str]) -> tuple[str, ...] | None:
        """The route's devices (408) from ``key[0]``'s edge to ``key[1]``'s (WWNs), either way round."""
        route = self.routes.get(key)
        if route is not None:
            return route.devices
        route = self.routes.get((key[1], key[0]))
        return tuple(reversed(route.devices)) if route else None

    def next_hop(self, entry: LogEntry) -> Hop | None:
        """1905 (A) and (B): the transit route 713 of the entry's storage pair, either way
        round, and in it the IP address after this edge's own."""
        key = (entry.source.wwn, entry.target.wwn)
        hop = self._hops.get(key)
        if hop is None:
            route = self.routes.get(key)
            ips = route.ips if route else None
            if ips is None:
                route = self.routes.get((key[1], key[0]))
                ips = tuple(reversed(route.ips)) if route else None
            if ips is None or self.ip not in ips[:-1]:
                return None
            ip = ips[ips.index(self.ip) + 1]
            hop = self._hops[key] = Hop(device=self.net.by_ip[ip], ip=ip, route=ips)
        return hop

    def _transmit(self, entry: LogEntry, step_hop: str | None = None, step_send: str | None = None,
                  arrow: str | None = None) -> float:
        """Send an entry to the next hop: ``step_hop`` tags choosing it, ``step_send``
        the sending, ``arrow`` the message itself. Returns when it starts to leave
        (after what was sent before it on that link)."""
        hop = self._hops.get((entry.source.wwn, entry.target.wwn)) or self.next_hop(entry)
        if hop is None:
            self.emit("no-route", None, source=str(entry.source), target=str(entry.target), seq=entry.seq)
            return self.now
        net = self.net
        heard = net.journal.heard
        if step_hop and "hop-chosen" in heard:
            self.emit("hop-chosen", step_hop, to=hop.device, ip=hop.ip, seq=entry.seq)
        departs = net.send(self.name, hop.device, (entry,), LOG_ENTRY_HEADER_BYTES + entry.rio.size, arrow,
                           self.spec.ip, hop.ip, hop.route)
        if step_send and "log-sent" in heard:
            self.emit("log-sent", step_send, to=hop.device, kind=str(entry.kind), order_id=entry.order_id,
                      seq=entry.seq)
        return departs

    def receive(self, src: str, message: object) -> None:
        """A message without addresses: no PortID to learn its sender from (1901), no IP."""
        self.refuse_frame(src, "a frame without addresses")

    def receive_addressed(self, src: str, message: object, src_addr: int | str | None, dst_addr: int | str,
                          route: tuple[str, ...]) -> None:
        if isinstance(message, Rio):
            self._on_rio(src, message, src_addr, dst_addr)
        elif isinstance(message, tuple):
            if dst_addr != self.spec.ip:
                self.refuse_frame(src, f"addressed to {dst_addr}, not to {self.name}'s {self.spec.ip}")
                return
            for entry in message:
                if isinstance(entry, LogEntry):
                    self._on_entry(entry)
                else:
                    self.malformed += 1
                    self.emit("entry-refused", None, reason=f"not a log entry: {type(entry).__name__}")
        else:
            self.malformed += 1

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
        elif kind is K.RECEIPT:
            self._on_receipt(entry)
        else:
            self._accept(entry)

    # -- FC side: RIOs from and to the attached storages ----------------------------------
    def _to_storage(self, rio: Rio, step_tag: str | None = None) -> None:
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
        if ch.kind is LinkKind.FC:  # (C)/(D): the source PortID is the virtual storage's
            self.net.send(self.name, storage, rio, rio.size, step_tag, port_id(virtual), port_id(mine))
        else:
            self.net.send(self.name, storage, rio, rio.size, step_tag, virtual, mine)

    def _on_rio(self, src: str, rio: Rio, src_addr: int | str | None, dst_addr: int | str) -> None:
        """1901: the transfer source WWN from the frame's source PortID 1411, the addressed
        (virtual) WWN from its destination PortID 1412; conversions (A)/(B) turn the
        latter into the real WWN behind it."""
        sender = self._wwn_of.get(src_addr) if src_addr is not None else None
        if sender is None:
            self._deny(src, rio, f"{src} is not a storage attached to {self.name}")
            return
        forward = rio.source.wwn == sender
        named = rio.target.wwn if forward else rio.source.wwn
        addressed = self._virtual_at.get(dst_addr)
        if addressed is not None and addressed != named:
            self.refuse_frame(src, f"destination {dst_addr} is {addressed}, the {rio.kind} names {named}")
            return
        if addressed is None or sender not in self.access.get(addressed, ()):
            self._deny(src, rio, f"storage {sender} may not reach virtual storage {named} (405)")
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
                                 error=reason))
