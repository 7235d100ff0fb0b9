"""Issue 12: the widened fuzz seeds that still failed after the first fixes (of 1,000), each
held here. Seeds 89, 127, 144, 188, 510, 780, 956 and 962 (entries queued at the target
edge counted as lost) are tests/test_resend.py."""

from __future__ import annotations

import attrs
import pytest

from rcnlab.fuzz.gen import (
    Case,
    Step,
    TopoParams,
    Workload,
    random_case,
    run_case,
    _quiet,
    slow_copies,
)


def test_a_mesh_copy_over_the_slow_link_of_its_route_is_not_demanded_duplex() -> None:
    """Seeds 419 and 928: a three-core mesh routes E1-K2-E2 (the fewest cores), so a
    1 Mbit/s K2-E2 carries the copy; 100 blocks of 4 KiB take over 3 s there, past the 2 s
    command timeout of the Duplex transition. The generator must not expect Duplex."""
    topo = TopoParams(cores=3, shape="mesh", blocks=4096,
                      knobs=(("lab", "block_size", 4096), ("K2-E2", "bandwidth_mbps", 1.0)))
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=4000.0, count=100),), faults=())
    assert slow_copies(case) == {0}
    off_route = attrs.evolve(topo, knobs=(("lab", "block_size", 4096), ("K1-K2", "bandwidth_mbps", 1.0)))
    fast = Case(topo=off_route, workloads=case.workloads, faults=())
    assert slow_copies(fast) == set()  # K1-K2 is off the route


def test_a_late_resync_made_before_the_source_edge_gave_up_is_void_at_the_target() -> None:
    """Seeds 747 and 828: a RESYNC entry, slow on its way, reached the target edge after the
    source edge had given up on its group (908), and started a resync there (Duplex-Pending)
    that the source side never would: ``agreement`` failed. The failure report carries the
    group's creation counter; the target edge refuses older entries."""
    for seed in (747, 828, 1937):  # 1937: the RESYNC was at the target storage already; its DPOK came after
        assert run_case(random_case(seed)).problems == ()


def test_a_pair_whose_entries_are_given_up_before_any_answer_is_not_demanded_duplex() -> None:
    """Seed 1380: E1 resends every 5 ms and gives up after 5 resends (30 ms), but an entry's
    answer takes over 45 ms (a core batching 10 ms each way, a target storage 12.5 ms away):
    no pair can be created (``rcnlab check`` warns), so none is expected Duplex."""
    knobs = (("K1", "batch_wait_ms", 10.0), ("E2-S12", "latency_ms", 12.5))
    case = Case(topo=TopoParams(cores=1, knobs=(("E1", "resend_timeout_ms", 5.0), *knobs)),
                workloads=(Workload(volume="S11:0", rate=200.0, count=20),), faults=())
    assert slow_copies(case) == {0}
    assert slow_copies(attrs.evolve(case, topo=TopoParams(cores=1, knobs=knobs))) == set()


def test_a_resync_whose_dpok_is_lost_on_the_fc_link_does_not_go_on_at_the_edges() -> None:
    """Seed 1569: the DPOK of a resync was lost on a lossy FC link between the source edge
    and its storage; the storage timed out (still failure Suspend) while both edges and the
    target storage went on Duplex-Pending: ``agreement`` failed. The storage now tells its
    edge the pair failed, and the RCN stops the resync."""
    assert run_case(random_case(1569)).problems == ()


def test_a_failover_is_not_demanded_when_the_target_storage_gives_up_before_the_edge() -> None:
    """Seed 1484: S22's command timeout (500 ms) is shorter than E2's failover timer 1306
    (1 s); the SOK, late behind a backlog on a 1 Mbit/s link, came after the storage had
    ended the failover in failure Suspend. The generator must not say it must complete."""
    case = random_case(1484)
    assert not [s for s in case.faults if s.do == "failover" and s.succeed]
    assert run_case(case).problems == ()


def test_copies_that_share_a_slow_route_are_judged_together() -> None:
    """Seed 1586: customer 1 copies 20 blocks of 4 KiB, customer 2 256, both over one
    1 Mbit/s link; alone the first copy takes 0.7 s, behind the other it outlasts the 2 s
    command timeout. Neither is expected Duplex."""
    topo = TopoParams(cores=1, customers=2, modes=("sync",), blocks=256,
                      knobs=(("lab", "block_size", 4096), ("E1-K1", "bandwidth_mbps", 1.0)))
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=1000.0, count=20),
                                      Workload(volume="S21:0", rate=1000.0, count=400)), faults=())
    assert slow_copies(case) == {0, 1}
    assert slow_copies(attrs.evolve(case, workloads=case.workloads[:1])) == set()


def test_pairs_are_not_demanded_duplex_while_live_writes_still_fill_the_route() -> None:
    """Seed 8975: two sync pairs write 800 blocks over a 1 Mbit/s E1-K1, with 1 % loss on
    K1-K2; behind each lost entry the ones the target edge holds are resent too, and the link
    stays busy past the last resync (to 7.7 s). Another customer's creations, given at
    0.9 s and again at each resync, never had their ICOK within 2 s. No pair is demanded
    Duplex; without the loss the writes drain in 4 s, before the last resync, and with no
    fault step no command waits behind them."""
    knobs = (("E1-K1", "bandwidth_mbps", 1.0), ("K1-K2", "loss", 0.01))
    crash = (Step(at=1.0, do="crash", args=(("device", "E2"),)), Step(at=1.1, do="restart", args=(("device", "E2"),)))
    case = Case(topo=TopoParams(cores=3, volumes=2, blocks=64, knobs=knobs),
                workloads=(Workload(volume="S11:0", rate=200.0, count=400),
                           Workload(volume="S11:1", rate=1000.0, count=400)), faults=crash)
    assert slow_copies(case) == {0, 1}
    assert slow_copies(attrs.evolve(case, faults=())) == set()
    assert slow_copies(attrs.evolve(case, topo=TopoParams(cores=3, volumes=2, blocks=64, knobs=knobs[:1]))) == set()
    assert run_case(random_case(8975)).problems == ()


def test_a_creation_that_failed_frees_its_place_in_the_contract() -> None:
    """Seed 3791: the first pair's creation failed (908: E1, its log volatile, crashed before
    the ICOK), so a creation the fuzzer drew to be refused for max_pairs 1 was accepted and
    the pair reached Duplex, as it should: neither the note nor the Simplex expectation
    after it is owed."""
    case = random_case(3791)
    assert any("max_pairs" in s.refuse for s in case.faults)
    assert run_case(case).problems == ()


def test_a_command_behind_the_writes_on_a_slow_host_link_is_not_demanded_duplex() -> None:
    """The deep hypothesis profile: 2,000 writes of 4 KiB at once on a 10 Mbit/s SCSI link
    between host and source storage take 6.5 s to cross; the suspend given at 0.02 s waits
    behind them and took effect at 6.7 s, after the last resync of the recovery. The pair ends
    Suspend, rightly: the generator must not demand Duplex. The same holds for the storages'
    FC links; with the links at their defaults the writes are through in a fraction of it."""
    suspend = (Step(at=0.02, do="suspend", args=(("volume", "S11:0"),)),)
    writes = (Workload(volume="S11:0", rate=100000.0, count=2000),)
    for link in ("H11-S11", "S11-E1", "E2-S12"):
        topo = TopoParams(cores=1, modes=("sync",), blocks=64,
                          knobs=(("lab", "block_size", 4096), (link, "bandwidth_mbps", 10.0)))
        assert slow_copies(Case(topo=topo, workloads=writes, faults=suspend)) == {0}, link
        assert slow_copies(Case(topo=topo, workloads=writes, faults=())) == set(), link  # no command after the first
    fast = TopoParams(cores=1, modes=("sync",), blocks=64, knobs=(("lab", "block_size", 4096),))
    assert slow_copies(Case(topo=fast, workloads=writes, faults=suspend)) == set()


#: The deep profile's lab: two customers, E1 and E2 joined directly, 5 ms resends at both
#: edges, a lossy 10 Mbit/s FC link from S11 (a WR lost there makes E1 give up, 908) and S12
#: 12.5 ms away from E2.
FAR_TARGET = (
    ("lab", "block_size", 4096), ("management", "name", "M9"), ("C1", "edges", ["E1", "E2"]),
    ("C1", "max_storages", 3), ("C1", "name", 'Customer "one"'), ("C2", "edges", ["E1", "E2"]),
    ("C2", "max_storages", 3), ("C2", "name", 'Customer "one"'), ("E1", "resend_timeout_ms", 5.0),
    ("E1", "suspend_timeout_ms", 100.0), ("E1", "reorder_window", 4), ("E1", "log_policy", "throttle"),
    ("E2", "resend_timeout_ms", 5.0), ("S11", "command_timeout_ms", 500.0), ("S11", "path_timeout_ms", 35.0),
    ("S12", "copy_rate", 200.0), ("S12", "command_timeout_ms", 500.0), ("S12", "path_timeout_ms", 35.0),
    ("S21", "command_timeout_ms", 500.0), ("S22", "command_timeout_ms", 500.0), ("E1-E2", "loss", 0.001),
    ("H11-S11", "jitter_ms", 0.05), ("H11-S11", "loss", 0.001), ("H11-S11", "bandwidth_mbps", 10.0),
    ("H11-S11", "latency_ms", 0.5), ("H11-S11", "mtu", 256), ("S11-E1", "loss", 0.01),
    ("S11-E1", "bandwidth_mbps", 10.0), ("S11-E1", "latency_ms", 0.5), ("S11-E1", "mtu", 256),
    ("E2-S12", "jitter_ms", 0.05), ("E2-S12", "loss", 0.001), ("E2-S12", "bandwidth_mbps", 10.0),
    ("E2-S12", "latency_ms", 12.5), ("E2-S12", "mtu", 256), ("H12-S12", "jitter_ms", 0.05),
    ("H12-S12", "loss", 0.001), ("H12-S12", "bandwidth_mbps", 10.0), ("H12-S12", "latency_ms", 0.5),
    ("H12-S12", "mtu", 256), ("H21-S21", "loss", 0.001), ("H21-S21", "bandwidth_mbps", 10.0),
    ("H21-S21", "mtu", 256), ("S21-E1", "bandwidth_mbps", 10.0), ("S21-E1", "latency_ms", 0.5),
    ("S21-E1", "mtu", 256), ("E2-S22", "bandwidth_mbps", 10.0), ("E2-S22", "mtu", 256),
    ("H22-S22", "jitter_ms", 0.05), ("H22-S22", "bandwidth_mbps", 10.0), ("H22-S22", "latency_ms", 0.5),
    ("H22-S22", "mtu", 256), ("H11", "auto_failover", True))


def test_a_rebase_waits_for_a_wr_still_on_its_way_to_a_far_target_storage() -> None:
    """The deep hypothesis profile (no fault step at all): E2 issued a copy WR again to S12,
    12.5 ms away, and 10 ms later a rebasing entry came (E1 had given up on the group, 908,
    and the resync's Duplex transition started afresh). E2 took the WR for lost after its
    own 5 ms resend timeout and rebased; the WR landed at S12 after it (``write_order``: seq
    7 reflected after 15). The target edge now waits for the storage's round trip before it
    counts a WR in progress as lost."""
    topo = TopoParams(cores=0, shape="chain", customers=2, volumes=1, modes=("sync", "sync"), order_method="A-1",
                      durable=False, batch_wait_ms=0.0, distance_km=20.0, jitter_ms=0.0, blocks=64, attach="fc",
                      order_groups="pair", runtime_order=False, virtual_wwn=True, knobs=FAR_TARGET)
    case = Case(topo=topo,
                workloads=(Workload(volume="S11:0", rate=200.0, count=20, at=0.0),
                           Workload(volume="S21:0", rate=200.0, count=20, at=0.0)), faults=(), seed=0)
    assert run_case(case).problems == ()


def test_a_short_crash_is_not_claimed_harmless_with_a_small_log_or_a_lossy_storage_link() -> None:
    """The deep hypothesis profile: E1's durable log storage area of 64 KiB (15 entries of
    4 KiB) filled 45 ms after a crash of 1 ms, from the WRs the 10 Mbit/s link from S11 still
    carried though E1 had asked S11 to hold its writes, and E1 gave up (908: log storage area
    full). The generator claimed the crash must leave every pair as it was. It claims that
    only of a log of the default size, with no loss on a link between the edge and a storage."""
    crash = [Step(at=0.02, do="crash", args=(("device", "E1"),)), Step(at=0.021, do="restart", args=(("device", "E1"),))]
    durable = (("E1", "log_durable", True),)
    assert all(s.succeed for s in _quiet(crash, [], TopoParams(knobs=durable)) if s.do == "crash")
    for knobs in ((("E1", "log_capacity", 1 << 16),), (("S11-E1", "loss", 0.001),)):
        assert not any(s.succeed for s in _quiet(crash, [], TopoParams(knobs=durable + knobs))), knobs
    assert not any(s.succeed for s in _quiet(crash, [], TopoParams(knobs=(("E1", "log_durable", False),))))


def test_a_delete_at_the_target_while_the_source_is_down_leaves_no_half_pair() -> None:
    """The deep hypothesis profile (2026-12-01): the target host deletes the pair at S12 while
    S11 is down (the README: the delete then goes to the target storage alone). S12 goes
    Simplex, but E2 refused the delete ('no request of that kind is being reflected'), and
    S11 and both edges kept the pair; every resync after was refused ('not paired') and
    ``agreement`` broke. Now the target edge forgets the pair too, the source side learns it
    is broken (failure Suspend, 908), and the fuzzer's recovery deletes it at the source and
    creates it again (tests/test_recovery.py has the user's flow)."""
    faults = (Step(at=0.02, do="crash", args=(("device", "S11"),)), Step(at=0.03, do="restart", args=(("device", "S11"),)),
              Step(at=0.02, do="delete-pair", args=(("volume", "S12:0"), ("host", "H12"))))
    case = Case(topo=TopoParams(cores=0, modes=("sync",), blocks=64),
                workloads=(Workload(volume="S11:0", rate=200.0, count=20, at=0.0),), faults=faults, seed=0)
    assert run_case(case).problems == ()


def test_writes_refused_at_a_target_deleted_alone_take_their_turn_in_the_order() -> None:
    """The deep hypothesis profile (2026-12-01, after the fix above): the source deletes the
    pair, its DELETE entry slow on a 1 Mbit/s core link; the target host deletes it too, at
    S12 alone. The WRs still on their way reached S12, which refused them (not the target
    of a pair any more), then the pair was created again and its copy reflected: the
    write_order checker called the copy out of order, before the refused WRs. They took
    their turn, applied nowhere; the checker now counts them so."""
    faults = (Step(at=0.39, do="delete-pair", args=(("volume", "S12:0"), ("host", "H12"))),
              Step(at=0.205, do="delete-pair", args=(("volume", "S11:0"), ("host", "H11"))))
    topo = TopoParams(cores=3, shape="chain", customers=2, modes=("sync", "sync"), durable=True, blocks=64,
                      knobs=(("lab", "block_size", 4096), ("K3-E2", "bandwidth_mbps", 1.0)))
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=200.0, count=10, at=0.0),
                                      Workload(volume="S21:0", rate=200.0, count=10, at=0.0)), faults=faults, seed=0)
    assert run_case(case).problems == ()


def test_a_creation_timed_out_while_its_source_storage_was_down_leaves_no_pair_waiting() -> None:
    """The deep hypothesis profile (2026-12-01): E1 gave up on the creation (5 ms resends,
    S12 12.5 ms away) at the moment S11 crashed; S11's command timeout passed while it was
    down, and back, it held the creation (Simplex, waiting for ICOK) for ever while S12
    stood Initial-Copying: the fuzzer's recovery could neither resync nor create it again,
    and ``agreement`` broke. The creation now fails at restart."""
    faults = (Step(at=0.02, do="crash", args=(("device", "S11"),)), Step(at=0.62, do="restart", args=(("device", "S11"),)))
    topo = TopoParams(cores=0, modes=("sync",), blocks=64,
                      knobs=(("E1", "resend_timeout_ms", 5.0), ("E1", "resend_limit", 3),
                             ("S11", "command_timeout_ms", 500.0), ("E2-S12", "latency_ms", 12.5)))
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=200.0, count=20, at=0.0),), faults=faults, seed=0)
    assert run_case(case).problems == ()


def test_a_failback_right_after_a_prompt_failover_over_a_one_way_cut_keeps_the_volumes_equal() -> None:
    """The deep hypothesis profile (2026-12-01, first envelope): a prompt failover of S22:0 at
    20 ms while K1>E2 is cut, then a failback with swap_back at 205 ms; four synchronous pairs
    with writes. S21 (the old source, written while suspended) turned into the target and
    handed its marked blocks, with E1's 727, to a DPOK that was lost over the cut; both were
    emptied as they left, so the next resync copied nothing back and the pair went Duplex with
    S21:0 and S22:0 different in 6 blocks (``nothing_lost``, ``convergence``). Both now stay
    marked until Duplex, as for a plain resync."""
    faults = (Step(at=0.205, do="failback", args=(("volume", "S22:0"), ("swap_back", True))),
              Step(at=0.02, do="failover", args=(("volume", "S22:0"), ("prompt", True))),
              Step(at=0.02, do="fail", args=(("link", "K1-E2"), ("direction", "K1>E2"))))
    topo = TopoParams(cores=1, customers=2, volumes=2, modes=("sync",) * 4, durable=True, blocks=64)
    case = Case(topo=topo, workloads=tuple(Workload(volume=v, rate=200.0, count=10, at=0.0)
                                           for v in ("S11:0", "S11:1", "S21:0", "S21:1")), faults=faults, seed=0)
    assert run_case(case).problems == ()


def test_method_b_reuses_an_order_id_whose_pair_is_gone() -> None:
    """The deep hypothesis profile (2026-12-01, widened; shrunk): order ID 1 (method B) given
    to S11:0>S12:0, whose creation fails (E1 gives up, 5 ms resends); S12:1>S11:1 (edge pair
    E2>E1) is then created with order ID 1. The first pair is gone at its source, so the ID
    is free and the creation accepted, and E2 numbers the new sequence from 1: the fuzzer
    claimed a refusal (it no longer does once a creation failed before, nor expects the first
    pair back: its ID is taken), and ``write_order``, which keyed entries by order ID alone,
    saw seq 1 of order 1 created at both E1 and E2 (it now keys a sequence by order ID and
    target edge)."""
    topo = TopoParams(cores=2, modes=("async",), order_method="B", durable=True, jitter_ms=1.0, blocks=4096,
                      order_groups="pair", runtime_order=True, spare=True,
                      knobs=(("E1", "resend_timeout_ms", 5.0), ("K1", "batch_wait_ms", 10.0), ("K1-K2", "loss", 0.01),
                             ("C1", "contract", "later")))
    faults = (Step(at=1.315, do="pair-create", args=(("source", "S12:1"), ("target", "S11:1"), ("mode", "sync"),
                                                     ("order_id", 1), ("host", "H12")),
                   refuse="order ID 1 belongs to pairs of edge pair E1>E2"),
              Step(at=0.0, do="contract", args=(("customer", "C1"),)),
              Step(at=0.0, do="configure-customer", args=(("customer", "C1"),)),
              Step(at=0.0, do="pair-create", args=(("source", "S11:0"), ("target", "S12:0"), ("mode", "async"),
                                                   ("order_id", 1))))
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=1000.0, count=10, at=0.2),), faults=faults,
                seed=6345)
    assert run_case(case).problems == ()



def test_a_short_crash_behind_a_backlog_longer_than_the_command_timeout_is_owed_nothing():
    """The deep hypothesis profile (2026-12-01, widened; shrunk): E2 (durable) down 1 ms while
    two synchronous pairs write 4 KiB blocks over a 1 Mbit/s route: what the crash lost is
    resent behind 0.7 s of queued writes, the Duplex transition's DOK comes after S11's 500 ms
    command timeout, and the pairs go to failure Suspend, by design. The fuzzer no longer
    claims that nothing fails there; with the default 2 s timeout it still does, and holds."""
    knobs = (("lab", "block_size", 4096), ("E1-E2", "bandwidth_mbps", 1.0))
    topo = TopoParams(cores=0, volumes=2, modes=("sync", "sync"), durable=True, blocks=64, knobs=knobs)
    workloads = (Workload(volume="S11:0", rate=200.0, count=10, at=0.0),
                 Workload(volume="S11:1", rate=200.0, count=10, at=0.0))
    crash = [Step(at=0.02, do="crash", args=(("device", "E2"),)), Step(at=0.021, do="restart", args=(("device", "E2"),))]
    tight = attrs.evolve(topo, knobs=(*knobs, ("S11", "command_timeout_ms", 500.0)))
    assert [s.succeed for s in _quiet(crash, [], tight, workloads)] == ["", ""]
    claimed = _quiet(crash, [], topo, workloads)
    assert claimed[0].succeed.startswith("an edge with a durable log")
    assert run_case(Case(topo=topo, workloads=workloads, faults=tuple(claimed), seed=0)).problems == ()


def test_a_creation_given_to_a_storage_that_is_down_fails_and_is_taken_when_given_again():
    """The deep hypothesis profile (2026-12-01, widened; shrunk): the customer is configured
    and its pair created at 20 ms, the moment S11 crashes (back at 30 ms). The creation
    reached S11 down and was never answered; held as "on its way", it refused the creation
    given again after the heal ("S11:0 is already the source of pair S11:0>S12:0"), and the
    pair was never made. The host now hears at once that S11 was down."""
    contract = (("customer", "C1"), ("max_storages", 2), ("edges", []), ("max_pairs", 2))
    create = (("source", "S11:0"), ("target", "S12:0"), ("mode", "sync"))
    faults = (Step(at=0.02, do="crash", args=(("device", "S11"),)), Step(at=0.03, do="restart", args=(("device", "S11"),)),
              Step(at=0.0, do="contract", args=contract), Step(at=0.02, do="configure-customer", args=contract[:1]),
              Step(at=0.02, do="pair-create", args=create), Step(at=2.1, do="pair-create", args=create))
    topo = TopoParams(cores=0, modes=("sync",), durable=True, blocks=64, knobs=(("C1", "contract", "later"),))
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=200.0, count=10, at=0.0),), faults=faults, seed=0)
    assert run_case(case).problems == ()


def test_the_old_sources_resync_given_with_the_failback_leaves_the_turned_pair_alone():
    """The deep hypothesis profile (2026-12-01, first envelope; shrunk): after a prompt
    failover the operator resyncs at S11 (the old source) at the moment S12 fails back,
    E2 down for 10 ms; the failback's swap is lost, the resync is not. S12, holding the pair
    turned round (its source now), ran the old direction's resync to Duplex, while S11 held it
    Duplex the old way round: two sources, and acknowledged writes on neither side's target.
    S12 now refuses the old direction's commands in one line; the failback, given again by
    the next resync, goes through."""
    faults = (Step(at=0.945, do="resync", args=(("volume", "S11:0"),)),
              Step(at=0.945, do="crash", args=(("device", "E2"),)),
              Step(at=0.955, do="restart", args=(("device", "E2"),)),
              Step(at=0.945, do="failback", args=(("volume", "S12:0"), ("swap_back", True))),
              Step(at=0.02, do="failover", args=(("volume", "S12:0"), ("prompt", True))))
    topo = TopoParams(cores=0, modes=("sync",), durable=True, blocks=64)
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=200.0, count=10, at=0.0),), faults=faults, seed=0)
    assert run_case(case).problems == ()


def test_a_durable_edge_back_from_a_short_crash_gets_each_missed_write_once_in_order():
    """The deep hypothesis profile (2026-12-01, widened; shrunk, twice): E1 down 1 ms; S11
    sends it again the WRs it never took (4 KiB each over a 10 Mbit/s link, 3.4 ms apiece),
    but timed them from their first departure: the last ones passed the 20 ms path timeout
    waiting behind the others, and the pair failed (908). Timed from the resend, the next
    deep run found what that had hidden: WRs still queued on the link reached the restarted
    E1 ahead of the resends of older ones lost in the crash, and S12 took older data over
    newer (``host_order``). What is on its way to a port that goes dark is lost now, and each
    WR is sent again once, in order."""
    knobs = (("lab", "block_size", 4096), ("S11-E1", "bandwidth_mbps", 10.0))
    crash = (Step(at=0.02, do="crash", args=(("device", "E1"),)), Step(at=0.021, do="restart", args=(("device", "E1"),)))
    topo = TopoParams(cores=0, modes=("sync",), durable=True, blocks=64, knobs=knobs)
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=1000.0, count=20, at=0.0),),
                faults=tuple(_quiet(list(crash), [], topo)), seed=0)
    assert case.faults[0].succeed  # the fuzzer claims it: no pair fails
    assert run_case(case).problems == ()


def test_a_throttled_small_log_is_never_filled_by_writes_already_on_the_link():
    """The deep hypothesis profile (2026-12-01, widened; shrunk), no fault at all: 1,000
    synchronous writes a second of 4 KiB into E1's 64 KiB log, over 10 Mbit/s storage links.
    S11 sent every host write on at once; they queued on its link, and after E1's throttle
    notice they kept arriving until 413 was full and the pair failed (908). A storage now has
    at most its window of WRs on their way to the edge; the rest wait, the host sees latency."""
    knobs = (("lab", "block_size", 4096), ("E1", "log_capacity", 65536), ("S11-E1", "bandwidth_mbps", 10.0),
             ("E2-S12", "bandwidth_mbps", 10.0))
    topo = TopoParams(cores=0, modes=("sync",), durable=True, blocks=64, knobs=knobs)
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=1000.0, count=2000, at=0.0),), faults=(), seed=0)
    assert run_case(case).problems == ()


#: Short crashes of durable E1 that the fuzzer claimed fail no pair, found failing by the deep
#: profile (2026-12-01, widened; shrunk), where they may by design: 1 % loss on E2-S12 in
#: 256-byte frames (a WR lost there waits for E2 to issue it again, and E1's 5 ms x 3 resends
#: of the burst it sends again at restart ran out first); a target storage 12.5 ms from E2
#: against the same resends (an entry is given up before its answer can come back at all:
#: what E1 holds at restart counts as sent long ago, 908 at once).
SHORT_CRASH_OWED_NOTHING = {
    "loss-on-the-target-storages-link": (("lab", "block_size", 4096), ("E1", "resend_timeout_ms", 5.0),
                                         ("E1", "resend_limit", 3), ("E2-S12", "loss", 0.01),
                                         ("E2-S12", "bandwidth_mbps", 10.0), ("E2-S12", "mtu", 256)),
    "given-up-before-an-answer-can-come": (("E1", "resend_timeout_ms", 5.0), ("E1", "resend_limit", 3),
                                           ("E2-S12", "latency_ms", 12.5)),
}


@pytest.mark.parametrize("knobs", SHORT_CRASH_OWED_NOTHING.values(), ids=SHORT_CRASH_OWED_NOTHING.keys())
def test_a_short_crash_the_fuzzer_no_longer_claims_loses_nothing_where_it_may(knobs) -> None:
    topo = TopoParams(cores=0, modes=("sync",), durable=True, blocks=64, knobs=knobs)
    crash = [Step(at=0.02, do="crash", args=(("device", "E1"),)), Step(at=0.021, do="restart", args=(("device", "E1"),))]
    workloads = (Workload(volume="S11:0", rate=200.0, count=10, at=0.0),)
    steps = _quiet(crash, [], topo, workloads)
    assert [s.succeed for s in steps] == ["", ""]
    assert run_case(Case(topo=topo, workloads=workloads, faults=tuple(steps), seed=0)).problems == ()


def test_a_short_crash_before_a_copy_too_slow_for_the_command_timeout_is_owed_nothing():
    """The deep hypothesis profile (2026-12-01, widened): E1 (durable) down 1 ms; 100 writes of
    4 KiB reflected one by one to a target storage 12.5 ms from E2 take far longer than S11's
    500 ms command timeout, and the Duplex transition's DOK came after it (908), as
    `slow_copies` knows. The fuzzer claimed that nothing fails there; it no longer does."""
    knobs = (("lab", "block_size", 4096), ("S11", "command_timeout_ms", 500.0), ("E2-S12", "latency_ms", 12.5))
    topo = TopoParams(cores=0, modes=("sync",), durable=True, blocks=64, knobs=knobs)
    crash = [Step(at=0.02, do="crash", args=(("device", "E1"),)), Step(at=0.021, do="restart", args=(("device", "E1"),))]
    workloads = (Workload(volume="S11:0", rate=1000.0, count=100, at=0.0),)
    assert slow_copies(Case(topo=topo, workloads=workloads, faults=tuple(crash), seed=0)) == {0}
    assert [s.succeed for s in _quiet(crash, [], topo, workloads)] == ["", ""]
