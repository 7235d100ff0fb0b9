"""``rcnlab bench``: how fast the emulator is, as ratios measured in one run.

Everything is measured in one process on this machine and compared as ratios, so
the figures mean something on a shared or slow machine too:

- headless throughput: replicated writes per wall second for an asynchronous
  pair on Fig. 1 with no faults, end to end (written at the source storage 112,
  reflected at the target storage 122, the answer back at the source edge 104),
  bare (no journal: devices build no trace events), against two minimal models of
  the same path: a plain trio memory-channel chain with as many hops, and a minimal
  SimPy model of the same hops and latencies (target: 1.5x the SimPy model);
- the checked path: the same run with the journal and the live invariant checker
  (what ``rcnlab run``, the fuzzer and the TUI run), and its state checks at the end,
  against the bare run (target: at most 1.5x);
- fuzz seeds and events per core-second (the campaign's default parameters, one process);
- scaling curves as per-write cost ratios: pairs, core hops, the target edge's
  backlog (log storage area 413) and the number of edge devices;
- memory: bytes per held log entry 211 beyond its payload, and per written block;
- the TUI's overhead: the lab driven headless against the same emulation without a
  screen (rcnlab.tui.measure).

Each timed run starts after a full garbage collection and a ``gc.freeze()``, so the
collector's passes over what existed before it (modules, earlier runs) are not charged
to it. A target not met is reported with what holds it back: the functions that take
the most time in a profile of the run (for the checked path, what it adds to the bare
run's profile).

Nothing here asserts a time; ``--quick`` runs tiny sizes (CI keeps it working).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import json
import math
import platform
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import trio
import trio.testing

from rcnlab.apps import bench as app_bench
from rcnlab.check.invariants import Checker
from rcnlab.devices.storage import Volume
from rcnlab.emu.journal import Journal
from rcnlab.errors import BadInput
from rcnlab.fuzz.campaign import BUDGET_EVENTS
from rcnlab.fuzz.gen import FAULT_KINDS
from rcnlab.fuzz.records import Params
from rcnlab.fuzz.work import Job
from rcnlab.lab import Lab
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES
from rcnlab.model.rio import RIO_HEADER_BYTES
from rcnlab.ops.commands import CreatePair
from rcnlab.ops.registry import do
from rcnlab.topo.load import load_builtin_topology, parse_topology
from rcnlab.topo.schema import Topology
from rcnlab.world import World

#: The largest growth of per-write cost from the smallest to the largest point of a curve.
SCALING_TARGET = 1.25
#: The bare emulator's throughput over the minimal SimPy model's, at least.
SIMPY_TARGET = 1.5
#: The checked path's cost over the bare emulator's, at most.
CHECKED_TARGET = 1.5
#: Profile entries a target not met names.
HOT_SPOTS = 8
#: Bytes a held log entry may cost beyond its payload.
HELD_ENTRY_TARGET = 256
BLOCK_SIZE = 512
WRITE_RATE = 2000.0  # writes per virtual second in the throughput and scaling runs


# -- topologies ---------------------------------------------------------------------------------
def _wwn(n: int) -> str:
    return "50:06:0e:80:" + ":".join(f"{(n >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))


def _ip(n: int) -> str:
    return f"10.{(n >> 16) & 0xFF}.{(n >> 8) & 0xFF}.{n & 0xFF}"


def generate_topology(*, cores: int = 1, luns: int = 1, edge_pairs: int = 1, gbe_latency_ms: float = 1.5,
                      resend_timeout_ms: float = 50.0, name: str = "bench") -> Topology:
    """A topology like Fig. 1, grown along one axis.

    ``edge_pairs`` customers, each with a source storage (and host) on one edge and a
    target storage on another; ``luns`` volumes per storage (a pair each); the edges
    of a customer are joined through a chain of ``cores`` core devices (0: a direct
    GbE link). With several edge pairs every edge reaches one shared core (a star),
    so the route of each customer still crosses ``cores`` cores.
    """
    if edge_pairs > 1 and cores != 1:
        raise ValueError("several edge pairs share one core")
    out = [f'[lab]\nname = "{name}"\nblock_size = {BLOCK_SIZE}\n',
           '[management]\nname = "M103"\ncollect_interval_ms = 500\nlatency_ms = 1\n']
    links: list[tuple[str, str, str, str]] = []  # (a, b, kind, extra)
    gbe = f"latency_ms = {gbe_latency_ms}"
    volumes = "[" + ", ".join(f"{{ lun = {n}, blocks = 1048576 }}" for n in range(luns)) + "]"
    for c in range(edge_pairs):
        out.append(f'[[customer]]\nid = "C{c}"\nmax_pairs = {max(64, luns)}\nmax_storages = 16\n')
        for side, n in (("S", 2 * c), ("T", 2 * c + 1)):
            out.append(f'[[edge]]\nname = "E{n}"\nip = "{_ip(1000 + n)}"\nsite = "{"source" if side == "S" else "target"}"\n'
                       f"resend_timeout_ms = {resend_timeout_ms}\nlog_capacity = {1 << 34}\n")
            out.append(f'[[storage]]\nname = "{side}{c}"\nwwn = "{_wwn(n + 1)}"\ncustomer = "C{c}"\n'
                       f'site = "{"source" if side == "S" else "target"}"\nedge = "E{n}"\nvolumes = {volumes}\n')
            out.append(f'[[host]]\nname = "H{side}{c}"\ncustomer = "C{c}"\n'
                       f'site = "{"source" if side == "S" else "target"}"\nstorage = "{side}{c}"\n')
            links.append((f"H{side}{c}", f"{side}{c}", "scsi", ""))
            links.append((f"{side}{c}", f"E{n}", "fc", ""))
    for k in range(cores):
        out.append(f'[[core]]\nname = "K{k}"\nip = "{_ip(k + 1)}"\ncapacity = 1024\n')
    if edge_pairs > 1:
        for n in range(2 * edge_pairs):
            links.append((f"E{n}", "K0", "gbe", gbe))
    else:
        chain = ["E0"] + [f"K{k}" for k in range(cores)] + ["E1"]
        for a, b in zip(chain, chain[1:]):
            links.append((a, b, "gbe", gbe))
    for a, b, kind, extra in links:
        out.append(f'[[link]]\na = "{a}"\nb = "{b}"\nkind = "{kind}"\n{extra}\n')
    return parse_topology("\n".join(out), f"<bench:{name}>")


# -- driving the emulator -------------------------------------------------------------------------
class Stopwatch:
    """Wall seconds and this process's CPU seconds. Wall time is what the targets
    speak of; CPU time is steadier when other work shares the cores, so the scaling
    curves use it. It starts after a full collection, with what exists frozen (`gc.freeze`)."""

    def __init__(self) -> None:
        gc.collect()
        gc.freeze()
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.wall = self.cpu = 0.0

    def stop(self) -> Stopwatch:
        self.wall, self.cpu = time.perf_counter() - self.wall0, time.process_time() - self.cpu0
        gc.unfreeze()
        return self


def _run(net: World, until: float = math.inf) -> Stopwatch:
    """Run the kernel (headless) to drain or ``until``; how long it took."""
    clock = net.kernel.clock
    watch = Stopwatch()
    trio.run(net.kernel.run, until, True, clock=clock)
    return watch.stop()


def _paired(topo: Topology, seed: int = 1, checked: bool = False) -> tuple[World, Lab, list[tuple[Any, Any, Any]]]:
    """A network whose every source volume is paired (async) with its target, in Duplex;
    ``checked``: with the journal and the live invariant checker following it.
    Returns (net, lab, [(host, source storage, source ref, target storage)])."""
    net = World(topo, seed=seed, journal=Journal())
    if checked:
        Checker.attach(net)
    lab = Lab(net)
    pairs = []
    for storage in net.storages:
        if not storage.name.startswith("S"):
            continue
        target = net.device("T" + storage.name[1:])
        host = net.device("H" + storage.name)
        for lun in sorted(storage.volumes):
            do(lab, CreatePair(source=f"{storage.name}:{lun}", target=f"{target.name}:{lun}"))
            pairs.append((host, storage, storage.ref(lun), target))
    _run(net)
    for _, storage, ref, _ in pairs:
        state = storage.pairs[ref.lun].state
        if str(state) != "Duplex":
            raise RuntimeError(f"bench set-up: pair {storage.name}:{ref.lun} is {state}, not Duplex")
    return net, lab, pairs


def _workload(net: World, pairs: Sequence[tuple[Any, Any, Any, Any]], writes: int,
              rate: float = WRITE_RATE) -> None:
    """Schedule ``writes`` host writes at ``rate`` per virtual second, round robin over the pairs."""
    kernel = net.kernel
    interval = 1.0 / rate
    n = len(pairs)
    count = [0]

    def tick() -> None:
        i = count[0]
        if i >= writes:
            return
        count[0] = i + 1
        host, _, ref, _ = pairs[i % n]
        host.write(ref, (i // n) % 4096)
        kernel.call_later(interval, tick)

    kernel.call_later(0.0, tick)


def _replicated(net: World, pairs: Sequence[tuple[Any, Any, Any, Any]]) -> int:
    return sum({id(t): t.reflected_writes for *_, t in pairs}.values())


def _frames(net: World) -> int:
    return sum(ch.delivered for ch in net.channels.values())


def emulator_run(topo: Topology, writes: int, rate: float = WRITE_RATE, checked: bool = False,
                 profile: cProfile.Profile | None = None) -> dict[str, float]:
    """Replicated writes through ``topo``: wall seconds of the workload, per write and per
    frame. ``checked``: with the journal and the live checker, and the state checks at the
    end. ``profile`` profiles the timed part."""
    net, _, pairs = _paired(topo, checked=checked)
    before, frames = _replicated(net, pairs), _frames(net)
    _workload(net, pairs, writes, rate)
    checker = Checker.attach(net) if checked else None
    watch = Stopwatch()
    if profile is not None:
        profile.enable()
    trio.run(net.kernel.run, math.inf, True, clock=net.kernel.clock)
    if checker is not None:
        checker.check()
    if profile is not None:
        profile.disable()
    watch.stop()
    if checker is not None and not checker.ok:
        raise RuntimeError(f"bench: the checker found {checker.violations[0]}")
    done = _replicated(net, pairs) - before
    if done != writes or any(e.held for e in net.edges):
        raise RuntimeError(f"bench: {done} of {writes} writes replicated, "
                           f"{sum(len(e.held) for e in net.edges)} log entries unanswered")
    frames = _frames(net) - frames
    return {"seconds": watch.wall, "cpu_seconds": watch.cpu, "writes": writes, "per_write": watch.cpu / writes,
            "frames_per_write": frames / writes, "per_frame": watch.cpu / frames}


def backlog_run(backlog: int, rate: float = 20000.0) -> dict[str, float]:
    """Reflection cost per entry when ``backlog`` entries wait at the target edge.

    The first write's log entry is held up on the source edge's GbE link (its
    latency raised for that one frame) while ``backlog`` more writes pile up in the
    target edge's log storage area 413, each waiting for its turn (2003). When the
    first arrives, the target edge reflects all of them in order; only that part
    is timed: reflection at the target storage and the answer back to the source.
    """
    fill = backlog / rate
    delay = fill + 0.05
    reflect = (backlog + 1) * 100e-6  # generous: a round trip over FC per entry
    topo = generate_topology(resend_timeout_ms=(delay + reflect + 1.0) * 1000 * 2)
    net, _, pairs = _paired(topo)
    host, storage, ref, target = pairs[0]
    route = net.management.routes[0].devices
    ch = net.channels[(route[0], route[1])]
    before = target.reflected_writes
    normal = ch.latency
    ch.latency = delay
    host.write(ref, 0)
    _run(net, until=net.kernel.now + 0.001)  # the first entry is on its slow way
    ch.latency = normal
    _workload(net, pairs, backlog, rate)
    start_t = net.kernel.now
    _run(net, until=start_t + fill + 0.01)
    inbound = net.device(target.edge).inbound
    waiting = sum(len(b.pending) for b in inbound.values())
    if waiting < backlog:
        raise RuntimeError(f"bench: backlog {waiting} of {backlog} entries at the target edge")
    watch = _run(net)
    done = target.reflected_writes - before
    if done != backlog + 1:
        raise RuntimeError(f"bench: {done} of {backlog + 1} writes reflected")
    return {"seconds": watch.wall, "cpu_seconds": watch.cpu, "entries": backlog + 1,
            "per_write": watch.cpu / (backlog + 1)}


# -- minimal models of the same path ----------------------------------------------------------------
def fig1_hops(topo: Topology) -> list[float]:
    """One-way delays of the ten messages of one asynchronous write on Fig. 1: the
    host's WR and its answer, the source edge's WR and WROK, the entry over the GbE
    hops and the target storage, and the answer back over the GbE hops."""
    links = {(ls.a, ls.b): ls for ls in topo.links} | {(ls.b, ls.a): ls for ls in topo.links}
    size = RIO_HEADER_BYTES + topo.block_size
    entry = LOG_ENTRY_HEADER_BYTES + size

    def d(a: str, b: str, n: int) -> float:
        ls = links[(a, b)]
        return ls.latency + n / ls.bandwidth

    return [d("H111", "ST112", size), d("ST112", "H111", RIO_HEADER_BYTES), d("ST112", "E104", size),
            d("E104", "ST112", RIO_HEADER_BYTES), d("E104", "C202", entry), d("C202", "E105", entry),
            d("E105", "ST122", size), d("ST122", "E105", RIO_HEADER_BYTES),
            d("E105", "C202", entry - size + RIO_HEADER_BYTES), d("C202", "E104", entry - size + RIO_HEADER_BYTES)]


def trio_chain(writes: int, hops: int = 10) -> Stopwatch:
    """Wall seconds for ``writes`` messages through a chain of ``hops`` trio memory
    channels, one relay task per hop (the path out and the answers back)."""
    result: list[Stopwatch] = []

    async def relay(rx: trio.MemoryReceiveChannel, tx: trio.MemorySendChannel) -> None:
        async with rx, tx:
            async for msg in rx:
                await tx.send(msg)

    async def main() -> None:
        pairs = [trio.open_memory_channel(64) for _ in range(hops)]
        async with trio.open_nursery() as nursery:
            for i in range(hops - 1):
                nursery.start_soon(relay, pairs[i][1], pairs[i + 1][0])
            head, tail = pairs[0][0], pairs[-1][1]
            watch = Stopwatch()

            async def produce() -> None:
                async with head:
                    for i in range(writes):
                        await head.send(i)

            nursery.start_soon(produce)
            got = 0
            async with tail:
                async for _ in tail:
                    got += 1
                    if got == writes:
                        break
            result.append(watch.stop())

    trio.run(main)
    return result[0]


def simpy_devices(writes: int, delays: Sequence[float], rate: float = WRITE_RATE) -> Stopwatch:
    """Wall seconds for a minimal SimPy model of the same hops and latencies: one
    process per device with an inbox (a Store); a message crosses a link by a
    timeout, then lands in the next device's inbox. Writes go out at ``rate``."""
    import simpy

    env = simpy.Environment()
    hops = len(delays)
    inboxes = [simpy.Store(env) for _ in range(hops)]  # device i receives message hop i
    done = [0]

    def cross(i: int, msg: int) -> None:
        t = env.timeout(delays[i], msg)
        t.callbacks.append(lambda ev: inboxes[i].put(ev.value))

    def device(i: int):  # type: ignore[no-untyped-def]
        inbox = inboxes[i]
        while True:
            msg = yield inbox.get()
            if i + 1 < hops:
                cross(i + 1, msg)
            else:
                done[0] += 1

    def host():  # type: ignore[no-untyped-def]
        for n in range(writes):
            cross(0, n)
            yield env.timeout(1.0 / rate)

    for i in range(hops):
        env.process(device(i))
    env.process(host())
    watch = Stopwatch()
    env.run()
    watch.stop()
    if done[0] != writes:
        raise RuntimeError("bench: the SimPy model lost writes")
    return watch


def simpy_bare(writes: int, delays: Sequence[float], rate: float = WRITE_RATE) -> Stopwatch:
    """The barest SimPy model: one process per write, one timeout per hop (no devices)."""
    import simpy

    env = simpy.Environment()
    done = [0]

    def write():  # type: ignore[no-untyped-def]
        for d in delays:
            yield env.timeout(d)
        done[0] += 1

    def host():  # type: ignore[no-untyped-def]
        for _ in range(writes):
            env.process(write())
            yield env.timeout(1.0 / rate)

    env.process(host())
    watch = Stopwatch()
    env.run()
    watch.stop()
    if done[0] != writes:
        raise RuntimeError("bench: the SimPy model lost writes")
    return watch


# -- what holds a target back -------------------------------------------------------------------
def profile_of(topo: Topology, writes: int, checked: bool = False) -> dict[str, float]:
    """Seconds of own time (cProfile's tottime) per function of the timed part of an `emulator_run`."""
    prof = cProfile.Profile()
    emulator_run(topo, writes, checked=checked, profile=prof)
    stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    return {_where(key): row[2] for key, row in stats.items()}


def _where(key: tuple[str, int, str]) -> str:
    path, line, name = key
    if "rcnlab/" in path:
        path = "rcnlab/" + path.rsplit("rcnlab/", 1)[1]
    return f"{path}:{line}({name})" if line else name


def hot_spots(profile: dict[str, float], writes: int, less: dict[str, float] | None = None,
              n: int = HOT_SPOTS) -> list[dict[str, Any]]:
    """The ``n`` functions with the most own time per write (less their time in ``less``,
    the profile of a run this one adds to), each with its share of the profile's total
    (or of what it adds). Times under a profiler are inflated: the shares are what count."""
    less = less or {}
    extra = {k: v - less.get(k, 0.0) for k, v in profile.items()}
    total = sum(v for v in extra.values() if v > 0) or 1.0
    top = sorted(extra.items(), key=lambda kv: -kv[1])[:n]
    return [{"function": k, "us_per_write": round(v / writes * 1e6, 2), "share": round(v / total, 3)}
            for k, v in top if v > 0]


# -- fuzzing --------------------------------------------------------------------------------------
def fuzz_rate(seeds: int) -> dict[str, Any]:
    """Seeds and kernel events per core-second: ``seeds`` seeds of a campaign with the
    default parameters (every fault kind, the wide envelope, the event budget), one after
    another in this process, each with its checker (no trace digest, as a campaign)."""
    job = Job(params=Params(faults=FAULT_KINDS, budget_events=BUDGET_EVENTS))
    events = 0
    kinds: dict[str, int] = {}
    watch = Stopwatch()
    for seed in range(seeds):
        got = job.run(seed)
        events += got["events"]
        kinds[got["kind"]] = kinds.get(got["kind"], 0) + 1
    watch.stop()
    return {"seeds": seeds, "events": events, "cpu_seconds": watch.cpu, "seeds_per_core_s": seeds / watch.cpu,
            "events_per_core_s": events / watch.cpu, "kinds": kinds}


# -- memory ---------------------------------------------------------------------------------------
def memory(entries: int) -> dict[str, float]:
    """tracemalloc: bytes per log entry held at the source edge (413) beyond its
    payload, and bytes per written block of a volume."""
    topo = generate_topology(resend_timeout_ms=1e9)
    net, _, pairs = _paired(topo)
    host, storage, ref, _ = pairs[0]
    edge = net.device(storage.edge)
    for (a, b), ch in net.channels.items():
        if a == edge.name and b != storage.name:
            ch.fail()  # entries stay held: no answer comes back
    payloads = []
    gc.collect()
    tracemalloc.start()
    try:
        for block in range(entries):
            data = bytes([block & 0xFF]) * BLOCK_SIZE
            payloads.append(data)
            host.write(ref, block, data)
        _run(net, until=net.kernel.now + 1.0)
        if len(edge.held) != entries:
            raise RuntimeError(f"bench: {len(edge.held)} of {entries} log entries held")
        gc.collect()
        with_entries = tracemalloc.get_traced_memory()[0]
        edge.held.clear()  # the payloads stay (the volume and ``payloads`` keep them)
        gc.collect()
        without = tracemalloc.get_traced_memory()[0]
        # A volume's written blocks: data and the sparse map's share.
        volume = Volume(0, 1 << 30, BLOCK_SIZE)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for block in range(entries):
            volume.write(block * 7, bytes([block & 0xFF]) * BLOCK_SIZE)
        gc.collect()
        blocks = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    held = (with_entries - without) / entries
    return {"entries": entries, "payload_bytes": BLOCK_SIZE, "held_entry_overhead_bytes": round(held, 1),
            "held_entry_target_bytes": HELD_ENTRY_TARGET, "held_entry_met": held <= HELD_ENTRY_TARGET,
            "volume_block_bytes": round(blocks / entries, 1),
            "volume_block_overhead_bytes": round(blocks / entries - BLOCK_SIZE, 1)}


# -- the TUI ----------------------------------------------------------------------------------------
def tui_overhead(quick: bool) -> dict[str, Any]:
    """The lab's targets (rcnlab.tui.measure): its overhead over the same emulation
    headless, key-to-screen latency at max speed, memory over a long run; ``lines`` says
    each met or not."""
    from rcnlab.tui.measure import measure_tui

    try:
        got = measure_tui(quick=quick)
    except Exception as exc:  # the TUI's own problem; the bench goes on
        return {"ratio": None, "status": f"n/a ({type(exc).__name__}: {exc})"}
    return {"status": "measured", **got}


# -- the whole bench --------------------------------------------------------------------------------
SIZES = {
    False: {"writes": 3000, "repeat": 3, "pairs": [1, 10, 100, 1000], "cores": [0, 1, 2, 4, 8],
            "backlog": [100, 1000, 10000, 100000], "edges": [2, 8, 16, 32, 64], "memory": 20000, "seeds": 40},
    True: {"writes": 150, "repeat": 1, "pairs": [1, 4], "cores": [0, 2], "backlog": [20, 200],
           "edges": [2, 4], "memory": 300, "seeds": 2},
}


def _curve(name: str, xs: list[int], measure: Callable[[int], dict[str, float]], repeat: int,
           unit: str = "per_write", log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Best of ``repeat`` (interleaved) per point; the cost of each point as a ratio to the first."""
    best: dict[int, dict[str, float]] = {}
    for _ in range(repeat):
        for x in xs:
            got = measure(x)
            if x not in best or got[unit] < best[x][unit]:
                best[x] = got
            log(f"  {name} {x}: {got[unit] * 1e6:.1f} us {unit.replace('_', ' ')}")
    first = best[xs[0]][unit]
    points = [{"x": x, unit: best[x][unit], "ratio": best[x][unit] / first, "per_write": best[x]["per_write"]}
              for x in xs]
    growth = points[-1]["ratio"]
    return {"measure": unit, "points": points, "growth": growth, "target": SCALING_TARGET,
            "met": growth <= SCALING_TARGET}


def run_bench(quick: bool = False, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    size = SIZES[quick]
    writes, repeat = size["writes"], size["repeat"]
    began = time.perf_counter()
    fig1 = generate_topology()  # Fig. 1's path: one core, 1.5 ms GbE hops
    delays = fig1_hops(load_builtin_topology())

    # Headless throughput, bare and checked, against the minimal models, interleaved, best of ``repeat``.
    wall = {k: math.inf for k in ("emulator", "checked", "trio", "simpy", "bare")}
    cpu = dict(wall)
    frames_per_write = 0.0
    for _ in range(repeat):
        got = emulator_run(fig1, writes)
        frames_per_write = got["frames_per_write"]
        watches = {"emulator": got, "checked": emulator_run(fig1, writes, checked=True),
                   "trio": trio_chain(writes, len(delays)), "simpy": simpy_devices(writes, delays),
                   "bare": simpy_bare(writes, delays)}
        for k, w in watches.items():
            w_wall, w_cpu = (w["seconds"], w["cpu_seconds"]) if isinstance(w, dict) else (w.wall, w.cpu)
            wall[k], cpu[k] = min(wall[k], w_wall), min(cpu[k], w_cpu)
        log(f"  throughput: emulator {writes / wall['emulator']:,.0f}/s, checked {writes / wall['checked']:,.0f}/s, "
            f"trio chain {writes / wall['trio']:,.0f}/s, SimPy {writes / wall['simpy']:,.0f}/s, "
            f"bare SimPy {writes / wall['bare']:,.0f}/s (best so far)")
    emu = wall["emulator"]
    throughput = {
        "writes": writes, "frames_per_write": frames_per_write, "hops_per_write": len(delays),
        "emulator_writes_per_s": writes / emu, "checked_writes_per_s": writes / wall["checked"],
        "trio_chain_writes_per_s": writes / wall["trio"],
        "simpy_writes_per_s": writes / wall["simpy"], "simpy_bare_writes_per_s": writes / wall["bare"],
        "ratio_to_trio_chain": wall["trio"] / emu, "ratio_to_simpy": wall["simpy"] / emu,
        "ratio_to_simpy_bare": wall["bare"] / emu, "checked_to_bare": wall["checked"] / emu,
        "cpu_ratio_to_trio_chain": cpu["trio"] / cpu["emulator"], "cpu_ratio_to_simpy": cpu["simpy"] / cpu["emulator"],
        "cpu_checked_to_bare": cpu["checked"] / cpu["emulator"],
        "simpy_target": SIMPY_TARGET, "checked_target": CHECKED_TARGET,
    }
    throughput["met"] = throughput["ratio_to_trio_chain"] >= 1.0 and throughput["ratio_to_simpy"] >= SIMPY_TARGET
    throughput["checked_met"] = throughput["checked_to_bare"] <= CHECKED_TARGET
    # What holds a target back: the bare run's profile; what the checked path adds to it.
    held_back: dict[str, list[dict[str, Any]]] = {}
    if not throughput["met"] or not throughput["checked_met"]:
        bare_profile = profile_of(fig1, writes)
        if not throughput["met"]:
            held_back["bare_vs_simpy"] = hot_spots(bare_profile, writes)
        if not throughput["checked_met"]:
            held_back["checked_vs_bare"] = hot_spots(profile_of(fig1, writes, checked=True), writes,
                                                     less=bare_profile)
    throughput["held_back_by"] = held_back
    fuzzing = fuzz_rate(size["seeds"])
    log(f"  fuzz: {fuzzing['seeds_per_core_s']:.1f} seeds, {fuzzing['events_per_core_s']:,.0f} events per core-second")

    scaling = {
        "pairs": _curve("pairs", size["pairs"],
                        lambda n: emulator_run(generate_topology(luns=n, name=f"pairs{n}"), writes), repeat, log=log),
        # More cores mean more frames per write: the cost per frame delivered is what must stay flat.
        "core_hops": _curve("core hops", size["cores"],
                            lambda n: emulator_run(generate_topology(cores=n, gbe_latency_ms=3.0 / max(n + 1, 1),
                                                                     name=f"cores{n}"), writes),
                            repeat, unit="per_frame", log=log),
        "backlog": _curve("backlog", size["backlog"], backlog_run, max(1, repeat - 1), log=log),
        "edges": _curve("edges", size["edges"],
                        lambda n: emulator_run(generate_topology(edge_pairs=n // 2, name=f"edges{n}"), writes),
                        repeat, log=log),
    }
    mem = memory(size["memory"])
    log(f"  memory: {mem['held_entry_overhead_bytes']} bytes per held entry beyond its payload")
    tui = tui_overhead(quick)
    targets = {
        "throughput_vs_trio_chain": throughput["ratio_to_trio_chain"] >= 1.0,
        "throughput_vs_simpy": throughput["ratio_to_simpy"] >= SIMPY_TARGET,
        "checked_vs_bare": throughput["checked_met"],
        **{f"scaling_{k}": v["met"] for k, v in scaling.items()},
        "held_entry_memory": mem["held_entry_met"],
        "tui_overhead": tui.get("met"),
    }
    return {
        "quick": quick,
        "machine": {"python": platform.python_version(), "implementation": platform.python_implementation(),
                    "platform": platform.platform(), "processor": platform.machine()},
        "throughput": throughput,
        "fuzz": fuzzing,
        "scaling": scaling,
        "memory": mem,
        "tui": tui,
        "app": app_bench.measure(quick),  # SQLite transactions per CPU second (rcnlab.apps.bench)
        "targets": targets,
        "seconds": time.perf_counter() - began,
    }


def print_report(result: dict[str, Any]) -> None:
    t = result["throughput"]
    ok = {True: "met", False: "NOT met", None: "n/a"}
    print(f"rcnlab bench{' --quick' if result['quick'] else ''} (Python {result['machine']['python']}, "
          f"{result['seconds']:.1f} s)")
    print(f"Headless throughput, async pair on Fig. 1, {t['writes']} writes, "
          f"{t['frames_per_write']:.1f} frames per write:")
    print(f"  emulator        {t['emulator_writes_per_s']:>10,.0f} replicated writes/s")
    print(f"  trio chain      {t['trio_chain_writes_per_s']:>10,.0f} /s   emulator is {t['ratio_to_trio_chain']:.2f}x "
          f"({ok[result['targets']['throughput_vs_trio_chain']]}, target >= 1.0x)")
    print(f"  SimPy model     {t['simpy_writes_per_s']:>10,.0f} /s   emulator is {t['ratio_to_simpy']:.2f}x "
          f"({ok[result['targets']['throughput_vs_simpy']]}, target >= {t['simpy_target']}x)")
    print(f"  bare SimPy      {t['simpy_bare_writes_per_s']:>10,.0f} /s   emulator is {t['ratio_to_simpy_bare']:.2f}x "
          "(lower bound: no devices)")
    print(f"  checked         {t['checked_writes_per_s']:>10,.0f} /s   journal and live checker: "
          f"{t['checked_to_bare']:.2f}x the bare emulator's time ({ok[result['targets']['checked_vs_bare']]}, "
          f"target <= {t['checked_target']}x)")
    for name, what in (("bare_vs_simpy", "the bare emulator's profile"),
                       ("checked_vs_bare", "what the checked path adds to the bare profile")):
        if name in t["held_back_by"]:
            print(f"  held back by ({what}, own time per write under cProfile, share):")
            for spot in t["held_back_by"][name]:
                print(f"    {spot['us_per_write']:>7.2f} us {spot['share']:>6.1%}  {spot['function']}")
    f = result["fuzz"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(f["kinds"].items()))
    print(f"Fuzzing (default campaign, one process, {f['seeds']} seeds: {kinds}): "
          f"{f['seeds_per_core_s']:.1f} seeds and {f['events_per_core_s']:,.0f} events per core-second")
    print(f"Scaling (cost ratio to the first point; target <= {SCALING_TARGET}x):")
    for name, curve in result["scaling"].items():
        unit = curve["measure"].replace("_", " ")
        pts = ", ".join(f"{p['x']:,}: {p[curve['measure']] * 1e6:.1f} us ({p['ratio']:.2f}x)" for p in curve["points"])
        print(f"  {name:<10} {unit}: {pts} -> {curve['growth']:.2f}x {ok[curve['met']]}")
    m = result["memory"]
    print(f"Memory: {m['held_entry_overhead_bytes']:.0f} bytes per held log entry beyond its {m['payload_bytes']}-byte "
          f"payload ({ok[m['held_entry_met']]}, target <= {m['held_entry_target_bytes']}); "
          f"{m['volume_block_bytes']:.0f} bytes per written block "
          f"({m['volume_block_overhead_bytes']:.0f} beyond the data)")
    tui = result["tui"]
    if tui.get("ratio") is None:
        print(f"TUI overhead: {tui['status']}")
    else:
        print("\n".join(tui["lines"]))
    print(app_bench.line(result["app"]))


def cmd_bench(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("simpy") is None:
        raise BadInput("bench: needs SimPy for its reference model: pip install 'rcnlab[bench]'")
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if args.verbose else (lambda s: None)
    result = run_bench(quick=args.quick, log=log)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


def add_parser(subparsers: Any) -> None:
    b = subparsers.add_parser("bench", help="measure throughput, scaling and memory as ratios (one run)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds (for CI; no timing claims)")
    b.add_argument("--verbose", "-v", action="store_true", help="report each measurement on stderr as it is made")
    b.set_defaults(func=cmd_bench)
