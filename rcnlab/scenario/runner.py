"""Plays a scenario's steps on a network at their virtual times, then lets it drain."""

from __future__ import annotations

import math

from rcnlab.lab import Lab, LabError
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.ops.commands import CreatePair
from rcnlab.ops.pairs import install_cluster_software
from rcnlab.ops.registry import do
from rcnlab.scenario.steps import Scenario, Step
from rcnlab.world import World


class Runner:
    """Gives each step's command (rcnlab.ops) to the lab at its time; what came of them
    is the lab's record: ``refused`` (steps refused at run time, one line each),
    ``failed`` (expectations that did not hold, one line each), ``passed``."""

    def __init__(self, net: World, scenario: Scenario | None = None, lab: Lab | None = None) -> None:
        self.net = net
        self.lab = lab or Lab(net)
        install_cluster_software(self.lab)
        self.scenario = scenario
        if scenario is not None:
            self.lab.planned = tuple(s.command for s in scenario.steps if isinstance(s.command, CreatePair))

    @property
    def refused(self) -> list[str]:
        return self.lab.refused

    @property
    def failed(self) -> list[str]:
        return self.lab.failed

    @property
    def passed(self) -> int:
        return self.lab.passed

    def schedule(self) -> list[Step]:
        """Put the timed steps on the kernel; return the steps for the end."""
        end = []
        for step in self.scenario.steps if self.scenario else ():
            if math.isinf(step.at):
                end.append(step)
            else:
                self.net.kernel.call_at(step.at, self.apply, step)
        return end

    async def run(self, until: float = math.inf) -> None:
        end = self.schedule()
        await self.net.run(until=until)
        for step in end:
            self.apply(step)

    def where(self, step: Step) -> str:
        at = "end" if math.isinf(step.at) else f"{step.at:g}s"
        path = self.scenario.path if self.scenario else "<command>"
        return f"{path}: step[{step.index}] ({step.do} at {at})"

    def apply(self, step: Step) -> None:
        try:
            do(self.lab, step.command)
        except (LabError, IllegalCommand) as exc:
            self.refused.append(f"{self.where(step)}: {exc}")
            if isinstance(step.command, CreatePair):  # refused, so not planned: resync-all does not retry it
                self.lab.planned = tuple(p for p in self.lab.planned if p is not step.command)
            self.net.management.emit("step-refused", None, index=step.index, do=step.do, reason=str(exc))
