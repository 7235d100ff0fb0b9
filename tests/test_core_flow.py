"""Issue 2's acceptance: pair creation to Duplex, normal writes, drain, over jitter and loss."""

from __future__ import annotations

from collections import defaultdict

import pytest

from rcnlab.catalogue import missing, not_in_order, tags
from tests.helpers import pair_and_writes, run, steps_of, topology

# GbE links of Fig. 1 with jitter much larger than the gap between writes, and loss.
ROUGH_GBE = {
    'b = "C202"\nkind = "gbe"\ndistance_km = 300': 'b = "C202"\nkind = "gbe"\ndistance_km = 300\n'
                                                  'jitter_ms = 5\nloss = 0.02',
    'b = "E105"\nkind = "gbe"\ndistance_km = 300': 'b = "E105"\nkind = "gbe"\ndistance_km = 300\n'
                                                  'jitter_ms = 5\nloss = 0.02',
}


@pytest.fixture(scope="module")
def rough_run():
    topo = topology("fig1", ROUGH_GBE)
    return run(topo, pair_and_writes("async", rate=2000, count=2000, blocks=4096), seed=7)


def test_all_four_parties_reach_duplex_and_volumes_converge(rough_run):
    net, runner, events = rough_run
    (pair,) = runner.lab.pairs()
    assert pair["states"] == {p: "Duplex" for p in ("source_storage", "source_edge", "target_edge",
                                                     "target_storage")}
    src, dst = net.device("ST112"), net.device("ST122")
    assert src.volumes[0].digest() == dst.volumes[0].digest()
    assert len(src.volumes[0].blocks) > 1000
    assert net.device("H111").acknowledged == 2000


def test_counters_agree_and_nothing_remains(rough_run):
    net, _, _ = rough_run
    source = net.device("E104").groups[1]
    target = net.device("E105").groups[1]
    assert source.created == source.deleted == target.reflected == 2002  # pair create + Duplex + 2000 WR
    assert net.device("E104").log_entries == net.device("E105").log_entries == 0
    assert net.device("C202").held == 0


def test_loss_caused_resends_and_jitter_caused_reordering(rough_run):
    net, _, events = rough_run
    assert net.device("E104").resent > 0
    arrivals = [e["seq"] for e in events if e["event"] == "log-received" and e["kind"] == "WR"]
    assert any(b < a for a, b in zip(arrivals, arrivals[1:])), "jitter should reorder arrivals"


def test_reflection_is_never_out_of_sequence(rough_run):
    _, _, events = rough_run
    created = {(e["order_id"], e["seq"]): e for e in events if e["event"] == "log-created" and e["device"] == "E104"}
    reflected = [e for e in events if e["event"] == "reflected"]
    last: dict[int, int] = defaultdict(int)
    for e in reflected:
        assert e["seq"] > last[e["order_id"]], "reflected out of order"
        last[e["order_id"]] = e["seq"]
        origin = created[(e["order_id"], e["seq"])]
        assert (origin["block"], origin["data_digest"]) == (e["block"], e["data_digest"])
    # every created write was reflected exactly once
    wr = {k for k, e in created.items() if e["kind"] == "WR"}
    assert {(e["order_id"], e["seq"]) for e in reflected} == wr
    assert len(reflected) == len(wr)


def test_trace_covers_the_pair_creation_duplex_and_write_figures(rough_run):
    _, _, events = rough_run
    seen = steps_of(events)
    copied = {"fig18:1801", "fig22:2201"}  # the pair was created on an empty volume: no block to copy
    assert not copied & set(seen)
    for figure in ("fig10", "fig11", "fig16", "fig17", "fig18", "fig19", "fig20", "fig21", "fig22"):
        wanted = [t for t in tags(figure) if t not in copied]
        assert [t for t in missing(seen, figure) if t not in copied] == [], figure
        assert not_in_order(events, figure, wanted) is None, figure  # within one instance (rcnlab.catalogue)
    for tag in ("fig9:901", "fig9:902", "fig9:903", "fig9:904", "fig9:905"):
        assert tag in seen


def test_sync_host_latency_is_the_fc_round_trip_whatever_the_distance():
    """The edge answers WROK once the log entry exists (1904): a synchronous host waits
    for the short FC round trip, not for the far site."""
    latencies = []
    for km in (10, 3000):
        edit = {'distance_km = 300': f'distance_km = {km}'}
        topo = topology("fig1", edit)
        net, _, _ = run(topo, pair_and_writes("sync", rate=100, count=50), trace=False)
        host = net.device("H111")
        assert host.acknowledged == 50
        latencies.append(host.mean_latency)
    assert latencies[1] == pytest.approx(latencies[0], rel=0.01)
    assert latencies[0] < 0.001  # far below the 30 ms round trip of 3,000 km


def test_async_host_latency_does_not_wait_for_the_edge():
    net_a, _, _ = run(topology("fig1"), pair_and_writes("async", rate=100, count=50), trace=False)
    net_s, _, _ = run(topology("fig1"), pair_and_writes("sync", rate=100, count=50), trace=False)
    assert net_a.device("H111").mean_latency < net_s.device("H111").mean_latency


def test_batch_transfer_at_the_core_forwards_in_batches():
    topo = topology("fig1", {"batch_wait_ms = 0": "batch_wait_ms = 5"})
    net, runner, events = run(topo, pair_and_writes("async", rate=5000, count=500))
    core = net.device("C202")
    assert core.batches > 0
    assert core.relayed >= 1000  # WRs one way, WROKs the other
    assert max(len(e["what"].split(",")) for e in events if e["event"] == "sent" and e["device"] == "C202") > 1
    assert runner.lab.pairs()[0]["states"]["target_storage"] == "Duplex"
    assert net.device("ST112").volumes[0].digest() == net.device("ST122").volumes[0].digest()


@pytest.mark.parametrize("name,source,target", [("nocore", "ST112:0", "ST122:0")])
def test_other_topologies_replicate(name, source, target):
    net, runner, _ = run(topology(name), pair_and_writes("async", count=300), trace=False)
    assert runner.lab.pairs()[0]["states"]["target_storage"] == "Duplex"
    assert net.device("ST112").volumes[0].digest() == net.device("ST122").volumes[0].digest()


def test_a_volume_of_one_tebibyte_costs_nothing_until_written():
    net, _, _ = run(topology("fig1"), "", trace=False)
    vol = net.device("ST112").volumes[0]
    assert vol.size * vol.block_size == 1 << 40
    assert vol.blocks == {}
    assert vol.digest() == net.device("ST122").volumes[0].digest()


def test_writes_during_initial_copy_still_converge():
    text = """
[[step]]
at = 0.0
do = "workload"
volume = "ST112:0"
rate = 20000
count = 3000
blocks = [0, 3000]

[[step]]
at = 0.1
do = "pair-create"
source = "ST112:0"
target = "ST122:0"

[[step]]
at = 0.1
do = "workload"
volume = "ST112:0"
rate = 2000
count = 400
blocks = [0, 3000]
"""
    net, runner, events = run(topology("fig1"), text)
    copies = [e for e in events if e["event"] == "reflected" and e["copy"]]
    assert copies, "an initial copy took place"
    assert runner.lab.pairs()[0]["states"]["source_storage"] == "Duplex"
    assert net.device("ST112").volumes[0].digest() == net.device("ST122").volumes[0].digest()


def test_entries_larger_than_a_frame_are_fragmented_and_reassembled_under_loss():
    edit = {'b = "C202"\nkind = "gbe"\ndistance_km = 300': 'b = "C202"\nkind = "gbe"\ndistance_km = 300\n'
                                                         'mtu = 256\nloss = 0.01'}
    net, runner, _ = run(topology("fig1", edit), pair_and_writes("async", count=300), seed=3, trace=False)
    link = net.links["E104-C202"]
    assert link.forward.sent >= 3 * 300  # a 512-byte block needs three 256-byte frames at least
    assert link.forward.dropped > 0
    assert runner.lab.pairs()[0]["states"]["target_storage"] == "Duplex"
    assert net.device("ST112").volumes[0].digest() == net.device("ST122").volumes[0].digest()
