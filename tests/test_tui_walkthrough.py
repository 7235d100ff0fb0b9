"""Walkthrough mode of the Textual lab (issue 5): the picker, stepping forward paced and
back by replay, restart, leaving, refusals, and the CLI options that open it."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import pytest

from rcnlab import cli
import helpers
from helpers import act, noted, notes, refreshed, run_app as run, settled, until
from rcnlab.topo.load import builtin_topology_path
from rcnlab.tui.app import RcnLabApp
from rcnlab.tui.screens.walkthrough import WalkthroughPicker
from rcnlab.tui.walk import WalkSession
from rcnlab.tui.widgets.chrome import KeyBar
from rcnlab.tui.widgets.narration import NarrationPanel
from rcnlab.tui.widgets.topology import TopologyMap
from rcnlab.tui.widgets.walk_views import MessageRows, StepChart, WalkTopologyMap
from rcnlab.walkthrough.engine import Player
from rcnlab.walkthrough.model import available, load_walkthrough, resolve

WIDE, NARROW = (160, 48), (100, 30)


def failover() -> Any:
    return load_walkthrough(resolve("failover"))


make_app = functools.partial(helpers.make_app, paused=True)


def walk(app: RcnLabApp) -> WalkSession:
    assert app.walk is not None
    return app.walk


def idle(app: RcnLabApp) -> bool:
    return app.walk is not None and not app.walk.running and not app.walk.busy


async def press_and_settle(pilot: Any, key: str) -> None:
    """Press a walkthrough key; wait until its action has run, the step (or the replay)
    is over, and the panels have been brought up to date since."""
    await act(pilot, key)
    await until(pilot, lambda: idle(pilot.app))
    await refreshed(pilot)


async def walk_shown(pilot: Any) -> None:
    """Wait until walkthrough mode is on screen (its panels built) and drawn."""
    app = pilot.app
    await until(pilot, lambda: idle(app) and app.narrow is not None and bool(app.query(NarrationPanel)))
    await refreshed(pilot)


def keys(app: RcnLabApp) -> set[str]:
    return {a.id for a in app.query_one(KeyBar).actions}


def story(app: RcnLabApp) -> NarrationPanel:
    return app.query_one(NarrationPanel)


def snapshot(player: Player) -> tuple[Any, ...]:
    """What going back must reproduce: time, pairs, volumes, the whole trace."""
    net = player.net
    volumes = {f"{s.name}:{lun}": v.digest() for s in net.storages for lun, v in s.volumes.items()}
    return (net.kernel.now, player.current, player.lab.pairs(), volumes,
            [e.to_json() for e in player.events])


async def open_failover_with_the_picker(pilot: Any) -> None:
    app = pilot.app
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, WalkthroughPicker))
    options = app.screen.query_one("OptionList")
    names = [options.get_option_at_index(i).id for i in range(options.option_count)]
    assert {"failover", "write", "lifecycle"} <= set(names)
    options.highlighted = names.index("failover")
    await pilot.press("enter")
    await walk_shown(pilot)


# -- forward through the failover walkthrough ----------------------------------------------------------
def test_picker_opens_failover_and_every_step_plays_with_narration_and_highlights(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    lab_net = app.net

    async def body(pilot: Any) -> None:
        assert "walk_open" in keys(app) and not {"walk_next", "walk_back", "walk_leave"} & keys(app)
        assert "l for a guided walkthrough" in str(app.query_one("#hint").render())
        await open_failover_with_the_picker(pilot)
        w = walk(app)
        assert app.net is w.player.net and app.net is not lab_net and app.bridge.net is app.net
        assert app.seed == 5 and app.topo.name == "fig1"  # the walkthrough's seed and topology
        assert isinstance(app.query_one(TopologyMap), WalkTopologyMap)
        assert story(app).counter == "before step 1 of 5"
        assert "Failover after a source site disaster" in story(app).plain
        assert {"walk_next", "walk_leave"} <= keys(app) and not {"walk_back", "pair_create", "fail"} & keys(app)
        headings = set()
        for i, step in enumerate(w.wt.steps):
            await press_and_settle(pilot, "greater_than_sign")
            assert w.index == i and story(app).counter == f"step {i + 1} of 5"
            assert step.say.split()[0] in story(app).plain and (step.title or "") in story(app).plain
            headings.add(story(app).plain.splitlines()[0])
            msgs = w.player.messages_of(i)
            senders = {n for m in msgs for n in (m.src, m.dst)}
            lit = app.query_one(WalkTopologyMap).lit_devices
            assert senders <= lit
            named = set(getattr(step.command, "devices", None) or ())
            assert lit - senders <= named | {"H111", "ST112"}  # step 4 names the site
            chart = app.query_one(StepChart)
            assert chart.messages == msgs and (f"{len(msgs)} messages" if msgs else "no messages") in chart.caption
            assert app.query_one(MessageRows).rows == msgs
            assert "walk_back" in keys(app)
        assert len(headings) == 5  # the counter and the heading change at every step
        assert w.player.done and all(r.ok for r in w.player.results)
        text = story(app).plain
        assert "✓ trace has fig13:1302 .. fig13:1312" in text and "✗" not in text
        assert "The end: 5 of 5 steps passed" in text and "✓ 3 checks held" in story(app).border_subtitle
        assert "walk_next" not in keys(app)
        await act(pilot, "greater_than_sign")  # past the end: explained, nothing breaks
        await noted(pilot, "that was the last step")

    run(app, body)


def test_next_during_a_step_finishes_it_at_once_and_space_pauses_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, walkthrough=failover())

    async def body(pilot: Any) -> None:
        await walk_shown(pilot)
        for _ in range(2):
            await press_and_settle(pilot, "greater_than_sign")
        # 0.05 s of virtual time takes 50 wall seconds at x0.001: a busy machine cannot miss the step running
        await app.bridge.set_speed(0.001)
        await app.run_action("walk_next")  # step 3: the writes, 0.05 s (the action returns once it has begun)
        await until(pilot, lambda: app.bridge.playing)
        app.refresh_views(force=True)
        assert {"walk_next", "toggle_pause", "walk_back"} <= keys(app) and walk(app).index == 2
        assert "playing" in story(app).plain
        await app.run_action("toggle_pause")
        assert app.bridge.paused
        t = app.net.kernel.now
        await refreshed(pilot, 4)  # the screen refreshes; the emulation does not move
        assert app.net.kernel.now == t and walk(app).running and app.bridge.playing  # paused mid-step
        assert t < walk(app).player.deadline
        await app.run_action("walk_next")  # finish it at once, even paused
        await until(pilot, lambda: idle(app))
        assert walk(app).index == 2 and walk(app).player.results[2].ok
        assert snapshot(walk(app).player) == snapshot(Player.replayed(walk(app).wt, 2))

    run(app, body)


@pytest.mark.parametrize("name", [p.stem for p in available()])
def test_every_walkthrough_plays_in_the_lab_as_it_does_headless(name: str, tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        assert await app.open_walkthrough(resolve(name))
        await app.bridge.set_speed(math.inf)
        w = walk(app)
        while not w.player.done:
            await app.run_action("walk_next")
            await until(pilot, lambda: idle(app))
        assert [r.problems for r in w.player.results] == [[]] * len(w.wt.steps)
        assert snapshot(w.player) == snapshot(Player.replayed(w.wt, len(w.wt.steps) - 1))

    run(app, body)


# -- back, restart, leave ------------------------------------------------------------------------------
def test_back_replays_the_previous_step_exactly_restart_and_leave_restore_the_lab(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await app.bridge.advance(0.25)
        app.select("E104-C202")
        lab_net, lab_time, lab_journal = app.net, app.net.kernel.now, app.journal.count
        await open_failover_with_the_picker(pilot)
        wt = walk(app).wt
        for _ in range(4):
            await press_and_settle(pilot, "greater_than_sign")
        # played paced in the TUI, the trace is the headless one, event for event
        assert snapshot(walk(app).player) == snapshot(Player.replayed(wt, 3))
        await press_and_settle(pilot, "less_than_sign")
        w = walk(app)
        assert w.index == 2 and story(app).counter == "step 3 of 5"
        assert app.net is w.player.net and app.bridge.net is app.net
        assert snapshot(w.player) == snapshot(Player.replayed(wt, 2))
        pairs = app.lab.pairs()
        assert pairs and set(pairs[0]["states"].values()) == {"Duplex"}
        await press_and_settle(pilot, "greater_than_sign")  # and forward again, paced, to the same step 4
        assert snapshot(walk(app).player) == snapshot(Player.replayed(wt, 3))
        await press_and_settle(pilot, "R")
        assert walk(app).index == -1 and story(app).counter == "before step 1 of 5"
        assert app.net.kernel.now == 0 and app.lab.pairs() == []
        assert "walk_back" not in keys(app)
        await act(pilot, "L")
        await refreshed(pilot)
        assert app.net is lab_net and app.bridge.net is lab_net and app.journal.count == lab_journal
        assert app.net.kernel.now == lab_time and app.bridge.paused
        assert app.selected == "E104-C202" and app.query_one(TopologyMap).selected == "E104-C202"
        assert not isinstance(app.query_one(TopologyMap), WalkTopologyMap) and not app.query(NarrationPanel)
        assert "walk_open" in keys(app) and not {"walk_next", "walk_leave"} & keys(app)  # the lab has no pair
        await pilot.press("c")  # the lab takes commands again
        await until(pilot, lambda: type(app.screen).__name__ == "PairCreateDialog")

    run(app, body)


def test_leaving_a_running_lab_resumes_it_at_its_speed(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, speed=2.0)

    async def body(pilot: Any) -> None:
        await app.open_walkthrough(failover())
        assert app.bridge.paused and walk(app).index == -1
        await act(pilot, "L")
        await until(pilot, lambda: app.walk is None and app.narrow is not None and app.clock.rate == 2.0)
        assert not app.bridge.paused and app.bridge.speed == 2.0

    run(app, body)


# -- refusals and errors -----------------------------------------------------------------------------
def test_operator_commands_are_refused_in_walkthrough_mode(tmp_path: Path) -> None:
    app = make_app(tmp_path, walkthrough=failover())

    async def body(pilot: Any) -> None:
        await walk_shown(pilot)
        await press_and_settle(pilot, "greater_than_sign")
        await press_and_settle(pilot, "greater_than_sign")  # the pair is Duplex
        before = snapshot(walk(app).player)
        app.select("E104-C202")
        await act(pilot, "c", "s", "o", "w", "f", "k", "full_stop")
        await app.run_action("delete_pair")  # as the palette and the key bar do
        await until(pilot, lambda: sum(n.startswith("walkthrough mode: refused") for n in notes(app)) >= 8)
        refused = [n for n in notes(app) if n.startswith("walkthrough mode: refused")]
        assert len(refused) == 8 and all("L leaves walkthrough mode first" in n for n in refused)
        assert any("Pair: create" in n for n in refused) and any("single step" in n for n in refused)
        assert type(app.screen).__name__ not in ("PairCreateDialog", "WorkloadDialog")
        await act(pilot, "space")  # between steps time stands still: said, not done
        await noted(pilot, "between two steps")
        assert app.bridge.paused
        assert snapshot(walk(app).player) == before
        assert app.net.links["E104-C202"].state() == "up"
        await press_and_settle(pilot, "greater_than_sign")  # the walkthrough goes on, still on script
        assert walk(app).player.results[2].ok

    run(app, body)


def test_walk_keys_outside_walkthrough_mode_explain_themselves(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await act(pilot, "greater_than_sign", "less_than_sign", "R", "L")
        await until(pilot, lambda: sum("not in walkthrough mode" in n for n in notes(app)) >= 4)
        assert sum("not in walkthrough mode" in n for n in notes(app)) == 4
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Walkthrough...", "Walkthrough: next step", "Walkthrough: previous step",
                      "Walkthrough: restart", "Walkthrough: leave"):
            assert any(t.startswith(title) for t in titles), title

    run(app, body)


WRONG = """
[walkthrough]
title = "A checkpoint that cannot hold"
topology = "{topology}"

[[step]]
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
say = "Pair the volumes."
[step.checkpoint]
pair = "ST112:0"
state = "Suspend"
"""


def test_a_failing_checkpoint_is_a_red_cross_and_a_bad_file_one_line(tmp_path: Path) -> None:
    good = tmp_path / "wrong.toml"
    good.write_text(WRONG.format(topology=builtin_topology_path().as_posix()))
    bad = tmp_path / "bad.toml"
    bad.write_text("[walkthrough]\ntitle = 3\n")
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        assert not await app.open_walkthrough(bad)
        assert app.walk is None and any("bad.toml" in n for n in await noted(pilot, "cannot load"))
        assert all("\n" not in n for n in notes(app))
        assert await app.open_walkthrough(good)
        await press_and_settle(pilot, "greater_than_sign")
        assert story(app).failed and "✗ checkpoint failed" in story(app).border_subtitle
        assert "✗ pair ST112:0: source_storage is Duplex, expected Suspend" in story(app).plain
        failed = await noted(pilot, "checkpoint failed")
        assert failed and failed[0].startswith("wrong: checkpoint failed: step 1: ")
        assert "✗ FAILED" in str(app.query_one("#hint").render())

    run(app, body)


# -- the narrow screen -----------------------------------------------------------------------------------
def test_narrow_screen_shows_narration_chart_and_highlights_together(tmp_path: Path) -> None:
    app = make_app(tmp_path, walkthrough=failover())

    async def body(pilot: Any) -> None:
        await walk_shown(pilot)
        for _ in range(3):
            await press_and_settle(pilot, "greater_than_sign")
        await settled(pilot)  # the layout is what is tested
        screen = app.screen.region
        for widget in (story(app), app.query_one(WalkTopologyMap), app.query_one(MessageRows)):
            assert widget.region.height > 0 and screen.contains_region(widget.region), widget
        assert not story(app).region.overlaps(app.query_one(MessageRows).region)
        assert app.query_one(MessageRows).scrollable_content_region.height >= 3
        assert not app.query_one(MessageRows).show_horizontal_scrollbar
        assert "step 3 of 5" in story(app).border_subtitle
        assert "◆H111◆" in app.query_one(WalkTopologyMap).render().plain

    run(app, body, size=NARROW)


# -- the command line ----------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["tui", "--walkthrough", "nope"], ["walkthrough", "nope", "--tui"]])
def test_cli_unknown_walkthrough_is_one_line_and_exit_2(argv: list[str], capsys: Any) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no walkthrough 'nope'" in err and "failover" in err and "write" in err


@pytest.mark.parametrize("argv, seed", [(["tui", "--walkthrough", "failover"], None),
                                        (["walkthrough", "failover", "--tui", "--seed", "9"], 9)])
def test_cli_opens_the_lab_in_walkthrough_mode(argv: list[str], seed: int | None, monkeypatch: Any) -> None:
    apps: list[RcnLabApp] = []
    monkeypatch.setattr(RcnLabApp, "run", lambda self, *a, **k: apps.append(self))
    assert cli.main(argv) == 0
    (app,) = apps
    assert app._first_walk is not None
    wt, walk_seed = app._first_walk
    assert wt.name == "failover" and walk_seed == seed

    async def body(pilot: Any) -> None:
        await walk_shown(pilot)
        assert walk(app).player.seed == (5 if seed is None else seed)
        assert story(app).counter == "before step 1 of 5"

    run(app, body)
