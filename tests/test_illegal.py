"""Illegal operator commands: refused with one line naming the state and the commands that
are legal now; nothing changes (no state, no bitmap, nothing sent)."""

from __future__ import annotations

import pytest

from helpers import run, topology
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.model.rio import Rio, RioKind
from rcnlab.ops.commands import CreatePair, DeletePair, Failback, Failover, FetchRemaining, Resync, Suspend
from rcnlab.ops.registry import do

CREATE = '[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n'
SUSPEND = CREATE + '[[step]]\nat = 0.1\ndo = "suspend"\nvolume = "ST112:0"\n'


def snapshot(net):
    return (
        [(s.name, lun, str(p.state), p.role, sorted(p.bitmap), p.takeover) for s in net.storages
         for lun, p in sorted(s.pairs.items())],
        [(e.name, str(k), str(p.state), sorted(p.bitmap)) for e in net.edges for k, p in sorted(e.pairs.items())],
        net.kernel.live,
        sum(ch.sent for ch in net.channels.values()),
    )


CASES = [
    # (setup, call, words the message must hold)
    (CREATE, lambda lab: do(lab, Resync(volume="ST112:0")), ["resync refused", "Duplex",
                                                             "legal now: suspend, failover"]),
    ("", lambda lab: do(lab, Failover(volume="ST122:0")), ["failover refused", "Simplex", "legal now: pair-create"]),
    (SUSPEND, lambda lab: do(lab, Suspend(volume="ST112:0")), ["suspend refused", "Suspend", "legal now: resync"]),
    (CREATE, lambda lab: do(lab, Failback(volume="ST122:0")), ["failback refused", "Duplex", "legal now: suspend"]),
    (SUSPEND, lambda lab: do(lab, Failback(volume="ST122:0")), ["failback refused", "Suspend", "no failover took place",
                                                    "legal now: resync, failover, delete-pair"]),
    (CREATE, lambda lab: do(lab, CreatePair(source="ST112:0", target="ST122:0")), ["pair-create refused", "Duplex",
                                                                  "legal now: suspend"]),
    ("", lambda lab: do(lab, DeletePair(volume="ST112:0")), ["delete-pair refused", "Simplex",
                                                             "legal now: pair-create"]),
    ("", lambda lab: do(lab, Resync(volume="ST112:0")), ["resync refused", "Simplex"]),
    (CREATE, lambda lab: do(lab, Resync(volume="ST122:0")), ["resync refused", "Duplex"]),
    (SUSPEND, lambda lab: do(lab, Resync(volume="ST122:0")), ["resync refused", "target of its pair", "ST112:0"]),
    (SUSPEND, lambda lab: do(lab, Suspend(volume="ST122:0")), ["suspend refused", "Suspend"]),
    (CREATE, lambda lab: do(lab, FetchRemaining(volume="ST122:0")), ["fetch-remaining refused", "Duplex", "legal now"]),
]


@pytest.mark.parametrize("setup, call, words", CASES)
def test_illegal_command_is_refused_and_changes_nothing(setup, call, words):
    net, runner, _ = run(topology("fig1"), setup, trace=False)
    assert runner.refused == []
    before = snapshot(net)
    with pytest.raises(IllegalCommand) as exc:
        call(runner.lab)
    message = str(exc.value)
    assert "\n" not in message
    for w in words:
        assert w in message, (w, message)
    assert snapshot(net) == before


def test_a_refused_scenario_step_is_one_line_and_the_run_goes_on():
    text = CREATE + '[[step]]\nat = 0.5\ndo = "resync"\nvolume = "ST112:0"\n' \
                    '[[step]]\nat = 0.6\ndo = "expect"\npair = "ST112:0"\nstate = "Duplex"\n'
    net, runner, trace = run(topology("fig1"), text)
    assert len(runner.refused) == 1 and runner.passed == 1
    line = runner.refused[0]
    assert "step[1] (resync at 0.5s): resync refused: pair is Duplex at ST112 ST112:0; legal now:" in line
    assert [e for e in trace if e["event"] == "step-refused"]


def test_the_storage_refuses_an_illegal_scsi_command_too():
    """A host that bypasses the lab (SCSI straight to the storage) is refused there."""
    net, runner, trace = run(topology("fig1"), CREATE, trace=False)
    before = snapshot(net)[:2]
    host, st112 = net.devices["H111"], net.devices["ST112"]
    answers = []
    host.command(Rio(kind=RioKind.RESYNC, source=st112.ref(0), target=st112.pairs[0].remote), answers.append)
    import trio

    trio.run(net.run)
    assert answers[0].status == "error" and "resync refused: pair is Duplex" in answers[0].detail
    assert st112.refused == 1 and snapshot(net)[:2] == before


def test_failback_at_the_old_source_is_refused_with_the_state():
    net, runner, _ = run(topology("fig1"), SUSPEND, trace=False)
    st122 = net.devices["ST122"]
    host = net.devices["H111"]
    answers = []
    host.command(Rio(kind=RioKind.RESYNC, source=st122.ref(0), target=net.devices["ST112"].ref(0), swap=True),
                 answers.append)
    import trio

    trio.run(net.run)
    assert answers[0].status == "error" and "failback refused" in answers[0].detail
    assert "source of its pair" in answers[0].detail


def test_legal_commands_follow_the_state():
    net, runner, _ = run(topology("fig1"), SUSPEND, trace=False)
    assert runner.lab.legal_commands("ST112:0") == ["resync", "failover", "failback", "delete-pair"]
    assert runner.lab.legal_commands("ST112:0") == runner.lab.legal_commands("ST122:0")
