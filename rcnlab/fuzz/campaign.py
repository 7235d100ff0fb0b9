"""``rcnlab fuzz``: a seed campaign. Each seed stands for a random lab (topology,
workload, fault schedule; rcnlab.fuzz.gen.random_case), run headless with the
invariant checker. Every failure is shrunk (fault steps dropped while the same
kind of failure persists) and saved as a topology and a scenario file that
``rcnlab run TOPOLOGY --scenario SCENARIO --seed S`` replays to the same lines.
Exit status 1 on any violation."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from rcnlab import flags
from rcnlab.fuzz.gen import FAULT_KINDS, random_case, run_case, scenario_toml, shrink, topology_toml
from rcnlab.errors import BadInput
from rcnlab.ops.commands import Rule

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Bounds of the flags: beyond them a campaign would not end (or would fork a crowd).
MAX_SEEDS, MAX_JOBS, MAX_FAULTS = 1_000_000, 256, 100


def add_parser(subparsers: Any) -> None:
    def fault_kinds(text: str) -> tuple[str, ...]:
        kinds = FAULT_KINDS if text == "all" else tuple(k.strip() for k in text.split(",") if k.strip())
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown or not kinds:
            raise argparse.ArgumentTypeError(f"unknown fault kind {unknown[0] if unknown else '(none)'!r} "
                                             f"(known: {', '.join(FAULT_KINDS)})")
        return kinds

    p = subparsers.add_parser("fuzz", help="run random labs and fault schedules against the invariant checkers")
    p.add_argument("--seeds", type=flags.whole(1, MAX_SEEDS), default=200, help="how many seeds to run (default 200)")
    p.add_argument("--first", type=flags.seed, default=0, help="the first seed (default 0)")
    p.add_argument("--jobs", type=flags.whole(0, MAX_JOBS), default=0,
                   help="worker processes (default 0: the CPU cores available)")
    p.add_argument("--out", type=flags.folder, default="fuzz-failures", help="where to write the scenarios of failures "
                   "(default ./fuzz-failures)")
    p.add_argument("--break-rule", choices=[r.value for r in Rule],
                   help="break a protocol rule on purpose (a test hook), to see the checkers catch it")
    p.add_argument("--faults", type=fault_kinds, default="all",
                   help=f"comma-separated fault kinds ({', '.join(FAULT_KINDS)}), or 'all' (the default)")
    p.add_argument("--max-faults", type=flags.whole(0, MAX_FAULTS), default=4,
                   help="faults per schedule, at most (default 4)")
    p.add_argument("--envelope", choices=("wide", "first"), default="wide",
                   help="what the labs draw from: 'wide' (the default) every knob a user can set, for half "
                   "the seeds beyond the first envelope; 'first' the first envelope only")
    p.add_argument("--no-shrink", action="store_true", help="save failures as found, without shrinking")
    p.add_argument("--digests", metavar="FILE", type=flags.output, help="write each seed's trace digest (sha256 of "
                   "what 'rcnlab run --trace' would write for it) to FILE, one 'SEED DIGEST' line a seed")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_fuzz)


def _one(job: tuple[int, str | None, tuple[str, ...], int, bool, bool, bool]) -> dict[str, Any]:
    """Run one seed (in a worker process); shrink and describe a failure."""
    seed, rule, kinds, max_faults, do_shrink, digest, widened = job
    case = random_case(seed, rule, kinds, max_faults, widened)
    started = time.perf_counter()
    outcome = run_case(case, digest)
    result: dict[str, Any] = {"seed": seed, "events": outcome.events, "problems": list(outcome.problems),
                              "signature": outcome.signature, "steps": len(case.faults), "digest": outcome.digest}
    if outcome.problems:
        small, small_outcome = shrink(case, outcome) if do_shrink else (case, outcome)
        result.update(
            topology=topology_toml(small.topo, f"fuzz-{seed}"),
            scenario=scenario_toml(small, f"rcnlab fuzz seed {seed}: {small_outcome.signature}; schedule: "
                                   + "; ".join(str(s) for s in sorted(small.faults, key=lambda s: s.at))
                                   + "; knobs: " + (", ".join(f"{at}.{key}={value}" for at, key, value
                                                             in small.topo.knobs) or "none")),
            shrunk_problems=list(small_outcome.problems), shrunk_steps=len(small.faults))
    result["seconds"] = time.perf_counter() - started
    return result


def _jobs(wanted: int) -> int:
    if wanted > 0:
        return wanted
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cmd_fuzz(args: argparse.Namespace) -> int:
    out = Path(args.out)
    jobs = _jobs(args.jobs)
    work = [(seed, args.break_rule, args.faults, args.max_faults, not args.no_shrink, bool(args.digests),
             args.envelope == "wide")
            for seed in range(args.first, args.first + args.seeds)]
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    progress = not args.quiet and sys.stderr.isatty()
    if jobs > 1 and len(work) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for r in pool.imap_unordered(_one, work, chunksize=4):
                results.append(r)
                _progress(progress, results, len(work), started)
    else:
        for job in work:
            results.append(_one(job))
            _progress(progress, results, len(work), started)
    if progress:
        print(file=sys.stderr)
    elapsed = time.perf_counter() - started
    failed = sorted((r for r in results if r["problems"]), key=lambda r: r["seed"])
    if args.digests:
        try:
            with open(args.digests, "w", encoding="utf-8") as f:
                f.writelines(f"{r['seed']} {r['digest']}\n" for r in sorted(results, key=lambda r: r["seed"]))
        except OSError as exc:
            raise BadInput(f"{args.digests}: cannot write the digests ({exc.strerror})") from None
    events = sum(r["events"] for r in results)
    for r in failed:
        try:
            out.mkdir(parents=True, exist_ok=True)
            topo = out / f"seed-{r['seed']}.topology.toml"
            scen = out / f"seed-{r['seed']}.scenario.toml"
            topo.write_text(r["topology"], encoding="utf-8")
            scen.write_text(r["scenario"], encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"{out}: cannot write the failure scenarios ({exc.strerror})") from None
        first = (r["shrunk_problems"] or r["problems"])[0]
        print(f"seed {r['seed']}: {first}")
        print(f"  replay: rcnlab run {topo} --scenario {scen} --seed {r['seed']}   "
              f"({r['shrunk_steps']} of {r['steps']} fault steps kept)")
        if first.startswith(("accepted: ", "failed: ")):  # the fuzzer's own check, on the step its note names
            print(f"  (rcnlab run plays it; the check is the fuzzer's: rcnlab fuzz --first {r['seed']} --seeds 1)")
    kinds_seen: dict[str, int] = {}
    for r in failed:
        kinds_seen[r["signature"]] = kinds_seen.get(r["signature"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(kinds_seen.items())) or "none"
    print(f"fuzz: {len(results)} seeds ({args.first}..{args.first + args.seeds - 1}) run in {elapsed:.1f}s "
          f"on {jobs} process{'es' if jobs > 1 else ''}, {events} events simulated, "
          f"{len(failed)} seeds with violations ({summary})"
          + (f"; rule broken on purpose: {args.break_rule}" if args.break_rule else ""))
    return EXIT_FAILED if failed else EXIT_OK


def _progress(show: bool, results: list[dict[str, Any]], total: int, started: float) -> None:
    if not show:
        return
    bad = sum(1 for r in results if r["problems"])
    print(f"\rfuzz: {len(results)}/{total} seeds, {bad} failing, {time.perf_counter() - started:.0f}s",
          end="", file=sys.stderr, flush=True)
