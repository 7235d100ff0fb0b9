"""The log storage area 413 of the selected edge (or the batch held by a core): the
management information 1701 on top, then one row per log entry 211 (kind, order
assurance ID 803, sequence number and I/O time 804, source 802, target 801, size,
age, resends). The rows are a virtual list: 100,000 entries cost only the visible ones."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from rcnlab.model.kinds import DeviceKind
from rcnlab.tui.widgets.shown import Shown
from rcnlab.tui.widgets.vlist import VirtualList
from rcnlab.world import World

HEADER = f"{'side':<6} {'kind':<9} {'order':>5} {'seq':>8} {'I/O time':>11} {'source 802':<12} " \
         f"{'target 801':<12} {'size':>5} {'age ms':>9} {'resends':>7}"
#: The devices whose log storage area (413) or held batch the log area shows.
LOGGING = (DeviceKind.EDGE, DeviceKind.CORE)
DIM = Style(color="grey62")
RESENT = Style(color="yellow", bold=True)


class LogRows(VirtualList):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = 0.0
        self.names: dict[str, str] = {}
        self.follow = False

    def format_row(self, row: Any) -> list[Segment]:
        side, entry, resends = row
        src = self._vol(entry.source)
        dst = self._vol(entry.target)
        age = (self.now - entry.io_time) * 1000
        text = (f"{side:<6} {str(entry.kind):<9} {entry.order_id:>5} {entry.seq:>8} {entry.io_time:>11.6f} "
                f"{src:<12} {dst:<12} {entry.size:>5} {age:>9.3f} {resends:>7}")
        return [Segment(text, RESENT if resends else None)]

    def _vol(self, ref: Any) -> str:
        name = self.names.get(ref.wwn)
        return f"{name}:{ref.lun}" if name else f"{ref.wwn}:{ref.lun}"


class LogArea(Vertical):
    DEFAULT_CSS = """
    LogArea { height: 1fr; }
    LogArea > #log-info { height: auto; max-height: 3; color: $text; }
    LogArea > #log-header { height: 1; text-style: bold; background: $boost; }
    """

    def __init__(self, net: World, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.net = net
        self.device: str | None = None

    def compose(self) -> ComposeResult:
        yield Shown("", id="log-info")
        yield Static(HEADER, id="log-header")
        yield LogRows(id="log-rows")

    def on_mount(self) -> None:
        names = {s.wwn: s.name for s in self.net.storages}
        for virtual, real in self.net.virtual_wwns.items():
            if real in names:
                names.setdefault(virtual, names[real] + "'")
        rows = self.query_one(LogRows)
        rows.names = names
        rows.row_width = len(HEADER) + 2

    def show_device(self, device: str | None) -> None:
        if device is not None and getattr(self.net.devices.get(device), "kind", None) in LOGGING:
            self.device = device

    def rows_of(self, device: str) -> tuple[str, list[tuple[str, Any, int]]]:
        """The management information 1701 line and the entries, source side first."""
        dev = self.net.devices[device]
        if dev.kind is DeviceKind.CORE:
            entries = [("batch", e, 0) for e in dev.batched()]
            info = (f"{dev.name} core 202: {dev.relayed} relayed, {dev.batches} batches (420), "
                    f"{len(entries)} held for the batch; unroutable {dev.unroutable}")
            return info, entries
        rows: list[tuple[str, Any, int]] = [("source", h.entry, h.resends) for h in dev.held.values()]
        for box in dev.inbound.values():
            if box.in_progress is not None:
                rows.append(("target", box.in_progress, 0))
            rows.extend(("target", e, 0) for e in box.pending.values())
        cap = dev.spec.log_capacity
        info = (f"{dev.name} log storage area 413 - management info 1701: {dev.log_entries} entries, "
                f"{dev.log_bytes:,} of {cap:,} bytes ({dev.log_bytes / cap:.2%}); "
                f"held for answer {len(dev.held)}, waiting to reflect {len(rows) - len(dev.held)}; "
                f"resent {dev.resent}, duplicates {dev.duplicates}; {_flow(dev)}{'' if dev.up else '  [DOWN]'}")
        return info, rows

    def update_view(self, now: float) -> None:
        if self.device is None:
            edges = self.net.edges
            if not edges:
                return
            self.device = edges[0].name
        info, rows = self.rows_of(self.device)
        shown = self.query_one("#log-info", Shown)
        shown.show(info, len(info) // max(1, shown.size.width))  # the lines it wraps to, about
        table = self.query_one(LogRows)
        table.now = now
        table.set_rows(rows)


def _flow(dev: Any) -> str:
    """The edge's log policy and what it holds back now (flow control)."""
    pace = dev.pace
    held = [what for what, on in (("hosts throttled", pace.hosts), ("copies wait", pace.copies)) if on]
    return (f"policy {dev.spec.log_policy} above {dev.spec.log_high_water:.0%}: "
            f"{', '.join(held) or 'flowing'}")
