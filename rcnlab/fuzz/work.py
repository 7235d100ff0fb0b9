"""What a campaign's workers run: seeds (each to a record), and the shrinking of the
failures chosen for saving. Plain functions of a `Job` and a few seeds, so that any
executor, local or remote, can run them."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import attrs

from rcnlab.fuzz.gen import (
    Case,
    random_case,
    run_case,
    scenario_toml,
    shrink,
    topology_toml,
)
from rcnlab.fuzz.limits import Limits
from rcnlab.fuzz.records import Params, record

#: The kinds of failure shrinking keeps: a budget or backstop run is not run again and again.
SHRINKABLE = ("violation", "exception")


@attrs.frozen(kw_only=True)
class Job:
    params: Params
    backstop_s: float | None = None
    #: A test hook: the worker running this seed is killed, as one out of memory would be.
    kill_on_seed: int | None = None
    #: A test hook: this seed falls into an event storm (`Limits.storm`).
    storm_on_seed: int | None = None

    @property
    def limits(self) -> Limits:
        return Limits(budget_events=self.params.budget_events, backstop_s=self.backstop_s)

    def limits_of(self, seed: int) -> Limits:
        return attrs.evolve(self.limits, storm=True) if seed == self.storm_on_seed else self.limits

    def case(self, seed: int) -> Case:
        p = self.params
        return random_case(seed, p.break_rule, p.faults, p.max_faults, p.envelope == "wide")

    def hook(self, seed: int) -> None:
        if seed == self.kill_on_seed:
            os.kill(os.getpid(), signal.SIGKILL)

    def run(self, seed: int) -> dict[str, Any]:
        """The record of one seed."""
        self.hook(seed)
        started = time.perf_counter()
        case = self.case(seed)
        outcome = run_case(case, self.params.digests, self.limits_of(seed))
        return record(seed, self.params, list(outcome.problems), signature=outcome.signature,
                      events=outcome.events, virtual_time=round(outcome.virtual_time, 9), steps=len(case.faults),
                      digest=outcome.digest, seconds=round(time.perf_counter() - started, 4))

    def died(self, seed: int, deaths: int, error: str) -> dict[str, Any]:
        """The record of a seed whose worker process died each time it ran it."""
        return record(seed, self.params, [f"worker-died: its worker process died each of the {deaths} times it "
                                          "ran this seed alone"], signature="worker-died", events=0,
                      virtual_time=0.0, steps=len(self.case(seed).faults), digest="", seconds=0.0, error=error)


def run_seeds(job: Job, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    return [job.run(seed) for seed in seeds]


def shrink_seeds(job: Job, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    """Each seed's failure shrunk: {case, problems} of the smallest case that still fails alike."""
    out = []
    for seed in seeds:
        job.hook(seed)
        case = job.case(seed)
        limits = job.limits_of(seed)
        small, outcome = shrink(case, run_case(case, limits=limits), limits=limits)
        out.append({"case": small, "problems": list(outcome.problems), "signature": outcome.signature})
    return out


def saved_files(seed: int, case: Case, signature: str) -> tuple[str, str]:
    """The topology and scenario files that replay ``case``."""
    schedule = "; ".join(str(s) for s in sorted(case.faults, key=lambda s: s.at))
    knobs = ", ".join(f"{at}.{key}={value}" for at, key, value in case.topo.knobs) or "none"
    return (topology_toml(case.topo, f"fuzz-{seed}"),
            scenario_toml(case, f"rcnlab fuzz seed {seed}: {signature}; schedule: {schedule}; knobs: {knobs}"))
