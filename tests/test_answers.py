"""Every pair command gets its own answer, and the user hears of every one that failed
(issue 12, item 8); fetch-remaining never overwrites acknowledged writes with older
data, and the checker sees it when it happens (issue 12, item 3)."""

from __future__ import annotations

import json

import pytest

from rcnlab.check.invariants import NAMES, check_all
from rcnlab.cli import main
from rcnlab.lab import CommandHandle
from rcnlab.model.kinds import ScsiStatus
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.ops.commands import FetchRemaining, Resync, Write
from rcnlab.ops.registry import do
from rcnlab.run import Session
from rcnlab.scenario.steps import parse_scenario
from tests.helpers import ROOT, TOPOLOGIES, run, topology

FIG1 = str(ROOT / "topologies" / "fig1.toml")

PAIR = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
"""


def step(at: float, do: str, **keys: object) -> str:
    body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    return f'\n[[step]]\nat = {at}\ndo = "{do}"\n{body}'


#: The pair is Duplex, then the E104-C202 link is cut: failure Suspend; a resync while the
#: link is still cut gets no DPOK from the RCN within the storage's 2 s.
CUT = PAIR + step(0.5, "fail", link="E104-C202") + step(0.6, "write", volume="ST112:0", block=3)
RESYNC_WITHOUT_DPOK = CUT + step(2.0, "resync", volume="ST112:0")


def run_cli(tmp_path, capsys, scenario: str, *flags: str) -> tuple[int, str, str]:
    path = tmp_path / "scenario.toml"
    path.write_text(scenario)
    status = main(["run", FIG1, "--scenario", str(path), *flags])
    out, err = capsys.readouterr()
    return status, out, err


# -- item 8: a failed command is heard of: stderr, the JSON summary, the exit status ----------------
def test_a_resync_that_gets_no_dpok_is_on_stderr_in_the_summary_and_in_the_exit_status(tmp_path, capsys):
    status, out, err = run_cli(tmp_path, capsys, RESYNC_WITHOUT_DPOK, "--json")
    assert status == 1
    (line,) = [ln for ln in err.splitlines() if ln.startswith("command ")]
    assert "resync ST112:0>ST122:0 (H111, given at t=2.000000) failed: no DPOK from the RCN within 2 s" in line
    (record,) = json.loads(out)["failed_commands"]
    assert record == {"t": pytest.approx(4.0, abs=1e-3), "issued": 2.0, "command": "resync",
                      "pair": "ST112:0>ST122:0", "host": "H111", "reason": "no DPOK from the RCN within 2 s",
                      "expected": False}


def test_the_table_for_people_lists_failed_commands(tmp_path, capsys):
    status, out, _ = run_cli(tmp_path, capsys, RESYNC_WITHOUT_DPOK)
    assert status == 1
    assert "Failed pair commands" in out and "no DPOK" in out


def test_a_failure_the_scenario_expects_does_not_fail_the_run(tmp_path, capsys):
    scenario = RESYNC_WITHOUT_DPOK + step(5.0, "expect", command_failed="no DPOK")
    status, out, err = run_cli(tmp_path, capsys, scenario, "--json")
    assert status == 0
    (record,) = json.loads(out)["failed_commands"]
    assert record["expected"] is True
    assert "failed: no DPOK from the RCN within 2 s (expected)" in err  # still told


def test_expecting_a_failure_that_did_not_happen_fails_the_run(tmp_path, capsys):
    status, _, err = run_cli(tmp_path, capsys, PAIR + step(1.0, "expect", command_failed="resync"))
    assert status == 1
    assert "expected a failed command matching 'resync'; failed so far: none" in err


def test_an_expectation_claims_only_the_failures_it_names(tmp_path, capsys):
    scenario = RESYNC_WITHOUT_DPOK + step(5.0, "expect", command_failed="failover")
    status, _, err = run_cli(tmp_path, capsys, scenario)
    assert status == 1
    assert "expected a failed command matching 'failover'" in err
    assert "failed: no DPOK from the RCN within 2 s\n" in err + "\n"  # not marked expected


@pytest.mark.parametrize(("scenario", "command", "reason"), [
    (step(0.0, "fail", link="ST112-E104") + step(0.1, "pair-create", source="ST112:0", target="ST122:0"),
     "pair-create", "no ICOK from the RCN within 2 s"),
    (step(0.0, "fail", link="E104-C202") + step(0.1, "pair-create", source="ST112:0", target="ST122:0"),
     "pair-create", "pair creation failed: remote copy of order group 1 failed before the target answered "
                    "(908: no answer after 5 resends)"),
    (PAIR + step(0.5, "crash", device="E105") + step(0.6, "failover", volume="ST122:0"),
     "failover", "no SOK from the RCN within 2 s"),
])
def test_every_kind_of_timed_out_command_is_a_failed_command(tmp_path, capsys, scenario, command, reason):
    status, out, _ = run_cli(tmp_path, capsys, scenario, "--json")
    assert status == 1
    assert [(r["command"], r["reason"]) for r in json.loads(out)["failed_commands"]] == [(command, reason)]


def test_a_command_the_storage_refuses_when_it_arrives_is_a_failed_command(tmp_path, capsys):
    # both pass the lab's checks at t=2; the delete reaches ST112 first, so the resync finds no pair
    scenario = CUT + step(2.0, "delete-pair", volume="ST112:0") + step(2.0, "resync", volume="ST112:0")
    status, out, _ = run_cli(tmp_path, capsys, scenario, "--json")
    assert status == 1
    (record,) = json.loads(out)["failed_commands"]
    assert record["command"] == "resync" and record["reason"].startswith("resync refused: pair is Simplex at ST112")


def test_a_command_never_answered_is_a_failed_command(tmp_path, capsys):
    # ST112 takes the resync, then crashes for good: the host never gets an answer
    scenario = CUT + step(2.0, "resync", volume="ST112:0") + step(2.001, "crash", device="ST112")
    status, out, err = run_cli(tmp_path, capsys, scenario, "--json")
    assert status == 1
    (record,) = json.loads(out)["failed_commands"]
    assert (record["command"], record["t"], record["reason"]) == ("resync", None, "never answered")
    assert "resync ST112:0>ST122:0 (H111, given at t=2.000000) never answered" in err


def test_a_command_that_reaches_its_storage_down_fails_at_once(tmp_path, capsys):
    """The resync is on its way to ST112 when ST112 crashes (or it is given while ST112 is
    down): the host hears at once that its storage is gone, and the same creation given
    again once ST112 is back is taken (the deep profile, 2026-12-01: a creation sent to a
    storage that was down waited for ever, and held its volumes against every later one)."""
    scenario = (CUT + step(2.0, "resync", volume="ST112:0") + step(2.0, "crash", device="ST112")
                + step(2.5, "restart", device="ST112") + step(3.0, "heal-all") + step(3.1, "resync", volume="ST112:0"))
    status, out, err = run_cli(tmp_path, capsys, scenario, "--json")
    summary = json.loads(out)
    (record,) = summary["failed_commands"]
    assert record["command"] == "resync" and record["reason"] == "ST112 is down: the command never reached it"
    assert record["t"] - record["issued"] < 0.001
    assert "\n" not in record["reason"] and "never reached it" in err
    assert {p["source"]: set(p["states"].values()) for p in summary["pairs"]} == {"ST112:0": {"Duplex"}}


# -- item 8: each command its own answer ----------------------------------------------------------
def session(scenario: str = PAIR) -> Session:
    topo = topology("fig1")
    s = Session.open(topo, parse_scenario(scenario, "<test>", topo), seed=0)
    s.runner.schedule()
    return s


def test_two_resyncs_in_a_row_get_an_answer_each():
    s = session(CUT + step(1.0, "restore", link="E104-C202"))
    s.run_for(1.5)
    first = do(s.lab, Resync(volume="ST112:0"))
    second = do(s.lab, Resync(volume="ST112:0"))
    assert isinstance(first, CommandHandle) and second.joined is first
    s.drain()
    for handle in (first, second):
        assert handle.answer is not None and handle.answer.status is ScsiStatus.OK, handle.line()
        assert handle.answered == first.answered
    assert [str(st) for st in s.world.pair_views()[0].states] == ["Duplex"] * 4
    assert [h for h, _ in s.lab.answers][-2:] == ["H111", "H111"]  # what the TUI reads: both answers


def test_two_resyncs_that_fail_both_fail():
    s = session(CUT)
    s.run_for(1.5)
    handles = [do(s.lab, Resync(volume="ST112:0")) for _ in range(2)]
    s.drain()
    assert [h.reason for h in handles] == ["no DPOK from the RCN within 2 s"] * 2
    assert s.lab.failed_commands() == handles


def test_a_resync_given_after_the_first_timed_out_is_sent_again():
    s = session(CUT + step(3.6, "restore", link="E104-C202"))
    s.run_for(1.5)
    first = do(s.lab, Resync(volume="ST112:0"))
    s.run_for(2.1)  # the first has had its answer: no DPOK within 2 s
    assert first.failed
    second = do(s.lab, Resync(volume="ST112:0"))
    assert second.joined is None
    s.drain()
    assert second.answer is not None and second.answer.status is ScsiStatus.OK


# -- item 8: walkthroughs -------------------------------------------------------------------------
WALK = """
[walkthrough]
title = "a resync that cannot work"
topology = "{topology}"

[[step]]
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
say = "Pair."

[[step]]
do = "fail"
link = "E104-C202"
say = "Cut."
run_for = 0.5

[[step]]
do = "write"
volume = "ST112:0"
block = 3
say = "A write the network cannot carry: failure Suspend."
until = {{ pair = "ST112:0", state = "failure Suspend" }}

[[step]]
do = "resync"
volume = "ST112:0"
say = "Resync with the link still cut."
run_for = 3.0
"""


def test_a_walkthrough_tells_of_a_failed_command_and_exits_1(tmp_path, capsys):
    path = tmp_path / "walk.toml"
    path.write_text(WALK.format(topology=(TOPOLOGIES / "fig1.toml").as_posix()))
    assert main(["walkthrough", str(path), "--auto"]) == 1
    out, err = capsys.readouterr()
    assert "command t=" in err and "resync ST112:0>ST122:0" in err and "no DPOK from the RCN within 2 s" in err
    assert "no DPOK from the RCN" in out  # in the step's panel too


# -- item 3: fetch-remaining never overwrites the restarted application's writes -----------------
PROMPT = (TOPOLOGIES / "scenarios" / "site-failover-prompt.toml").read_text().split("[[step]]\nat = 1.1")[0]


def takeover_writes() -> tuple[Session, dict[int, str]]:
    """A prompt failover with entries left in the network; then the restarted application
    writes 8 blocks on the target that those (older) entries would write too."""
    s = session(PROMPT)
    s.run_for(1.002)
    net = s.world
    target_edge = net.devices["E105"]
    (oid,) = {p.order_id for p in target_edge.pairs.values()}
    reflected = target_edge.groups[oid].reflected
    left = [e for dev in (*net.edges, *net.cores) for e in dev.remaining_entries(oid) if e.seq > reflected]
    blocks = sorted({e.rio.block for e in left})[:8]
    assert len(blocks) == 8
    written = {}
    for i, block in enumerate(blocks):
        written[block] = f"takeover {i}"
        do(s.lab, Write(volume="ST122:0", block=block, host="H121", data=written[block]))
    s.run_for(0.01)
    assert net.host_named["H121"].acknowledged == 8
    return s, written


def survivors(s: Session, written: dict[int, str]) -> int:
    volume = s.world.devices["ST122"].volumes[0]
    return sum(volume.read(b).rstrip(b"\0") == text.encode() for b, text in written.items())


def test_fetch_remaining_is_refused_once_the_target_host_has_written_and_its_writes_survive():
    s, written = takeover_writes()
    with pytest.raises(IllegalCommand, match=r"fetch-remaining refused: ST122:0 has been written since the pair "
                       r"stopped copying \(8 blocks in its bitmap 1213\); the entries still in the network are older"):
        do(s.lab, FetchRemaining(volume="ST122:0"))
    s.drain()
    s.check()
    assert survivors(s, written) == 8
    assert s.checker is not None and s.checker.ok, s.checker.violations[:3]


def test_the_checker_sees_acknowledged_writes_overwritten_by_fetched_older_entries():
    s, written = takeover_writes()
    net = s.world
    edge = net.devices["E105"]
    (oid,) = {p.order_id for p in edge.pairs.values()}
    net.management.fetch_remaining(edge, oid)  # the protection bypassed: straight to the management server
    s.drain()
    assert survivors(s, written) == 0
    assert s.checker is not None
    lost = [v for v in s.checker.violations if v.startswith("nothing_lost") and "overwritten by older data" in v]
    assert len(lost) == 8, s.checker.violations[:3]


def test_fetch_remaining_is_refused_while_a_workload_writes_the_target():
    s = session(PROMPT + step(1.05, "workload", volume="ST122:0", rate=1000, count=10, host="H121")
                + step(1.05, "fetch-remaining", volume="ST122:0"))
    s.drain()
    (line,) = s.runner.refused
    assert "fetch-remaining refused: a workload of H121 is writing ST122:0" in line


def test_fetch_remaining_still_reflects_what_was_left_when_the_target_is_untouched():
    _, runner, trace = run(topology("fig1"), PROMPT + step(1.1, "fetch-remaining", volume="ST122:0"), seed=7)
    assert runner.refused == [] and runner.failed == []
    assert [e["entries"] > 0 for e in trace if e["event"] == "remaining-fetched"] == [True]


def test_fetch_remaining_is_refused_while_a_write_of_the_target_host_is_on_its_way():
    s = session(PROMPT)
    s.run_for(1.002)
    do(s.lab, Write(volume="ST122:0", block=1, host="H121", data="on its way"))
    with pytest.raises(IllegalCommand, match="fetch-remaining refused: H121 has 1 command"):
        do(s.lab, FetchRemaining(volume="ST122:0"))


def test_writes_to_the_target_are_refused_while_fetched_entries_are_reflected():
    net, runner, trace = run(topology("fig1"), PROMPT + step(1.1, "fetch-remaining", volume="ST122:0")
                             + step(1.1, "write", volume="ST122:0", block=1, host="H121")
                             + step(1.1, "workload", volume="ST122:0", rate=100, count=2, host="H121")
                             + step(1.2, "write", volume="ST122:0", block=1, host="H121", data="after"), seed=7)
    assert [e["t"] < 1.2 for e in trace if e["event"] == "fetch-finished"] == [True]
    assert len(runner.refused) == 2
    for line, what in zip(runner.refused, ("write", "workload"), strict=True):
        assert f"{what} refused: ST122:0 is being restored from the entries fetched from the network" in line
    assert net.devices["ST122"].volumes[0].read(1).startswith(b"after")  # once restored, the host writes
    assert runner.failed == []


def test_a_suspend_whose_sok_comes_too_late_ends_in_failure_suspend_at_all_four_parties():
    """The deep hypothesis profile (seed 319): a synchronous pair's suspend waited behind a
    backlog at the target edge (its FC link to the storage at 10 Mbit/s) longer than the
    source storage's command timeout. The source side ended in failure Suspend, as a
    timed-out suspend does, but the suspend then reached the target side, which ended in
    Suspend: ``agreement`` broke and no later command could say which side was right. The
    source edge now reports the failure (908), so all four parties stand in failure
    Suspend, and a resync brings the pair back."""
    topo = topology("fig1", edit={"command_timeout_ms = 2000": "command_timeout_ms = 100",
                                  'a = "E105"\nb = "ST122"\nkind = "fc"\n':
                                  'a = "E105"\nb = "ST122"\nkind = "fc"\nbandwidth_mbps = 10\n'})
    writes = step(0.1, "workload", volume="ST112:0", rate=5000, count=2000, blocks=[0, 64])
    suspended = PAIR.replace('target = "ST122:0"', 'target = "ST122:0"\nmode = "sync"') + writes + step(
        0.4, "suspend", volume="ST112:0")
    net, runner, events = run(topo, suspended, until=3.0)
    (failed,) = runner.lab.failed_commands()
    assert failed.command.value == "suspend" and "no SOK from the RCN within 0.1 s" in failed.reason
    assert [str(s) for s in net.pair_views()[0].states] == ["failure Suspend"] * 4
    assert [e["party"] for e in events if e["event"] == "pair-state" and e["new"] == "failure Suspend"] == [
        "source_storage", "source_edge", "target_edge", "target_storage"]
    net, runner, _ = run(topo, suspended + step(3.0, "resync", volume="ST112:0"))
    assert [str(s) for s in net.pair_views()[0].states] == ["Duplex"] * 4
    assert check_all(net) == {name: True for name in NAMES}
