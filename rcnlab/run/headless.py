"""The headless run (``rcnlab run``, the fuzzer, the tests) and determinism (invariant 6)."""

from __future__ import annotations

import io
import math
from typing import TextIO

import trio.testing

from rcnlab.emu.journal import Journal, JsonLinesSink
from rcnlab.run.session import Session
from rcnlab.scenario.steps import Scenario
from rcnlab.topo.schema import Topology


def run_headless(topo: Topology, scenario: Scenario | None, seed: int = 0, until: float = math.inf,
                 trace: TextIO | None = None, rate: float = 0.0, journal: Journal | None = None,
                 check: bool = True) -> Session:
    """Build the world, play the scenario, drain; return the session for inspection.

    ``trace`` gets every trace event as a JSON line. With ``check`` (the default) the
    invariant checker (rcnlab.check.invariants) follows the run, and every violation is
    added to ``session.runner.failed`` as one line. ``rate`` > 0 paces virtual time."""
    journal = journal or Journal()
    if trace is not None:
        journal.subscribe(JsonLinesSink(trace))
    session = Session.open(topo, scenario, seed, clock=trio.testing.MockClock(rate=rate), journal=journal,
                           check=check)
    session.play(until, paced=rate > 0)
    return session


def trace_bytes(topo: Topology, scenario: Scenario | None, seed: int, until: float = math.inf) -> bytes:
    """The whole JSON-lines trace of one headless run."""
    out = io.StringIO()
    run_headless(topo, scenario, seed=seed, until=until, trace=out)
    return out.getvalue().encode()


def same_trace(topo: Topology, scenario: Scenario | None, seed: int, until: float = math.inf) -> bool:
    """Invariant 6: two runs of the same topology, scenario and seed give the same bytes."""
    return trace_bytes(topo, scenario, seed, until) == trace_bytes(topo, scenario, seed, until)
