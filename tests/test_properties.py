"""Properties: every refusal of the pair-state machine, the four parties composed on a
real network (hypothesis: an illegal command is refused and changes nothing, the parties
agree, every checker holds), and whole random labs (topology, workload, fault schedule)
after which every checker holds."""

from __future__ import annotations

from typing import Any

from conftest import PHASES, examples
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from rcnlab.fuzz.gen import FAULT_KINDS, Case, TopoParams, draw_case, random_topo, run_case, scenario_toml, \
    topology_toml, widen
from rcnlab.check.invariants import Checker
from rcnlab.lab import Lab, LabError
from rcnlab.model.kinds import CopyMode
from rcnlab.model.pair_state import LEGAL, Command, IllegalCommand, PairState, check_command
from rcnlab.ops.commands import CreatePair, Crash, DeletePair, Failover, Restart, Resync, Suspend, Write
from rcnlab.ops.commands import Workload as StartWorkload  # (fuzz.gen has a Workload of its own)
from rcnlab.ops.registry import do
from rcnlab.topo.load import parse_topology
from rcnlab.world import World


S = PairState


# -- the pure machine -------------------------------------------------------------------------
def test_every_refusal_is_one_line_naming_state_command_and_what_is_legal() -> None:
    """Every command in every state: allowed, or refused in one line that names the state,
    the command and each command that is legal now."""
    for state in PairState:
        for command in Command:
            try:
                check_command(command, state, "ST:0")
            except IllegalCommand as refused:
                message = str(refused)
                assert "\n" not in message and str(state) in message and str(command) in message
                assert all(str(c) in message for c in LEGAL[state])
            else:
                assert command in LEGAL[state]


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

    def snapshot(self) -> tuple[Any, ...]:
        """What a refused command must leave as it was: every party's pair record (state,
        role, bitmaps), the events scheduled and the frames sent."""
        net = self.net
        return ([(s.name, lun, p.state, p.role, sorted(p.bitmap), p.takeover) for s in net.storages
                 for lun, p in sorted(s.pairs.items())],
                [(e.name, str(k), p.state, sorted(p.bitmap)) for e in net.edges for k, p in sorted(e.pairs.items())],
                net.kernel.live, sum(ch.sent for ch in net.channels.values()))

    def state_at(self, storage: str) -> PairState:
        pair = self.lab.storage(storage).pairs.get(0)
        return S.SIMPLEX if pair is None else pair.state

    def command(self, command: Command, storages: tuple[str, ...], op: Any) -> None:
        """Give ``op``, the ``command`` (checked at ``storages``' pair states): a command their states do
        not allow is refused in one line and changes nothing; an accepted one runs to the end."""
        legal = all(command in LEGAL[self.state_at(name)] for name in storages)
        before = self.snapshot()
        try:
            do(self.lab, op)
        except (LabError, IllegalCommand) as exc:
            assert "\n" not in str(exc)
            assert self.snapshot() == before, "a refused command changed something"
            return
        assert legal, f"{command} accepted at {storages} in {[str(self.state_at(n)) for n in storages]}"
        self.drain()

    @rule(mode=st.sampled_from(("sync", "async")))
    def create(self, mode: str) -> None:
        self.command(Command.CREATE, ("S1", "S2"), CreatePair(source="S1:0", target="S2:0", mode=CopyMode(mode)))

    @rule(count=st.integers(1, 30))
    def write_source(self, count: int) -> None:
        do(self.lab, StartWorkload(volume="S1:0", rate=5000, count=count, blocks=(0, 64)))
        self.drain()

    @rule(block=st.integers(0, 63))
    def write_target(self, block: int) -> None:
        do(self.lab, Write(volume="S2:0", block=block))  # refused by the storage unless the pair is suspended
        self.drain()

    @rule()
    def suspend(self) -> None:
        self.command(Command.SUSPEND, ("S1",), Suspend(volume="S1:0"))

    @rule()
    def resync(self) -> None:
        self.command(Command.RESYNC, ("S1",), Resync(volume="S1:0"))

    @rule(prompt=st.booleans())
    def failover(self, prompt: bool) -> None:
        self.command(Command.FAILOVER, ("S2",), Failover(volume="S2:0", prompt=prompt))

    @rule()
    def delete(self) -> None:
        self.command(Command.DELETE, ("S1",), DeletePair(volume="S1:0"))

    @precondition(lambda self: self.net.device("E1").up)
    @rule()
    def crash_and_restart_core(self) -> None:
        do(self.lab, Crash(device="K1"))
        do(self.lab, Restart(device="K1"))
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
    """random.Random's few methods (rcnlab.fuzz.gen.Rng), answered by hypothesis draws, so
    that the property tests draw from the fuzzer's own envelope and shrink on readable choices."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def choice(self, seq: Any) -> Any:
        return self.draw(st.sampled_from(list(seq)))

    def uniform(self, a: float, b: float) -> float:
        return self.draw(st.sampled_from([round(a + (b - a) * k / 8, 3) for k in range(9)]))

    def random(self) -> float:
        return self.draw(st.sampled_from([0.0, 0.5, 0.9]))

    def randrange(self, start: int, stop: int | None = None) -> int:
        first, last = (0, start) if stop is None else (start, stop)
        return self.draw(st.integers(first, last - 1))


@st.composite
def topo_params(draw: Any) -> TopoParams:
    """A lab as the fuzzer draws it, widened or not."""
    rng = _DrawRandom(draw)
    topo = random_topo(rng)
    return widen(rng, topo) if draw(st.booleans()) else topo


@st.composite
def cases(draw: Any, widened: bool, kinds: tuple[str, ...] = FAULT_KINDS) -> Case:
    """A whole case as the fuzzer draws it (rcnlab.fuzz.gen.draw_case): the first envelope
    and, ``widened``, for most the widened one too."""
    rng = _DrawRandom(draw)
    return draw_case(rng, rng if widened else None, seed=draw(st.integers(0, 2 ** 16)), kinds=kinds)


def _every_checker_holds(case: Case) -> None:
    note("schedule:\n  " + "\n  ".join(str(s) for s in sorted(case.faults, key=lambda s: s.at)))
    outcome = run_case(case)
    if outcome.problems:
        note(topology_toml(case.topo))
        note(scenario_toml(case))
    assert not outcome.problems, outcome.problems[:3]


@settings(max_examples=examples(30, deep=2500))
@given(case=cases(widened=False))
def test_every_checker_holds_after_any_schedule(case: Case) -> None:
    _every_checker_holds(case)


#: The widened envelope: every knob a user can set (issue 12). Its failures are tests in
#: tests/test_widened*.py; the last 10,000-seed campaign over it (`rcnlab fuzz --seeds 10000`,
#: half the seeds widened) ran clean. The deep profile draws far more (its last finding, a
#: delete at the target storage while the source storage is down, is in
#: tests/test_widened_seeds.py).
@settings(max_examples=examples(15, deep=2500), phases=PHASES)
@given(case=cases(widened=True))
def test_every_checker_holds_in_the_widened_envelope(case: Case) -> None:
    """Every knob a user can set (rcnlab.fuzz.gen.widen, WIDE_KINDS): IP-attached storage,
    jitter and loss on storage links, core batching, shared and run-time order IDs, overload,
    small logs, short crashes, concurrent group failovers, creations that must be refused."""
    _every_checker_holds(case)


@settings(max_examples=examples(10))
@given(topo=topo_params())
def test_generated_topologies_are_valid_and_routable(topo: TopoParams) -> None:
    """Every lab the fuzzer draws is a valid topology; each customer's storage pair has a
    route unless a core's capacity (a knob) leaves none."""
    parsed = parse_topology(topology_toml(topo), "<gen>")
    net = World(parsed)
    routed = {(r.devices[0], r.devices[-1]) for r in net.management.routes}
    assert routed <= {("E1", "E2"), ("E2", "E1"), ("E1", "E1")}
    if not any(key == "capacity" for _, key, _ in topo.knobs):
        assert ("E1", "E2") in routed
    assert len(parsed.cores) == topo.cores
