"""A resize that switches the layout (narrow <-> wide) keeps the tab the user had on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import TabbedContent

from helpers import make_app, run_app as run, until
from rcnlab.tui.widgets.charts import Charts


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
