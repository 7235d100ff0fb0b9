"""The one list of the lab's actions. It feeds the key bindings, the key bar at the
bottom of the screen, the command palette (ctrl+p) and the help screen.

The operator's commands come from their classes (rcnlab.ops.commands: each with a
``key`` is offered, as the App's ``action_<kind>``, ``-`` read as ``_``); the screen
adds its own actions (time, view, walkthrough, the app, and the workload's rate)."""

from __future__ import annotations

import attrs
from textual.binding import Binding

from rcnlab.ops.commands import COMMANDS, Command


@attrs.frozen(kw_only=True)
class LabAction:
    id: str  # the App's action_<id>
    key: str  # Textual key name(s), comma separated
    display: str  # how the key is shown
    label: str  # short, for the key bar
    title: str  # for the command palette
    help: str
    group: str  # pair | workload | fault | time | view | walkthrough | app


def _a(id: str, key: str, display: str, label: str, title: str, help: str, group: str) -> LabAction:
    return LabAction(id=id, key=key, display=display, label=label, title=title, help=help, group=group)


def action_id(command: type[Command]) -> str:
    """The App's action (``action_<id>``) that gives ``command``."""
    return command.kind.replace("-", "_")


#: The operator's commands the screen offers (those with a key), by the action that gives each.
OFFERED: dict[str, type[Command]] = {action_id(cls): cls for cls in COMMANDS.values() if cls.key is not None}
#: The screen's own actions.
OWN: tuple[LabAction, ...] = (
    _a("workload_rate", "W", "W", "write rate", "Workload: set rate",
       "Change the workload's rate (restarts the workloads at the new rate)", "workload"),
    _a("app_sqlite", "A", "A", "bank app", "App: start the SQLite bank",
       "Start a SQLite bank on the source volumes (LUNs 0 and 1, 4 KiB blocks: rcnlab tui --app sqlite); "
       "its panel shows transactions, and after a failover (o) the target's integrity check and loss", "workload"),
    _a("toggle_pause", "space", "space", "pause/run", "Time: pause or resume",
       "Pause virtual time exactly, or resume where it stood", "time"),
    _a("step", "full_stop", ".", "step", "Time: single step", "Pause and run the next event time", "time"),
    _a("faster", "plus,equals_sign", "+", "faster", "Time: faster", "Speed up: x0.1 ... x100, then max", "time"),
    _a("slower", "minus", "-", "slower", "Time: slower", "Slow down", "time"),
    _a("select_next", "right_square_bracket", "]", "select", "Select the next device or link",
       "Select the next device or link on the map (the mouse works too)", "view"),
    _a("select_previous", "left_square_bracket", "[", "select", "Select the previous device or link",
       "Select the previous device or link on the map", "view"),
    _a("toggle_names", "n", "n", "names", "View: patent / operator state names",
       "Show pair states as the patent names them or as operators know them (SMPL, COPY, PAIR ...)", "view"),
    _a("next_tab", "t", "t", "tab", "View: next tab", "Log storage area / sequence chart / events", "view"),
    _a("freeze", "z", "z", "freeze chart", "View: freeze the sequence chart",
       "Freeze (and scroll) or unfreeze the sequence chart", "view"),
    _a("filter_events", "slash", "/", "filter", "View: filter events",
       "Filter the event log by device and figure, e.g. E104 fig19", "view"),
    _a("walk_open", "l", "l", "walkthrough", "Walkthrough...",
       "Pick a walkthrough of the patent's flows (topologies/walkthroughs) and play it step by step", "walkthrough"),
    _a("walk_next", "greater_than_sign", ">", "next step", "Walkthrough: next step",
       "Play the walkthrough's next step (while a step runs: finish it at once)", "walkthrough"),
    _a("walk_back", "less_than_sign", "<", "previous step", "Walkthrough: previous step",
       "Go back one step: the network as it stood after the previous step (replayed)", "walkthrough"),
    _a("walk_restart", "R", "R", "restart", "Walkthrough: restart",
       "Back to the walkthrough's beginning, before its first step", "walkthrough"),
    _a("walk_leave", "L", "L", "leave walkthrough", "Walkthrough: leave",
       "Leave walkthrough mode: back to the lab as it was before", "walkthrough"),
    _a("screenshot", "v", "v", "svg", "Save an SVG screenshot", "Save the screen as an SVG file", "app"),
    _a("export_trace", "e", "e", "export trace", "Export the trace",
       "Write the journal's recent events as JSON lines", "app"),
    _a("help", "question_mark", "?", "help", "Help", "Keys, panels and what to try", "app"),
    _a("quit", "q", "q", "quit", "Quit", "Stop the emulation and leave", "app"),

)
GROUPS = ("pair", "workload", "fault", "time", "view", "walkthrough", "app")


def _offered(id: str, cls: type[Command]) -> LabAction:
    k = cls.key
    assert k is not None
    return LabAction(id=id, key=k.key, display=k.display, label=k.label, title=k.title, help=k.help, group=k.group)


#: In group order; within a group the commands in their classes' order, then the screen's own.
ACTIONS: tuple[LabAction, ...] = tuple(sorted((*(_offered(id, cls) for id, cls in OFFERED.items()), *OWN),
                                              key=lambda a: GROUPS.index(a.group)))
BY_ID = {a.id: a for a in ACTIONS}


def bindings() -> list[Binding]:
    """Key bindings from the registry (the key bar shows them, so Textual's footer need not)."""
    return [Binding(a.key, a.id, a.label, show=False, key_display=a.display, id=a.id, tooltip=a.help)
            for a in ACTIONS]
