"""Write order and nothing lost around a give-up (908) and its resync, found by the widened
fuzzer envelope with the rules kept (issue 12)."""

from __future__ import annotations

from helpers import pair_and_writes, run, topology
from rcnlab.summary import summarize

# fuzz seeds 481 and 665: the target edge hands an entry to its storage over a long FC link;
# the source edge gives up (908, here a WR lost on the source storage's FC link) and the
# resync's entry, which restarts the sequence, reaches the target edge before the storage
# has answered.
GIVE_UP_WHILE_A_WRITE_GOES_TO_A_FAR_TARGET_STORAGE = """
[[step]]
at = 0.0
do = "set-link"
link = "E105-ST122"
distance_km = 2500

[[step]]
at = 0.252
do = "fail"
link = "ST112-E104"

[[step]]
at = 0.2525
do = "restore"
link = "ST112-E104"

[[step]]
at = 0.257
do = "resync"
volume = "ST112:0"

[[step]]
at = 2.0
do = "resync-all"
"""


def test_a_rebase_waits_for_the_write_the_target_storage_is_applying():
    """The target edge took the restarted sequence at once and forgot the entry whose RIO was
    on its way: the storage applied that write after the edge had moved past it (write_order),
    and would have applied it after whatever the edge sent next. The edge waits for the
    storage's answer, then rebases."""
    text = pair_and_writes(mode="async", count=200, rate=1000) + GIVE_UP_WHILE_A_WRITE_GOES_TO_A_FAR_TARGET_STORAGE
    net, _, trace = run(topology("fig1"), text, seed=1)
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    rebased = [e for e in trace if e["event"] == "sequence-rebased"]
    assert rebased and rebased[0]["dropped"] == 0, rebased
    applied = [e["t"] for e in trace if e["event"] == "reflected" and e["seq"] == rebased[0]["reflected"]]
    assert applied and applied[0] < rebased[0]["t"], (applied, rebased[0])


# fuzz seeds 561 and 958: the DPOK that carries the merged bitmap 1209 to the source storage
# is lost on its FC (or IP) link; the storage gives up waiting and reports a path failure.
DPOK_LOST_ON_THE_STORAGE_LINK = """
[[step]]
at = 0.25
do = "fail"
link = "C202-E105"

[[step]]
at = 1.0
do = "restore"
link = "C202-E105"

[[step]]
at = 1.1
do = "fail"
link = "ST112-E104"
direction = "E104>ST112"

[[step]]
at = 1.2
do = "resync"
volume = "ST112:0"

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


def test_blocks_of_a_lost_dpok_stay_in_the_edge_bitmap_for_the_next_resync():
    """The source edge emptied 727 into the DPOK; the DPOK never arrived, so the blocks were in
    no bitmap and the next resync copied nothing: the pair went Duplex with different volumes.
    727 keeps them until the copy they ask for is done."""
    text = pair_and_writes(mode="async", count=200, rate=1000) + DPOK_LOST_ON_THE_STORAGE_LINK
    net, _, trace = run(topology("fig1"), text, seed=1)
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    merged = [e["merged"] for e in trace if e["event"] == "bitmap-merged" and e["device"] == "E104"]
    assert len(merged) == 2 and merged[1] == merged[0] > 0, merged
    assert any(e["event"] == "command-timed-out" and e["waiting_for"] == "DPOK" for e in trace)
    assert net.edge_named["E104"].pairs and not any(p.bitmap for p in net.edge_named["E104"].pairs.values())


# fuzz seed 4234: the target host wrote on the suspended target volume (1213); the resync's
# DPOK carrying 1213 never reached the source storage (here its answer entry is cut off and
# the source edge gives the resync up, 908).
RESYNC_GIVEN_UP_AFTER_THE_TARGET_HANDED_1213 = pair_and_writes(mode="async", count=50, rate=1000) + """
[[step]]
at = 0.5
do = "suspend"
volume = "ST112:0"

[[step]]
at = 0.6
do = "write"
volume = "ST122:0"
block = 7

[[step]]
at = 0.7
do = "fail"
link = "C202-E104"
direction = "C202>E104"

[[step]]
at = 0.8
do = "resync"
volume = "ST112:0"

[[step]]
at = 1.5
do = "restore"
link = "C202-E104"
direction = "C202>E104"

[[step]]
at = 3.0
do = "resync"
volume = "ST112:0"
"""


def test_the_target_storage_keeps_1213_until_the_copy_is_done():
    """The target storage emptied 1213 into a DPOK that never arrived: the next resync did not
    copy the block its host had written, and the pair went Duplex with different volumes
    (convergence). 1213 stays marked until the pair is Duplex."""
    net, _, trace = run(topology("fig1"), RESYNC_GIVEN_UP_AFTER_THE_TARGET_HANDED_1213, seed=1)
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    assert any(e["event"] == "remote-copy-failed" for e in trace)
    received = [e["received"] for e in trace if e["event"] == "bitmap-merged" and e["device"] == "E104"]
    assert received == [1], received
    assert set(s["pairs"][0]["states"].values()) == {"Duplex"}, s["pairs"]


# fuzz seed 1123: two pairs share an order assurance ID (here method B); one is deleted (its
# DELETE lost on the cut FC link) and created again while the other's entries are still on
# their way to a far target storage.
CREATED_AGAIN_WHILE_THE_OTHER_PAIR_HAS_ENTRIES_ON_THE_WAY = """
[[step]]
at = 0.0
do = "set-link"
link = "E105-ST122"
distance_km = 2500

[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "async"

[[step]]
at = 0.0
do = "pair-create"
source = "ST112:1"
target = "ST122:1"
mode = "async"

[[step]]
at = 0.2
do = "workload"
volume = "ST112:0"
rate = 1000
count = 100
blocks = [0, 512]

[[step]]
at = 0.35
do = "fail"
link = "ST112-E104"
direction = "ST112>E104"

[[step]]
at = 0.36
do = "delete-pair"
volume = "ST112:1"

[[step]]
at = 0.37
do = "restore"
link = "ST112-E104"
direction = "ST112>E104"

[[step]]
at = 0.4
do = "resync-all"

[[step]]
at = 1.0
do = "set-link"
link = "E105-ST122"
distance_km = 1

[[step]]
at = 6.0
do = "resync-all"
"""


def test_a_pair_created_again_fails_the_pairs_whose_entries_its_rebase_drops():
    """Created again, the pair restarted its order group's sequence: the target edge dropped
    the other pair's entries still on their way and the source edge put their blocks in that
    pair's 727, but the pair stayed Duplex and no resync ever copied them (convergence). It
    falls to failure Suspend (908) and the next resync copies them."""
    net, _, trace = run(topology("consistency-groups"), CREATED_AGAIN_WHILE_THE_OTHER_PAIR_HAS_ENTRIES_ON_THE_WAY,
                        seed=1)
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    # (first the half pair's delete at the target alone puts it in failure Suspend at E104)
    failed = [e["reason"] for e in trace if e["event"] == "remote-copy-failed"]
    assert [r for r in failed if "created again" in r], failed
    copied = [e["blocks"] for e in trace if e["event"] == "copy-started" and e["copy"] == "differential"]
    assert copied and copied[0] > 0, copied
    assert {state for p in s["pairs"] for state in p["states"].values()} == {"Duplex"}, s["pairs"]
