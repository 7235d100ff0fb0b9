"""The topology map (Fig. 1): devices as boxes, source site / network / target site,
links drawn between them. FC/SCSI links are double lines, GbE/IP single lines. A
link's state shows by colour *and* symbol: up (plain line), down (``x`` marks, red),
one-way (an arrow in the working direction, yellow), degraded (``~``, yellow).
Frames in flight show as ``>n`` / ``<n`` on the line. A device that is down shows
``✖`` and red. Select with the mouse or ``[`` / ``]`` (arrows when the map has focus)."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from rcnlab.model.kinds import DeviceKind, LinkKind, Site
from rcnlab.model.pair_state import operator_name
from rcnlab.tui.canvas import Canvas
from rcnlab.tui.widgets.colours import theme_colour
from rcnlab.tui.widgets.titles import fitted
from rcnlab.world import World

BOX_W = 10
LINK_CHARS = {  # kind -> (horizontal, vertical)
    LinkKind.SCSI: ("═", "║"),
    LinkKind.FC: ("═", "║"),
    LinkKind.GBE: ("─", "│"),
    LinkKind.IP: ("─", "│"),
}
#: A link's state: its colour (a theme variable, and a fallback) and boldness.
STATE_STYLE = {
    "up": ("text-success", "green", False),
    "degraded": ("text-warning", "yellow", False),
    "one-way": ("text-warning", "yellow", True),
    "down": ("text-error", "red", True),
}
SITE_X = {Site.SOURCE: 4, Site.NETWORK: 50, Site.TARGET: 96}
#: The map's border title with its legend, longest first (`fitted`: the longest that fits).
TITLES = ("Topology (Fig. 1)  ═ FC  ─ GbE  x down  ~ degraded  >n in flight  ≡n log entries  »n relayed",
          "Topology (Fig. 1)  ═ FC  ─ GbE  x down  ~ degraded  >n in flight  ≡n log  »n relayed",
          "Topology  ═ FC  ─ GbE  x down  ~ degraded  >n frames  ≡n log  »n relayed",
          "Topology  ═ FC  ─ GbE  x down  ~ degraded",
          "Topology")


def default_positions(net: World) -> dict[str, tuple[float, float]]:
    """Positions on the 100 x 30 plane: the topology's ``pos`` or one derived from the site."""
    topo = net.topo
    pos: dict[str, tuple[float, float]] = {}
    counters: dict[tuple[Site, DeviceKind], int] = {}

    def place(name: str, given: Any, site: Site, kind: DeviceKind, y: float) -> None:
        if given is not None:
            pos[name] = (float(given[0]), float(given[1]))
            return
        n = counters.get((site, kind), 0)
        counters[(site, kind)] = n + 1
        x = SITE_X.get(site, 50)
        if kind is DeviceKind.EDGE:
            x = 27 if site is Site.SOURCE else 73 if site is Site.TARGET else 50
        pos[name] = (x, y + 6 * n)

    for h in topo.hosts:
        place(h.name, h.pos, h.site, DeviceKind.HOST, 8)
    for s in topo.storages:
        place(s.name, s.pos, s.site, DeviceKind.STORAGE, 20)
    for e in topo.edges:
        place(e.name, e.pos, e.site, DeviceKind.EDGE, 20)
    cores = topo.cores
    for i, c in enumerate(cores):
        if c.pos is not None:
            pos[c.name] = (float(c.pos[0]), float(c.pos[1]))
        else:
            x = 50 if len(cores) == 1 else 38 + 24 * i / (len(cores) - 1)
            pos[c.name] = (x, 20 + (6 if i % 2 else 0))
    m = topo.management
    pos[m.name] = (float(m.pos[0]), float(m.pos[1])) if m.pos is not None else (50.0, 3.0)
    return pos


class TopologyMap(Widget, can_focus=True):
    """Draws the network; posts ``TopologyMap.Selected`` when the user picks a device or link."""

    DEFAULT_CSS = """
    TopologyMap { height: 1fr; min-height: 10; border: round $primary 50%; }
    TopologyMap:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("right,down", "cycle(1)", "next", show=False),
        Binding("left,up", "cycle(-1)", "previous", show=False),
    ]

    class Selected(Message):
        """The user selected a device or a link (by name)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, net: World, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(Widget.auto_links, False)  # no links in it: Textual need not look for any in each line
        self.net = net
        self.selected: str | None = None
        self.positions = default_positions(net)
        self.titles: tuple[str, ...] = TITLES
        self.border_title = TITLES[0]
        self._hits: dict[tuple[int, int], str] = {}
        self._box_h = 3
        self._order = self._reading_order()

    def _reading_order(self) -> list[str]:
        """Devices and links left to right (then top to bottom), as ``[`` / ``]`` visit them."""
        pos = self.positions
        keyed: list[tuple[float, float, str]] = [(x, y, name) for name, (x, y) in pos.items()]
        for name, link in self.net.links.items():
            if link.a in pos and link.b in pos:
                (ax, ay), (bx, by) = pos[link.a], pos[link.b]
                keyed.append(((ax + bx) / 2 + 0.01, (ay + by) / 2, name))
        return [name for _, _, name in sorted(keyed)]

    # -- geometry -----------------------------------------------------------------------
    def _layout(self, width: int, height: int) -> dict[str, tuple[int, int]]:
        """Top-left cell of each device's box. Short maps get two-row boxes (no bottom edge)."""
        self._box_h = 3 if height >= 12 else 2
        boxes = {}
        for name, (x, y) in self.positions.items():
            col = round(x / 100 * max(0, width - BOX_W))
            row = round(y / 30 * max(0, height - self._box_h))
            boxes[name] = (col, row)
        return boxes

    # -- drawing ------------------------------------------------------------------------
    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        canvas = Canvas(width, height)
        boxes = self._layout(width, height)
        self._hits = {}
        net = self.net
        for name, link in net.links.items():
            if link.a in boxes and link.b in boxes:
                self._draw_link(canvas, boxes, link, name == self.selected)
        for name, (x, y) in boxes.items():
            dev = net.devices.get(name)
            if dev is not None:
                self._draw_box(canvas, x, y, dev, name == self.selected)
        return canvas.to_text()

    def _draw_link(self, canvas: Canvas, boxes: dict[str, tuple[int, int]], link: Any, selected: bool) -> None:
        (ax, ay), (bx, by) = boxes[link.a], boxes[link.b]
        a_c = (ax + BOX_W // 2, ay + 1)
        b_c = (bx + BOX_W // 2, by + 1)
        state = link.state()
        hch, vch = LINK_CHARS.get(link.kind, ("─", "│"))
        if state == "down":
            hch = vch = "x"
        elif state == "degraded":
            hch, vch = "~", "≀"
        role, fallback, bold = STATE_STYLE[state]
        style = Style(color=theme_colour(self, role, fallback), bold=bold)
        if selected:
            style = style + Style(reverse=True, bold=True)
        cells: list[tuple[int, int]] = []
        if a_c[1] == b_c[1]:  # same row: straight across, between the boxes
            x0, x1 = sorted((a_c[0], b_c[0]))
            y = a_c[1]
            cells = [(x, y) for x in range(x0 + BOX_W - BOX_W // 2, x1 - BOX_W // 2)]
            for x, yy in cells:
                canvas.put(x, yy, hch, style)
        else:  # vertical from the upper box, then across
            top, bottom = (a_c, b_c) if a_c[1] < b_c[1] else (b_c, a_c)
            x = top[0]
            end = bottom[1] - 1 if x == bottom[0] else bottom[1]
            for yy in range(top[1] + self._box_h - 1, end):
                canvas.put(x, yy, vch, style)
                cells.append((x, yy))
            if x != bottom[0]:
                y = bottom[1]
                if bottom[0] > x:
                    xs = range(x, bottom[0] - BOX_W // 2)
                else:
                    xs = range(x, bottom[0] + BOX_W - BOX_W // 2 - 1, -1)
                for xx in xs:
                    canvas.put(xx, y, "┘" if xx == x and bottom[0] < x else "└" if xx == x else hch, style)
                    cells.append((xx, y))
        for cell in cells:
            self._hits[cell] = link.name
        if not cells:
            return
        # the direction symbol for one-way links, frames in flight in the middle
        label = ""
        fwd, back = link.forward, link.backward
        if state == "one-way":
            label = ">" if fwd.up else "<"
            label = f"{label}only"
        else:
            parts = []
            if fwd.in_flight:
                parts.append(f">{fwd.in_flight}")
            if back.in_flight:
                parts.append(f"<{back.in_flight}")
            label = " ".join(parts)
            if state == "down":
                label = "DOWN"
        if label:
            same_row = all(c[1] == cells[0][1] for c in cells)
            mid = cells[len(cells) // 2]
            if same_row:
                label = label[: max(0, len(cells) - 2)]
                x = mid[0] - len(label) // 2
                canvas.put(x, mid[1], label, style + Style(bold=True))
            else:
                canvas.put(mid[0] + 1, mid[1], label, style + Style(bold=True))

    def _draw_box(self, canvas: Canvas, x: int, y: int, dev: Any, selected: bool) -> None:
        up = dev.up
        style = Style() if up else Style(color=theme_colour(self, "text-error", "red"), bold=True)
        border = Style(color=theme_colour(self, "text-primary" if up else "text-error", "cyan" if up else "red"))
        if selected:
            style = style + Style(reverse=True)
            border = border + Style(reverse=True, bold=True)
        name = dev.name[: BOX_W - 2]
        canvas.put(x, y, "┌" + name.center(BOX_W - 2, "─") + "┐", border)
        info = ("✔ " if up else "✖ ") + self._info(dev)
        canvas.put(x, y + 1, "│", border)
        canvas.put(x + 1, y + 1, info[: BOX_W - 2].ljust(BOX_W - 2), style)
        canvas.put(x + BOX_W - 1, y + 1, "│", border)
        if self._box_h == 3:
            canvas.put(x, y + 2, "└" + "─" * (BOX_W - 2) + "┘", border)
        for dx in range(BOX_W):
            for dy in range(self._box_h):
                self._hits[(x + dx, y + dy)] = dev.name

    def _info(self, dev: Any) -> str:
        if not dev.up:
            return "down"
        kind = dev.kind
        if kind is DeviceKind.EDGE:
            return f"≡{_count(dev.log_entries)}"
        if kind is DeviceKind.CORE:
            return f"»{_count(dev.relayed)}" if not dev.held else f"≡{_count(dev.held)}"
        if kind is DeviceKind.HOST:
            rate = dev.workload_rate
            return f"{rate:g}/s" if rate else "idle"
        if kind is DeviceKind.STORAGE:
            sources = [p for p in dev.pairs.values()]
            if not sources:
                return "SMPL"
            p = sources[0]
            return operator_name(p.state, p.party, p.takeover)
        return "mgmt"

    # -- selection ----------------------------------------------------------------------
    def select(self, name: str | None, post: bool = True) -> None:
        self.selected = name
        self.refresh()
        if post and name is not None:
            self.post_message(self.Selected(name))

    def on_resize(self, event: events.Resize) -> None:
        self.border_title = fitted(self.titles, event.size.width)

    def on_click(self, event: events.Click) -> None:
        """Select what was drawn in the clicked cell (content cells: the border is not drawn on)."""
        at = event.get_content_offset(self)
        name = self._hits.get((at.x, at.y)) if at is not None else None
        if name is not None:
            self.select(name)

    def action_cycle(self, delta: int) -> None:
        order = self._order
        if not order:
            return
        i = order.index(self.selected) if self.selected in order else -1
        self.select(order[(i + delta) % len(order)])


def _count(n: int) -> str:
    """A count in at most five characters: 950, 9500, 95k, 9.5M."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"
