"""The status line, the hint line and the key bar (the lab's footer)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from rcnlab.tui.actions import BY_ID, LabAction


class StatusLine(Widget):
    """One line of fields (virtual time, run state, seed, workload, RPO, invariants ...).
    Each field is whole or not there: when the terminal is too narrow for all of them,
    the spare ones go (priority SPARE and up), then fields take their short form, then
    the least important go (``show``'s priorities: 0 stays longest)."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """
    SPARE = 3

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(Widget.auto_links, False)  # no links in it: Textual need not look for any in each line
        self.fields: list[tuple[int, Text, Text | None]] = []

    def show(self, fields: list[tuple[int, str, str | None]]) -> None:
        """``fields``: (priority, markup, short markup or None) in the order they are shown."""
        new = [(p, Text.from_markup(m), None if short is None else Text.from_markup(short)) for p, m, short in fields]
        if new != self.fields:
            self.fields = new
            self.refresh()

    def fitted(self, width: int) -> Text:
        """The fields that fit ``width`` cells, two spaces apart."""
        shown = {i: text for i, (_, text, _) in enumerate(self.fields)}  # (in the order shown)
        order = sorted(shown, key=lambda i: (-self.fields[i][0], -i))  # the least important first

        def wide() -> bool:
            return len(shown) > 1 and sum(t.cell_len for t in shown.values()) + 2 * (len(shown) - 1) > width

        for i in order:  # the spare fields go
            if wide() and self.fields[i][0] >= self.SPARE:
                del shown[i]
        for i in order:  # the others take their short forms
            if wide() and i in shown and (short := self.fields[i][2]) is not None:
                shown[i] = short
        for i in order:  # then go, the least important first
            if wide() and i in shown:
                del shown[i]
        out = Text("  ").join(shown.values())
        out.no_wrap, out.overflow = True, "ellipsis"
        return out

    def render(self) -> Text:
        return self.fitted(self.content_size.width)


class HintLine(Static):
    """What to do next, in words: wrapped at words on a narrow terminal, never cut."""

    DEFAULT_CSS = """
    HintLine { height: auto; max-height: 3; color: $text-warning; padding: 0 1; text-style: bold; }
    """

    def say(self, words: str) -> None:
        """Show ``words`` (plain: ``[`` is a key, no markup); nothing to do if they are shown."""
        if words != getattr(self, "words", None):
            self.words = words
            self.update(Text(words))


class KeyBar(Widget):
    """The keys that apply now (legal pair commands, faults for what is selected,
    time control ...), each clickable. Every action of the registry shows here when it
    applies; all of them are in the command palette and on the help screen."""

    DEFAULT_CSS = """
    KeyBar { height: auto; max-height: 3; background: $panel; padding: 0 1; }
    """
    ROWS = 3
    #: Always on the bar, however narrow the terminal: the way to every other key, and out.
    KEEP = ("help", "quit")

    class Pressed(Message):
        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actions: list[LabAction] = []
        self._spans: list[tuple[int, int, int, str]] = []  # (row, x0, x1, action)

    def show(self, ids: list[str]) -> None:
        actions = [BY_ID[i] for i in ids if i in BY_ID]
        if actions != self.actions:
            self.actions = actions
            self.refresh(layout=True)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self._lines(width)) or 1

    def _lines(self, width: int) -> list[list[tuple[str, str]]]:
        """The chips in rows of ``width``; when they take more than ROWS rows, the last
        ones give way, never those of KEEP (? help lists every key)."""
        chips: list[LabAction] = []
        for a in self.actions:
            if all((a.display, a.label) != (c.display, c.label) for c in chips):
                chips.append(a)
        lines = _pack(chips, width)
        if len(lines) > self.ROWS:
            keep = [a for a in chips if a.id in self.KEEP]
            rest = [a for a in chips if a.id not in self.KEEP]
            while rest and len(lines := _pack(rest + keep, width)) > self.ROWS:
                rest.pop()
        return lines

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        self._spans = []
        for row, line in enumerate(self._lines(self.size.width)):
            if row:
                out.append("\n")
            x = 0
            for action, chip in line:
                key, _, label = chip.partition("|")
                out.append(f" {key} ", style="bold reverse")
                out.append(f"{label}  ")
                width = len(key) + len(label) + 4
                self._spans.append((row, x, x + width, action))
                x += width
        return out

    def on_click(self, event: events.Click) -> None:
        for row, x0, x1, action in self._spans:
            if event.y == row and x0 <= event.x < x1:
                self.post_message(self.Pressed(action))
                return


def _pack(chips: list[LabAction], width: int) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0
    for a in chips:
        size = len(a.display) + len(a.label) + 4
        if used + size > width and lines[-1]:
            lines.append([])
            used = 0
        lines[-1].append((a.id, f"{a.display}|{a.label}"))
        used += size
    return lines
