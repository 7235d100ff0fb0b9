"""Contract conclusion (901) and customer configuration (902) are operations of the
configuration interface 501: a customer whose contract comes later can configure nothing
before both, and the contract's limits hold from then on."""

from __future__ import annotations

import pytest

from rcnlab.cli import main
from rcnlab.lab import LabError
from rcnlab.ops.commands import ConfigureCustomer, Contract, CreatePair
from rcnlab.ops.registry import do
from rcnlab.run import Session
from tests.helpers import ROOT, run, steps_of, topology

LATER = {'contract = "at-start"': 'contract = "later"   '}


def _session() -> Session:
    return Session.open(topology("fig1", LATER), seed=0)


def test_a_customer_of_the_file_is_contracted_and_configured_before_the_lab_starts():
    s = Session.open(topology("fig1"), seed=0)
    assert set(s.world.management.contracts) == {"C1"} and s.world.management.configured_customers == {"C1"}


def test_before_contract_and_configuration_a_pair_is_refused_naming_the_missing_step():
    s = _session()
    tags = []
    s.journal.subscribe(lambda e: tags.append(e.step) if e.step else None)
    with pytest.raises(LabError, match=r'^pair ST112:0>ST122:0 refused: customer C1 has no contract yet \(901'):
        do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    with pytest.raises(LabError, match=r"^customer C1 has no contract yet: conclude it first"):
        do(s.lab, ConfigureCustomer(customer="C1"))
    assert tags == []  # refused: nothing happened
    do(s.lab, Contract(customer="C1"))
    with pytest.raises(LabError, match=r"is not configured yet \(902"):
        do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    do(s.lab, ConfigureCustomer(customer="C1"))
    do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    s.drain()
    assert [str(state) for state in s.world.pair_views()[0].states] == ["Duplex"] * 4
    assert tags.index("fig9:901") < tags.index("fig9:902") < tags.index("fig9:904")


def test_the_contract_s_limits_hold_from_then_on():
    s = _session()
    do(s.lab, Contract(customer="C1", max_pairs=0))
    do(s.lab, ConfigureCustomer(customer="C1"))
    with pytest.raises(LabError, match=r"contract limit of 0 \(max_pairs\)"):
        do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    with pytest.raises(LabError, match=r"^customer C1 already has a contract \(901\): max_storages 16, max_pairs 0$"):
        do(s.lab, Contract(customer="C1"))
    with pytest.raises(LabError, match=r"^customer C1 is configured already \(902\)$"):
        do(s.lab, ConfigureCustomer(customer="C1"))


def test_a_contract_that_what_is_connected_breaks_is_refused():
    s = _session()
    with pytest.raises(LabError, match=r"connects 2 storages, over max_storages 1$"):
        do(s.lab, Contract(customer="C1", max_storages=1))
    with pytest.raises(LabError, match=r"attached to edge E10\d, not one of the contract's edges \(E104\)$"):
        do(s.lab, Contract(customer="C1", edges=["E104"]))
    assert s.world.management.contracts == {}


SCENARIO = """
[[step]]
at = 0.0
do = "contract"
customer = "C1"
max_pairs = 1
[[step]]
at = 0.001
do = "configure-customer"
customer = "C1"
[[step]]
at = 0.002
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
"""


def test_scenario_steps_conclude_and_configure():
    _, runner, events = run(topology("fig1", LATER), SCENARIO)
    assert runner.refused == [] and runner.failed == []
    contract = next(e for e in events if e["step"] == "fig9:901")
    assert contract["t"] == 0.0 and contract["max_pairs"] == 1
    assert next(e for e in events if e["step"] == "fig9:902")["t"] == 0.001
    assert steps_of(events).count("fig9:905") == 1


def test_a_scenario_naming_an_unknown_customer_is_one_line(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[step]]\nat = 0\ndo = "contract"\ncustomer = "C9"\n')
    assert main(["check", "fig1", "--scenario", str(scenario)]) == 2
    assert capsys.readouterr().err.strip() == f"rcnlab: {scenario}: step[0].customer: unknown customer 'C9' (known: C1)"


def test_a_pair_create_step_before_the_contract_is_refused_in_one_line(tmp_path, capsys):
    topo = tmp_path / "t.toml"
    (old, new), = LATER.items()
    topo.write_text((ROOT / "topologies" / "fig1.toml").read_text().replace(old, new))
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n')
    assert main(["run", str(topo), "--scenario", str(scenario)]) == 1
    err = capsys.readouterr().err
    assert "pair ST112:0>ST122:0 refused: customer C1 has no contract yet (901" in err
