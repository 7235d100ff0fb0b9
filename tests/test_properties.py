"""hypothesis: the pure pair-state machine, the four parties composed on a real
network, and whole random labs (topology, workload, fault schedule) after which
every checker holds."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import examples
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from rcnlab.check.gen import FAULT_KINDS, Case, TopoParams, Workload, random_fault, run_case, scenario_toml, \
    topology_toml
from rcnlab.check.invariants import Checker
from rcnlab.lab import Lab, LabError
from rcnlab.model.pair_state import LEGAL, TRANSITIONS, Command, Event, IllegalCommand, IllegalTransition, \
    PairState, check_command, step
from rcnlab.topo.load import parse_topology
from rcnlab.world import World


S = PairState


# -- the pure machine -------------------------------------------------------------------------
class PairStateMachine(RuleBasedStateMachine):
    """Random events and operator commands against one party's table."""

    def __init__(self) -> None:
        super().__init__()
        self.state = S.SIMPLEX
        self.visited = {S.SIMPLEX}

    @rule(event=st.sampled_from(Event))
    def apply_event(self, event: Event) -> None:
        before = self.state
        if (before, event) in TRANSITIONS:
            self.state = step(before, event)
            assert self.state is TRANSITIONS[(before, event)]
            self.visited.add(self.state)
        else:
            with pytest.raises(IllegalTransition, match=str(before)):
                step(before, event)
            assert self.state is before

    @rule(command=st.sampled_from(Command))
    def give_command(self, command: Command) -> None:
        before = self.state
        if command in LEGAL[before]:
            check_command(command, before, "ST:0")
        else:
            with pytest.raises(IllegalCommand) as refused:
                check_command(command, before, "ST:0")
            message = str(refused.value)
            assert "\n" not in message and str(before) in message and str(command) in message
            assert all(str(c) in message for c in LEGAL[before])
        assert self.state is before  # a command check never changes the state

    @invariant()
    def state_is_known_and_delete_always_returns_to_simplex(self) -> None:
        assert self.state in LEGAL
        assert step(self.state, Event.DELETE) is S.SIMPLEX
        assert Command.DELETE in LEGAL[self.state] or self.state is S.SIMPLEX

    @invariant()
    def suspending_only_from_an_asynchronous_suspend(self) -> None:
        if self.state is S.SUSPENDING:
            assert any(ev is Event.SUSPEND_ASYNC for (_, ev), new in TRANSITIONS.items() if new is S.SUSPENDING)


TestPairStateMachine = PairStateMachine.TestCase
TestPairStateMachine.settings = settings(max_examples=examples(60), stateful_step_count=30, deadline=None)


# -- the four parties composed on a real network -------------------------------------------------
FIG1 = """
[[customer]]
id = "C1"
[[host]]
name = "H1"
customer = "C1"
site = "source"
storage = "S1"
[[host]]
name = "H2"
customer = "C1"
site = "target"
storage = "S2"
[[storage]]
name = "S1"
wwn = "50:06:0e:80:00:00:00:01"
customer = "C1"
site = "source"
edge = "E1"
volumes = [{ lun = 0, blocks = 64 }]
[[storage]]
name = "S2"
wwn = "50:06:0e:80:00:00:00:02"
customer = "C1"
site = "target"
edge = "E2"
volumes = [{ lun = 0, blocks = 64 }]
[[edge]]
name = "E1"
ip = "192.0.2.1"
site = "source"
log_durable = true
[[edge]]
name = "E2"
ip = "192.0.2.2"
site = "target"
log_durable = true
[[core]]
name = "K1"
ip = "192.0.2.101"
[[link]]
a = "H1"
b = "S1"
kind = "scsi"
[[link]]
a = "S1"
b = "E1"
kind = "fc"
[[link]]
a = "E1"
b = "K1"
kind = "gbe"
distance_km = 100
[[link]]
a = "K1"
b = "E2"
kind = "gbe"
distance_km = 100
[[link]]
a = "E2"
b = "S2"
kind = "fc"
[[link]]
a = "H2"
b = "S2"
kind = "scsi"
"""
PARTIES = ("source_storage", "source_edge", "target_edge", "target_storage")
DRAIN_BOUND = 200_000


class FourParties(RuleBasedStateMachine):
    """Operator commands on a real network (Lab), the kernel stepped synchronously
    until drained; after each, the four parties agree and every checker holds."""

    def __init__(self) -> None:
        super().__init__()
        self.net = World(parse_topology(FIG1, "<four-parties>"), seed=1)
        self.lab = Lab(self.net)
        self.checker = Checker.attach(self.net)

    def drain(self) -> None:
        steps = 0
        while not self.net.kernel.drained() and steps < DRAIN_BOUND:
            self.net.kernel.step()
            steps += 1
        assert self.net.kernel.drained(), "the network did not drain"

    def states(self) -> dict[str, PairState]:
        storage = self.lab.storage("S1")
        pair = storage.pairs.get(0)
        if pair is None:
            return {p: S.SIMPLEX for p in PARTIES}
        return self.lab.states(storage, pair)

    def command(self, fn: Any, *args: Any, **kw: Any) -> None:
        before = self.states()
        try:
            fn(*args, **kw)
        except (LabError, IllegalCommand) as exc:
            assert "\n" not in str(exc)
            assert self.states() == before, "a refused command changed a state"
            return
        self.drain()

    @rule(mode=st.sampled_from(("sync", "async")))
    def create(self, mode: str) -> None:
        self.command(self.lab.pair_create, "S1:0", "S2:0", mode)

    @rule(count=st.integers(1, 30))
    def write_source(self, count: int) -> None:
        self.lab.workload("S1:0", rate=5000, count=count, blocks=(0, 64))
        self.drain()

    @rule(block=st.integers(0, 63))
    def write_target(self, block: int) -> None:
        self.lab.write("S2:0", block)  # refused by the storage unless the pair is suspended
        self.drain()

    @rule()
    def suspend(self) -> None:
        self.command(self.lab.suspend, "S1:0")

    @rule()
    def resync(self) -> None:
        self.command(self.lab.resync, "S1:0")

    @rule(prompt=st.booleans())
    def failover(self, prompt: bool) -> None:
        self.command(self.lab.failover, "S2:0", prompt=prompt)

    @rule()
    def delete(self) -> None:
        self.command(self.lab.delete_pair, "S1:0")

    @precondition(lambda self: self.net.device("E1").up)
    @rule()
    def crash_and_restart_core(self) -> None:
        self.lab.crash("K1")
        self.lab.restart("K1")
        self.drain()

    @invariant()
    def parties_agree_once_delivered(self) -> None:
        states = self.states()
        target = self.lab.storage("S2").pairs.get(0)
        if target is not None and target.takeover and states["source_storage"] is S.DUPLEX:
            return  # a prompt failover never tells the source (Fig. 13 variant); it learns on its next write
        assert len(set(states.values())) == 1, states

    @invariant()
    def checkers_hold(self) -> None:
        result = self.checker.check()
        assert all(result.values()), self.checker.violations[:3]


TestFourParties = FourParties.TestCase
TestFourParties.settings = settings(max_examples=examples(15, deep=500), stateful_step_count=12, deadline=None)


# -- whole random labs ------------------------------------------------------------------------
class _DrawRandom:
    """random.Random's few methods, answered by hypothesis draws (so that shrinking works
    on readable choices)."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def choice(self, seq: Any) -> Any:
        return self.draw(st.sampled_from(list(seq)))

    def uniform(self, a: float, b: float) -> float:
        return self.draw(st.sampled_from([round(a + (b - a) * k / 8, 3) for k in range(9)]))

    def random(self) -> float:
        return self.draw(st.sampled_from([0.0, 0.5, 0.9]))

    def randrange(self, n: int) -> int:
        return self.draw(st.integers(0, n - 1))




@st.composite
def topo_params(draw: Any) -> TopoParams:
    customers = draw(st.integers(1, 2))
    volumes = draw(st.integers(1, 2))
    return TopoParams(
        cores=draw(st.integers(0, 4)), shape=draw(st.sampled_from(("chain", "mesh"))), customers=customers,
        volumes=volumes, modes=tuple(draw(st.lists(st.sampled_from(("async", "sync")), min_size=customers * volumes,
                                                   max_size=customers * volumes))),
        order_method=draw(st.sampled_from(("A-1", "A-2", "B"))), durable=draw(st.booleans()),
        batch_wait_ms=draw(st.sampled_from((0.0, 2.0))), distance_km=draw(st.sampled_from((20.0, 100.0, 400.0))),
        jitter_ms=draw(st.sampled_from((0.0, 1.0, 5.0))), blocks=draw(st.sampled_from((64, 256))))


@st.composite
def cases(draw: Any, kinds: tuple[str, ...] = FAULT_KINDS) -> Case:
    topo = draw(topo_params())
    workloads = tuple(Workload(volume=src, rate=float(draw(st.sampled_from((500, 2000)))),
                               count=draw(st.integers(5, 150)), at=draw(st.sampled_from((0.0, 0.2))))
                      for src, _, _ in topo.pairs)
    faults = []
    for _ in range(draw(st.integers(0, 4))):
        faults += random_fault(_DrawRandom(draw), topo, kinds)
    return Case(topo=topo, workloads=workloads, faults=tuple(faults), seed=draw(st.integers(0, 2 ** 16)))


@settings(max_examples=examples(30, deep=2500))
@given(case=cases())
def test_every_checker_holds_after_any_schedule(case: Case) -> None:
    note("schedule:\n  " + "\n  ".join(str(s) for s in sorted(case.faults, key=lambda s: s.at)))
    outcome = run_case(case)
    if outcome.problems:
        note(topology_toml(case.topo))
        note(scenario_toml(case))
    assert not outcome.problems, outcome.problems[:3]


@settings(max_examples=examples(10))
@given(topo=topo_params())
def test_generated_topologies_are_valid_and_routable(topo: TopoParams) -> None:
    parsed = parse_topology(topology_toml(topo), "<gen>")
    net = World(parsed)
    assume(topo.customers * topo.volumes >= 1)
    assert len(net.management.routes) == topo.customers  # one route per customer's storage pair
    assert len(parsed.cores) == topo.cores
