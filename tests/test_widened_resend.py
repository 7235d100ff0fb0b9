"""Resends timed from transmission, on slow and saturated paths (issue 12, items 4 and 6):
pairs of the widened 10,000-seed campaign that ended in failure Suspend though the network
had healed (seeds 3243, 5001, 9577, 9842), each a small scenario from its cause."""

from __future__ import annotations

import pytest
from helpers import TOPOLOGIES, pair_and_writes, run, topology
from rcnlab.fuzz.gen import random_case, run_case
from rcnlab.summary import summarize
from rcnlab.topo.load import parse_topology

SLOW_TARGET_LINK = {'a = "C202"\nb = "E105"\nkind = "gbe"\ndistance_km = 300':
                    'a = "C202"\nb = "E105"\nkind = "gbe"\ndistance_km = 300\nbandwidth_mbps = 1'}


def _healed_duplex(net, runner) -> None:
    s = summarize(net)
    assert all(s["invariants"].values()), s["invariants"]
    assert not runner.failed, runner.failed


def _expect_duplex(pair: str = "ST112:0") -> str:
    return f"""
[[step]]
at = "end"
do = "expect"
pair = "{pair}"
state = "Duplex"
"""


# seed 3243: a prompt failover completes at the target edge at once; entries already on
# their way reach it after, and it reflects nothing more of the pair. The source edge keeps
# them and resends them until it gives up (908), long after: the resync's entry came after
# them in the sequence and waited behind them, and each resync timed out.
PROMPT_FAILOVER_THEN_RESYNC = """
[[step]]
at = 0.3
do = "failover"
volume = "ST122:0"
prompt = true
host = "H121"

[[step]]
at = 1.0
do = "resync"
volume = "ST112:0"
""" + _expect_duplex()

PATIENT_SOURCE_EDGE = {"resend_limit = 5 ": "resend_limit = 20 ", "resend_timeout_ms = 50 ": "resend_timeout_ms = 200 "}


def test_a_resync_after_a_prompt_failover_copies_the_entries_left_over():
    text = pair_and_writes(mode="async", count=400, rate=1000) + PROMPT_FAILOVER_THEN_RESYNC
    net, runner, trace = run(topology("fig1", PATIENT_SOURCE_EDGE), text, seed=3243)
    resynced = [e for e in trace if e["event"] == "command-answered" and e["command"] == "resynchronize"]
    assert resynced and resynced[0]["status"] == "ok", resynced
    _healed_duplex(net, runner)
    absorbed = [e for e in trace if e["event"] == "held-absorbed"]
    assert absorbed and absorbed[0]["converted"] > 0, "the source edge held entries the target never reflects"


# seed 5001: a failover's Suspend instruction reaches the source edge while hundreds of
# entries wait for a 1 Mbps link. "Send what is held" sent every one of them again, behind
# the first copies, and timed their answers from now: 50 ms later they were all sent a
# third time. The link stayed busy with copies for seconds, the resync's entries waited
# behind them, and every resync timed out.
FAILOVER_ON_A_BUSY_LINK = """
[[step]]
at = 0.32
do = "failover"
volume = "ST122:0"
prompt = false
host = "H121"

[[step]]
at = 3.0
do = "resync-all"

[[step]]
at = 5.0
do = "resync-all"
""" + _expect_duplex()


def test_a_failover_sends_again_only_what_has_left_and_times_it_from_the_wire():
    text = pair_and_writes(mode="async", count=400, rate=4000) + FAILOVER_ON_A_BUSY_LINK
    net, runner, trace = run(topology("fig1", SLOW_TARGET_LINK), text, seed=5001)
    instruction = next(e["t"] for e in trace if e["event"] == "sok-sent")
    early = [e for e in trace if e["event"] == "resent" and instruction <= e["t"] < instruction + 1.5]
    assert not early, f"{len(early)} entries sent again while their first copies waited for the link"
    sent = sum(e["event"] == "sent" and e["device"] == "E104" and "WR#" in e["what"] and e["t"] < 2 for e in trace)
    assert sent < 410, f"{sent} WR entries put on the link for 400 writes while it was still busy with them"
    _healed_duplex(net, runner)


# seed 9577: the storage's link to its edge fails for a moment; the WRs on it are lost, the
# storage fails the pair on its path timeout and says so. Its next WR (the resync's copy)
# skips their numbers: the edge took the gap for a new loss and failed the pair again.
STORAGE_LINK_BLINKS_THEN_RESYNC = """
[[step]]
at = 0.3
do = "fail"
link = "ST112-E104"

[[step]]
at = 0.33
do = "restore"
link = "ST112-E104"

[[step]]
at = 1.0
do = "resync"
volume = "ST112:0"
""" + _expect_duplex()


def test_writes_a_storage_already_failed_are_no_gap_at_its_edge():
    text = pair_and_writes(mode="async", count=400, rate=1000) + STORAGE_LINK_BLINKS_THEN_RESYNC
    net, runner, trace = run(topology("fig1"), text, seed=9577)
    assert any(e["event"] == "path-failed" for e in trace), "the storage lost WRs and failed the pair"
    gaps = [e for e in trace if e["event"] == "remote-copy-failed" and "lost on its FC link" in e["reason"]
            and e["t"] > 1.0]
    assert not gaps, gaps
    _healed_duplex(net, runner)


# seed 9842: two pairs of different storages share a slow link. The source edge timed each
# entry's answer from when it would leave that link, counting only what its own pair had
# sent before it: half the queue. Entries were resent while their first copies still
# waited, and the copies filled the link for seconds more.
SECOND_STORAGE_PAIR = """
[[storage]]
name = "ST113"
wwn = "50:06:0e:80:00:00:01:13"
customer = "C1"
site = "source"
edge = "E104"
volumes = [{ lun = 0, blocks = 4096 }]

[[storage]]
name = "ST123"
wwn = "50:06:0e:80:00:00:01:23"
customer = "C1"
site = "target"
edge = "E105"
volumes = [{ lun = 0, blocks = 4096 }]

[[host]]
name = "H113"
storage = "ST113"
customer = "C1"
site = "source"

[[link]]
a = "H113"
b = "ST113"
kind = "scsi"

[[link]]
a = "ST113"
b = "E104"
kind = "fc"

[[link]]
a = "E105"
b = "ST123"
kind = "fc"
"""

TWO_PAIRS_WRITE_AT_ONCE = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST113:0"
target = "ST123:0"
mode = "async"

[[step]]
at = 0.2
do = "workload"
volume = "ST113:0"
rate = 4000
count = 200
blocks = [0, 512]
""" + _expect_duplex() + _expect_duplex("ST113:0")


def test_pairs_sharing_a_slow_link_share_its_queue():
    (old, new), = SLOW_TARGET_LINK.items()
    topo = parse_topology((TOPOLOGIES / "fig1.toml").read_text().replace(old, new) + SECOND_STORAGE_PAIR, "fig1+")
    scenario = pair_and_writes(mode="async", count=200, rate=4000) + TWO_PAIRS_WRITE_AT_ONCE
    net, runner, trace = run(topo, scenario, seed=9842)
    resent = [e for e in trace if e["event"] == "resent"]
    assert not resent, f"{len(resent)} resends on a link that loses nothing"
    _healed_duplex(net, runner)


# seed 9842 too: the target storage restarts while a WR it was given is lost with it. The
# target edge waited for the source edge's resend of that entry to ask again, and on a busy
# link the resend came only behind everything queued before it (seconds).
TARGET_STORAGE_BLINKS = """
[[step]]
at = 0.3
do = "crash"
device = "ST122"

[[step]]
at = 0.31
do = "restart"
device = "ST122"
""" + _expect_duplex()


def test_the_target_edge_asks_a_restarted_storage_again_at_once():
    text = pair_and_writes(mode="async", count=400, rate=1000) + TARGET_STORAGE_BLINKS
    net, runner, trace = run(topology("fig1"), text, seed=9842)
    lost = [e for e in trace if e["event"] == "frame-dropped" and e["device"] == "E105" and e["what"] == "WR"]
    assert lost, "a WR was lost with the storage"
    reissued = [e["t"] for e in trace if e["event"] == "reissued"]
    assert reissued and reissued[0] < 0.315, reissued
    _healed_duplex(net, runner)


@pytest.mark.parametrize("seed", [3243, 5001, 9577, 9842])
def test_the_widened_seeds_resync_to_duplex(seed):
    assert run_case(random_case(seed)).problems == ()
