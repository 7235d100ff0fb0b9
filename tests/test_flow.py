"""Flow control (issue 12, item 6): overload with no fault must not break a pair.

Found by users: the resend timer counted the time an entry waited for the bandwidth, so
a saturated but healthy link made thousands of resends and the pair fell to failure
Suspend; with core batching one lost frame lost the whole batch; a copy faster than a
link, or larger than the log storage area, never finished. Real arrays pace the host
instead (journal inflow control)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import TOPOLOGIES, pair_and_writes, run, topology
from rcnlab.cli import main
from rcnlab.topo.load import TopologyError
from rcnlab.tui.widgets.log_area import LogArea
from rcnlab.world import World


def _slow(a: str, b: str) -> tuple[str, str]:
    link = f'a = "{a}"\nb = "{b}"\nkind = "gbe"\n'
    return link, link + "bandwidth_mbps = 8\n"


SLOW_GBE = _slow("E104", "C202")  # the edge's own link
SMALL_LOG = ("log_capacity = 1073741824 ", "log_capacity = 262144 ")
SUSPEND = ('log_policy = "throttle"', 'log_policy = "suspend"')
CHECKED = '\n[[step]]\nat = "end"\ndo = "expect"\ninvariants = true\n'
# 3,000 writes a second of 512 bytes: twice what 8 Mbit/s carries
OVERLOAD = pair_and_writes(rate=3000, count=1500, blocks=4096) + CHECKED


def _states(world: World) -> set[str]:
    return {str(s) for v in world.pair_views() for s in v.states}


def _converged(world: World) -> bool:
    return len({s.volumes[0].digest() for s in world.storages}) == 1


@pytest.mark.parametrize("link", [("E104", "C202"), ("C202", "E105")])
def test_a_saturated_link_without_faults_makes_no_resends(link: tuple[str, str]) -> None:
    """The timer runs from when an entry leaves onto the wire, or over the slowest link
    of its route behind what the edge sent before it (a queue at a core), not from when
    it was created."""
    world, runner, _ = run(topology("fig1", edit=dict([_slow(*link)])), OVERLOAD, trace=False)
    assert runner.failed == [] and runner.refused == []
    assert _states(world) == {"Duplex"} and _converged(world)
    assert sum(e.resent for e in world.edges) <= 10


@pytest.mark.parametrize("seed", [2, 4])  # both fell to failure Suspend before
def test_core_batching_with_loss_loses_no_batch(seed: int) -> None:
    """A lost frame of a batch (420) loses the entries in it, which are resent one by one."""
    edit = {"batch_wait_ms = 0 ": "batch_wait_ms = 40 ",
            "distance_km = 300            # instead": "loss = 0.01\ndistance_km = 300            # instead"}
    scenario = pair_and_writes(rate=5000, count=2000, blocks=4096) + CHECKED
    world, runner, _ = run(topology("fig1", edit=edit), scenario, seed=seed, trace=False)
    assert runner.failed == []
    assert _states(world) == {"Duplex"} and _converged(world)


COPY = """
[[step]]
at = 0.0
do = "workload"
volume = "ST112:0"
rate = 100000
count = 3000
blocks = [0, 3000]

[[step]]
at = 0.1
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
""" + CHECKED


@pytest.mark.parametrize("policy", ["throttle", "suspend"])
def test_a_copy_larger_than_the_log_and_faster_than_the_link_finishes(policy: str) -> None:
    """3,000 blocks (1.6 MB) through a 256 KiB log area at 20,000 blocks/s over 8 Mbit/s."""
    edit = dict([SLOW_GBE, SMALL_LOG])
    if policy == "suspend":
        edit.update([SUSPEND])
    world, runner, _ = run(topology("fig1", edit=edit), COPY, trace=False)
    assert runner.failed == []
    assert _states(world) == {"Duplex"} and _converged(world)
    assert sum(e.resent for e in world.edges) == 0
    assert max(e.log_bytes for e in world.edges) == 0


def test_throttle_keeps_the_pair_duplex_under_overload() -> None:
    world, runner, events = run(topology("fig1", edit=dict([SLOW_GBE, SMALL_LOG])), OVERLOAD)
    assert runner.failed == []
    assert _states(world) == {"Duplex"} and _converged(world)
    source = world.device("ST112")
    assert source.pacing.held > 0  # the host's writes waited ...
    assert world.device("H111").latency_max > 0.01  # ... and the host saw it
    assert any(e["event"] == "log-pacing" and e["hosts"] for e in events)


def test_suspend_policy_suspends_under_overload() -> None:
    world, runner, _ = run(topology("fig1", edit=dict([SLOW_GBE, SMALL_LOG, SUSPEND])), OVERLOAD, trace=False)
    assert "failure Suspend" in _states(world)
    assert world.device("ST112").pacing.held == 0


def test_check_warns_of_a_short_resend_timeout_and_a_fast_copy_or_workload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ((TOPOLOGIES / "fig1.toml").read_text()
            .replace("resend_timeout_ms = 50 ", "resend_timeout_ms = 2 ")
            .replace(*SLOW_GBE))
    path = tmp_path / "slow.toml"
    path.write_text(text)
    scenario = tmp_path / "overload.toml"
    scenario.write_text(OVERLOAD)
    assert main(["check", str(path), "--scenario", str(scenario)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err
    assert "resend_timeout_ms = 2 is shorter than the round trip of route E104-C202-E105" in err[0]
    assert "copy_rate 20000 blocks/s" in err[1] and "exceeds link E104-C202" in err[1]
    assert "workload 3000 blocks/s" in err[2] and "its hosts are throttled" in err[2]
    assert main(["check", str(TOPOLOGIES / "fig1.toml")]) == 0
    assert capsys.readouterr().err == ""  # the shipped topology is within its links


def test_the_log_area_shows_the_policy_and_the_throttling() -> None:
    world, _, _ = run(topology("fig1", edit=dict([SLOW_GBE, SMALL_LOG])), OVERLOAD, until=0.6, trace=False)
    info, _ = LogArea.rows_of(SimpleNamespace(net=world), "E104")  # type: ignore[arg-type]
    assert "policy throttle above 80%: hosts throttled" in info


@pytest.mark.parametrize(("old", "new", "where"), [
    ('log_policy = "throttle"', 'log_policy = "drop"', "edge[0].log_policy"),
    ("log_high_water_pct = 80 ", "log_high_water_pct = 0 ", "edge[0].log_high_water_pct"),
    ("log_high_water_pct = 80 ", "log_high_water_pct = 101 ", "edge[0].log_high_water_pct"),
])
def test_a_bad_log_policy_or_high_water_mark_is_one_line(old: str, new: str, where: str) -> None:
    with pytest.raises(TopologyError) as caught:
        topology("fig1", edit={old: new})
    message = str(caught.value)
    assert where in message and "\n" not in message
