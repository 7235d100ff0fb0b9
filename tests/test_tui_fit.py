"""Whole at every size a trainee's terminal has: the dialogs fit with every field, their
buttons and their border; the status line keeps the selection at 80 columns."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import run_app as run
from helpers import until
from rich.text import Text
from textual.containers import Vertical
from textual.widget import Widget

from rcnlab.tui.screens.dialogs import DegradeDialog, PairCreateDialog, WorkloadDialog
from rcnlab.tui.widgets.chrome import StatusLine

make_app = functools.partial(helpers.make_app, paused=True)
SIZES = [(80, 24), (100, 30), (160, 48)]


def dialogs(app: Any) -> list[Any]:
    return [lambda: PairCreateDialog(app.volumes(), "ST112:0", "ST122:0"),
            lambda: WorkloadDialog(app.volumes(), "ST112:0", 100.0), lambda: DegradeDialog("E104-C202", 0.01, 2.0, 1.0)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_dialog_fits_whole(size: tuple[int, int], tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        for make in dialogs(app):
            app.ask(dialog := make())
            await until(pilot, lambda: app.screen is dialog and any(b.region.area for b in dialog.query("#cancel")))
            await pilot.pause()
            box = dialog.query_one(Vertical)
            assert app.screen.region.contains_region(box.region), (type(dialog).__name__, box.region)
            assert box.max_scroll_y == 0  # nothing hidden below a scroll
            inner = box.content_region
            for field in box.query(Widget):  # every field, label and button, whole and inside the border
                if field.display and field.parent is box or field.id in ("ok", "cancel"):
                    assert inner.contains_region(field.region), (type(dialog).__name__, field, field.region, inner)
            for label in box.query("RadioButton"):  # each choice's words whole, not cut with an ellipsis
                assert "…" not in label.render_line(0).text
            dialog.close(None)
            await until(pilot, lambda: app.screen is not dialog)

    run(app, body, size=size)


def test_the_status_line_keeps_the_selection_at_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def body(pilot: Any) -> None:
        app.select("E104-C202")
        line = app.query_one("#status", StatusLine)
        await until(pilot, lambda: "E104-C202" in line.render_line(0).text)
        text = line.render_line(0).text
        assert "…" not in text and "t=" in text and "RPO" in text and "ok" in text, text

    run(app, body, size=(80, 24))


def test_status_fields_are_abbreviated_before_they_are_dropped() -> None:
    line = StatusLine()
    line.show([(0, "t=1.000000s", None), (4, "seed 7", None), (2, "workload 100 w/s", "100 w/s"),
               (1, "selected E104", "sel E104")])
    assert line.fitted(60).plain == "t=1.000000s  seed 7  workload 100 w/s  selected E104"
    assert line.fitted(45).plain == "t=1.000000s  workload 100 w/s  selected E104"  # a spare field goes first
    assert line.fitted(40).plain == "t=1.000000s  100 w/s  selected E104"  # then the least important is abridged
    assert line.fitted(30).plain == "t=1.000000s  100 w/s  sel E104"
    assert line.fitted(22).plain == "t=1.000000s  sel E104"  # then the least important goes, whole
    assert line.fitted(5).plain == "t=1.000000s"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_panel_titles_are_shortened_on_purpose_never_cut(size: tuple[int, int], tmp_path: Path) -> None:
    """A panel's border title (the map's legend, the counters' numbers) shows in the longest
    form that fits, whole: never cut with an ellipsis, and it follows a resize."""
    from rcnlab.tui.widgets.counters import Counters
    from rcnlab.tui.widgets.topology import TITLES, TopologyMap

    app = make_app(tmp_path)

    def tops() -> list[str]:  # the top border row of each panel on the screen, as a person sees it
        rows = [strip.text for strip in app.screen._compositor.render_strips()]
        return [rows[w.region.y][w.region.x:w.region.right]
                for w in (app.query_one(TopologyMap), app.query_one(Counters)) if w.region.area]

    async def body(pilot: Any) -> None:
        for width, height in (size, (80, 24), size):
            await pilot.resize_terminal(width, height)
            await until(pilot, lambda: app.size == (width, height) and app.query_one(TopologyMap).region.area > 0)
            await pilot.pause()
            topo = app.query_one(TopologyMap)  # (a layout switch may build the panels anew)
            rows = tops()
            assert rows and all("…" not in row for row in rows), rows
            assert str(topo.border_title) in rows[0] and rows[0].startswith("╭─ Topology")
            if width >= 100:
                assert topo.border_title == TITLES[0]

    run(app, body, size=size)
