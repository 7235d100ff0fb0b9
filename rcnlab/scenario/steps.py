"""Scenario files: timed steps, validated against the topology before anything runs.

A scenario is TOML::

    [scenario]
    name = "..."            # optional
    [[step]]
    at = 0.0                # virtual seconds, or "end" (after the network drained)
    do = "pair-create"      # one of STEPS below
    ...                     # the step's own keys

Every problem raises `ScenarioError` with one line ``FILE: step[N].KEY: problem``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from rcnlab.topo.schema import Topology


class ScenarioError(Exception):
    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: {key}: {problem}")


@attrs.frozen(kw_only=True)
class Step:
    index: int
    at: float  # math.inf for "end"
    do: str
    args: dict[str, Any]


@attrs.frozen(kw_only=True)
class Scenario:
    name: str
    path: str
    steps: tuple[Step, ...]
    description: str = ""


# -- value kinds ------------------------------------------------------------------------
def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _positive(v: Any) -> float:
    n = _number(v)
    if n <= 0:
        raise ValueError(f"must be positive, got {v!r}")
    return n


def _count(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    return v


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"expected a non-empty string, got {v!r}")
    return v


def _flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def _names(v: Any) -> list[str]:
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise ValueError(f"expected a non-empty array of names, got {v!r}")
    return list(v)


def _span(v: Any) -> tuple[int, int]:
    if (not isinstance(v, list) or len(v) != 2 or not all(isinstance(x, int) and not isinstance(x, bool)
                                                          for x in v)):
        raise ValueError(f"expected [first, last), two whole numbers, got {v!r}")
    return (v[0], v[1])


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {v!r}")
        return v

    return check


def _any(v: Any) -> Any:
    return v


#: Per step kind: (required keys, optional keys), each key -> its check.
STEPS: dict[str, tuple[dict[str, Callable[[Any], Any]], dict[str, Callable[[Any], Any]]]] = {
    "pair-create": ({"source": _text, "target": _text},
                    {"mode": _choice("sync", "async"), "order_id": _count, "host": _text}),
    "write": ({"volume": _text, "block": _count}, {"host": _text, "data": _text}),
    "workload": ({"volume": _text, "rate": _positive},
                 {"host": _text, "count": _count, "duration": _positive, "blocks": _span}),
    "stop-workload": ({}, {}),
    "set-link": ({"link": _text}, {"latency_ms": _number, "jitter_ms": _number, "bandwidth_mbps": _positive,
                                   "loss": _number, "mtu": _count, "distance_km": _number}),
    "expect": ({}, {"pair": _text, "state": _text, "party": _choice("source_storage", "source_edge",
                                                                   "target_edge", "target_storage"),
                    "equal": _names, "remaining": _count, "writes_acknowledged": _count,
                    "invariants": _flag}),
    "note": ({"text": _text}, {}),
    # -- faults (issue 3) --
    "fail": ({"link": _text}, {"direction": _text}),
    "restore": ({"link": _text}, {"direction": _text}),
    "crash": ({"device": _text}, {}),
    "restart": ({"device": _text}, {}),
    "site-failure": ({}, {"site": _choice("source", "network", "target"), "devices": _names}),
    "site-restore": ({}, {"site": _choice("source", "network", "target"), "devices": _names}),
    "partition": ({"devices": _names}, {}),
    "heal": ({}, {"devices": _names}),
    # -- recovery: operator commands --
    "suspend": ({"volume": _text}, {"host": _text}),
    "resync": ({"volume": _text}, {"host": _text}),
    "failover": ({"volume": _text}, {"prompt": _flag, "host": _text}),
    "fetch-remaining": ({"volume": _text}, {}),
    "failback": ({"volume": _text}, {"swap_back": _flag, "host": _text}),
    "delete-pair": ({"volume": _text}, {"host": _text}),
}

_VOLUME = re.compile(r"^[A-Za-z0-9_.]+(:\d+)?$")


def register(name: str, required: dict[str, Callable[[Any], Any]], optional: dict[str, Callable[[Any], Any]]) -> None:
    """Add a step kind (the faults and walkthrough modules add theirs)."""
    STEPS[name] = (required, optional)


def load_scenario(path: str | os.PathLike[str], topo: Topology | None = None) -> Scenario:
    where = os.fspath(path)
    try:
        text = Path(where).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(where, "file", f"cannot read ({exc.__class__.__name__}: {exc})") from None
    return parse_scenario(text, where, topo)


def parse_scenario(text: str, path: str, topo: Topology | None = None) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "toml", f"invalid TOML ({exc})") from None
    unknown = set(data) - {"scenario", "step"}
    if unknown:
        raise ScenarioError(path, sorted(unknown)[0], "unknown table (expected [scenario] and [[step]])")
    head = data.get("scenario", {})
    if not isinstance(head, dict):
        raise ScenarioError(path, "scenario", "expected a table")
    for key in head:
        if key not in ("name", "description"):
            raise ScenarioError(path, f"scenario.{key}", "unknown key (expected name, description)")
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list):
        raise ScenarioError(path, "step", "expected an array of tables [[step]]")
    steps = [_step(path, i, raw, topo) for i, raw in enumerate(raw_steps)]
    return Scenario(name=str(head.get("name", Path(path).stem)), path=path, steps=tuple(steps),
                    description=str(head.get("description", "")))


def _step(path: str, i: int, raw: Any, topo: Topology | None) -> Step:
    where = f"step[{i}]"
    if not isinstance(raw, dict):
        raise ScenarioError(path, where, "expected a table")
    if "do" not in raw:
        raise ScenarioError(path, f"{where}.do", "missing (what the step does)")
    do = raw["do"]
    if do not in STEPS:
        raise ScenarioError(path, f"{where}.do", f"unknown step {do!r} (known: {', '.join(sorted(STEPS))})")
    if "at" not in raw:
        raise ScenarioError(path, f"{where}.at", "missing (virtual seconds, or \"end\")")
    at_raw = raw["at"]
    if at_raw == "end":
        at = math.inf
    else:
        try:
            at = _number(at_raw)
        except ValueError as exc:
            raise ScenarioError(path, f"{where}.at", f"{exc} (or \"end\")") from None
        if at < 0:
            raise ScenarioError(path, f"{where}.at", "must not be negative")
    required, optional = STEPS[do]
    args: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("at", "do"):
            continue
        check = required.get(key) or optional.get(key)
        if check is None:
            allowed = ", ".join(sorted({*required, *optional})) or "none"
            raise ScenarioError(path, f"{where}.{key}", f"unknown key for {do!r} (allowed: {allowed})")
        try:
            args[key] = check(value)
        except ValueError as exc:
            raise ScenarioError(path, f"{where}.{key}", str(exc)) from None
    for key in required:
        if key not in args:
            raise ScenarioError(path, f"{where}.{key}", f"missing (required by {do!r})")
    if topo is not None:
        _check_names(path, where, args, topo)
    return Step(index=i, at=at, do=do, args=args)


def _check_names(path: str, where: str, args: dict[str, Any], topo: Topology) -> None:
    """Names in the step must exist in the topology."""
    storages = {s.name: s for s in topo.storages}
    devices = set(topo.device_names())
    links = {link.name for link in topo.links} | {f"{link.b}-{link.a}" for link in topo.links}
    for key in ("source", "target", "volume", "pair"):
        value = args.get(key)
        if value is None:
            continue
        if not _VOLUME.match(value):
            raise ScenarioError(path, f"{where}.{key}", f"expected STORAGE:LUN, got {value!r}")
        name, _, lun = value.partition(":")
        if name not in storages:
            raise ScenarioError(path, f"{where}.{key}", f"unknown storage {name!r}")
        luns = {v.lun for v in storages[name].volumes}
        if int(lun or 0) not in luns:
            raise ScenarioError(path, f"{where}.{key}", f"storage {name} has no LUN {int(lun or 0)}")
    for key in ("host", "device"):
        if key in args and args[key] not in devices:
            raise ScenarioError(path, f"{where}.{key}", f"unknown device {args[key]!r}")
    for key in ("devices",):
        for name in args.get(key, ()):
            if name not in devices:
                raise ScenarioError(path, f"{where}.{key}", f"unknown device {name!r}")
    if "link" in args and args["link"] not in links:
        raise ScenarioError(path, f"{where}.link", f"unknown link {args['link']!r} (links are named A-B)")
    if "direction" in args:
        a, sep, b = args["direction"].partition(">")
        ends = set(args.get("link", "").split("-", 1))
        if not sep or {a, b} != ends or a == b:
            raise ScenarioError(path, f"{where}.direction", f"expected FROM>TO, the two ends of link "
                                f"{args.get('link')!r} (e.g. {'>'.join(sorted(ends))}), got {args['direction']!r}")
    for key in ("site",):
        if key in args and not any(d.site == args[key] for d in (*topo.hosts, *topo.storages)):
            raise ScenarioError(path, f"{where}.{key}", f"no host or storage at site {args[key]!r}")
    if args.get("site") is not None and args.get("devices") is not None:
        raise ScenarioError(path, f"{where}.devices", "give site or devices, not both")
    for name in args.get("equal", ()):
        _check_names(path, where, {"volume": name}, topo)
