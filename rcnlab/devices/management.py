"""The management server 103: the RCN configuration interface 501 and the
configuration program 502. It derives the tables (503, 404, 405, 408), distributes
copies to edges and cores over the management network 150 (903), and collects what
they report over it (502(B)): the edges' pair information 411 as it changes, and every
``collect_interval`` the order assurance information 412, reflection delay 735 and
remaining log entries of each edge, and a report from each storage. A customer sees
that collection, only its own part and with its age (`view`). A site whose storages
all stop reporting for ``site_timeout`` has failed: the server says so (1301) and tells
the target hosts over the wide-area network 102.

The server does not number order groups: with methods A-1 and A-2 the source edge
creates the order assurance ID with the pair information 411 (`OrderIds`, handed
to each edge with its configuration); with method B the manager gives it (501)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from rcnlab.devices.base import Device
from rcnlab.devices.order_ids import OrderIds
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import ContractTime, DeviceKind, LinkKind
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.pair_state import PairState
from rcnlab.model.tables import AccessControl, PairInfo, Route, StorageConnection, VirtualStorage
from rcnlab.topo.routing import plan_routes, route_ips
from rcnlab.topo.schema import Customer, ManagementSpec, StorageSpec

if TYPE_CHECKING:
    from rcnlab.devices.core import CoreDevice
    from rcnlab.devices.edge import EdgeDevice


@attrs.frozen
class Collected:
    """What an edge last reported about one order group: 412 (732, 733, 734), 735, and
    the group's WR log entries it held (413); ``at``: when the edge took the report."""

    created: int
    reflected: int
    deleted: int
    reflection_delay: float
    entries: int
    at: float


@attrs.frozen
class Collected411:
    """A pair's information 411 as an edge last reported it (721-726); ``at``: when."""

    state: str
    order_id: int
    at: float


@attrs.define(eq=False)
class ManagementServer(Device):
    spec: ManagementSpec = attrs.field(kw_only=True)
    kind: ClassVar[DeviceKind] = DeviceKind.MANAGEMENT
    connections: list[StorageConnection] = attrs.field(factory=list, init=False)  # 503
    virtual: list[VirtualStorage] = attrs.field(factory=list, init=False)  # 404
    access: list[AccessControl] = attrs.field(factory=list, init=False)  # 405
    routes: list[Route] = attrs.field(factory=list, init=False)  # 408
    #: 411 as the edges reported it: (edge, source, target) -> state and order ID (502(B)).
    pair_info: dict[tuple[str, VolumeRef, VolumeRef], Collected411] = attrs.field(factory=dict, init=False)
    #: 412, 735 and remaining entries as the edges last reported them: (edge, order ID) -> report.
    collected: dict[tuple[str, int], Collected] = attrs.field(factory=dict, init=False)
    heard: dict[str, float] = attrs.field(factory=dict, init=False)  # device -> when its last report was taken
    #: Sites found failed (1301): (customer, site) -> when.
    failed_sites: dict[tuple[str, str], float] = attrs.field(factory=dict, init=False)
    configured: bool = attrs.field(default=False, init=False)  # the first configuration reached the devices (903)
    down: set[str] = attrs.field(factory=set, init=False)  # devices and links the routing avoids
    edges: list[EdgeDevice] = attrs.field(factory=list, init=False, repr=False)  # what it configures
    cores: list[CoreDevice] = attrs.field(factory=list, init=False, repr=False)
    contracts: dict[str, Customer] = attrs.field(factory=dict, init=False)  # 901: customer ID -> its limits
    configured_customers: set[str] = attrs.field(factory=set, init=False)  # 902: the customers configured
    # deletes at a target alone told to a source edge, per edge: told again when it is back (down, it missed them)
    deleted_at_target: dict[str, list[tuple[str, tuple[VolumeRef, VolumeRef], str]]] = attrs.field(
        factory=dict, init=False)

    # -- 901-903 -------------------------------------------------------------------
    def configure(self, edges: list[EdgeDevice], cores: list[CoreDevice]) -> None:
        """Contract and customer configuration of the customers whose contract is
        concluded at start, and the RCN configuration of ``edges`` and ``cores``:
        derived here, sent over the management network 150; 903 is done when it arrives."""
        self.edges, self.cores = edges, cores
        topo = self.net.topo
        for customer in topo.customers:
            if customer.contract is ContractTime.AT_START:
                self.conclude_contract(customer)
                self.configure_customer(customer.id)
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
        self.net.kernel.call_later(self.spec.latency, self._configured)

    def _configured(self) -> None:
        """The configuration is in place at every edge and core (903); the collection starts."""
        self.emit("rcn-configured", "fig9:903", storages=len(self.connections), virtual_storages=len(self.virtual),
                  routes=[list(r.devices) for r in self.routes])
        if not self.configured:
            self.configured = True
            self.heard.update(dict.fromkeys((s.name for s in self.net.topo.storages), self.now))
            self._collect()

    def conclude_contract(self, customer: Customer) -> None:
        """901: the customer and the RCN provider conclude a contract with these limits
        (storages, pairs, edges), which 501 holds the customer to from now on."""
        self.contracts[customer.id] = customer
        self.emit("contract-concluded", "fig9:901", customer=customer.id, name=customer.name,
                  max_storages=customer.max_storages, max_pairs=customer.max_pairs, edges=list(customer.edges))

    def configure_customer(self, customer_id: str) -> None:
        """902: the provider enters the customer's ID and its contract's conditions into
        the management server; from now on the customer may configure pairs (904)."""
        self.configured_customers.add(customer_id)
        self.emit("customer-configured", "fig9:902", customer=customer_id)

    def _storage_pairs(self) -> Iterable[tuple[StorageSpec, StorageSpec]]:
        storages = sorted(self.net.topo.storages, key=lambda s: s.name)
        for i, a in enumerate(storages):
            for b in storages[i + 1:]:
                if a.customer == b.customer:
                    yield a, b

    def _compute_routes(self, quiet: bool = False, fresh: bool = False) -> list[Route]:
        """Routing 408 (`plan_routes`): fewest cores within each core's capacity, the storage
        pairs with volume pairs first; each keeps its route while nothing on it is down,
        unless ``fresh``. A pair left without a route is said ("no-route", or
        "reroute-refused" naming what failed and what did not fit) unless ``quiet``."""
        topo = self.net.topo
        wwn = {s.name: s.wwn for s in topo.storages}
        pairs = [(a.name, b.name) for a, b in self._storage_pairs()]
        current = {} if fresh else {self._names(r): r.devices for r in self.routes}
        plan = plan_routes(topo, pairs, self.paired(), current, self.down)
        if not quiet:
            for pair in pairs:
                if pair not in plan.routes and pair not in current:
                    self.emit("no-route", None, source=pair[0], target=pair[1])
            for r in plan.refused:
                self.emit("reroute-refused", None, pair=">".join(r.pair), failed=list(r.failed), reason=r.reason)
        return [Route(source_wwn=wwn[a], target_wwn=wwn[b], ips=route_ips(topo, path), devices=path)
                for (a, b), path in plan.routes.items()]

    def _names(self, route: Route) -> tuple[str, str]:
        storage = {s.wwn: s.name for s in self.net.topo.storages}
        return storage[route.source_wwn], storage[route.target_wwn]

    def paired(self) -> set[tuple[str, str]]:
        """The storage pairs (by name, in name order) that have volume pairs: the topology's
        ``[[pair]]`` and those the edges reported (411)."""
        topo = self.net.topo
        storage = {s.wwn: s.name for s in topo.storages} | {
            v.virtual_wwn: s.name for v in self.virtual for s in topo.storages if s.wwn == v.corresponding_wwn}
        names = [(p.source.partition(":")[0], p.target.partition(":")[0]) for p in topo.pairs]
        names += [(storage.get(src.wwn, ""), storage.get(dst.wwn, "")) for (_, src, dst) in self.pair_info]
        return {(min(a, b), max(a, b)) for a, b in names}

    def _distribute(self, initial: bool = False) -> None:
        """Send each edge and core its copies over 150: at first the whole configuration
        (virtual storage 404, access control 405, routes 408 and how to number order
        groups), later the routes."""
        topo = self.net.topo
        for i, edge in enumerate(self.edges):
            if initial:
                attached = {s.wwn: s.name for s in topo.storages if s.edge == edge.name}
                numbering = OrderIds(method=topo.order_method, first=i + 1, step=len(self.edges),
                                     given={(self._ref(p.source), self._ref(p.target)): p.order_id
                                            for p in topo.pairs},
                                     edge_of={s.wwn: s.edge for s in topo.storages})
                self.net.mgmt(self.name, edge.name, edge.configure, attached,
                              [v for v in self.virtual if v.edge == edge.name],
                              [a for a in self.access if a.edge == edge.name], self.routes, numbering,
                              what="RCN configuration 903 (404, 405, 408)")
            else:
                self.net.mgmt(self.name, edge.name, edge.set_routes, self.routes, what="routing 408")
        for core in self.cores:
            self.net.mgmt(self.name, core.name, core.set_routes, self.routes,
                          what="RCN configuration 903 (408)" if initial else "routing 408")

    def reroute(self, down: Iterable[str], reason: str) -> bool:
        """Route around ``down`` (failed devices or links), pair by pair: a pair whose route
        crosses none of it keeps its route. True if any route changed."""
        self.down = set(down)
        return bool(self._apply(self._compute_routes(), reason))

    def _apply(self, routes: list[Route], reason: str) -> list[Route]:
        """Take ``routes``; if any changed (or a route went), say so ("rerouted", naming the
        storage pairs) and distribute them. Returns the routes that are new."""
        before = self.routes
        old = {(r.source_wwn, r.target_wwn): r.devices for r in before}
        changed = [r for r in routes if old.get((r.source_wwn, r.target_wwn)) != r.devices]
        gone = old.keys() - {(r.source_wwn, r.target_wwn) for r in routes}
        if not changed and not gone:
            return []
        self.routes = routes
        pairs = sorted(">".join(self._names(r)) for r in changed) + sorted(
            ">".join(self._names(r)) for r in before if (r.source_wwn, r.target_wwn) in gone)
        self.emit("rerouted", None, reason=reason, avoiding=sorted(self.down), pairs=pairs,
                  routes=[list(r.devices) for r in routes])
        self._distribute()
        return changed

    def observed_down(self) -> set[str]:
        """What the management network 150 sees as down: edges and cores that do not
        answer, and GbE links with a direction down (named "A-B")."""
        down = {d.name for d in (*self.edges, *self.cores) if not d.up}
        down |= {name for name, link in self.net.links.items() if link.kind is LinkKind.GBE and not link.up}
        return down

    def notice_failures(self) -> None:
        """Disaster-aware routing, at each collection (502(B)): what newly stopped answering
        over 150 (an edge or core), or a GbE link reported down, is routed around at once,
        without waiting for an edge to run out of resends."""
        down = self.observed_down()
        if down - self.down:
            self.reroute(down, f"{', '.join(sorted(down - self.down))} stopped answering (150)")

    def route_around(self, edge: Device, order_id: int, reason: str) -> bool:
        """An edge is about to give up on a group (908): route around what is down now, pair
        by pair ("rerouted"; a pair no detour fits, "reroute-refused"). True if a route of
        ``edge``'s changed, so that its entries are worth sending again."""
        down = self.observed_down()
        if down == self.down:
            return False
        self.down = down
        changed = self._apply(self._compute_routes(), f"{edge.name}, order group {order_id}: {reason}")
        return any(edge.name in (r.devices[0], r.devices[-1]) for r in changed)

    def refresh_routes(self) -> None:
        """Something came back: route over it again if the routes avoided it."""
        if not self.down:
            return
        down = self.observed_down()
        if down == self.down:
            return
        self.down = down
        self._apply(self._compute_routes(quiet=True, fresh=True), "restored")

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

    def _ref(self, name_lun: str) -> VolumeRef:
        name, _, lun = name_lun.partition(":")
        return VolumeRef(self.net.topo.storage(name).wwn, int(lun or 0))

    # -- update collection 502(B) ---------------------------------------------------------
    def pair_updated(self, edge: Device, pair: PairInfo) -> None:
        """The edge reports a change of its pair information 411 over 150."""
        self.net.mgmt(edge.name, self.name, self._pair_reported, edge.name, pair.source, pair.target,
                      Collected411(state=str(pair.state), order_id=pair.order_id, at=self.now),
                      what="pair information 411")

    def _pair_reported(self, edge: str, source: VolumeRef, target: VolumeRef, info: Collected411) -> None:
        if info.state == "Simplex":
            self.pair_info.pop((edge, source, target), None)
        else:
            self.pair_info[(edge, source, target)] = info

    def _collect(self) -> None:
        """Every ``collect_interval``: each edge that is up reports its order groups (412,
        735, the WR entries it holds) and each storage that is up reports in, over 150;
        then the sites are checked (1301). What stopped answering is routed around first."""
        now = self.now
        if self.up:
            self.notice_failures()
        for edge in self.edges if self.up else ():
            if edge.up:
                groups = {oid: Collected(g.created, g.reflected, g.deleted, g.reflection_delay,
                                         len(edge.remaining_entries(oid)), now)
                          for oid, g in edge.groups.items()}
                self._report(edge.name, self._edge_reported, edge.name, groups)
        for spec in self.net.topo.storages:
            if self.net.devices[spec.name].up:
                self._report(spec.name, self._heard, spec.name, now)
        self._detect()
        self.net.kernel.timer(self.spec.collect_interval, self._collect, daemon=True)

    def _report(self, src: str, fn: Callable[..., object], *args: Any) -> None:
        """A periodic report over 150: it arrives one latency later if ``src`` and the
        server are still up (housekeeping: it does not keep the network from draining)."""
        def arrive() -> None:
            if self.up and self.net.devices[src].up:
                fn(*args)

        self.net.kernel.timer(self.spec.latency, arrive, daemon=True)

    def _heard(self, device: str, at: float) -> None:
        self.heard[device] = at

    def _edge_reported(self, device: str, groups: dict[int, Collected]) -> None:
        at = self.now - self.spec.latency
        self.heard[device] = at
        for key in [k for k in self.collected if k[0] == device and k[1] not in groups]:
            del self.collected[key]
        for oid, report in groups.items():
            self.collected[(device, oid)] = report

    # -- 1301: a source site that stopped reporting --------------------------------------
    def watch(self) -> None:
        """Devices went down: the run goes on (at least) until the silence of their reports
        can be judged; the collection itself is housekeeping, which lets a run end."""
        spec = self.spec
        self.net.kernel.timer(spec.site_timeout + spec.collect_interval + spec.latency, self._detect)

    def _detect(self) -> None:
        """A customer's site whose storages have all been silent (no report arrived) for
        ``site_timeout`` has failed (1301): tell the hosts of the target volumes of the
        pairs whose sources are there, over the WAN 102. A site heard from again is up
        again."""
        now, spec = self.now, self.spec
        if not self.up:
            return
        sites: dict[tuple[str, str], list[StorageSpec]] = {}
        for s in self.net.topo.storages:
            sites.setdefault((s.customer, s.site), []).append(s)
        for key, storages in sites.items():
            silence = min(now - self.heard.get(s.name, now) - spec.latency for s in storages)
            if silence <= spec.collect_interval:
                if self.failed_sites.pop(key, None) is not None:
                    self.emit("site-reporting", None, customer=key[0], site=key[1])
                continue
            if key in self.failed_sites:
                continue
            if silence <= spec.site_timeout:
                continue
            self.failed_sites[key] = now
            notices = self._targets_of({s.wwn for s in storages})
            self.emit("site-failure-detected", "fig13:1301" if notices else None, customer=key[0], site=key[1],
                      silent_s=round(silence, 9), storages=[s.name for s in storages], notify=sorted(notices))
            for host, volumes in sorted(notices.items()):
                self.wan(host, "site-failure notice (1301)", "site_failure_notified", key[1], volumes)

    def _targets_of(self, wwns: set[str]) -> dict[str, list[str]]:
        """Host -> the target volumes it holds of the pairs (as collected, 411) whose
        sources are on storages ``wwns``."""
        topo = self.net.topo
        by_wwn = {s.wwn: s for s in topo.storages}
        out: dict[str, list[str]] = {}
        for (_, source, target), _info in sorted(self.pair_info.items(), key=lambda kv: str(kv[0])):
            storage = by_wwn.get(target.wwn)
            if source.wwn not in wwns or storage is None:
                continue
            host = next((h.name for h in topo.hosts if h.storage == storage.name), None)
            volume = f"{storage.name}:{target.lun}"
            if host is not None and volume not in out.get(host, []):
                out.setdefault(host, []).append(volume)
        return out

    def wan(self, host: str, what: str, method: str, *args: Any) -> None:
        """A message to a host over the wide-area network 102 (its latency is the
        management network's): on arrival the host's ``method(*args)`` runs, if it is up."""
        self.emit("wan-sent", None, to=host, what=what)

        def arrive() -> None:
            dev = self.net.devices[host]
            if dev.up:
                getattr(dev, method)(*args)

        self.net.kernel.call_later(self.spec.latency, arrive)

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

    def report_deleted_at_target(self, edge: Device, pair: tuple[VolumeRef, VolumeRef], reason: str) -> None:
        """The target side deleted ``pair`` alone: tell the edge of its source storage (the
        pair goes to failure Suspend there, 908)."""
        for other in self.edges:
            if other is not edge and pair[0].wwn in other.attached:
                self.net.mgmt(edge.name, self.name, None, what=f"pair deleted at {edge.name}")
                self.net.mgmt(self.name, other.name, other.target_deleted, [pair], reason, what="failure Suspend")
                self.deleted_at_target.setdefault(other.name, []).append((edge.name, pair, reason))

    def edge_back(self, edge: Device) -> None:
        """``edge`` restarted: tell it again of the deletes at a target alone it may have
        missed while down, those still so (it holds the pair, copying; the target edge not)."""
        edges = {e.name: e for e in self.edges}
        back = edges[edge.name]
        for target_edge, pair, reason in self.deleted_at_target.pop(edge.name, []):
            held = back.pairs.get(pair)
            copying = held is not None and held.state not in (PairState.SIMPLEX, PairState.SUSPEND,
                                                              PairState.FAILURE_SUSPEND)
            if copying and pair not in edges[target_edge].pairs:
                self.net.mgmt(self.name, edge.name, back.target_deleted, [pair], reason, what="failure Suspend")

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
        """What the RCN configuration interface 501 shows one customer: only its own
        configuration (503, 404, 405, 408) and collected pair information 411 (the table
        objects; `rcnlab.devices.customer_view` makes the JSON-able output)."""
        wwns = {c.storage_wwn for c in self.connections if c.customer == customer}
        return {
            "storage_connections": [c for c in self.connections if c.customer == customer],
            "virtual_storage": [v for v in self.virtual if v.corresponding_wwn in wwns],
            "access_control": [a for a in self.access if a.permitted_wwn in wwns],
            "routes": [r for r in self.routes if r.source_wwn in wwns],
            "pairs": {k: v for k, v in self.pair_info.items() if k[1].wwn in wwns},
        }

    def customer_view(self, customer: str) -> dict[str, Any]:
        """The output of 501 for one customer, JSON-able: its configuration (503, 404, 405,
        408), and from the collection its pairs (411), order groups (412 counters,
        reflection delay 735, remaining WR entries) and ``age_s``: how old the oldest
        report behind it is (its storages' and their edges'; None before any). An order
        group other customers' pairs share (method A-2 on shared edges) is named in
        ``shared_order_groups`` without its counters, which are not this customer's alone."""
        topo, now = self.net.topo, self.now
        mine = {s.wwn: s.name for s in topo.storages if s.customer == customer}
        owner = {s.wwn: s.customer for s in topo.storages}
        view = self.view(customer)

        def name(ref: VolumeRef) -> str:
            return f"{mine.get(ref.wwn, ref.wwn)}:{ref.lun}"

        groups: dict[tuple[str, int], bool] = {}  # (edge, order ID) -> only this customer's pairs
        for (edge, source, _), info in self.pair_info.items():
            key = (edge, info.order_id)
            if source.wwn in mine:
                groups[key] = groups.get(key, True)
        for (edge, source, _), info in self.pair_info.items():
            if (edge, info.order_id) in groups and owner.get(source.wwn) != customer:
                groups[(edge, info.order_id)] = False
        order_groups = []
        for (edge, oid), c in sorted(self.collected.items()):
            if groups.get((edge, oid)):
                order_groups.append({"edge": edge, "order_id": oid, "created": c.created, "reflected": c.reflected,
                                     "deleted": c.deleted, "reflection_delay": round(c.reflection_delay, 9),
                                     "remaining": c.entries, "age_s": round(now - c.at, 9)})
        sources = {s.name for s in topo.storages if s.customer == customer}
        reporters = sources | {s.edge for s in topo.storages if s.customer == customer}
        heard = [self.heard[d] for d in reporters if d in self.heard]
        return {
            "customer": customer,
            "age_s": round(now - min(heard), 9) if heard else None,
            "storage_connections": [{"edge": c.edge, "storage": mine[c.storage_wwn], "wwn": c.storage_wwn}
                                    for c in view["storage_connections"]],
            "virtual_storage": [{"edge": v.edge, "virtual_wwn": v.virtual_wwn, "stands_for": v.corresponding_wwn,
                                 "at_edge": v.corresponding_edge} for v in view["virtual_storage"]],
            "access_control": [{"edge": a.edge, "virtual_wwn": a.virtual_wwn, "permitted_wwn": a.permitted_wwn}
                               for a in view["access_control"]],
            "routes": [{"source": mine.get(r.source_wwn, r.source_wwn), "target": mine.get(r.target_wwn, r.target_wwn),
                        "ips": list(r.ips), "devices": list(r.devices)} for r in view["routes"]],
            "pairs": [{"edge": edge, "source": name(source), "target": name(target), "state": info.state,
                       "order_id": info.order_id, "reported_at": round(info.at, 9)}
                      for (edge, source, target), info in sorted(view["pairs"].items(), key=lambda kv: str(kv[0]))],
            "order_groups": order_groups,
            "shared_order_groups": sorted({oid for (_, oid), alone in groups.items() if not alone}),
            "remaining_entries": sum(g["remaining"] for g in order_groups),
            "failed_sites": sorted(site for (cu, site) in self.failed_sites if cu == customer),
        }

    def restart(self) -> None:
        """Back from a crash: every device gets a whole ``site_timeout`` to be heard again."""
        super().restart()
        self.heard = dict.fromkeys(self.heard, self.now)

    def receive(self, src: str, message: object) -> None:
        self.malformed += 1  # the management server has no data-path links

