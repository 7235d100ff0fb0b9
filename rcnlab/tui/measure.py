"""The TUI's targets, for the benchmark (``rcnlab bench``), each on the lab driven
headless (``App.run_test``):

- overhead: at max speed under a host workload, timed against the same emulation
  without a screen (target: at most 1.3x);
- key-to-screen latency: at max speed under 5,000 writes/s, from a key (``n``) to the
  redraw of the panel it changes (target: median under 0.1 s);
- memory: a long run at x1 (virtual time; an hour at 100 writes/s, run at max speed),
  the growth of traced memory past the warm-up (target: flat, at most
  MEMORY_TARGET bytes per write).

The baseline keeps what the lab keeps besides its screen: a journal of the last
``keep`` events, the live invariant checker and the RPO's suspend tracker. So the
ratio is the cost of the screen (redraws, the host event loop, guest mode); the
bare emulator (no journal: devices build no trace events) is timed as well.

    >>> from rcnlab.tui.measure import measure_tui
    >>> for line in measure_tui(quick=True)["lines"]: print(line)
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import statistics
import time
import tracemalloc
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
             size: tuple[int, int] = (160, 48), topo: Topology | None = None,
             warmup: float = 0.5) -> tuple[float, float]:
    """Wall seconds the lab (screen, journal views, live invariant checker) takes to run
    ``virtual_seconds`` of a ``rate`` writes/s workload on a Duplex pair at max speed, and
    the CPU seconds this process spent meanwhile.
    The pair is created and brought to Duplex (``warmup`` virtual seconds) before timing."""
    from rcnlab.tui.app import RcnLabApp

    app = RcnLabApp(_topology(topo), seed=seed, paused=True, keep=KEEP)
    result: list[tuple[float, float]] = []

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.bridge.started
            await app.bridge.call(do, app.lab, CreatePair(source=SOURCE, target=TARGET))
            await app.bridge.advance(warmup)
            await app.bridge.call(do, app.lab, Workload(volume=SOURCE, rate=rate))
            end_v = app.bridge.virtual_time + virtual_seconds
            t0, c0 = time.perf_counter(), time.process_time()
            await app.bridge.set_speed(math.inf)
            await app.bridge.set_paused(False)
            while app.net.kernel.now < end_v:
                if app.bridge.error is not None:
                    raise RuntimeError(f"the emulation stopped: {app.bridge.error!r}")
                await asyncio.sleep(0.005)
            result.append((time.perf_counter() - t0, time.process_time() - c0))
            await app.bridge.set_paused(True)
            await pilot.pause()
            await app.bridge.stop()

    asyncio.run(main())
    return result[0]


def time_headless(virtual_seconds: float = 2.0, rate: float = 1000.0, *, seed: int = 0,
                  topo: Topology | None = None, warmup: float = 0.5,
                  as_the_lab: bool = True) -> tuple[float, float]:
    """The same run without a screen: wall seconds for the timed part. ``as_the_lab``:
    keep the journal, the checker and the suspend tracker the lab keeps; else the bare
    emulator (no journal, so the devices build no trace events)."""
    clock = trio.testing.MockClock(rate=0)
    net = World(_topology(topo), seed=seed, clock=clock, journal=Journal(keep=KEEP if as_the_lab else 0))
    checker = None
    if as_the_lab:
        net.journal.subscribe(state.SuspendTracker(), state.SuspendTracker.EVENTS)
        checker = Checker.attach(net)
    lab = Lab(net)
    result: list[tuple[float, float]] = []

    async def main() -> None:
        do(lab, CreatePair(source=SOURCE, target=TARGET))
        await net.kernel.run(until=warmup, drain=False)
        do(lab, Workload(volume=SOURCE, rate=rate))
        t0, c0 = time.perf_counter(), time.process_time()
        await net.kernel.run(until=warmup + virtual_seconds, drain=False)
        if checker is not None:
            checker.check()  # the lab runs the state checks about once a wall second
        result.append((time.perf_counter() - t0, time.process_time() - c0))

    trio.run(main, clock=clock)
    return result[0]


def measure_tui_overhead(quick: bool = False, repeat: int = 3) -> dict[str, Any]:
    """Best of ``repeat`` (interleaved) of each; ``ratio`` is the lab over the same emulation
    headless, ``ratio_to_bare`` the lab over the bare emulator. The runs are long enough
    (5 virtual s, a few wall seconds) to hold several of the lab's redraws (2 a second at
    max) and state checks (1 a second): a run of half a second may hold none, and the
    best of a few such runs would hide the screen's cost."""
    seconds = 0.5 if quick else 5.0
    repeat = 1 if quick else repeat
    best = {"tui": math.inf, "headless": math.inf, "bare": math.inf}
    cpu = dict(best)
    for _ in range(repeat):
        for name, (w, c) in (("tui", time_tui(seconds)), ("headless", time_headless(seconds)),
                             ("bare", time_headless(seconds, as_the_lab=False))):
            best[name], cpu[name] = min(best[name], w), min(cpu[name], c)
    return {"virtual_seconds": seconds, "rate": 1000.0, "tui_seconds": best["tui"],
            "headless_seconds": best["headless"], "bare_seconds": best["bare"],
            "ratio": best["tui"] / best["headless"], "ratio_to_bare": best["tui"] / best["bare"],
            "tui_cpu_seconds": cpu["tui"], "headless_cpu_seconds": cpu["headless"],
            "cpu_ratio": cpu["tui"] / cpu["headless"]}


OVERHEAD_TARGET = 1.3
LATENCY_TARGET = 0.1  # wall seconds, median
MEMORY_TARGET = 10.0  # bytes per write of growth past the warm-up (an hour at 100 writes/s: 3.6 MB)


def _lab(seed: int = 0, topo: Topology | None = None) -> Any:
    from rcnlab.tui.app import RcnLabApp

    return RcnLabApp(_topology(topo), seed=seed, paused=True, keep=KEEP)


async def _duplex_with_writes(app: Any, rate: float, warmup: float = 0.5) -> None:
    """A Duplex pair under a ``rate`` writes/s workload (on the lab's write span), paused."""
    from rcnlab.tui.app import WRITE_SPAN

    await app.bridge.started
    await app.bridge.call(do, app.lab, CreatePair(source=SOURCE, target=TARGET))
    await app.bridge.advance(warmup)
    await app.bridge.call(do, app.lab, Workload(volume=SOURCE, rate=rate, blocks=(0, WRITE_SPAN)))


def key_latency(presses: int = 20, rate: float = 5000.0, *, seed: int = 0,
                size: tuple[int, int] = (160, 48), topo: Topology | None = None) -> list[float]:
    """Wall seconds from each of ``presses`` keys (``n``: operator names) to the redraw of
    the pair panel it changes, at max speed under ``rate`` writes/s."""
    from textual import events

    from rcnlab.tui.widgets.pair_panel import PairPanel

    app = _lab(seed, topo)
    latencies: list[float] = []

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await _duplex_with_writes(app, rate)
            panel = app.query_one(PairPanel)
            drawn: list[tuple[float, bool]] = []
            render = panel.render

            def timed_render() -> Any:  # the compositor draws the panel: the screen shows it
                out = render()
                drawn.append((time.perf_counter(), panel.operator_names))
                return out

            panel.render = timed_render  # type: ignore[method-assign]
            await app.bridge.set_speed(math.inf)
            await app.bridge.set_paused(False)
            for _ in range(presses):
                await asyncio.sleep(0.1)  # the emulation runs flat out between two keys
                want, seen = not panel.operator_names, len(drawn)
                t0 = time.perf_counter()
                app.post_message(events.Key("n", "n"))
                while not any(names is want for _, names in drawn[seen:]):
                    if time.perf_counter() - t0 > 10 or app.bridge.error is not None:
                        raise RuntimeError(f"the key was not answered ({app.bridge.error!r})")
                    await asyncio.sleep(0.001)
                latencies.append(next(t for t, names in drawn[seen:] if names is want) - t0)
            await app.bridge.set_paused(True)
            await pilot.pause()
            await app.bridge.stop()

    asyncio.run(main())
    return latencies


def _resident() -> int:
    """This process's resident memory in bytes (Linux), else Python's traced memory."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        return tracemalloc.get_traced_memory()[0]


#: The memory run's warm-up writes every block of the span once at this many writes per virtual second.
FILL_RATE = 2000.0


def _fill(app: Any, volume: str, span: int, rate: float = FILL_RATE) -> None:
    """Inside trio: the source host of ``volume`` writes each of its first ``span`` blocks
    once, in order, ``rate`` a virtual second."""
    net = app.net
    storage_name, lun = volume.split(":")
    storage = net.device(storage_name)
    host = next(h for h in net.hosts if h.spec.storage == storage_name)
    ref, kernel = storage.ref(int(lun)), net.kernel
    for block in range(span):
        kernel.call_later(block / rate, host.write, ref, block)


def memory_growth(virtual_seconds: float = 3600.0, rate: float = 100.0, *, span: int = 4000, seed: int = 0,
                  samples: int = 12, size: tuple[int, int] = (160, 48),
                  topo: Topology | None = None) -> dict[str, Any]:
    """The lab at ``rate`` writes/s on ``span`` blocks for ``virtual_seconds`` (the
    emulation run at once between samples, the screen redrawn at each): resident memory
    at ``samples`` instants; the growth per write is the slope of a straight line through
    the samples past the first quarter.

    Before, the warm-up writes every block of the span once (in order): what the lab keeps
    per block written (the volumes' data, the checker's last write of each block, the
    bitmaps) is then as large as it gets, as it is after a long enough run (random writes
    take about span x ln(span) writes to touch every block: 4.2 hours at 100 writes/s on
    the lab's 40,000). ``bytes_per_block`` is what that costs, the bound; the first
    quarter fills what is bounded by a count (the journal's last events, the charts'
    points). What grows past them grows without bound."""
    app = _lab(seed, topo)
    points: list[tuple[float, int]] = []
    filled: list[int] = []

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.bridge.started
            await app.bridge.call(do, app.lab, CreatePair(source=SOURCE, target=TARGET))
            await app.bridge.advance(0.5)
            gc.collect()
            filled.append(_resident())
            await app.bridge.call(_fill, app, SOURCE, span)
            await app.bridge.advance(app.net.kernel.now + span / FILL_RATE + 1.0)
            app.refresh_views(force=True)
            await pilot.pause()
            gc.collect()
            filled.append(_resident())
            await app.bridge.call(do, app.lab, Workload(volume=SOURCE, rate=rate, blocks=(0, span)))
            start = app.net.kernel.now
            for i in range(1, samples + 1):
                await app.bridge.advance(start + virtual_seconds * i / samples)
                app.refresh_views(force=True)
                await pilot.pause()
                gc.collect()
                points.append((sum(h.issued for h in app.net.hosts), _resident()))
            await app.bridge.stop()

    asyncio.run(main())
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    tail = points[len(points) // 4:]
    slope = statistics.linear_regression([float(w) for w, _ in tail], [float(b) for _, b in tail]).slope
    return {"virtual_seconds": virtual_seconds, "rate": rate, "span": span, "writes": points[-1][0] - span,
            "bytes_first": points[0][1], "bytes_last": points[-1][1], "bytes_per_write": slope,
            "bytes_per_hour": slope * rate * 3600, "bytes_per_block": (filled[1] - filled[0]) / span}


def measure_tui(quick: bool = False) -> dict[str, Any]:
    """The three targets, measured: the overhead's numbers at the top level (``met``: its
    target), ``targets`` each met or not, ``lines`` the same in words, with the numbers."""
    from rcnlab.tui.app import WRITE_SPAN

    overhead = measure_tui_overhead(quick=quick)
    latencies = key_latency(presses=3 if quick else 20)
    memory = (memory_growth(30.0, span=1000, samples=4) if quick
              else memory_growth(3600.0, span=WRITE_SPAN, samples=12))
    median = statistics.median(latencies)
    met = {"overhead": overhead["ratio"] <= OVERHEAD_TARGET, "latency": median < LATENCY_TARGET,
           "memory": memory["bytes_per_write"] <= MEMORY_TARGET}
    word = {True: "met", False: "NOT met"}
    lines = [
        f"TUI overhead: {overhead['ratio']:.2f}x the same emulation headless in wall time ({word[met['overhead']]}, "
        f"target <= {OVERHEAD_TARGET}x), {overhead['cpu_ratio']:.2f}x in CPU time; "
        f"{overhead['ratio_to_bare']:.2f}x the bare emulator (no journal, no checker)",
        f"TUI key-to-screen latency at max speed, 5,000 writes/s: median {median * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} keys ({word[met['latency']]}, "
        f"target median < {LATENCY_TARGET * 1000:.0f} ms)",
        f"TUI memory over {memory['virtual_seconds']:g} virtual s at {memory['rate']:g} writes/s "
        f"on {memory['span']:,} blocks ({memory['writes']:,} writes): {memory['bytes_per_write']:.1f} bytes per write "
        "past the warm-up, "
        f"{memory['bytes_per_hour'] / 1e6:.2f} MB per hour ({word[met['memory']]}, target <= {MEMORY_TARGET:g}); "
        f"what the lab keeps per block written, at most once per block of the span: "
        f"{memory['bytes_per_block']:,.0f} bytes ({memory['bytes_per_block'] * memory['span'] / 1e6:.1f} MB)",
    ]
    return {**overhead, "target": OVERHEAD_TARGET, "met": met["overhead"], "targets": met,
            "latency": {"median": median, "max": max(latencies), "seconds": latencies, "target": LATENCY_TARGET},
            "memory": {**memory, "target": MEMORY_TARGET}, "lines": lines}
