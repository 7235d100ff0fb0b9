"""The lab's traps, closed: escape (and Enter) leave the event filter; an empty filter
result says so; failures and state changes stay findable after the log scrolled past
them; a click on a link line selects that link."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import helpers
from helpers import act, until
from helpers import run_app as run
from textual.widgets import Label

from rcnlab.ops.commands import CreatePair, FailLink, RestoreLink, Workload
from rcnlab.tui.widgets.event_log import EventLog, EventRows
from rcnlab.tui.widgets.topology import TopologyMap

make_app = functools.partial(helpers.make_app, paused=True)


async def type_filter(pilot: Any, text: str) -> None:
    app = pilot.app
    await act(pilot, "slash")
    await until(pilot, lambda: app.focused is app.query_one("#event-filter"))
    await pilot.press(*("space" if ch == " " else "exclamation_mark" if ch == "!" else ch for ch in text))
    await until(pilot, lambda: app.query_one(EventLog).filter.endswith(text))


def test_escape_and_enter_leave_the_filter_and_keys_work_again(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        for leave in ("enter", "escape"):
            await type_filter(pilot, "E104")
            await pilot.press(leave)
            await until(pilot, lambda: app.focused is not app.query_one("#event-filter"))
            paused = app.bridge.paused
            await act(pilot, "space")  # a key of the lab again, not a character of the filter
            await until(pilot, lambda: app.bridge.paused is not paused)
            assert app.query_one(EventLog).filter.endswith("E104")

    run(app, body)


def test_a_filter_that_matches_nothing_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await type_filter(pilot, "nosuchevent")
        log = app.query_one(EventLog)
        await until(pilot, lambda: log.has_class("-empty"))
        said = str(log.query_one("#event-empty", Label).render())
        assert "nothing matches 'nosuchevent'" in said and log.query_one("#event-empty").display

    run(app, body)


def test_failures_and_state_changes_stay_findable_after_the_log_scrolled(tmp_path: Path) -> None:
    app = make_app(tmp_path, keep=300)

    async def body(pilot: Any) -> None:
        await app.command("create pair", CreatePair(source="ST112:0", target="ST122:0"))
        await app.bridge.advance(1.0)
        await app.command("cut", FailLink(link="E104-C202"))
        await app.bridge.advance(1.1)
        await app.command("restore", RestoreLink(link="E104-C202"))
        await app.command("workload", Workload(volume="ST112:0", rate=2000.0))
        await app.bridge.advance(2.0)  # thousands of events: the log of 300 scrolled far past the cut
        assert not any(ev.event == "link-failed" for ev in app.journal.recent)
        await type_filter(pilot, "!")
        await until(pilot, lambda: any(ev.event == "link-failed" for ev in app.query_one(EventRows).rows))
        rows = app.query_one(EventRows).rows
        assert any(ev.event == "pair-state" for ev in rows)

    run(app, body)


def test_a_click_on_a_link_line_selects_that_link(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        m = app.query_one(TopologyMap)
        cells = [cell for cell, name in m._hits.items() if name == "E104-C202"]
        x, y = cells[len(cells) // 2]
        await pilot.click(TopologyMap, offset=(x + 1, y + 1))  # the map's border is one cell
        await until(pilot, lambda: app.selected == "E104-C202")

    run(app, body)
