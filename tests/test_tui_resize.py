"""A resize that switches the layout (narrow <-> wide) keeps the tab the user had on, and
settles promptly: hidden charts are not built anew, and the emulation stands back meanwhile."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widget import Widget
from textual.widgets import TabbedContent

from helpers import POLL, TIMEOUT, make_app, run_app as run, until
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.tui.widgets.charts import Chart, Charts


def test_the_charts_tab_stays_selected_across_layout_switches(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    def on(tab: str, narrow: bool) -> bool:
        tabs = app.query(TabbedContent)
        return app.narrow is narrow and bool(tabs) and tabs.first().active == tab

    async def body(pilot: Any) -> None:
        app.show_tab("tab-charts")
        await until(pilot, lambda: on("tab-charts", False))
        for size, narrow in (((100, 30), True), ((160, 48), False), ((80, 24), True)):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda: on("tab-charts", narrow) and app.query_one(Charts).is_on_screen)
        app.show_tab("tab-pair")  # a tab only the narrow layout has: the wide one opens on its first
        await until(pilot, lambda: on("tab-pair", True))
        await pilot.resize_terminal(160, 48)
        await until(pilot, lambda: on("tab-log", False))

    run(app, body)


def test_a_layout_switch_builds_no_hidden_charts(tmp_path: Path, monkeypatch: Any) -> None:
    """The charts (some forty widgets, half the screen) are built when their tab is first
    shown, not on every resize that lays the screen out anew."""
    app = make_app(tmp_path, paused=True)
    built: list[str] = []
    init = Widget.__init__

    def counted(self: Widget, *args: Any, **kwargs: Any) -> None:
        built.append(type(self).__name__)
        init(self, *args, **kwargs)

    async def body(pilot: Any) -> None:
        monkeypatch.setattr(Widget, "__init__", counted)
        await pilot.resize_terminal(100, 30)
        await until(pilot, lambda: app.narrow is True and app.refreshes > 0)
        assert "Chart" not in built and len(built) < 50, sorted(built)
        assert not app.query(Chart)
        app.show_tab("tab-charts")
        await until(pilot, lambda: len(app.query(Chart)) == 6 and app.query_one(Charts).ready)

    run(app, body)


def test_while_a_resize_lays_the_screen_out_the_emulation_stands_back(tmp_path: Path) -> None:
    """At x1 under writes: the clock stands while the panels are built anew (the screen gets
    the loop to itself), and runs again once the screen is drawn at its new size."""
    app = make_app(tmp_path, paused=True)
    seen: list[tuple[float, int]] = []
    relayout = app._relayout

    async def watched(narrow: bool) -> None:
        main = app.query_one("#main")
        await main.remove_children()
        # the driver sees the hush within a few turns of the loop (more on a loaded machine)
        end = asyncio.get_running_loop().time() + TIMEOUT
        while app.bridge.clock.rate != 0.0 and asyncio.get_running_loop().time() < end:
            await asyncio.sleep(POLL)
        seen.append((app.bridge.clock.rate, app.net.kernel.events_run))
        await relayout(narrow)
        seen.append((app.bridge.clock.rate, app.net.kernel.events_run))

    async def body(pilot: Any) -> None:
        await app.command("create pair", CreatePair(source="ST112:0", target="ST122:0"))
        await app.bridge.advance(0.3)
        await app.command("workload", Workload(volume="ST112:0", rate=1000.0))
        await app.bridge.set_paused(False)
        await until(pilot, lambda: app.net.kernel.events_run > 1000)
        app._relayout = watched
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: len(seen) == 2)
        (rate, before), (_, after) = seen
        assert rate == 0.0 and after == before
        await until(pilot, lambda: app.bridge.clock.rate == 1.0 and app.net.kernel.events_run > after)
        await app.bridge.set_paused(True)

    run(app, body)
