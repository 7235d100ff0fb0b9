"""A `Session`: one run of the lab, and the drivers that run it."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import trio
import trio.testing

from rcnlab.check.invariants import Checker
from rcnlab.emu.journal import Journal
from rcnlab.emu.kernel import Kernel
from rcnlab.lab import Lab
from rcnlab.scenario.runner import Runner
from rcnlab.scenario.steps import Scenario
from rcnlab.topo.schema import Topology
from rcnlab.world import World


@attrs.define(eq=False, repr=False)
class Session:
    """The world built from a topology, the operator's lab on it, the scenario's runner,
    the journal, and (unless switched off) the invariant checker following the run.

    Two ways to run it: `play` is the headless run (trio drives the kernel, paced at a
    rate if asked); `run_until` and `run_for` step the deterministic kernel directly,
    without trio or a wall clock (tests, checkers, tools that stop on a condition)."""

    world: World
    runner: Runner
    checker: Checker | None = None

    @classmethod
    def open(cls, topo: Topology, scenario: Scenario | None = None, seed: int = 0, *,
             clock: trio.testing.MockClock | None = None, journal: Journal | None = None,
             check: bool = True) -> Session:
        world = World(topo, seed=seed, clock=clock or trio.testing.MockClock(rate=0), journal=journal)
        checker = Checker.attach(world) if check else None
        return cls(world=world, runner=Runner(world, scenario), checker=checker)

    @property
    def lab(self) -> Lab:
        return self.runner.lab

    @property
    def journal(self) -> Journal:
        return self.world.journal

    @property
    def kernel(self) -> Kernel:
        return self.world.kernel

    # -- the headless run --------------------------------------------------------------
    def play(self, until: float = math.inf, paced: bool = False) -> None:
        """Play the scenario: its timed steps, the network until it drains (or ``until``),
        then its steps for the end; then `check`. Paced, virtual time follows the clock's rate."""
        runner, kernel = self.runner, self.kernel

        async def main() -> None:
            end = runner.schedule()
            await kernel.run(until=until, paced=paced)
            for step in end:
                runner.apply(step)

        trio.run(main, clock=kernel.clock)
        self.check()

    def check(self) -> None:
        """Run the checker's state checks now; each violation becomes a line of ``runner.failed``."""
        if self.checker is not None:
            self.checker.check()
            self.runner.failed.extend(f"invariant {line}" for line in self.checker.violations)

    # -- the synchronous driver ------------------------------------------------------------
    def run_until(self, predicate: Callable[[], bool], timeout: float = math.inf) -> bool:
        """Run the kernel event time by event time until ``predicate()`` holds (True) or
        ``timeout`` virtual seconds have passed, or nothing is left to run (False)."""
        kernel = self.kernel
        deadline = kernel.now + timeout
        while not predicate():
            if kernel.next_time > deadline:
                if deadline < math.inf:
                    kernel.advance_to(deadline)
                return False
            kernel.step()
        return True

    def run_for(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, running every event due in them."""
        self.run_until(lambda: False, seconds)

    def drain(self, timeout: float = math.inf) -> bool:
        """Run until only housekeeping is left (True), or ``timeout`` passed (False)."""
        return self.run_until(self.kernel.drained, timeout)
