"""Acknowledged writes lost when a pair falls to failure Suspend, found by the widened fuzzer
envelope (issue 12)."""

from __future__ import annotations

from helpers import pair_and_writes, run, topology

from rcnlab.summary import summarize

# fuzz seeds 286, 510, 553, 931, 975: the source edge gave up on held entries (727), and the
# DPOK that carried them to the source storage at the next resync (1209) was lost on the FC link.
DPOK_LOST_ON_THE_FC_LINK = """
[[step]]
at = 0.25
do = "fail"
link = "C202-E105"

[[step]]
at = 0.7
do = "restore"
link = "C202-E105"

[[step]]
at = 1.0
do = "resync"
volume = "ST112:0"

[[step]]
at = 1.001
do = "fail"
link = "ST112-E104"
direction = "E104>ST112"

[[step]]
at = 1.5
do = "restore"
link = "ST112-E104"
direction = "E104>ST112"

[[step]]
at = 4.0
do = "resync"
volume = "ST112:0"
"""


def test_a_dpok_lost_on_the_fc_link_loses_no_block_of_the_edge_bitmap():
    """The source edge merged its 727 into the DPOK (1209) and emptied it; the DPOK never
    reached the storage, whose resync timed out: the blocks of the entries the edge had given
    up on were in no bitmap, and the next resync left them off the target. The edge keeps each
    block in 727 until its copy reaches it."""
    net, _, trace = run(topology("fig1"), pair_and_writes(mode="async", count=200, rate=1000)
                             + DPOK_LOST_ON_THE_FC_LINK, seed=1)
    merged = [e for e in trace if e["event"] == "bitmap-merged" and e["device"] == "E104"]
    assert merged and merged[0]["merged"] > 0, merged
    assert any(e["event"] == "frame-dropped" and e["what"] == "DPOK" for e in trace)
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    assert set(s["pairs"][0]["states"].values()) == {"Duplex"}, s["pairs"][0]["states"]
    assert not any(pair.bitmap for edge in net.edges for pair in edge.pairs.values())  # each copied once
    assert [e["detail"] for e in trace if e["event"] == "command-answered" and e["status"] == "error"] == [
        "no DPOK from the RCN within 2 s"]


# fuzz seed 4234: the group's 908 takes the source edge's RESYNC entry while its DPOK, with the
# target storage's 1213, is on its way back (here a crash of the source edge with its log).
DPOK_AFTER_THE_RESYNC_WAS_GIVEN_UP = """
[[step]]
at = 0.5
do = "suspend"
volume = "ST112:0"

[[step]]
at = 0.6
do = "write"
volume = "ST122:0"
block = 1000

[[step]]
at = 1.0
do = "resync"
volume = "ST112:0"

[[step]]
at = 1.0035
do = "crash"
device = "E104"

[[step]]
at = 1.004
do = "restart"
device = "E104"

[[step]]
at = 3.5
do = "resync"
volume = "ST112:0"
"""


def test_a_dpok_for_a_resync_given_up_keeps_the_target_bitmap():
    """The target storage handed its 1213 (a block the target host wrote while suspended) over
    with DPOK; the source edge had given that resync up (908 took its entry) and dropped the
    answer as a duplicate: the block was in no bitmap, and the pair went Duplex with it
    different on the two volumes (convergence). The source edge keeps the blocks in 727."""
    net, _, trace = run(topology("fig1"), pair_and_writes(mode="async", count=20, rate=1000)
                        + DPOK_AFTER_THE_RESYNC_WAS_GIVEN_UP, seed=1)
    assert any(e["event"] == "duplicate-answer" and e["kind"] == "DPOK" for e in trace)
    s = summarize(net)
    assert set(s["pairs"][0]["states"].values()) == {"Duplex"}, s["pairs"][0]["states"]
    assert all(s["invariants"].values()), s["invariants"]
