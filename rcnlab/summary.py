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
    bitmaps = _bitmaps(net, lab)
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
        "differential_copied_blocks": sum(p.differential_blocks for s in net.storages for p in s.pairs.values()),
        "bitmaps": bitmaps,
        "resent": sum(e.resent for e in net.edges),
        "links": links,
        **_invariants(net),
    }


def _bitmaps(net: Network, lab: Lab) -> dict[str, dict[str, int]]:
    """Marked blocks per pair ("SOURCE>TARGET") and party: source storage 1211, source edge
    727, target edge (727 of a failed-back pair on its way back), target storage 1213."""
    out: dict[str, dict[str, int]] = {}
    for storage in net.storages:
        for pair in storage.pairs.values():
            if pair.role != "source":
                continue
            target = lab._real(pair.remote, storage)
            target_storage = next((s for s in net.storages if s.wwn == target.wwn), None)
            src_edge = lab._edge_pair(storage.edge, pair.local, target)
            dst_edge = lab._edge_pair(target_storage.edge, pair.local, target) if target_storage else None
            tpair = target_storage.pairs.get(target.lun) if target_storage else None
            out[f"{lab.name_of(pair.local)}>{lab.name_of(target)}"] = {
                "source_storage": len(pair.bitmap) + (len(pair.copy.blocks) - pair.copy.done if pair.copy else 0),
                "source_edge": len(src_edge.bitmap) if src_edge else 0,
                "target_edge": len(dst_edge.bitmap) if dst_edge else 0,
                "target_storage": len(tpair.bitmap) if tpair is not None and tpair.role == "target" else 0,
            }
    return out


def _invariants(net: Network) -> dict[str, Any]:
    """SPEC section 4's checks, when the checker module is there (it is written in parallel)."""
    try:
        from rcnlab.check.invariants import check_all
    except ImportError:
        return {}
    return {"invariants": check_all(net)}
