"""What the lab's screen shows, computed from the network without Textual: the
pairs and their four parties, the RPO, the hint for a newcomer, selection targets."""

from __future__ import annotations

import math
from typing import Any

from rcnlab.model.kinds import Party, Site
from rcnlab.model.pair_state import PairState
from rcnlab.model.rio import RioKind
from rcnlab.world import PairView, World

S = PairState


def pairs(net: World) -> list[PairView]:
    try:
        return net.pair_views()
    except Exception:  # a half-built pair mid-command: show nothing rather than fail
        return []


def oldest_unreflected(net: World) -> float | None:
    """The I/O time of the oldest write the source edges still hold (not yet answered
    WROK by the target side), or None when every write has been reflected."""
    oldest = math.inf
    for edge in net.edges:
        for held in edge.held.values():
            entry = held.entry
            if entry.io_time < oldest and entry.rio.kind is RioKind.WR and not entry.rio.copy:
                oldest = entry.io_time
    return None if math.isinf(oldest) else oldest


def rpo(net: World, now: float, tracker: SuspendTracker | None = None) -> float:
    """Recovery point objective now: the age of the oldest unreflected write (0 if none).
    While a pair is suspended with blocks marked in its bitmaps, the target stands at the
    moment of the suspension, so the RPO is at least the time since then."""
    t = oldest_unreflected(net)
    if tracker is not None:
        since = tracker.oldest(net)
        if since is not None:
            t = since if t is None else min(t, since)
    return 0.0 if t is None else max(0.0, now - t)


SUSPENDED = (str(S.SUSPEND), str(S.FAILURE_SUSPEND), str(S.SUSPENDING))


class SuspendTracker:
    """A journal sink (of EVENTS): when each pair's source side left Duplex for a suspended state."""

    EVENTS = frozenset({"pair-state"})

    def __init__(self) -> None:
        self.since: dict[str, float] = {}

    def __call__(self, ev: Any) -> None:
        if ev.event != "pair-state" or ev.fields.get("party") not in (Party.SOURCE_STORAGE, Party.SOURCE_EDGE):
            return
        pair = ev.fields.get("pair")
        if ev.fields.get("new") in SUSPENDED:
            self.since.setdefault(pair, ev.t)
        else:
            self.since.pop(pair, None)

    def oldest(self, net: World) -> float | None:
        """The earliest suspension whose pair has blocks waiting in a bitmap (1211/727/1213)."""
        if not self.since:
            return None
        marked = any(p.bitmap for s in net.storages for p in s.pairs.values()) or any(
            p.bitmap for e in net.edges for p in e.pairs.values())
        return min(self.since.values()) if marked else None


#: Events a person looks for after the fact: failures, and every change of a pair's state.
NOTABLE = frozenset({
    "pair-state", "pair-swapped", "failover-done", "failover-timeout", "failback-requested", "swapped-back",
    "swap-back-abandoned", "state-conflict", "frame-dropped", "remote-copy-failed", "access-denied", "rio-refused",
    "rio-error", "entry-refused", "entries-lost", "log-lost", "log-full", "bitmap-full", "no-route", "path-failed",
    "request-failed", "command-refused", "command-timed-out", "expectation-failed", "rule-broken", "write-failed",
    "link-failed", "link-restored", "device-crashed", "device-restarted", "site-failed", "site-restored",
    "partitioned", "healed"})


def workload_rate(net: World) -> float:
    return sum(h.workload_rate for h in net.hosts)


def down_links(net: World) -> list[str]:
    return [name for name, link in net.links.items() if link.state() in ("down", "one-way")]


def hint(net: World, paused: bool, selected: str | None) -> str:
    """One line telling a newcomer what to do next."""
    ps = pairs(net)
    prefix = "Paused: space resumes, . steps one event. " if paused else ""
    if not ps:
        return prefix + ("No pair yet. Press c to create a pair (source, target, sync/async) "
                         "or l for a guided walkthrough.")
    p = ps[0]
    states = set(p.states)
    src = p.source
    down = down_links(net)
    if p.takeover:  # failed over (Fig. 13): failback is what comes next
        if writers := old_source_writers(net, p):
            return prefix + (f"Failed over, yet {writers[0]} still writes to the old source {src}: those writes "
                             f"are lost at failback (an array fences it). x stops them; b fails back.")
        return prefix + (f"Failed over (Fig. 13): the target site now serves {p.target}. "
                         f"b fails back to {src} once the source site is whole.")
    if states & {S.INITIAL_COPYING, S.DUPLEX_PENDING}:
        return prefix + f"Pair {src} is copying (see the pair panel). Wait for Duplex; + speeds up time."
    if states == {S.DUPLEX}:
        if workload_rate(net) <= 0:
            return prefix + "Pair is Duplex. Press w to start a workload on it."
        if down:
            return prefix + f"Link {down[0]} is down; writes pile up until the resends give up (908)."
        if selected in net.links:
            return prefix + f"Writes flow. {selected} is selected: f cuts it (] [ select another link or device)."
        return prefix + "Writes flow. Select a link ([ ] or mouse, e.g. E104-C202); f cuts it."
    if S.FAILURE_SUSPEND in states:
        if down:
            return prefix + f"failure Suspend (908): select {down[0]}, press u to restore it, then r to resync."
        return prefix + "failure Suspend: the network is whole again. Press r to resync (Fig. 12) to Duplex."
    if S.SUSPENDING in states:  # (a party already in Suspend waits for the others: no resync yet)
        return prefix + "Suspending: what is still held for the pair is reflected on the target, then Suspend."
    if S.SUSPEND in states:
        return prefix + "Pair suspended: r resyncs, o fails over to the target site, d deletes the pair."
    return prefix + "Press ? for help, ctrl+p for every command."


def fenced(net: World, volume: str) -> PairView | None:
    """The pair that failed over away from ``volume`` (its old source), if one did: the
    target host owns the data now and an array fences the old source."""
    return next((p for p in pairs(net) if p.takeover and p.source == volume), None)


def old_source_writers(net: World, p: PairView) -> list[str]:
    """The hosts whose workload still writes to ``p``'s source volume."""
    return [h.name for h in net.hosts if any(wl.timer is not None and wl.volume == p.source_ref for wl in h.workloads)]


def selected_kind(net: World, selected: str | None) -> str | None:
    """"link", a device kind ("edge", "core", ...) or None."""
    if selected is None:
        return None
    if selected in net.links:
        return "link"
    dev = net.devices.get(selected)
    return dev.kind if dev is not None else None


def site_of(net: World, device: str) -> Site | None:
    topo = net.topo
    for group in (topo.hosts, topo.storages, topo.edges):
        for spec in group:
            if spec.name == device:
                return spec.site
    if any(c.name == device for c in topo.cores):
        return Site.NETWORK
    return None


def preload(net: World, blocks: int) -> list[str]:
    """Give the source site's volumes ``blocks`` blocks of data (seeded), as if they had
    been in use before the lab started, so that an initial copy (1013) has something to
    copy and its progress can be watched. Returns the volumes filled."""
    if blocks <= 0:
        return []
    filled = []
    rng = net.rng("tui:preload")
    for storage in net.storages:
        if storage.spec.site is not Site.SOURCE:
            continue
        for lun, volume in storage.volumes.items():
            n = min(blocks, volume.size)
            for block in range(n):
                volume.blocks[block] = rng.randbytes(volume.block_size)
            filled.append(f"{storage.name}:{lun}")
            storage.emit("note", None, text=f"{storage.name}:{lun} holds {n} blocks of earlier data (preloaded)")
    return filled
