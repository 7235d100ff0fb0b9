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

The action keys are validated exactly as a scenario step's (rcnlab.scenario.steps), so
every problem is one line ``FILE: step[N].KEY: problem``.
"""

from __future__ import annotations

import importlib
import math
import os
import pkgutil
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from rcnlab import shipped
from rcnlab.catalogue import CATALOGUE
from rcnlab.model.pair_state import PairState
from rcnlab.scenario import steps as scenario_steps
from rcnlab.scenario.steps import ScenarioError
from rcnlab.topo.load import TopologyError, load_topology
from rcnlab.topo.schema import Topology

PARTIES = ("source_storage", "source_edge", "target_edge", "target_storage")
STATES = {s.value for s in PairState}
TAG = re.compile(r"^fig(\d+):(\d+)$")


class WalkthroughError(ScenarioError):
    """One line: ``FILE: KEY: problem`` (the scenario format)."""


@attrs.frozen(kw_only=True)
class Condition:
    """``until``: stop the step's run as soon as this holds."""

    pair: str | None = None
    state: str | None = None
    party: str | None = None
    tag: str | None = None  # a step tag seen since the step began, e.g. "fig13:1312"
    event: str | None = None  # an event name seen since the step began

    def describe(self) -> str:
        if self.state is not None:
            who = f" at {self.party}" if self.party else ""
            return f"pair {self.pair} {self.state}{who}"
        return f"{self.tag or self.event} in the trace"


@attrs.frozen(kw_only=True)
class Checkpoint:
    """What must hold when the step's run is over. Only the keys given are checked."""

    index: int
    pair: str | None = None
    state: str | None = None
    party: str | None = None
    states: dict[str, str] | None = None  # party -> state
    equal: list[str] | None = None
    differ: list[str] | None = None
    remaining: int | tuple[float, float] | None = None  # log entries in the network (edges + cores)
    writes_acknowledged: int | None = None
    invariants: bool | None = None
    trace: list[str] | None = None  # tags that must occur since the step began, in this order
    absent: list[str] | None = None  # tags that must not occur since the step began
    events: dict[str, Any] | None = None  # event name -> count or [min, max] since the step began
    refused: str | bool | None = None  # the action must be refused (with this text in the reason)
    host_latency_ms: tuple[float, float] | None = None  # mean host write latency of the step's writes
    lag_ms: tuple[float, float] | None = None  # mean log creation (1902) -> reflection delay of the step
    summary: dict[str, Any] | None = None  # dotted path into the run summary -> value or [min, max]
    addresses: dict[str, str] | None = None  # volume -> the WWN its pair record addresses (Fig. 2: virtual)


@attrs.frozen(kw_only=True)
class WalkStep:
    index: int
    title: str
    say: str
    do: str | None
    args: dict[str, Any]
    figures: tuple[int, ...]
    steps: tuple[int, ...]
    run_for: float | None  # None: drain
    until: Condition | None
    checkpoints: tuple[Checkpoint, ...]

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


# -- the step kinds ----------------------------------------------------------------------
def load_step_kinds() -> None:
    """Import every module of rcnlab.scenario (and ours), so every step kind is registered."""
    import rcnlab.scenario as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        try:
            importlib.import_module(f"rcnlab.scenario.{info.name}")
        except ImportError:  # pragma: no cover - a half-written module of a colleague
            continue
    importlib.import_module("rcnlab.walkthrough.actions")


# -- finding files -------------------------------------------------------------------------
def available() -> list[Path]:
    """The shipped walkthroughs (topologies/walkthroughs)."""
    return shipped.available("walkthrough")


def resolve(name: str) -> Path:
    """A shipped walkthrough's name (its file stem), or a path."""
    return shipped.find("walkthrough", name)


# -- value checks ----------------------------------------------------------------------------
def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected a whole number, got {v!r}")
    return v


def _count(v: Any) -> int:
    n = _int(v)
    if n < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    return n


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"expected a non-empty string, got {v!r}")
    return v


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _span(v: Any) -> tuple[float, float]:
    if not isinstance(v, list) or len(v) != 2:
        raise ValueError(f"expected [min, max], got {v!r}")
    lo, hi = _number(v[0]), _number(v[1])
    if lo > hi:
        raise ValueError(f"min {lo:g} is above max {hi:g}")
    return (lo, hi)


def _state(v: Any) -> str:
    if v not in STATES:
        raise ValueError(f"unknown state {v!r} (known: {', '.join(s.value for s in PairState)})")
    return v


def _party(v: Any) -> str:
    if v not in PARTIES:
        raise ValueError(f"expected one of {', '.join(PARTIES)}, got {v!r}")
    return v


def _tag(v: Any) -> str:
    m = TAG.match(v) if isinstance(v, str) else None
    if m is None:
        raise ValueError(f"expected a step tag like \"fig19:1902\", got {v!r}")
    fig, num = f"fig{m.group(1)}", int(m.group(2))
    if fig not in CATALOGUE or num not in CATALOGUE[fig]:
        raise ValueError(f"{v!r} is not a step of the catalogue (rcnlab/catalogue.py)")
    return v


def _tags(v: Any) -> list[str]:
    if not isinstance(v, list) or not v:
        raise ValueError(f"expected a non-empty array of step tags, got {v!r}")
    return [_tag(x) for x in v]


def _names(v: Any) -> list[str]:
    if not isinstance(v, list) or len(v) < 2 or not all(isinstance(x, str) and x for x in v):
        raise ValueError(f"expected an array of at least two volumes (STORAGE:LUN), got {v!r}")
    return list(v)


def _flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def _refused(v: Any) -> str | bool:
    if isinstance(v, bool) or (isinstance(v, str) and v):
        return v
    raise ValueError(f"expected true or the text the refusal must contain, got {v!r}")


def _states(v: Any) -> dict[str, str]:
    if not isinstance(v, dict) or not v:
        raise ValueError(f"expected a table party = state, got {v!r}")
    return {_party(k): _state(s) for k, s in v.items()}


def _bound(v: Any) -> Any:
    if isinstance(v, list):
        return _span(v)
    if isinstance(v, str | bool):
        return v
    return _number(v)


def _addresses(v: Any) -> dict[str, str]:
    if not isinstance(v, dict) or not v or not all(isinstance(x, str) and x for x in v.values()):
        raise ValueError(f"expected a table \"STORAGE:LUN\" = \"WWN\", got {v!r}")
    return dict(v)


def _count_or_span(v: Any) -> int | tuple[float, float]:
    return _span(v) if isinstance(v, list) else _count(v)


def _event_counts(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict) or not v:
        raise ValueError(f"expected a table event-name = count or [min, max], got {v!r}")
    out = {}
    for k, n in v.items():
        out[k] = _span(n) if isinstance(n, list) else float(_count(n))
    return out


def _summary(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict) or not v:
        raise ValueError(f"expected a table \"dotted.path\" = value or [min, max], got {v!r}")
    return {k: _bound(x) for k, x in v.items()}


CHECKS: dict[str, Callable[[Any], Any]] = {
    "pair": _text, "state": _state, "party": _party, "states": _states, "equal": _names, "differ": _names,
    "remaining": _count_or_span, "writes_acknowledged": _count, "invariants": _flag, "trace": _tags, "absent": _tags,
    "events": _event_counts, "refused": _refused, "host_latency_ms": _span, "lag_ms": _span,
    "summary": _summary, "addresses": _addresses,
}
UNTIL: dict[str, Callable[[Any], Any]] = {"pair": _text, "state": _state, "party": _party, "tag": _tag,
                                          "event": _text}
OWN_KEYS = ("title", "say", "figure", "steps", "run_for", "until", "checkpoint", "do")


# -- loading ---------------------------------------------------------------------------------
def load_walkthrough(path: str | os.PathLike[str]) -> Walkthrough:
    where = os.fspath(path)
    try:
        text = Path(where).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WalkthroughError(where, "file", f"cannot read ({exc.__class__.__name__}: {exc})") from None
    return parse_walkthrough(text, where)


def parse_walkthrough(text: str, path: str) -> Walkthrough:
    load_step_kinds()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WalkthroughError(path, "toml", f"invalid TOML ({exc})") from None
    unknown = set(data) - {"walkthrough", "step"}
    if unknown:
        raise WalkthroughError(path, sorted(unknown)[0], "unknown table (expected [walkthrough] and [[step]])")
    head = data.get("walkthrough")
    if not isinstance(head, dict):
        raise WalkthroughError(path, "walkthrough", "missing [walkthrough] table (title, topology, seed, summary)")
    for key in head:
        if key not in ("title", "topology", "seed", "summary"):
            raise WalkthroughError(path, f"walkthrough.{key}", "unknown key (expected title, topology, seed, summary)")
    for key in ("title", "topology"):
        if key not in head:
            raise WalkthroughError(path, f"walkthrough.{key}", "missing")
    try:
        title = _text(head["title"])
        topo_rel = _text(head["topology"])
        seed = _count(head.get("seed", 0))
        summary = str(head.get("summary", ""))
    except ValueError as exc:
        bad = next(k for k in ("title", "topology", "seed") if k in head and not _ok(k, head[k]))
        raise WalkthroughError(path, f"walkthrough.{bad}", str(exc)) from None
    topo_path = (Path(path).parent / topo_rel) if not Path(topo_rel).is_absolute() else Path(topo_rel)
    try:
        topo = load_topology(topo_path)
    except TopologyError as exc:
        raise WalkthroughError(path, "walkthrough.topology", f"{topo_rel}: {exc}") from None
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise WalkthroughError(path, "step", "expected at least one [[step]]")
    steps = tuple(_step(path, i, raw, topo) for i, raw in enumerate(raw_steps))
    summary = "\n\n".join(" ".join(par.split()) for par in re.split(r"\n\s*\n", summary.strip()))
    return Walkthrough(name=Path(path).stem, path=path, title=title, summary=summary,
                       topology_path=str(topo_path), topology=topo, seed=seed, steps=steps)


def _ok(key: str, value: Any) -> bool:
    try:
        (_count if key == "seed" else _text)(value)
        return True
    except ValueError:
        return False


def _step(path: str, i: int, raw: Any, topo: Topology) -> WalkStep:
    where = f"step[{i}]"
    if not isinstance(raw, dict):
        raise WalkthroughError(path, where, "expected a table")

    def fail(key: str, problem: str) -> WalkthroughError:
        return WalkthroughError(path, f"{where}.{key}", problem)

    if "say" not in raw:
        raise fail("say", "missing (one or two sentences: what happens and why)")
    try:
        say = _text(raw["say"])
    except ValueError as exc:
        raise fail("say", str(exc)) from None
    title = raw.get("title", "")
    if not isinstance(title, str):
        raise fail("title", f"expected a string, got {title!r}")
    # the action: validated as a scenario step
    do = raw.get("do")
    action = {k: v for k, v in raw.items() if k not in OWN_KEYS}
    args: dict[str, Any] = {}
    if do is None:
        if action:
            raise fail(sorted(action)[0], "unknown key (a step without 'do' takes only "
                       + ", ".join(k for k in OWN_KEYS if k != "do") + ")")
    else:
        if "at" in action:
            raise fail("at", "walkthrough steps run one after another; use run_for on the step before")
        try:
            parsed = scenario_steps._step(path, i, {"at": 0.0, "do": do, **action}, topo)
        except ScenarioError as exc:
            raise WalkthroughError(exc.path, exc.key, exc.problem) from None
        args = parsed.args
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
            try:
                run_for = _number(v)
            except ValueError as exc:
                raise fail("run_for", f"{exc} (virtual seconds, or \"drain\")") from None
            if run_for < 0:
                raise fail("run_for", "must not be negative")
    until = None
    if "until" in raw:
        until = _until(raw["until"], fail, path, where, topo)
    # the checkpoints
    cps = raw.get("checkpoint", [])
    if isinstance(cps, dict):
        cps = [cps]
    if not isinstance(cps, list):
        raise fail("checkpoint", "expected a table [step.checkpoint] or tables [[step.checkpoint]]")
    checkpoints = tuple(_checkpoint(path, f"{where}.checkpoint" + (f"[{j}]" if len(cps) > 1 else ""), j, cp, topo)
                        for j, cp in enumerate(cps))
    return WalkStep(index=i, title=title, say=" ".join(say.split()), do=do, args=args, figures=tuple(figures),
                    steps=tuple(nums), run_for=run_for, until=until, checkpoints=checkpoints)


def _until(v: Any, fail: Callable[[str, str], WalkthroughError], path: str, where: str,
           topo: Topology) -> Condition:
    if not isinstance(v, dict) or not v:
        raise fail("until", "expected a table: { pair, state[, party] } or { tag } or { event }")
    args = {}
    for key, value in v.items():
        check = UNTIL.get(key)
        if check is None:
            raise fail(f"until.{key}", f"unknown key (allowed: {', '.join(UNTIL)})")
        try:
            args[key] = check(value)
        except ValueError as exc:
            raise fail(f"until.{key}", str(exc)) from None
    if ("state" in args) != ("pair" in args):
        raise fail("until", "'pair' and 'state' go together")
    if sum(k in args for k in ("state", "tag", "event")) != 1:
        raise fail("until", "give exactly one of: pair + state, tag, event")
    if "pair" in args:
        _names_exist(path, f"{where}.until", {"pair": args["pair"]}, topo)
    return Condition(**args)


def _checkpoint(path: str, where: str, index: int, raw: Any, topo: Topology) -> Checkpoint:
    if not isinstance(raw, dict) or not raw:
        raise WalkthroughError(path, where, "expected a non-empty table of checks")
    args: dict[str, Any] = {}
    for key, value in raw.items():
        check = CHECKS.get(key)
        if check is None:
            raise WalkthroughError(path, f"{where}.{key}", f"unknown check (allowed: {', '.join(CHECKS)})")
        try:
            args[key] = check(value)
        except ValueError as exc:
            raise WalkthroughError(path, f"{where}.{key}", str(exc)) from None
    if ("state" in args or "states" in args) and "pair" not in args:
        raise WalkthroughError(path, f"{where}.state", "needs 'pair' (the source volume, STORAGE:LUN)")
    if "party" in args and "state" not in args:
        raise WalkthroughError(path, f"{where}.party", "goes with 'state'")
    _names_exist(path, where, {k: args[k] for k in ("pair",) if k in args}, topo)
    for key in ("equal", "differ", "addresses"):
        for name in args.get(key, ()):
            _names_exist(path, f"{where}.{key}", {"volume": name}, topo)
    return Checkpoint(index=index, **args)


def _names_exist(path: str, where: str, args: dict[str, Any], topo: Topology) -> None:
    try:
        scenario_steps._check_names(path, where, args, topo)
    except ScenarioError as exc:
        raise WalkthroughError(exc.path, exc.key, exc.problem) from None
