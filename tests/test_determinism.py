"""Same topology, scenario and seed: the same trace, byte for byte (SPEC.md invariant 6)."""

from __future__ import annotations

import io

from rcnlab.run import run_headless
from rcnlab.scenario.steps import parse_scenario
from tests.helpers import pair_and_writes, topology

LOSSY = {'distance_km = 300': 'distance_km = 300\njitter_ms = 2\nloss = 0.01'}


def trace(seed: int) -> str:
    topo = topology("fig1", LOSSY)
    out = io.StringIO()
    run_headless(topo, parse_scenario(pair_and_writes(count=300), "<t>", topo), seed=seed, trace=out)
    return out.getvalue()


def test_same_seed_same_trace_different_seed_different_trace():
    a, b, c = trace(11), trace(11), trace(12)
    assert a == b
    assert a != c
    assert len(a.splitlines()) > 1000
