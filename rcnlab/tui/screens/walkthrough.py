"""The walkthrough picker: every file in topologies/walkthroughs with its title; Enter
(or a click) opens one, escape cancels. Dismisses with the file's path or None."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from rcnlab.tui.screens.modal import Modal
from rcnlab.tui.walk import Entry


class WalkthroughPicker(Modal[Path]):
    DEFAULT_CSS = """
    WalkthroughPicker { align: center middle; }
    WalkthroughPicker > Vertical { width: 96; max-width: 95%; height: auto; max-height: 90%;
                                   border: thick $accent; background: $surface; padding: 1 2; }
    WalkthroughPicker OptionList { height: auto; max-height: 20; }
    WalkthroughPicker Label { width: 1fr; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, entries: list[Entry], current: str | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for e in self.entries:
            label = Text(f"{e.name:<16}", style="bold")
            if e.problem:
                label.append(e.problem, style="red")
            else:
                label.append(f"{e.title}  ({e.steps} steps)")
            options.append(Option(label, id=e.name, disabled=bool(e.problem)))
        with Vertical():
            yield Label("[b]Walkthroughs[/b] (topologies/walkthroughs): Enter opens one, escape cancels. "
                        "The lab switches to its topology and seed; L leaves.")
            yield OptionList(*options, id="walkthroughs")

    def on_mount(self) -> None:
        names = [e.name for e in self.entries]
        opts = self.query_one(OptionList)
        if self.current in names:
            opts.highlighted = names.index(self.current)
        elif names:
            opts.highlighted = 0
        opts.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        entry = next((e for e in self.entries if e.name == event.option.id), None)
        if entry is not None and not entry.problem:
            self.close(entry.path)

    def action_cancel(self) -> None:
        self.close(None)
