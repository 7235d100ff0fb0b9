"""Pilot tests of the Textual lab: every action, what the panels show, time control."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette

from helpers import act, make_app, noted, notes, refreshed, run_app as run, until
from rcnlab.emu.kernel import Kernel
from rcnlab.model.pair_state import PairState, Party
from rcnlab.ops.commands import SetLink, Workload
from rcnlab.ops.registry import do
from rcnlab.tui.app import RcnLabApp
from rcnlab.tui.screens.dialogs import DegradeDialog, HelpScreen, PairCreateDialog, WorkloadDialog
from rcnlab.tui.widgets.chrome import KeyBar
from rcnlab.tui.widgets.counters import Counters
from rcnlab.tui.widgets.event_log import EventLog, EventRows
from rcnlab.tui.widgets.log_area import LogArea, LogRows
from rcnlab.tui.widgets.pair_panel import PairPanel
from rcnlab.tui.widgets.sequence import SequenceChart, SequenceRows
from rcnlab.tui.widgets.topology import TopologyMap

SIZE = (160, 48)
D = PairState.DUPLEX


def states(app: RcnLabApp) -> set[PairState]:
    info = app.query_one(PairPanel).describe()
    return set(info.states) if info else set()


def text_of(widget: Any) -> str:
    return widget.render().plain


def status(app: RcnLabApp) -> str:
    return str(app.query_one("#status").render())


def hint(app: RcnLabApp) -> str:
    return str(app.query_one("#hint").render())


def keys(app: RcnLabApp) -> set[str]:
    return {a.id for a in app.query_one(KeyBar).actions}


async def dialog(pilot: Any, cls: type) -> Any:
    """Wait until a dialog of ``cls`` is on screen and laid out (its first field focused)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, cls) and app.screen.focused is not None
                and app.screen.focused.region.area > 0)
    return app.screen


async def create_pair(pilot: Any, mode: str | None = None) -> None:
    """Create the pair with the dialog; wait until the command has reached the emulation."""

    def sent() -> int:
        return sum("pair creation sent" in n for n in notes(pilot.app))

    before = sent()
    await pilot.press("c")
    await dialog(pilot, PairCreateDialog)
    if mode == "sync":
        await pilot.click("#sync")
        await pilot.click("#ok")
    else:
        await pilot.press("enter")  # OK has the focus
    await until(pilot, lambda: sent() > before)


async def duplex(pilot: Any) -> None:
    """Run time until the pair is Duplex at all four parties (deterministically, paused)."""
    app = pilot.app
    t = app.bridge.virtual_time
    while states(app) != {D}:
        t += 0.05
        await app.bridge.advance(t)
        assert t < 30


# -- start-up ------------------------------------------------------------------------------------
def test_starts_with_the_fig1_devices_and_a_hint(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        drawn = text_of(app.query_one(TopologyMap))
        for name in ("H111", "ST112", "E104", "C202", "E105", "ST122", "H121", "M103"):
            assert name in drawn
        assert "═" in drawn and "─" in drawn  # FC and GbE drawn differently
        assert "Press c to create a pair" in hint(app)
        assert "seed 7" in status(app) and "PAUSED" in status(app)
        assert "pair_create" in keys(app)

    run(app, body)


# -- pairs -------------------------------------------------------------------------------------
def test_pair_create_reaches_duplex_while_time_runs(tmp_path: Path) -> None:
    app = make_app(tmp_path, speed=100.0)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await until(pilot, lambda: states(app) == {D})
        await refreshed(pilot)
        panel = text_of(app.query_one(PairPanel))
        assert "ST112:0 → ST122:0" in panel and "async" in panel
        assert panel.count("Duplex") >= 4
        assert "PAIR" in text_of(app.query_one(TopologyMap))  # storage boxes, operator name
        await noted(pilot, "pair creation sent")
        assert {"suspend", "failover", "delete_pair"} <= keys(app) and "resync" not in keys(app)
        assert "Press w to start a workload" in hint(app)

    run(app, body)


def test_initial_copy_shows_progress_then_duplex(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True, preload=4000)  # 4000 blocks: 0.2 s at 20,000 blocks/s

    async def body(pilot: Any) -> None:
        await create_pair(pilot, mode="sync")
        await app.bridge.advance(0.1)
        await refreshed(pilot)
        info = app.query_one(PairPanel).describe()
        assert info.mode == "sync"
        assert info.state(Party.SOURCE_STORAGE) is PairState.INITIAL_COPYING
        assert 0 < info.progress < 1
        panel = text_of(app.query_one(PairPanel))
        assert "blocks" in panel and "█" in panel and "/4000 blocks" in panel
        assert "copying" in hint(app)
        await duplex(pilot)
        assert app.query_one(PairPanel).describe().progress is None

    run(app, body)


def test_illegal_commands_are_explained_and_change_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await act(pilot, "s")
        await noted(pilot, "suspend needs a pair")
        await create_pair(pilot)
        await duplex(pilot)
        before = app.lab.pairs()
        events = app.net.kernel.events_run
        await act(pilot, "r")  # resync is illegal in Duplex
        refusal = await noted(pilot, "resync: refused")
        assert refusal and "pair is Duplex" in refusal[-1] and "legal now: suspend, failover, delete-pair" in refusal[-1]
        await app.bridge.advance(app.bridge.virtual_time + 0.1)
        assert app.lab.pairs() == before
        assert app.net.kernel.events_run >= events
        await act(pilot, "c")  # every volume is paired: nothing to create
        await noted(pilot, "every volume is already in a pair")
        assert not isinstance(app.screen, PairCreateDialog)

    run(app, body)


def test_suspend_resync_failover_and_delete(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        await act(pilot, "s")
        await app.bridge.advance(app.bridge.virtual_time + 0.2)
        assert states(app) == {PairState.SUSPEND}
        assert "Suspend" in text_of(app.query_one(PairPanel))
        await act(pilot, "r")
        await duplex(pilot)
        await act(pilot, "o")  # failover: the target takes over
        await app.bridge.advance(app.bridge.virtual_time + 2.0)
        info = app.query_one(PairPanel).describe()
        assert info.state(Party.TARGET_STORAGE) is PairState.FAILURE_SUSPEND and info.takeover
        await act(pilot, "n")  # operator names: the target is SSWS after a takeover
        assert "SSWS" in text_of(app.query_one(PairPanel))
        await act(pilot, "d")
        await app.bridge.advance(app.bridge.virtual_time + 0.5)
        assert app.lab.pairs() == []
        assert "No pair" in text_of(app.query_one(PairPanel))

    run(app, body)


def test_delete_while_the_source_storage_is_down_deletes_the_target_half(tmp_path: Path) -> None:
    """d with the source storage crashed: the delete goes to the target storage alone (the
    README), the panel shows the target side Simplex and the source edge failure Suspend."""
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        app.select("ST112")
        await act(pilot, "k")
        assert not app.net.devices["ST112"].up
        await act(pilot, "d")
        await app.bridge.advance(app.bridge.virtual_time + 0.5)
        info = app.query_one(PairPanel).describe()
        assert info.state(Party.TARGET_STORAGE) is PairState.SIMPLEX
        assert info.state(Party.TARGET_EDGE) is PairState.SIMPLEX
        assert info.state(Party.SOURCE_EDGE) is PairState.FAILURE_SUSPEND

    run(app, body)


def test_operator_names_toggle(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        panel = app.query_one(PairPanel)
        assert "Duplex" in text_of(panel) and "PAIR" not in text_of(panel)
        await act(pilot, "n")
        assert "PAIR" in text_of(panel) and "SMPL" in text_of(panel) and "PSUE/SSWS" in text_of(panel)
        await act(pilot, "n")
        assert "Initial-Copying" in text_of(panel)

    run(app, body)


# -- workloads ---------------------------------------------------------------------------------------
def test_workload_start_rate_and_stop(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        await pilot.press("w")
        screen = await dialog(pilot, WorkloadDialog)
        rate = screen.query_one("#rate")
        rate.value = "abc"
        await pilot.press("enter")
        await until(pilot, lambda: "rate must be a number" in str(screen.query_one("#error").render()))
        assert app.screen is screen  # a bad rate is explained in the dialog
        rate.value = "500"
        await pilot.press("enter")
        await until(pilot, lambda: app.net.hosts[0].workload_rate == 500)
        t0 = app.bridge.virtual_time
        await app.bridge.advance(t0 + 1.0)
        await refreshed(pilot)
        counters = app.query_one(Counters)
        e104 = [r for r in counters.rows if r[0] == "E104"][0]
        assert e104[2] > 200  # created 732 as M103 collected it (every 0.5 s): the writes became log entries
        assert "500 w/s" in status(app)
        await pilot.press("W")
        (await dialog(pilot, WorkloadDialog)).query_one("#rate").value = "1000"
        await pilot.press("enter")
        await until(pilot, lambda: sum(h.workload_rate for h in app.net.hosts) == 1000)
        await pilot.press("x")
        await until(pilot, lambda: sum(h.workload_rate for h in app.net.hosts) == 0)
        await act(pilot, "x")
        await noted(pilot, "no workload is running")

    run(app, body)


# -- faults ------------------------------------------------------------------------------------------
def test_cut_link_gives_failure_suspend_restore_and_resync(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        await app.run_action("workload")
        await dialog(pilot, WorkloadDialog)
        await pilot.press("enter")
        await until(pilot, lambda: app.net.hosts[0].workload_rate > 0)
        await act(pilot, "f")
        assert any("needs a link" in n for n in await noted(pilot, "cut link"))
        # H111, ST112, H111-ST112, ST112-E104, E104, E104-C202
        await act(pilot, *["right_square_bracket"] * 6)
        assert app.selected == "E104-C202"
        await act(pilot, "f")
        link = app.net.links["E104-C202"]
        assert link.state() == "down"
        assert "DOWN" in text_of(app.query_one(TopologyMap))
        await app.bridge.advance(app.bridge.virtual_time + 1.0)
        assert states(app) == {PairState.FAILURE_SUSPEND}
        await refreshed(pilot)
        assert "press u to restore it, then r to resync" in hint(app)
        assert app.query_one(PairPanel).describe().bitmaps[0] > 0
        assert "RPO" in status(app)
        await act(pilot, "f")
        await noted(pilot, "already down")
        await act(pilot, "u")
        assert link.state() == "up"
        await act(pilot, "r")
        await duplex(pilot)
        assert states(app) == {D}

    run(app, body)


def test_degrade_link_sets_loss_and_jitter(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        app.select("C202-E105")
        await pilot.press("g")
        screen = await dialog(pilot, DegradeDialog)
        screen.query_one("#loss").value = "250"
        await pilot.press("enter")
        await until(pilot, lambda: "loss must be in [0, 100)" in str(screen.query_one("#error").render()))
        assert app.screen is screen
        screen.query_one("#loss").value = "10"
        screen.query_one("#jitter").value = "2"
        await pilot.press("enter")
        await until(pilot, lambda: app.net.links["C202-E105"].state() == "degraded")
        ch = app.net.links["C202-E105"].forward
        assert ch.loss == pytest.approx(0.1) and ch.jitter == pytest.approx(0.002)
        assert "~" in text_of(app.query_one(TopologyMap))
        await act(pilot, "u")
        await noted(pilot, "only a down link can be restored")

    run(app, body)


def test_crash_and_restart_a_device(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        app.select("C202")
        await act(pilot, "k")
        assert not app.net.devices["C202"].up
        assert "✖ down" in text_of(app.query_one(TopologyMap))
        await act(pilot, "k")
        await noted(pilot, "C202 is already down")
        assert "restart" in keys(app)
        await act(pilot, "K")
        assert app.net.devices["C202"].up
        app.select("E104-C202")
        await act(pilot, "k")
        await noted(pilot, "crash needs a device")

    run(app, body)


def test_mouse_selects_a_device_and_the_log_area_follows(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        m = app.query_one(TopologyMap)
        await until(pilot, lambda: m.region.area > 0)
        m.render()
        cell = next(xy for xy, name in m._hits.items() if name == "E105")
        await pilot.click(TopologyMap, offset=(cell[0] + 1, cell[1] + 1))  # +1: the border
        await until(pilot, lambda: app.selected is not None)
        assert app.selected == "E105"
        assert app.query_one(LogArea).device == "E105"
        assert "E105 log storage area 413" in str(app.query_one("#log-info").render())

    run(app, body)


# -- time control ------------------------------------------------------------------------------------
def test_pause_freezes_virtual_time_and_counters_resume_and_step(tmp_path: Path) -> None:
    app = make_app(tmp_path, speed=10.0)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await until(pilot, lambda: states(app) == {D})
        await app.command("workload", Workload(volume="ST112:0", rate=1000.0))
        t0 = app.bridge.virtual_time
        await until(pilot, lambda: app.bridge.virtual_time > t0 + 0.3)
        await act(pilot, "space")
        assert app.bridge.paused
        t = app.bridge.virtual_time
        ran = app.net.kernel.events_run
        await refreshed(pilot)
        rows = list(app.query_one(Counters).rows)
        await refreshed(pilot, 6)  # half a second of screen refreshes at 12 Hz
        assert app.bridge.virtual_time == t
        assert app.net.kernel.events_run == ran
        assert app.query_one(Counters).rows == rows
        assert "PAUSED" in status(app)
        await act(pilot, "space")
        await until(pilot, lambda: app.net.kernel.events_run > ran)
        assert app.bridge.virtual_time > t
        await act(pilot, "space")
        assert app.bridge.paused
        kernel: Kernel = app.net.kernel
        next_t = kernel.next_time
        due = sum(1 for when, _, _ in kernel.scheduled() if when == next_t)
        ran = kernel.events_run
        await act(pilot, "full_stop")
        assert kernel.now == next_t
        assert kernel.events_run - ran >= due  # the events of that time (and any they add for then)
        assert kernel.next_time > next_t
        assert app.bridge.paused

    run(app, body)


def test_speed_up_and_down(tmp_path: Path) -> None:
    app = make_app(tmp_path, speed=1.0)

    async def body(pilot: Any) -> None:
        await act(pilot, "plus")
        assert app.bridge.speed == 2.0 and app.clock.rate == 2.0
        for _ in range(20):
            await app.run_action("faster")
        await refreshed(pilot)
        assert "max" in status(app)
        await act(pilot, "minus")
        assert app.bridge.speed == 100.0
        for _ in range(20):
            await app.run_action("slower")
        assert app.bridge.speed == 0.1 and app.clock.rate == pytest.approx(0.1)

    run(app, body)


def test_max_speed_keeps_the_screen_answering(tmp_path: Path) -> None:
    app = make_app(tmp_path, speed=float("inf"))

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await until(pilot, lambda: states(app) == {D})
        await app.command("workload", Workload(volume="ST112:0", rate=1000.0))
        t0 = app.bridge.virtual_time
        await until(pilot, lambda: app.bridge.virtual_time > t0 + 0.5)  # runs on without a clock to wait for
        await pilot.press("space")  # a key is answered while the kernel runs flat out
        await until(pilot, lambda: app.bridge.paused)
        stopped = app.bridge.virtual_time
        await refreshed(pilot, 2)
        assert app.bridge.virtual_time == stopped

    run(app, body)


# -- views ---------------------------------------------------------------------------------------------
def test_log_storage_area_with_100k_entries_formats_only_visible_rows(tmp_path: Path) -> None:
    from rcnlab.devices.edge import Held
    from rcnlab.model.log_entry import LogEntry
    from rcnlab.model.rio import Rio, RioKind

    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        edge = app.net.devices["E104"]
        src, dst = app.net.devices["ST112"].ref(0), app.net.devices["ST122"].ref(0)
        rio = Rio(kind=RioKind.WR, source=src, target=dst, block=1, data=b"x" * 512)
        for seq in range(1, 100_001):
            edge.held[(1, seq)] = Held(LogEntry(target=dst, source=src, order_id=1, io_time=seq * 1e-6, seq=seq,
                                                rio=rio), 0.0, resends=seq % 3 == 0)
        rows = app.query_one(LogRows)
        calls = 0
        original = rows.format_row

        def counting(row: Any) -> Any:
            nonlocal calls
            calls += 1
            return original(row)

        rows.format_row = counting  # type: ignore[method-assign]
        app.select("E104")
        await until(pilot, lambda: rows.virtual_size.height >= 100_000 and rows.size.height > 0
                    and "100000 entries" in str(app.query_one("#log-info").render()))
        await refreshed(pilot, 2)
        assert calls <= 3 * rows.size.height
        line = "".join(seg.text for seg in rows.render_line(0))
        assert "source" in line and "ST112:0" in line and "ST122:0" in line
        rows.scroll_to(y=99_990, animate=False)
        await until(pilot, lambda: " 99999 " in "".join("".join(s.text for s in rows.render_line(y))
                                                       for y in range(rows.size.height)))
        edge.held.clear()

    run(app, body)


def test_sequence_chart_shows_messages_and_freezes(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        do(app.lab, SetLink(link="E104-C202", loss=0.3))
        await app.command("workload", Workload(volume="ST112:0", rate=500.0))
        await app.bridge.advance(app.bridge.virtual_time + 0.3)
        app.show_tab("tab-sequence")
        app.refresh_views()  # a refresh before the tab is laid out (as on a busy machine) must not leave it stale
        chart = app.query_one(SequenceRows)
        await until(pilot, lambda: chart.rows and chart.size.height > 0)
        await refreshed(pilot)  # the chart is on screen: this refresh brought it up to date
        kinds = {ev.event for ev in chart.rows}
        assert {"sent", "frame-dropped", "resent"} <= kinds

        def lines() -> list[str]:
            return ["".join(s.text for s in chart.render_line(y)) for y in range(chart.size.height)]

        await until(pilot, lambda: any("▶" in ln for ln in lines()))
        text = "".join(chart.format_row(ev)[1].text for ev in chart.rows if ev.event == "frame-dropped")
        assert "✗" in text
        await act(pilot, "z")
        frozen = list(chart.rows)
        await app.bridge.advance(app.bridge.virtual_time + 0.2)
        await refreshed(pilot, 2)
        assert list(chart.rows) == frozen
        assert app.query_one(SequenceChart).frozen
        await act(pilot, "z")
        await refreshed(pilot)
        assert list(chart.rows) != frozen

    run(app, body)


def test_event_log_filters_by_device_and_figure(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        await app.command("workload", Workload(volume="ST112:0", rate=200.0, count=20))
        await app.bridge.advance(app.bridge.virtual_time + 0.3)
        await act(pilot, "slash")
        await until(pilot, lambda: app.focused is app.query_one("#event-filter"))
        await pilot.press(*("space" if ch == " " else ch for ch in "E104 fig19"))
        await until(pilot, lambda: app.query_one(EventLog).filter == "E104 fig19")
        await refreshed(pilot)
        rows = app.query_one(EventRows).rows
        assert rows and all(ev.device == "E104" or ev.fields.get("to") == "E104" for ev in rows)
        assert all(ev.step.startswith("fig19:") for ev in rows)
        assert {ev.step for ev in rows} >= {"fig19:1901", "fig19:1902", "fig19:1908"}
        assert app.query_one(EventLog).shown == len(rows)

    run(app, body)


# -- palette, files, help, quit ---------------------------------------------------------------------------
def test_every_action_is_in_the_palette_and_runs_from_it(tmp_path: Path) -> None:
    from rcnlab.tui.actions import ACTIONS

    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for a in ACTIONS:
            assert any(t.startswith(a.title) for t in titles), a.title
            assert any(b.action == a.id for b in app.BINDINGS)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette = app.screen
        await pilot.press(*("space" if ch == " " else ch for ch in "Time: pause"))
        results = palette.query_one(CommandList)

        def highlighted() -> str:
            i = results.highlighted
            return "" if i is None else str(results.get_option_at_index(i).prompt)

        await until(pilot, lambda: highlighted().startswith("Time: pause"))
        await pilot.press("enter")
        await until(pilot, lambda: app.bridge.paused)

    run(app, body)


def test_screenshot_and_trace_export(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        await act(pilot, "v", "e")
        svg = list(tmp_path.glob("*.svg"))
        assert svg and "<svg" in svg[0].read_text()
        trace = list(tmp_path.glob("*.jsonl"))
        lines = [json.loads(line) for line in trace[0].read_text().splitlines()]
        assert lines and {"t", "device", "event", "step"} <= set(lines[0])
        assert any(ev["event"] == "pair-state" for ev in lines)
        await noted(pilot, "events written to")

    run(app, body)


def test_help_screen_lists_every_key(tmp_path: Path) -> None:
    from rcnlab.tui.actions import ACTIONS

    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("Static").render())
        for a in ACTIONS:
            assert a.title in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))

    run(app, body)


def test_quit_stops_trio_before_exiting(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.bridge.started
            await pilot.press("q")
            await until(pilot, lambda: app.bridge.done.done())
        assert app.bridge.done.done() and app.bridge.error is None
        assert not app.is_running

    asyncio.run(main())


def test_narrow_terminal_puts_panels_in_tabs(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        assert app.narrow
        assert app.query_one("#tab-pair") and app.query_one("#tab-counters")
        await create_pair(pilot)
        await duplex(pilot)
        assert "Duplex" in text_of(app.query_one(PairPanel))

    run(app, body, size=(100, 30))


# -- the faults engineer's commands (failback, site failure, partition) ----------------------------
def test_failback_turns_the_pair_round(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        await act(pilot, "b")  # no failover yet: refused, nothing changes
        assert any("no failover took place" in n for n in await noted(pilot, "failback: refused"))
        assert app.lab.pairs()[0]["source"] == "ST112:0"
        await act(pilot, "o")
        await app.bridge.advance(app.bridge.virtual_time + 2.0)
        await act(pilot, "b")
        await duplex(pilot)
        pair = app.lab.pairs()[0]
        assert (pair["source"], pair["target"]) == ("ST122:0", "ST112:0")
        await refreshed(pilot)
        assert "ST122:0 → ST112:0" in text_of(app.query_one(PairPanel))

    run(app, body)


def test_site_failure_and_restore(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await create_pair(pilot)
        await duplex(pilot)
        app.select("ST122")
        await act(pilot, "F")
        assert not app.net.devices["ST122"].up and not app.net.devices["H121"].up
        assert app.net.devices["ST112"].up
        assert text_of(app.query_one(TopologyMap)).count("✖ down") == 2
        assert "site_restore" in keys(app)
        await act(pilot, "F")
        await noted(pilot, "site target is already down")
        await act(pilot, "U")
        assert app.net.devices["ST122"].up and app.net.devices["H121"].up

    run(app, body)


def test_partition_and_heal(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        app.select("C202")
        await act(pilot, "X")
        assert app.net.links["E104-C202"].state() == "down" and app.net.links["C202-E105"].state() == "down"
        assert app.net.links["ST112-E104"].state() == "up"
        await act(pilot, "X")
        await noted(pilot, "partition: refused")
        assert "heal" in keys(app)
        await act(pilot, "h")
        assert app.net.links["E104-C202"].state() == "up" and app.net.links["C202-E105"].state() == "up"

    run(app, body)


def test_status_line_shows_the_live_invariant_checker(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        assert app.checker is not None
        await create_pair(pilot)
        await duplex(pilot)
        await refreshed(pilot)
        assert "invariants ok" in status(app)
        app.checker.violate("write_order", "seq 3 reflected before seq 2 (test)")
        app.refresh_views(force=True)
        line = app.query_one("#status").render()
        assert "invariants BROKEN" in str(line) and "seq 3 reflected before seq 2" in str(line)
        assert any("red" in str(span.style) for span in line.spans)

    run(app, body)
