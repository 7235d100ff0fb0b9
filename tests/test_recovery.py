"""Recovery (issue 3): planned Suspend, resync, failover (both variants), failback, delete."""

from __future__ import annotations

from collections import defaultdict

import pytest

from helpers import TOPOLOGIES, pair_and_writes, run, steps_of, topology
from rcnlab.catalogue import missing, not_in_order
from rcnlab.summary import summarize

FS = "failure Suspend"


def scenario_file(name):
    return (TOPOLOGIES / "scenarios" / f"{name}.toml").read_text()


def events(trace, name):
    return [e for e in trace if e["event"] == name]


def states(runner, volume):
    storage, pair = runner.lab.pair_of(volume)
    return {k: str(v) for k, v in runner.lab.states(storage, pair).items()}


def assert_prefix_consistent(trace, until=float("inf")):
    """Reflected sequence numbers are exactly the WR entries 1..k of each order group
    (other kinds take numbers too), with the blocks and data of the entries created."""
    created = defaultdict(dict)
    for e in events(trace, "log-created"):
        if e["device"] == "E104" and e["kind"] == "WR":
            created[e["order_id"]][e["seq"]] = (e["block"], e["data_digest"])
    reflected = defaultdict(dict)
    for e in events(trace, "reflected"):
        if e["t"] <= until:
            reflected[e["order_id"]][e["seq"]] = (e["block"], e["data_digest"])
    for oid, got in reflected.items():
        k = max(got)
        wanted = {seq: v for seq, v in created[oid].items() if seq <= k}
        assert got == wanted, f"order group {oid}: not the first {k} entries"
    return {oid: max(got) for oid, got in reflected.items()}


# -- site failure, failover (Fig. 13) --------------------------------------------------------------
@pytest.fixture(scope="module")
def site_failover():
    return run(topology("fig1"), scenario_file("site-failover"), seed=7)


def test_failover_after_a_site_failure_leaves_the_target_writable_in_failure_suspend(site_failover):
    net, runner, trace = site_failover
    assert runner.failed == [] and runner.refused == []
    assert set(states(runner, "ST112:0").values()) == {FS}
    target_writes = [e for e in events(trace, "write-acknowledged") if e["device"] == "H121"]
    assert len(target_writes) == 300
    assert net.devices["ST122"].pairs[0].takeover and len(net.devices["ST122"].pairs[0].bitmap) > 0


def test_the_target_volume_is_a_prefix_of_the_source_writes(site_failover):
    _, _, trace = site_failover
    done = events(trace, "application-restarted")[0]["t"]
    k = assert_prefix_consistent(trace, until=done)
    # every write that reached the target edge before the SOK is reflected
    sok = events(trace, "sok-received")[0]
    received = {e["seq"] for e in events(trace, "log-received") if e["kind"] == "WR" and e["t"] <= sok["t"]}
    reflected = {e["seq"] for e in events(trace, "reflected") if e["t"] <= done}
    assert received and received <= reflected and max(received) <= k[1]


def test_failover_trace_has_fig13_in_order_and_911(site_failover):
    """The operator fails over at once, before the management server can find the site
    failed (1301 needs its reports to stop for site_timeout): 1302-1312, no 1301."""
    _, _, trace = site_failover
    tags = steps_of(trace)
    assert missing(tags, "fig13") == ["fig13:1301"] and not_in_order(["fig13:1301", *tags], "fig13") is None
    assert "fig9:911" in tags
    assert [(e["by"], e["notified"]) for e in events(trace, "takeover-decided")] == [("operator", None)]


def test_prompt_failover_then_fetch_remaining_reflects_what_was_in_the_network():
    net, runner, trace = run(topology("fig1"), scenario_file("site-failover-prompt"), seed=7)
    assert runner.failed == [] and runner.refused == []
    fig13 = [t for t in steps_of(trace) if t.startswith("fig13")]
    fig13 = [t for i, t in enumerate(fig13) if i == 0 or fig13[i - 1] != t]
    assert fig13[:5] == ["fig13:1302", "fig13:1303", "fig13:1310", "fig13:1311", "fig13:1312"]
    # the prompt variant: 1310-1312 right after 1303
    fetched = events(trace, "remaining-fetched")[0]
    assert fetched["entries"] > 0
    finished = events(trace, "fetch-finished")[0]
    assert not finished["gap"]
    assert_prefix_consistent(trace)
    e104, e105 = net.devices["E104"], net.devices["E105"]
    assert e105.groups[1].reflected == e104.groups[1].created  # everything reached the target in the end


def test_fetch_remaining_is_refused_before_a_failover():
    net, runner, _ = run(topology("fig1"), '[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\n'
                         'target = "ST122:0"\n[[step]]\nat = 0.5\ndo = "fetch-remaining"\nvolume = "ST122:0"\n')
    assert len(runner.refused) == 1 and "fetch-remaining refused: pair is Duplex" in runner.refused[0]


# -- planned Suspend (910) and resync (Fig. 12) ----------------------------------------------------------
@pytest.fixture(scope="module")
def planned():
    return run(topology("fig1"), scenario_file("planned-suspend"), seed=7)


def test_planned_suspend_of_an_async_pair_goes_through_suspending(planned):
    net, runner, trace = planned
    assert runner.failed == [] and runner.refused == []
    changes = [(e["party"], e["old"], e["new"]) for e in events(trace, "pair-state")]
    assert ("source_storage", "Duplex", "Suspending") in changes
    assert ("source_storage", "Suspending", "Suspend") in changes
    suspended_at = [e["t"] for e in events(trace, "pair-state") if e["party"] == "target_storage"
                    and e["new"] == "Suspend"][0]
    suspend_started = [e["t"] for e in events(trace, "pair-state") if e["new"] == "Suspending"][0]
    # what was in flight when Suspending began is reflected before the target suspends
    in_flight = {e["seq"] for e in events(trace, "log-created") if e["kind"] == "WR" and e["t"] <= suspend_started}
    reflected = {e["seq"] for e in events(trace, "reflected") if e["t"] <= suspended_at}
    assert in_flight <= reflected


def test_async_suspend_takes_the_target_parties_through_suspending_while_held_entries_reflect():
    """The patent has both storages pass through Suspending and reflect the entries held
    for the pair: the target edge and target storage go Suspending when the Suspend entry
    reaches the target edge with writes still ahead of it, and Suspend only once those
    writes are reflected."""
    slow = 'a = "E105"\nb = "ST122"\nkind = "fc"\n'  # a slow last hop: writes queue at the target edge
    net, runner, trace = run(topology("fig1", {slow: slow + "latency_ms = 0.4\n"}), pair_and_writes(
        "async", rate=2000, count=1000, blocks=4096) + '[[step]]\nat = 0.3\ndo = "suspend"\nvolume = "ST112:0"\n'
        '[[step]]\nat = "end"\ndo = "expect"\npair = "ST112:0"\nstate = "Suspend"\nremaining = 0\n', seed=7)
    assert runner.failed == [] and runner.refused == []
    changes = [(e["party"], e["old"], e["new"]) for e in events(trace, "pair-state")]
    for party in ("target_edge", "target_storage"):
        assert (party, "Duplex", "Suspending") in changes
        assert (party, "Suspending", "Suspend") in changes
    at = {(e["party"], e["new"]): e["t"] for e in events(trace, "pair-state")}
    began, ended = at[("target_storage", "Suspending")], at[("target_storage", "Suspend")]
    assert at[("target_edge", "Suspending")] <= began and at[("target_edge", "Suspend")] >= ended
    # entries were held for the pair when the target began Suspending, and were reflected before Suspend
    assert [e for e in events(trace, "reflected") if began < e["t"] <= ended]
    source_began = at[("source_storage", "Suspending")]
    in_flight = {e["seq"] for e in events(trace, "log-created") if e["kind"] == "WR" and e["t"] <= source_began}
    assert in_flight <= {e["seq"] for e in events(trace, "reflected") if e["t"] <= ended}
    assert not [e for e in events(trace, "reflected") if e["t"] > ended]
    assert_prefix_consistent(trace)


def test_resync_after_writes_on_both_sides_copies_exactly_the_union(planned):
    net, runner, trace = planned
    suspended = [e["t"] for e in events(trace, "pair-state") if e["new"] == "Suspend"][0]
    resync = events(trace, "resync-instructed")[0]["t"]
    source_blocks = {e["block"] for e in events(trace, "write-issued")
                     if e["device"] == "H111" and suspended - 0.01 < e["t"] < resync}
    target_blocks = {e["block"] for e in events(trace, "write-issued") if e["device"] == "H121"}
    merged = [e for e in events(trace, "bitmap-merged") if e["step"] == "fig12:1211"][0]
    s = summarize(net)
    assert merged["received"] == len(target_blocks)  # 1213 came back with DPOK
    assert s["differential_copied_blocks"] == merged["merged"]
    assert len(target_blocks) + merged["own"] - merged["merged"] == len(target_blocks & (source_blocks | set()))\
        or merged["merged"] <= merged["own"] + len(target_blocks)
    assert s["volumes"]["ST112:0"]["digest"] == s["volumes"]["ST122:0"]["digest"]
    assert set(states(runner, "ST112:0").values()) == {"Duplex"}
    tags = steps_of(trace)
    assert missing(tags, "fig12") == [] and not_in_order(tags, "fig12") is None
    assert tags.index("fig9:910") < tags.index("fig9:909")


def test_the_union_is_exact_on_a_small_example():
    text = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
[[step]]
at = 0.1
do = "suspend"
volume = "ST112:0"
""" + "".join(f'[[step]]\nat = 0.2\ndo = "write"\nvolume = "ST112:0"\nblock = {b}\n' for b in (1, 2, 3, 4)) + \
        "".join(f'[[step]]\nat = 0.2\ndo = "write"\nvolume = "ST122:0"\nblock = {b}\n' for b in (3, 4, 5)) + """
[[step]]
at = 0.3
do = "resync"
volume = "ST112:0"
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
"""
    net, runner, trace = run(topology("fig1"), text)
    assert runner.failed == []
    s = summarize(net)
    assert s["differential_copied_blocks"] == 5  # {1,2,3,4} | {3,4,5}
    copied = sorted(e["block"] for e in events(trace, "reflected") if e["copy"])
    assert copied == [1, 2, 3, 4, 5]


def test_sync_pair_planned_suspend_goes_straight_to_suspend():
    text = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "sync"
[[step]]
at = 0.1
do = "suspend"
volume = "ST112:0"
[[step]]
at = 0.2
do = "expect"
pair = "ST112:0"
state = "Suspend"
"""
    net, runner, trace = run(topology("fig1"), text)
    assert runner.failed == []
    assert not [e for e in events(trace, "pair-state") if e["new"] == "Suspending"]


# -- failback -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def failback():
    return run(topology("fig1"), scenario_file("failback"), seed=7)


def test_failback_reaches_duplex_reversed_with_equal_digests_copying_only_the_bitmaps(failback):
    net, runner, trace = failback
    assert runner.failed == [] and runner.refused == []
    reversed_duplex = [e for e in events(trace, "pair-state") if e["new"] == "Duplex" and
                       e["pair"].startswith("50:06:0e:80:00:00:01:22")]
    assert {e["party"] for e in reversed_duplex} == {"source_storage", "source_edge", "target_edge",
                                                      "target_storage"}
    copies = [e for e in events(trace, "copy-started") if e["copy"] == "differential"]
    first = copies[0]
    assert first["device"] == "ST122"  # the old target copies back
    target_writes = {e["block"] for e in events(trace, "write-issued") if e["device"] == "H121" and e["t"] < 2.0}
    stale = {e["block"] for e in events(trace, "write-issued") if e["device"] == "H111" and 1.5 <= e["t"] < 2.0}
    assert first["blocks"] == len(target_writes | stale)
    assert first["blocks"] < 200 + 20 + 1  # never a full copy


def test_failback_passes_the_expectations_then_swaps_back_and_deletes(failback):
    net, runner, trace = failback
    assert runner.passed == 3
    assert events(trace, "swapped-back")
    for s in net.storages:
        assert s.pairs == {}
    for e in net.edges:
        assert e.pairs == {}
    assert net.devices["ST112"].volumes[0].digest() == net.devices["ST122"].volumes[0].digest()


def test_failback_with_swap_back_in_one_command():
    # With the live checker: ST112's own writes from before the failover, rewritten on the
    # target host meanwhile and copied back, are superseded, not lost.
    import io
    import json

    from rcnlab.run import run_headless
    from rcnlab.scenario.steps import parse_scenario

    text = scenario_file("failback").split('[[step]]\nat = 3.0')[0].replace(
        'do = "failback"\nvolume = "ST122:0"', 'do = "failback"\nvolume = "ST122:0"\nswap_back = true') + """
[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
remaining = 0
"""
    topo = topology("fig1")
    out = io.StringIO()
    session = run_headless(topo, parse_scenario(text, "<test>", topo), seed=3, trace=out)
    net, runner = session.world, session.runner
    trace = [json.loads(line) for line in out.getvalue().splitlines()]
    assert runner.failed == [] and runner.refused == []
    assert events(trace, "swapped-back")
    assert runner.lab.pairs()[0]["source"] == "ST112:0"
    assert set(states(runner, "ST112:0").values()) == {"Duplex"}
    assert net.devices["ST112"].volumes[0].digest() == net.devices["ST122"].volumes[0].digest()


def test_delete_pair_goes_back_to_simplex_at_all_four_parties():
    text = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
[[step]]
at = 0.1
do = "delete-pair"
volume = "ST112:0"
"""
    net, runner, trace = run(topology("fig1"), text)
    assert runner.failed == [] and runner.refused == []
    assert {e["party"] for e in events(trace, "pair-state") if e["new"] == "Simplex"} == {
        "source_storage", "source_edge", "target_edge", "target_storage"}
    assert runner.lab.pairs() == [] and all(not e.pairs for e in net.edges)
    assert sum(e.log_entries for e in net.edges) == 0


PAIR_CREATED = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
"""

#: The pair is Duplex with writes flowing; the source storage goes down and the target's
#: host deletes the pair (the delete then goes to the target storage alone, like
#: ``pairsplit -R``); the source storage comes back.
DELETE_AT_TARGET = PAIR_CREATED + """
[[step]]
at = 0.2
do = "workload"
volume = "ST112:0"
rate = 500
count = 200
[[step]]
at = 0.4
do = "crash"
device = "ST112"
[[step]]
at = 0.45
do = "delete-pair"
volume = "ST122:0"
[[step]]
at = 0.5
do = "write"
volume = "ST122:0"
block = 7
data = "mine"
[[step]]
at = 1.5
do = "restart"
device = "ST112"
"""


def test_a_delete_at_the_target_while_the_source_storage_is_down_breaks_the_pair_at_the_source():
    # E105's FC link to ST122 at 5 Mbit/s: writes still wait at E105 when the delete comes
    slow = topology("fig1", edit={'a = "E105"\nb = "ST122"\nkind = "fc"\n':
                                  'a = "E105"\nb = "ST122"\nkind = "fc"\nbandwidth_mbps = 5\n'})
    net, runner, trace = run(slow, DELETE_AT_TARGET.replace("rate = 500\ncount = 200", "rate = 5000\ncount = 2000"), until=3.0)
    assert runner.failed == [] and runner.refused == []
    assert states(runner, "ST112:0") == {"source_storage": FS, "source_edge": FS, "target_edge": "Simplex",
                                         "target_storage": "Simplex"}
    assert {e["party"] for e in events(trace, "pair-state") if e["new"] == "Simplex"} == {
        "target_edge", "target_storage"}
    (told,) = [e for e in events(trace, "remote-copy-failed") if e["device"] == "E104"]
    assert "deleted at the target storage ST122" in told["reason"]
    # nothing of the old pair reaches the target volume after the delete: the host's write stays
    assert net.devices["ST122"].volumes[0].read(7).startswith(b"mine")
    deleted = next(e["t"] for e in events(trace, "pair-state") if e["new"] == "Simplex")
    assert not [e for e in events(trace, "reflected") if e["t"] > deleted]
    assert [e for e in events(trace, "rio-refused") if e["device"] == "ST122" and "not the target" in e["reason"]]
    assert all(info_key[0] != "E105" for info_key in net.management.pair_info)


@pytest.mark.parametrize("writes_after", [False, True], ids=["quiet", "writing"])
def test_a_delete_at_the_target_reaches_a_source_edge_that_was_down_when_it_was_told(writes_after):
    """E104 is down with its storage when the target host deletes the pair: the management
    server's notice is lost, and E104 came back with the pair Duplex against a target side
    that no longer held it (its host's writes acknowledged, refused at ST122). It is told
    again when it is back."""
    text = DELETE_AT_TARGET.replace('device = "ST112"\n[[step]]\nat = 0.45', 'device = "ST112"\n[[step]]\nat = 0.4\n'
                                    'do = "crash"\ndevice = "E104"\n[[step]]\nat = 0.45')
    text += '[[step]]\nat = 1.0\ndo = "restart"\ndevice = "E104"\n'
    if writes_after:
        text += '[[step]]\nat = 1.6\ndo = "workload"\nvolume = "ST112:0"\nrate = 500\ncount = 20\n'
    durable = topology("fig1", {"log_durable = false": "log_durable = true"})  # E104 keeps its pair Duplex
    net, runner, trace = run(durable, text, until=3.0)
    assert runner.failed == [] and runner.refused == []
    lost, again = [e["t"] for e in events(trace, "mgmt-sent") if e["to"] == "E104" and e["what"] == "failure Suspend"]
    assert lost < 1.0 <= again
    assert states(runner, "ST112:0") == {"source_storage": FS, "source_edge": FS, "target_edge": "Simplex",
                                         "target_storage": "Simplex"}
    assert len([e for e in events(trace, "remote-copy-failed") if e["device"] == "E104"]) == 1
    assert all(summarize(net)["invariants"].values()), summarize(net)["invariants"]


def test_after_a_delete_at_the_target_the_source_deletes_and_creates_the_pair_again():
    again = DELETE_AT_TARGET + """
[[step]]
at = 2.0
do = "resync"
volume = "ST112:0"
[[step]]
at = 3.0
do = "delete-pair"
volume = "ST112:0"
[[step]]
at = 3.5
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
"""
    net, runner, trace = run(topology("fig1"), again)
    assert runner.failed == [] and runner.refused == []
    (resync,) = runner.lab.failed_commands()  # answered at once by the target side, in one line
    assert resync.reason == "ST122:0 is not paired" and resync.answered - resync.issued < 0.1
    assert not [e for e in events(trace, "remote-copy-failed") if e["t"] > 2.0]  # the delete is answered
    assert set(states(runner, "ST112:0").values()) == {"Duplex"}
    assert net.devices["ST112"].volumes[0].digest() == net.devices["ST122"].volumes[0].digest()
    assert sum(e.log_entries for e in net.edges) == 0


def test_a_creation_whose_deadline_passed_while_the_source_storage_was_down_fails_at_restart():
    """The deep hypothesis profile: the source storage crashed while its pair creation
    waited for ICOK, and its command timeout passed while it was down. Back, it held the
    creation for ever (Simplex, waiting), so the half pair the target side registered could
    neither be resynced nor created again. Now the creation fails at restart, answered to
    the host; the operator deletes the half pair at the target and creates the pair again."""
    text = PAIR_CREATED + """
[[step]]
at = 0.001
do = "crash"
device = "ST112"
[[step]]
at = 3.0
do = "restart"
device = "ST112"
[[step]]
at = 3.5
do = "delete-pair"
volume = "ST122:0"
[[step]]
at = 4.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
"""
    net, runner, trace = run(topology("fig1"), text)
    assert runner.failed == [] and runner.refused == []
    (create,) = runner.lab.failed_commands()
    assert create.reason == "no ICOK from the RCN within 2 s" and create.answered == pytest.approx(3.0, abs=1e-3)
    assert set(states(runner, "ST112:0").values()) == {"Duplex"}


def test_a_failback_whose_swap_was_lost_is_repeated_by_the_next_resync():
    # Found by `rcnlab fuzz` (seed 183): with E105's way back to E104 cut, the failback's
    # resynchronize never reaches the old source side, which keeps the old direction. The
    # next resync (given at the new source) carries the swap again, and the pair turns.
    text = pair_and_writes(count=50) + """
[[step]]
at = 0.5
do = "fail"
link = "E104-C202"
direction = "C202>E104"

[[step]]
at = 0.6
do = "failover"
volume = "ST122:0"
prompt = true

[[step]]
at = 0.7
do = "failback"
volume = "ST122:0"

[[step]]
at = 3.0
do = "restore"
link = "E104-C202"

[[step]]
at = 3.1
do = "resync"
volume = "ST122:0"

[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
invariants = true
"""
    net, runner, trace = run(topology("fig1"), text, seed=3)
    assert runner.failed == [], runner.failed
    resyncs = [e for e in events(trace, "resync-requested") if e["device"] == "ST122"]
    assert resyncs and resyncs[-1]["swap"] is True  # the resync repeated the lost swap
    assert runner.lab.pairs()[0]["source"] == "ST122:0"  # reversed, all four parties agree
    assert set(states(runner, "ST112:0").values()) == set(states(runner, "ST122:0").values()) == {"Duplex"}


def test_a_pair_creation_whose_icok_was_lost_can_be_given_again():
    # Found by a deep hypothesis run: the FC link dropped ICOK on its way to the source
    # storage, which gave up after its command timeout (Simplex) while both edges and the
    # target kept the pair. Created again, it goes through: the edge takes the storage's word.
    text = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "async"

[[step]]
at = 0.0
do = "fail"
link = "ST112-E104"
direction = "E104>ST112"

[[step]]
at = 0.1
do = "restore"
link = "ST112-E104"

[[step]]
at = 3.0
do = "expect"
pair = "ST122:0"
state = "Initial-Copying"
party = "target_storage"

[[step]]
at = 3.0
do = "delete-pair"
volume = "ST122:0"

[[step]]
at = 3.5
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "async"

[[step]]
at = "end"
do = "expect"
pair = "ST112:0"
state = "Duplex"
equal = ["ST112:0", "ST122:0"]
invariants = true
"""
    net, runner, trace = run(topology("fig1"), text, seed=3)
    assert runner.failed == [] and runner.refused == [], (runner.failed, runner.refused)
    assert [e for e in events(trace, "command-timed-out") if e["device"] == "ST112"]
    assert set(states(runner, "ST112:0").values()) == {"Duplex"}
