"""Opening the lab (``rcnlab``, ``rcnlab tui``, ``rcnlab walkthrough --tui``)."""

from __future__ import annotations

import contextlib

from rcnlab.errors import BadInput
from rcnlab.scenario.steps import Scenario
from rcnlab.topo.load import TopologyError, builtin_topology_path, load_topology
from rcnlab.topo.schema import Topology
from rcnlab.tui.app import RcnLabApp
from rcnlab.walkthrough.model import Walkthrough

#: Without a scenario the source volumes start with some data, so that the initial copy
#: of the first pair takes a couple of seconds to watch (40,000 blocks at the default
#: copy rate of 20,000 blocks/s).
TUI_PRELOAD_BLOCKS = 40_000


def open_tui(topo: Topology | None, scenario: Scenario | None = None, seed: int = 0,
             walkthrough: Walkthrough | None = None, walk_seed: int | None = None, app: str | None = None,
             trace: str | None = None) -> int:
    """Run the lab on ``topo`` (None: the built-in Fig. 1); with ``walkthrough``, straight
    in walkthrough mode; with ``app`` ("sqlite"), on the topology as the bank app needs it
    (`rcnlab.apps.run.prepare`), the app started at once; with ``trace`` (a file name),
    every trace event of the lab's network goes to that file as a JSON line as it happens
    (what ``rcnlab run --trace`` writes; a walkthrough's own network is not in it).
    Returns the exit status: 0, or 1 after an error the screen could not
    survive (its traceback is printed and appended to the error log)."""
    if topo is None:
        try:
            topo = load_topology(builtin_topology_path())
        except TopologyError as exc:
            raise BadInput(str(exc)) from None
    if app is not None:
        topo = bank_topology(topo)
    preload = 0 if scenario is not None or app is not None else TUI_PRELOAD_BLOCKS
    with contextlib.ExitStack() as stack:
        out = None
        if trace is not None:
            try:
                out = stack.enter_context(open(trace, "w", encoding="utf-8"))
            except OSError as exc:
                raise BadInput(f"{trace}: cannot write the trace ({exc.strerror})") from None
        lab = RcnLabApp(topo, scenario=scenario, seed=seed, preload=preload, walkthrough=walkthrough,
                        walk_seed=walk_seed, bank=app is not None, trace=out)
        lab.run()
    return lab.return_code or 0


def bank_topology(topo: Topology) -> Topology:
    """``topo`` with the bank app's overrides (4 KiB blocks, LUNs 0 and 1 on its storages,
    order assurance method B), its links as they are."""
    try:
        from rcnlab.apps.run import AppError, plan, prepare
    except ImportError as exc:
        raise BadInput(f"--app sqlite: needs the apps extra ({exc.name} is not installed): pip install 'rcnlab[apps]'") from None
    try:
        return prepare(topo, plan(topo), loss=None)
    except AppError as exc:
        raise BadInput(f"--app sqlite: {exc}") from None
