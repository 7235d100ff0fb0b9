"""Small helpers shared by the tests: run a scenario given as text, read a trace."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rcnlab.run import run_headless
from rcnlab.scenario.runner import Runner
from rcnlab.scenario.steps import parse_scenario
from rcnlab.topo.load import load_topology, parse_topology
from rcnlab.topo.schema import Topology
from rcnlab.world import World

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"


def topology(name: str = "fig1", edit: dict[str, str] | None = None) -> Topology:
    """A shipped topology; ``edit`` replaces text in the file first (for variations)."""
    path = TOPOLOGIES / f"{name}.toml"
    if not edit:
        return load_topology(path)
    text = path.read_text()
    for old, new in edit.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_topology(text, str(path))


def run(topo: Topology, scenario_text: str, seed: int = 0, until: float = math.inf,
        trace: bool = True) -> tuple[World, Runner, list[dict[str, Any]]]:
    """Run a scenario given as TOML text; return the network, the runner and the trace."""
    scenario = parse_scenario(scenario_text, "<test>", topo)
    out = io.StringIO() if trace else None
    session = run_headless(topo, scenario, seed=seed, until=until, trace=out)
    events = [json.loads(line) for line in out.getvalue().splitlines()] if out else []
    return session.world, session.runner, events


def steps_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["step"] for e in events if e["step"]]


PAIR_AND_WRITES = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "{mode}"

[[step]]
at = 0.2
do = "workload"
volume = "ST112:0"
rate = {rate}
count = {count}
blocks = [0, {blocks}]
"""


def pair_and_writes(mode: str = "async", rate: float = 1000, count: int = 200, blocks: int = 512) -> str:
    return PAIR_AND_WRITES.format(mode=mode, rate=rate, count=count, blocks=blocks)


# -- the TUI ---------------------------------------------------------------------------------------
def run_app(app: Any, body: Callable[[Any], Awaitable[None]], size: tuple[int, int] = (160, 48)) -> None:
    """Run the lab headless (``App.run_test``) at ``size``, once its emulation has started,
    through ``body(pilot)``; stop the emulation after."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.bridge.started
            await body(pilot)
            await app.bridge.stop()

    asyncio.run(main())


async def until(pilot: Any, cond: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app run until ``cond()`` holds (fails after ``timeout`` wall seconds)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached in time"
        await pilot.pause(0.03)
