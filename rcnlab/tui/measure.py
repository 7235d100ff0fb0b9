"""The TUI's overhead, for the benchmark: run the lab headless (``App.run_test``) at max
speed under a host workload and time it against the same emulation without a screen.

    >>> from rcnlab.tui.measure import measure_tui_overhead, measure_headless
    >>> tui = measure_tui_overhead(virtual_seconds=2.0)      # wall seconds, with the screen
    >>> bare = measure_headless(virtual_seconds=2.0)         # wall seconds, journal kept alike
    >>> tui / bare                                            # the overhead ratio
"""

from __future__ import annotations

import asyncio
import math
import time

import trio
import trio.testing

from rcnlab.emu.journal import Journal
from rcnlab.emu.network import Network
from rcnlab.lab import Lab
from rcnlab.topo.load import builtin_topology_path, load_topology
from rcnlab.topo.schema import Topology

SOURCE, TARGET = "ST112:0", "ST122:0"


def _topology(topo: Topology | None) -> Topology:
    return topo if topo is not None else load_topology(builtin_topology_path())


def measure_tui_overhead(virtual_seconds: float = 2.0, rate: float = 1000.0, *, seed: int = 0,
                         size: tuple[int, int] = (160, 48), topo: Topology | None = None,
                         source: str = SOURCE, target: str = TARGET, warmup: float = 0.5) -> float:
    """Wall seconds the lab (screen, journal views, live invariant checker) takes to run
    ``virtual_seconds`` of a ``rate`` writes/s workload on a Duplex pair at max speed.
    The pair is created and brought to Duplex (``warmup`` virtual seconds) before timing."""
    from rcnlab.tui.app import RcnLabApp

    app = RcnLabApp(_topology(topo), seed=seed, paused=True)
    result: list[float] = []

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.bridge.started
            await app.bridge.call(app.lab.pair_create, source, target, "async")
            await app.bridge.advance(warmup)
            await app.bridge.call(app.lab.workload, source, rate)
            start_v = app.bridge.virtual_time
            end_v = start_v + virtual_seconds
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


def measure_headless(virtual_seconds: float = 2.0, rate: float = 1000.0, *, seed: int = 0,
                     topo: Topology | None = None, source: str = SOURCE, target: str = TARGET,
                     warmup: float = 0.5, keep: int = 5000) -> float:
    """The same run without a screen: wall seconds for the timed part. ``keep`` keeps a
    journal of that many events as the TUI does (0: no journal, devices skip the events)."""
    clock = trio.testing.MockClock(rate=0)
    net = Network(_topology(topo), seed=seed, clock=clock, journal=Journal(keep=keep))
    lab = Lab(net)
    result: list[float] = []

    async def main() -> None:
        lab.pair_create(source, target, "async")
        await net.kernel.run(until=warmup, drain=False)
        lab.workload(source, rate)
        t0 = time.perf_counter()
        await net.kernel.run(until=warmup + virtual_seconds, drain=False)
        result.append(time.perf_counter() - t0)

    trio.run(main, clock=clock)
    return result[0]
