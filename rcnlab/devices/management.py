"""The management server 103: the RCN configuration interface 501 and the
configuration program 502. It derives the tables (503, 404, 405, 408, 411),
distributes copies to edges and cores over the management network 150, assigns
order assurance IDs, and collects 411/412 and reflection delay 735."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from rcnlab.devices.base import Device
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import DeviceKind, LinkKind, OrderMethod
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.rio import Rio
from rcnlab.model.tables import AccessControl, PairInfo, Route, StorageConnection, VirtualStorage
from rcnlab.topo.routing import find_route, route_ips
from rcnlab.topo.schema import ManagementSpec, StorageSpec

if TYPE_CHECKING:
    from rcnlab.devices.core import CoreDevice
    from rcnlab.devices.edge import EdgeDevice


@attrs.frozen
class Collected:
    """What the update collection function last heard from an edge about one order group."""

    created: int
    reflected: int
    deleted: int
    reflection_delay: float
    entries: int


@attrs.define(eq=False)
class ManagementServer(Device):
    spec: ManagementSpec = attrs.field(kw_only=True)
    kind: ClassVar[DeviceKind] = DeviceKind.MANAGEMENT
    connections: list[StorageConnection] = attrs.field(factory=list, init=False)  # 503
    virtual: list[VirtualStorage] = attrs.field(factory=list, init=False)  # 404
    access: list[AccessControl] = attrs.field(factory=list, init=False)  # 405
    routes: list[Route] = attrs.field(factory=list, init=False)  # 408
    pair_info: dict[tuple[str, VolumeRef, VolumeRef], tuple[str, int]] = attrs.field(factory=dict, init=False)
    collected: dict[tuple[str, int], Collected] = attrs.field(factory=dict, init=False)
    down: set[str] = attrs.field(factory=set, init=False)  # devices and links the routing avoids
    sites_down: set[str] = attrs.field(factory=set, init=False)  # sites it has seen go down (1301)
    edges: list[EdgeDevice] = attrs.field(factory=list, init=False, repr=False)  # what it configures
    cores: list[CoreDevice] = attrs.field(factory=list, init=False, repr=False)
    _order_ids: dict[tuple[str, str, str], int] = attrs.field(factory=dict, init=False)

    # -- 901-903 -------------------------------------------------------------------
    def configure(self, edges: list[EdgeDevice], cores: list[CoreDevice]) -> None:
        """Contract, customer IDs and the RCN configuration of ``edges`` and ``cores``,
        before the lab starts."""
        self.edges, self.cores = edges, cores
        topo = self.net.topo
        for customer in topo.customers:
            self.emit("contract-concluded", "fig9:901", customer=customer.id, name=customer.name,
                      max_storages=customer.max_storages, max_pairs=customer.max_pairs)
            self.emit("customer-configured", "fig9:902", customer=customer.id)
        self.connections = [StorageConnection(edge=s.edge, customer=s.customer, storage_wwn=s.wwn)
                            for s in topo.storages]
        self.virtual, self.access = [], []
        edge_specs = {e.name: e for e in topo.edges}
        for src, dst in self._storage_pairs():
            for here, there in ((src, dst), (dst, src)):
                vwwn = edge_specs[here.edge].virtual_wwn.get(there.wwn, there.wwn)
                vs = VirtualStorage(edge=here.edge, virtual_wwn=vwwn, corresponding_edge=there.edge,
                                    corresponding_wwn=there.wwn)
                if vs not in self.virtual:
                    self.virtual.append(vs)
                ac = AccessControl(edge=here.edge, virtual_wwn=vwwn, permitted_wwn=here.wwn)
                if ac not in self.access:
                    self.access.append(ac)
        self.routes = self._compute_routes()
        self._distribute(initial=True)
        self.emit("rcn-configured", "fig9:903", storages=len(self.connections), virtual_storages=len(self.virtual),
                  routes=[list(r.devices) for r in self.routes])
        self.net.kernel.timer(self.spec.collect_interval, self._collect, daemon=True)

    def _storage_pairs(self) -> Iterable[tuple[StorageSpec, StorageSpec]]:
        storages = sorted(self.net.topo.storages, key=lambda s: s.name)
        for i, a in enumerate(storages):
            for b in storages[i + 1:]:
                if a.customer == b.customer:
                    yield a, b

    def _compute_routes(self, quiet: bool = False) -> list[Route]:
        """Routing 408: fewest cores, honouring capacity, ties broken by name."""
        topo = self.net.topo
        load: dict[str, int] = {}
        routes = []
        for a, b in self._storage_pairs():
            path = find_route(topo, a.edge, b.edge, load, self.down)
            if path is None:
                if not quiet:
                    self.emit("no-route", None, source=a.name, target=b.name)
                continue
            for name in path[1:-1]:
                load[name] = load.get(name, 0) + 1
            routes.append(Route(source_wwn=a.wwn, target_wwn=b.wwn, ips=route_ips(topo, path), devices=path))
        return routes

    def _distribute(self, initial: bool = False) -> None:
        """Send each edge and core its copies (over 150; at start-up, already in place)."""
        for edge in self.edges:
            attached = {s.wwn: s.name for s in self.net.topo.storages if s.edge == edge.name}
            args = (attached, [v for v in self.virtual if v.edge == edge.name],
                    [a for a in self.access if a.edge == edge.name], self.routes)
            if initial:
                edge.configure(*args)
            else:
                self.net.mgmt(self.name, edge.name, edge.set_routes, self.routes, what="routing 408")
        for core in self.cores:
            if initial:
                core.set_routes(self.routes)
            else:
                self.net.mgmt(self.name, core.name, core.set_routes, self.routes, what="routing 408")

    def reroute(self, down: Iterable[str], reason: str) -> bool:
        """Recompute routes avoiding ``down`` (failed devices or links); True if any route changed."""
        self.down = set(down)
        old = {(r.source_wwn, r.target_wwn): r.devices for r in self.routes}
        self.routes = self._compute_routes()
        new = {(r.source_wwn, r.target_wwn): r.devices for r in self.routes}
        changed = old != new
        if changed:
            self.emit("rerouted", None, reason=reason, routes=[list(r.devices) for r in self.routes])
            self._distribute()
        return changed

    def observed_down(self) -> set[str]:
        """What the management network 150 sees as down: edges and cores that do not
        answer, and GbE links with a direction down (named "A-B")."""
        down = {d.name for d in (*self.edges, *self.cores) if not d.up}
        down |= {name for name, link in self.net.links.items() if link.kind is LinkKind.GBE and not link.up}
        return down

    def route_around(self, edge: Device, order_id: int, reason: str) -> bool:
        """An edge is about to give up on a group (908): if a route avoiding what is down
        now exists for every storage pair that has one, distribute it and say so
        ("rerouted"); otherwise change nothing and let the edge fail the group."""
        down = self.observed_down()
        if down == self.down:
            return False
        old_down, old = self.down, self.routes
        self.down = down
        routes = self._compute_routes(quiet=True)
        before = {(r.source_wwn, r.target_wwn) for r in old}
        after = {(r.source_wwn, r.target_wwn): r.devices for r in routes}
        if not before <= set(after) or {(r.source_wwn, r.target_wwn): r.devices for r in old} == after:
            self.down = old_down
            return False
        self.routes = routes
        self.emit("rerouted", None, reason=f"{edge.name}, order group {order_id}: {reason}",
                  avoiding=sorted(down), routes=[list(r.devices) for r in routes])
        self._distribute()
        return True

    def refresh_routes(self) -> None:
        """Something came back: route over it again if the routes avoided it."""
        if not self.down:
            return
        down = self.observed_down()
        if down == self.down:
            return
        self.down = down
        routes = self._compute_routes(quiet=True)
        if routes != self.routes:
            self.routes = routes
            self.emit("rerouted", None, reason="restored", avoiding=sorted(down),
                      routes=[list(r.devices) for r in routes])
            self._distribute()

    # -- fetching remaining log entries (501, the prompt failover variant) ----------------
    def fetch_remaining(self, target_edge: EdgeDevice, order_id: int) -> int:
        """Collect the group's WR entries still in the network (source and target edges'
        413, core batches) over 150, and hand them to the target edge to reflect in order."""
        found: dict[int, LogEntry] = {}
        relays: tuple[EdgeDevice | CoreDevice, ...] = (*self.edges, *self.cores)
        for dev in relays:
            if not dev.up:
                continue
            entries = dev.remaining_entries(order_id)
            if entries and dev is not target_edge:
                self.net.mgmt(dev.name, self.name, None, what=f"remaining log entries of group {order_id}")
            for entry in entries:
                if entry.target.wwn in target_edge.attached:
                    found.setdefault(entry.seq, entry)
        entries = [found[k] for k in sorted(found)]
        self.emit("remaining-fetched", None, order_id=order_id, edge=target_edge.name, entries=len(entries))
        self.net.mgmt(self.name, target_edge.name, target_edge.apply_fetched, order_id, entries,
                      what=f"{len(entries)} remaining log entries")
        return len(entries)

    def site_down(self, site: str) -> None:
        """The management network noticed that a site's hosts and storages stopped answering."""
        self.sites_down.add(site)
        self.emit("site-down", None, site=site)

    def site_up(self, site: str) -> None:
        self.sites_down.discard(site)
        self.emit("site-up", None, site=site)

    # -- order assurance IDs (method, B) -----------------------------------------
    def order_id_for(self, edge: Device, rio: Rio) -> int:
        method = self.net.topo.order_method
        if method is OrderMethod.B:
            if rio.order_id:
                return rio.order_id
            for p in self.net.topo.pairs:
                if (self._ref(p.source), self._ref(p.target)) == (rio.source, rio.target):
                    return p.order_id
        if method is OrderMethod.A2:
            target_edge = next((v.corresponding_edge for v in self.virtual
                                if v.edge == edge.name and v.corresponding_wwn == rio.target.wwn), "?")
            key = (OrderMethod.A2, edge.name, target_edge)
        else:
            key = (OrderMethod.A1, rio.source.wwn, rio.target.wwn)
        if key not in self._order_ids:
            taken = set(self._order_ids.values()) | {p.order_id for p in self.net.topo.pairs}
            taken |= {order_id for _, order_id in self.pair_info.values()}  # given at run time (method B)
            self._order_ids[key] = next(i for i in range(1, len(taken) + 2) if i not in taken)
        return self._order_ids[key]

    def _ref(self, name_lun: str) -> VolumeRef:
        name, _, lun = name_lun.partition(":")
        return VolumeRef(self.net.topo.storage(name).wwn, int(lun or 0))

    # -- update collection ------------------------------------------------------------
    def pair_updated(self, edge: Device, pair: PairInfo) -> None:
        self.pair_info[(edge.name, pair.source, pair.target)] = (str(pair.state), pair.order_id)

    def _collect(self) -> None:
        for edge in self.edges:
            if not edge.up:
                continue
            for oid, g in edge.groups.items():
                self.collected[(edge.name, oid)] = Collected(g.created, g.reflected, g.deleted, g.reflection_delay,
                                                             edge.log_entries)
        self.net.kernel.timer(self.spec.collect_interval, self._collect, daemon=True)

    def report_failure(self, edge: Device, order_id: int, pairs: list[tuple[VolumeRef, VolumeRef]],
                       reason: str, created: int = 0) -> None:
        """908: an edge gave up; tell the edges at the other ends of the pairs (and the
        group's creation counter 732 then: the entries it had made until then are void)."""
        targets: dict[EdgeDevice, list[tuple[VolumeRef, VolumeRef]]] = {}
        for source, target in pairs:
            for other in self.edges:
                if other is not edge and target.wwn in other.attached:
                    targets.setdefault(other, []).append((source, target))
        for other, keys in targets.items():
            self.net.mgmt(edge.name, self.name, None, what=f"failure of order group {order_id}")
            self.net.mgmt(self.name, other.name, other.fail_pairs, keys, reason, order_id, created,
                          what="failure Suspend")

    def addressed_wwn(self, source_storage: str, target_storage: str) -> str:
        """The WWN the source storage must address for the target (the virtual
        storage's own WWN in the Fig. 2 variant, sent to the host by 501)."""
        src = self.net.topo.storage(source_storage)
        dst = self.net.topo.storage(target_storage)
        for v in self.virtual:
            if v.edge == src.edge and v.corresponding_wwn == dst.wwn:
                return v.virtual_wwn
        return dst.wwn

    def view(self, customer: str) -> dict[str, Any]:
        """What the RCN configuration interface 501 shows one customer: only its own."""
        wwns = {c.storage_wwn for c in self.connections if c.customer == customer}
        return {
            "storage_connections": [c for c in self.connections if c.customer == customer],
            "virtual_storage": [v for v in self.virtual if v.corresponding_wwn in wwns],
            "access_control": [a for a in self.access if a.permitted_wwn in wwns],
            "routes": [r for r in self.routes if r.source_wwn in wwns],
            "pairs": {k: v for k, v in self.pair_info.items() if k[1].wwn in wwns},
        }

    def receive(self, src: str, message: object) -> None:
        self.malformed += 1  # the management server has no data-path links

