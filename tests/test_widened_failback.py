"""Failback failures of the widened 10,000-seed campaign (issue 12, item 2): a failback acts
on the whole consistency group, or is refused in one line, and never leaves a pair half
turned. Each a small scenario on a shipped topology, from the seed's cause."""

from __future__ import annotations

from helpers import run, topology

from rcnlab.summary import summarize

GROUP_1_WRITES = """
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
mode = "sync"

[[step]]
at = 0.2
do = "workload"
volume = "ST112:0"
rate = 1000.0
count = 50
blocks = [0, 256]

[[step]]
at = 0.2
do = "workload"
volume = "ST112:1"
rate = 1000.0
count = 50
blocks = [0, 256]

[[step]]
at = 0.3
do = "failover"
volume = "ST122:0"
"""

END = """
[[step]]
at = 2.0
do = "heal-all"

[[step]]
at = 2.6
do = "resync-all"

[[step]]
at = 4.0
do = "resync-all"

[[step]]
at = 5.0
do = "resync-all"

[[step]]
at = "end"
do = "expect"
invariants = true
"""

# fuzz seed 7419: the group fails back while the new source edge's link is cut, so the
# old source side has not heard of it; a delete of one of its pairs given at the old source
# went out in the old direction and was refused by the turned edge: the pair was Simplex at
# the old source storage and failure Suspend at the three other parties.
DELETE_WHILE_FAILING_BACK = GROUP_1_WRITES + """
[[step]]
at = 0.8
do = "fail"
link = "C202-E105"

[[step]]
at = 1.0
do = "failback"
volume = "ST122:0"

[[step]]
at = 1.2
do = "delete-pair"
volume = "ST112:1"
host = "H111"
""" + END


def test_a_delete_while_its_group_fails_back_is_refused_in_one_line():
    net, runner, trace = run(topology("consistency-groups"), DELETE_WHILE_FAILING_BACK, seed=7419)
    deletes = [line for line in runner.refused if "delete" in line]
    assert len(deletes) == 1 and "\n" not in deletes[0] and "failback" in deletes[0], runner.refused
    assert not any(e["event"] == "sent" and e.get("what") == "delete" for e in trace), "nothing was sent"
    s = summarize(net)
    assert s["invariants"]["agreement"], s["invariants"]
    assert all(s["invariants"].values()), s["invariants"]


# fuzz seed 9828: under method B a turned pair (a failback) gets a number of its new source
# edge's own; it took the run-time ID of the group itself (or of another group), and the new
# source edge numbered that group from 1 again, below what the old source edge had issued in
# it: numbers created at both edges, and seq 2 reflected after the old direction's last.
FAILBACK_OF_A_RUN_TIME_ID = GROUP_1_WRITES + """
[[step]]
at = 0.6
do = "write"
volume = "ST122:0"
block = 7
host = "H121"

[[step]]
at = 1.0
do = "failback"
volume = "ST122:0"
""" + END
#: Group 1's pairs created at run time with order assurance ID 4: the first number of E105's
#: own (E105 numbers 2, 4, ...; 2 is reserved by a [[pair]]).
RUN_TIME_ID_4 = {
    '[[pair]]                     # application A: database ...\nsource = "ST112:0"\ntarget = "ST122:0"\n'
    'order_id = 1\n': "",
    '[[pair]]                     # ... and journal in one order assurance ID\nsource = "ST112:1"\n'
    'target = "ST122:1"\norder_id = 1\n': ""}


def test_a_failback_numbers_its_turned_pairs_with_an_id_no_group_uses():
    text = FAILBACK_OF_A_RUN_TIME_ID.replace('mode = "async"\n', 'mode = "async"\norder_id = 4\n', 1).replace(
        'mode = "sync"\n', 'mode = "sync"\norder_id = 4\n', 1)
    net, runner, trace = run(topology("consistency-groups", RUN_TIME_ID_4), text, seed=9828)
    turned = {e["order_id"] for e in trace if e["event"] == "pair-swapped" and e["device"] == "E105"}
    assert len(turned) == 1 and turned.isdisjoint({1, 2, 3, 4}), turned
    s = summarize(net)
    assert s["invariants"]["write_order"], s["invariants"]
    assert all(s["invariants"].values()), s["invariants"]
    assert not runner.failed, runner.failed


# fuzz seed 9205: after a failover, the group fails back while the new source edge (E105)
# gives up (908) before its failback reaches the old source edge: its resends end before an
# answer could come back over a long route. The old source edge then refused the failback as
# "made before the source edge gave up": the pair stood turned at ST122 and E105, the old way
# round at E104 and ST112, listed in both directions.
SHORT_RESENDS_AT_E105 = {'ip = "192.0.2.105"': 'ip = "192.0.2.105"\nresend_timeout_ms = 5.0\nresend_limit = 3',
                         "distance_km = 300": "distance_km = 3000"}
FAILBACK_GIVEN_UP_ON_ITS_WAY = GROUP_1_WRITES.replace('volume = "ST122:0"\n', 'volume = "ST122:0"\nprompt = true\n') + """
[[step]]
at = 0.5
do = "failback"
order_id = 1
""" + END


def test_a_failback_the_new_source_edge_gives_up_on_turns_every_party_or_none():
    net, runner, trace = run(topology("consistency-groups", SHORT_RESENDS_AT_E105), FAILBACK_GIVEN_UP_ON_ITS_WAY,
                             seed=9205)
    assert any(e["event"] == "remote-copy-failed" and e["device"] == "E105" and e["t"] < 1.0 for e in trace)
    s = summarize(net)
    assert s["invariants"]["agreement"], s["invariants"]
    assert all(s["invariants"].values()), s["invariants"]
    for lun in (0, 1):  # one direction at all four parties
        views = [v for v in net.pair_views() if v.target_ref.lun == lun]
        assert len(views) == 1, views


def test_a_failback_overtaken_by_a_resync_before_its_answer_is_answered_with_it():
    """Fuzz seed 9205 again: the failback still waited for its DPOK when a resync was given
    at the same storage (the resync-all at 2.6 s); the resync took its place and the
    failback was never answered. Each command is answered: both with the resync's answer."""
    text = FAILBACK_GIVEN_UP_ON_ITS_WAY.replace(END, """
[[step]]
at = 0.6
do = "resync"
volume = "ST122:0"
host = "H121"
""" + END)
    net, runner, trace = run(topology("consistency-groups", SHORT_RESENDS_AT_E105), text, seed=9205)
    commands = runner.lab.commands
    assert [h for h in commands if str(h.command) == "resync" and h.issued == 0.6], [h.line() for h in commands]
    assert all(h.done for h in commands), [h.line() for h in commands if not h.done]
