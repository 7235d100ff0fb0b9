"""Issue 12: the widened fuzz seeds that still failed after the first fixes (of 1,000), each
held here. Seeds 89, 127, 144, 188, 510, 780, 956 and 962 (entries queued at the target
edge counted as lost) are tests/test_resend.py."""

from __future__ import annotations

import attrs

from rcnlab.fuzz.gen import Case, TopoParams, Workload, random_case, run_case, slow_copies


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
    for seed in (747, 828):
        assert run_case(random_case(seed)).problems == ()
