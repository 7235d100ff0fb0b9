"""The patent's numbered steps (SPEC.md section 5), each figure's in the patent's order,
and the check that a trace shows them in that order, one instance at a time.

Traces tag events ``figN:STEP``. The order is the order the text walks through
them, which is not always numeric (Fig. 17 updates the pair state, 1711, before
1708). The patent's misnumberings are settled as SPEC.md says: Fig. 10's ninth
step is 1009, Fig. 22's last is 2212.

**Per instance.** A figure's steps are checked within one instance of its flow, never
across the whole trace (else a later write would supply a step an earlier one
skipped). A write (Fig. 16, 19, 20) is followed through its keys: the host's command
tag, the source storage's FC exchange ID and the log entry's order assurance ID and
sequence number (``write_instances``). The other figures are a pair command's flow
(creation, Duplex transition, resync, failover, and the edges' flow charts of them):
an instance runs from the figure's first step to its next occurrence (``segments``).

**Fig. 16 is a partial order.** The patent's text walks the arrows 1601-1610 in
number order, but 1604 (the storage answers its host) and 1605 (the edge sends the
log entry on) happen on different devices and neither waits for the other: the edge
sends the entry as soon as it has answered with WROK (1603, 1904-1906), so in time
1605 leaves before 1604 arrives back at the storage. And with an asynchronous
storage program the storage answers its host (1604) as it sends the WR (1602),
before the edge's WROK (1603): that is what asynchronous means. So rcnlab checks
Fig. 16 as what causes what: 1601 < 1602 < 1603 < 1605 < 1606 < ... < 1610, and
1602 < 1604 (a synchronous program adds 1603 < 1604, which its traces show).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from rcnlab.model.steps import all_tags


def _catalogue() -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for tag in all_tags():
        figure, number = tag.split(":")
        out.setdefault(figure, []).append(int(number))
    return {figure: tuple(numbers) for figure, numbers in out.items()}


#: Each figure's step numbers, in the patent's order (read from ``rcnlab.model.steps``).
CATALOGUE: dict[str, tuple[int, ...]] = _catalogue()

TITLES = {
    "fig9": "Fig. 9 life cycle",
    "fig10": "Fig. 10 pair creation to Initial-Copying",
    "fig11": "Fig. 11 Duplex transition",
    "fig12": "Fig. 12 resync",
    "fig13": "Fig. 13 failover",
    "fig16": "Fig. 16 write timeline",
    "fig17": "Fig. 17 source edge, pair creation",
    "fig18": "Fig. 18 source edge, Duplex transition",
    "fig19": "Fig. 19 source edge, write",
    "fig20": "Fig. 20 target edge, write",
    "fig21": "Fig. 21 target edge, pair creation",
    "fig22": "Fig. 22 target edge, Duplex transition",
}

#: The figures whose instance is one write.
WRITE_FIGURES = frozenset({"fig16", "fig19", "fig20"})


def _before() -> dict[str, set[tuple[str, str]]]:
    """Per figure, the pairs (a, b): a comes before b in one instance (transitively closed)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for figure, numbers in CATALOGUE.items():
        order = [f"{figure}:{n}" for n in numbers]
        edges = set(pairwise(order))
        if figure == "fig16":  # see the module docstring
            edges -= {("fig16:1603", "fig16:1604"), ("fig16:1604", "fig16:1605")}
            edges |= {("fig16:1602", "fig16:1604"), ("fig16:1603", "fig16:1605")}
        closed = set(edges)
        while True:
            more = {(a, d) for a, b in closed for c, d in closed if b == c} - closed
            if not more:
                break
            closed |= more
        out[figure] = closed
    return out


#: Per figure, which step must come before which within one instance.
BEFORE: dict[str, set[tuple[str, str]]] = _before()


def tags(figure: str) -> list[str]:
    return [f"{figure}:{n}" for n in CATALOGUE[figure]]


# -- events and their instances ------------------------------------------------------------
def _parts(e: Any) -> tuple[float, str, str | None, Mapping[str, Any]]:
    """(t, device, step, fields) of a TraceEvent or of its dict (a JSON trace line)."""
    if isinstance(e, Mapping):
        return e["t"], e["device"], e.get("step"), e
    return e.t, e.device, e.step, e.fields


def _keys(device: str, f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """What names the write an event belongs to: the host's command tag, the source
    storage's FC exchange ID (xid), the log entry's order assurance ID and number."""
    out: list[tuple[Any, ...]] = []
    tag = f.get("tag")
    if tag is not None:
        out.append(("host", f.get("host", device), tag))
    xid = f.get("xid")
    if xid:
        wwn = str(f.get("source") or f.get("volume", "")).partition("/")[0]
        out.append(("xid", wwn, xid))
    if "order_id" in f and "seq" in f:
        out.append(("entry", f["order_id"], f["seq"]))
    what = f.get("what")
    if isinstance(what, str) and what.startswith("log[") and "#" in what:  # log[WR#1.3]
        order_id, _, seq = what[what.index("#") + 1:-1].partition(".")
        if order_id.isdigit() and seq.isdigit():
            out.append(("entry", int(order_id), int(seq)))
    return out


def write_instances(events: Iterable[Any]) -> list[list[str]]:
    """The step tags of each write (or other log entry), in trace order. An event that
    names no key belongs to the instance of the event before it on the same device at
    the same instant (a device's handler runs to its end before the next one starts)."""
    parent: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def find(k: tuple[Any, ...]) -> tuple[Any, ...]:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    placed: list[tuple[tuple[Any, ...], str]] = []
    last: dict[str, tuple[float, tuple[Any, ...]]] = {}
    for e in events:
        t, device, step, fields = _parts(e)
        keys = _keys(device, fields)
        if keys:
            for k in keys[1:]:
                parent[find(k)] = find(keys[0])
            key = keys[0]
            last[device] = (t, key)
        elif device in last and last[device][0] == t:
            key = last[device][1]
        else:
            continue
        if step:
            placed.append((key, step))
    out: dict[tuple[Any, ...], list[str]] = {}
    for key, step in placed:
        out.setdefault(find(key), []).append(step)
    return list(out.values())


def segments(events: Iterable[Any], figure: str) -> list[list[str]]:
    """The figure's step tags cut into instances: each runs from an occurrence of the
    figure's first step to the next (what comes before the first is one more)."""
    first = tags(figure)[0]
    out: list[list[str]] = [[]]
    for e in events:
        step = e if isinstance(e, str) else _parts(e)[2]
        if not step or not step.startswith(figure + ":"):
            continue
        if step == first and out[-1]:
            out.append([])
        out[-1].append(step)
    return out


def instances(events: Sequence[Any], figure: str) -> list[list[str]]:
    """The step tags of each instance of ``figure``'s flow in ``events`` (TraceEvents,
    their dicts, or bare step tags, which are taken as one instance)."""
    if events and isinstance(events[0], str):
        return [[t for t in events if t.startswith(figure + ":")]]
    if figure in WRITE_FIGURES:
        return [[t for t in inst if t.startswith(figure + ":")] for inst in write_instances(events)]
    return segments(events, figure)


def order_problem(instance: Sequence[str], wanted: Sequence[str]) -> str | None:
    """What keeps ``instance`` (one instance's tags, in trace order) from showing each
    of ``wanted`` in its figure's order, or None."""
    first: dict[str, int] = {}
    for i, t in enumerate(instance):
        first.setdefault(t, i)
    for t in wanted:
        if t not in first:
            return f"no {t}"
    for a in wanted:
        for b in wanted:
            if (a, b) in BEFORE.get(a.split(":")[0], ()) and first[a] > first[b]:
                return f"{b} before {a}"
    return None


def missing(seen_in_order: Sequence[Any], figure: str) -> list[str]:
    """The figure's steps that ``seen_in_order`` (trace events or step tags) lacks anywhere."""
    seen = {e if isinstance(e, str) else _parts(e)[2] for e in seen_in_order}
    return [t for t in tags(figure) if t not in seen]


def not_in_order(seen_in_order: Sequence[Any], figure: str, wanted: Sequence[str] | None = None) -> str | None:
    """None when one instance of the figure's flow in ``seen_in_order`` (trace events;
    bare step tags count as one instance) shows all of ``wanted`` (default: all the
    figure's steps) in the patent's order; else what the instance that came closest
    lacks or has out of order (``no fig13:1309``, ``fig16:1605 before fig16:1603``)."""
    wanted = list(wanted) if wanted is not None else tags(figure)
    best: tuple[int, str] | None = None
    for inst in instances(seen_in_order, figure):
        problem = order_problem(inst, wanted)
        if problem is None:
            return None
        have = len(set(inst) & set(wanted))
        if best is None or have > best[0]:
            best = (have, problem)
    return best[1] if best is not None else f"no {wanted[0]}"
