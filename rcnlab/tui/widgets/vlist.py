"""A virtual list: a ScrollView that formats only the rows on screen, so a table of
100,000 entries costs what its visible window costs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget


#: A list that does not follow its newest row changes its virtual height in these steps.
QUANTUM = 64


class VirtualList(ScrollView, can_focus=True):
    """Rows are any objects; ``format_row(row)`` turns the visible ones into Rich segments.
    With ``follow`` the view sticks to the newest (last) row."""

    DEFAULT_CSS = """
    VirtualList { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(Widget.auto_links, False)  # no links in it: Textual need not look for any in each line
        self.rows: Sequence[Any] = ()
        self.follow = True
        self.row_width = 160
        self._style: Style | None = None  # rich_style, which walks the DOM: once per style change

    def notify_style_update(self) -> None:
        self._style = None
        super().notify_style_update()

    def set_rows(self, rows: Sequence[Any]) -> None:
        at_end = self.scroll_y >= self.max_scroll_y - 1
        self.rows = rows
        # a new virtual size lays the screen out again (and the compositor then draws every
        # widget): the height grows and shrinks in steps of QUANTUM rows, not with each row
        # (rows that fit the window: the exact height, so no scrollbar shows for nothing)
        fits = len(rows) <= self.size.height
        height = len(rows) if self.follow or fits else -(-len(rows) // QUANTUM) * QUANTUM
        if self.virtual_size.height != height or self.virtual_size.width != self.row_width:
            self.virtual_size = Size(self.row_width, height)
        if self.follow and at_end:
            self.scroll_to(y=max(0, len(rows) - self.size.height), animate=False, immediate=True)
        self.refresh()

    def format_row(self, row: Any) -> list[Segment]:  # pragma: no cover - subclasses override
        return [Segment(str(row))]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if self._style is None:
            self._style = self.rich_style
        style = self._style
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, style)
        try:
            segments = self.format_row(self.rows[index])
        except Exception as exc:  # one bad row never takes the view down
            segments = [Segment(f"(row unavailable: {exc})", Style(color="red"))]
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, style).apply_style(style)
