"""Scenario files: timed steps, validated against the topology before anything runs.

A scenario is TOML::

    [scenario]
    name = "..."            # optional
    [[step]]
    at = 0.0                # virtual seconds (at most MAX_TIME), or "end" (after the network drained)
    do = "pair-create"      # a command of rcnlab.ops.commands.COMMANDS
    ...                     # the command's own keys

Every problem raises `ScenarioError` with one line ``FILE: step[N].KEY: problem``.
"""

from __future__ import annotations

import math
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs

from rcnlab.formats import FormatError, parse_toml, read_text, structure
from rcnlab.formats.fields import bounded
from rcnlab.ops.commands import COMMANDS, MAX_TIME, Command, CreatePair
from rcnlab.topo.rules import given_order_id, no_order_id
from rcnlab.topo.schema import Topology


class ScenarioError(FormatError):
    """A scenario file that cannot be used; str() is ``FILE: KEY: problem`` on one line."""


@attrs.frozen(kw_only=True)
class Step:
    index: int
    at: float  # math.inf for "end"
    command: Command  # what the step does: an instance of COMMANDS[do]

    @property
    def do(self) -> str:
        return self.command.kind


@attrs.frozen(kw_only=True)
class Scenario:
    name: str
    path: str
    steps: tuple[Step, ...]
    description: str = ""


@attrs.frozen(kw_only=True)
class _Head:
    """The ``[scenario]`` table."""

    name: str | None = None
    description: str = ""


@attrs.frozen(kw_only=True)
class _File:
    scenario: _Head = _Head()
    step: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class _Time:
    """A step's ``at`` when it is a number."""

    at: float = attrs.field(validator=bounded(0, MAX_TIME, why="one virtual day"))


_VOLUME = re.compile(r"^[A-Za-z0-9_.]+(:\d+)?$")


def load_scenario(path: str | os.PathLike[str], topo: Topology | None = None) -> Scenario:
    where = os.fspath(path)
    return parse_scenario(_scenario_error(read_text, where), where, topo)


def parse_scenario(text: str, path: str, topo: Topology | None = None) -> Scenario:
    file = _scenario_error(lambda: structure(parse_toml(text, path), _File, path))
    steps = [_scenario_error(read_step, path, i, raw, topo) for i, raw in enumerate(file.step)]
    name = file.scenario.name if file.scenario.name is not None else Path(path).stem
    return Scenario(name=name, path=path, steps=tuple(steps), description=file.scenario.description)


def _scenario_error(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except FormatError as exc:
        raise ScenarioError(exc.path, exc.key, exc.problem) from None


def read_step(path: str, i: int, raw: dict[str, Any], topo: Topology | None) -> Step:
    """One ``[[step]]`` table: ``at``, ``do`` and the command's keys (FormatError if bad)."""
    where = f"step[{i}]"
    if "do" not in raw:
        raise FormatError(path, f"{where}.do", "missing (what the step does)")
    do = raw["do"]
    if do not in COMMANDS:
        raise FormatError(path, f"{where}.do", f"unknown step {do!r} (known: {', '.join(sorted(COMMANDS))})")
    if "at" not in raw:
        raise FormatError(path, f"{where}.at", "missing (virtual seconds, or \"end\")")
    at = math.inf if raw["at"] == "end" else structure({"at": raw["at"]}, _Time, path, where).at
    given = {k: v for k, v in raw.items() if k not in ("at", "do")}
    command = structure(given, COMMANDS[do], path, where)
    if topo is not None:
        check_names(path, where, {k: _plain(getattr(command, k)) for k in given}, topo)
        if isinstance(command, CreatePair):
            source, target = (f"{v.partition(':')[0]}:{int(v.partition(':')[2] or 0)}"
                              for v in (command.source, command.target))
            missing = no_order_id(topo.order_method, given_order_id(topo, source, target, command.order_id),
                                  f"pair {source}>{target}")
            if missing is not None:
                raise FormatError(path, f"{where}.order_id", missing.text)
    return Step(index=i, at=at, command=command)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def check_names(path: str, where: str, args: dict[str, Any], topo: Topology) -> None:
    """Names in the step must exist in the topology (FormatError if not)."""
    storages = {s.name: s for s in topo.storages}
    devices = set(topo.device_names())
    links = {link.name for link in topo.links} | {f"{link.b}-{link.a}" for link in topo.links}

    def fail(key: str, problem: str) -> FormatError:
        return FormatError(path, f"{where}.{key}", problem)

    for key in ("source", "target", "volume", "pair"):
        value = args.get(key)
        if value is None:
            continue
        if not _VOLUME.match(value):
            raise fail(key, f"expected STORAGE:LUN, got {value!r}")
        name, _, lun = value.partition(":")
        if name not in storages:
            raise fail(key, f"unknown storage {name!r}")
        luns = {v.lun for v in storages[name].volumes}
        if int(lun or 0) not in luns:
            raise fail(key, f"storage {name} has no LUN {int(lun or 0)}")
    for key in ("host", "device"):
        if key in args and args[key] not in devices:
            raise fail(key, f"unknown device {args[key]!r}")
    for name in args.get("devices") or ():
        if name not in devices:
            raise fail("devices", f"unknown device {name!r}")
    if "link" in args and args["link"] not in links:
        raise fail("link", f"unknown link {args['link']!r} (links are named A-B)")
    if args.get("direction") is not None:
        a, sep, b = args["direction"].partition(">")
        ends = set(args.get("link", "").split("-", 1))
        if not sep or {a, b} != ends or a == b:
            raise fail("direction", f"expected FROM>TO, the two ends of link {args.get('link')!r} "
                       f"(e.g. {'>'.join(sorted(ends))}), got {args['direction']!r}")
    if "site" in args and not any(d.site == args["site"] for d in (*topo.hosts, *topo.storages)):
        raise fail("site", f"no host or storage at site {args['site']!r}")
    if args.get("site") is not None and args.get("devices") is not None:
        raise fail("devices", "give site or devices, not both")
    customers = [c.id for c in topo.customers]
    if "customer" in args and args["customer"] not in customers:
        raise fail("customer", f"unknown customer {args['customer']!r} (known: {', '.join(customers)})")
    edges = {e.name for e in topo.edges}
    for name in args.get("edges") or ():
        if name not in edges:
            raise fail("edges", f"unknown edge {name!r}")
    for name in args.get("equal") or ():
        check_names(path, where, {"volume": name}, topo)
