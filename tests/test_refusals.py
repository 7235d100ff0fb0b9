"""Pairs that break a rule are refused before anything is sent (issue 12, item 5): at run
time by the same rules (rcnlab.topo.rules) the topology loader applies to [[pair]]."""

from __future__ import annotations

import pytest

from helpers import pair_and_writes, run, topology
from rcnlab.lab import LabError
from rcnlab.ops.commands import CreatePair
from rcnlab.ops.registry import do
from rcnlab.run import Session
from rcnlab.summary import summarize

MESH_PAIRS = """
[[pair]]
source = "ST11:0"
target = "ST12:0"
order_id = 1

[[pair]]
source = "ST21:0"
target = "ST22:0"
order_id = 2

[[pair]]
source = "ST21:1"
target = "ST23:0"
order_id = 3
"""
THREE_LUNS = "volumes = [{ lun = 0, blocks = 4096 }, { lun = 1, blocks = 4096 }, { lun = 2, blocks = 4096 }]"


def create(at: float, source: str, target: str, order_id: int | None = None) -> str:
    oid = "" if order_id is None else f"order_id = {order_id}\n"
    return f'[[step]]\nat = {at}\ndo = "pair-create"\nsource = "{source}"\ntarget = "{target}"\n{oid}'


def instructed(trace: list[dict]) -> list[str]:
    """The pair creations a host actually sent."""
    return [f"{e['source']}>{e['target']}" for e in trace if e["event"] == "pair-create-instructed"]


def states(net) -> dict[str, set[str]]:
    return {p["source"]: set(p["states"].values()) for p in summarize(net)["pairs"]}


def fig1_luns(**customer: int) -> object:
    """Fig. 1 with three volumes on each storage (and the customer's contract as given)."""
    edit = {'volumes = [{ lun = 0, blocks = 2147483648 }]': THREE_LUNS}  # both storages
    for key, value in customer.items():
        edit[f"{key} = 64 " if key == "max_pairs" else f"{key} = 16 "] = f"{key} = {value} "
    return topology("fig1", edit)


# -- order assurance IDs (method B) ------------------------------------------------------------
def test_an_order_id_reserved_for_another_edge_pair_is_refused_at_run_time():
    """[[pair]] reserves order ID 2 for E1->E2; a pair E1->E3 may not take it."""
    topo = topology("mesh")
    net, runner, trace = run(topo, create(0.0, "ST21:1", "ST23:0", order_id=2) + create(0.01, "ST21:0", "ST22:0"))
    assert len(runner.refused) == 1, runner.refused
    assert "order assurance ID 2 already joins edges E1->E2 (the topology's [[pair]] ST21:0>ST22:0)" \
        in runner.refused[0]
    assert "\n" not in runner.refused[0]
    assert instructed(trace) == ["ST21:0>ST22:0"]  # nothing of the refused one was sent
    assert states(net) == {"ST21:0": {"Duplex"}}


def test_an_order_id_in_use_by_a_live_pair_on_other_edges_is_refused():
    topo = topology("mesh", {MESH_PAIRS: ""})
    text = create(0.0, "ST21:0", "ST22:0", order_id=7) + create(0.2, "ST21:1", "ST23:0", order_id=7) + """
[[step]]
at = 0.3
do = "workload"
volume = "ST21:0"
rate = 1000
count = 100
"""
    net, runner, trace = run(topo, text)
    assert len(runner.refused) == 1 and "order assurance ID 7 already joins edges E1->E2 (pair ST21:0>ST22:0)" \
        in runner.refused[0], runner.refused
    assert instructed(trace) == ["ST21:0>ST22:0"]
    assert states(net) == {"ST21:0": {"Duplex"}}
    assert all(summarize(net)["invariants"].values())


def test_an_order_id_on_its_way_counts_too():
    """Two creations at the same instant: the second sees the first one's order ID."""
    topo = topology("mesh", {MESH_PAIRS: ""})
    _, runner, trace = run(topo, create(0.0, "ST21:0", "ST22:0", order_id=7) + create(0.0, "ST21:1", "ST23:0", 7))
    assert len(runner.refused) == 1 and "order assurance ID 7 already joins edges E1->E2" in runner.refused[0]
    assert instructed(trace) == ["ST21:0>ST22:0"]


def test_method_b_refuses_a_pair_with_no_order_id_at_run_time():
    """Method B: a pair with no order_id (none given, no [[pair]]) is refused, not numbered."""
    topo = topology("mesh", {MESH_PAIRS: ""})
    net, runner, trace = run(topo, create(0.0, "ST21:0", "ST22:0", order_id=1))
    assert runner.refused == []
    session = Session.open(topo)
    with pytest.raises(LabError, match='has no order assurance ID: with order_assurance = "B"'):
        do(session.lab, CreatePair(source="ST21:1", target="ST23:0"))


def test_an_order_id_is_refused_where_the_lab_assigns_them():
    _, runner, trace = run(topology("fig1"), create(0.0, "ST112:0", "ST122:0", order_id=5))
    assert len(runner.refused) == 1 and 'order_id applies only with order_assurance = "B"' in runner.refused[0]
    assert instructed(trace) == []


# -- storages on one edge -------------------------------------------------------------------------
def test_a_pair_on_one_edge_is_refused_at_run_time():
    topo = topology("fig1", {'edge = "E105"\nvolumes': 'edge = "E104"\nvolumes',
                             'a = "E105"\nb = "ST122"': 'a = "E104"\nb = "ST122"'})
    _, runner, trace = run(topo, create(0.0, "ST112:0", "ST122:0"))
    assert runner.refused == ["<test>: step[0] (pair-create at 0s): ST112 and ST122 are both attached to edge E104; "
                              "the RCN copies between storages on two different edges"], runner.refused
    assert instructed(trace) == []


# -- contract limits -------------------------------------------------------------------------------
def test_max_pairs_holds_for_pairs_created_at_run_time():
    net, runner, trace = run(fig1_luns(max_pairs=1), "".join(
        create(0.1 * i, f"ST112:{i}", f"ST122:{i}") for i in range(3)))
    assert len(runner.refused) == 2, runner.refused
    assert all("customer C1 would have more pairs than the contract limit of 1 (max_pairs)" in r
               and "it has 1: pair ST112:0>ST122:0" in r for r in runner.refused)
    assert instructed(trace) == ["ST112:0>ST122:0"]
    assert states(net) == {"ST112:0": {"Duplex"}}


def test_max_pairs_counts_creations_on_their_way():
    _, runner, trace = run(fig1_luns(max_pairs=1), create(0.0, "ST112:0", "ST122:0") + create(0.0, "ST112:1", "ST122:1"))
    assert len(runner.refused) == 1 and "contract limit of 1" in runner.refused[0]
    assert instructed(trace) == ["ST112:0>ST122:0"]


def test_a_deleted_pair_frees_its_place_in_the_contract():
    text = create(0.0, "ST112:0", "ST122:0") + '[[step]]\nat = 0.2\ndo = "delete-pair"\nvolume = "ST112:0"\n' \
        + create(0.4, "ST112:1", "ST122:1")
    net, runner, _ = run(fig1_luns(max_pairs=1), text)
    assert runner.refused == []
    assert states(net) == {"ST112:1": {"Duplex"}}


# -- volumes ---------------------------------------------------------------------------------------
def test_a_volume_claimed_by_a_creation_on_its_way_is_refused():
    net, runner, trace = run(fig1_luns(), create(0.0, "ST112:0", "ST122:0") + create(0.0, "ST112:1", "ST122:0"))
    assert len(runner.refused) == 1 and "volume ST122:0 is already the target of pair ST112:0>ST122:0" \
        in runner.refused[0], runner.refused
    assert instructed(trace) == ["ST112:0>ST122:0"]
    assert states(net) == {"ST112:0": {"Duplex"}}


def test_a_target_volume_in_use_is_refused():
    text = '[[step]]\nat = 0.0\ndo = "workload"\nvolume = "ST122:0"\nrate = 100\nduration = 1\n' \
        + create(0.1, "ST112:0", "ST122:0")
    _, runner, trace = run(topology("fig1"), text)
    assert len(runner.refused) == 1 and "target ST122:0 is in use (host H121 runs a workload on it)" \
        in runner.refused[0], runner.refused
    assert instructed(trace) == []


def test_a_smaller_target_is_refused():
    topo = topology("fig1", {'edge = "E105"\nvolumes = [{ lun = 0, blocks = 2147483648 }]':
                             'edge = "E105"\nvolumes = [{ lun = 0, blocks = 1024 }]'})
    _, runner, trace = run(topo, create(0.0, "ST112:0", "ST122:0"))
    assert len(runner.refused) == 1 and "target ST122:0 has 1024 blocks, fewer than source ST112:0" \
        in runner.refused[0]
    assert instructed(trace) == []


@pytest.mark.parametrize("source", ["ST112:0", "ST122:0"])
def test_a_paired_volume_is_refused_with_its_state(source):
    text = pair_and_writes(count=10) + create(0.5, source, "ST122:0" if source == "ST112:0" else "ST112:0")
    _, runner, _ = run(topology("fig1"), text)
    assert len(runner.refused) == 1 and "pair-create refused" in runner.refused[0]


@pytest.mark.parametrize("second", [("ST22:0", "ST21:1", "H22"), ("ST23:0", "ST22:0", "H23")],
                         ids=["the-other-way", "from-a-third-edge"])
def test_an_order_id_is_free_again_once_its_pairs_are_deleted(second):
    """Method B: order ID 7 joins E1->E2, its pair is deleted, and the ID is given to another
    edge pair (E2->E1, or E3->E2 into the same target edge, whose reflection counter stood at
    the old sequence's end): accepted, Duplex, the new writes reflected in order."""
    def workload(at: float, volume: str, host: str) -> str:
        return f'[[step]]\nat = {at}\ndo = "workload"\nvolume = "{volume}"\nrate = 1000\ncount = 50\nhost = "{host}"\n'

    source, target, host = second
    text = (create(0.0, "ST21:0", "ST22:0", order_id=7) + workload(0.3, "ST21:0", "H21")
            + '[[step]]\nat = 1.0\ndo = "delete-pair"\nvolume = "ST21:0"\n'
            + create(1.5, source, target, order_id=7) + workload(2.0, source, host))
    net, runner, trace = run(topology("mesh", {MESH_PAIRS: ""}), text)
    assert runner.refused == [] and runner.lab.failed_commands(final=True) == []
    assert states(net) == {source: {"Duplex"}}
    assert all(summarize(net)["invariants"].values()), runner.failed
    reflected = [e["seq"] for e in trace if e["event"] == "reflected" and e["t"] > 1.5 and not e["copy"]]
    assert len(reflected) == 50 and reflected == sorted(reflected)
