"""Fault injection (issue 3): each fault kind as a scenario step, and what the pair does."""

from __future__ import annotations

import pytest

from helpers import TOPOLOGIES, pair_and_writes, run, steps_of, topology
from rcnlab.catalogue import missing, not_in_order
from rcnlab.lab import LabError
from rcnlab.ops.commands import Crash, FailLink, Heal, Partition, Restart, SiteFailure, SiteRestore
from rcnlab.ops.registry import do
from rcnlab.scenario.steps import ScenarioError, parse_scenario
from rcnlab.summary import summarize

FS = "failure Suspend"


def states(runner, volume="ST112:0"):
    storage, pair = runner.lab.pair_of(volume)
    return {k: str(v) for k, v in runner.lab.states(storage, pair).items()}


def events(trace, name):
    return [e for e in trace if e["event"] == name]


def scenario_file(name):
    return (TOPOLOGIES / "scenarios" / f"{name}.toml").read_text()


# -- the first "done when": core crash in a 5,000-write workload ------------------------
@pytest.fixture(scope="module")
def core_crash():
    topo = topology("fig1")
    text = scenario_file("core-crash").replace('at = "end"\ndo = "expect"', 'at = "end"\ndo = "note"\ntext = "x"'
                                               '\n[[step]]\nat = "end"\ndo = "expect"')
    return run(topo, text, seed=7)


def test_core_crash_fails_all_four_parties_then_resync_restores_duplex(core_crash):
    net, runner, trace = core_crash
    assert runner.failed == [] and runner.refused == []
    failed_parties = {e["party"] for e in events(trace, "pair-state") if e["new"] == FS}
    assert failed_parties == {"source_storage", "source_edge", "target_edge", "target_storage"}
    assert set(states(runner).values()) == {"Duplex"}
    s = summarize(net)
    assert s["volumes"]["ST112:0"]["digest"] == s["volumes"]["ST122:0"]["digest"]
    assert s["writes"]["issued"] == s["writes"]["acknowledged"] == 5000
    assert all(s["invariants"].values()), s["invariants"]
    assert sum(s["log_entries_remaining"].values()) == 0


def test_core_crash_trace_has_908_then_909_and_fig12_in_order(core_crash):
    _, _, trace = core_crash
    tags = steps_of(trace)
    assert tags.index("fig9:908") < tags.index("fig9:909")
    assert missing(tags, "fig12") == [] and not_in_order(tags[tags.index("fig9:909"):], "fig12") is None
    failed = events(trace, "remote-copy-failed")[0]
    assert failed["converted"] > 0 and "resends" in failed["reason"]
    assert not events(trace, "rerouted")  # Fig. 1 has one core: nothing to route around


def test_core_crash_resync_copies_exactly_the_merged_bitmaps(core_crash):
    net, runner, trace = core_crash
    merged = [e for e in events(trace, "bitmap-merged") if e["step"] == "fig12:1211"][0]
    s = summarize(net)
    assert s["differential_copied_blocks"] == merged["merged"] > 0


# -- resend, duplicates, one-way failure, loss ------------------------------------------------------
def test_answers_lost_one_way_are_resent_and_duplicates_answered_not_applied():
    text = pair_and_writes(count=400, rate=2000) + """
[[step]]
at = 0.25
do = "fail"
link = "C202-E105"
direction = "E105>C202"
[[step]]
at = 0.33
do = "restore"
link = "C202-E105"
direction = "E105>C202"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topology("fig1"), text, seed=1)
    assert runner.failed == [] and runner.refused == []
    e105 = net.devices["E105"]
    assert net.devices["E104"].resent > 0 and e105.duplicates > 0
    assert events(trace, "answered-again")
    reflected = [(e["order_id"], e["seq"]) for e in events(trace, "reflected")]
    assert len(reflected) == len(set(reflected))  # never applied twice
    assert not events(trace, "remote-copy-failed")


def test_loss_on_the_way_out_is_resent_and_converges():
    text = pair_and_writes(count=300, rate=1000) + """
[[step]]
at = 0.2
do = "set-link"
link = "E104-C202"
loss = 0.05
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topology("fig1"), text, seed=2)
    assert runner.failed == []
    assert net.devices["E104"].resent > 0
    assert len(events(trace, "reflected")) == len({(e["order_id"], e["seq"]) for e in events(trace, "reflected")})


def test_resend_timeout_and_limit_come_from_the_topology():
    topo = topology("fig1", {"resend_timeout_ms = 50": "resend_timeout_ms = 20", "resend_limit = 5": "resend_limit = 2"})
    text = pair_and_writes(count=50, rate=1000) + """
[[step]]
at = 0.21
do = "fail"
link = "E104-C202"
"""
    net, runner, trace = run(topo, text, seed=1)
    failed = events(trace, "remote-copy-failed")[0]
    first = min(e["seq"] for e in events(trace, "resent"))
    created = [e["t"] for e in events(trace, "log-created") if e.get("seq") == first and e["device"] == "E104"][0]
    attempts = [e["t"] - created for e in events(trace, "resent") if e["seq"] == first]
    assert failed["reason"] == "no answer after 2 resends"
    assert attempts == pytest.approx([0.020, 0.040]) and failed["t"] - created == pytest.approx(0.060)
    assert set(states(runner).values()) == {FS}


def test_the_management_server_routes_around_a_failed_core_first():
    topo = topology("mesh", {"capacity = 3": "capacity = 8"})
    text = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST11:0"
target = "ST12:0"
[[step]]
at = 0.2
do = "workload"
volume = "ST11:0"
rate = 2000
count = 1000
blocks = [0, 4096]
[[step]]
at = 0.4
do = "crash"
device = "C201"
[[step]]
at = "end"
do = "expect"
pair = "ST11:0"
state = "Duplex"
equal = ["ST11:0", "ST12:0"]
remaining = 0
"""
    net, runner, trace = run(topo, text, seed=3)
    assert runner.failed == []
    rerouted = events(trace, "rerouted")
    assert rerouted and rerouted[0]["avoiding"] == ["C201"] and not events(trace, "remote-copy-failed")
    assert ["E1", "C202", "E2"] in rerouted[0]["routes"]


def test_without_a_detour_the_trace_says_remote_copy_failed():
    net, runner, trace = run(topology("mesh", {"capacity = 3": "capacity = 2"}), """
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
""", seed=3)
    assert not events(trace, "rerouted") and events(trace, "remote-copy-failed")  # C202 is full (capacity 2)
    refused = events(trace, "reroute-refused")[0]
    assert refused["pair"] == "ST11>ST12" and refused["failed"] == ["C201"]
    assert refused["reason"] == "C202 carries 2 routes, its capacity is 2"
    assert set(states(runner, "ST11:0").values()) == {FS}


# -- crash and restart ---------------------------------------------------------------------------------
CRASH = """
[[step]]
at = 0.5
do = "crash"
device = "{device}"
[[step]]
at = {restart}
do = "restart"
device = "{device}"
[[step]]
at = 1.5
do = "resync"
volume = "ST112:0"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""


@pytest.mark.parametrize("durable", [False, True])
def test_source_edge_crash_mid_workload_loses_nothing_acknowledged(durable):
    topo = topology("fig1", {"log_durable = false": f"log_durable = {str(durable).lower()}"})
    text = pair_and_writes(count=1000, rate=2000, blocks=2048) + CRASH.format(device="E104", restart=0.6)
    net, runner, trace = run(topo, text, seed=4)
    assert runner.failed == [] and runner.refused == []
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    assert s["writes"]["acknowledged"] == 1000
    lost = events(trace, "log-lost")
    if durable:
        assert not lost and not events(trace, "bitmap-full")
    else:  # the lost entries count as deleted; the restart fails the group with a full bitmap
        assert lost and lost[0]["held"] > 0
        failed = [e for e in events(trace, "remote-copy-failed") if e["full"]]
        assert failed and "413 lost" in failed[0]["reason"] and events(trace, "bitmap-full")
    assert events(trace, "path-failed")  # writes during the outage: the storage noticed itself


def test_a_durable_edge_restarted_while_idle_resends_what_it_held():
    topo = topology("fig1", {"log_durable = false": "log_durable = true"})
    text = pair_and_writes(count=50, rate=1000) + """
[[step]]
at = 0.2495
do = "crash"
device = "E104"
[[step]]
at = 0.26
do = "restart"
device = "E104"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topo, text, seed=1)
    assert runner.failed == []
    assert net.devices["E104"].resent > 0 and not events(trace, "remote-copy-failed")


def test_counters_hold_after_a_volatile_crash():
    topo = topology("fig1")
    text = pair_and_writes(count=400, rate=2000) + '[[step]]\nat = 0.3\ndo = "crash"\ndevice = "E104"\n'
    net, runner, _ = run(topo, text, seed=1)
    e104 = net.devices["E104"]
    g = e104.groups[1]
    assert g.created - g.deleted == len(e104.held) == 0 and g.created > g.deleted - 1


def test_target_edge_crash_is_recovered_by_resending():
    text = pair_and_writes(count=600, rate=2000) + """
[[step]]
at = 0.4
do = "crash"
device = "E105"
[[step]]
at = 0.45
do = "restart"
device = "E105"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topology("fig1"), text, seed=5)
    assert runner.failed == [] and not events(trace, "remote-copy-failed")


def test_target_storage_crash_briefly_is_bridged_by_reissuing_the_write():
    text = pair_and_writes(count=400, rate=2000) + """
[[step]]
at = 0.3
do = "crash"
device = "ST122"
[[step]]
at = 0.35
do = "restart"
device = "ST122"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topology("fig1"), text, seed=5)
    assert runner.failed == []
    assert events(trace, "reissued")


def test_source_storage_crash_during_initial_copy_resumes_the_copy():
    text = """
[[step]]
at = 0.0
do = "workload"
volume = "ST112:0"
rate = 100000
count = 3000
[[step]]
at = 0.05
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
[[step]]
at = 0.1
do = "crash"
device = "ST112"
[[step]]
at = 0.12
do = "restart"
device = "ST112"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topology("fig1"), text, seed=5)
    assert runner.failed == []
    assert [e for e in events(trace, "copy-started") if e["copy"] == "resumed"]


# -- site failure and partition ------------------------------------------------------------------------
def test_site_failure_takes_down_every_host_and_storage_of_the_site():
    net, runner, trace = run(topology("fig1"), pair_and_writes(count=100) + """
[[step]]
at = 0.25
do = "site-failure"
site = "source"
""", seed=1)
    assert not net.devices["H111"].up and not net.devices["ST112"].up
    assert net.devices["E104"].up and net.devices["H121"].up and net.devices["ST122"].up
    assert ("C1", "source") in net.management.failed_sites  # the run went on until the server found it (1301)
    assert do(runner.lab, SiteRestore(site="source")) == ["H111", "ST112"]


def test_partition_cuts_every_crossing_link_and_heal_restores_them():
    text = pair_and_writes(count=400, rate=2000) + """
[[step]]
at = 0.3
do = "partition"
devices = ["E105", "ST122", "H121"]
[[step]]
at = 0.9
do = "heal"
[[step]]
at = 1.2
do = "resync"
volume = "ST112:0"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topology("fig1"), text, seed=2)
    assert runner.failed == [] and runner.refused == []
    cut = events(trace, "partitioned")[0]
    assert cut["links"] == ["C202-E105"]
    assert events(trace, "remote-copy-failed")
    assert all(link.state() == "up" for link in net.links.values())


def test_lab_fault_methods_refuse_bad_names_in_one_line():
    net, runner, _ = run(topology("fig1"), "", seed=0)
    lab = runner.lab
    for call, text in ((lambda: do(lab, FailLink(link="E104-E105")), "unknown link"),
                       (lambda: do(lab, FailLink(link="E104-C202", direction="E104>E105")), "no direction"),
                       (lambda: do(lab, Crash(device="X9")), "unknown device"),
                       (lambda: do(lab, Restart(device="E104")), "already up"),
                       (lambda: do(lab, SiteFailure(site="nowhere")), "no host or storage at site"),
                       (lambda: do(lab, Heal()), "no partition"),
                       (lambda: do(lab, Partition(devices=["M103"])), "no working link")):
        with pytest.raises(LabError) as exc:
            call()
        assert text in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("step, problem", [
    ('do = "fail"\nlink = "E104-E105"', "unknown link"),
    ('do = "fail"\nlink = "E104-C202"\ndirection = "E104>E105"', "expected FROM>TO"),
    ('do = "crash"\ndevice = "C999"', "unknown device"),
    ('do = "site-failure"\nsite = "moon"', "expected one of"),
    ('do = "partition"\ndevices = ["E104", "nobody"]', "unknown device"),
    ('do = "failover"\nvolume = "ST999:0"', "unknown storage"),
    ('do = "failback"\nvolume = "ST122:0"\nswap_back = "yes"', "expected true or false"),
])
def test_fault_steps_are_checked_against_the_topology(step, problem):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(f"[[step]]\nat = 0\n{step}\n", "s.toml", topology("fig1"))
    assert problem in str(exc.value)


def test_same_seed_same_trace_with_faults():
    text = scenario_file("planned-suspend")
    a = run(topology("fig1"), text, seed=9)[2]
    b = run(topology("fig1"), text, seed=9)[2]
    assert a == b
