"""The sequence chart: a Fig. 16-style swimlane of recent messages between host,
source storage, source edge, cores, target edge and target storage, read from the
journal's "sent", "frame-dropped" and "resent" events. Lost frames show ``✗`` (red),
resends ``↻`` (yellow). It can be frozen (``z``) and scrolled."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from rcnlab.tui.widgets.vlist import VirtualList
from rcnlab.world import World

LANE_W = 14
TIME_W = 11
KINDS = ("sent", "frame-dropped", "resent")
STYLES = {
    "sent": Style(color="bright_white"),
    "frame-dropped": Style(color="red", bold=True),
    "resent": Style(color="yellow", bold=True),
}


def lanes_of(net: World) -> list[str]:
    """Host, source storage, then the first route's devices (edge, cores, edge), target storage, host."""
    routes = list(net.management.routes)
    if not routes:
        return [d.name for d in (*net.hosts, *net.storages, *net.edges, *net.cores)]
    route = routes[0]
    by_wwn = {s.wwn: s for s in net.storages}
    src, dst = by_wwn.get(route.source_wwn), by_wwn.get(route.target_wwn)
    lanes: list[str] = []
    if src is not None:
        lanes += [h.name for h in net.hosts if h.storage == src.name][:1] + [src.name]
    lanes += list(route.devices)
    if dst is not None:
        lanes += [dst.name] + [h.name for h in net.hosts if h.storage == dst.name][:1]
    seen: list[str] = []
    for name in lanes:
        if name not in seen:
            seen.append(name)
    return seen


class SequenceRows(VirtualList):
    def __init__(self, lanes: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lanes = lanes
        self.col = {name: TIME_W + i * LANE_W + LANE_W // 2 for i, name in enumerate(lanes)}
        self.row_width = TIME_W + LANE_W * len(lanes) + 24

    def format_row(self, ev: Any) -> list[Segment]:
        width = self.row_width
        chars = [" "] * width
        for c in self.col.values():
            chars[c] = "│"
        t = f"{ev.t * 1000:>9.3f}ms"[:TIME_W - 1]
        chars[:len(t)] = t
        style = STYLES.get(ev.event, Style())
        a = self.col.get(ev.device)
        b = self.col.get(ev.fields.get("to")) if ev.event != "resent" else None
        what = str(ev.fields.get("what") or ev.fields.get("kind") or "")
        if ev.event == "resent":
            label = f"↻ resent {ev.fields.get('kind', '')}#{ev.fields.get('order_id')}.{ev.fields.get('seq')}"
            x = (a or TIME_W) + 1
            chars[x:x + len(label)] = label
        elif a is not None and b is not None:
            lo, hi = sorted((a, b))
            for x in range(lo + 1, hi):
                chars[x] = "─"
            if ev.event == "frame-dropped":
                chars[b - 1 if b > a else b + 1] = "✗"
                what = f"{what} ({ev.fields.get('reason', 'lost')})"
            else:
                chars[b - 1 if b > a else b + 1] = "▶" if b > a else "◀"
            step = ev.step or ""
            label = f" {what} {step} ".replace("  ", " ")
            if len(label) > hi - lo - 3:
                label = label[: max(0, hi - lo - 3)]
            start = lo + 1 + max(0, (hi - lo - 1 - len(label)) // 2)
            chars[start:start + len(label)] = label
        line = "".join(chars)[:width]
        return [Segment(line[:TIME_W], Style(color="grey62")), Segment(line[TIME_W:], style)]


class SequenceChart(Vertical):
    DEFAULT_CSS = """
    SequenceChart { height: 1fr; }
    SequenceChart > #seq-header { height: 1; text-style: bold; background: $boost; }
    """

    def __init__(self, net: World, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.net = net
        self.lanes = lanes_of(net)
        self.frozen = False

    def compose(self) -> ComposeResult:
        header = " " * TIME_W + "".join(name.center(LANE_W) for name in self.lanes)
        yield Static(header, id="seq-header")
        yield SequenceRows(self.lanes, id="seq-rows")

    def set_frozen(self, frozen: bool) -> None:
        self.frozen = frozen
        rows = self.query_one(SequenceRows)
        rows.follow = not frozen
        self.border_subtitle = "FROZEN (z to follow)" if frozen else ""

    def update_view(self) -> None:
        if self.frozen:
            return
        lanes = set(self.lanes)
        rows = [ev for ev in self.net.journal.recent
                if ev.event in KINDS and ev.device in lanes
                and (ev.event == "resent" or ev.fields.get("to") in lanes)]
        self.query_one(SequenceRows).set_rows(rows)
