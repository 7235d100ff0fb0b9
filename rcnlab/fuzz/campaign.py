"""``rcnlab fuzz``: a seed campaign. Each seed stands for a random lab (topology,
workload, fault schedule; rcnlab.fuzz.gen.random_case), run headless with the
invariant checker within a budget of events, on a local process pool or a Dask
cluster (rcnlab.fuzz.runner). Each seed's record is appended to a records file as it
arrives (rcnlab.fuzz.records), so ``--resume`` goes on where a campaign stopped and
``--merge`` reports on the records of several.

Failures are grouped by their key (the first problem with its numbers made ``#``; an
exception's file and line) before any shrinking: the first few seeds of each group are
shrunk (fault steps dropped while the same kind of failure persists) and saved as a
topology and a scenario file that ``rcnlab run TOPOLOGY --scenario SCENARIO --seed S``
replays to the same lines. Exit status 1 on any failure."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from rcnlab import flags
from rcnlab.errors import BadInput
from rcnlab.fuzz import records, runner
from rcnlab.fuzz.gen import FAULT_KINDS
from rcnlab.fuzz.work import SHRINKABLE, Job, run_seeds, saved_files, shrink_seeds
from rcnlab.ops.commands import Rule

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Bounds of the flags: beyond them a campaign would not end (or would fork a crowd).
MAX_SEEDS, MAX_JOBS, MAX_FAULTS = 1_000_000, 256, 100
#: A seed's events, at most, by default: 50 times the most any of seeds 0-199 runs.
BUDGET_EVENTS = 1_000_000
#: A seed's wall time, at most, by default (seconds).
BACKSTOP_S = 600.0


def add_parser(subparsers: Any) -> None:
    def fault_kinds(text: str) -> tuple[str, ...]:
        kinds = FAULT_KINDS if text == "all" else tuple(k.strip() for k in text.split(",") if k.strip())
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown or not kinds:
            raise argparse.ArgumentTypeError(f"unknown fault kind {unknown[0] if unknown else '(none)'!r} "
                                             f"(known: {', '.join(FAULT_KINDS)})")
        return kinds

    def cluster(text: str) -> str:
        workers = text.partition(":")[2] if text.startswith("local") else "1"
        if (text.startswith("local") and text.partition(":")[0] != "local") or \
                (workers and not (workers.isdigit() and 0 < int(workers) <= MAX_JOBS)):
            raise argparse.ArgumentTypeError(f"expected local, local:N (N from 1 to {MAX_JOBS}), tcp://HOST:PORT "
                                             f"or a scheduler file, got {text!r}")
        return text

    p = subparsers.add_parser("fuzz", help="run random labs and fault schedules against the invariant checkers")
    p.add_argument("--seeds", type=flags.whole(1, MAX_SEEDS), default=200, help="how many seeds to run (default 200)")
    p.add_argument("--first", type=flags.seed, default=0, help="the first seed (default 0)")
    p.add_argument("--jobs", type=flags.whole(0, MAX_JOBS), default=0,
                   help="worker processes (default 0: the CPU cores available)")
    p.add_argument("--cluster", type=cluster, metavar="WHERE",
                   help="run on Dask (pip install 'rcnlab[cluster]'): 'local' or 'local:N' starts a cluster of "
                   "N worker processes here (default: --jobs); tcp://HOST:PORT or a scheduler file (.json) "
                   "joins a running one")
    p.add_argument("--out", type=flags.folder, default="fuzz-failures", help="where to write the records and the "
                   "scenarios of failures (default ./fuzz-failures)")
    p.add_argument("--records", type=flags.output, metavar="FILE",
                   help="append each seed's record (a JSON line) to FILE (default OUT/records.jsonl)")
    p.add_argument("--resume", action="store_true",
                   help="skip the seeds the records file holds already, with the same campaign parameters")
    p.add_argument("--merge", nargs="+", metavar="FILE", help="run nothing: report on the records in these files "
                   "(of the campaign the other flags describe), shrinking and saving as a campaign does")
    p.add_argument("--break-rule", choices=[r.value for r in Rule],
                   help="break a protocol rule on purpose (a test hook), to see the checkers catch it")
    p.add_argument("--faults", type=fault_kinds, default="all",
                   help=f"comma-separated fault kinds ({', '.join(FAULT_KINDS)}), or 'all' (the default)")
    p.add_argument("--max-faults", type=flags.whole(0, MAX_FAULTS), default=4,
                   help="faults per schedule, at most (default 4)")
    p.add_argument("--budget-events", type=flags.whole(0), default=BUDGET_EVENTS,
                   help=f"events a seed may run before it counts as a lab that does not drain (kind 'budget'; "
                   f"default {BUDGET_EVENTS:,}; 0: no budget)")
    p.add_argument("--backstop-s", type=flags.non_negative, default=BACKSTOP_S,
                   help=f"wall seconds a seed may run (kind 'backstop'; default {BACKSTOP_S:g}; 0: none)")
    p.add_argument("--shrink-per-key", type=flags.whole(0, MAX_SEEDS), default=2,
                   help="failures shrunk and saved per group of alike failures (default 2)")
    p.add_argument("--envelope", choices=("wide", "first"), default="wide",
                   help="what the labs draw from: 'wide' (the default) every knob a user can set, for half "
                   "the seeds beyond the first envelope; 'first' the first envelope only")
    p.add_argument("--no-shrink", action="store_true", help="save failures as found, without shrinking")
    p.add_argument("--digests", metavar="FILE", type=flags.output, help="write each seed's trace digest (sha256 of "
                   "what 'rcnlab run --trace' would write for it) to FILE, one 'SEED DIGEST' line a seed")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--kill-on-seed", type=flags.seed, help=argparse.SUPPRESS)  # a test hook: see Job
    p.set_defaults(func=cmd_fuzz)


def _jobs(wanted: int) -> int:
    if wanted > 0:
        return wanted
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cmd_fuzz(args: argparse.Namespace) -> int:
    out = Path(args.out)
    params = records.Params(break_rule=args.break_rule, faults=args.faults, max_faults=args.max_faults,
                            budget_events=args.budget_events or None, digests=bool(args.digests),
                            envelope=args.envelope)
    job = Job(params=params, backstop_s=args.backstop_s or None, kill_on_seed=args.kill_on_seed)
    path = Path(args.records) if args.records else out / "records.jsonl"
    started = time.perf_counter()
    with runner.backend(args.cluster, _jobs(args.jobs)) as where:
        if args.merge:
            results = records.read(args.merge, params)
            if not results:
                raise BadInput(f"fuzz --merge: no record in {', '.join(args.merge)} is of this campaign: give the "
                               "flags it ran with (--break-rule, --faults, --max-faults, --budget-events, --digests)")
            origin = f"merged from {len(args.merge)} record file{'s' if len(args.merge) > 1 else ''}"
        else:
            seeds = range(args.first, args.first + args.seeds)
            results = {s: r for s, r in records.read([path], params).items() if s in seeds} \
                if args.resume and path.exists() else {}
            origin = f"on {where.name}" + (f" ({len(results)} from {path})" if results else "")
            _run(where, job, [s for s in seeds if s not in results], results, path, not args.quiet)
            origin = f"run in {time.perf_counter() - started:.1f}s {origin}"
        failed = [r for _, r in sorted(results.items()) if r["kind"] != "ok"]
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in failed:
            groups.setdefault(r["key"], []).append(r)
        saved = _save(where, job, groups, out, args.shrink_per_key, not args.no_shrink)
    if args.digests:
        try:
            with open(args.digests, "w", encoding="utf-8") as f:
                f.writelines(f"{seed} {r['digest']}\n" for seed, r in sorted(results.items()))
        except OSError as exc:
            raise BadInput(f"{args.digests}: cannot write the digests ({exc.strerror})") from None
    _report(groups, saved)
    kinds: dict[str, int] = {}
    for r in failed:
        kinds[r["signature"]] = kinds.get(r["signature"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
    builds = len({r["rcnlab"]["source"] for r in results.values()})
    print(f"fuzz: {len(results)} seeds ({min(results)}..{max(results)}) {origin}, "
          f"{sum(r['events'] for r in results.values())} events simulated, "
          f"{len(failed)} seeds with violations ({summary})"
          + (f" in {len(groups)} group{'s' if len(groups) > 1 else ''}" if groups else "")
          + (f"; rule broken on purpose: {args.break_rule}" if args.break_rule else "")
          + (f"; records from {builds} different builds of rcnlab" if builds > 1 else ""))
    return EXIT_FAILED if failed else EXIT_OK


def _run(where: runner.Backend, job: Job, seeds: list[int], results: dict[int, dict[str, Any]], path: Path,
         progress: bool) -> None:
    """Run ``seeds``, appending each record to ``path`` (and to ``results``) as it arrives."""
    progress = progress and sys.stderr.isatty()
    started = time.perf_counter()
    with records.open_to_append(path) as sink:
        for n, (seed, got) in enumerate(runner.run(where, run_seeds, job, seeds), start=1):
            rec = job.died(seed, got.deaths, got.error) if isinstance(got, runner.Died) else got
            records.append(sink, rec)
            results[seed] = rec
            if progress:
                print(f"\rfuzz: {n}/{len(seeds)} seeds, {sum(r['kind'] != 'ok' for r in results.values())} "
                      f"failing, {time.perf_counter() - started:.0f}s", end="", file=sys.stderr, flush=True)
    if progress and seeds:
        print(file=sys.stderr)


def _save(where: runner.Backend, job: Job, groups: dict[str, list[dict[str, Any]]], out: Path, per_key: int,
          do_shrink: bool) -> dict[int, dict[str, Any]]:
    """Shrink (unless not ``do_shrink``) and save the first ``per_key`` failures of each
    group; {seed: what was saved} (case, problems, signature, files)."""
    chosen = [r for group in groups.values() for r in group[:per_key]]
    saved = {r["seed"]: {"case": job.case(r["seed"]), "problems": r["problems"], "signature": r["signature"]}
             for r in chosen}
    wanted = [r["seed"] for r in chosen if do_shrink and r["kind"] in SHRINKABLE]
    for seed, small in runner.run(where, shrink_seeds, job, wanted, chunk=1):
        if not isinstance(small, runner.Died):
            saved[seed] = small
    for seed, s in sorted(saved.items()):
        s["files"] = out / f"seed-{seed}.topology.toml", out / f"seed-{seed}.scenario.toml"
        try:
            out.mkdir(parents=True, exist_ok=True)
            for path, text in zip(s["files"], saved_files(seed, s["case"], s["signature"])):
                path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"{out}: cannot write the failure scenarios ({exc.strerror})") from None
    return saved


def _report(groups: dict[str, list[dict[str, Any]]], saved: dict[int, dict[str, Any]]) -> None:
    """Per group: its key, how many seeds, the first; then each saved seed with its replay command."""
    for n, (key, group) in enumerate(groups.items(), start=1):
        print(f"group {n} of {len(groups)}: {len(group)} seed{'s' if len(group) > 1 else ''}, first seed "
              f"{group[0]['seed']}: {key}")
        for r in group:
            if r["seed"] in saved:
                _replay(r, saved[r["seed"]])


def _replay(r: dict[str, Any], s: dict[str, Any]) -> None:
    topo, scen = s["files"]
    print(f"seed {r['seed']}: {(s['problems'] or r['problems'])[0]}")
    print(f"  replay: rcnlab run {topo} --scenario {scen} --seed {r['seed']}   "
          f"({len(s['case'].faults)} of {r['steps']} fault steps kept)")
    first = (s["problems"] or r["problems"])[0]
    if first.startswith(("accepted: ", "failed: ")):  # the fuzzer's own check, on the step its note names
        print(f"  (rcnlab run plays it; the check is the fuzzer's: rcnlab fuzz --first {r['seed']} --seeds 1)")

