"""What the lab says: help without markup bugs, one palette entry per command, hints
that follow the state (after a failover: failback), writes to a fenced old source."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import helpers
from helpers import noted, until
from helpers import run_app as run
from textual.widgets import Static

from rcnlab.model.pair_state import PairState
from rcnlab.ops.commands import CreatePair, Failover, Workload
from rcnlab.tui.app import RcnLabApp
from rcnlab.tui.screens.dialogs import HELP_TEXT, HelpScreen, reflow
from rcnlab.tui.state import hint as hint_of
from rcnlab.tui.widgets.pair_panel import PairPanel

make_app = functools.partial(helpers.make_app, paused=True)


def hint(app: RcnLabApp) -> str:
    return str(app.query_one("#hint").render())


def test_the_help_shows_every_key_as_typed_and_no_markup(tmp_path: Path) -> None:
    """``[`` used to show as ``[[/b]`` and turn everything after it bold."""
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        app.ask(HelpScreen())
        await until(pilot, lambda: isinstance(app.screen, HelpScreen) and bool(app.screen.query(Static)))
        plain = str(app.screen.query_one(Static).render())
        assert "[/b]" not in plain and "[b]" not in plain
        assert "[  Select the previous device or link" in plain and "]  Select the next" in plain

    run(app, body)


def test_help_paragraphs_are_wrapped_once() -> None:
    lines = reflow(HELP_TEXT).split("\n")
    assert len(lines) == HELP_TEXT.strip().count("\n\n") * 2 + 1  # one line per paragraph, blank between


def test_the_palette_lists_each_command_once(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        titles = [c.title.split("  (key")[0].lower() for c in app.get_system_commands(app.screen)]
        for word in ("quit", "screenshot"):
            assert sum(word in t for t in titles) == 1, titles

    run(app, body)


async def failed_over(pilot: Any, writes_on_old_source: bool) -> RcnLabApp:
    app: RcnLabApp = pilot.app
    await app.command("create pair", CreatePair(source="ST112:0", target="ST122:0"))
    t = app.bridge.virtual_time
    while (view := app.query_one(PairPanel).describe()) is None or set(view.states) != {PairState.DUPLEX}:
        t += 0.05
        await app.bridge.advance(t)
    if writes_on_old_source:
        assert await app.start_workload(Workload(volume="ST112:0", rate=100.0))
    await app.command("failover", Failover(volume="ST112:0"))
    await app.bridge.advance(app.bridge.virtual_time + 2.0)
    assert app.query_one(PairPanel).describe().takeover
    app.refresh_views(force=True)
    return app


def test_after_a_failover_the_hint_says_failback_is_next(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await failed_over(pilot, writes_on_old_source=False)
        assert "b fails back" in hint(app) and "resync" not in hint(app)

    run(app, body)


def test_writes_to_the_old_source_after_a_failover_are_flagged_and_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await failed_over(pilot, writes_on_old_source=True)
        assert "H111 still writes to the old source ST112:0" in hint(app)
        assert not await app.start_workload(Workload(volume="ST112:0", rate=50.0))
        await noted(pilot, "ST112:0 is the old source of a pair that failed over to ST122:0")
        assert await app.start_workload(Workload(volume="ST122:0", rate=50.0))  # the new source is fine

    run(app, body)


def test_while_any_party_is_suspending_the_hint_says_so_not_resync() -> None:
    """An asynchronous Suspend: the target parties reach Suspend while the source still waits
    for the SOK in Suspending (resync is refused there), so the hint speaks of Suspending
    until all four are in Suspend."""
    slow = 'a = "E105"\nb = "ST122"\nkind = "fc"\n'  # a slow last hop: writes queue at the target edge
    scenario = helpers.pair_and_writes("async", rate=2000, count=1000, blocks=4096) + (
        '[[step]]\nat = 0.3\ndo = "suspend"\nvolume = "ST112:0"\n')
    topo = helpers.topology("fig1", {slow: slow + "latency_ms = 0.4\n"})
    said = {}
    for t in (0.33, 0.365, 0.4):
        net, _, _ = helpers.run(topo, scenario, seed=7, until=t, trace=False)
        said[tuple(str(s) for s in net.pair_views()[0].states)] = hint_of(net, False, None)
    assert list(said) == [("Suspending",) * 4, ("Suspending", "Suspending", "Suspend", "Suspend"), ("Suspend",) * 4]
    texts = list(said.values())
    assert "Suspending" in texts[0] and "Suspending" in texts[1] and "r resyncs" in texts[2]
