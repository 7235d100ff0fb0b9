"""The behaviour behind each step tag that used to be a label only (issue 13): 1801 and
2201 come with the first block an initial copy sends, 1306-1309 with each turn of the
failover loop (and 1306 alone when the timer runs out), and a figure's steps are checked
within one instance (one write, one run of a pair command's flow). 901 and 902:
tests/test_contract.py."""

from __future__ import annotations

import pytest

from rcnlab.catalogue import BEFORE, not_in_order, tags, write_instances
from rcnlab.emu.journal import TraceEvent
from rcnlab.walkthrough.engine import in_one_instance
from tests.helpers import pair_and_writes, run, topology

CREATE = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
"""
WRITTEN_FIRST = """
[[step]]
at = 0.0
do = "workload"
volume = "ST112:0"
rate = 10000
count = 50
blocks = [100, 4096]
""" + CREATE.replace("at = 0.0", "at = 0.05")


def _tagged(events, step):
    return [e for e in events if e["step"] == step]


# -- 1801, 2201: the initial copy at the edges ----------------------------------------------------
def test_nothing_to_copy_no_initial_copy_at_the_edges():
    _, runner, events = run(topology("fig1"), CREATE)
    assert [str(s) for s in runner.lab.net.pair_views()[0].states] == ["Duplex"] * 4
    assert next(e for e in events if e["event"] == "copy-started")["blocks"] == 0
    assert _tagged(events, "fig18:1801") == _tagged(events, "fig22:2201") == []


def test_the_edges_start_the_initial_copy_with_its_first_block():
    _, _, events = run(topology("fig1"), WRITTEN_FIRST)
    (src,), (tgt,) = _tagged(events, "fig18:1801"), _tagged(events, "fig22:2201")
    first_copy = next(e for e in events if e["device"] == "E104" and e["event"] == "rio-received"
                      and e["t"] >= src["t"])
    assert src["device"] == "E104" and first_copy["block"] == src["block"] and first_copy["t"] == src["t"]
    # E105 starts when it hands the first copied block to ST122 (2003-2005 follow at once)
    after = events[events.index(tgt) + 1]
    assert tgt["device"] == "E105" and after["step"] == "fig20:2003" and tgt["t"] > src["t"]
    icok = next(e for e in events if e["step"] == "fig10:1010")
    assert src["t"] > icok["t"]  # not at ICOK: with the copy


# -- 1306-1309: the failover loop -------------------------------------------------------------------
FAILOVER = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
[[step]]
at = 0.2
do = "workload"
volume = "ST112:0"
rate = 5000
count = 2000
[[step]]
at = 0.3
do = "site-failure"
site = "source"
[[step]]
at = 0.3
do = "failover"
volume = "ST122:0"
"""


def test_each_entry_taken_during_a_failover_is_one_turn_of_1306_to_1309():
    _, _, events = run(topology("fig1"), FAILOVER, seed=1)
    (reset,) = _tagged(events, "fig13:1305")
    (done,) = _tagged(events, "fig13:1310")
    loop = [e for e in events if reset["t"] <= e["t"] <= done["t"] and e["step"] in
            ("fig13:1306", "fig13:1307", "fig13:1308", "fig13:1309")]
    turns = [loop[i:i + 4] for i in range(0, len(loop) - 3, 4)]
    assert len(turns) > 3  # entries were still on their way
    for turn in turns:
        assert [e["step"] for e in turn] == ["fig13:1306", "fig13:1307", "fig13:1308", "fig13:1309"]
        assert len({e["t"] for e in turn}) == 1 and turn[1]["kind"] == "WR" and not turn[2]["sok"]
    assert turns[0][0]["t"] > reset["t"]  # not all at once with 1305: when an entry comes in turn
    last = loop[len(turns) * 4:]
    assert [e["step"] for e in last] == ["fig13:1306", "fig13:1307", "fig13:1308"] and last[2]["sok"]
    seqs = [t[1]["seq"] for t in turns] + [last[1]["seq"]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, one by one


def test_the_timer_running_out_is_1306_and_the_failover_ends_without_the_sok():
    cut = FAILOVER.replace('do = "site-failure"\nsite = "source"', 'do = "fail"\nlink = "E104-C202"')
    _, _, events = run(topology("fig1"), cut, seed=1)
    (reset,) = _tagged(events, "fig13:1305")
    timeout = next(e for e in events if e["event"] == "failover-timeout")
    assert timeout["step"] == "fig13:1306"
    assert timeout["t"] == pytest.approx(reset["t"] + timeout["timeout"])
    assert [e["step"] for e in events[events.index(timeout) + 1:] if e["step"]][0] == "fig13:1310"
    assert not any(e["event"] == "sok-checked" and e["sok"] for e in events)


# -- order within one instance ---------------------------------------------------------------------------
def _ev(t, device, event, step, **fields):
    return TraceEvent(t, device, event, step, fields)


def test_a_later_write_does_not_supply_a_step_an_earlier_one_skipped():
    """Write 1 is answered and logged but its entry never leaves (no 1605 ...); write 2 is
    only sent on. As one subsequence the trace has 1601-1610; per write it does not."""
    events = [
        _ev(0.0, "H111", "write-issued", None, tag=1),
        _ev(0.0, "H111", "sent", "fig16:1601", to="ST112", what="WR"),
        _ev(0.1, "ST112", "write-applied", None, host="H111", tag=1, volume="W12/0", xid=1),
        _ev(0.1, "ST112", "sent", "fig16:1602", to="E104", what="WR"),
        _ev(0.2, "E104", "rio-received", "fig19:1901", source="W12/0", xid=1, order_id=1, seq=1),
        _ev(0.2, "E104", "sent", "fig16:1603", to="ST112", what="WROK"),
        _ev(0.3, "ST112", "write-answered", None, host="H111", tag=1),
        _ev(0.3, "ST112", "sent", "fig16:1604", to="H111", what="WROK"),
        *[_ev(1.0 + i, dev, "sent", f"fig16:{n}", to="x", what="log[WR#1.2]")
          for i, (dev, n) in enumerate([("E104", 1605), ("C202", 1606)])],
        _ev(3.0, "E105", "rio-converted", None, order_id=1, seq=2),
        _ev(3.0, "E105", "sent", "fig16:1607", to="ST122", what="WR"),
        _ev(3.1, "ST122", "reflected", None, order_id=1, seq=2),
        _ev(3.1, "ST122", "sent", "fig16:1608", to="E105", what="WROK"),
        *[_ev(4.0 + i, dev, "sent", f"fig16:{n}", to="x", what="log[WROK#1.2]")
          for i, (dev, n) in enumerate([("E105", 1609), ("C202", 1610)])],
    ]
    steps = [e.step for e in events if e.step]
    assert not_in_order(steps, "fig16") is None  # the old check: one subsequence of the whole trace
    assert sorted(map(sorted, write_instances(events))) == sorted(map(sorted, [
        ["fig16:1601", "fig16:1602", "fig19:1901", "fig16:1603", "fig16:1604"],
        ["fig16:1605", "fig16:1606", "fig16:1607", "fig16:1608", "fig16:1609", "fig16:1610"]]))
    assert not_in_order(events, "fig16") == "no fig16:1601"  # the instance that has most: write 2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_write_of_a_workload_is_one_whole_instance_in_order(mode):
    _, _, events = run(topology("fig1"), pair_and_writes(mode, rate=5000, count=60), seed=2)
    writes = [i for i in write_instances(events) if "fig16:1601" in i]
    assert len(writes) == sum(1 for e in events if e["event"] == "write-issued") == 60
    for inst in writes:
        for figure in ("fig16", "fig19", "fig20"):
            assert not_in_order(inst, figure) is None, (figure, inst)
        first = {t: inst.index(t) for t in reversed(inst)}
        synchronous = first["fig16:1603"] < first["fig16:1604"]
        assert synchronous == (mode == "sync")  # the storage program decides: see rcnlab.catalogue


def test_fig16_is_the_partial_order_its_arrows_cause():
    """Synchronous: 1603 before 1604; asynchronous: 1604 (with 1602) before 1603; the
    entry leaves (1605) after 1603 either way, and 1604 and 1605 are not ordered."""
    before = BEFORE["fig16"]
    assert ("fig16:1602", "fig16:1604") in before and ("fig16:1603", "fig16:1605") in before
    assert ("fig16:1603", "fig16:1604") not in before and ("fig16:1604", "fig16:1605") not in before
    assert ("fig16:1601", "fig16:1610") in before
    sync = ["fig16:1601", "fig16:1602", "fig16:1603", "fig16:1605", "fig16:1604", *tags("fig16")[5:]]
    async_ = ["fig16:1601", "fig16:1602", "fig16:1604", "fig16:1603", "fig16:1605", *tags("fig16")[5:]]
    assert not_in_order(sync, "fig16") is None and not_in_order(async_, "fig16") is None
    assert not_in_order(["fig16:1601", "fig16:1603", "fig16:1602", *tags("fig16")[3:]], "fig16") == (
        "fig16:1603 before fig16:1602")  # what the trace shows, against the order


def test_a_walkthrough_step_fails_when_its_steps_are_only_pieced_together():
    """A step's figure check is per instance: write 1's 1907 does not complete write 2."""

    events = [_ev(0.0, "E104", "rio-received", "fig19:1901", source="W/0", xid=1, order_id=1, seq=1),
              _ev(0.0, "E104", "log-created", "fig19:1902", order_id=1, seq=1),
              _ev(0.5, "E104", "rio-received", "fig19:1901", source="W/0", xid=2, order_id=1, seq=2),
              _ev(0.5, "E104", "log-created", "fig19:1902", order_id=1, seq=2),
              _ev(0.5, "E104", "counter-incremented", "fig19:1903", order_id=1, created=2),
              _ev(0.9, "E104", "answer-received", "fig19:1907", order_id=1, seq=1)]
    assert in_one_instance(events, ["fig19:1902", "fig19:1903", "fig19:1907"], "fig19") == (
        "expected fig19:1902 .. fig19:1907 in the patent's order in one write of this step's trace; "
        "the closest has no fig19:1903")
    assert in_one_instance(events, ["fig19:1902", "fig19:1907"], "fig19") is None


# -- rcnlab's choices where the patent is loose, said in the trace where they act -------------------
def test_a_prompt_failover_says_what_happens_to_entries_that_arrive_later():
    prompt = FAILOVER + 'prompt = true\n'
    _, _, events = run(topology("fig1"), prompt, seed=1)
    (note,) = [e for e in events if e["event"] == "failover-prompt"]
    assert note["choice"].startswith("rcnlab's choice: the failover completes at once")
    assert _tagged(events, "fig13:1306") == []  # no loop: it does not wait for the SOK


def test_a_path_failure_says_synchronous_writes_are_acknowledged():
    cut = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "sync"
[[step]]
at = 0.2
do = "fail"
link = "ST112-E104"
[[step]]
at = 0.21
do = "write"
volume = "ST112:0"
block = 7
"""
    _, _, events = run(topology("fig1"), cut, seed=1)
    (failed,) = [e for e in events if e["event"] == "path-failed"]
    assert "fence level never" in failed["choice"]
    acknowledged = [e for e in events if e["event"] == "write-acknowledged"]
    assert acknowledged and acknowledged[-1]["t"] >= failed["t"]
