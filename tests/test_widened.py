"""Invariant violations the widened fuzzer envelope found with the rules kept (issue 12)."""

from __future__ import annotations

from helpers import pair_and_writes, run, topology
from rcnlab.summary import summarize

# fuzz seed 997: the source storage's FC link to its edge is down when the first writes of an
# asynchronous pair go out and back up before the next ones.
LINK_DOWN_FOR_THE_FIRST_WRITES = """
[[step]]
at = 0.15
do = "fail"
link = "ST112-E104"

[[step]]
at = 0.205
do = "restore"
link = "ST112-E104"

[[step]]
at = 2.0
do = "resync-all"
"""


def test_a_first_write_lost_on_the_fc_link_is_a_gap_the_edge_sees():
    """The storage numbers its WRs from 1: when WR 1 (acknowledged to the host) is lost on
    the FC link, a later WR must not reach the target without it. The edge saw no WR before,
    so it took the next one as the first (host_order broke); it must fail the group over to
    the bitmaps and the resync copies both."""
    text = pair_and_writes(mode="async", count=20, rate=1000) + LINK_DOWN_FOR_THE_FIRST_WRITES
    net, _, trace = run(topology("fig1"), text, seed=997)
    s = summarize(net)
    assert s["invariants"]["host_order"], s["invariants"]
    assert all(s["invariants"].values()), s["invariants"]
    assert any(e["event"] == "remote-copy-failed" for e in trace)


# fuzz seeds 253, 526, 581, 636: a resync whose DPOK comes after the storage gave up waiting,
# given again; both DPOKs arrive, the second while the first's differential copy runs.
RESYNC_TWICE_ON_A_SLOW_ROUTE = """
[[step]]
at = 0.25
do = "fail"
link = "C202-E105"

[[step]]
at = 0.7
do = "restore"
link = "C202-E105"

[[step]]
at = 0.8
do = "set-link"
link = "C202-E105"
distance_km = 20000

[[step]]
at = 1.0
do = "resync"
volume = "ST112:0"

[[step]]
at = 1.2
do = "resync"
volume = "ST112:0"
"""


def test_a_second_dpok_during_a_differential_copy_keeps_the_blocks_it_had_not_sent():
    """The second DPOK merged an empty bitmap (the first copy had taken it) and started a copy
    of nothing in place of the running one: the blocks that copy had not sent yet were in no
    bitmap and never copied (nothing_lost, and Duplex with different volumes). The new copy
    takes them along."""
    topo = topology("fig1", {"copy_rate = 20000": "copy_rate = 500",
                             "command_timeout_ms = 2000": "command_timeout_ms = 150"})
    net, runner, trace = run(topo, pair_and_writes(mode="async", count=400, rate=1000) + RESYNC_TWICE_ON_A_SLOW_ROUTE,
                             seed=1)
    copies = [e["blocks"] for e in trace if e["event"] == "copy-started" and e["copy"] == "differential"]
    assert len(copies) == 2 and copies[1] > 0, copies
    assert runner.failed == []
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]


# fuzz seed 728: the source edge falls to failure Suspend (its backlog gets no answers over a
# cut route) while the source storage's FC link is cut too; the writes have all been answered.
EDGE_FAILS_WHILE_THE_STORAGE_LINK_IS_DOWN = """
[[step]]
at = 0.0
do = "set-link"
link = "C202-E105"
bandwidth_mbps = 1.0

[[step]]
at = 0.45
do = "fail"
link = "ST112-E104"

[[step]]
at = 0.45
do = "fail"
link = "C202-E105"

[[step]]
at = 4.5
do = "restore"
link = "C202-E105"

[[step]]
at = 4.5
do = "restore"
link = "ST112-E104"
"""


def test_a_storage_whose_fc_link_comes_back_hears_of_the_failure_suspend_it_missed():
    """The edge told the storage of failure Suspend over the cut FC link; nothing else would
    tell it (no more writes), so it stayed Duplex alone (agreement). Its port logs in again
    when the link is back, and the edge tells it again, as after a storage restart."""
    net, runner, _ = run(topology("fig1"), pair_and_writes(mode="async", count=200, rate=1000)
                         + EDGE_FAILS_WHILE_THE_STORAGE_LINK_IS_DOWN, seed=1)
    s = summarize(net)
    assert set(s["pairs"][0]["states"].values()) == {"failure Suspend"}, s["pairs"][0]["states"]
    assert all(s["invariants"].values()), s["invariants"]


# fuzz seed 810 (found after the login above): the source edge loses its volatile log in a crash
# while the storage's FC link is cut, and asks for a full copy; the storage hears of it only
# when the link is back.
LOG_LOST_WHILE_THE_STORAGE_LINK_IS_DOWN = """
[[step]]
at = 0.0
do = "set-link"
link = "C202-E105"
bandwidth_mbps = 1.0

[[step]]
at = 0.3
do = "fail"
link = "ST112-E104"

[[step]]
at = 0.35
do = "crash"
device = "E104"

[[step]]
at = 0.4
do = "restart"
device = "E104"

[[step]]
at = 0.5
do = "restore"
link = "ST112-E104"

[[step]]
at = 1.5
do = "resync"
volume = "ST112:0"
"""


def test_a_failure_suspend_told_again_still_asks_for_the_full_copy():
    """Told again at login, the storage was not asked for the full copy the lost log needed:
    the writes lost with it were in no bitmap and the resync left the pair Duplex without them."""
    net, runner, _ = run(topology("fig1"), pair_and_writes(mode="async", count=250, rate=1000)
                         + LOG_LOST_WHILE_THE_STORAGE_LINK_IS_DOWN, seed=1)
    s = summarize(net)
    assert runner.failed == []
    assert set(s["pairs"][0]["states"].values()) == {"Duplex"}
    assert all(s["invariants"].values()), s["invariants"]
