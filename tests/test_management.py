"""The management server 103 (issue 13): what a customer sees comes from the server's
collection (502(B)) with its age, the server finds a failed source site from its own
collection (1301) and tells the target hosts over the WAN 102, the configuration (903) and
the pair information 411 travel over the management network 150, order assurance IDs are
created by the source edge (method A), and method B without an ID is refused."""

from __future__ import annotations

import json

import pytest

from helpers import pair_and_writes, run, topology
from rcnlab.cli import main
from rcnlab.emu.journal import Journal
from rcnlab.lab import LabError
from rcnlab.ops.commands import CreatePair, SiteFailure
from rcnlab.ops.registry import do
from rcnlab.run import Session
from rcnlab.scenario.steps import ScenarioError, parse_scenario
from rcnlab.summary import summarize
from rcnlab.topo.load import TopologyError

AUTO = {"auto_failover = false ": "auto_failover = true "}
SITE_FAILURE = pair_and_writes(rate=1000, count=2000) + '\n[[step]]\nat = 1.0\ndo = "site-failure"\nsite = "source"\n'


def events(trace: list[dict], name: str) -> list[dict]:
    return [e for e in trace if e["event"] == name]


def session(topo, seed: int = 0) -> Session:
    journal = Journal()
    journal.subscribe(lambda ev: None)
    return Session.open(topo, seed=seed, journal=journal)


# -- the collection is what a customer sees ------------------------------------------------
def test_a_customer_sees_only_its_own_pairs_and_groups_from_the_collection():
    topo = topology("mesh")
    scenario = "".join(f'[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "{s}"\ntarget = "{t}"\n'
                       for s, t in (("ST11:0", "ST12:0"), ("ST21:0", "ST22:0")))
    net, runner, _ = run(topo, scenario + '[[step]]\nat = 1.0\ndo = "note"\ntext = "collect"\n')
    customers = summarize(net)["customers"]
    assert set(customers) == {c.id for c in topo.customers}
    for cid, view in customers.items():
        mine = {s.name for s in topo.storages if s.customer == cid}
        assert view["pairs"] and {p["source"].split(":")[0] for p in view["pairs"]} <= mine
        assert {p["target"].split(":")[0] for p in view["pairs"]} <= mine
        assert {c["storage"] for c in view["storage_connections"]} <= mine
        assert view["order_groups"], view
        own_ids = {p["order_id"] for p in view["pairs"]}
        assert {g["order_id"] for g in view["order_groups"]} <= own_ids
        assert view["age_s"] is not None and view["age_s"] < topo.management.collect_interval + 0.01


def test_the_view_is_the_last_report_not_the_edges_now():
    s = session(topology("fig1"))
    do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    s.run_for(1.0)
    server, edge = s.world.management, s.world.edge_named["E104"]
    before = server.customer_view("C1")["order_groups"]
    h = s.world.host_named["H111"]
    for block in range(10):
        h.write(s.world.storages[0].ref(0), block)
    s.run_until(lambda: edge.groups[1].created >= before[0]["created"] + 10, timeout=0.1)
    assert edge.groups[1].created == before[0]["created"] + 10
    assert server.customer_view("C1")["order_groups"][0]["created"] == before[0]["created"]  # not collected yet
    s.run_for(server.spec.collect_interval + server.spec.latency)
    assert server.customer_view("C1")["order_groups"][0]["created"] == edge.groups[1].created


def test_the_age_grows_when_the_reports_stop():
    s = session(topology("fig1"))
    do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    s.run_for(1.0)
    server = s.world.management
    assert server.customer_view("C1")["age_s"] <= server.spec.collect_interval
    do(s.lab, SiteFailure(site="source"))
    s.run_for(1.0)
    first = server.customer_view("C1")["age_s"]
    s.run_for(0.7)
    assert first >= 1.0 - server.spec.collect_interval
    assert server.customer_view("C1")["age_s"] == pytest.approx(first + 0.7)


def test_run_customer_prints_that_customers_view(capsys):
    assert main(["run", "mesh", "--scenario", str(_mesh_scenario()), "--customer", "C2", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["customer"] == "C2" and view["age_s"] is not None
    assert all(p["source"].startswith("ST2") for p in view["pairs"]) and view["pairs"]
    assert main(["run", "mesh", "--scenario", str(_mesh_scenario()), "--customer", "C2"]) == 0
    out = capsys.readouterr().out
    assert "customer C2" in out and "ST21" in out and "ST11" not in out


def test_run_customer_refuses_an_unknown_customer(capsys):
    assert main(["run", "fig1", "--scenario", "fig1-basic", "--customer", "C9"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--customer" in err and "C9" in err and "C1" in err and len(err.splitlines()) == 1


def _mesh_scenario():
    import tempfile
    from pathlib import Path
    path = Path(tempfile.mkdtemp()) / "mesh.toml"
    path.write_text('[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "ST21:0"\ntarget = "ST22:0"\n'
                    '[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "ST11:0"\ntarget = "ST12:0"\n'
                    '[[step]]\nat = 1.0\ndo = "note"\ntext = "collect"\n')
    return path


# -- 1301: the server finds the failed site from its own collection -----------------------
def test_a_site_failure_is_detected_only_after_its_reports_stop():
    topo = topology("fig1")
    spec = topo.management
    _, _, trace = run(topo, SITE_FAILURE)
    detected = events(trace, "site-failure-detected")
    assert len(detected) == 1 and detected[0]["step"] == "fig13:1301" and detected[0]["device"] == "M103"
    # silent longer than site_timeout since the last report before the failure, and no later than a collection after
    assert detected[0]["silent_s"] > spec.site_timeout
    assert 1.0 + spec.site_timeout - spec.collect_interval < detected[0]["t"] <= 1.0 + spec.site_timeout + 0.01
    assert detected[0]["notify"] == ["H121"]
    _, _, calm = run(topo, pair_and_writes(rate=1000, count=2000))
    assert not [e for e in calm if e["step"] == "fig13:1301"]


def test_a_site_that_keeps_reporting_is_not_failed():
    cut = pair_and_writes() + '\n[[step]]\nat = 0.3\ndo = "fail"\nlink = "ST112-E104"\n'
    _, _, trace = run(topology("fig1"), cut)
    assert not events(trace, "site-failure-detected")


def test_the_target_host_is_told_over_the_wan_and_takes_over_only_with_auto_failover():
    topo = topology("fig1", AUTO)
    _, _, trace = run(topo, SITE_FAILURE)
    detected = events(trace, "site-failure-detected")[0]
    notified = events(trace, "site-failure-notified")[0]
    assert notified["device"] == "H121" and notified["volumes"] == ["ST122:0"]
    assert notified["t"] == pytest.approx(detected["t"] + topo.management.latency)
    decided = events(trace, "takeover-decided")
    assert [d["by"] for d in decided] == ["cluster software"] and decided[0]["t"] == notified["t"]
    assert events(trace, "application-restarted")[0]["volume"] == "ST122:0"
    _, _, manual = run(topology("fig1"), SITE_FAILURE)
    assert events(manual, "site-failure-notified")[0]["takeover"] == "operator"
    assert not events(manual, "takeover-decided") and not events(manual, "application-restarted")


def test_the_operators_failover_without_a_detection_is_no_1301():
    scenario = SITE_FAILURE + '\n[[step]]\nat = 1.001\ndo = "failover"\nvolume = "ST122:0"\n'
    _, runner, trace = run(topology("fig1"), scenario)
    decided = events(trace, "takeover-decided")
    assert [(d["by"], d["notified"]) for d in decided] == [("operator", None)]
    first_1301 = next(e["t"] for e in trace if e["step"] == "fig13:1301")
    assert first_1301 > events(trace, "application-restarted")[0]["t"]  # the server's, later


def test_the_site_timeout_must_exceed_the_collection_interval():
    with pytest.raises(TopologyError, match=r"management.site_timeout_ms: 500 ms is not longer"):
        topology("fig1", {"site_timeout_ms = 1500 ": "site_timeout_ms = 500 "})


def test_the_site_timeout_follows_the_collection_interval_unless_given():
    """A file that sets only a slower collection gets three collections of silence, not an error."""
    topo = topology("fig1", {"site_timeout_ms = 1500 ": "", "collect_interval_ms = 500 ": "collect_interval_ms = 2000 "})
    assert topo.management.site_timeout == pytest.approx(6.0)


# -- 903 and 411 over the management network 150 -------------------------------------------
def test_the_configuration_arrives_after_the_management_latency():
    topo = topology("fig1", {"latency_ms = 1 ": "latency_ms = 7 "})
    _, _, trace = run(topo, "")
    sent = [e for e in trace if e["event"] == "mgmt-sent" and "903" in e["what"]]
    assert {e["to"] for e in sent} == {"E104", "E105", "C202"} and {e["t"] for e in sent} == {-0.007}
    configured = events(trace, "rcn-configured")
    assert [(e["t"], e["step"]) for e in configured] == [(0.0, "fig9:903")]


def test_pair_information_reaches_the_server_one_latency_after_the_edge_changes_it():
    s = session(topology("fig1", {"latency_ms = 1 ": "latency_ms = 7 "}))
    do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    server, edge = s.world.management, s.world.edge_named["E104"]
    reported = lambda: any(k[0] == "E104" for k in server.pair_info)  # noqa: E731
    assert s.run_until(lambda: any(p.state.value != "Simplex" for p in edge.pairs.values()), timeout=1)
    changed = s.kernel.now
    s.run_until(lambda: s.kernel.next_time >= changed + 0.007 - 1e-9 or reported(), timeout=1)
    assert not reported()  # still on its way over 150
    assert s.run_until(reported, timeout=1)
    assert s.kernel.now == pytest.approx(changed + 0.007)
    info = next(v for k, v in server.pair_info.items() if k[0] == "E104")
    assert info.at == changed and info.order_id == 1


def test_the_source_edge_numbers_its_order_groups():
    topo = topology("fig1", {"volumes = [{ lun = 0, blocks = 2147483648 }]":
                             "volumes = [{ lun = 0, blocks = 4096 }, { lun = 1, blocks = 4096 }]"})
    scenario = ('[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n'
                '[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "ST122:1"\ntarget = "ST112:1"\n')
    net, _, trace = run(topo, scenario)
    registered = {e["device"]: e["order_id"] for e in events(trace, "pair-registered") if e["step"] == "fig17:1702"}
    assert registered == {"E104": 1, "E105": 2}  # edge i of n: i, i + n, ...
    assert not hasattr(net.management, "order_id_for")


# -- method B without an ID ----------------------------------------------------------------
B_LAB = {'order_assurance = "A-1"': 'order_assurance = "B"'}


def test_method_b_without_an_id_is_refused_in_the_scenario_file():
    topo = topology("fig1", B_LAB)
    with pytest.raises(ScenarioError, match=r"step\[0\]\.order_id: pair ST112:0>ST122:0 has no order assurance ID"):
        parse_scenario('[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n',
                       "<test>", topo)
    parse_scenario('[[step]]\nat = 0.0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n'
                   'order_id = 4\n', "<test>", topo)


def test_method_b_without_an_id_is_refused_at_run_time():
    s = session(topology("fig1", B_LAB))
    with pytest.raises(LabError, match="has no order assurance ID") as refused:
        do(s.lab, CreatePair(source="ST112:0", target="ST122:0"))
    assert len(str(refused.value).splitlines()) == 1
    assert not s.world.storages[0].pairs
    do(s.lab, CreatePair(source="ST112:0", target="ST122:0", order_id=4))
    s.drain()
    assert [v.order_id for v in s.world.pair_views()] == [4]
