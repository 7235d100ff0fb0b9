"""Consistency groups (issue 12, items 2 and 4): failover and failback act on a whole order
group, as arrays act on a consistency group (horctakeover on a CTG); two at once are one;
a failover never outlives the sequence it waits in.

The topologies are written from the README's format: two pairs per order group,
ST1:0>ST2:0 and ST1:1>ST2:1, under method A-1 (one group per storage pair), A-2 (one per
edge pair) and B (``[[pair]]`` order_id 7 for both).
"""

from __future__ import annotations

import pytest

from helpers import run, topology
from rcnlab.ops.commands import Failback, Failover
from rcnlab.ops.registry import do
from rcnlab.run import Session
from rcnlab.scenario.steps import ScenarioError, parse_scenario
from rcnlab.summary import summarize
from rcnlab.topo.load import parse_topology

FS = "failure Suspend"


def groups_topology(method: str = "B", customers: int = 1) -> str:
    """Customer C<c> copies ST<2c-1>:0 and :1 (edge E1) to ST<2c>:0 and :1 (edge E2), over core K1."""
    text = f'[lab]\nname = "groups"\norder_assurance = "{method}"\n'
    for c in range(1, customers + 1):
        src, dst = 2 * c - 1, 2 * c
        text += f'''
[[customer]]
id = "C{c}"

[[host]]
name = "H{src}"
customer = "C{c}"
site = "source"
storage = "ST{src}"

[[host]]
name = "H{dst}"
customer = "C{c}"
site = "target"
storage = "ST{dst}"

[[storage]]
name = "ST{src}"
wwn = "50:06:0e:80:00:00:00:{src:02x}"
customer = "C{c}"
site = "source"
edge = "E1"
volumes = [{{ lun = 0, blocks = 4096 }}, {{ lun = 1, blocks = 4096 }}]

[[storage]]
name = "ST{dst}"
wwn = "50:06:0e:80:00:00:00:{dst:02x}"
customer = "C{c}"
site = "target"
edge = "E2"
volumes = [{{ lun = 0, blocks = 4096 }}, {{ lun = 1, blocks = 4096 }}]

[[link]]
a = "H{src}"
b = "ST{src}"
kind = "scsi"

[[link]]
a = "ST{src}"
b = "E1"
kind = "fc"

[[link]]
a = "E2"
b = "ST{dst}"
kind = "fc"

[[link]]
a = "H{dst}"
b = "ST{dst}"
kind = "scsi"
'''
        if method == "B":
            text += "".join(f'\n[[pair]]\nsource = "ST{src}:{lun}"\ntarget = "ST{dst}:{lun}"\norder_id = {6 + c}\n'
                            for lun in (0, 1))
    return text + '''
[[edge]]
name = "E1"
ip = "192.0.2.1"
site = "source"

[[edge]]
name = "E2"
ip = "192.0.2.2"
site = "target"

[[core]]
name = "K1"
ip = "192.0.2.11"

[[link]]
a = "E1"
b = "K1"
kind = "gbe"
distance_km = 100

[[link]]
a = "K1"
b = "E2"
kind = "gbe"
distance_km = 100
'''


def step(at: float | str, do: str, **keys: object) -> str:
    def value(v: object) -> str:
        return str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, float) else (
            f'"{v}"' if isinstance(v, str) else str(v))
    at_text = f'"{at}"' if isinstance(at, str) else repr(at)
    return "\n[[step]]\nat = " + at_text + f'\ndo = "{do}"\n' + "".join(f"{k} = {value(v)}\n" for k, v in keys.items())


def paired_with_writes(pairs: tuple[tuple[str, str], ...] = (("ST1:0", "ST2:0"), ("ST1:1", "ST2:1"))) -> str:
    """Both pairs created at 0, writes to both sources from 0.5 s on."""
    text = "".join(step(0.0, "pair-create", source=s, target=t) for s, t in pairs)
    return text + "".join(step(0.5, "workload", volume=s, rate=1000.0, count=300, blocks="[0, 512]").replace(
        '"[0, 512]"', "[0, 512]") for s, _ in pairs)


def play(method: str, scenario: str, customers: int = 1, seed: int = 1):
    topo = parse_topology(groups_topology(method, customers), "<groups>")
    return run(topo, scenario, seed=seed)


def answers(runner, host: str, kind: str) -> list[tuple[str, str]]:
    """(status, detail) of each answer to ``host``'s commands whose answer is ``kind``."""
    return [(str(a.status), a.detail) for h, a in runner.lab.answers if h == host and str(a.rio.kind) == kind]


def records(net) -> list[tuple[str, str, tuple[str, ...]]]:
    """The JSON summary's pairs: (source, target, the four parties' states)."""
    return sorted((p["source"], p["target"], tuple(p["states"].values())) for p in summarize(net)["pairs"])


def restarted(trace) -> list[str]:
    return sorted(e["volume"] for e in trace if e["event"] == "application-restarted")


# -- item 2: two failovers, two failbacks at once ---------------------------------------------------
@pytest.mark.parametrize("method", ["A-1", "A-2", "B"])
def test_two_failovers_at_once_in_a_shared_group_both_complete_and_both_fail_back(method):
    scenario = paired_with_writes() + step(0.6, "failover", volume="ST2:0") + step(0.6, "failover", volume="ST2:1")
    scenario += step(3.0, "expect", pair="ST1:0", state=FS) + step(3.0, "expect", pair="ST1:1", state=FS)
    scenario += step(4.0, "failback", volume="ST2:0") + step(4.0, "failback", volume="ST2:1")
    scenario += step("end", "expect", invariants=True) + step("end", "expect", equal=["ST1:0", "ST2:0"])
    scenario += step("end", "expect", equal=["ST1:1", "ST2:1"])
    net, runner, trace = play(method, scenario)
    assert runner.failed == [] and runner.refused == []
    # each pair's failover answered, none timed out; each target host restarted its application
    assert answers(runner, "H2", "SOK") == [("ok", ""), ("ok", "")]
    assert restarted(trace) == ["ST2:0", "ST2:1"]
    assert not [e for e in trace if e["event"] in ("command-timed-out", "failover-timeout", "rio-refused")]
    # both failbacks answered; the summary lists each pair once, in the reverse direction, Duplex
    assert answers(runner, "H2", "DPOK") == [("ok", ""), ("ok", "")]
    assert records(net) == [("ST2:0", "ST1:0", ("Duplex",) * 4), ("ST2:1", "ST1:1", ("Duplex",) * 4)]


def test_two_failbacks_at_once_after_one_failover_each():
    """The failovers one after the other (the second finds the group failed over already and
    is answered at once), then both failbacks at the same instant."""
    scenario = paired_with_writes() + step(0.6, "failover", volume="ST2:0") + step(1.0, "failover", volume="ST2:1")
    scenario += step(4.0, "failback", volume="ST1:0") + step(4.0, "failback", volume="ST2:1")
    scenario += step("end", "expect", invariants=True)
    net, runner, trace = play("A-1", scenario)
    assert runner.failed == [] and runner.refused == []
    assert answers(runner, "H2", "DPOK") == [("ok", ""), ("ok", "")]
    assert records(net) == [("ST2:0", "ST1:0", ("Duplex",) * 4), ("ST2:1", "ST1:1", ("Duplex",) * 4)]
    assert [e["volume"] for e in trace if e["event"] == "failback-joined"] == ["ST2:1"]


def test_a_failover_of_one_pair_takes_over_its_whole_group_each_answered():
    scenario = paired_with_writes() + step(0.6, "failover", volume="ST1:1")  # named at the source end
    scenario += step("end", "expect", pair="ST1:0", state=FS) + step("end", "expect", pair="ST1:1", state=FS)
    scenario += step("end", "expect", invariants=True)
    net, runner, trace = play("A-2", scenario)
    assert runner.failed == [] and runner.refused == []
    assert answers(runner, "H2", "SOK") == [("ok", ""), ("ok", "")]
    assert restarted(trace) == ["ST2:0", "ST2:1"]
    assert all(net.devices["ST2"].pairs[lun].takeover for lun in (0, 1))
    # one Suspend instruction and one SOK for the group; the second pair's request joined it at the edge
    assert len([e for e in trace if e["event"] == "sok-sent"]) == 1
    assert len([e for e in trace if e["event"] == "failover-joined"]) == 1


def test_a_failover_of_a_group_already_failed_over_is_answered_at_once():
    scenario = paired_with_writes() + step(0.6, "failover", volume="ST2:0", prompt=True)
    scenario += step(1.0, "failover", volume="ST2:0") + step("end", "expect", invariants=True)
    net, runner, trace = play("B", scenario)
    assert runner.failed == [] and answers(runner, "H2", "SOK") == [("ok", "")] * 4
    answered = [e["t"] for e in trace if e["event"] == "command-answered" and e["device"] == "H2"]
    assert max(answered) < 1.01  # not after the failover timer 1306 (1 s)
    assert not [e for e in trace if e["event"] == "failover-timeout"]


# -- the group command ----------------------------------------------------------------------------
def test_failover_and_failback_of_a_group_by_its_order_id():
    scenario = paired_with_writes() + step(0.6, "failover", order_id=7)
    scenario += step(3.0, "expect", pair="ST1:0", state=FS) + step(3.0, "expect", pair="ST1:1", state=FS)
    scenario += step(4.0, "failback", order_id=7) + step("end", "expect", invariants=True)
    net, runner, trace = play("B", scenario)
    assert runner.failed == [] and runner.refused == []
    assert restarted(trace) == ["ST2:0", "ST2:1"]
    assert records(net) == [("ST2:0", "ST1:0", ("Duplex",) * 4), ("ST2:1", "ST1:1", ("Duplex",) * 4)]


def test_a_group_swaps_back_as_one():
    scenario = paired_with_writes() + step(0.6, "failover", order_id=7)
    scenario += step(3.0, "failback", volume="ST2:0", swap_back=True) + step("end", "expect", invariants=True)
    net, runner, trace = play("B", scenario)
    assert runner.failed == [] and runner.refused == []
    assert sorted(e["pair"] for e in trace if e["event"] == "swapped-back") == ["ST1:0>ST2:0", "ST1:1>ST2:1"]
    assert records(net) == [("ST1:0", "ST2:0", ("Duplex",) * 4), ("ST1:1", "ST2:1", ("Duplex",) * 4)]


def test_the_group_commands_from_the_ops_registry_return_the_volumes_they_act_on():
    topo = parse_topology(groups_topology("A-1"), "<groups>")
    s = Session.open(topo, seed=1)
    for lun in (0, 1):
        do(s.lab, _create(lun))
    s.run_until(lambda: [str(st) for v in s.world.pair_views() for st in v.states] == ["Duplex"] * 8, timeout=5)
    assert do(s.lab, Failover(volume="ST2:1")) == ["ST2:0", "ST2:1"]
    assert do(s.lab, Failover(volume="ST2:0")) == []  # joins the failover under way
    s.run_for(1.0)
    assert do(s.lab, Failback(order_id=1)) == ["ST2:0", "ST2:1"]
    s.drain()
    assert records(s.world) == [("ST2:0", "ST1:0", ("Duplex",) * 4), ("ST2:1", "ST1:1", ("Duplex",) * 4)]


def _create(lun: int):
    from rcnlab.ops.commands import CreatePair
    return CreatePair(source=f"ST1:{lun}", target=f"ST2:{lun}")


# -- refusals, one line each ------------------------------------------------------------------------
def test_a_group_that_cannot_fail_back_as_one_is_refused_in_one_line_and_nothing_changes():
    scenario = paired_with_writes() + step(0.6, "failover", order_id=7)
    scenario += step(3.0, "resync", volume="ST1:1")  # the source takes one pair back: no longer taken over
    scenario += step(4.0, "failback", volume="ST2:0") + step(4.0, "failover", order_id=9)
    net, runner, trace = play("B", scenario)
    assert len(runner.refused) == 2 and all("\n" not in line for line in runner.refused)
    assert "failback refused" in runner.refused[0] and "ST2:1" in runner.refused[0]
    assert "no failover took place" in runner.refused[0] and "one order group" in runner.refused[0]
    assert "failover refused: no pair is in order group 9 (order groups now: 7)" in runner.refused[1]
    assert net.devices["ST2"].pairs[0].takeover and not net.devices["ST2"].pairs[0].swapped
    assert answers(runner, "H2", "DPOK") == []


@pytest.mark.parametrize(("keys", "problem"), [
    ("", "step[0].volume: missing: give volume (one of the group's volumes) or order_id"),
    ('volume = "ST2:0"\norder_id = 7', "step[0].order_id: give volume or order_id, not both"),
    ("order_id = 0", "step[0].order_id: must be >= 1"),
])
@pytest.mark.parametrize("kind", ["failover", "failback"])
def test_a_group_command_names_its_group_once(kind, keys, problem):
    topo = parse_topology(groups_topology("B"), "<groups>")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(f'[[step]]\nat = 1.0\ndo = "{kind}"\n{keys}\n', "s.toml", topo)
    assert problem in str(caught.value) and "\n" not in str(caught.value)


# -- customers sharing an order ID (method A-2) -----------------------------------------------------
def test_a_failover_never_reaches_another_customers_pairs_in_a_shared_order_id():
    pairs = (("ST1:0", "ST2:0"), ("ST1:1", "ST2:1"), ("ST3:0", "ST4:0"))
    scenario = paired_with_writes(pairs) + step(0.6, "failover", volume="ST2:0") + step(0.7, "failover", order_id=1)
    scenario += step(1.0, "workload", volume="ST3:0", rate=1000.0, count=100)
    scenario += step("end", "expect", pair="ST3:0", state="Duplex") + step("end", "expect", equal=["ST3:0", "ST4:0"])
    scenario += step("end", "expect", invariants=True)
    net, runner, trace = play("A-2", scenario, customers=2)
    assert runner.failed == []
    assert {v.order_id for v in net.pair_views()} == {1}
    assert [v.source for v in net.pair_views() if set(map(str, v.states)) == {FS}] == ["ST1:0", "ST1:1"]
    assert restarted(trace) == ["ST2:0", "ST2:1"]
    assert [line.split(": ", 2)[2] for line in runner.refused] == [
        "failover refused: order group 1 holds the pairs of customer C1 at E2, customer C2 at E2; name one of the "
        "pairs' volumes instead"]


# -- item 4: a failover outlived its sequence ---------------------------------------------------------
FUZZ_102061_TOPOLOGY = """
[lab]
order_assurance = "B"
[[customer]]
id = "C1"
[[host]]
name = "H11"
customer = "C1"
site = "source"
storage = "S11"
[[storage]]
name = "S11"
wwn = "50:06:0e:80:00:00:01:01"
customer = "C1"
site = "source"
edge = "E1"
volumes = [{ lun = 0, blocks = 4096 }]
[[host]]
name = "H12"
customer = "C1"
site = "target"
storage = "S12"
[[storage]]
name = "S12"
wwn = "50:06:0e:80:00:00:01:02"
customer = "C1"
site = "target"
edge = "E2"
volumes = [{ lun = 0, blocks = 4096 }]
[[edge]]
name = "E1"
ip = "192.0.2.1"
site = "source"
log_durable = true
[[edge]]
name = "E2"
ip = "192.0.2.2"
site = "target"
log_durable = true
[[link]]
a = "H11"
b = "S11"
kind = "scsi"
[[link]]
a = "S11"
b = "E1"
kind = "fc"
[[link]]
a = "E2"
b = "S12"
kind = "fc"
[[link]]
a = "H12"
b = "S12"
kind = "scsi"
[[link]]
a = "E1"
b = "E2"
kind = "gbe"
distance_km = 400.0
[[pair]]
source = "S11:0"
target = "S12:0"
order_id = 1
"""


def test_fuzz_102061_prompt_failover_failover_resync_target_site_failure_heal_resync_all_ends_duplex():
    """``rcnlab fuzz --first 102061 --seeds 1``: the second failover waited for a SOK that could
    never be reflected (the group stood in failure Suspend), the resync overtook it, and its
    timer 1306 later failed the resynced pair at the target side only."""
    scenario = step(0.0, "pair-create", source="S11:0", target="S12:0", mode="sync")
    scenario += step(0.2, "workload", volume="S11:0", rate=4000.0, count=100)
    scenario += step(0.225, "failover", volume="S12:0", prompt=True) + step(0.729, "failover", volume="S12:0")
    scenario += step(1.077, "resync", volume="S11:0") + step(1.393, "site-failure", site="target")
    scenario += step(2.0, "heal-all") + "".join(step(t, "resync-all") for t in (2.6, 4.0, 5.0))
    scenario += step("end", "expect", pair="S11:0", state="Duplex") + step("end", "expect", invariants=True)
    net, runner, trace = run(parse_topology(FUZZ_102061_TOPOLOGY, "<fuzz-102061>"), scenario, seed=102061)
    assert runner.failed == [] and runner.refused == []
    assert records(net) == [("S11:0", "S12:0", ("Duplex",) * 4)]


def test_a_resync_that_restarts_the_sequence_completes_the_failover_waiting_in_it_first():
    """A failover waits for the SOK; the SOK is lost, the source edge gives the group up (908)
    and the source resyncs: the failover is answered before the resync is reflected, and its
    timer cannot fail the resynced pair later."""
    scenario = step(0.0, "pair-create", source="ST112:0", target="ST122:0")
    scenario += step(0.5, "workload", volume="ST112:0", rate=2000.0, count=400)
    scenario += step(0.6, "fail", link="E104-E105", direction="E104>E105") + step(0.6, "failover", volume="ST122:0")
    scenario += step(0.9, "restore", link="E104-E105") + step(0.95, "resync", volume="ST112:0")
    scenario += step("end", "expect", pair="ST112:0", state="Duplex") + step("end", "expect", invariants=True)
    net, runner, trace = run(topology("nocore"), scenario, seed=3)
    assert runner.failed == [] and runner.refused == []
    assert [e["event"] for e in trace if e["event"] in ("failover-overtaken", "sequence-rebased")] == [
        "failover-overtaken", "sequence-rebased"]
    assert answers(runner, "H121", "SOK") == [("ok", "")]
    assert not [e for e in trace if e["event"] == "failover-timeout"]


def test_a_failback_leaves_another_customers_entries_in_a_shared_order_id_alone():
    """Method A-2: C1 and C2 share order ID 1 over E1-E2. C2 fails over at once and fails
    back while C1 writes: C1's entries held at E1 and waiting at E2 are not C2's to take. C1
    may fall to failure Suspend (the shared sequence stalls), but loses nothing: resync-all
    brings it back equal."""
    pairs = (("ST1:0", "ST2:0"), ("ST1:1", "ST2:1"), ("ST3:0", "ST4:0"), ("ST3:1", "ST4:1"))
    scenario = paired_with_writes(pairs) + step(0.762, "failover", volume="ST4:1", prompt=True)
    scenario += step(0.893, "failback", volume="ST4:0") + step(2.0, "heal-all")
    scenario += "".join(step(t, "resync-all") for t in (2.6, 4.0, 5.0))
    scenario += "".join(step("end", "expect", equal=list(p)) for p in pairs) + step("end", "expect", invariants=True)
    net, runner, trace = play("A-2", scenario, customers=2, seed=202)
    assert runner.failed == [] and runner.refused == []
    assert [r[2] for r in records(net)] == [("Duplex",) * 4] * 4
