"""The run summary: one JSON-able dict, and the rich rendering of it for people."""

from __future__ import annotations

from typing import Any

from rcnlab.check.invariants import check_all
from rcnlab.lab import Lab
from rcnlab.world import PairView, World


def summarize(net: World, lab: Lab | None = None) -> dict[str, Any]:
    """The run summary; with the operator's ``lab``, also ``failed_commands``: every pair
    command answered with an error or never answered, in the order of their answers (the
    unanswered last), each ``t`` (of the answer; null if none), ``issued``, ``command``,
    ``pair``, ``host``, ``reason`` and ``expected`` (an ``expect`` step said it would fail).
    ``customers``: what each customer sees through the management server's interface 501,
    from its collection, only its own, with ``age_s`` (`ManagementServer.customer_view`)."""
    views = net.pair_views()
    volumes = {}
    for s in net.storages:
        for lun, v in sorted(s.volumes.items()):
            volumes[f"{s.name}:{lun}"] = {"digest": v.digest(), "blocks_written": len(v.blocks)}
    groups = []
    for e in net.edges:
        for oid, g in sorted(e.groups.items()):
            groups.append({"device": e.name, "order_id": oid, "created": g.created, "reflected": g.reflected,
                           "deleted": g.deleted, "reflection_delay": round(g.reflection_delay, 9)})
    remaining = {e.name: e.log_entries for e in net.edges}
    remaining.update({c.name: c.held for c in net.cores})
    reflected = sum(s.reflected_writes for s in net.storages)
    links = {}
    for name, link in net.links.items():
        links[name] = {"state": link.state(), "frames_sent": sum(c.sent for c in link.channels),
                       "frames_dropped": sum(c.dropped for c in link.channels)}
    summary = {
        "seed": net.seed,
        "virtual_time": round(net.kernel.now, 9),
        "events": net.kernel.events_run,
        "pairs": [view.record() for view in views],
        "volumes": volumes,
        "order_groups": groups,
        "log_entries_remaining": remaining,
        "writes": {
            "issued": sum(h.issued for h in net.hosts),
            "acknowledged": sum(h.acknowledged for h in net.hosts),
            "failed": sum(h.failed for h in net.hosts),
            "reflected": reflected,
            "mean_latency": round(sum(h.latency_sum for h in net.hosts)
                                  / max(1, sum(h.acknowledged for h in net.hosts)), 9),
        },
        "copied_blocks": sum(p.copied_blocks for s in net.storages for p in s.pairs.values()),
        "differential_copied_blocks": sum(p.differential_blocks for s in net.storages for p in s.pairs.values()),
        "bitmaps": {view.name: _bitmaps(view) for view in views},
        "resent": sum(e.resent for e in net.edges),
        "links": links,
        "invariants": check_all(net),
        "customers": {c.id: net.management.customer_view(c.id) for c in net.topo.customers},
    }
    if lab is not None:
        summary["failed_commands"] = [h.record() for h in lab.failed_commands(final=True)]
    return summary


def _bitmaps(view: PairView) -> dict[str, int]:
    """Marked blocks per party: source storage 1211 (and what its copy job has still to
    send), source edge 727, target edge (727 of a failed-back pair on its way back),
    target storage 1213."""
    source_storage, source_edge, target_edge, target_storage = view.bitmaps
    return {"source_storage": source_storage + view.copy_left, "source_edge": source_edge,
            "target_edge": target_edge, "target_storage": target_storage}
