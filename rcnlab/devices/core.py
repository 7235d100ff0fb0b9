"""Core devices 202: relay log entries along the route 408, optionally in batches (420)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from rcnlab.devices.base import Device
from rcnlab.emu.kernel import Timer
from rcnlab.model.kinds import DeviceKind
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.rio import RioKind
from rcnlab.model.tables import Hop, Route
from rcnlab.topo.schema import CoreSpec

#: The message arrow a relayed entry stands for, by kind.
RELAY_ARROWS = {
    RioKind.WR: "fig16:1606",
    RioKind.WROK: "fig16:1610",
    RioKind.RESYNC: "fig12:1204",
    RioKind.DPOK: "fig12:1208",
}


@attrs.define(eq=False)
class CoreDevice(Device):
    """Relays what arrives by the route 713/714 its frame carries: the next hop is the
    device whose IP follows this core's own in that list (the copy of 408 it holds is
    what the management server configured; forwarding does not consult it)."""

    spec: CoreSpec = attrs.field(kw_only=True)
    kind: ClassVar[DeviceKind] = DeviceKind.CORE
    routes: dict[tuple[str, str], Route] = attrs.field(factory=dict, init=False)  # copy of 408
    relayed: int = attrs.field(default=0, init=False)
    unroutable: int = attrs.field(default=0, init=False)
    batches: int = attrs.field(default=0, init=False)
    _hops: dict[tuple[str, ...], Hop] = attrs.field(factory=dict, init=False)  # route -> next hop
    _batch: dict[Hop, list[LogEntry]] = attrs.field(factory=dict, init=False)  # next hop -> entries waiting
    _batch_timer: Timer | None = attrs.field(default=None, init=False)

    @property
    def ip(self) -> str:
        return self.spec.ip

    def set_routes(self, routes: list[Route]) -> None:
        self.routes = {(r.source_wwn, r.target_wwn): r for r in routes}
        self._hops = {}

    def next_hop(self, route: tuple[str, ...]) -> Hop | None:
        """The hop after this core in ``route`` (IP addresses), if it is a neighbour."""
        hop = self._hops.get(route)
        if hop is None:
            ips = route[:-1]
            if self.ip not in ips:
                return None
            ip = route[ips.index(self.ip) + 1]
            device = self.net.by_ip.get(ip)
            if device is None or (self.name, device) not in self.net.channels:
                return None
            hop = self._hops[route] = Hop(device=device, ip=ip, route=route)
        return hop

    @property
    def held(self) -> int:
        """Entries waiting for the batch transfer."""
        return sum(len(v) for v in self._batch.values())

    def batched(self) -> list[LogEntry]:
        """The entries waiting for the batch transfer, by next hop."""
        return [e for entries in self._batch.values() for e in entries]

    def receive(self, src: str, message: object) -> None:
        """A frame without addresses has no route to follow."""
        self.refuse_frame(src, "a frame without addresses")

    def receive_addressed(self, src: str, message: object, src_addr: int | str | None, dst_addr: int | str,
                          route: tuple[str, ...]) -> None:
        if dst_addr != self.spec.ip:
            self.refuse_frame(src, f"addressed to {dst_addr}, not to {self.name}'s {self.spec.ip}")
            return
        if not isinstance(message, tuple):
            self.malformed += 1
            return
        hop = self._hops.get(route) or self.next_hop(route)
        if hop is None:
            self.unroutable += len(message)
            self.emit("no-route", None, route=list(route), entries=len(message))
            return
        if len(message) == 1 and self.spec.batch_wait <= 0:  # one entry, relayed at once: as _forward
            entry = message[0]
            if type(entry) is LogEntry:
                self.relayed += 1
                self.net.send(self.name, hop.device, message, LOG_ENTRY_HEADER_BYTES + entry.rio.size,
                              RELAY_ARROWS.get(entry.rio.kind), self.spec.ip, hop.ip, route)
                return
        entries = []
        for entry in message:
            if isinstance(entry, LogEntry):
                entries.append(entry)
            else:
                self.malformed += 1
        if not entries:
            return
        if self.spec.batch_wait > 0:
            self._batch.setdefault(hop, []).extend(entries)
            if self._batch_timer is None:
                self._batch_timer = self.net.kernel.timer(self.spec.batch_wait, self._flush)
            return
        self._forward(hop, entries)

    def _forward(self, hop: Hop, entries: list[LogEntry]) -> None:
        """Send entries on, as few frames as whole entries fit in: a frame lost loses only
        the entries in it (the source edge resends each of them, 908), never a batch."""
        self.relayed += len(entries)
        arrow = RELAY_ARROWS.get(entries[0].kind)
        mtu = self.net.channels[(self.name, hop.device)].mtu
        frame: list[LogEntry] = []
        size = 0
        for entry in entries:
            if frame and size + entry.size > mtu:
                self.net.send(self.name, hop.device, tuple(frame), size, arrow, self.spec.ip, hop.ip, hop.route)
                frame, size = [], 0
            frame.append(entry)
            size += entry.size
        self.net.send(self.name, hop.device, tuple(frame), size, arrow, self.spec.ip, hop.ip, hop.route)

    def _flush(self) -> None:
        """420: forward everything accumulated since the first receipt, one batch per next
        hop (its frames one route each, as each frame carries one route)."""
        self._batch_timer = None
        batch, self._batch = self._batch, {}
        for device in dict.fromkeys(hop.device for hop in batch):
            hops = [hop for hop in batch if hop.device == device]
            self.batches += 1
            self.emit("batch-sent", None, to=device, entries=sum(len(batch[hop]) for hop in hops))
            for hop in hops:
                self._forward(hop, batch[hop])

    def remaining_entries(self, order_id: int) -> list[LogEntry]:
        """WR entries of the group waiting in the batch (for the fetch through 501)."""
        return [e for entries in self._batch.values() for e in entries
                if e.order_id == order_id and e.kind is RioKind.WR]

    def crash(self) -> None:
        super().crash()
        if self._batch_timer is not None:
            self._batch_timer.cancel()
            self._batch_timer = None
        lost = self.held
        self._batch = {}
        if lost:
            self.emit("entries-lost", None, entries=lost)
