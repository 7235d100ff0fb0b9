"""What the lab's screen shows and drives, without Textual: one network with its Lab
facade, its scenario runner and the journal sinks the screen reads (the live invariant
checker, the suspend tracker behind the RPO).

The lab has one stage; walkthrough mode swaps in its player's (rcnlab.tui.walk) and
leaving swaps the lab's back, untouched: a stage nobody drives stands still.
"""

from __future__ import annotations

import attrs

from rcnlab.check.invariants import Checker
from rcnlab.lab import Lab
from rcnlab.scenario.runner import Runner
from rcnlab.topo.schema import Topology
from rcnlab.tui.state import SuspendTracker
from rcnlab.world import World


@attrs.define(eq=False)
class Stage:
    topo: Topology
    seed: int
    net: World
    lab: Lab
    runner: Runner
    checker: Checker
    suspends: SuspendTracker


def watch(net: World, runner: Runner, seed: int) -> Stage:
    """The stage of ``net``, its suspend tracker and invariant checker subscribed to its
    journal before the network runs, so that they see everything."""
    suspends = SuspendTracker()
    net.journal.subscribe(suspends)
    return Stage(topo=net.topo, seed=seed, net=net, lab=runner.lab, runner=runner,
                 checker=Checker.attach(net), suspends=suspends)
