"""Walkthrough files: narrated steps, each an action, a run and checkpoints.

A walkthrough is TOML (``topologies/walkthroughs/NAME.toml``)::

    [walkthrough]
    title = "A write, end to end"
    topology = "../fig1.toml"     # relative to this file
    seed = 7                      # default 0
    summary = "..."               # one paragraph, shown first

    [[step]]
    title = "Pair the volumes"    # optional short title
    do = "pair-create"            # optional: a scenario step kind, with its own keys
    source = "ST112:0"
    target = "ST122:0"
    mode = "sync"
    say = "One or two sentences: what happens and why."
    steps = [1001, 1002, 1003]    # the patent's step numbers this step shows (figure = number // 100)
    figure = 10                   # optional: the figure(s) shown; default derived from ``steps``
    run_for = "drain"             # virtual seconds, or "drain" (default): until only housekeeping is left
    until = { pair = "ST112:0", state = "Duplex" }   # optional: stop as soon as this holds
    [[step.checkpoint]]           # zero or more; each key is one check
    pair = "ST112:0"
    state = "Duplex"

The file is read by rcnlab.formats and the action keys are validated exactly as a
scenario step's (rcnlab.scenario.steps), so every problem is one line
``FILE: step[N].KEY: problem``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import attrs

from rcnlab import shipped
from rcnlab.catalogue import CATALOGUE
from rcnlab.formats import FormatError, parse_toml, read_text, structure
from rcnlab.formats.fields import (
    Bad,
    Bound,
    CountOrSpan,
    Refusal,
    Span,
    State,
    Tag,
    Text,
    bounded,
    non_empty,
    two_or_more,
)
from rcnlab.model.kinds import Party
from rcnlab.ops.commands import MAX_TIME, Command
from rcnlab.scenario import steps as scenario_steps
from rcnlab.scenario.steps import ScenarioError
from rcnlab.topo.load import TopologyError, load_topology
from rcnlab.topo.schema import Topology


class WalkthroughError(ScenarioError):
    """One line: ``FILE: KEY: problem`` (the scenario format)."""


@attrs.frozen(kw_only=True)
class _Head:
    """The ``[walkthrough]`` table."""

    title: Text
    topology: Text  # relative to the walkthrough file
    seed: int = attrs.field(default=0, validator=bounded(0))
    summary: str = ""


@attrs.frozen(kw_only=True)
class _File:
    walkthrough: _Head
    step: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class _RunFor:
    """A step's ``run_for`` when it is a number."""

    run_for: float = attrs.field(validator=bounded(0, MAX_TIME, why="one virtual day"))


@attrs.frozen(kw_only=True)
class Condition:
    """``until``: stop the step's run as soon as this holds (pair + state, a tag, or an event)."""

    pair: Text | None = None
    state: State | None = None
    party: Party | None = None
    tag: Tag | None = None  # a step tag seen since the step began, e.g. "fig13:1312"
    event: Text | None = None  # an event name seen since the step began

    def __attrs_post_init__(self) -> None:
        if (self.state is None) != (self.pair is None):
            raise Bad("'pair' and 'state' go together")
        if sum(v is not None for v in (self.state, self.tag, self.event)) != 1:
            raise Bad("give exactly one of: pair + state, tag, event")

    def describe(self) -> str:
        if self.state is not None:
            who = f" at {self.party}" if self.party else ""
            return f"pair {self.pair} {self.state}{who}"
        return f"{self.tag or self.event} in the trace"


def _counts_as_numbers(events: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if events is None else {k: v if isinstance(v, tuple) else float(v) for k, v in events.items()}


@attrs.frozen(kw_only=True)
class Checkpoint:
    """What must hold when the step's run is over. Only the keys given are checked."""

    index: int = attrs.field(default=0, metadata={"derived": True})  # its place in the step
    pair: Text | None = None
    state: State | None = None
    party: Party | None = None
    states: dict[Party, State] | None = attrs.field(default=None, validator=non_empty)
    equal: list[Text] | None = attrs.field(default=None, validator=two_or_more)
    differ: list[Text] | None = attrs.field(default=None, validator=two_or_more)
    remaining: CountOrSpan | None = None  # log entries in the network (edges + cores)
    writes_acknowledged: int | None = attrs.field(default=None, validator=bounded(0))
    invariants: bool | None = None
    trace: list[Tag] | None = attrs.field(default=None, validator=non_empty)  # tags in this order
    absent: list[Tag] | None = attrs.field(default=None, validator=non_empty)  # tags that must not occur
    #: event name -> count or [min, max] since the step began
    events: dict[str, CountOrSpan] | None = attrs.field(default=None, validator=non_empty,
                                                        converter=_counts_as_numbers)
    refused: Refusal | None = None  # the action must be refused (with this text in the reason)
    host_latency_ms: Span | None = None  # mean host write latency of the step's writes
    lag_ms: Span | None = None  # mean log creation (1902) -> reflection delay of the step
    summary: dict[str, Bound] | None = attrs.field(default=None, validator=non_empty)  # dotted path -> value
    #: volume -> the WWN its pair record addresses (Fig. 2: virtual)
    addresses: dict[str, Text] | None = attrs.field(default=None, validator=non_empty)

    def __attrs_post_init__(self) -> None:
        if all(getattr(self, a.name) is None for a in attrs.fields(type(self)) if a.name != "index"):
            raise Bad("expected a non-empty table of checks")
        if (self.state is not None or self.states is not None) and self.pair is None:
            raise Bad("needs 'pair' (the source volume, STORAGE:LUN)", "state")
        if self.party is not None and self.state is None:
            raise Bad("goes with 'state'", "party")


@attrs.frozen(kw_only=True)
class WalkStep:
    index: int
    title: str
    say: str
    command: Command | None  # the step's action (a scenario step's command), or none
    figures: tuple[int, ...]
    steps: tuple[int, ...]
    run_for: float | None  # None: drain
    until: Condition | None
    checkpoints: tuple[Checkpoint, ...]

    @property
    def do(self) -> str | None:
        return self.command.kind if self.command is not None else None

    @property
    def tags(self) -> list[str]:
        return [f"fig{n // 100}:{n}" for n in self.steps]

    def heading(self) -> str:
        """'Fig. 19, steps 1901-1904' (or several figures)."""
        parts = []
        for fig in self.figures:
            nums = [n for n in self.steps if n // 100 == fig]
            if not nums:
                parts.append(f"Fig. {fig}")
            else:
                parts.append(f"Fig. {fig}, step{'s' if len(nums) > 1 else ''} {_ranges(nums)}")
        return "; ".join(parts)


@attrs.frozen(kw_only=True)
class Walkthrough:
    name: str
    path: str
    title: str
    summary: str
    topology_path: str
    topology: Topology
    seed: int
    steps: tuple[WalkStep, ...]


def _ranges(nums: list[int]) -> str:
    """[1901, 1902, 1903, 1905] -> '1901-1903, 1905'."""
    out: list[str] = []
    start = prev = nums[0]
    for n in nums[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


# -- finding files -------------------------------------------------------------------------
def available() -> list[Path]:
    """The shipped walkthroughs (topologies/walkthroughs)."""
    return shipped.available("walkthrough")


def resolve(name: str) -> Path:
    """A shipped walkthrough's name (its file stem), or a path."""
    return shipped.find("walkthrough", name)


OWN_KEYS = ("title", "say", "figure", "steps", "run_for", "until", "checkpoint", "do")


# -- loading ---------------------------------------------------------------------------------
def load_walkthrough(path: str | os.PathLike[str]) -> Walkthrough:
    where = os.fspath(path)
    return parse_walkthrough(_walkthrough_error(read_text, where), where)


def _walkthrough_error(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except FormatError as exc:
        raise WalkthroughError(exc.path, exc.key, exc.problem) from None


def parse_walkthrough(text: str, path: str) -> Walkthrough:
    file = _walkthrough_error(lambda: structure(parse_toml(text, path), _File, path))
    head = file.walkthrough
    topo_path = (Path(path).parent / head.topology) if not Path(head.topology).is_absolute() else Path(head.topology)
    try:
        topo = load_topology(topo_path)
    except TopologyError as exc:
        raise WalkthroughError(path, "walkthrough.topology", f"{head.topology}: {exc}") from None
    if not file.step:
        raise WalkthroughError(path, "step", "expected at least one [[step]]")
    steps = tuple(_step(path, i, raw, topo) for i, raw in enumerate(file.step))
    summary = "\n\n".join(" ".join(par.split()) for par in re.split(r"\n\s*\n", head.summary.strip()))
    return Walkthrough(name=Path(path).stem, path=path, title=head.title, summary=summary,
                       topology_path=str(topo_path), topology=topo, seed=head.seed, steps=steps)


def _step(path: str, i: int, raw: Any, topo: Topology) -> WalkStep:
    where = f"step[{i}]"
    if not isinstance(raw, dict):
        raise WalkthroughError(path, where, "expected a table")

    def fail(key: str, problem: str) -> WalkthroughError:
        return WalkthroughError(path, f"{where}.{key}", problem)

    if "say" not in raw:
        raise fail("say", "missing (one or two sentences: what happens and why)")
    say = _walkthrough_error(structure, raw["say"], Text, path, f"{where}.say")
    title = _walkthrough_error(structure, raw.get("title", ""), str, path, f"{where}.title")
    # the action: validated as a scenario step
    do = raw.get("do")
    action = {k: v for k, v in raw.items() if k not in OWN_KEYS}
    command = None
    if do is None:
        if action:
            raise fail(sorted(action)[0], "unknown key (a step without 'do' takes only "
                       + ", ".join(k for k in OWN_KEYS if k != "do") + ")")
    else:
        if "at" in action:
            raise fail("at", "walkthrough steps run one after another; use run_for on the step before")
        command = _walkthrough_error(scenario_steps.read_step, path, i, {"at": 0.0, "do": do, **action}, topo).command
    # the patent's figure and steps
    nums: list[int] = []
    if "steps" in raw:
        v = raw["steps"]
        if not isinstance(v, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in v):
            raise fail("steps", f"expected an array of step numbers like [1901, 1902], got {v!r}")
        for n in v:
            fig = f"fig{n // 100}"
            if fig not in CATALOGUE or n not in CATALOGUE[fig]:
                raise fail("steps", f"{n} is not a step of the catalogue (Fig. 9-22, rcnlab/catalogue.py)")
        nums = list(v)
    figures = list(dict.fromkeys(n // 100 for n in nums))
    if "figure" in raw:
        v = raw["figure"]
        given = v if isinstance(v, list) else [v]
        if not given or not all(isinstance(f, int) and not isinstance(f, bool) and 1 <= f <= 22 for f in given):
            raise fail("figure", f"expected a figure number 1-22 or an array of them, got {v!r}")
        stray = [n for n in nums if n // 100 not in given]
        if stray:
            raise fail("steps", f"{stray[0]} belongs to Fig. {stray[0] // 100}, which 'figure' does not name")
        figures = list(dict.fromkeys(given))
    # the run
    run_for: float | None = None
    if "run_for" in raw:
        v = raw["run_for"]
        if v != "drain":
            run_for = _walkthrough_error(structure, {"run_for": v}, _RunFor, path, where).run_for
    until = None
    if "until" in raw:
        until = _walkthrough_error(structure, raw["until"], Condition, path, f"{where}.until")
        _names_exist(path, f"{where}.until", {"pair": until.pair}, topo)
    # the checkpoints
    cps = raw.get("checkpoint", [])
    if isinstance(cps, dict):
        cps = [cps]
    if not isinstance(cps, list):
        raise fail("checkpoint", "expected a table [step.checkpoint] or tables [[step.checkpoint]]")
    checkpoints = tuple(_checkpoint(path, f"{where}.checkpoint" + (f"[{j}]" if len(cps) > 1 else ""), j, cp, topo)
                        for j, cp in enumerate(cps))
    return WalkStep(index=i, title=title, say=" ".join(say.split()), command=command, figures=tuple(figures),
                    steps=tuple(nums), run_for=run_for, until=until, checkpoints=checkpoints)


def _checkpoint(path: str, where: str, index: int, raw: Any, topo: Topology) -> Checkpoint:
    cp = attrs.evolve(_walkthrough_error(structure, raw, Checkpoint, path, where), index=index)
    _names_exist(path, where, {"pair": cp.pair}, topo)
    for key in ("equal", "differ", "addresses"):
        for name in getattr(cp, key) or ():
            _names_exist(path, f"{where}.{key}", {"volume": name}, topo)
    return cp


def _names_exist(path: str, where: str, args: dict[str, Any], topo: Topology) -> None:
    _walkthrough_error(scenario_steps.check_names, path, where, args, topo)
