"""The lab's clock and its cost: "max" never freezes virtual time; a paused lab draws
nothing (it uses no CPU); what the screen keeps is bounded."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from helpers import act, make_app, run_app as run, until
from rcnlab.ops.commands import CreatePair
from rcnlab.tui.widgets.chrome import StatusLine
from rcnlab.tui.widgets.topology import TopologyMap


def test_at_max_virtual_time_goes_on_while_nothing_is_written(tmp_path: Path) -> None:
    """It used to stand still as soon as only housekeeping timers were left."""
    app = make_app(tmp_path, speed=math.inf)

    async def body(pilot: Any) -> None:
        assert app.net.kernel.live <= 0  # nothing to do but housekeeping
        start = app.bridge.virtual_time
        await until(pilot, lambda: app.bridge.virtual_time > start + 2.0, timeout=30)
        await until(pilot, lambda: "t=" in str(app.query_one(StatusLine).render())
                    and float(str(app.query_one(StatusLine).render()).split("t=")[1].split("s")[0]) > start + 1.0,
                    timeout=30)

    run(app, body)


def test_at_max_work_that_arrives_runs_at_once(tmp_path: Path) -> None:
    app = make_app(tmp_path, speed=math.inf)

    async def body(pilot: Any) -> None:
        await until(pilot, lambda: app.bridge.virtual_time > 0.5, timeout=30)
        await app.command("create pair", CreatePair(source="ST112:0", target="ST122:0"))
        await until(pilot, lambda: app.net.kernel.events_run > 50, timeout=30)

    run(app, body)


def test_a_paused_lab_draws_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    """A paused lab's timer finds nothing changed and redraws nothing (it used to
    re-render the status line twelve times a second)."""
    app = make_app(tmp_path, paused=True, preload=2000)
    renders: list[str] = []
    for cls in (StatusLine, TopologyMap):
        original = cls.render

        def counting(self: Any, original: Any = original, name: str = cls.__name__) -> Any:
            renders.append(name)
            return original(self)

        monkeypatch.setattr(cls, "render", counting)

    async def body(pilot: Any) -> None:
        await act(pilot, "t")  # something to draw, then quiet
        ticks = app.ticks
        await until(pilot, lambda: app.ticks >= ticks + 3)
        renders.clear()
        ticks = app.ticks
        await until(pilot, lambda: app.ticks >= ticks + 12)
        assert renders == []

    run(app, body)


def test_the_labs_workloads_write_a_bounded_span_so_memory_stays_flat(tmp_path: Path) -> None:
    """A workload over a volume's first WRITE_SPAN blocks: once each has been written,
    the volume, the bitmaps and the checker's history stop growing."""
    from rcnlab.ops.commands import Workload
    from rcnlab.tui.app import WRITE_SPAN

    app = make_app(tmp_path, paused=True)

    async def body(pilot: Any) -> None:
        assert await app.start_workload(Workload(volume="ST112:0", rate=100.0))
        (wl,) = app.net.host_named["H111"].workloads
        assert (wl.first, wl.last) == (0, WRITE_SPAN)
        assert app.stage.notable.maxlen and app.journal.recent.maxlen == 5000

    run(app, body)
