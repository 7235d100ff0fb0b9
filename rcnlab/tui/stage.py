"""What the lab's screen shows and drives, without Textual: one session (the world, its
Lab facade, its scenario runner, the live invariant checker) and the suspend tracker
behind the RPO, the journal sinks the screen reads.

The lab has one stage; walkthrough mode swaps in its player's (rcnlab.tui.walk) and
leaving swaps the lab's back, untouched: a stage nobody drives stands still.
"""

from __future__ import annotations

import attrs

from rcnlab.check.invariants import Checker
from rcnlab.run import Session
from rcnlab.tui.state import SuspendTracker


@attrs.define(eq=False)
class Stage:
    session: Session
    checker: Checker
    suspends: SuspendTracker


def watch(session: Session) -> Stage:
    """The stage of ``session``, its suspend tracker and invariant checker subscribed to
    its journal before the network runs, so that they see everything."""
    suspends = SuspendTracker()
    session.journal.subscribe(suspends)
    return Stage(session=session, checker=session.checker or Checker.attach(session.world), suspends=suspends)
