"""Routing 408 as the configuration program 502 derives it (SPEC section 3, "Routing").

A route joins two edge devices over GbE links through core devices only:
``(src_edge, core, ..., dst_edge)``. The chosen route has the fewest cores; cores whose
load has reached their capacity and anything named in ``down`` (a device, or a link
as "A-B") are avoided. Among equally short routes the one where batch transfers 420
are most effective wins: the most routes sharing cores that batch (each core with a
batch wait counts one plus the routes it already carries); after that the
lexicographically smallest sequence of names, so the same topology always gives the
same routes.

`plan_routes` routes the storage pairs of a lab: the pairs with volume pairs first,
each kept on its route while nothing on it is down (rerouting is per pair), and the
storage pairs nobody pairs yet only with the capacity left over.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from itertools import pairwise

import attrs

from rcnlab.model.kinds import LinkKind
from rcnlab.topo.schema import Topology

#: A storage pair by storage names (711/712 by name), and a route by device names.
StoragePair = tuple[str, str]
Path = tuple[str, ...]


def gbe_neighbours(topo: Topology, down: Collection[str] = ()) -> dict[str, set[str]]:
    """Adjacency over the GbE links that are not down (either "A-B" or "B-A" names a link)."""
    adjacent: dict[str, set[str]] = {}
    for link in topo.links:
        if link.kind is not LinkKind.GBE or link.name in down or f"{link.b}-{link.a}" in down:
            continue
        adjacent.setdefault(link.a, set()).add(link.b)
        adjacent.setdefault(link.b, set()).add(link.a)
    return adjacent


def find_route(
    topo: Topology,
    src_edge: str,
    dst_edge: str,
    load: Mapping[str, int] | None = None,
    down: Collection[str] = (),
) -> Path | None:
    """The route from ``src_edge`` to ``dst_edge`` with the fewest cores, or None if there is none.

    ``load`` counts the routes already assigned to each core; a core whose load has
    reached its ``capacity`` is not used. Ties go to batch effectiveness, then names.
    """
    edges = {e.name for e in topo.edges}
    for name in (src_edge, dst_edge):
        if name not in edges:
            raise KeyError(f"not an edge device: {name!r}")
    if src_edge in down or dst_edge in down:
        return None
    if src_edge == dst_edge:
        return (src_edge,)
    load = load or {}
    usable = {c.name for c in topo.cores if c.name not in down and load.get(c.name, 0) < c.capacity}
    batching = {c.name: 1 + load.get(c.name, 0) for c in topo.cores if c.batch_wait > 0}
    adjacent = gbe_neighbours(topo, down)

    # Hops to the destination, walking backwards from it through usable cores.
    hops = {dst_edge: 0}
    queue = deque([dst_edge])
    while queue:
        here = queue.popleft()
        for there in adjacent.get(here, ()):
            if there in usable and there not in hops:
                hops[there] = hops[here] + 1
                queue.append(there)

    @cache
    def best(name: str) -> tuple[int, Path]:
        """The best rest of a shortest route from ``name``: (minus its batch score, names)."""
        if name == dst_edge:
            return 0, ()
        options = []
        for there in adjacent.get(name, ()):
            if hops.get(there) == hops[name] - 1 and (there in usable or there == dst_edge):
                score, rest = best(there)
                options.append((score - batching.get(there, 0), (there, *rest)))
        return min(options)

    first = [n for n in adjacent.get(src_edge, ()) if n in hops and (n in usable or n == dst_edge)]
    if not first:
        return None
    shortest = min(hops[n] for n in first)
    _, rest = min((s - batching.get(n, 0), (n, *r)) for n in first if hops[n] == shortest
                      for s, r in [best(n)])
    return (src_edge, *rest)


def route_ips(topo: Topology, names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The IP addresses of a route's devices (713/714: edge, cores..., edge)."""
    ips = {d.name: d.ip for d in topo.edges} | {d.name: d.ip for d in topo.cores}
    return tuple(ips[name] for name in names)


def avoids(path: Path, down: Collection[str]) -> bool:
    """Whether nothing on ``path`` (a device, or a link either way round) is in ``down``."""
    return not any(name in down for name in path) and not any(
        f"{a}-{b}" in down or f"{b}-{a}" in down for a, b in pairwise(path))


@attrs.frozen(kw_only=True)
class Refusal:
    """A storage pair whose route crosses something down and no detour fits."""

    pair: StoragePair
    failed: tuple[str, ...]  # what is down on its route
    reason: str  # which capacity did not fit, or that no path avoids what is down


@attrs.frozen(kw_only=True)
class RoutePlan:
    routes: dict[StoragePair, Path]  # in the order of the pairs asked for
    refused: tuple[Refusal, ...] = ()


def plan_routes(topo: Topology, pairs: Sequence[StoragePair], used: Collection[StoragePair],
                current: Mapping[StoragePair, Path], down: Collection[str] = ()) -> RoutePlan:
    """Routes for ``pairs`` (storage names). The ``used`` ones (a volume pair exists)
    come first: each keeps its ``current`` route while that avoids ``down``, else gets
    the best route the capacity left allows, or keeps it with a `Refusal` saying why no
    detour fits. The
    others come last and take only what is left (kept if their route still fits). A
    pair whose own edge is down keeps its route: no other route would serve it."""
    edge_of = {s.name: s.edge for s in topo.storages}
    capacity = {c.name: c.capacity for c in topo.cores}
    load: dict[str, int] = {}
    routes: dict[StoragePair, Path] = {}
    refused: list[Refusal] = []

    def take(pair: StoragePair, path: Path) -> None:
        routes[pair] = path
        for core in path[1:-1]:
            load[core] = load.get(core, 0) + 1

    def fits(path: Path) -> bool:
        return all(load.get(core, 0) < capacity[core] for core in path[1:-1])

    real = [p for p in pairs if p in used]
    spare = [p for p in pairs if p not in used]
    moved = []
    for pair in real:
        path = current.get(pair)
        ends_down = edge_of[pair[0]] in down or edge_of[pair[1]] in down
        if path is not None and (ends_down or avoids(path, down)):
            take(pair, path)
        elif not ends_down:
            moved.append(pair)
    for pair in moved:
        path = find_route(topo, edge_of[pair[0]], edge_of[pair[1]], load, down)
        if path is not None:
            take(pair, path)
            continue
        old = current.get(pair, ())
        if old:
            routes[pair] = old  # kept (it carries nothing while the failure lasts), not counted
        failed = tuple(n for n in old if n in down) + tuple(
            f"{a}-{b}" for a, b in pairwise(old) if f"{a}-{b}" in down or f"{b}-{a}" in down)
        refused.append(Refusal(pair=pair, failed=failed, reason=_why_not(topo, edge_of, pair, load, down)))
    for pair in spare:
        path = current.get(pair)
        if path is None or not avoids(path, down) or not fits(path):
            path = find_route(topo, edge_of[pair[0]], edge_of[pair[1]], load, down)
        if path is not None:
            take(pair, path)
    return RoutePlan(routes={p: routes[p] for p in pairs if p in routes}, refused=tuple(refused))


def _why_not(topo: Topology, edge_of: Mapping[str, str], pair: StoragePair, load: Mapping[str, int],
             down: Collection[str]) -> str:
    """Why no route fits: the full cores on the best route capacity aside, or no path at all."""
    path = find_route(topo, edge_of[pair[0]], edge_of[pair[1]], None, down)
    if path is None:
        return f"no path avoids {', '.join(sorted(down))}"
    full = [c for c in topo.cores if c.name in path[1:-1] and load.get(c.name, 0) >= c.capacity]
    return "; ".join(f"{c.name} carries {load.get(c.name, 0)} routes, its capacity is {c.capacity}" for c in full)
