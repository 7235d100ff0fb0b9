"""Core devices 202: relay log entries along the route 408, optionally in batches (420)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from rcnlab.devices.base import Device
from rcnlab.emu.kernel import Timer
from rcnlab.model.kinds import DeviceKind
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.rio import RioKind
from rcnlab.model.tables import Route
from rcnlab.topo.schema import CoreSpec

#: The message arrow a relayed entry stands for, by kind.
RELAY_ARROWS = {
    RioKind.WR: "fig16:1606",
    RioKind.WROK: "fig16:1610",
    RioKind.RESYNC: "fig12:1204",
    RioKind.DPOK: "fig12:1208",
}
_UNKNOWN = "\0unknown"  # a sentinel: no device bears this name


@attrs.define(eq=False)
class CoreDevice(Device):
    spec: CoreSpec = attrs.field(kw_only=True)
    kind: ClassVar[DeviceKind] = DeviceKind.CORE
    routes: dict[tuple[str, str], Route] = attrs.field(factory=dict, init=False)  # copy of 408
    relayed: int = attrs.field(default=0, init=False)
    unroutable: int = attrs.field(default=0, init=False)
    batches: int = attrs.field(default=0, init=False)
    _hops: dict[tuple[str, str], str | None] = attrs.field(factory=dict, init=False)
    _batch: dict[str, list[LogEntry]] = attrs.field(factory=dict, init=False)  # next hop -> entries waiting
    _batch_timer: Timer | None = attrs.field(default=None, init=False)

    @property
    def ip(self) -> str:
        return self.spec.ip

    def set_routes(self, routes: list[Route]) -> None:
        self.routes = {(r.source_wwn, r.target_wwn): r for r in routes}
        self._hops = {}

    def next_hop(self, entry: LogEntry) -> str | None:
        key = (entry.source.wwn, entry.target.wwn)
        if key in self._hops:
            return self._hops[key]
        hop = None
        route = self.routes.get(key)
        path = route.devices if route else None
        if path is None:
            route = self.routes.get((entry.target.wwn, entry.source.wwn))
            path = tuple(reversed(route.devices)) if route else None
        if path is not None and self.name in path[:-1]:
            hop = path[path.index(self.name) + 1]
        self._hops[key] = hop
        return hop

    @property
    def held(self) -> int:
        """Entries waiting for the batch transfer."""
        return sum(len(v) for v in self._batch.values())

    def batched(self) -> list[LogEntry]:
        """The entries waiting for the batch transfer, by next hop."""
        return [e for entries in self._batch.values() for e in entries]

    def receive(self, src: str, message: object) -> None:
        if not isinstance(message, tuple):
            self.malformed += 1
            return
        if len(message) == 1 and self.spec.batch_wait <= 0:  # one entry, relayed at once: as the loop below
            entry = message[0]
            if type(entry) is LogEntry:
                hop = self._hops.get((entry.source.wwn, entry.target.wwn), _UNKNOWN)
                if hop is _UNKNOWN:
                    hop = self.next_hop(entry)
                if hop is not None:
                    self.relayed += 1
                    self.net.send(self.name, hop, message, LOG_ENTRY_HEADER_BYTES + entry.rio.size,
                                  RELAY_ARROWS.get(entry.rio.kind))
                    return
        out: dict[str, list[LogEntry]] = {}
        for entry in message:
            if not isinstance(entry, LogEntry):
                self.malformed += 1
                continue
            hop = self.next_hop(entry)
            if hop is None:
                self.unroutable += 1
                self.emit("no-route", None, source=str(entry.source), target=str(entry.target), seq=entry.seq)
                continue
            out.setdefault(hop, []).append(entry)
        if self.spec.batch_wait > 0:
            for hop, entries in out.items():
                self._batch.setdefault(hop, []).extend(entries)
            if self._batch_timer is None and self._batch:
                self._batch_timer = self.net.kernel.timer(self.spec.batch_wait, self._flush)
            return
        for hop, entries in out.items():
            self._forward(hop, entries)

    def _forward(self, hop: str, entries: list[LogEntry]) -> None:
        """Send entries on, as few frames as whole entries fit in: a frame lost loses only
        the entries in it (the source edge resends each of them, 908), never a batch."""
        self.relayed += len(entries)
        arrow = RELAY_ARROWS.get(entries[0].kind)
        mtu = self.net.channels[(self.name, hop)].mtu
        frame: list[LogEntry] = []
        size = 0
        for entry in entries:
            if frame and size + entry.size > mtu:
                self.send(hop, tuple(frame), size, arrow)
                frame, size = [], 0
            frame.append(entry)
            size += entry.size
        self.send(hop, tuple(frame), size, arrow)

    def _flush(self) -> None:
        """420: forward everything accumulated since the first receipt, one batch per next hop."""
        self._batch_timer = None
        batch, self._batch = self._batch, {}
        for hop, entries in batch.items():
            self.batches += 1
            self.emit("batch-sent", None, to=hop, entries=len(entries))
            self._forward(hop, entries)

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
