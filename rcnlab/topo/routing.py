"""Routing 408 as the configuration program 502 derives it (SPEC section 3, "Routing").

A route joins two edge devices over GbE links through core devices only:
``(src_edge, core, ..., dst_edge)``. The chosen route has the fewest cores; cores whose
load has reached their capacity and anything named in ``down`` (a device, or a link
as "A-B") are avoided; among equally short routes the lexicographically smallest
sequence of names wins, so the same topology always gives the same routes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping

from rcnlab.model.kinds import LinkKind
from rcnlab.topo.schema import Topology


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
) -> tuple[str, ...] | None:
    """The route from ``src_edge`` to ``dst_edge`` with the fewest cores, or None if there is none.

    ``load`` counts the routes already assigned to each core; a core whose load has
    reached its ``capacity`` is not used.
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
    adjacent = gbe_neighbours(topo, down)

    def steps(name: str) -> list[str]:
        """Where a route may go next: a usable core, or the destination edge."""
        return sorted(n for n in adjacent.get(name, ()) if n in usable or n == dst_edge)

    # Hops to the destination, walking backwards from it through usable cores.
    hops = {dst_edge: 0}
    queue = deque([dst_edge])
    while queue:
        here = queue.popleft()
        for there in adjacent.get(here, ()):
            if there in usable and there not in hops:
                hops[there] = hops[here] + 1
                queue.append(there)
    # The source edge may be next to the destination or to a core that reaches it.
    first = [n for n in steps(src_edge) if n in hops]
    if not first:
        return None
    # Every shortest route has the same length, so taking the smallest name at each
    # step that still lies on a shortest route gives the lexicographically smallest one.
    best = min(hops[n] for n in first)
    route = [src_edge, min(n for n in first if hops[n] == best)]
    while route[-1] != dst_edge:
        route.append(min(n for n in steps(route[-1]) if hops.get(n) == hops[route[-1]] - 1))
    return tuple(route)


def route_ips(topo: Topology, names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The IP addresses of a route's devices (713/714: edge, cores..., edge)."""
    ips = {d.name: d.ip for d in topo.edges} | {d.name: d.ip for d in topo.cores}
    return tuple(ips[name] for name in names)
