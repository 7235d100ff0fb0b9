"""The charts over time (issue 15): their samples stay bounded however long the run, the
state timeline tells which party was in which state when, the copy chart gives an ETA,
and the charts' colours follow the theme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import make_app, refreshed, run_app as run
from rcnlab.model.pair_state import PairState
from rcnlab.ops.commands import CreatePair, FailLink, Workload
from rcnlab.topo.load import builtin_topology_path, load_topology
from rcnlab.tui.history import History
from rcnlab.tui.widgets.charts import Chart, Charts
from rcnlab.world import World

S = PairState


def test_history_stays_bounded_and_spans_the_whole_run() -> None:
    net = World(load_topology(builtin_topology_path()), seed=0)
    h = History(cap=16, step=0.1)
    for i in range(10_000):  # 1,000 virtual seconds sampled every 0.1 s
        h.sample(net, i * 0.1)
    assert len(h.t) < 16
    assert h.t[0] == 0.0 and h.t[-1] > 900
    assert h.step > 10  # coarsened as the run grew
    assert {len(column) for column in h.series.values()} == {len(h.t)}
    assert {"rpo", "lag", "writes", "bitmap 1211 SS", "log E104"} <= set(h.series)


def test_history_eta_from_the_copy_rate() -> None:
    h = History()
    h.t = [0.0, 1.0, 2.0]
    h.series["left ST112:0"] = [300.0, 200.0, 100.0]
    assert h.eta("ST112:0") == 1.0
    h.series["left ST112:0"][-1] = float("nan")  # the copy is over
    assert h.eta("ST112:0") is None


def test_charts_show_copy_eta_states_and_follow_the_theme(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=True, preload=20_000)  # a copy of about a second

    async def body(pilot: Any) -> None:
        await app.command("create pair", CreatePair(source="ST112:0", target="ST122:0"))
        app.show_tab("tab-charts")
        charts = app.query_one(Charts)
        for i in range(1, 6):  # into the copy, sampled as the screen refreshes
            await app.bridge.advance(0.1 * i)
            await refreshed(pilot)
        copy = app.query_one("#chart-copy", Chart)
        assert "ST112:0" in str(copy.border_subtitle) and "ETA" in str(copy.border_subtitle)
        await app.command("workload", Workload(volume="ST112:0", rate=200.0))
        await app.bridge.advance(2.0)
        await refreshed(pilot)
        await app.command("cut link", FailLink(link="E104-C202"))
        await app.bridge.advance(4.0)
        await refreshed(pilot)
        line = app.stage.history.timeline("ST112:0>ST122:0", app.net.kernel.now)
        seen = [states for _, _, states in line]
        assert seen[0][0] is S.INITIAL_COPYING and (S.DUPLEX,) * 4 in seen and seen[-1] == (S.FAILURE_SUSPEND,) * 4
        assert [start for start, _, _ in line] == sorted(start for start, _, _ in line)
        states = app.query_one("#chart-states", Chart)
        assert "ST112:0 → ST122:0" in str(states.border_title)
        assert "RPO" in str(app.query_one("#chart-rpo", Chart).border_subtitle)
        assert charts.is_on_screen
        dark = app.query_one("#chart-rpo", Chart).colour(0)
        app.theme = "textual-light"
        await pilot.pause()
        light = app.query_one("#chart-rpo", Chart).colour(0)
        assert dark != light and light == app.theme_variables["text-primary"]

    run(app, body)
