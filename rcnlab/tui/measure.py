"""The TUI's overhead, for the benchmark: the lab driven headless (``App.run_test``) at
max speed under a host workload, timed against the same emulation without a screen.

The baseline keeps what the lab keeps besides its screen: a journal of the last
``keep`` events, the live invariant checker and the RPO's suspend tracker. So the
ratio is the cost of the screen (redraws, the host event loop, guest mode); the
bare emulator (no journal: devices build no trace events) is timed as well.

    >>> from rcnlab.tui.measure import measure_tui_overhead
    >>> measure_tui_overhead()["ratio"]      # screen / the same emulation headless
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import trio
import trio.testing

from rcnlab.check.invariants import Checker
from rcnlab.emu.journal import Journal
from rcnlab.lab import Lab
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.ops.registry import do
from rcnlab.topo.load import builtin_topology_path, load_topology
from rcnlab.topo.schema import Topology
from rcnlab.tui import state
from rcnlab.world import World

SOURCE, TARGET = "ST112:0", "ST122:0"
KEEP = 5000  # the lab's journal


def _topology(topo: Topology | None) -> Topology:
    return topo if topo is not None else load_topology(builtin_topology_path())


def time_tui(virtual_seconds: float = 2.0, rate: float = 1000.0, *, seed: int = 0,
             size: tuple[int, int] = (160, 48), topo: Topology | None = None, warmup: float = 0.5) -> float:
    """Wall seconds the lab (screen, journal views, live invariant checker) takes to run
    ``virtual_seconds`` of a ``rate`` writes/s workload on a Duplex pair at max speed.
    The pair is created and brought to Duplex (``warmup`` virtual seconds) before timing."""
    from rcnlab.tui.app import RcnLabApp

    app = RcnLabApp(_topology(topo), seed=seed, paused=True, keep=KEEP)
    result: list[float] = []

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.bridge.started
            await app.bridge.call(do, app.lab, CreatePair(source=SOURCE, target=TARGET))
            await app.bridge.advance(warmup)
            await app.bridge.call(do, app.lab, Workload(volume=SOURCE, rate=rate))
            end_v = app.bridge.virtual_time + virtual_seconds
            t0 = time.perf_counter()
            await app.bridge.set_speed(math.inf)
            await app.bridge.set_paused(False)
            while app.net.kernel.now < end_v:
                if app.bridge.error is not None:
                    raise RuntimeError(f"the emulation stopped: {app.bridge.error!r}")
                await asyncio.sleep(0.005)
            result.append(time.perf_counter() - t0)
            await app.bridge.set_paused(True)
            await pilot.pause()
            await app.bridge.stop()

    asyncio.run(main())
    return result[0]


def time_headless(virtual_seconds: float = 2.0, rate: float = 1000.0, *, seed: int = 0,
                  topo: Topology | None = None, warmup: float = 0.5, as_the_lab: bool = True) -> float:
    """The same run without a screen: wall seconds for the timed part. ``as_the_lab``:
    keep the journal, the checker and the suspend tracker the lab keeps; else the bare
    emulator (no journal, so the devices build no trace events)."""
    clock = trio.testing.MockClock(rate=0)
    net = World(_topology(topo), seed=seed, clock=clock, journal=Journal(keep=KEEP if as_the_lab else 0))
    checker = None
    if as_the_lab:
        net.journal.subscribe(state.SuspendTracker())
        checker = Checker.attach(net)
    lab = Lab(net)
    result: list[float] = []

    async def main() -> None:
        do(lab, CreatePair(source=SOURCE, target=TARGET))
        await net.kernel.run(until=warmup, drain=False)
        do(lab, Workload(volume=SOURCE, rate=rate))
        t0 = time.perf_counter()
        await net.kernel.run(until=warmup + virtual_seconds, drain=False)
        if checker is not None:
            checker.check()  # the lab runs the state checks about once a wall second
        result.append(time.perf_counter() - t0)

    trio.run(main, clock=clock)
    return result[0]


def measure_tui_overhead(quick: bool = False, repeat: int = 3) -> dict[str, Any]:
    """Best of ``repeat`` (interleaved) of each; ``ratio`` is the lab over the same emulation
    headless, ``ratio_to_bare`` the lab over the bare emulator."""
    seconds = 0.5 if quick else 2.0
    repeat = 1 if quick else repeat
    best = {"tui": math.inf, "headless": math.inf, "bare": math.inf}
    for _ in range(repeat):
        best["tui"] = min(best["tui"], time_tui(seconds))
        best["headless"] = min(best["headless"], time_headless(seconds))
        best["bare"] = min(best["bare"], time_headless(seconds, as_the_lab=False))
    return {"virtual_seconds": seconds, "rate": 1000.0, "tui_seconds": best["tui"],
            "headless_seconds": best["headless"], "bare_seconds": best["bare"],
            "ratio": best["tui"] / best["headless"], "ratio_to_bare": best["tui"] / best["bare"]}
