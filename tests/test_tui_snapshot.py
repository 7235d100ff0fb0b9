"""SVG snapshot of the lab's main screen: fixed seed, paused clock, fixed size.
Regenerate with ``pytest tests/test_tui_snapshot.py --snapshot-update`` and look at it."""

from __future__ import annotations

from typing import Any

from helpers import settled, until
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.topo.load import builtin_topology_path, load_topology
from rcnlab.tui.app import RcnLabApp
from rcnlab.tui.screens.dialogs import PairCreateDialog
from rcnlab.tui.widgets.counters import Counters
from rcnlab.walkthrough.model import resolve


def lab_in_duplex_with_writes() -> RcnLabApp:
    return RcnLabApp(load_topology(builtin_topology_path()), seed=7, paused=True, preload=2000)


async def setup(pilot: Any) -> None:
    app: RcnLabApp = pilot.app
    await app.bridge.started
    await app.command("create pair", CreatePair(source="ST112:0", target="ST122:0"))
    await app.bridge.advance(0.3)
    await app.command("workload", Workload(volume="ST112:0", rate=1000.0))
    await app.bridge.advance(0.5)
    app.select("E104")
    counters = app.query_one(Counters)
    for series in (counters.delay, counters.writes, counters.occupancy):  # wall-clock sampled: reset
        series.clear()
        series.append(0.0)
    counters._last = None
    app.clear_notifications()
    app.refresh_views(force=True)
    await settled(pilot)  # the layout may take another pass (scrollbars that appear): wait until it stands


def test_main_screen_snapshot(snap_compare: Any) -> None:
    assert snap_compare(lab_in_duplex_with_writes(), terminal_size=(160, 48), run_before=setup)


def test_narrow_screen_snapshot(snap_compare: Any) -> None:
    assert snap_compare(lab_in_duplex_with_writes(), terminal_size=(100, 30), run_before=setup)


def test_small_screen_snapshot(snap_compare: Any) -> None:
    """80x24, a default terminal: whole status fields, the hint wrapped, ? help and q quit on the key bar."""
    assert snap_compare(lab_in_duplex_with_writes(), terminal_size=(80, 24), run_before=setup)


def resized_to(width: int, height: int) -> Any:
    async def run_before(pilot: Any) -> None:
        await setup(pilot)
        await pilot.resize_terminal(width, height)
        pilot.app.refresh_views(force=True)
        await settled(pilot)

    return run_before


def test_shrunk_screen_snapshot(snap_compare: Any) -> None:
    """160x48 shrunk to 100x30: laid out for 100x30 at once (no overlapping boxes)."""
    assert snap_compare(lab_in_duplex_with_writes(), terminal_size=(160, 48), run_before=resized_to(100, 30))


def test_grown_screen_snapshot(snap_compare: Any) -> None:
    """100x30 grown to 160x48: the wide layout at once."""
    assert snap_compare(lab_in_duplex_with_writes(), terminal_size=(100, 30), run_before=resized_to(160, 48))


def test_small_walkthrough_snapshot(snap_compare: Any) -> None:
    """Walkthrough mode at 80x24: the narration and the step's messages both have rows."""

    async def run_before(pilot: Any) -> None:
        app: RcnLabApp = pilot.app
        await app.bridge.started
        assert await app.open_walkthrough(resolve("failover"))
        await until(pilot, lambda: app.walk is not None and not app.walk.busy and app.narrow is not None)
        app.clear_notifications()
        app.refresh_views(force=True)
        await settled(pilot)

    app = RcnLabApp(load_topology(builtin_topology_path()), seed=7, paused=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_small_create_dialog_snapshot(snap_compare: Any) -> None:
    """80x24: the create-pair dialog whole, every field, its buttons and its border."""

    async def run_before(pilot: Any) -> None:
        app: RcnLabApp = pilot.app
        await app.bridge.started
        await until(pilot, lambda: app.refreshes > 0)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PairCreateDialog)
                    and any(b.region.area for b in app.screen.query("#cancel")))
        await pilot.pause()  # (under a dialog the lab is not redrawn: the dialog's own layout is all)

    app = RcnLabApp(load_topology(builtin_topology_path()), seed=7, paused=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
