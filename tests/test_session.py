"""rcnlab.run: the Session's synchronous driver steps the same deterministic kernel as
the headless run, so both give the same trace; and the world's views of a pair."""

from __future__ import annotations

import io

import pytest

from rcnlab.emu.journal import Journal, JsonLinesSink
from rcnlab.model.ids import VolumeRef
from rcnlab.model.pair_state import PairState, Party
from rcnlab.run import Session, run_headless
from rcnlab.scenario.steps import parse_scenario
from rcnlab.summary import summarize
from tests.helpers import pair_and_writes, topology


def traced(topo, text, seed=2):
    out = io.StringIO()
    journal = Journal()
    journal.subscribe(JsonLinesSink(out))
    return Session.open(topo, parse_scenario(text, "<test>", topo), seed, journal=journal), out


def test_stepping_to_the_end_gives_the_trace_of_the_headless_run():
    topo = topology("fig1")
    text = pair_and_writes(count=100)
    expected = io.StringIO()
    run_headless(topo, parse_scenario(text, "<test>", topo), seed=2, trace=expected)
    session, out = traced(topo, text)
    session.runner.schedule()  # the scenario has no steps for the end
    assert session.drain()
    session.check()
    assert out.getvalue() == expected.getvalue()
    assert session.runner.failed == []


def test_run_until_stops_when_the_condition_holds_and_run_for_lets_time_pass():
    topo = topology("fig1")
    session, _ = traced(topo, pair_and_writes(count=10))
    session.runner.schedule()
    storage = session.world.device("ST112")

    def duplex() -> bool:
        pair = storage.pairs.get(0)
        return pair is not None and session.world.pair_view(storage, pair).states == (PairState.DUPLEX,) * 4

    assert session.run_until(duplex, timeout=30.0)
    now = session.kernel.now
    session.run_for(0.25)
    assert session.kernel.now == now + 0.25
    assert not session.run_until(lambda: False, timeout=1.0) and session.kernel.now == pytest.approx(now + 1.25)
    assert session.lab.pairs()[0]["states"]["target_storage"] == "Duplex"


def test_the_pair_view_names_the_four_parties_by_real_addresses_in_fig2():
    topo = topology("fig2")
    session, _ = traced(topo, '[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n')
    session.runner.schedule()
    assert session.drain()
    world = session.world
    (view,) = world.pair_views()
    st122 = world.device("ST122")
    assert (view.source, view.target, view.target_ref) == ("ST112:0", "ST122:0", VolumeRef(st122.wwn, 0))
    assert view.devices == ("ST112", "E104", "E105", "ST122")
    assert view.by_party() == {party: PairState.DUPLEX for party in Party}
    virtual = world.device("ST112").pairs[0].remote
    assert virtual.wwn != st122.wwn and world.volume_name(virtual) == "ST122:0"
    assert world.pair_view(st122, st122.pairs[0]) == view  # the same pair, seen from the target end
    assert summarize(world)["pairs"] == [view.record()]
