"""The handlers of the faults and link changes the operator (or a scenario) brings
about, the fuzzer's ``heal-all`` and ``break-rule``, and the walkthroughs' ``forge-write``."""

from __future__ import annotations

from typing import Any

from rcnlab.devices.storage import ExternalStorage
from rcnlab.lab import Lab, LabError
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.rio import Rio, RioKind
from rcnlab.ops.commands import (
    BreakRule,
    Crash,
    FailLink,
    ForgeWrite,
    Heal,
    HealAll,
    Partition,
    Restart,
    RestoreLink,
    Rule,
    SetLink,
    SiteFailure,
    SiteRestore,
)
from rcnlab.topo.schema import SECONDS_PER_KM

#: Jitter (seconds) that ``break-rule reorder-before-edge`` puts on every storage-edge link.
REORDER_JITTER = 0.001


def _channels(link: Any, direction: str | None) -> list[Any]:
    if direction is None:
        return list(link.channels)
    src, sep, dst = direction.partition(">")
    for ch in link.channels:
        if (ch.src, ch.dst) == (src, dst):
            return [ch]
    raise LabError(f"link {link.name} has no direction {direction!r} (use {link.a}>{link.b} or {link.b}>{link.a})")


def _fc_logins(lab: Lab, channels: list[Any]) -> None:
    """A storage whose link to its edge came back logs in again (the edge hears of it)."""
    ends = {name for ch in channels for name in (ch.src, ch.dst)}
    for storage in lab.net.storages:
        if storage.name in ends and storage.edge in ends and storage.up:
            storage.link_restored()


def fail_link(lab: Lab, c: FailLink) -> None:
    """Cut a link both ways, or one way only (``direction`` "A>B"); frames on it are lost."""
    link = lab.link(c.link)
    for ch in _channels(link, c.direction):
        ch.fail()
    lab.net.management.emit("link-failed", None, link=link.name, direction=c.direction or "both")


def restore_link(lab: Lab, c: RestoreLink) -> None:
    link = lab.link(c.link)
    channels = _channels(link, c.direction)
    for ch in channels:
        ch.restore()
    _fc_logins(lab, channels)
    lab.net.management.emit("link-restored", None, link=link.name, direction=c.direction or "both")
    lab.net.management.refresh_routes()


def set_link(lab: Lab, c: SetLink) -> None:
    """Change a link's data at run time (both directions); the command's fields are in range."""
    link = lab.link(c.link)
    if c.latency_ms is not None and c.distance_km is not None:
        raise LabError("give latency_ms or distance_km, not both")
    changes: dict[str, float] = {}
    if c.latency_ms is not None:
        changes["latency"] = c.latency_ms / 1000
    if c.distance_km is not None:
        changes["latency"] = c.distance_km * SECONDS_PER_KM
    if c.jitter_ms is not None:
        changes["jitter"] = c.jitter_ms / 1000
    if c.bandwidth_mbps is not None:
        changes["bandwidth"] = c.bandwidth_mbps * 1e6 / 8
    if c.loss is not None:
        changes["loss"] = c.loss
    if c.mtu is not None:
        changes["mtu"] = c.mtu
    for ch in link.channels:
        for key, value in changes.items():
            setattr(ch, key, value)
    lab.net.management.emit("link-changed", None, link=link.name, **changes)


def crash(lab: Lab, c: Crash) -> None:
    dev = lab.device(c.device)
    if not dev.up:
        raise LabError(f"{c.device} is already down")
    dev.crash()
    lab.net.management.emit("device-crashed", None, device=c.device)
    lab.net.management.watch()


def restart(lab: Lab, c: Restart) -> None:
    dev = lab.device(c.device)
    if dev.up:
        raise LabError(f"{c.device} is already up")
    dev.restart()
    lab.net.management.emit("device-restarted", None, device=c.device)
    lab.net.management.refresh_routes()


def _site_devices(lab: Lab, site: str | None, devices: list[str] | None) -> list[str]:
    if (site is None) == (devices is None):
        raise LabError("give a site or a list of devices, not both or neither")
    if devices is not None:
        for name in devices:
            lab.device(name)
        return list(devices)
    net = lab.net
    names = [d.name for d in (*net.hosts, *net.storages) if d.spec.site == site]
    if not names:
        sites = sorted({d.spec.site for d in (*net.hosts, *net.storages)})
        raise LabError(f"no host or storage at site {site!r} (sites: {', '.join(sites)})")
    return names


def site_failure(lab: Lab, c: SiteFailure) -> list[str]:
    """A site disaster: every host and storage of ``site`` (or the named ``devices``)
    goes down together; the management server notices when their reports stop (1301,
    after its ``site_timeout``). Returns the names."""
    net = lab.net
    down = [n for n in _site_devices(lab, c.site, c.devices) if net.devices[n].up]
    if not down:
        raise LabError(f"site {c.site or ', '.join(c.devices or ())} is already down")
    for name in down:
        net.devices[name].crash()
    net.management.emit("site-failed", None, site=c.site, devices=down)
    net.management.watch()
    return down


def site_restore(lab: Lab, c: SiteRestore) -> list[str]:
    """The site's hosts and storages come back (volumes and pair records were on disk)."""
    net = lab.net
    up = [n for n in _site_devices(lab, c.site, c.devices) if not net.devices[n].up]
    if not up:
        raise LabError(f"site {c.site or ', '.join(c.devices or ())} is not down")
    for name in up:
        net.devices[name].restart()
    net.management.emit("site-restored", None, site=c.site, devices=up)
    return up


def partition(lab: Lab, c: Partition) -> list[str]:
    """Cut ``devices`` off from the rest: every link with one end inside fails (both
    ways). Returns the links cut; ``heal`` restores them."""
    inside = frozenset(c.devices)
    for name in inside:
        lab.device(name)
    channels = [ch for link in lab.net.links.values() if (link.a in inside) != (link.b in inside)
                for ch in link.channels if ch.up]
    if not channels:
        raise LabError(f"no working link crosses the cut around {', '.join(sorted(inside))}")
    for ch in channels:
        ch.fail()
    cut = sorted({ch.link for ch in channels})
    lab.partitions.append((inside, channels))
    lab.net.management.emit("partitioned", None, devices=sorted(inside), links=cut)
    return cut


def heal(lab: Lab, c: Heal) -> list[str]:
    """Undo partitions: the one around ``devices``, or all of them."""
    wanted = frozenset(c.devices) if c.devices is not None else None
    keep: list[tuple[frozenset[str], list[Any]]] = []
    healed: list[str] = []
    for inside, channels in lab.partitions:
        if wanted is None or inside == wanted:
            for ch in channels:
                ch.restore()
            healed.extend(ch.link for ch in channels)
            _fc_logins(lab, channels)
        else:
            keep.append((inside, channels))
    if len(keep) == len(lab.partitions):
        raise LabError("no partition to heal" if wanted is None else
                       f"no partition around {', '.join(sorted(wanted))}")
    lab.partitions = keep
    links = sorted(set(healed))
    lab.net.management.emit("healed", None, links=links)
    lab.net.management.refresh_routes()
    return links


def heal_all(lab: Lab, c: HealAll) -> None:
    """The fuzzer's: restore every link both ways, give every link back the loss and
    jitter its topology gave it, restart every device that is down."""
    net = lab.net
    specs = {ls.name: ls for ls in net.topo.links}
    restored = []
    for name, link in net.links.items():
        spec = specs.get(name)
        for ch in link.channels:
            if not ch.up:
                ch.restore()
                restored.append(ch)
            if spec is not None:
                ch.loss, ch.jitter = spec.loss, spec.jitter
    for dev in net.devices.values():
        if not dev.up:
            restart(lab, Restart(device=dev.name))
    _fc_logins(lab, restored)
    net.management.emit("healed", None)


def break_rule(lab: Lab, c: BreakRule) -> None:
    """The fuzzer's test hook, so a saved scenario replays a deliberately broken run."""
    if c.rule == Rule.REFLECT_OUT_OF_ORDER:
        for edge in lab.net.edges:
            edge.unsafe_reflect_any_order = True
    elif c.rule == Rule.REORDER_BEFORE_EDGE:  # as before deb54a9, with jitter that reorders busy writes
        for storage in lab.net.storages:
            ch = lab.net.channels[(storage.name, storage.edge)]
            ch.ordered, ch.jitter = False, max(ch.jitter, REORDER_JITTER)
        for edge in lab.net.edges:  # and the edges number what comes, gaps and all
            edge.unsafe_number_any_order = True
    lab.net.management.emit("rule-broken", None, rule=c.rule)


def forge_write(lab: Lab, c: ForgeWrite) -> None:
    """The walkthroughs': a storage puts a hand-made RIO (WR) on its FC link, addressed to
    the virtual storage that stands for another customer's volume on the same edge. The
    edge's access control 405 must refuse it ("access-denied"); nothing is logged or copied."""
    net = lab.net
    intruder = lab.device(c.device)
    if not isinstance(intruder, ExternalStorage):
        raise LabError(f"{c.device} is not a storage (only a storage speaks FC to an edge)")
    victim, ref = lab.volume(c.volume)
    edge = net.edge_named[intruder.edge]
    # the virtual storage 404 on the intruder's edge that stands for the victim's storage
    addressed = next((v.virtual_wwn for v in edge.virtual.values() if v.corresponding_wwn == victim.wwn),
                     victim.wwn)
    rio = Rio(kind=RioKind.WR, source=VolumeRef(intruder.wwn, 0), target=VolumeRef(addressed, ref.lun),
              block=c.block, data=b"forged".ljust(net.topo.block_size, b"\0"), xid=0)
    net.management.emit("note", None, text=f"{c.device} forges a RIO (WR) to {c.volume} via {edge.name}")
    net.send(intruder.name, edge.name, rio, rio.size, None, src_addr=port_id(intruder.wwn),
             dst_addr=port_id(addressed))
