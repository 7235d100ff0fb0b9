"""The run summary: one JSON-able dict, and the rich rendering of it for people."""

from __future__ import annotations

from typing import Any

from rcnlab.emu.network import Network
from rcnlab.lab import Lab


def summarize(net: Network, lab: Lab | None = None) -> dict[str, Any]:
    lab = lab or Lab(net)
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
    bitmaps = {}
    for s in net.storages:
        for lun, p in s.pairs.items():
            bitmaps[f"{s.name}:{lun}"] = len(p.bitmap)
    for e in net.edges:
        for p in e.pairs.values():
            if p.source.wwn in e.attached:
                bitmaps[f"{e.name}:{lab.name_of(p.source)}"] = len(p.bitmap)
    return {
        "seed": net.seed,
        "virtual_time": round(net.kernel.now, 9),
        "events": net.kernel.events_run,
        "pairs": lab.pairs(),
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
        "bitmaps": bitmaps,
        "resent": sum(e.resent for e in net.edges),
        "links": links,
    }
