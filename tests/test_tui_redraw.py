"""The lab redraws a panel only when what it shows changed (the TUI's cost at max speed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import make_app, run_app as run
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.ops.registry import do
from rcnlab.tui.widgets.counters import Counters
from rcnlab.tui.widgets.pair_panel import PairPanel
from rcnlab.tui.widgets.shown import Shown


def test_a_duplex_pair_under_writes_is_not_redrawn_nor_an_unchanged_collection(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        await app.bridge.call(do, app.lab, CreatePair(source="ST112:0", target="ST122:0"))
        await app.bridge.advance(0.5)
        await app.bridge.call(do, app.lab, Workload(volume="ST112:0", rate=1000.0))
        panel, groups = app.query_one(PairPanel), app.query_one(Counters).query_one("#groups", Shown)
        drawn = {"pair": 0, "groups": 0}
        for widget, method, name in ((panel, "refresh", "pair"), (groups, "show", "groups")):
            original = getattr(widget, method)

            def counted(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                drawn[_name] += 1
                return _original(*args, **kwargs)

            setattr(widget, method, counted)
        await app.bridge.advance(0.6)  # the collection at 0.5 s is in
        app.refresh_views(force=True)
        await pilot.pause()  # (the screen lays itself out after)
        t, issued = app.net.kernel.now, app.net.hosts[0].issued
        start = dict(drawn)
        for i in range(1, 4):  # writes go on, the pair stays Duplex, no new collection (every 0.5 s)
            await app.bridge.advance(t + 0.01 * i)
            app.refresh_views(force=True)
        assert app.net.hosts[0].issued > issued
        assert drawn == start
        await app.bridge.advance(t + 0.5)  # the management server collects again: the table changes
        app.refresh_views(force=True)
        assert drawn["groups"] == start["groups"] + 1

    run(app, body)
