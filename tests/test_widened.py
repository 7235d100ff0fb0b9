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
