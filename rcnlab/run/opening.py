"""Opening a session for a program: the topology by shipped name, file or in-code spec,
with overrides merged into its tables before it is read, a seed, the checker on or off.

An override names a key as the loader's messages do, dotted, an array of tables
indexed by position or by the ``name`` of its entry (a link by ``A-B``):
``lab.block_size``, ``storage[ST112].volumes``, ``storage[0].copy_rate``,
``link[E104-C202].loss``. A table given as the value is merged into the one there."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from typing import Any

from rcnlab import shipped
from rcnlab.errors import BadInput
from rcnlab.formats import FormatError, parse_toml, read_text
from rcnlab.run.session import Session
from rcnlab.topo.load import TopologyError, topology_from_data
from rcnlab.topo.schema import Topology

_SEGMENT = re.compile(r"([A-Za-z0-9_-]+)((?:\[[^\[\]]+\])*)")
_INDEX = re.compile(r"\[([^\[\]]+)\]")


def open_session(topology: str | os.PathLike[str] | Mapping[str, Any] | Topology | None = None, *,
                 overrides: Mapping[str, Any] | None = None, seed: int = 0, check: bool = True) -> Session:
    """A session on ``topology``: a shipped name (``"fig1"``, the default), a path to a
    topology file, the topology's tables as a dict (what the TOML file would hold), or a
    loaded `Topology`. ``overrides`` (key -> value, see the module) change the tables
    before they are read; ``seed`` fixes every random draw; ``check`` runs the invariant
    checker alongside. Anything wrong raises `BadInput` with one line."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadInput(f"seed must be a whole number, got {seed!r}")
    return Session.open(load(topology, overrides), seed=seed, check=bool(check))


def load(topology: str | os.PathLike[str] | Mapping[str, Any] | Topology | None,
         overrides: Mapping[str, Any] | None = None) -> Topology:
    """The topology ``open_session`` opens (see there)."""
    if isinstance(topology, Topology):
        if overrides:
            raise BadInput("overrides apply to a topology file, name or spec, not to a loaded Topology")
        return topology
    if topology is None or isinstance(topology, (str, os.PathLike)):
        path = _path(os.fspath(topology) if topology is not None else "fig1")
        try:
            data = parse_toml(read_text(path), path)
        except FormatError as exc:
            raise BadInput(str(exc)) from None
    elif isinstance(topology, Mapping):
        data, path = copy.deepcopy(dict(topology)), "<spec>"
    else:
        raise BadInput(f"topology must be a name, a path, a dict or a Topology, not {type(topology).__name__}")
    for key, value in (overrides or {}).items():
        _override(data, key, value)
    try:
        return topology_from_data(data, path)
    except TopologyError as exc:
        given = ", ".join(f"{k}={v!r}" for k, v in (overrides or {}).items())
        raise BadInput(f"{exc} (with overrides {given})" if given else str(exc)) from None


def _path(text: str) -> str:
    path = shipped.find("topology", text)
    if shipped.is_name(text) and not path.is_file():
        raise BadInput(shipped.unknown("topology", text))
    return os.fspath(path)


def _override(data: dict[str, Any], key: object, value: Any) -> None:
    """Set ``key`` (dotted, see the module) in ``data`` to ``value``; a table merges."""
    if not isinstance(key, str) or not key:
        raise BadInput(f"override {key!r}: a key is text such as 'lab.block_size'")
    segments = key.split(".")
    table: Any = data
    for n, segment in enumerate(segments):
        found = _SEGMENT.fullmatch(segment)
        if found is None:
            raise BadInput(f"override {key!r}: {segment!r} is not a key (name, or name[index])")
        name, indices = found[1], _INDEX.findall(found[2])
        last = n == len(segments) - 1
        if last and not indices:
            old = table.get(name)
            table[name] = _merged(old, value) if isinstance(old, dict) and isinstance(value, Mapping) else value
            return
        table = table.setdefault(name, [] if indices else {})
        where = ".".join(segments[:n]) + ("." if n else "") + name
        for index in indices:
            table = _entry(key, where, table, index)
            where += f"[{index}]"
        if last:  # name[index] = {...}: the entry itself
            if not isinstance(value, Mapping):
                raise BadInput(f"override {key!r}: an entry of {name} is a table; give a dict")
            table.update(_merged(table, value))
            return
        if not isinstance(table, dict):
            raise BadInput(f"override {key!r}: {where} is not a table")


def _entry(key: str, where: str, array: Any, index: str) -> Any:
    """The entry of an array of tables named by position or by its ``name`` (a link's ``A-B``)."""
    if not isinstance(array, list):
        raise BadInput(f"override {key!r}: {where} is not an array")
    if index.isdigit():
        if int(index) >= len(array):
            raise BadInput(f"override {key!r}: {where} has {len(array)} entries, no [{index}]")
        return array[int(index)]
    for entry in array:
        if isinstance(entry, dict) and (entry.get("name") == index or (
                "a" in entry and index in (f"{entry['a']}-{entry.get('b')}", f"{entry.get('b')}-{entry['a']}"))):
            return entry
    names = ", ".join(str(e.get("name") or f"{e.get('a')}-{e.get('b')}") for e in array if isinstance(e, dict))
    raise BadInput(f"override {key!r}: {where} has no entry {index!r} (entries: {names or 'none'})")


def _merged(old: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for k, v in new.items():
        out[k] = _merged(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, Mapping) else copy.deepcopy(v)
    return out
