"""The checkers of SPEC.md section 4: they hold on honest runs, and each one is
proven able to fail by planting the violation it exists to catch."""

from __future__ import annotations

import random

import pytest

from rcnlab.check.invariants import NAMES, Checker, check_all, check_nothing_lost, checker_of
from rcnlab.lab import Lab
from rcnlab.model.frames import FcFrame, header_checksum
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.kinds import CopyMode
from rcnlab.model.pair_state import PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.ops.commands import CreatePair, FailLink, Workload
from rcnlab.ops.registry import do
from rcnlab.run import same_trace
from rcnlab.scenario.steps import parse_scenario
from rcnlab.world import World
from tests.helpers import pair_and_writes, run, topology

JITTERY = {'distance_km = 300': 'distance_km = 300\njitter_ms = 3\nloss = 0.01'}


def step_until(net: World, t: float) -> None:
    while net.kernel.pending and net.kernel.next_time <= t:
        net.kernel.step()


def drain(net: World, bound: int = 2_000_000) -> None:
    steps = 0
    while not net.kernel.drained() and steps < bound:
        net.kernel.step()
        steps += 1
    assert net.kernel.drained()


def live(name: str = "fig1", edit: dict[str, str] | None = None, seed: int = 3) -> tuple[World, Lab, Checker]:
    net = World(topology(name, edit), seed=seed)
    return net, Lab(net), Checker.attach(net)


def paired(edit: dict[str, str] | None = None, mode: str = "async", count: int = 300,
           seed: int = 3) -> tuple[World, Lab, Checker]:
    net, lab, checker = live("fig1", edit, seed)
    do(lab, CreatePair(source="ST112:0", target="ST122:0", mode=CopyMode(mode)))
    step_until(net, 0.2)
    if count:
        do(lab, Workload(volume="ST112:0", rate=2000, count=count, blocks=(0, 256)))
    return net, lab, checker


@pytest.fixture(scope="module")
def honest():
    net, runner, events = run(topology("fig1", JITTERY), pair_and_writes(count=600, blocks=256), seed=5)
    return net, runner, events


def test_an_honest_rough_run_holds_every_invariant(honest):
    net, runner, events = honest
    checker = checker_of(net)
    assert checker is not None and checker.violations == []
    assert check_all(net) == {name: True for name in NAMES}
    assert checker.reflected >= 600  # host writes and the initial copy were all checked
    assert checker.order.checked == 600  # and every host write against what its host was promised
    assert runner.failed == []
    arrivals = [e["seq"] for e in events if e["event"] == "log-received" and e["kind"] == "WR"]
    assert any(b < a for a, b in zip(arrivals, arrivals[1:])), "the run must reorder arrivals to mean anything"


def test_reflecting_out_of_order_is_caught():
    net, lab, checker = paired(JITTERY)
    net.device("E105").unsafe_reflect_any_order = True  # the test hook: ignore rule 2003
    drain(net)
    assert "write_order" in checker.first
    assert "reflected before seq" in checker.first["write_order"] or "out of order" in checker.first["write_order"]
    assert check_all(net)["write_order"] is False
    assert checker.first["write_order"].startswith("write_order: t=")


def test_a_reflection_with_other_data_than_created_is_caught(monkeypatch):
    import attrs

    from rcnlab.devices.storage import ExternalStorage

    net, lab, checker = paired(count=0)
    original = ExternalStorage._reflect_write

    def corrupt(self, volume, rio):  # plant: the target storage is handed a WR whose data changed on the way
        if not rio.copy:
            rio = attrs.evolve(rio, data=b"\xff" * len(rio.data))
        original(self, volume, rio)

    monkeypatch.setattr(ExternalStorage, "_reflect_write", corrupt)
    do(lab, Workload(volume="ST112:0", rate=2000, count=20, blocks=(0, 256)))
    drain(net)
    assert "write_order" in checker.first and "but the entry created was" in checker.first["write_order"]


def test_a_dropped_acknowledged_write_is_caught_mid_run():
    net, lab, checker = paired(count=200)
    step_until(net, net.kernel.now + 0.03)
    do(lab, FailLink(link="C202-E105"))  # entries pile up at E104, held: nothing is lost yet
    step_until(net, net.kernel.now + 0.05)
    assert check_nothing_lost(net, checker) is True
    source = net.device("E104")
    key, held = next((k, h) for k, h in source.held.items() if h.entry.kind is RioKind.WR)
    for k in [k for k, h in source.held.items() if h.entry.kind is RioKind.WR
              and h.entry.rio.block == held.entry.rio.block]:
        del source.held[k]  # plant: the source edge forgets the acknowledged writes to one block...
        source.groups[k[0]].deleted += 1  # ...and keeps its counters straight, so only the loss shows
    for storage in net.storages:  # ...and no bitmap happens to cover the block
        for p in storage.pairs.values():
            p.bitmap.discard(held.entry.rio.block)
    assert checker.acknowledged(str(held.entry.source), held.entry.rio.block) is not None
    assert not any(h.entry.kind is RioKind.WR and h.entry.rio.block == held.entry.rio.block
                   for h in source.held.values()), "pick a seed where the block is written once in flight"
    assert check_nothing_lost(net, checker) is False
    assert "nothing_lost" in checker.first and f"block {held.entry.rio.block}" in checker.first["nothing_lost"]


def test_a_write_lost_after_drain_is_caught():
    net, lab, checker = paired()
    drain(net)
    assert check_all(net) == {name: True for name in NAMES}
    dst = net.device("ST122").volumes[0]
    block = max(dst.blocks)
    dst.blocks[block] = b"\x00" * 512  # plant: the target lost the last write to this block
    result = check_all(net)
    assert result["nothing_lost"] is False and result["convergence"] is False
    assert f"block {block}" in checker.first["nothing_lost"]


def test_corrupted_counters_are_caught():
    net, lab, checker = paired(count=50)
    drain(net)
    assert check_all(net)["counters"] is True
    net.device("E104").groups[1].created += 1
    assert check_all(net)["counters"] is False
    assert "created" in checker.first["counters"] and "held" in checker.first["counters"]

    net2, _, checker2 = paired(count=50)
    drain(net2)
    net2.device("E105").groups[1].reflected += 3
    assert check_all(net2)["counters"] is False
    assert "reflected" in checker2.first["counters"]


def test_disagreeing_parties_are_caught_once_drained():
    net, lab, checker = paired(count=20)
    drain(net)
    assert check_all(net)["agreement"] is True
    (pair,) = [p for p in net.device("E105").pairs.values()]
    pair.state = PairState.SUSPEND
    assert check_all(net)["agreement"] is False
    assert "target_edge Suspend" in checker.first["agreement"]


def _forged(intruder, virtual_wwn: str, kind: RioKind) -> FcFrame:
    rio = Rio(kind=kind, source=VolumeRef(intruder.wwn, 0), target=VolumeRef(virtual_wwn, 0), block=1,
              data=b"x" * 512, mode="async", xid=99)
    return FcFrame(src_port=port_id(intruder.wwn), dst_port=port_id(virtual_wwn), msg_id=10 ** 6, index=0,
                   count=1, length=rio.size, checksum=header_checksum(10 ** 6, 0, 1, rio.size), payload=rio)


def test_a_forged_cross_customer_rio_is_refused_and_a_leak_would_be_caught():
    net, lab, checker = live("mesh")
    edge = net.device("E1")
    intruder = net.device("ST11")  # customer C1
    victim = next(v for v in edge.virtual.values() if intruder.wwn not in edge.access[v.virtual_wwn])
    net.inject_frame(intruder.name, edge.name, _forged(intruder, victim.virtual_wwn, RioKind.PAIR_CREATE))
    drain(net)
    assert edge.denied == 1 and edge.log_entries == 0
    assert check_all(net)["isolation"] is True
    # plant: access control 405 lets the intruder in; the forged RIO now becomes a log entry
    edge.access[victim.virtual_wwn].add(intruder.wwn)
    net.inject_frame(intruder.name, edge.name, _forged(intruder, victim.virtual_wwn, RioKind.PAIR_CREATE))
    step_until(net, net.kernel.now + 0.001)
    assert check_all(net)["isolation"] is False
    assert "customer C1" in checker.first["isolation"] and "customer C2" in checker.first["isolation"]


def test_a_view_that_shows_another_customers_storage_is_caught():
    net, lab, checker = live("mesh")
    assert check_all(net)["isolation"] is True
    mgmt = net.management
    c2 = next(c for c in mgmt.connections if c.customer == "C2")
    import attrs
    mgmt.connections.append(attrs.evolve(c2, customer="C1"))  # plant: C1's view now lists C2's storage
    assert check_all(net)["isolation"] is False
    assert "view of customer C1" in checker.first["isolation"]


def test_determinism_of_a_seed_and_a_planted_nondeterminism(monkeypatch):
    topo = topology("fig1", JITTERY)
    scenario = parse_scenario(pair_and_writes(count=50), "<t>", topo)
    assert same_trace(topo, scenario, seed=4)
    monkeypatch.setattr(World, "rng", lambda self, name: random.Random())  # plant: unseeded randomness
    assert not same_trace(topo, scenario, seed=4)


def test_run_reports_violations_and_fails(tmp_path, capsys):
    from rcnlab.cli import main
    from tests.helpers import TOPOLOGIES

    scen = tmp_path / "broken.toml"
    scen.write_text('[[step]]\nat = 0.0\ndo = "break-rule"\nrule = "reflect-out-of-order"\n'
                    + pair_and_writes(count=400, blocks=256))
    topo = tmp_path / "fig1.toml"
    text = (TOPOLOGIES / "fig1.toml").read_text()
    for old, new in JITTERY.items():
        text = text.replace(old, new)
    topo.write_text(text)
    assert main(["run", str(topo), "--scenario", str(scen), "--seed", "5"]) == 1
    err = capsys.readouterr().err
    assert "invariant write_order: t=" in err


def test_checked_at_every_step_of_every_walkthrough_while_messages_are_in_flight():
    # A checker watching from the start and asked mid-run (as the lab's status line does)
    # finds copy writes travelling as one frame on a link: they are in the network, not lost.
    from rcnlab.walkthrough.engine import Player
    from rcnlab.walkthrough.model import available, load_walkthrough

    for path in available():
        player = Player(load_walkthrough(path))
        checker = Checker.attach(player.net)
        while not player.done:
            player.advance()
            assert all(checker.check().values()), (path.stem, player.current, checker.violations[:2])


def test_the_checker_hears_only_its_events_and_nothing_else_is_built():
    """The checked path (journal + checker, no trace) builds the events the checker reads
    and no other; a trace subscribed beside it gets every event, the checker's included."""
    net, lab, checker = paired(count=50)
    journal = net.journal
    heard = set(checker._handlers)
    assert all(name in journal.heard for name in heard) and "sent" not in journal.heard
    seen: list[str] = []
    journal.subscribe(seen.append, ("reflected",))  # a second reader of one event: shares the event built
    before = journal.count
    drain(net)
    assert checker.ok and checker.reflected >= 50
    assert journal.count > before and len(seen) == checker.reflected
    trace: list[object] = []
    unsubscribe = journal.subscribe(trace.append)
    assert "sent" in journal.heard and "anything" in journal.heard
    do(lab, Workload(volume="ST112:0", rate=2000, count=10, blocks=(0, 256)))
    drain(net)
    assert {ev.event for ev in trace} > {"sent", "reflected", "log-sent"}  # type: ignore[attr-defined]
    unsubscribe()
    assert "sent" not in journal.heard and "reflected" in journal.heard


def test_a_journal_with_no_reader_builds_nothing():
    net, lab, _ = paired(count=0)
    checker_of(net).detach()
    journal = net.journal
    assert not journal.active and "reflected" not in journal.heard
    before = journal.count
    do(lab, Workload(volume="ST112:0", rate=2000, count=20, blocks=(0, 256)))
    drain(net)
    assert journal.count == before
