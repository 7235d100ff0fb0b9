"""Plays a scenario's steps on a network at their virtual times, then lets it drain."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rcnlab.lab import Lab, LabError
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.scenario.expect import check_expectations
from rcnlab.scenario.steps import Scenario, Step
from rcnlab.world import World

Action = Callable[..., None]
ACTIONS: dict[str, Callable[..., None]] = {}


def action(name: str) -> Callable[[Action], Action]:
    """Register the function that carries out a step kind: ``fn(runner, **args)``."""

    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn

    return register


class Runner:
    def __init__(self, net: World, scenario: Scenario | None = None, lab: Lab | None = None) -> None:
        self.net = net
        self.lab = lab or Lab(net)
        self.scenario = scenario
        self.refused: list[str] = []  # steps refused at run time, one line each
        self.failed: list[str] = []  # expectations that did not hold, one line each
        self.passed = 0

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
            ACTIONS[step.do](self, **step.args)
        except (LabError, IllegalCommand) as exc:
            line = f"{self.where(step)}: {exc}"
            self.refused.append(line)
            self.net.management.emit("step-refused", None, index=step.index, do=step.do, reason=str(exc))

    def expect_failed(self, step_line: str) -> None:
        self.failed.append(step_line)


# -- the step kinds of the core ---------------------------------------------------------------
@action("pair-create")
def _pair_create(r: Runner, source: str, target: str, mode: str = "async", order_id: int = 0,
                 host: str | None = None) -> None:
    r.lab.pair_create(source, target, mode, order_id, host)


@action("write")
def _write(r: Runner, volume: str, block: int, host: str | None = None, data: str | None = None) -> None:
    raw = None
    if data is not None:
        bs = r.net.topo.block_size
        raw = data.encode()[:bs].ljust(bs, b"\0")
    r.lab.write(volume, block, host, raw)


@action("workload")
def _workload(r: Runner, volume: str, rate: float, count: int | None = None, duration: float | None = None,
              blocks: tuple[int, int] | None = None, host: str | None = None) -> None:
    r.lab.workload(volume, rate, count, duration, blocks, host)


@action("stop-workload")
def _stop(r: Runner) -> None:
    r.lab.stop_workloads()


@action("set-link")
def _set_link(r: Runner, link: str, **params: Any) -> None:
    r.lab.set_link(link, **params)


@action("note")
def _note(r: Runner, text: str) -> None:
    r.net.management.emit("note", None, text=text)


@action("expect")
def _expect(r: Runner, pair: str | None = None, state: str | None = None, party: str | None = None,
            equal: list[str] | None = None, remaining: int | None = None, writes_acknowledged: int | None = None,
            invariants: bool | None = None) -> None:
    problems = check_expectations(r.lab, pair, state, party, equal, remaining, writes_acknowledged, invariants)
    t = r.net.kernel.now
    if problems:
        for p in problems:
            r.failed.append(f"t={t:.6f}: {p}")
        r.net.management.emit("expectation-failed", None, problems=problems)
    else:
        r.passed += 1
        r.net.management.emit("expectation-passed", None, pair=pair, state=state)


# -- faults (issue 3) --------------------------------------------------------------------------
@action("fail")
def _fail(r: Runner, link: str, direction: str | None = None) -> None:
    r.lab.fail_link(link, direction)


@action("restore")
def _restore(r: Runner, link: str, direction: str | None = None) -> None:
    r.lab.restore_link(link, direction)


@action("crash")
def _crash(r: Runner, device: str) -> None:
    r.lab.crash(device)


@action("restart")
def _restart(r: Runner, device: str) -> None:
    r.lab.restart(device)


@action("site-failure")
def _site_failure(r: Runner, site: str | None = None, devices: list[str] | None = None) -> None:
    r.lab.site_failure(site, devices)


@action("site-restore")
def _site_restore(r: Runner, site: str | None = None, devices: list[str] | None = None) -> None:
    r.lab.site_restore(site, devices)


@action("partition")
def _partition(r: Runner, devices: list[str]) -> None:
    r.lab.partition(devices)


@action("heal")
def _heal(r: Runner, devices: list[str] | None = None) -> None:
    r.lab.heal(devices)


# -- recovery: operator commands ------------------------------------------------------------
@action("suspend")
def _suspend(r: Runner, volume: str, host: str | None = None) -> None:
    r.lab.suspend(volume, host)


@action("resync")
def _resync(r: Runner, volume: str, host: str | None = None) -> None:
    r.lab.resync(volume, host)


@action("failover")
def _failover(r: Runner, volume: str, prompt: bool = False, host: str | None = None) -> None:
    r.lab.failover(volume, prompt, host)


@action("fetch-remaining")
def _fetch(r: Runner, volume: str) -> None:
    r.lab.fetch_remaining(volume)


@action("failback")
def _failback(r: Runner, volume: str, swap_back: bool = False, host: str | None = None) -> None:
    r.lab.failback(volume, swap_back, host)


@action("delete-pair")
def _delete_pair(r: Runner, volume: str, host: str | None = None) -> None:
    r.lab.delete_pair(volume, host)
