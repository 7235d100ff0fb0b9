"""The widened fuzzer's end expectations (issue 12): a pair is demanded Duplex after heal-all
and resync-all only where a healthy configuration comes back Duplex. The target edge reflects
an order group's entries one after the other (2003-2005), so a copy over a slow target storage
link outlasts the source storage's command timeout for the Duplex transition, which then ends
in failure Suspend as the README says."""

from __future__ import annotations

from rcnlab.fuzz.gen import Case, TopoParams, Workload, random_case, run_case, scenario_toml, slow_copies

SLOW = (("E2-S12", "latency_ms", 12.5),)  # a 2,500 km FC attachment of the target storage: 25 ms a round trip


def _case(topo: TopoParams, writes: int = 400) -> Case:
    return Case(topo=topo, workloads=tuple(Workload(volume=src, rate=1000.0, count=writes) for src, _, _ in topo.pairs),
                faults=())


def _duplex_demanded(case: Case) -> int:
    return scenario_toml(case).count('state = "Duplex"')


def test_a_copy_slower_than_the_command_timeout_is_not_demanded_duplex() -> None:
    case = _case(TopoParams(blocks=256, knobs=SLOW))  # 256 blocks at 25 ms each: 6.4 s > 2 s
    assert slow_copies(case) == {0}
    assert _duplex_demanded(case) == 0


def test_a_copy_that_fits_the_command_timeout_is_demanded_duplex() -> None:
    assert _duplex_demanded(_case(TopoParams(blocks=64, knobs=SLOW))) == 1  # 1.6 s < 2 s
    assert _duplex_demanded(_case(TopoParams(blocks=4096, knobs=SLOW), writes=20)) == 1  # only 20 blocks to copy
    assert _duplex_demanded(_case(TopoParams(blocks=4096))) == 1  # default FC latency: 8 ms


def test_a_short_command_timeout_makes_the_same_copy_too_slow() -> None:
    case = _case(TopoParams(blocks=64, knobs=(*SLOW, ("S11", "command_timeout_ms", 500.0))))
    assert slow_copies(case) == {0}


def test_pairs_sharing_an_order_id_wait_for_each_other() -> None:
    both = (*SLOW, ("E2-S22", "latency_ms", 12.5))
    assert slow_copies(_case(TopoParams(customers=2, blocks=48, order_method="A-2", knobs=SLOW))) == set()
    assert slow_copies(_case(TopoParams(customers=2, blocks=48, order_method="A-2", knobs=both))) == {0, 1}
    assert slow_copies(_case(TopoParams(customers=2, blocks=48, order_method="A-1", knobs=both))) == set()


def test_seed_630_ends_as_documented() -> None:
    # No fault at all: S21's 500 ms command timeout and its target's 12.5 ms link; the fuzzer
    # used to demand Duplex and report an expectation failure.
    assert run_case(random_case(630)).problems == ()


def test_a_copy_through_a_narrow_link_is_not_demanded_duplex() -> None:
    narrow = (("lab", "block_size", 4096), ("E1-K1", "bandwidth_mbps", 1.0))  # 4144 bytes an entry: 33 ms at 1 Mbps
    assert slow_copies(_case(TopoParams(cores=1, blocks=64, knobs=narrow))) == {0}  # 2.1 s
    assert slow_copies(_case(TopoParams(cores=1, blocks=48, knobs=narrow))) == set()  # 1.6 s
    # in a mesh the management server may route round the narrow link: Duplex is still demanded
    mesh = (("lab", "block_size", 4096), ("K1-K2", "bandwidth_mbps", 1.0))
    assert slow_copies(_case(TopoParams(cores=2, shape="mesh", blocks=64, knobs=mesh))) == set()
