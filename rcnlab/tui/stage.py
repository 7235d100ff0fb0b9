"""What the lab's screen shows and drives, without Textual: one network with its Lab
facade, its scenario runner and the journal sinks the screen reads (the live invariant
checker, the suspend tracker behind the RPO).

The lab has one stage; walkthrough mode swaps in its player's (rcnlab.tui.walk) and
leaving swaps the lab's back, untouched: a stage nobody drives stands still.
"""

from __future__ import annotations

from typing import Any

import attrs

from rcnlab.emu.network import Network
from rcnlab.lab import Lab
from rcnlab.scenario.runner import Runner
from rcnlab.topo.schema import Topology
from rcnlab.tui.state import SuspendTracker


@attrs.define(eq=False)
class Stage:
    topo: Topology
    seed: int
    net: Network
    lab: Lab
    runner: Runner
    checker: Any  # rcnlab.check.invariants.Checker, or None when that module is missing
    suspends: SuspendTracker


def invariant_checker(net: Network, attach: bool = True) -> Any:
    """The checker of rcnlab.check.invariants following ``net``'s journal: attached now,
    or (``attach=False``) the one something else attached (a walkthrough's ``invariants``
    checkpoint), or None (the status line then says so)."""
    try:
        from rcnlab.check.invariants import Checker, checker_of
    except ImportError:
        return None
    try:
        return Checker.attach(net) if attach else checker_of(net)
    except Exception:
        return None


def watch(net: Network, runner: Runner, seed: int, check: bool = True) -> Stage:
    """The stage of ``net``, its suspend tracker (and with ``check`` the invariant checker)
    subscribed to its journal before the network runs, so that they see everything."""
    suspends = SuspendTracker()
    net.journal.subscribe(suspends)
    return Stage(topo=net.topo, seed=seed, net=net, lab=runner.lab, runner=runner,
                 checker=invariant_checker(net) if check else None, suspends=suspends)
