"""Text that changes on every redraw (counts, a table of counters, an entry count) but
seldom changes height. ``Static.update`` lays the whole screen out again, and the
compositor then draws every widget anew; ``Shown.show`` redraws this widget alone unless
its ``shape`` (whatever its height follows) changed."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from textual.widget import Widget


class Shown(Widget):
    DEFAULT_CSS = """
    Shown { height: auto; }
    """

    def __init__(self, content: RenderableType = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(Widget.auto_links, False)  # no links in it: Textual need not look for any in each line
        self.content = content
        self.shape: object = None

    def show(self, content: RenderableType, shape: object = None) -> None:
        """Show ``content``; lay the screen out again only if ``shape`` differs from the last."""
        relayout = shape != self.shape
        self.content, self.shape = content, shape
        self.refresh(layout=relayout)

    def render(self) -> RenderableType:
        return self.content
