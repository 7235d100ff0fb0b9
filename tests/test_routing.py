"""Routing 408 as the patent describes it: fewest cores within each core's capacity, for
the storage pairs that have volume pairs; per pair; disaster-aware; batch effectiveness
as the tie-break; a refused reroute says why."""

from __future__ import annotations

from helpers import run, topology
from rcnlab.topo.routing import Refusal, find_route, plan_routes

MESH_PAIRS = [("ST11", "ST12"), ("ST21", "ST22"), ("ST21", "ST23"), ("ST22", "ST23")]
REAL = {("ST11", "ST12"), ("ST21", "ST22"), ("ST21", "ST23")}  # mesh.toml's [[pair]]
FIRST = {("ST11", "ST12"): ("E1", "C201", "E2"), ("ST21", "ST22"): ("E1", "C202", "E2"),
         ("ST21", "ST23"): ("E1", "C202", "C204", "E3"), ("ST22", "ST23"): ("E2", "C202", "C204", "E3")}

WRITES_THEN_CRASH = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST11:0"
target = "ST12:0"
[[step]]
at = 0.2
do = "workload"
volume = "ST11:0"
rate = 1000
count = 300
[[step]]
at = 0.3
do = "crash"
device = "C201"
"""


def events(trace, name):
    return [e for e in trace if e["event"] == name]


def test_the_first_routes_are_those_mesh_toml_describes():
    assert plan_routes(topology("mesh"), MESH_PAIRS, REAL, {}).routes == FIRST


def test_a_storage_pair_nobody_pairs_reserves_no_capacity_a_real_pair_needs():
    """C202 (capacity 3) carries ST21-ST22, ST21-ST23 and the unpaired ST22-ST23: with C201
    down, ST11-ST12's detour over C202 fits every real pair, so it is taken."""
    plan = plan_routes(topology("mesh"), MESH_PAIRS, REAL, FIRST, {"C201"})
    assert plan.routes[("ST11", "ST12")] == ("E1", "C202", "E2") and plan.refused == ()
    assert ("ST22", "ST23") not in plan.routes  # the unpaired one gives way


def test_a_detour_that_fits_every_real_pair_is_accepted_in_the_lab():
    _, _, trace = run(topology("mesh"), WRITES_THEN_CRASH, seed=3)
    rerouted = events(trace, "rerouted")
    assert rerouted and ["E1", "C202", "E2"] in rerouted[0]["routes"]
    assert rerouted[0]["pairs"] == ["ST11>ST12", "ST22>ST23"]  # moved, and the unpaired one's route gone
    assert not events(trace, "remote-copy-failed") and not events(trace, "reroute-refused")


def test_rerouting_is_per_pair():
    """With C202 down, ST21-ST22 fits over C201 and moves; ST21-ST23 finds C201 full and
    keeps its route with a refusal; ST11-ST12, which crosses nothing down, keeps its own."""
    topo = topology("mesh", {"capacity = 1": "capacity = 2"})
    plan = plan_routes(topo, MESH_PAIRS, REAL, FIRST, {"C202"})
    assert plan.routes[("ST11", "ST12")] == FIRST[("ST11", "ST12")]
    assert plan.routes[("ST21", "ST22")] == ("E1", "C201", "E2")
    assert plan.routes[("ST21", "ST23")] == FIRST[("ST21", "ST23")]
    assert plan.refused == (Refusal(pair=("ST21", "ST23"), failed=("C202",),
                                    reason="C201 carries 2 routes, its capacity is 2"),)


def test_a_pair_whose_route_crosses_nothing_down_keeps_it_even_if_a_better_one_exists():
    current = FIRST | {("ST11", "ST12"): ("E1", "C202", "E2")}
    assert plan_routes(topology("mesh"), MESH_PAIRS, REAL, current, {"C203"}).routes[("ST11", "ST12")] == \
        ("E1", "C202", "E2")


def test_a_refusal_without_any_path_says_so():
    plan = plan_routes(topology("fig1"), [("ST112", "ST122")], {("ST112", "ST122")},
                       {("ST112", "ST122"): ("E104", "C202", "E105")}, {"C202"})
    assert plan.refused == (Refusal(pair=("ST112", "ST122"), failed=("C202",), reason="no path avoids C202"),)
    assert plan.routes == {("ST112", "ST122"): ("E104", "C202", "E105")}  # kept for when C202 is back


def test_a_refused_reroute_says_why_in_the_trace():
    _, _, trace = run(topology("mesh", {"capacity = 3": "capacity = 2"}), WRITES_THEN_CRASH, seed=3)
    (refused, *_) = events(trace, "reroute-refused")
    assert refused == {**refused, "pair": "ST11>ST12", "failed": ["C201"],
                       "reason": "C202 carries 2 routes, its capacity is 2"}


def test_the_server_reroutes_when_it_learns_a_core_failed_before_any_resend_limit():
    topo = topology("mesh", {"capacity = 3": "capacity = 8", 'name = "M103"': 'name = "M103"\ncollect_interval_ms = 50'})
    edge = next(e for e in topo.edges if e.name == "E1")
    _, runner, trace = run(topo, WRITES_THEN_CRASH, seed=3)
    (rerouted,) = events(trace, "rerouted")
    assert rerouted["reason"] == "C201 stopped answering (150)" and rerouted["pairs"] == ["ST11>ST12"]
    assert 0.3 <= rerouted["t"] <= 0.35 + 1e-9 < 0.3 + edge.resend_timeout * edge.resend_limit
    assert not events(trace, "remote-copy-failed") and runner.failed == []


def test_ties_go_to_the_route_where_batch_transfer_is_most_effective():
    mesh = topology("mesh")
    assert find_route(mesh, "E1", "E2") == ("E1", "C201", "E2")  # no core batches: by name
    batching = topology("mesh", {'name = "C202"\n': 'name = "C202"\nbatch_wait_ms = 2\n'})
    assert find_route(batching, "E1", "E2") == ("E1", "C202", "E2")  # C202 batches
    both = topology("mesh", {'name = "C201"\n': 'name = "C201"\nbatch_wait_ms = 2\n',
                             'name = "C202"\n': 'name = "C202"\nbatch_wait_ms = 2\n'})
    assert find_route(both, "E1", "E2") == ("E1", "C201", "E2")
    assert find_route(both, "E1", "E2", {"C202": 1}) == ("E1", "C202", "E2")  # shares C202's batches
    assert find_route(both, "E1", "E3", {"C202": 1}) == ("E1", "C202", "C204", "E3")
    assert find_route(both, "E1", "E3") == ("E1", "C201", "C203", "E3")
