"""What the lab's screen shows and drives, without Textual: one session (the world, its
Lab facade, its scenario runner, the live invariant checker) and the suspend tracker
behind the RPO, the journal sinks the screen reads.

The lab has one stage; walkthrough mode swaps in its player's (rcnlab.tui.walk) and
leaving swaps the lab's back, untouched: a stage nobody drives stands still.
"""

from __future__ import annotations

from collections import deque

import attrs

from rcnlab.check.invariants import Checker
from rcnlab.emu.journal import TraceEvent
from rcnlab.run import Session
from rcnlab.tui.history import History
from rcnlab.tui.state import NOTABLE, SuspendTracker


#: How many failures and state changes the lab keeps apart from the scrolling event log.
NOTABLE_KEEP = 2000


@attrs.define(eq=False)
class Stage:
    session: Session
    checker: Checker
    suspends: SuspendTracker
    #: Failures and pair-state changes, kept apart from the event log (which scrolls
    #: past them within seconds under a workload): the event log's ``!`` filter shows them.
    notable: deque[TraceEvent] = attrs.field(factory=lambda: deque(maxlen=NOTABLE_KEEP))
    #: What the charts show over time (bounded: memory stays flat however long the run).
    history: History = attrs.field(factory=History)

    def note(self, ev: TraceEvent) -> None:
        """A journal sink of the NOTABLE events (failures and state changes): keep ``ev``."""
        self.notable.append(ev)


def watch(session: Session) -> Stage:
    """The stage of ``session``, its suspend tracker and invariant checker subscribed to
    its journal before the network runs, so that they see everything."""
    suspends = SuspendTracker()
    session.journal.subscribe(suspends, SuspendTracker.EVENTS)
    stage = Stage(session=session, checker=session.checker or Checker.attach(session.world), suspends=suspends)
    session.journal.subscribe(stage.note, NOTABLE)
    return stage
