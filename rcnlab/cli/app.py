"""``rcnlab app sqlite``: a stock SQLite database on the emulated volumes, a fault, failover.

Exit status: 0 the target holds a consistent database (integrity_check ok, the balances'
sum unchanged, transactions exactly 1..k); 1 it does not; 2 bad input (one line)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rcnlab import flags
from rcnlab.errors import BadInput
from rcnlab.topo.load import TopologyError, builtin_topology_path, load_topology

EXIT_OK, EXIT_FAILED = 0, 1
FAULTS = ("cut", "site", "partition")
LAYOUTS = ("one-group", "two-groups")
JOURNALS = ("rollback", "wal")
RULES = ("reflect-out-of-order", "reorder-before-edge")


def _loss(text: str) -> float:
    value = flags.non_negative(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def add_parser(subparsers: Any) -> None:
    a = subparsers.add_parser("app", help="run an application on the emulated volumes and check the target")
    apps = a.add_subparsers(dest="app", metavar="APP", required=True)
    s = apps.add_parser("sqlite", help="SQLite bank transfers, a fault, failover, the target database checked",
                        description="Runs bank transfers in SQLite on the source volumes (database and journal "
                        "on LUNs 0 and 1, 4 KiB blocks), injects the fault at virtual time --at after the "
                        "workload starts, fails every order group over, and opens the target's image with "
                        "sqlite3. Exit 0: the target is a consistent database; 1: it is not.")
    s.add_argument("topology", nargs="?", type=flags.named("topology"),
                   help="topology: a shipped name or a TOML file (default: the shipped fig1)")
    s.add_argument("--fault", choices=FAULTS, default="cut",
                   help="cut: the source edge's uplink; site: the source site's hosts and storages go down; "
                   "partition: the source site cut off from the network (default cut)")
    s.add_argument("--at", type=flags.non_negative, default=0.2,
                   help="virtual seconds after the workload starts (default 0.2)")
    s.add_argument("--seed", type=flags.seed, default=0, help="random seed (default 0)")
    s.add_argument("--layout", choices=LAYOUTS, default="one-group",
                   help="database and journal volumes in one order assurance ID or in two (default one-group)")
    s.add_argument("--journal", choices=JOURNALS, default="rollback", help="SQLite's journal (default rollback)")
    s.add_argument("--loss", type=_loss, default=None,
                   help="frame loss on every GbE link (default 0.001)")
    s.add_argument("--break-rule", choices=RULES, default=None,
                   help="switch a protocol rule off (to see the check fail)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_sqlite)


def cmd_sqlite(args: argparse.Namespace) -> int:
    try:
        from rcnlab.apps import run
    except ImportError as exc:
        raise BadInput(f"app sqlite: needs apsw ({exc.name} is not installed): pip install 'rcnlab[apps]'") from None
    try:
        topo = load_topology(args.topology or builtin_topology_path())
    except TopologyError as exc:
        raise BadInput(str(exc)) from None
    options = run.Options(fault=run.Fault(args.fault), at=args.at, seed=args.seed, layout=run.Layout(args.layout),
                          journal=run.JournalMode(args.journal),
                          break_rule=None if args.break_rule is None else run.Rule(args.break_rule),
                          **({} if args.loss is None else {"loss": args.loss}))
    try:
        outcome = run.run_app(topo, options)
    except run.AppError as exc:
        raise BadInput(f"app sqlite: {exc}") from None
    record = outcome.record()
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(report(topo.name, record))
    return EXIT_OK if outcome.consistent else EXIT_FAILED


def report(name: str, r: dict[str, Any]) -> str:
    """The lines ``rcnlab app sqlite`` prints."""
    rule = f", rule broken: {r['break_rule']}" if r["break_rule"] else ""
    opened = r["balance_total"] is not None
    held = "holds" if r["invariant"] else "BROKEN"
    span = (f"exactly 1..{r['target_last']}" if r["exactly_1_to_k"]
            else f"NOT 1..k ({r['target_transactions']} rows, highest {r['target_last']})")
    target = f"{r['target_transactions']} transactions, {span}" if opened else "the database does not open"
    total = (f"sum of balances {r['balance_total']} (expected {r['balance_expected']}): {held}" if opened
             else "cannot be checked")
    verdict = ("the target is a consistent database" if r["consistent"]
               else "the target is NOT a consistent database")
    return "\n".join([
        f"sqlite on {name}: seed {r['seed']}, journal {r['journal']}, layout {r['layout']}{rule}",
        f"  volumes          {r['volumes']}",
        f"  fault            {r['fault']} at t={r['fault_time']:.6f} ({r['at']:g} s into the workload)",
        f"  source           {r['committed']} transactions committed"
        + (f", {r['committed'] + 1} in doubt (its commit failed with the fault)" if r["in_doubt"] else ""),
        f"  target           {target}",
        f"  integrity_check  {r['integrity_check']}",
        f"  invariant        {total}",
        f"  loss             {r['lost_transactions']} transactions, RPO {r['rpo_ms']:.3f} ms",
        verdict,
    ])
