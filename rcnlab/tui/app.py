"""The lab's Textual app: the screen of issue 4 over a running emulation.

Layout (wide, >= 130 columns): status line, hint line; the topology map beside the
pair panel; below, tabs (log storage area 413 / sequence chart / event log) beside
the order assurance counters; the key bar at the bottom. Narrow terminals get the
map on top and everything else in tabs.

Walkthrough mode (``l``, or ``RcnLabApp(..., walkthrough=wt)``) swaps in a
walkthrough player's network (rcnlab.tui.walk; the lab's own stands still meanwhile)
and shows the narration panel where the counters were (narrow: under the map), the
map with the step's devices and links highlighted, and the step's messages in the
sequence tab. Operator commands are refused there (they would leave the script);
``L`` swaps the lab back exactly as it was.

The emulation runs as a trio guest in this app's asyncio loop (rcnlab.tui.bridge);
the panels read the network on a throttled timer (12 Hz) and skip work while
nothing changed. Commands go through the Lab facade inside trio; a refused one
shows its one-line reason in a notification and changes nothing.
"""

from __future__ import annotations

import asyncio
import math
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, Any

import attrs
from rich.markup import escape
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Container, Horizontal
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, TabbedContent, TabPane

from rcnlab.check.invariants import Checker
from rcnlab.emu.journal import Journal, JsonLinesSink
from rcnlab.lab import LabError
from rcnlab.model.kinds import DeviceKind, ScsiStatus, Site
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.ops.commands import (
    Command,
    ConfigureCustomer,
    Contract,
    Crash,
    CreatePair,
    DeletePair,
    Failback,
    FailLink,
    Failover,
    Heal,
    Partition,
    Restart,
    RestoreLink,
    Resync,
    SetLink,
    SiteFailure,
    SiteRestore,
    StopWorkload,
    Suspend,
    Workload,
)
from rcnlab.ops.registry import do
from rcnlab.run import Session
from rcnlab.scenario.steps import Scenario
from rcnlab.topo.schema import Topology
from rcnlab.tui import state
from rcnlab.tui.actions import ACTIONS, BY_ID, OFFERED, bindings
from rcnlab.tui.bridge import Bridge, new_clock, speed_label
from rcnlab.tui.screens.dialogs import DegradeDialog, HelpScreen, PairCreateDialog, WorkloadDialog
from rcnlab.tui.screens.modal import Modal
from rcnlab.tui.screens.palette import LabPalette
from rcnlab.tui.screens.walkthrough import WalkthroughPicker
from rcnlab.tui.stage import Stage, watch
from rcnlab.tui.walk import WALK_SPEED, WalkSession, catalogue, new_stage
from rcnlab.tui.widgets.charts import Charts
from rcnlab.tui.widgets.chrome import HintLine, KeyBar, StatusLine
from rcnlab.tui.widgets.colours import theme_colour
from rcnlab.tui.widgets.counters import Counters
from rcnlab.tui.widgets.event_log import EventLog
from rcnlab.tui.widgets.log_area import LOGGING, LogArea
from rcnlab.tui.widgets.narration import NarrationPanel
from rcnlab.tui.widgets.pair_panel import PairPanel
from rcnlab.tui.widgets.sequence import SequenceChart
from rcnlab.tui.widgets.topology import TopologyMap
from rcnlab.tui.widgets.walk_views import StepChart, WalkTopologyMap
from rcnlab.walkthrough.model import Walkthrough, WalkthroughError, load_walkthrough
from rcnlab.world import PairView

REFRESH_HZ = 12
#: Wall seconds between two looks at the last transaction on the bank app's target (an
#: export of its volumes and a sqlite3 open).
LOOK_EVERY = 1.0
MAX_SPEED_HZ = 2
#: Wall seconds the emulation stands back at most after a resize (it goes on as soon as the
#: screen is drawn at its new size).
RESIZE_QUIET = 2.0
NARROW = 130  # columns below which the pair panel and counters move into tabs
SHORT = 36  # rows below which the map is drawn smaller (two-row boxes)
REFUSED = (LabError, IllegalCommand)
#: The lab's workloads write to the first WRITE_SPAN blocks of a volume (the preloaded
#: ones): over a long run every block has been written and memory stays flat (the volume,
#: the checker's history and the bitmaps hold one entry per block written).
WRITE_SPAN = 40_000
#: Textual's own palette commands that the lab's replace (its quit stops the emulation
#: first; its screenshot names the file after the topology, seed and time).
SHADOWED = frozenset({"Quit", "Screenshot"})
#: Where unexpected errors are logged (their tracebacks), in the output folder.
ERROR_LOG = "rcnlab-errors.log"
#: The action that gives each command the screen offers, by the command's name (as legal_commands gives it).
COMMAND_ACTIONS = {cls.kind: id for id, cls in OFFERED.items()}
#: Actions that would take a walkthrough's network off its script: refused in walkthrough mode.
OFF_SCRIPT = frozenset(a.id for a in ACTIONS if a.group in ("pair", "workload", "fault")) | {"step"}


def invariant_state(checker: Checker) -> tuple[str, bool]:
    """("ok" | "BROKEN (n): <first violation>", broken)."""
    if checker.ok:
        return "ok", False
    return f"BROKEN ({sum(checker.counts.values())}): {next(iter(checker.first.values()), '')}", True


class RcnLabApp(App[None]):
    """The lab. ``RcnLabApp(topo, scenario=..., seed=...).run()``."""

    CSS_PATH = "rcnlab.tcss"
    TITLE = "rcnlab"
    BINDINGS = bindings()
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, topo: Topology, scenario: Scenario | None = None, seed: int = 0, *,
                 speed: float = 1.0, paused: bool = False, keep: int = 5000, out_dir: str | Path = ".",
                 preload: int = 0, walkthrough: Walkthrough | None = None, walk_seed: int | None = None,
                 bank: bool = False, trace: IO[str] | None = None) -> None:
        super().__init__()
        journal = Journal(keep=keep)
        if trace is not None:  # the lab's whole trace, as ``rcnlab run --trace`` writes it, line by line
            journal.subscribe(JsonLinesSink(trace))
        session = Session.open(topo, scenario, seed, clock=new_clock(), journal=journal)
        self.preloaded = state.preload(session.world, preload)
        self._use(watch(session))
        self.bridge = Bridge(self.net, self.runner, speed=speed, paused=paused)
        self.walk: WalkSession | None = None
        self._lab: LabView | None = None  # the lab, kept while in walkthrough mode
        self._first_walk = (walkthrough, walk_seed) if walkthrough is not None else None
        self.out_dir = Path(out_dir)
        self.selected: str | None = None
        self.operator_names = False
        self.frozen = False
        self.narrow: bool | None = None
        self.last_rate = 100.0
        self.workload_volumes: list[str] = []
        self._generation: tuple[Any, ...] = ()
        self._answers_seen = 0
        self._checked_at = 0.0
        self._checked_ran: tuple[int, int] = (0, -1)
        self._drawn_at = 0.0
        #: For tests to wait on: how many times the panels were brought up to date with the
        #: emulation, and how many actions (keys, key bar, palette) have run to their end.
        self.refreshes = 0
        self.actions_run = 0
        self.errors = 0  # unexpected errors survived (each notified and logged)
        self.ticks = 0  # calls of refresh_views (the timer's and forced ones)
        #: The SQLite bank app (rcnlab.apps.live.LiveApp) once started (A; ``bank``: at once).
        self.bank: Any = None
        self._start_bank = bank
        self._looked_at = 0.0

    def _use(self, stage: Stage) -> None:
        """Show and command ``stage``'s network (the bridge is swapped separately)."""
        self.stage = stage
        session = stage.session
        self.net, self.lab, self.runner = session.world, session.lab, session.runner
        self.topo, self.seed = self.net.topo, self.net.seed
        self.journal, self.clock = self.net.journal, self.net.kernel.clock
        self.checker, self.suspends = stage.checker, stage.suspends

    # -- building the screen --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield HintLine("", id="hint")
        yield Container(id="main")
        yield KeyBar(id="keys")

    def _main_widgets(self, narrow: bool) -> list[Any]:
        net, lab = self.net, self.lab
        walking = self.walk is not None
        topo = (WalkTopologyMap if walking else TopologyMap)(net, id="map")
        topo.selected = self.selected
        pair = PairPanel(lab, id="pair")
        pair.operator_names = self.operator_names
        pair.compact = narrow
        if walking:
            pair.no_pair = "A step of the walkthrough creates it."
        log = LogArea(net, id="log")
        log.device = self.selected if state.selected_kind(net, self.selected) in LOGGING else None
        seq = (StepChart if walking else SequenceChart)(net, id="sequence")
        events = EventLog(net, self.stage.notable, id="events")
        counters = Counters(net, id="counters")
        charts = TabPane("Charts", Charts(self.stage.history, id="charts"), id="tab-charts")
        if walking:  # the narration where the counters were (narrow: under the map); the step's chart first
            story = NarrationPanel(id="story")
            panes = [TabPane("This step's messages", seq, id="tab-sequence"),
                     TabPane("Log storage 413", log, id="tab-log"),
                     TabPane("Counters 412", counters, id="tab-counters"), charts,
                     TabPane("Events", events, id="tab-events")]
            if narrow:
                return [topo, story, _tabs([*panes[:1], TabPane("Pair", pair, id="tab-pair"), *panes[1:]])]
            return [Horizontal(topo, pair, id="top"), Horizontal(_tabs(panes), story, id="bottom")]
        if self.bank is not None:  # the application panel, loaded with the app (apsw)
            from rcnlab.tui.widgets.app_panel import AppPanel
        if narrow:
            panes = [TabPane("Pair", pair, id="tab-pair"), TabPane("Log storage 413", log, id="tab-log"),
                     TabPane("Counters 412", counters, id="tab-counters"),
                     TabPane("Sequence (Fig. 16)", seq, id="tab-sequence"), charts,
                     TabPane("Events", events, id="tab-events")]
            return [topo, *([AppPanel(id="app")] if self.bank is not None else []), _tabs(panes)]
        panes = [TabPane("Log storage 413", log, id="tab-log"), TabPane("Sequence (Fig. 16)", seq, id="tab-sequence"),
                 charts, TabPane("Events", events, id="tab-events")]
        return [Horizontal(topo, pair, id="top"),
                Horizontal(_tabs(panes), counters, *([AppPanel(id="app")] if self.bank is not None else []),
                           id="bottom")]

    async def _build_main(self, narrow: bool) -> None:
        main = self.query_one("#main", Container)
        await main.remove_children()
        self.narrow = narrow
        main.set_class(narrow, "-narrow")
        main.set_class(self.size.height < SHORT, "-short")
        await main.mount_all(self._main_widgets(narrow))
        self.query_one(SequenceChart).set_frozen(self.frozen)
        self._generation = ()

    async def _relayout(self, narrow: bool) -> None:
        """Build the panels again (another layout, the app panel in or out), the tab that was
        on still on if the user chose it (not the layout's first) and the new layout has it."""
        panes = [pane.id for pane in self.query(TabPane)]
        tabs = self.query(TabbedContent)
        tab = tabs.first().active if tabs and panes else None
        tab = tab if panes and tab != panes[0] else None
        await self._build_main(narrow)
        if tab and tab in [pane.id for pane in self.query(TabPane)]:
            self.show_tab(tab)

    async def on_mount(self) -> None:
        await self._build_main(self.size.width < NARROW)
        self.set_class(self.narrow is True, "-narrow")
        self.bridge.start(asyncio.get_running_loop())
        self.set_interval(1 / REFRESH_HZ, self.refresh_views)
        self.refresh_views(force=True)
        if self._first_walk is not None:
            await self.bridge.started
            await self.open_walkthrough(*self._first_walk)
        elif self._start_bank:
            await self.bridge.started
            await self.action_app_sqlite()

    async def on_resize(self, event: events.Resize) -> None:
        """Lay the screen out for the new size (the event's: the app's own may still be the old).
        Meanwhile the emulation stands back, at any speed (its clock standing): the screen,
        laid out anew, is drawn in a few turns of the loop instead of one turn in two."""
        narrow = event.size.width < NARROW
        self.set_class(narrow, "-narrow")
        if self.narrow is None:  # not built yet, or being rebuilt (for the size it will then have)
            return
        self.bridge.hush(RESIZE_QUIET, paced=True)
        if narrow != self.narrow:
            await self._relayout(narrow)
        self.query_one("#main").set_class(event.size.height < SHORT, "-short")
        self.call_after_refresh(self._end_hush, event.size)

    def _end_hush(self, size: Size) -> None:
        """Let the emulation go on once the screen is drawn at ``size`` (the app and then the
        screen take the new size after this app's resize handler), unless a newer resize came."""
        if self.size != size:
            return  # (that resize ends the hush)
        if self.screen.region.size != size:
            self.call_after_refresh(self._end_hush, size)
        else:
            self.screen.call_after_refresh(self.bridge.hush, 0.0)

    async def on_event(self, event: events.Event) -> None:
        """A key or a click: the emulation at max speed stands back until the screen has
        answered it (the next redraw after its action), at most QUIET wall seconds."""
        if isinstance(event, (events.Key, events.MouseDown)):
            self.bridge.hush()
            await super().on_event(event)
            self.call_after_refresh(self.bridge.hush, 0.0)
            return
        await super().on_event(event)

    async def on_unmount(self) -> None:
        await self.bridge.stop()
        if self.bank is not None:
            self.bank.stop()

    # -- the throttled redraw ------------------------------------------------------------------
    def refresh_views(self, force: bool = False) -> None:
        self.ticks += 1
        try:
            if self._refresh(force):
                self.refreshes += 1
        except Exception as exc:  # a view must never take the lab down
            self.log.error(f"refresh failed: {exc!r}")

    def _refresh(self, force: bool) -> bool:
        """Bring the panels up to date; False if there are none yet or it is not their turn."""
        if self.narrow is None:
            return False
        if not force and isinstance(self.screen, ModalScreen):
            return False  # under a dialog the lab stands dimmed: redrawing it would cost the dialog its keys
        net, bridge = self.net, self.bridge
        wall = time.perf_counter()
        if not force and math.isinf(bridge.speed) and not bridge.paused and wall - self._drawn_at < 1 / MAX_SPEED_HZ:
            return False  # at max speed the emulation gets the CPU; the screen redraws twice a second
        self._drawn_at = wall
        walk = self.walk
        # between two walkthrough steps virtual time is where the last step ended (the clock
        # may have run a hair past it; the next step starts there, as it does headless)
        now = net.kernel.now if walk is not None and not walk.running else bridge.virtual_time
        self._check_invariants()
        self._status(now)
        if self.bank is not None and walk is None:
            self._show_bank(wall)
        self.stage.history.sample(net, now, self.suspends)
        # which panels are on screen: one that a tab brought on screen (once laid out) is drawn then
        shown = tuple(w.is_on_screen for w in (self.query_one(PairPanel), self.query_one(Counters),
                                               self.query_one(LogArea), self.query_one(SequenceChart),
                                               self.query_one(EventLog), self.query_one(Charts)))
        gen = (id(net), net.kernel.events_run, self.journal.count, self.selected, self.operator_names, self.frozen,
               bridge.paused, bridge.speed, self.size, self.query_one(TabbedContent).active,
               self.query_one(EventLog).filter, walk and (walk.index, walk.running, walk.busy), shown)
        if gen == self._generation and not force:
            return True
        self._generation = gen
        self.query_one("#hint", HintLine).say(walk.hint() if walk else state.hint(net, bridge.paused, self.selected))
        if walk is not None:
            self.query_one(WalkTopologyMap).highlight(*walk.involved())
            self.query_one(NarrationPanel).show(walk)
            self.query_one(StepChart).show(walk)
        self.query_one(KeyBar).show(self.relevant_actions())
        self.query_one(TopologyMap).refresh()
        pair = self.query_one(PairPanel)
        if pair.is_on_screen or force:
            pair.update_view()
        counters = self.query_one(Counters)
        counters.sample(now)
        if counters.is_on_screen or force:
            counters.update_view(now)
        for widget in (self.query_one(LogArea), self.query_one(SequenceChart), self.query_one(EventLog)):
            if widget.is_on_screen or force:
                if isinstance(widget, LogArea):
                    widget.update_view(now)
                else:
                    widget.update_view()
        charts = self.query_one(Charts)
        if charts.is_on_screen:  # (hidden, it is drawn when it comes on screen: see ``shown``)
            charts.update_view(now, self._pair_view())
        self._report_answers()
        return True

    def _show_bank(self, wall: float) -> None:
        """The application panel, from the bank app now (between two kernel events)."""
        bank = self.bank
        if (error := bank.error) is not None:
            self.bank = None
            self.notify(error, title="bank app: stopped", severity="error")
            self.call_later(self._relayout, self.size.width < NARROW)
            return
        look = wall - self._looked_at >= LOOK_EVERY
        if look:
            self._looked_at = wall
        if (status := bank.update(look)) is not None:
            self.query_one("#app").show(status)

    def _pair_view(self) -> PairView | None:
        """The pair the pair panel shows (its view), or None."""
        source = self.current_pair()
        return next((p for p in state.pairs(self.net) if p.source == source), None)

    def _check_invariants(self, force: bool = False) -> None:
        """The state checks (nothing lost, counters, isolation ...) about once a wall second;
        the journal-following checks (write order) run live on every event."""
        wall, ran = time.perf_counter(), (id(self.net), self.net.kernel.events_run)
        if not force and (wall - self._checked_at < 1.0 or ran == self._checked_ran):
            return  # not its turn, or nothing ran since the last check (paused: no work at all)
        self._checked_at, self._checked_ran = wall, ran
        try:
            self.checker.check()
        except Exception as exc:  # a checker bug must not take the lab down
            self.log.error(f"invariant check failed: {exc!r}")

    def _status(self, now: float) -> None:
        bridge = self.bridge
        line = self.query_one("#status", StatusLine)
        red, yellow, green = (theme_colour(line, f"text-{role}", fallback)
                              for role, fallback in (("error", "red"), ("warning", "yellow"), ("success", "green")))
        if bridge.error is not None:
            run, why = f"[b {red}]STOPPED[/]", f": [{red}]{escape(repr(bridge.error))}[/]"
        else:
            run = f"[b {yellow}]PAUSED[/]" if bridge.paused else f"[b {green}]RUNNING[/]"
            why = f" [{yellow}](behind: CPU-bound)[/]" if bridge.lagging else ""
        run = f"{run} {speed_label(bridge.speed)}"
        rate = state.workload_rate(self.net)
        rpo = state.rpo(self.net, now, self.suspends)
        inv, broken = invariant_state(self.checker)
        inv_text, inv_short = f"invariants {escape(inv)}", f"inv {inv.partition(':')[0]}"
        if broken:
            inv_text, inv_short = f"[b white on red] {inv_text} [/]", f"[b white on red] {inv_short} [/]"
        fields: list[tuple[int, str, str | None]] = [
            (0, f"t=[b]{now:.6f}[/]s", None), (0, run + why, run if why else None), (4, f"seed {self.seed}", None),
            (2, f"workload {rate:g} w/s", f"{rate:g} w/s"), (1, f"RPO {rpo * 1000:.3f} ms", None),
            (0, inv_text, inv_short), (5, f"events {self.net.kernel.events_run}", None)]
        if self.selected:  # (what the fault keys act on: it stays at 80 columns)
            fields.append((1, f"selected [b]{self.selected}[/]", None))
        line.show(fields)

    def _report_answers(self) -> None:
        answers = self.lab.answers
        for host, answer in answers[self._answers_seen:]:
            if answer.status is not ScsiStatus.OK:
                self.notify(f"{host}: {answer.detail or answer.status}", title="command answered with an error",
                            severity="warning")
        self._answers_seen = len(answers)

    def relevant_actions(self) -> list[str]:
        """The actions the key bar offers now."""
        if self.walk is not None:
            return self._walk_actions(self.walk)
        ids: list[str] = []
        pair = self.current_pair()
        if pair is None:
            ids.append("pair_create")
            ids.append("walk_open")  # a fresh lab: a guided tour is a good start (later: ? and ctrl+p)
        else:
            try:
                legal = self.lab.legal_commands(pair)
            except Exception:
                legal = []
            ids += [COMMAND_ACTIONS[c] for c in legal if c in COMMAND_ACTIONS and c != "pair-create"]
            if self._free_volumes():
                ids.append("pair_create")
        if state.workload_rate(self.net) > 0:
            ids += ["stop_workload", "workload_rate"]
        else:
            ids.append("workload")
        kind = state.selected_kind(self.net, self.selected)
        if kind == "link":
            link = self.net.links[self.selected]
            st = link.state()
            ids += ["fail"] if st != "down" else []
            ids += ["restore"] if st in ("down", "one-way") else []
            ids.append("set_link")
        elif kind is not None:
            dev = self.net.devices[self.selected]
            ids.append("crash" if dev.up else "restart")
            site = state.site_of(self.net, dev.name)
            if site in (Site.SOURCE, Site.TARGET):
                down = any(not d.up for d in (*self.net.hosts, *self.net.storages) if d.spec.site == site)
                ids.append("site_restore" if down else "site_failure")
            ids.append("partition")
        if self.lab.partitions:
            ids.append("heal")
        ids += ["toggle_pause", "step", "faster", "slower", "select_next", "toggle_names", "next_tab", "freeze",
                "filter_events", "screenshot", "export_trace", "help", "quit"]
        return ids

    def _walk_actions(self, walk: WalkSession) -> list[str]:
        ids: list[str] = []
        if not walk.busy:
            if walk.running:
                ids += ["walk_next", "toggle_pause"]
            elif not walk.player.done:
                ids.append("walk_next")
            if walk.index >= 0:
                ids += ["walk_back", "walk_restart"]
        return ids + ["walk_leave", "walk_open", "faster", "slower", "select_next", "toggle_names", "next_tab",
                      "screenshot", "export_trace", "help", "quit"]

    # -- command palette ----------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for a in ACTIONS:
            yield SystemCommand(escape(f"{a.title}  (key {a.display})"), a.help, self._palette_callback(a.id))
        yield from (c for c in super().get_system_commands(screen) if c.title not in SHADOWED)

    def _palette_callback(self, action: str) -> Callable[[], Any]:
        async def run() -> None:
            await self.run_action(action)

        return run

    @on(KeyBar.Pressed)
    async def _key_bar(self, event: KeyBar.Pressed) -> None:
        await self.run_action(event.action)

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Every key, key bar click and palette command comes here: in walkthrough mode the
        operator commands (pair, workload, faults, single steps) are refused in one line."""
        try:
            if (self.walk is not None and isinstance(action, str) and action in OFF_SCRIPT
                    and default_namespace in (None, self)):
                self.notify(f"{BY_ID[action].title} would take the network off the walkthrough's script; "
                            "L leaves walkthrough mode first (the lab comes back as it was)",
                            title="walkthrough mode: refused", severity="warning")
                return True
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as exc:  # a bug behind one key must not take the lab down
            if isinstance(exc, (KeyError, IndexError)) and (str(action).startswith("command_list(")
                                                             or isinstance(default_namespace, OptionList)):
                # Textual's option list (the palette's, a Select's drop-down) paged before it had
                # laid out its lines (a burst of keys; TUI storm seed 58): no move
                self.log.warning(f"option list: {action} ignored ({exc!r})")
                return True
            self.report_error(f"action {action}", exc)
            return True
        finally:
            self.actions_run += 1

    def ask(self, screen: Modal[Any], done: Callable[[Any], Awaitable[None]] | None = None) -> None:
        """Show a dialog (one at a time: not over another); ``done`` gets its answer, and an
        error in it is reported, not fatal."""
        if isinstance(self.screen, Modal):
            return

        async def answered(result: Any) -> None:
            if done is not None:
                try:
                    await done(result)
                except Exception as exc:
                    self.report_error(f"{type(screen).__name__}", exc)

        self.push_screen(screen, answered)

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """A notification; its words are plain text (they quote what the user typed, file
        names and error messages, where ``[`` is no markup)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- errors nobody expected -------------------------------------------------------------------
    def report_error(self, where: str, exc: BaseException) -> None:
        """An unexpected error the lab survives: shown in a notification, its traceback
        appended to the error log (ERROR_LOG in the output folder)."""
        path = self.log_error(where, exc)
        self.notify(f"{type(exc).__name__}: {exc}" + (f" (details in {path})" if path else ""),
                    title=f"unexpected error in {where}", severity="error")

    def log_error(self, where: str, exc: BaseException) -> Path | None:
        """Append ``exc``'s traceback to the error log; its path, or None if it cannot be written."""
        self.log.error(f"{where}: {exc!r}")
        self.errors += 1
        path = self.out_dir / ERROR_LOG
        text = "".join(traceback.format_exception(exc))
        try:
            with open(path, "a", encoding="utf-8") as out:
                out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {where}\n{text}")
        except OSError:
            return None
        return path

    def _handle_exception(self, error: Exception) -> None:
        """An error Textual cannot recover from (the app exits with status 1): logged first."""
        self.log_error("the screen", error)
        super()._handle_exception(error)

    # -- selection ------------------------------------------------------------------------------
    @on(TopologyMap.Selected)
    def _selected(self, event: TopologyMap.Selected) -> None:
        self.select(event.name)

    def select(self, name: str | None) -> None:
        """Select a device or link; the other panels follow it."""
        self.selected = name
        m = self.query_one(TopologyMap)
        if m.selected != name:
            m.select(name, post=False)
        kind = state.selected_kind(self.net, name)
        if kind in LOGGING:
            self.query_one(LogArea).show_device(name)
        pair = self._pair_for(name)
        if pair is not None:
            self.query_one(PairPanel).show_pair(pair)
        self.refresh_views(force=True)

    def _pair_for(self, name: str | None) -> str | None:
        if name is None:
            return None
        dev = self.net.devices.get(name)
        storages: set[str] = set()
        if dev is not None and dev.kind is DeviceKind.STORAGE:
            storages = {name}
        elif dev is not None and dev.kind is DeviceKind.EDGE:
            storages = {s.name for s in self.net.storages if s.edge == name}
        elif dev is not None and dev.kind is DeviceKind.HOST:
            storages = {dev.storage}
        for p in state.pairs(self.net):
            if p.devices[0] in storages or p.devices[3] in storages:
                return p.source
        return None

    def current_pair(self) -> str | None:
        pairs = state.pairs(self.net)
        if not pairs:
            return None
        chosen = self.query_one(PairPanel).pair if self.narrow is not None else None
        return next((p.source for p in pairs if p.source == chosen), pairs[0].source)

    def volumes(self, site: Site | None = None) -> list[str]:
        return [f"{s.name}:{v.lun}" for s in self.topo.storages for v in s.volumes if site in (None, s.site)]

    def volume_size(self, volume: str) -> int:
        """``volume``'s size in blocks (WRITE_SPAN for a name the topology does not have)."""
        name, _, lun = volume.partition(":")
        return next((v.blocks for s in self.topo.storages if s.name == name for v in s.volumes if str(v.lun) == lun),
                    WRITE_SPAN)

    def _free_volumes(self) -> list[str]:
        busy = set()
        for s in self.net.storages:
            busy.update(f"{s.name}:{lun}" for lun in s.pairs)
        return [v for v in self.volumes() if v not in busy]

    # -- running commands -------------------------------------------------------------------
    async def command(self, title: str, command: Command, done: str | None = None) -> bool:
        """Give the operator's ``command`` inside the emulation; explain a refusal; never raise."""
        return await self.answer(title, self.bridge.call(do, self.lab, command), done)

    async def answer(self, title: str, future: Any, done: str | None = None) -> bool:
        """Await a command's future from the bridge; explain a refusal; never raise."""
        try:
            await future
        except REFUSED as exc:
            self.notify(str(exc), title=f"{title}: refused", severity="warning")
            return False
        except Exception as exc:
            self.notify(f"{type(exc).__name__}: {exc}", title=f"{title}: failed", severity="error")
            return False
        if done:
            self.notify(done, title=title)
        self.refresh_views(force=True)
        return True

    def _need_pair(self, what: str) -> str | None:
        pair = self.current_pair()
        if pair is None:
            self.notify(f"{what} needs a pair; there is none. Press c to create one.", title=f"{what}: refused",
                        severity="warning")
        return pair

    def _need(self, what: str, kind: str) -> str | None:
        """The selected link ("link") or device ("device"), or a notification."""
        got = state.selected_kind(self.net, self.selected)
        if (kind == "link" and got == "link") or (kind == "device" and got not in (None, "link")):
            return self.selected
        where = "a link" if kind == "link" else "a device"
        chosen = "nothing selected" if got is None else f"{self.selected} is a {'link' if got == 'link' else 'device'}"
        self.notify(f"{what} needs {where}: select one with ] / [ or the mouse on the map.",
                    title=f"{what}: {chosen}", severity="warning")
        return None

    # -- pair actions -------------------------------------------------------------------------
    def action_command_palette(self) -> None:
        """ctrl+p: the command palette, as Textual's, but closing once (`LabPalette`)."""
        if self.use_command_palette and not LabPalette.is_open(self):
            self.push_screen(LabPalette(id="--command-palette"))

    def action_pair_create(self) -> None:
        free = self._free_volumes()
        if not free:
            self.notify("every volume is already in a pair; d deletes one", title="create pair: refused",
                        severity="warning")
            return
        sources = [v for v in free if v in self.volumes(Site.SOURCE)] or free
        source = sources[0]
        targets = [v for v in free
                   if v in self.volumes(Site.TARGET) and v.partition(":")[0] != source.partition(":")[0]]

        async def done(c: CreatePair | None) -> None:
            if c and await self.command("create pair", c, done=f"{c.source} → {c.target} ({c.mode}): "
                                                               "pair creation sent (Fig. 10)"):
                self.query_one(PairPanel).show_pair(c.source)

        self.ask(PairCreateDialog(self.volumes(), source, targets[0] if targets else None), done)

    async def action_suspend(self) -> None:
        if pair := self._need_pair("suspend"):
            await self.command("suspend", Suspend(volume=pair), done=f"suspend of {pair} sent (910)")

    async def action_resync(self) -> None:
        if pair := self._need_pair("resync"):
            await self.command("resync", Resync(volume=pair), done=f"resync of {pair} sent (Fig. 12)")

    async def action_failover(self) -> None:
        if pair := self._need_pair("failover"):
            await self.command("failover", Failover(volume=pair), done=f"failover of {pair} sent (Fig. 13)")

    async def action_failback(self) -> None:
        if pair := self._need_pair("failback"):
            await self.command("failback", Failback(volume=pair), done=f"failback of {pair} sent")

    async def action_delete_pair(self) -> None:
        if pair := self._need_pair("delete pair"):
            await self.command("delete pair", DeletePair(volume=pair), done=f"deletion of {pair} sent")

    # -- workload -------------------------------------------------------------------------------
    def action_workload(self) -> None:
        volume = self.current_pair() or next(iter(self.volumes(Site.SOURCE)), None)

        async def done(c: Workload | None) -> None:
            if c:
                await self.start_workload(c)

        self.ask(WorkloadDialog(self.volumes(), volume, self.last_rate), done)

    async def start_workload(self, c: Workload) -> bool:
        if (pair := state.fenced(self.net, c.volume)) is not None:
            self.notify(f"{c.volume} is the old source of a pair that failed over to {pair.target}: an array "
                        f"fences it, since writes there are lost at failback. Write to {pair.target}, or b fails "
                        "back first.", title="workload: refused", severity="warning")
            return False
        if c.blocks is None:  # the lab's writes go to the volume's first WRITE_SPAN blocks
            c = attrs.evolve(c, blocks=(0, min(WRITE_SPAN, self.volume_size(c.volume))))
        ok = await self.command("workload", c, done=f"{c.rate:g} writes/s on {c.volume}")
        if ok:
            self.last_rate = c.rate
            if c.volume not in self.workload_volumes:
                self.workload_volumes.append(c.volume)
        return ok

    async def action_stop_workload(self) -> None:
        if state.workload_rate(self.net) <= 0:
            self.notify("no workload is running; w starts one", title="stop workload: refused", severity="warning")
            return
        if await self.command("stop workload", StopWorkload(), done="every workload stopped"):
            self.workload_volumes = []

    def action_workload_rate(self) -> None:
        if state.workload_rate(self.net) <= 0 or not self.workload_volumes:
            self.notify("no workload is running; w starts one", title="workload rate: refused", severity="warning")
            return
        volumes = list(self.workload_volumes)

        async def done(c: Workload | None) -> None:
            if c:
                await self.command("workload rate", StopWorkload())
                self.workload_volumes = []
                for v in volumes:
                    await self.start_workload(Workload(volume=v, rate=c.rate))

        self.ask(WorkloadDialog(volumes, volumes[0], self.last_rate, title="Change the workload's rate"), done)

    async def action_app_sqlite(self) -> None:
        if self.bank is not None:
            self.notify("the bank app already runs (one per lab)", title="bank app", severity="warning")
            return
        try:
            from rcnlab.apps.live import LiveApp
            from rcnlab.apps.run import AppError, Options
        except ImportError as exc:
            self.notify(f"the bank app needs the apps extra ({exc.name} is not installed): pip install 'rcnlab[apps]'",
                        title="bank app: refused", severity="warning")
            return
        try:
            bank = await self.bridge.call(LiveApp.begin, self.stage.session, Options(seed=self.seed))
        except AppError as exc:
            self.notify(str(exc), title="bank app: refused", severity="warning")
            return
        if (error := bank.error) is not None:
            self.notify(error, title="bank app: refused", severity="warning")
            return
        self.bank = bank
        await self._relayout(self.size.width < NARROW)
        db, journal = bank.plan.pairs(bank.options.layout)
        self.notify(f"pairing {db[0]}>{db[1]} (database) and {journal[0]}>{journal[1]} (journal), then transfers "
                    "back to back; after a failover (o) the panel checks the target", title="bank app")

    # -- faults ---------------------------------------------------------------------------------
    async def action_fail(self) -> None:
        if (link := self._need("cut link", "link")) is None:
            return
        if self.net.links[link].state() == "down":
            self.notify(f"link {link} is already down; u restores it", title="cut link: refused", severity="warning")
            return
        await self.command("cut link", FailLink(link=link), done=f"link {link} cut")

    async def action_restore(self) -> None:
        if (link := self._need("restore link", "link")) is None:
            return
        if self.net.links[link].state() not in ("down", "one-way"):
            self.notify(f"link {link} is {self.net.links[link].state()}; only a down link can be restored"
                        + (" (g sets loss and jitter back)" if self.net.links[link].state() == "degraded" else ""),
                        title="restore link: refused", severity="warning")
            return
        await self.command("restore link", RestoreLink(link=link), done=f"link {link} restored")

    def action_set_link(self) -> None:
        if (link := self._need("degrade link", "link")) is None:
            return
        ch = self.net.links[link].forward

        async def done(c: SetLink | None) -> None:
            if c:
                await self.command("degrade link", c, done=f"link {link}: loss {c.loss:.1%}, "
                                                           f"jitter {c.jitter_ms:g} ms, latency {c.latency_ms:g} ms")

        self.ask(DegradeDialog(link, ch.loss, ch.jitter * 1000, ch.latency * 1000), done)

    async def action_crash(self) -> None:
        if (dev := self._need("crash", "device")) is not None:
            await self.command("crash", Crash(device=dev), done=f"{dev} crashed")

    async def action_restart(self) -> None:
        if (dev := self._need("restart", "device")) is not None:
            await self.command("restart", Restart(device=dev), done=f"{dev} restarted")

    async def action_site_failure(self) -> None:
        if (site := self._site("site failure")) is not None:
            await self.command("site failure", SiteFailure(site=site), done=f"site {site} failed")

    async def action_site_restore(self) -> None:
        if (site := self._site("site restore")) is not None:
            await self.command("site restore", SiteRestore(site=site), done=f"site {site} restored")

    def _site(self, what: str) -> Site | None:
        """The selected device's site, or a notification."""
        if (dev := self._need(what, "device")) is None:
            return None
        site = state.site_of(self.net, dev)
        if site is None:
            self.notify(f"{dev} belongs to no site", title=f"{what}: refused", severity="warning")
        return site

    async def action_contract(self) -> None:
        if (customer := self._customer("contract")) is not None:
            await self.command("contract", Contract(customer=customer), done=f"contract with {customer} concluded (901)")

    async def action_configure_customer(self) -> None:
        if (customer := self._customer("configure")) is not None:
            await self.command("configure", ConfigureCustomer(customer=customer), done=f"{customer} configured (902)")

    def _customer(self, what: str) -> str | None:
        """The selected host's or storage's customer, or a notification."""
        if (dev := self._need(what, "device")) is None:
            return None
        spec = next((s for s in (*self.net.topo.hosts, *self.net.topo.storages) if s.name == dev), None)
        if spec is None:
            self.notify(f"{dev} belongs to no customer: select a host or a storage", title=f"{what}: refused",
                        severity="warning")
            return None
        return spec.customer

    async def action_partition(self) -> None:
        if (dev := self._need("partition", "device")) is not None:
            await self.command("partition", Partition(devices=[dev]), done=f"{dev} partitioned off")

    async def action_heal(self) -> None:
        await self.command("heal", Heal(), done="partitions healed")

    # -- time ---------------------------------------------------------------------------------------
    async def action_toggle_pause(self) -> None:
        if self.walk is not None and not self.bridge.playing:
            self.notify("between two steps virtual time stands still; > plays the next step", title="walkthrough")
            return
        await self.answer("pause", self.bridge.set_paused(not self.bridge.paused))

    async def action_step(self) -> None:
        if self.net.kernel.pending == 0:
            self.notify("nothing is scheduled: there is no next event", title="step", severity="warning")
        await self.answer("step", self.bridge.step())

    async def action_faster(self) -> None:
        await self.answer("faster", self.bridge.faster())

    async def action_slower(self) -> None:
        await self.answer("slower", self.bridge.slower())

    # -- view ---------------------------------------------------------------------------------------
    def action_select_next(self) -> None:
        self.query_one(TopologyMap).action_cycle(1)

    def action_select_previous(self) -> None:
        self.query_one(TopologyMap).action_cycle(-1)

    def action_toggle_names(self) -> None:
        self.operator_names = not self.operator_names
        panel = self.query_one(PairPanel)
        panel.operator_names = self.operator_names
        panel.update_view()  # only the names change: the pair panel and the map show them
        self.query_one(TopologyMap).refresh()

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [pane.id for pane in tabs.query(TabPane)]
        if ids:
            i = ids.index(tabs.active) if tabs.active in ids else -1
            tabs.active = ids[(i + 1) % len(ids)]
        self.refresh_views(force=True)

    def show_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane

    def action_freeze(self) -> None:
        self.frozen = not self.frozen
        chart = self.query_one(SequenceChart)
        if self.frozen:
            chart.update_view()
        chart.set_frozen(self.frozen)
        self.show_tab("tab-sequence")
        if self.frozen:
            chart.query_one("#seq-rows").focus()
        self.notify("sequence chart frozen: scroll it; z follows again" if self.frozen else "sequence chart follows",
                    title="sequence chart")
        self.refresh_views(force=True)

    def action_filter_events(self) -> None:
        self.show_tab("tab-events")
        self.query_one("#event-filter").focus()

    def action_screenshot(self) -> None:
        name = f"rcnlab-{self.topo.name}-seed{self.seed}-t{self.bridge.virtual_time:.3f}.svg"
        try:
            path = self.save_screenshot(filename=name, path=str(self.out_dir))
        except OSError as exc:
            self.notify(f"cannot save the screenshot: {exc.strerror}", title="screenshot", severity="error")
            return
        self.notify(f"saved {path}", title="screenshot")

    def action_export_trace(self) -> None:
        events = list(self.journal.recent)
        path = self.out_dir / f"rcnlab-trace-{self.topo.name}-seed{self.seed}-t{self.bridge.virtual_time:.3f}.jsonl"
        try:
            with open(path, "w", encoding="utf-8") as out:
                for ev in events:
                    out.write(ev.to_json())
                    out.write("\n")
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror}", title="export trace", severity="error")
            return
        total = self.journal.count
        self.notify(f"{len(events)} events written to {path}"
                    + (f" (the last {len(events)} of {total})" if total > len(events) else ""), title="export trace")

    def action_help(self) -> None:
        self.ask(HelpScreen())

    async def action_quit(self) -> None:
        await self.bridge.stop()
        self.exit()

    # -- walkthrough mode -------------------------------------------------------------------------
    def action_walk_open(self) -> None:
        try:
            entries = catalogue()
        except Exception as exc:  # an unreadable folder: say so, stay where we are
            self.notify(f"{type(exc).__name__}: {exc}", title="walkthroughs", severity="error")
            return

        async def chosen(path: Path | None) -> None:
            if path is not None:
                await self.open_walkthrough(path)

        self.ask(WalkthroughPicker(entries, self.walk.wt.name if self.walk else None), chosen)

    async def open_walkthrough(self, source: Walkthrough | str | Path, seed: int | None = None) -> bool:
        """Walkthrough mode on ``source`` (a walkthrough, or its file), before its first step:
        its topology, its seed (or ``seed``), its own network. The lab is kept as it is."""
        try:
            wt = source if isinstance(source, Walkthrough) else load_walkthrough(source)
            player, stage = await asyncio.to_thread(new_stage, wt, -1, seed)
        except WalkthroughError as exc:
            self.notify(str(exc), title="walkthrough: cannot load", severity="error")
            return False
        except Exception as exc:
            self.notify(f"{type(exc).__name__}: {exc}", title="walkthrough: cannot start", severity="error")
            return False
        if self._lab is None:
            tabs = self.query_one(TabbedContent)
            self._lab = LabView(stage=self.stage, selected=self.selected, speed=self.bridge.speed,
                                paused=self.bridge.paused, frozen=self.frozen, tab=tabs.active)
        self.frozen = False
        await self._switch(stage, WalkSession(wt=wt, player=player, seed=seed), WALK_SPEED, True)
        self.select(None)
        return True

    async def _switch(self, stage: Stage, walk: WalkSession | None, speed: float, paused: bool) -> None:
        """Drive and show ``stage`` (a walkthrough's with ``walk``, or the lab's); rebuild the panels."""
        self.narrow = None  # no redraw until the panels are rebuilt
        await self.bridge.swap(stage.session.world, speed=speed, paused=paused)
        self._use(stage)
        self.walk = walk
        self._answers_seen = len(self.lab.answers)
        await self._build_main(self.size.width < NARROW)  # the size now (it may have changed meanwhile)

    def _walking(self, what: str) -> WalkSession | None:
        """The walkthrough on screen if it can take ``what`` now, else None and a notification."""
        walk = self.walk
        if walk is None:
            self.notify(f"{what}: not in walkthrough mode; l picks a walkthrough", title="walkthrough",
                        severity="warning")
        elif walk.busy:
            self.notify(f"{what}: wait, the walkthrough is being replayed", title="walkthrough", severity="warning")
            return None
        return walk

    async def action_walk_next(self) -> None:
        if (walk := self._walking("next step")) is None:
            return
        if self.bridge.playing:
            await self.answer("next step", self.bridge.hurry())
            return
        if walk.player.done:
            self.notify("that was the last step: < goes back, R restarts, L leaves", title="walkthrough")
            return
        player = walk.player
        walk.running = True
        self.bridge.play_step(player).add_done_callback(lambda f: self._step_done(walk, player, f))
        self.refresh_views(force=True)

    def _step_done(self, walk: WalkSession, player: Any, future: asyncio.Future[Any]) -> None:
        if self.walk is not walk or walk.player is not player:  # replayed or left meanwhile
            return
        walk.running = False
        if future.cancelled():
            return
        if (exc := future.exception()) is not None:
            self.notify(f"{type(exc).__name__}: {exc}", title="walkthrough step: failed", severity="error")
        elif not (result := future.result()).ok:
            self.notify(f"step {result.index + 1}: {result.problems[0]}", title=f"{walk.wt.name}: checkpoint failed",
                        severity="error")
        self.refresh_views(force=True)

    async def action_walk_back(self) -> None:
        if (walk := self._walking("previous step")) is None:
            return
        if walk.index < 0:
            self.notify("this is the beginning: > plays step 1", title="walkthrough")
            return
        await self._replay(walk, walk.index - 1)

    async def action_walk_restart(self) -> None:
        if (walk := self._walking("restart")) is not None:
            await self._replay(walk, -1)

    async def _replay(self, walk: WalkSession, upto: int) -> None:
        """Show the walkthrough as it stood after step ``upto`` (-1: before the first): a new
        network replayed headless to there (runs are deterministic), swapped in."""
        walk.busy = True
        self.refresh_views(force=True)
        try:
            player, stage = await asyncio.to_thread(new_stage, walk.wt, upto, walk.seed)
        except Exception as exc:
            walk.busy = False
            self.notify(f"{type(exc).__name__}: {exc}", title="walkthrough: replay failed", severity="error")
            return
        if self.walk is not walk:  # left meanwhile
            return
        walk.replace(player)
        await self._switch(stage, walk, self.bridge.speed, True)
        walk.busy = False
        self.select(self.selected)

    async def action_walk_leave(self) -> None:
        if (walk := self._walking("leave")) is None or self._lab is None:
            return
        lab, self._lab = self._lab, None
        walk.busy = True
        self.frozen = lab.frozen
        await self._switch(lab.stage, None, lab.speed, lab.paused)
        if lab.tab in [pane.id for pane in self.query(TabPane)]:  # (the layout may have changed meanwhile)
            self.show_tab(lab.tab)
        self.select(lab.selected)
        self.notify("back to the lab as it was", title="walkthrough mode left")


@attrs.frozen(kw_only=True)
class LabView:
    """The lab as walkthrough mode found it: its stage, selection, speed, pause, chart, tab."""

    stage: Stage
    selected: str | None
    speed: float
    paused: bool
    frozen: bool
    tab: str | None


def _tabs(panes: list[TabPane]) -> TabbedContent:
    tabs = TabbedContent(id="tabs")
    for pane in panes:
        tabs.compose_add_child(pane)
    return tabs
