"""The storage's path timeout (issue 12, item 7): a topology setting whose default follows
the round trip of the storage's attachment, and an edge back within it takes the WRs it
missed instead of failing the pair."""

from __future__ import annotations

import pytest

from helpers import pair_and_writes, run, topology
from rcnlab.summary import summarize
from rcnlab.topo.load import TopologyError

DURABLE = {"log_durable = false": "log_durable = true"}
OUTAGE = """
[[step]]
at = {at}
do = "crash"
device = "E104"
[[step]]
at = {back}
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


def events(trace, name):
    return [e for e in trace if e["event"] == name]


def four_states(net, volume="ST112:0"):
    return {p["source"]: set(p["states"].values()) for p in summarize(net)["pairs"]}[volume]


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_a_durable_edge_down_10_ms_under_writes_keeps_its_pair_duplex(mode):
    """Writes go on while the source edge is down for 10 ms: the storage resends what it missed."""
    text = pair_and_writes(mode=mode, count=400, rate=2000) + OUTAGE.format(at=0.3, back=0.31)
    net, runner, trace = run(topology("fig1", DURABLE), text, seed=1)
    assert runner.failed == [] and runner.refused == []
    assert four_states(net) == {"Duplex"}
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    assert s["writes"]["acknowledged"] == 400
    assert not events(trace, "path-failed") and not events(trace, "remote-copy-failed")
    resent = events(trace, "writes-resent")
    assert resent and resent[0]["writes"] > 0


def test_a_path_timeout_shorter_than_the_outage_still_fails_the_pair():
    """The setting is the storage's: 5 ms is less than the 10 ms outage."""
    topo = topology("fig1", {**DURABLE, "command_timeout_ms = 2000": "command_timeout_ms = 2000\npath_timeout_ms = 5"})
    text = pair_and_writes(count=400, rate=2000) + OUTAGE.format(at=0.3, back=0.31).split('[[step]]\nat = "end"')[0]
    net, runner, trace = run(topo, text, seed=1)
    assert events(trace, "path-failed") and four_states(net) == {"failure Suspend"}
    assert all(summarize(net)["invariants"].values())


def test_a_healthy_2500_km_fc_attachment_replicates_its_first_write():
    topo = topology("fig1", {'a = "ST112"\nb = "E104"\nkind = "fc"': 'a = "ST112"\nb = "E104"\nkind = "fc"\n'
                             "distance_km = 2500"})
    text = pair_and_writes(count=20, rate=100) + """
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    net, runner, trace = run(topo, text)
    assert runner.failed == [] and not events(trace, "path-failed")
    assert net.devices["ST112"].path_timeout == pytest.approx(4 * (0.025 + 512 / 1e9))
    assert summarize(net)["writes"]["acknowledged"] == 20


def test_the_default_is_the_floor_on_a_local_attachment():
    net, _, _ = run(topology("fig1"), "")
    assert net.devices["ST112"].path_timeout == 0.02


@pytest.mark.parametrize(("value", "problem"), [
    ("0", "storage[0].path_timeout_ms: must be >= 0.001, got 0"),
    ("-3", "storage[0].path_timeout_ms: must be >= 0.001, got -3"),
    ("1e12", "storage[0].path_timeout_ms: must be <= 3.1536e+10 (one year), got 1000000000000.0"),
    ('"soon"', "storage[0].path_timeout_ms: expected a number"),
    ("0.015", "storage[0].path_timeout_ms: 0.015 ms is not longer than a write's round trip to edge E104 over "
              "link ST112-E104 (0.0205 ms): every write would fail its path"),
])
def test_a_path_timeout_out_of_bounds_is_one_line(value, problem):
    with pytest.raises(TopologyError) as info:
        topology("fig1", {"command_timeout_ms = 2000": f"command_timeout_ms = 2000\npath_timeout_ms = {value}"})
    message = str(info.value)
    assert "\n" not in message and problem in message, message


def test_rcnlab_check_says_it_in_one_line(tmp_path, capsys):
    from helpers import TOPOLOGIES
    from rcnlab.cli import main

    path = tmp_path / "t.toml"
    path.write_text((TOPOLOGIES / "fig1.toml").read_text().replace(
        "command_timeout_ms = 2000", "command_timeout_ms = 2000\npath_timeout_ms = 0.01", 1))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: storage[0].path_timeout_ms: 0.01 ms is not longer than" in err, err


def test_no_resend_when_an_answer_from_the_edge_may_have_been_lost():
    """The edge took two writes but their answers were lost (its link to the storage was cut
    that way); it crashes and is back within the path timeout. Resending would log them a
    second time, the older after the newer: the path timeout fails the pair instead."""
    text = pair_and_writes(count=0, rate=1) + """
[[step]]
at = 0.3
do = "fail"
link = "ST112-E104"
direction = "E104>ST112"
[[step]]
at = 0.301
do = "write"
volume = "ST112:0"
block = 5
data = "old"
[[step]]
at = 0.302
do = "write"
volume = "ST112:0"
block = 5
data = "new"
[[step]]
at = 0.303
do = "crash"
device = "E104"
[[step]]
at = 0.304
do = "restore"
link = "ST112-E104"
direction = "E104>ST112"
[[step]]
at = 0.306
do = "restart"
device = "E104"
"""
    net, runner, trace = run(topology("fig1", DURABLE), text, seed=1)
    assert runner.refused == [], runner.refused
    assert not events(trace, "writes-resent") and events(trace, "path-failed")
    assert four_states(net) == {"failure Suspend"}
    assert all(summarize(net)["invariants"].values())


def test_an_edge_that_crashes_again_before_the_storage_hears_it_is_back():
    """Back at 0.31, down again 5 us later (before the fabric's word reaches the storage),
    back for good at 0.315: the storage resends once it is really back."""
    text = pair_and_writes(count=400, rate=2000) + OUTAGE.format(at=0.3, back=0.31) + """
[[step]]
at = 0.310005
do = "crash"
device = "E104"
[[step]]
at = 0.315
do = "restart"
device = "E104"
"""
    net, runner, trace = run(topology("fig1", DURABLE), text, seed=1)
    assert runner.failed == [] and not events(trace, "path-failed")
    assert four_states(net) == {"Duplex"} and all(summarize(net)["invariants"].values())
