"""Textual's command palette, closing once."""

from __future__ import annotations

from typing import Any

from textual.await_complete import AwaitComplete
from textual.command import CommandPalette


class LabPalette(CommandPalette):
    """The command palette. A second Enter that reaches it after the first has taken it off
    the screen (a burst of keys) would dismiss it again and pop the lab's own screen
    (ScreenStackError, TUI storm seeds 74 and 95): once closed, it stays closed."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if not self.is_attached or self.app.screen is not self:
            return AwaitComplete()  # closed already: nothing to do
        return super().dismiss(result)
