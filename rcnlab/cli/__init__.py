"""The ``rcnlab`` command line. Bad input gives one line on stderr and exit status 2.

Exit status (``run``; ``walkthrough`` alike, with its checkpoints for expectations):
0 the run went as the scenario said; 1 it did not: an expectation failed, an invariant
broke, a step was refused, or a pair command failed (answered with an error, or never
answered) that no ``expect`` step with ``command_failed`` said would fail; 2 bad input.
Each of those is one line on stderr; a failed command that was expected is listed too,
marked ``(expected)``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from importlib import metadata
from typing import Any

from rcnlab import bench, flags
from rcnlab.cli import app, walkthrough
from rcnlab.emu.journal import Journal
from rcnlab.errors import BadInput
from rcnlab.export import export_run
from rcnlab.fuzz import campaign
from rcnlab.ops.commands import Workload
from rcnlab.ops.expect import unexpected_failures
from rcnlab.report import print_customer_view, print_summary
from rcnlab.run import run_headless
from rcnlab.scenario.steps import Scenario, ScenarioError, load_scenario
from rcnlab.summary import summarize
from rcnlab.topo.flow import flow_warnings
from rcnlab.topo.load import TopologyError, builtin_topology_path, load_topology
from rcnlab.topo.schema import Topology
from rcnlab.world import World

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
MESSAGE_EVENTS = frozenset({"sent", "frame-dropped", "resent"})


def _topology(path: str | None) -> Topology:
    try:
        return load_topology(path or builtin_topology_path())
    except TopologyError as exc:
        raise BadInput(str(exc)) from None


def _scenario(path: str | None, topo: Topology) -> Scenario | None:
    if path is None:
        return None
    try:
        return load_scenario(path, topo)
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


# -- subcommands -----------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    topo = _topology(args.topology)
    rates: dict[str, float] = {}
    if args.scenario:
        for step in _scenario(args.scenario, topo).steps:
            if isinstance(step.command, Workload):
                storage = step.command.volume.split(":")[0]
                rates[storage] = rates.get(storage, 0.0) + step.command.rate
    net = World(topo)
    for line in flow_warnings(topo, net.management.routes, rates):
        print(line, file=sys.stderr)
    routes = ", ".join("-".join(r.devices) for r in net.management.routes) or "none"
    print(f"{topo.path}: ok: {len(topo.hosts)} hosts, {len(topo.storages)} storages, {len(topo.edges)} edges, "
          f"{len(topo.cores)} cores, {len(topo.links)} links; routes {routes}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    topo = _topology(args.topology)
    scenario = _scenario(args.scenario, topo)
    customers = [c.id for c in topo.customers]
    if args.customer is not None and args.customer not in customers:
        raise BadInput(f"run --customer: no customer {args.customer!r} in {topo.path} "
                       f"(customers: {', '.join(customers)})")
    window = walkthrough.window_of(args)
    with ExitStack() as stack:
        trace = None
        if args.trace:
            try:
                trace = stack.enter_context(open(args.trace, "w", encoding="utf-8"))
            except OSError as exc:
                raise BadInput(f"{args.trace}: cannot write the trace ({exc.strerror})") from None
        journal = Journal()
        messages: list[Any] = []
        if args.mermaid or args.svg:
            journal.subscribe(lambda ev: messages.append(ev) if ev.event in MESSAGE_EVENTS else None)
        session = run_headless(topo, scenario, args.seed, args.until, trace, args.rate, journal)
    net, runner = session.world, session.runner
    for path in (args.mermaid, args.svg):
        if path:
            try:
                export_run(messages, path, topo, window=window)
            except OSError as exc:
                raise BadInput(f"{path}: cannot write the export ({exc.strerror})") from None
    lab = session.lab
    summary = summarize(net, lab)
    summary["scenario"] = {"refused": runner.refused, "failed": runner.failed, "passed": runner.passed}
    if args.customer is not None:
        view = summary["customers"][args.customer]
        print(json.dumps(view, indent=2)) if args.json else print_customer_view(view, net.kernel.now)
    elif args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary, topo, scenario)
    failed_commands = lab.failed_commands(final=True)
    for line in runner.refused + runner.failed + [f"command {h.line()}" for h in failed_commands]:
        print(line, file=sys.stderr)
    return EXIT_FAILED if runner.refused or runner.failed or unexpected_failures(lab) else EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    walk = walkthrough.load(args.walkthrough) if getattr(args, "walkthrough", None) else None
    from rcnlab.tui.launch import open_tui  # Textual loads only when the lab opens

    topo = _topology(getattr(args, "topology", None))
    return open_tui(topo, _scenario(getattr(args, "scenario", None), topo), getattr(args, "seed", 0), walk,
                    app=getattr(args, "app", None), trace=getattr(args, "trace", None))


def cmd_serve(args: argparse.Namespace) -> int:
    from rcnlab.tui.serve import serve  # Textual loads only when the lab is served

    _topology(args.topology)  # a bad topology is refused here, not in every browser tab
    return serve(args.host, args.port, args.topology, args.seed, args.public_url)


def version() -> str:
    """The installed version (a checkout that was never installed has none)."""
    try:
        return metadata.version("rcnlab")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    p = flags.Parser(prog="rcnlab", description="A terminal lab for a storage Remote Copy Network. "
                     "With no command, opens the lab on the built-in Fig. 1 topology.")
    p.add_argument("--version", action="version", version=f"rcnlab {version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    topology, scenario = flags.named("topology"), flags.named("scenario")

    c = sub.add_parser("check", help="validate a topology (and a scenario against it)")
    c.add_argument("topology", type=topology, help="topology: a shipped name (fig1) or a TOML file")
    c.add_argument("--scenario", type=scenario, help="scenario to validate too: a shipped name or a TOML file")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("run", help="run a scenario headless and print a summary")
    r.add_argument("topology", type=topology, help="topology: a shipped name (fig1) or a TOML file")
    r.add_argument("--scenario", type=scenario, help="scenario: a shipped name (fig1-basic) or a TOML file")
    r.add_argument("--seed", type=flags.seed, default=0, help="random seed (default 0)")
    r.add_argument("--until", type=flags.non_negative, default=math.inf,
                   help="stop at this virtual time instead of draining")
    r.add_argument("--rate", type=flags.pace, default=0.0,
                   help="pace virtual time at this many virtual seconds per wall second (default: as fast as possible)")
    r.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    r.add_argument("--customer", metavar="ID", help="print only what customer ID sees through the management "
                                                    "server (501): its collected view and its age")
    r.add_argument("--trace", metavar="FILE", type=flags.output,
                   help="write every trace event as a JSON line to FILE")
    r.add_argument("--mermaid", metavar="FILE", type=flags.output,
                   help="write the message sequence as a Mermaid sequence diagram")
    r.add_argument("--svg", metavar="FILE", type=flags.output,
                   help="write the message sequence as an SVG swimlane chart")
    walkthrough.add_window(r)
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("tui", help="open the lab on a topology")
    t.add_argument("topology", nargs="?", type=topology,
                   help="topology: a shipped name or a TOML file (default: the shipped fig1)")
    t.add_argument("--scenario", type=scenario, help="scenario to play: a shipped name or a TOML file")
    t.add_argument("--seed", type=flags.seed, default=0, help="random seed (default 0)")
    t.add_argument("--walkthrough", metavar="NAME",
                   help="open straight in walkthrough mode (a name in topologies/walkthroughs, or a path)")
    t.add_argument("--app", choices=["sqlite"],
                   help="run an application in the lab: the SQLite bank on the source volumes (the topology gets "
                        "4 KiB blocks and LUNs 0 and 1 on the paired storages), its panel live (key A on a fitting topology)")
    t.add_argument("--trace", metavar="FILE", type=flags.output,
                   help="write every trace event of the lab's network as a JSON line to FILE, as it happens "
                        "(the format of run --trace; the screen keeps only the last 5,000)")
    t.set_defaults(func=cmd_tui)

    v = sub.add_parser("serve", help="serve the lab to web browsers (a classroom: each browser tab its own lab)")
    v.add_argument("topology", nargs="?", type=topology,
                   help="topology: a shipped name or a TOML file (default: the shipped fig1)")
    v.add_argument("--host", default="localhost", help="address to listen on (default localhost; 0.0.0.0: every one)")
    v.add_argument("--port", type=flags.whole(1, 65535), default=8000, help="TCP port (default 8000)")
    v.add_argument("--seed", type=flags.seed, default=0, help="random seed of every lab (default 0)")
    v.add_argument("--public-url", metavar="URL",
                   help="the address browsers use to reach the server (default http://HOST:PORT)")
    v.set_defaults(func=cmd_serve)

    for command in (bench, walkthrough, campaign, app):  # subcommands that live in their own modules
        command.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return cmd_tui(args)
        return args.func(args)
    except BadInput as exc:
        print(f"rcnlab: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of stdout left (`| head`): stop quietly, as `cat` would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
