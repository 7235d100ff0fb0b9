"""The one registry of the lab's actions. It feeds the key bindings, the key bar at
the bottom of the screen, the command palette (ctrl+p) and the help screen."""

from __future__ import annotations

import attrs
from textual.binding import Binding


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


ACTIONS: tuple[LabAction, ...] = (
    _a("pair_create", "c", "c", "create pair", "Pair: create",
       "Create a pair (Fig. 10): choose source and target volume and sync/async", "pair"),
    _a("suspend", "s", "s", "suspend", "Pair: suspend", "Planned suspend (910) of the selected pair", "pair"),
    _a("resync", "r", "r", "resync", "Pair: resync", "Resynchronize (Fig. 12) back to Duplex", "pair"),
    _a("failover", "o", "o", "failover", "Pair: failover",
       "Failover (Fig. 13): the target host takes over the target volume", "pair"),
    _a("failback", "b", "b", "failback", "Pair: failback", "Failback to the source site after a failover", "pair"),
    _a("delete_pair", "d", "d", "delete pair", "Pair: delete", "Delete the pair (back to Simplex)", "pair"),
    _a("workload_start", "w", "w", "workload", "Workload: start",
       "Start a host workload (writes per second) on a volume", "workload"),
    _a("workload_stop", "x", "x", "stop writes", "Workload: stop", "Stop every host workload", "workload"),
    _a("workload_rate", "W", "W", "write rate", "Workload: set rate",
       "Change the workload's rate (restarts the workloads at the new rate)", "workload"),
    _a("fail", "f", "f", "cut link", "Fault: cut the selected link",
       "Cut the selected link both ways (frames in flight are lost)", "fault"),
    _a("restore", "u", "u", "restore link", "Fault: restore the selected link",
       "Bring the selected link back up", "fault"),
    _a("degrade", "g", "g", "degrade link", "Fault: degrade the selected link",
       "Set the selected link's loss and jitter", "fault"),
    _a("crash", "k", "k", "crash", "Fault: crash the selected device",
       "Crash the selected device (it loses what it holds in memory)", "fault"),
    _a("restart", "K", "K", "restart", "Fault: restart the selected device", "Restart a crashed device", "fault"),
    _a("site_failure", "F", "F", "site failure", "Fault: site failure",
       "Fail the whole site (hosts and storages) of the selected device", "fault"),
    _a("site_restore", "U", "U", "site restore", "Fault: site restore",
       "Bring the hosts and storages of the selected device's site back", "fault"),
    _a("partition", "X", "X", "partition", "Fault: partition the selected device",
       "Cut the selected device off from the network (every link with one end at it)", "fault"),
    _a("heal", "h", "h", "heal", "Fault: heal partitions", "Undo every partition", "fault"),
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
BY_ID = {a.id: a for a in ACTIONS}


def bindings() -> list[Binding]:
    """Key bindings from the registry (the key bar shows them, so Textual's footer need not)."""
    return [Binding(a.key, a.id, a.label, show=False, key_display=a.display, id=a.id, tooltip=a.help)
            for a in ACTIONS]
