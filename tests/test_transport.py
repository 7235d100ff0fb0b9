"""What the links guarantee: FC, SCSI and storage-over-IP deliver in order (jitter only
delays), GbE between edges and cores may reorder (the sequence numbers put it right).

Found by users (issue 12): jitter on the storage-edge FC link let a later write overtake an
earlier one, so the source edge numbered them in the wrong order and the pair ended Duplex
with different volumes."""

from __future__ import annotations

import random

import pytest

from helpers import pair_and_writes, run, topology
from rcnlab.emu.link import Channel
from rcnlab.fuzz.gen import random_fault, random_topo
from rcnlab.model.kinds import LinkKind
from rcnlab.world import World

FC_SOURCE = ('a = "ST112"\nb = "E104"\nkind = "fc"\n', 'a = "ST112"\nb = "E104"\nkind = "fc"\njitter_ms = 0.5\n')
FC_TARGET = ('a = "E105"\nb = "ST122"\nkind = "fc"\n', 'a = "E105"\nb = "ST122"\nkind = "fc"\njitter_ms = 0.5\n')
HOT = pair_and_writes(rate=5000, count=1500, blocks=64) + """
[[step]]
at = "end"
do = "expect"
invariants = true
"""


def _arrivals(kind: LinkKind, sends: int = 200) -> list[float]:
    ch = Channel(link="A-B", kind=kind, src="A", dst="B", latency=0.001, jitter=0.005, bandwidth=1e9, mtu=9000,
                 loss=0.0, rng=random.Random(1))
    return [ch.arrival(0.001 * i + ch.latency + ch.rng.random() * ch.jitter) for i in range(sends)]


@pytest.mark.parametrize("kind", [LinkKind.FC, LinkKind.SCSI, LinkKind.IP])
def test_an_ordered_link_never_lets_a_frame_overtake(kind: LinkKind) -> None:
    times = _arrivals(kind)
    assert times == sorted(times)


def test_gbe_may_reorder() -> None:
    times = _arrivals(LinkKind.GBE)
    assert times != sorted(times)  # the same draws reorder on UDP


def _digests(world: World) -> set[str]:
    return {s.volumes[0].digest() for s in world.storages}


@pytest.mark.parametrize("seed", range(4))
def test_jitter_on_the_source_fc_keeps_the_hosts_write_order(seed: int) -> None:
    """The source edge numbers writes as they come off the FC link: in the storage's order."""
    net, runner, _ = run(topology("fig1", edit=dict([FC_SOURCE])), HOT, seed=seed, trace=False)
    assert runner.failed == [] and runner.refused == []
    assert {str(s) for v in net.pair_views() for s in v.states} == {"Duplex"}
    assert len(_digests(net)) == 1  # drained and Duplex: the target is the source


@pytest.mark.parametrize("seed", range(4))
def test_jitter_on_the_target_fc_keeps_the_reflection_order(seed: int) -> None:
    """Reflections reach the target storage in sequence order. (A target FC this slow
    cannot keep up with 5,000 writes/s: the pair may end in failure Suspend (908), with the
    rest marked for the next resync; the checkers hold either way.)"""
    net, runner, _ = run(topology("fig1", edit=dict([FC_TARGET])), HOT, seed=seed, trace=False)
    assert runner.failed == [] and runner.refused == []
    if {str(s) for v in net.pair_views() for s in v.states} == {"Duplex"}:
        assert len(_digests(net)) == 1


def test_the_fuzzer_puts_jitter_on_fc_and_scsi_links() -> None:
    """Every knob within the fuzzer's reach: its "jitter-fc" fault jitters an ordered link."""
    rng = random.Random(5)
    topo = random_topo(rng)
    steps = random_fault(rng, topo, ("jitter-fc",))
    link = dict(steps[0].args)["link"]
    assert link in topo.storage_links() and link not in topo.gbe_links()
    assert dict(steps[0].args)["jitter_ms"] > 0 and dict(steps[1].args)["jitter_ms"] == 0.0


CUT_SOURCE_FC = pair_and_writes(rate=1000, count=400, blocks=64) + """
[[step]]
at = 0.25
do = "fail"
link = "ST112-E104"

[[step]]
at = 0.255
do = "restore"
link = "ST112-E104"

[[step]]
at = 1.0
do = "resync"
volume = "ST112:0"

[[step]]
at = "end"
do = "expect"
invariants = true
"""


@pytest.mark.parametrize("seed", range(3))
def test_a_write_lost_on_the_source_fc_stops_the_group_before_a_later_one_is_numbered(seed: int) -> None:
    """Found by the host-order checker (issue 12): an asynchronous storage acknowledged a
    write, the FC link lost it on its way to the edge, and the writes after it reached the
    target while the lost one waited 20 ms for the storage's path timeout: a target
    without a write acknowledged before later ones. The edge sees the gap in the
    storage's WR numbers and fails the group (908) first; the resync copies both."""
    net, runner, events = run(topology("fig1"), CUT_SOURCE_FC, seed=seed)
    assert runner.failed == [] and runner.refused == []
    reasons = [e["reason"] for e in events if e["event"] == "remote-copy-failed"]
    assert any("lost on its FC link" in r for r in reasons)
    assert {str(s) for v in net.pair_views() for s in v.states} == {"Duplex"}
    assert len(_digests(net)) == 1


def test_a_reissued_wr_is_answered_again_not_applied_twice():
    """The target edge reissues a WR whose answer is overdue (after its resend_timeout_ms),
    which can be shorter than the round trip to its storage: the storage then gets the WR
    it has just reflected once more. It answers it again and does not apply it a second time
    (a second apply would land after writes the order ID reflected since, elsewhere)."""
    from collections import Counter

    from helpers import pair_and_writes, run, topology

    slow = topology("fig1", {
        "resend_timeout_ms = 50 ": "resend_timeout_ms = 5 ", "resend_limit = 5 ": "resend_limit = 100 ",
        'name = "E105"\n': 'name = "E105"\nresend_timeout_ms = 5\n',
        'a = "E105"\nb = "ST122"\nkind = "fc"\n': 'a = "E105"\nb = "ST122"\nkind = "fc"\nlatency_ms = 12.5\n'})
    world, runner, trace = run(slow, pair_and_writes(rate=200, count=20))
    again = [e for e in trace if e["event"] == "reflected-again"]
    assert again, "the scenario no longer makes the target edge reissue"
    applied = Counter((e["order_id"], e["seq"]) for e in trace if e["event"] == "reflected" and not e["copy"])
    assert max(applied.values()) == 1 and len(applied) == 20
    assert not runner.failed
