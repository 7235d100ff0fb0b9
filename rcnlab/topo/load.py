"""Reading and validating a topology TOML file into a frozen `Topology`.

`rcnlab.formats` reads the file into a `TopologyFile` (types, ranges, unknown and
missing keys); this module checks what refers to what (devices, customers, WWNs,
addresses, links, routes) and converts to the units the emulator uses. Every problem
is raised as `TopologyError`, whose message is one line: ``FILE: KEY: problem``. KEY
names the offending value the way the file spells it, with 0-based indices for
arrays of tables, e.g. ``link[3].b`` or ``storage[1].volumes[0].lun``. The file format
is documented key by key in ``topologies/fig1.toml``.
"""

from __future__ import annotations

import os
import re
from itertools import combinations
from pathlib import Path
from typing import Any

from rcnlab import shipped
from rcnlab.formats import FormatError, parse_toml, read_text, structure
from rcnlab.formats.topology import (
    MAX_VOLUME_BYTES,
    CoreEntry,
    CustomerEntry,
    EdgeEntry,
    LinkEntry,
    StorageEntry,
    TopologyFile,
    VolumeEntry,
)
from rcnlab.model.kinds import Attach, LinkKind, Role
from rcnlab.topo.routing import find_route
from rcnlab.topo.rules import Claim, End, claim, pair_problem
from rcnlab.topo.schema import (
    SECONDS_PER_KM,
    CoreSpec,
    Customer,
    EdgeSpec,
    HostSpec,
    LinkSpec,
    ManagementSpec,
    PairSpec,
    StorageSpec,
    Topology,
    VolumeSpec,
    round_trip,
)

#: Link defaults by kind when the file leaves them out: (latency ms, bandwidth Mbit/s, MTU bytes).
#: A GbE link has no default delay: give ``latency_ms`` or ``distance_km``.
LINK_DEFAULTS = {
    LinkKind.SCSI: (0.02, 4000.0, 65536),
    LinkKind.FC: (0.01, 8000.0, 2112),
    LinkKind.IP: (0.05, 10000.0, 1500),
    LinkKind.GBE: (None, 1000.0, 1500),
}
#: Which device kinds each link kind joins (either way round), and how to say so.
LINK_ENDS = {
    LinkKind.SCSI: ([{"host", "storage"}], "a host and a storage"),
    LinkKind.FC: ([{"storage", "edge"}], "a storage and an edge"),
    LinkKind.IP: ([{"storage", "edge"}], "a storage and an edge"),
    LinkKind.GBE: ([{"edge"}, {"edge", "core"}, {"core"}], "two edges, an edge and a core, or two cores"),
}
DEFAULT_VOLUME_BYTES = 1 << 40  # 1 TiB


class TopologyError(FormatError):
    """A topology file that cannot be used; str() is ``FILE: KEY: problem`` on one line."""


def builtin_topology_path() -> Path:
    """The shipped Fig. 1 topology, ``topologies/fig1.toml``."""
    return shipped.find("topology", "fig1")


def load_builtin_topology() -> Topology:
    """The packaged Fig. 1 topology, with path "<builtin>"."""
    return parse_topology(builtin_topology_path().read_text(encoding="utf-8"), "<builtin>")


def load_topology(path: str | os.PathLike[str]) -> Topology:
    """Read and validate a topology file."""
    where = os.fspath(path)
    try:
        text = read_text(where)
    except FormatError as exc:
        raise TopologyError(exc.path, exc.key, exc.problem) from None
    return parse_topology(text, where)


def parse_topology(text: str, path: str) -> Topology:
    """Validate TOML ``text`` read from ``path`` (used only in messages and `Topology.path`)."""
    try:
        data = parse_toml(text, path)
    except FormatError as exc:
        raise TopologyError(exc.path, exc.key, exc.problem) from None
    return topology_from_data(data, path)


def topology_from_data(data: dict[str, Any], path: str) -> Topology:
    """Validate a topology given as parsed TOML (the tables a file would hold)."""
    try:
        file = structure(data, TopologyFile, path)
    except FormatError as exc:
        raise TopologyError(exc.path, exc.key, exc.problem) from None
    return _Reader(path).topology(file)


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


class _Reader:
    """Checks one file's references, remembering where each device was declared for messages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.declared: dict[str, tuple[str, str]] = {}  # device name -> (kind, key)

    def fail(self, key: str, problem: str) -> TopologyError:
        return TopologyError(self.path, key, problem)

    def declare(self, key: str, name: str, kind: str) -> None:
        if name in self.declared:
            raise self.fail(f"{key}.name", f"duplicate device name {name!r} (also {self.declared[name][1]})")
        self.declared[name] = (kind, key)

    def device(self, key: str, name: str, *kinds: str) -> str:
        """A reference to a declared device (of one of ``kinds``, if given)."""
        if name not in self.declared:
            raise self.fail(key, f"unknown device {name!r}")
        if kinds and self.declared[name][0] not in kinds:
            raise self.fail(key, f"{name!r} is {_a(self.declared[name][0])}, not {_a(' or '.join(kinds))}")
        return name

    # --- the whole file -------------------------------------------------------------

    def topology(self, file: TopologyFile) -> Topology:
        block_size = file.lab.block_size
        customers = self.customers(file.customer)
        self.declare("management", file.management.name, "management server")
        management = ManagementSpec(
            name=file.management.name,
            collect_interval=file.management.collect_interval_ms / 1000,
            latency=file.management.latency_ms / 1000,
            pos=file.management.pos,
        )
        edges = self.edges(file.edge)
        cores = self.cores(file.core)
        storages = self.storages(file.storage, block_size, customers)
        if not storages:
            raise self.fail("storage", "no [[storage]] table: a lab needs storages to copy between")
        hosts = self.hosts(file, customers, storages)
        self.unique_addresses(storages, edges, cores)
        self.edge_virtual_wwns(edges, storages)
        links = self.links(file.link, storages, hosts)
        self.path_timeouts(links, storages, block_size)
        pairs = self.pairs(file, storages, customers)

        topo = Topology(
            name=file.lab.name if file.lab.name is not None else Path(self.path).stem,
            path=self.path,
            block_size=block_size,
            order_method=file.lab.order_assurance,
            customers=tuple(c for _, c in customers.values()),
            hosts=tuple(h for _, h in hosts),
            storages=tuple(s for _, s in storages),
            edges=tuple(e for _, e in edges),
            cores=tuple(c for _, c in cores),
            management=management,
            links=links,
            pairs=pairs,
        )
        self.routes_exist(topo, storages)
        return topo

    def customers(self, entries: tuple[CustomerEntry, ...]) -> dict[str, tuple[str, Customer]]:
        out: dict[str, tuple[str, Customer]] = {}
        for i, c in enumerate(entries):
            key = f"customer[{i}]"
            if c.id in out:
                raise self.fail(f"{key}.id", f"duplicate customer id {c.id!r} (also {out[c.id][0]})")
            out[c.id] = (key, Customer(id=c.id, name=c.name, max_storages=c.max_storages, max_pairs=c.max_pairs,
                                       edges=c.edges))
        return out

    def edges(self, entries: tuple[EdgeEntry, ...]) -> list[tuple[str, EdgeSpec]]:
        out = []
        for i, e in enumerate(entries):
            key = f"edge[{i}]"
            self.declare(key, e.name, "edge")
            out.append((key, EdgeSpec(
                name=e.name, ip=e.ip, site=e.site, log_capacity=e.log_capacity, log_durable=e.log_durable,
                resend_timeout=e.resend_timeout_ms / 1000, resend_limit=e.resend_limit,
                suspend_timeout=e.suspend_timeout_ms / 1000, reorder_window=e.reorder_window,
                log_policy=e.log_policy, log_high_water=e.log_high_water_pct / 100,
                virtual_wwn={str(k): str(v) for k, v in e.virtual_wwn.items()}, pos=e.pos,
            )))
        return out

    def cores(self, entries: tuple[CoreEntry, ...]) -> list[tuple[str, CoreSpec]]:
        out = []
        for i, c in enumerate(entries):
            key = f"core[{i}]"
            self.declare(key, c.name, "core")
            out.append((key, CoreSpec(name=c.name, ip=c.ip, capacity=c.capacity, batch_wait=c.batch_wait_ms / 1000,
                                      pos=c.pos)))
        return out

    def storages(
        self,
        entries: tuple[StorageEntry, ...],
        block_size: int,
        customers: dict[str, tuple[str, Customer]],
    ) -> list[tuple[str, StorageSpec]]:
        for ckey, customer in customers.values():
            for j, edge in enumerate(customer.edges):
                self.device(f"{ckey}.edges[{j}]", edge, "edge")
        out = []
        wwns: dict[str, str] = {}
        for i, t in enumerate(entries):
            key = f"storage[{i}]"
            # An IP-attached storage has "address" (its IPv4 address) where others have "wwn".
            wwn = t.address if t.attach == Attach.IP else t.wwn
            assert wwn is not None  # StorageEntry insists on the one its attach needs
            self.declare(key, t.name, "storage")
            if t.attach == Attach.FC:  # IP addresses are checked with the edges' and cores' (unique_addresses)
                if wwn in wwns:
                    raise self.fail(f"{key}.wwn", f"duplicate WWN {wwn} (also {wwns[wwn]})")
                wwns[wwn] = f"{key}.wwn"
            self.customer_ref(f"{key}.customer", t.customer, customers)
            self.device(f"{key}.edge", t.edge, "edge")
            out.append((key, StorageSpec(
                name=t.name, wwn=wwn, customer=t.customer, site=t.site, edge=t.edge, attach=t.attach,
                volumes=self.volumes(key, t.volumes, block_size), copy_rate=t.copy_rate,
                command_timeout=t.command_timeout_ms / 1000,
                path_timeout=None if t.path_timeout_ms is None else t.path_timeout_ms / 1000, pos=t.pos,
            )))
        # Contract limits (903): how many storages, on which edges.
        for cid, (ckey, customer) in customers.items():
            mine = [(key, s) for key, s in out if s.customer == cid]
            if len(mine) > customer.max_storages:
                names = ", ".join(s.name for _, s in mine)
                raise self.fail(
                    f"{ckey}.max_storages",
                    f"customer {cid} has {len(mine)} storages ({names}), over the contract limit of {customer.max_storages}",
                )
            for key, s in mine:
                if customer.edges and s.edge not in customer.edges:
                    raise self.fail(
                        f"{key}.edge",
                        f"edge {s.edge} is not in customer {cid}'s contract edges ({', '.join(customer.edges)})",
                    )
        return out

    def volumes(self, key: str, entries: tuple[VolumeEntry, ...] | None, block_size: int) -> tuple[VolumeSpec, ...]:
        if entries is None:
            return (VolumeSpec(lun=0, blocks=DEFAULT_VOLUME_BYTES // block_size),)
        luns: dict[int, str] = {}
        out = []
        for j, v in enumerate(entries):
            vkey = f"{key}.volumes[{j}]"
            if v.lun in luns:
                raise self.fail(f"{vkey}.lun", f"duplicate LUN {v.lun} (also {luns[v.lun]})")
            if v.blocks * block_size > MAX_VOLUME_BYTES:
                raise self.fail(f"{vkey}.blocks", f"must be <= {MAX_VOLUME_BYTES // block_size} blocks of "
                                f"{block_size} bytes (a volume of at most 1 PiB), got {v.blocks}")
            luns[v.lun] = vkey
            out.append(VolumeSpec(lun=v.lun, blocks=v.blocks))
        return tuple(out)

    def customer_ref(self, key: str, cid: str, customers: dict[str, tuple[str, Customer]]) -> None:
        if cid not in customers:
            raise self.fail(key, f"unknown customer {cid!r}")

    def hosts(
        self,
        file: TopologyFile,
        customers: dict[str, tuple[str, Customer]],
        storages: list[tuple[str, StorageSpec]],
    ) -> list[tuple[str, HostSpec]]:
        owner = {s.name: s.customer for _, s in storages}
        out = []
        for i, h in enumerate(file.host):
            key = f"host[{i}]"
            self.declare(key, h.name, "host")
            self.customer_ref(f"{key}.customer", h.customer, customers)
            self.device(f"{key}.storage", h.storage, "storage")
            if owner[h.storage] != h.customer:
                raise self.fail(
                    f"{key}.storage",
                    f"storage {h.storage} belongs to customer {owner[h.storage]}, not {h.customer}",
                )
            out.append((key, HostSpec(name=h.name, customer=h.customer, site=h.site, storage=h.storage, pos=h.pos)))
        return out

    def unique_addresses(
        self,
        storages: list[tuple[str, StorageSpec]],
        edges: list[tuple[str, EdgeSpec]],
        cores: list[tuple[str, CoreSpec]],
    ) -> None:
        seen: dict[str, str] = {}
        addresses = [(f"{key}.address", s.wwn) for key, s in storages if s.attach is Attach.IP]
        addresses += [(f"{k}.ip", d.ip) for k, d in edges] + [(f"{k}.ip", d.ip) for k, d in cores]
        for key, ip in addresses:
            if ip in seen:
                raise self.fail(key, f"duplicate IP address {ip} (also {seen[ip]})")
            seen[ip] = key

    def edge_virtual_wwns(self, edges: list[tuple[str, EdgeSpec]], storages: list[tuple[str, StorageSpec]]) -> None:
        """Fig. 2: each virtual WWN stands for a known storage WWN and is unique among all WWNs."""
        seen = {s.wwn: f"{key}.wwn" for key, s in storages if s.attach is Attach.FC}
        real = set(seen)
        for key, edge in edges:
            for storage_wwn, virtual in edge.virtual_wwn.items():
                vkey = f'{key}.virtual_wwn."{storage_wwn}"'
                if storage_wwn not in real:
                    raise self.fail(vkey, f"unknown storage WWN {storage_wwn}")
                if virtual in seen:
                    raise self.fail(vkey, f"duplicate WWN {virtual} (also {seen[virtual]})")
                seen[virtual] = vkey

    def links(
        self,
        entries: tuple[LinkEntry, ...],
        storages: list[tuple[str, StorageSpec]],
        hosts: list[tuple[str, HostSpec]],
    ) -> tuple[LinkSpec, ...]:
        out = []
        ends: dict[frozenset[str], str] = {}
        for i, t in enumerate(entries):
            key = f"link[{i}]"
            a, b, kind = t.a, t.b, t.kind
            self.device(f"{key}.a", a)
            self.device(f"{key}.b", b)
            if a == b:
                raise self.fail(f"{key}.b", f"link from {a} to itself")
            if frozenset((a, b)) in ends:
                raise self.fail(f"{key}.b", f"duplicate link between {a} and {b} (also {ends[frozenset((a, b))]})")
            ends[frozenset((a, b))] = key
            kinds = self.declared[a][0], self.declared[b][0]
            allowed, joins = LINK_ENDS[kind]
            if set(kinds) not in allowed:
                raise self.fail(f"{key}.kind", f"{kind} links join {joins}, not {kinds[0]} {a} and {kinds[1]} {b}")
            out.append(self.link(key, t))
        self.attachments(out, ends, storages, hosts)
        return tuple(out)

    def link(self, key: str, t: LinkEntry) -> LinkSpec:
        latency_ms, bandwidth_mbps, mtu = LINK_DEFAULTS[t.kind]
        if t.latency_ms is not None and t.distance_km is not None:
            raise self.fail(f"{key}.distance_km", "give latency_ms or distance_km, not both")
        if t.distance_km is not None:
            latency = t.distance_km * SECONDS_PER_KM
        elif t.latency_ms is not None:
            latency = t.latency_ms / 1000
        elif latency_ms is None:
            raise self.fail(f"{key}.latency_ms", f"missing required key for a {t.kind} link (or distance_km)")
        else:
            latency = latency_ms / 1000
        return LinkSpec(a=t.a, b=t.b, kind=t.kind, latency=latency, jitter=t.jitter_ms / 1000,
                        bandwidth=(t.bandwidth_mbps or bandwidth_mbps) * 1e6 / 8, mtu=t.mtu or mtu, loss=t.loss)

    def attachments(
        self,
        links: list[LinkSpec],
        ends: dict[frozenset[str], str],
        storages: list[tuple[str, StorageSpec]],
        hosts: list[tuple[str, HostSpec]],
    ) -> None:
        """Each storage is linked to its own edge only, each host to its own storage only."""
        attached = {s.name: s for _, s in storages}
        uses = {h.name: h.storage for _, h in hosts}
        for link in links:
            key = ends[frozenset((link.a, link.b))]
            for end, other, other_key in ((link.a, link.b, f"{key}.b"), (link.b, link.a, f"{key}.a")):
                if link.kind in (LinkKind.FC, LinkKind.IP) and end in attached:
                    s = attached[end]
                    if other != s.edge:
                        raise self.fail(other_key, f"storage {end} is attached to edge {s.edge}, not {other}")
                    if link.kind != LinkKind(s.attach):
                        raise self.fail(
                            f"{key}.kind",
                            f'storage {end} has attach = "{s.attach}", so its link to {other} must be "{s.attach}"',
                        )
                if link.kind is LinkKind.SCSI and end in uses and other != uses[end]:
                    raise self.fail(other_key, f"host {end} uses storage {uses[end]}, not {other}")
        for skey, s in storages:
            if frozenset((s.name, s.edge)) not in ends:
                raise self.fail(f"{skey}.edge", f"no {s.attach} link between {s.name} and its edge {s.edge}")
        for hkey, h in hosts:
            if frozenset((h.name, h.storage)) not in ends:
                raise self.fail(f"{hkey}.storage", f"no scsi link between {h.name} and its storage {h.storage}")

    def path_timeouts(self, links: tuple[LinkSpec, ...], storages: list[tuple[str, StorageSpec]],
                      block_size: int) -> None:
        """A path timeout given must be longer than a WR's round trip to the edge, or every
        write would fail its path."""
        for key, s in storages:
            link = next(k for k in links if {k.a, k.b} == {s.name, s.edge})
            rtt = round_trip(link.latency, link.jitter, link.bandwidth, block_size)
            if s.path_timeout is not None and s.path_timeout <= rtt:
                raise self.fail(f"{key}.path_timeout_ms", (
                    f"{s.path_timeout * 1000:g} ms is not longer than a write's round trip to edge {s.edge} over "
                    f"link {link.name} ({rtt * 1000:.3g} ms): every write would fail its path"))

    def pairs(
        self,
        file: TopologyFile,
        storages: list[tuple[str, StorageSpec]],
        customers: dict[str, tuple[str, Customer]],
    ) -> tuple[PairSpec, ...]:
        """Each ``[[pair]]`` keeps the pair rules (rcnlab.topo.rules) next to those before it."""
        by_name = {s.name: s for _, s in storages}
        claims: list[Claim] = []
        out = []
        for i, p in enumerate(file.pair):
            key = f"pair[{i}]"
            ends = []
            for role, text in ((Role.SOURCE, p.source), (Role.TARGET, p.target)):
                name, _, lun = text.partition(":")
                if not name or not re.fullmatch(r"\d+", lun):
                    raise self.fail(f"{key}.{role}", f"expected 'STORAGE:LUN', got {text!r}")
                storage = by_name[self.device(f"{key}.{role}", name, "storage")]
                blocks = {v.lun: v.blocks for v in storage.volumes}.get(int(lun))
                if blocks is None:
                    raise self.fail(f"{key}.{role}", f"storage {name} has no LUN {int(lun)}")
                ends.append(End(name=f"{name}:{int(lun)}", storage=storage, blocks=blocks))
            source, target = ends
            ckey, customer = customers[source.storage.customer]
            problem = pair_problem(source, target, p.order_id, key, customer, claims)
            if problem is not None:
                raise self.fail(f"{ckey}.max_pairs" if problem.key == "max_pairs" else f"{key}.{problem.key}",
                                problem.text)
            claims.append(claim(source, target, p.order_id, key))
            out.append(PairSpec(source=source.name, target=target.name, order_id=p.order_id))
        return tuple(out)

    def routes_exist(self, topo: Topology, storages: list[tuple[str, StorageSpec]]) -> None:
        """Two storages of one customer on different edges need a GbE route between their edges."""
        for (_, s1), (key2, s2) in combinations(storages, 2):
            if s1.customer == s2.customer and s1.edge != s2.edge and find_route(topo, s1.edge, s2.edge) is None:
                raise self.fail(
                    f"{key2}.edge",
                    f"no GbE route between {s1.name} (edge {s1.edge}) and {s2.name} (edge {s2.edge})",
                )

