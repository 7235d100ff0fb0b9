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
from rcnlab.topo.load import builtin_topology_path, load_topology, parse_topology
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
def make_app(tmp_path: Path, **kwargs: Any) -> Any:
    """The lab (``RcnLabApp``) on the built-in topology, seed 7 unless given, writing into
    ``tmp_path``; its notifications stay (a slow machine must not see one expire unread)."""
    from rcnlab.tui.app import RcnLabApp

    kwargs.setdefault("seed", 7)
    app = RcnLabApp(load_topology(builtin_topology_path()), out_dir=tmp_path, **kwargs)
    app.NOTIFICATION_TIMEOUT = 3600
    return app


#: Wall seconds a TUI test waits for a condition before it fails: it only bounds a failure
#: (a loaded machine is slow, never wrong), so it is generous.
TIMEOUT = 60.0
POLL = 0.02


def run_app(app: Any, body: Callable[[Any], Awaitable[None]], size: tuple[int, int] = (160, 48)) -> None:
    """Run the lab headless (``App.run_test``) at ``size``, once its emulation has started
    and its panels are drawn, through ``body(pilot)``; stop the emulation after."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await app.bridge.started
            await until(pilot, lambda: app.refreshes > 0)
            await body(pilot)
            await app.bridge.stop()

    asyncio.run(main())


async def until(pilot: Any, cond: Callable[[], Any], timeout: float = TIMEOUT) -> None:
    """Let the app run until ``cond()`` holds; fail if it does not within ``timeout`` wall seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, f"condition not reached in {timeout:g} s"
        await asyncio.sleep(POLL)


async def refreshed(pilot: Any, times: int = 1) -> None:
    """Wait until the lab has brought its panels up to date with the emulation ``times`` more
    times: each of those refreshes began after this call, so they show the emulation as it is now."""
    app = pilot.app
    goal = app.refreshes + times
    await until(pilot, lambda: app.refreshes >= goal)


async def act(pilot: Any, *keys: str) -> None:
    """Press each key and wait until the action it is bound to has run to its end (a
    command's answer has come back from the emulation; notifications are posted, see noted)."""
    app = pilot.app
    for key in keys:
        goal = app.actions_run + 1
        await pilot.press(key)
        await until(pilot, lambda: app.actions_run >= goal)


def notes(app: Any) -> list[str]:
    """The notifications on screen, as "title: message"."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def noted(pilot: Any, text: str) -> list[str]:
    """Wait until a notification holds ``text``; the notifications that do."""
    await until(pilot, lambda: any(text in n for n in notes(pilot.app)))
    return [n for n in notes(pilot.app) if text in n]


async def settled(pilot: Any, polls: int = 3) -> None:
    """Wait until the screen's picture stands still: the same after ``polls`` refreshes of
    the lab in a row (a layout may take another pass, e.g. when scrollbars appear)."""
    app = pilot.app
    pictures: list[str] = []
    seen = -1

    def still() -> bool:
        nonlocal seen
        if app.refreshes != seen:
            seen = app.refreshes
            pictures.append(app.export_screenshot())
        return len(pictures) > polls and len(set(pictures[-polls:])) == 1

    await until(pilot, still)
