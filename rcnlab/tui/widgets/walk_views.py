"""The map and the sequence chart in walkthrough mode.

``WalkTopologyMap`` is the topology map with the current step's devices and links
highlighted: heavy borders, bold and ``◆`` around a device's name; a link in reverse
video with a ``◆`` on it (shape and attribute, not colour alone).

``StepChart`` is the sequence chart showing exactly the current step's messages
(Fig. 16 style: one row per message, its time, its step tag, an arrow between the
lanes of the devices involved, in Fig. 16's order; ``✗`` lost, ``↻`` resent)."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from rcnlab.export import Message
from rcnlab.tui.canvas import Canvas
from rcnlab.tui.walk import WalkSession
from rcnlab.tui.widgets.sequence import SequenceChart
from rcnlab.tui.widgets.topology import BOX_W, TITLES, TopologyMap
from rcnlab.tui.widgets.vlist import VirtualList
from rcnlab.world import World

MARK = "◆"
LIT = Style(color="bright_yellow", bold=True)
LINE_CHARS = set("═║─│xX~≀┘└")


class WalkTopologyMap(TopologyMap):
    """The topology map with ``lit_devices`` and ``lit_links`` highlighted."""

    def __init__(self, net: World, **kwargs: Any) -> None:
        super().__init__(net, **kwargs)
        self.lit_devices: frozenset[str] = frozenset()
        self.lit_links: frozenset[str] = frozenset()
        self.titles = (*(t.replace("  ═ FC", f"  {MARK} in this step  ═ FC", 1) for t in TITLES[:-1]),
                       f"Topology  {MARK} in this step", "Topology")
        self.border_title = self.titles[0]

    def highlight(self, devices: set[str], links: set[str]) -> None:
        devices_, links_ = frozenset(devices), frozenset(links)
        if (devices_, links_) != (self.lit_devices, self.lit_links):
            self.lit_devices, self.lit_links = devices_, links_
            self.refresh()

    def _draw_box(self, canvas: Canvas, x: int, y: int, dev: Any, selected: bool) -> None:
        super()._draw_box(canvas, x, y, dev, selected)
        if dev.name not in self.lit_devices:
            return
        style = LIT + Style(reverse=True) if selected else LIT
        name = f"{MARK}{dev.name[: BOX_W - 4]}{MARK}"
        canvas.put(x, y, "┏" + name.center(BOX_W - 2, "━") + "┓", style)
        canvas.put(x, y + 1, "┃", style)
        canvas.put(x + BOX_W - 1, y + 1, "┃", style)
        if self._box_h == 3:
            canvas.put(x, y + 2, "┗" + "━" * (BOX_W - 2) + "┛", style)

    def _draw_link(self, canvas: Canvas, boxes: dict[str, tuple[int, int]], link: Any, selected: bool) -> None:
        super()._draw_link(canvas, boxes, link, selected)
        if link.name not in self.lit_links:
            return
        cells = [cell for cell, name in self._hits.items() if name == link.name]
        if not cells:
            return
        extra = Style(reverse=True, bold=True, underline=selected)
        for cx, cy in cells:
            old = canvas.styles[cy][cx] if 0 <= cy < canvas.height and 0 <= cx < canvas.width else None
            base = old if isinstance(old, Style) else Style()
            canvas.put(cx, cy, canvas.get(cx, cy), base + extra)
        mx, my = cells[len(cells) // 2]
        if canvas.get(mx, my) in LINE_CHARS:
            old = canvas.styles[my][mx]
            canvas.put(mx, my, MARK, (old if isinstance(old, Style) else Style()) + LIT)


# -- the step's sequence chart --------------------------------------------------------------
TIME_W = 12
TAG_W = 11
STYLES = {
    "sent": Style(color="bright_white"),
    "dropped": Style(color="red", bold=True),
    "resent": Style(color="yellow", bold=True),
    "resent-dropped": Style(color="red", bold=True),
}


def lane_layout(lanes: list[str], width: int) -> tuple[int, dict[str, int]]:
    """(lane width, lane -> column of its lifeline) for a chart ``width`` columns wide."""
    n = max(1, len(lanes))
    lane_w = max(8, min(16, (width - TIME_W - TAG_W) // n))
    return lane_w, {name: TIME_W + TAG_W + i * lane_w + lane_w // 2 for i, name in enumerate(lanes)}


def format_message(m: Message, lanes: list[str], width: int) -> list[Segment]:
    """One message as a row: time, step tag, lifelines and the arrow with its label."""
    lane_w, col = lane_layout(lanes, width)
    row_w = max(width, TIME_W + TAG_W + lane_w * len(lanes))
    chars = [" "] * row_w
    for c in col.values():
        chars[c] = "│"
    a, b = col.get(m.src), col.get(m.dst)
    style = m.style
    text = m.label(with_step=False)
    if style.startswith("resent"):
        text = "↻ " + text
    if a is not None and b is not None and a != b:
        lo, hi = sorted((a, b))
        line = "╌" if style.startswith("resent") else "─"
        for x in range(lo + 1, hi):
            chars[x] = line
        head = b - 1 if b > a else b + 1
        chars[head] = "✗" if m.dropped else ("▶" if b > a else "◀")
        room = hi - lo - 3
        label = f" {text} "
        if len(label) > room:
            label = label[: max(0, room - 1)] + "…" if room > 1 else ""
        start = lo + 1 + max(0, (hi - lo - 1 - len(label)) // 2)
        chars[start:start + len(label)] = label
    else:
        label = f"{m.src} → {m.dst}: {text}"
        chars[TIME_W + TAG_W:TIME_W + TAG_W + len(label)] = label
    line = "".join(chars)[:row_w]
    t = f"{m.t * 1000:>9.3f}ms".ljust(TIME_W)
    tag = (m.step or "").ljust(TAG_W)[:TAG_W]
    return [Segment(t, Style(color="grey62")), Segment(tag, Style(color="cyan")),
            Segment(line[TIME_W + TAG_W:], STYLES.get(style, Style()))]


class MessageRows(VirtualList):
    """The step's messages, one per row (only the visible rows are formatted), as wide as
    the view (no horizontal scrolling)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lanes: list[str] = []
        self.follow = False
        self.row_width = 1

    def show(self, msgs: list[Message], lanes: list[str]) -> None:
        self.lanes = lanes
        self.set_rows(msgs)
        self.scroll_to(y=0, animate=False, immediate=True)

    def format_row(self, m: Message) -> list[Segment]:
        return format_message(m, self.lanes, self.scrollable_content_region.width)


class LaneHeader(Widget):
    DEFAULT_CSS = """
    LaneHeader { height: 1; text-style: bold; background: $boost; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lanes: list[str] = []

    def set_lanes(self, lanes: list[str]) -> None:
        self.lanes = lanes
        self.refresh()

    def render(self) -> Text:
        rows = self.parent.query(MessageRows).first() if self.parent is not None else None
        width = rows.scrollable_content_region.width if rows is not None else self.size.width  # line up with them
        lane_w, col = lane_layout(self.lanes, width)
        chars = [" "] * max(width, TIME_W + TAG_W + lane_w * len(self.lanes))
        chars[:len("time")] = "time"
        chars[TIME_W:TIME_W + len("step")] = "step"
        for name, c in col.items():
            label = name[:lane_w - 1]
            start = c - len(label) // 2
            chars[start:start + len(label)] = label
        return Text("".join(chars), no_wrap=True, overflow="crop")


class StepChart(SequenceChart):
    """The sequence chart of walkthrough mode: exactly the current step's messages."""

    DEFAULT_CSS = """
    StepChart { height: 1fr; }
    StepChart > #seq-caption { height: 1; color: $text-muted; }
    """

    def __init__(self, net: World, **kwargs: Any) -> None:
        super().__init__(net, **kwargs)
        self.messages: list[Message] = []
        self.lanes = []
        self.caption = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="seq-caption")
        yield LaneHeader(id="seq-header")
        yield MessageRows(id="seq-rows")

    def set_frozen(self, frozen: bool) -> None:
        self.frozen = frozen  # the step's chart stands still anyway

    def update_view(self) -> None:
        """The live chart follows the journal; this one changes with the step (``show``)."""

    def show(self, session: WalkSession) -> None:
        msgs = session.messages()
        lanes = session.lanes(msgs)
        self.messages, self.lanes = msgs, lanes
        if session.index < 0:
            self.caption = f"{session.counter()}: no messages yet (> plays step 1)"
        elif msgs:
            running = " so far" if session.running else ""
            self.caption = f"{session.counter()} · {len(msgs)} messages{running} · ▶ sent  ✗ lost  ↻ resent"
        else:
            self.caption = f"{session.counter()} · no messages in this step"
        self.query_one("#seq-caption", Static).update(self.caption)
        self.query_one(MessageRows).show(msgs, lanes)
        self.query_one(LaneHeader).set_lanes(lanes)
