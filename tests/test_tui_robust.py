"""The lab a trainee cannot break: the crashes a storm found, one by one; an unexpected
error is shown and logged and the lab goes on; an error the screen cannot survive ends
the process with a non-zero status."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import helpers
from helpers import act, noted, until
from helpers import run_app as run
from textual import events
from textual.app import App
from textual.widgets import Label, Select

from rcnlab.tui import launch
from rcnlab.tui.app import ERROR_LOG, RcnLabApp
from rcnlab.tui.screens.dialogs import PairCreateDialog, WorkloadDialog
from rcnlab.tui.screens.walkthrough import WalkthroughPicker

make_app = functools.partial(helpers.make_app, paused=True)


def burst(app: App[Any], *keys: str) -> None:
    """Keys that arrive together, before the screen has answered the first."""
    for key in keys:
        app.post_message(events.Key(key, None))


async def shown(pilot: Any, cls: type) -> Any:
    """Wait until a dialog of ``cls`` is on screen and laid out (its first field focused)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, cls) and app.screen.focused is not None
                and app.screen.focused.region.area > 0)
    return app.screen


def test_two_quick_enters_in_the_walkthrough_picker_open_one_walkthrough(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, WalkthroughPicker))
        burst(app, "enter", "enter")
        await until(pilot, lambda: app.walk is not None and not app.walk.busy)
        await pilot.pause()
        assert app._exception is None
        assert not isinstance(app.screen, WalkthroughPicker)

    run(app, body)


def test_the_blank_volume_of_the_workload_dialog_is_explained(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await pilot.press("w")
        dialog = await shown(pilot, WorkloadDialog)
        dialog.query_one("#volume", Select).clear()
        await pilot.pause()
        await pilot.click("#ok")
        error = dialog.query_one("#error", Label)
        await until(pilot, lambda: "choose a volume" in str(error.render()))
        assert "NULL" not in str(error.render()) and app.screen is dialog

    run(app, body)


def test_the_create_dialog_opens_without_a_target_to_offer(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        app.ask(PairCreateDialog(app.volumes(), "ST112:0", None))
        await shown(pilot, PairCreateDialog)
        await pilot.click("#ok")
        error = app.screen.query_one("#error", Label)
        await until(pilot, lambda: "choose a source and a target" in str(error.render()))
        assert app._exception is None

    run(app, body)


def test_an_unexpected_error_behind_a_key_is_shown_logged_and_survived(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        def broken() -> None:
            raise ZeroDivisionError("a bug behind t")

        app.action_next_tab = broken  # type: ignore[method-assign]
        await act(pilot, "t")
        await noted(pilot, "ZeroDivisionError: a bug behind t")
        assert app.is_running and app.errors == 1
        assert "a bug behind t" in (tmp_path / ERROR_LOG).read_text()
        await act(pilot, "space")  # the lab goes on
        await until(pilot, lambda: not app.bridge.paused)

    run(app, body)


def test_an_error_the_screen_cannot_survive_exits_non_zero_and_is_logged(tmp_path: Path, monkeypatch: Any) -> None:
    """The process used to exit 0 after a crash."""

    def broken_compose(self: RcnLabApp) -> Any:
        raise RuntimeError("the screen broke")

    monkeypatch.setattr(RcnLabApp, "compose", broken_compose)
    run_app = App.run
    monkeypatch.setattr(RcnLabApp, "run", lambda self: run_app(self, headless=True))
    monkeypatch.chdir(tmp_path)
    assert launch.open_tui(None) == 1
    assert "the screen broke" in (tmp_path / ERROR_LOG).read_text()


def test_typed_brackets_are_words_not_markup(tmp_path: Path) -> None:
    """A filter or a rate with ``[/`` in it once crashed the lab (a markup error)."""
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        await act(pilot, "slash")
        await until(pilot, lambda: app.focused is app.query_one("#event-filter"))
        await pilot.press("left_square_bracket", "slash", "x", "right_square_bracket")
        await until(pilot, lambda: app.query_one("#event-filter").value == "[/x]")
        await pilot.press("escape")
        await act(pilot, "w")
        dialog = await shown(pilot, WorkloadDialog)
        await pilot.press("backspace", "backspace", "backspace", "left_square_bracket", "slash", "b", "enter")
        error = dialog.query_one("#error", Label)
        await until(pilot, lambda: "rate must be a number" in str(error.render()))
        app.notify("a [/b] in a message")
        await pilot.pause()
        assert app._exception is None and app.is_running

    run(app, body)
