"""Warnings about flow (``rcnlab check``): settings that work but overload or waste.

A resend timeout shorter than a route's round trip sends every entry twice; a copy
rate or a workload above the bandwidth of a link on the route is paced to it (the
copy waits, or with ``log_policy = "throttle"`` the host does). Each is one line; none
is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES
from rcnlab.model.tables import Route
from rcnlab.topo.schema import Topology


def flow_warnings(topo: Topology, routes: Iterable[Route], rates: Mapping[str, float] | None = None) -> list[str]:
    """One line per problem. ``rates``: host writes per second to each storage (from a scenario)."""
    links = {frozenset((ls.a, ls.b)): ls for ls in topo.links}
    storages = {s.wwn: s for s in topo.storages}
    edges = {e.name: e for e in topo.edges}
    cores = {c.name: c for c in topo.cores}
    entry = LOG_ENTRY_HEADER_BYTES + topo.block_size
    out: list[str] = []
    for route in routes:
        source, target = storages.get(route.source_wwn), storages.get(route.target_wwn)
        edge = edges.get(route.devices[0])
        if source is None or target is None or edge is None:
            continue
        along = [links.get(frozenset(hop)) for hop in zip(route.devices, route.devices[1:])]
        source_fc, target_fc = (links.get(frozenset((s.name, s.edge))) for s in (source, target))
        trip = [ls for ls in (*along, target_fc) if ls is not None]  # an entry out, reflected, answered
        hops = [ls for ls in (source_fc, *trip) if ls is not None]
        if not hops:
            continue
        name = "-".join(route.devices)
        round_trip = 2 * sum(ls.latency + ls.jitter for ls in trip) + 2 * sum(
            cores[d].batch_wait for d in route.devices if d in cores)
        if edge.resend_timeout < round_trip:
            out.append(f"{topo.path}: warning: edge {edge.name}: resend_timeout_ms = {edge.resend_timeout * 1e3:g} "
                       f"is shorter than the round trip of route {name} ({round_trip * 1e3:.3g} ms): "
                       "every entry will be sent again")
        slowest = min(hops, key=lambda ls: ls.bandwidth)
        for what, per_second in (("copy_rate", source.copy_rate), ("workload", (rates or {}).get(source.name, 0.0))):
            need = per_second * entry
            if need > slowest.bandwidth:
                out.append(f"{topo.path}: warning: storage {source.name}: {what} {per_second:g} blocks/s "
                           f"({need * 8e-6:.3g} Mbit/s) exceeds link {slowest.name} "
                           f"({slowest.bandwidth * 8e-6:.3g} Mbit/s) on route {name}: "
                           f"{'the copy waits for the link' if what == 'copy_rate' else _paced(edge.log_policy)}")
    return list(dict.fromkeys(out))


def _paced(policy: str) -> str:
    return ("its hosts are throttled" if policy == "throttle"
            else "the log storage area fills, and the pair suspends when it is full (log_policy = \"suspend\")")
