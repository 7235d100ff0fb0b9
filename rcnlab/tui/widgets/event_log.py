"""The event log: the journal's recent events with the patent's step tags
(``fig19:1902``), filterable by device and figure (e.g. ``E104 fig19``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from rcnlab.emu.journal import TraceEvent
from rcnlab.tui.widgets.vlist import VirtualList
from rcnlab.world import World

STEP_STYLE = Style(color="bright_cyan")
BAD = {"frame-dropped", "remote-copy-failed", "access-denied", "rio-refused", "expectation-failed",
       "step-refused", "write-failed", "link-failed", "device-crashed"}


def parse_filter(text: str, devices: set[str]) -> tuple[set[str], set[str], list[str]]:
    """Tokens: device names, figures ("fig19" or "19"), anything else matches event names."""
    devs, figs, words = set(), set(), []
    lowered = {d.lower(): d for d in devices}
    for token in text.split():
        tl = token.lower()
        if tl in lowered:
            devs.add(lowered[tl])
        elif tl.startswith("fig") and tl[3:].isdigit():
            figs.add(f"fig{int(tl[3:])}:")
        elif tl.isdigit():
            figs.add(f"fig{int(tl)}:")
        else:
            words.append(tl)
    return devs, figs, words


def matches(ev: TraceEvent, devs: set[str], figs: set[str], words: list[str]) -> bool:
    if devs and ev.device not in devs and ev.fields.get("to") not in devs:
        return False
    if figs and not (ev.step and any(ev.step.startswith(f) for f in figs)):
        return False
    return all(w in ev.event for w in words)


class EventRows(VirtualList):
    def format_row(self, ev: TraceEvent) -> list[Segment]:
        fields = " ".join(f"{k}={v}" for k, v in ev.fields.items() if v is not None)
        style = Style(color="red") if ev.event in BAD else None
        return [
            Segment(f"{ev.t:12.6f} ", Style(color="grey62")),
            Segment(f"{ev.device:<6} ", Style(bold=True)),
            Segment(f"{(ev.step or ''):<11} ", STEP_STYLE),
            Segment(f"{ev.event:<20} ", style),
            Segment(fields, Style(color="grey78")),
        ]


class FilterInput(Input):
    """The filter: Enter or escape hands the keys back to the lab (the filter stays)."""

    BINDINGS = [Binding("escape", "leave", "leave the filter", show=False)]

    def action_leave(self) -> None:
        self.screen.set_focus(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_leave()


class EventLog(Vertical):
    """The journal's recent events; ``notable`` keeps failures and state changes apart
    (the ``!`` filter shows them, however far the log has scrolled past them)."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    EventLog > Input { height: 3; }
    EventLog > #event-empty { height: auto; color: $warning; padding: 0 1; display: none; }
    EventLog.-empty > #event-empty { display: block; }
    """

    def __init__(self, net: World, notable: Iterable[TraceEvent] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.net = net
        self.notable = notable
        self.filter = ""
        self.shown = 0

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder="filter: device, figure, event (E104 fig19 failed); ! failures and "
                          "state changes only (Enter)", id="event-filter")
        yield Label("", id="event-empty")
        rows = EventRows(id="event-rows")
        rows.row_width = 240
        yield rows

    @on(Input.Changed, "#event-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = event.value
        self.update_view()

    def update_view(self) -> None:
        text = self.filter.strip()
        pinned = text.startswith("!")
        source = self.notable if pinned else self.net.journal.recent
        text = text.removeprefix("!")
        if text.strip():
            devs, figs, words = parse_filter(text, set(self.net.devices))
            rows = [ev for ev in source if matches(ev, devs, figs, words)]
        else:
            rows = list(source)
        self.shown = len(rows)
        empty = not rows and bool(self.filter.strip())
        self.set_class(empty, "-empty")
        if empty:
            where = "failure or state change" if pinned else f"of the last {len(self.net.journal.recent):,} events"
            self.query_one("#event-empty", Label).update(
                Text(f"nothing matches {self.filter.strip()!r} ({'no' if pinned else 'none'} {where})"))
        self.query_one(EventRows).set_rows(rows)
