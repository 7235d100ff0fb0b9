"""Reading and validating a topology TOML file into a frozen `Topology`.

Every problem, from a TOML syntax error to a route that cannot exist, is raised as
`TopologyError`, whose message is one line: ``FILE: KEY: problem``. KEY names the
offending value the way the file spells it, with 0-based indices for arrays of
tables, e.g. ``link[3].b`` or ``storage[1].volumes[0].lun``. The file format is
documented key by key in ``rcnlab/data/fig1.toml``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

from rcnlab import shipped
from rcnlab.topo.routing import find_route
from rcnlab.topo.schema import (
    ORDER_METHODS,
    SECONDS_PER_KM,
    SITES,
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
)

#: Link defaults by kind when the file leaves them out: (latency ms, bandwidth Mbit/s, MTU bytes).
#: A GbE link has no default delay: give ``latency_ms`` or ``distance_km``.
LINK_DEFAULTS = {
    "scsi": (0.02, 4000.0, 65536),
    "fc": (0.01, 8000.0, 2112),
    "ip": (0.05, 10000.0, 1500),
    "gbe": (None, 1000.0, 1500),
}
#: Which device kinds each link kind joins (either way round), and how to say so.
LINK_ENDS = {
    "scsi": ([{"host", "storage"}], "a host and a storage"),
    "fc": ([{"storage", "edge"}], "a storage and an edge"),
    "ip": ([{"storage", "edge"}], "a storage and an edge"),
    "gbe": ([{"edge"}, {"edge", "core"}, {"core"}], "two edges, an edge and a core, or two cores"),
}
DEFAULT_VOLUME_BYTES = 1 << 40  # 1 TiB
_WWN = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){7}")
_NAME = re.compile(r"[A-Za-z0-9_.]+")


class TopologyError(Exception):
    """A topology file that cannot be used; str() is ``FILE: KEY: problem`` on one line."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, " ".join(problem.split())
        super().__init__(f"{path}: {key}: {self.problem}")


class _Bad(Exception):
    """A problem with one value; `_Reader` adds the file and key."""


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
        text = Path(where).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TopologyError(where, "file", f"cannot read ({exc.__class__.__name__}: {exc})") from None
    return parse_topology(text, where)


def parse_topology(text: str, path: str) -> Topology:
    """Validate TOML ``text`` read from ``path`` (used only in messages and `Topology.path`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if found:
            line, detail = found[1], f"{message[: found.start()].strip()}, column {found[2]}"
        else:  # "(at end of document)"
            line, detail = str(max(1, len(text.splitlines()))), message
        raise TopologyError(path, f"line {line}", f"invalid TOML ({detail})") from None
    return _Reader(path).topology(data)


# --- value checks: each returns the clean value or raises _Bad ---------------------------


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}
    shown = repr(value)
    return f"{names.get(type(value), type(value).__name__)} {shown if len(shown) <= 40 else shown[:37] + '...'}"


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {_type_name(value)}")
    return value


def _name(value: Any) -> str:
    if not _NAME.fullmatch(_str(value)):
        raise _Bad(f"invalid name {value!r} (letters, digits, '_' and '.' only)")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"expected an integer, got {_type_name(value)}")
    return value


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"expected a number, got {_type_name(value)}")
    if not math.isfinite(value):
        raise _Bad(f"expected a finite number, got {value!r}")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_type_name(value)}")
    return value


def _pos(value: Any) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2):
        raise _Bad(f"expected [x, y], got {_type_name(value)}")
    x, y = (_int(v) for v in value)
    if x < 0 or y < 0:
        raise _Bad(f"expected non-negative [x, y], got {value!r}")
    return x, y


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Bad(f"expected an array of names, got {_type_name(value)}")
    return tuple(_name(v) for v in value)


def _ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(_str(value)))
    except ipaddress.AddressValueError:
        raise _Bad(f"invalid IPv4 address {value!r}") from None


def _wwn(value: Any) -> str:
    wwn = _str(value).lower()
    if not _WWN.fullmatch(wwn):
        raise _Bad(f"invalid WWN {value!r} (expected 8 colon-separated hex bytes)")
    return wwn


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if _str(value) not in choices:
            raise _Bad(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return check


def _at_least(check: Callable[[Any], Any], low: float, strict: bool = False) -> Callable[[Any], Any]:
    def bounded(value: Any) -> Any:
        value = check(value)
        if value < low or (strict and value == low):
            raise _Bad(f"must be {'>' if strict else '>='} {low:g}, got {value!r}")
        return value

    return bounded


REQUIRED = object()
_site = _one_of(SITES)
_ms = _at_least(_num, 0)  # a non-negative duration in milliseconds
_positive_ms = _at_least(_num, 0, strict=True)

# The keys of each table: key -> (check, default). Defaults are in the file's units.
CUSTOMER_KEYS = {
    "id": (_name, REQUIRED),
    "name": (_str, ""),
    "max_storages": (_at_least(_int, 0), 16),
    "max_pairs": (_at_least(_int, 0), 64),
    "edges": (_names, ()),
}
HOST_KEYS = {
    "name": (_name, REQUIRED),
    "customer": (_name, REQUIRED),
    "site": (_site, REQUIRED),
    "storage": (_name, REQUIRED),
    "pos": (_pos, None),
}
STORAGE_KEYS = {
    "name": (_name, REQUIRED),
    "wwn": (_wwn, REQUIRED),
    "customer": (_name, REQUIRED),
    "site": (_site, REQUIRED),
    "edge": (_name, REQUIRED),
    "attach": (_one_of(("fc", "ip")), "fc"),
    "volumes": (lambda v: v, None),  # checked item by item below
    "copy_rate": (_at_least(_num, 0, strict=True), 20000.0),
    "command_timeout_ms": (_at_least(_num, 0, strict=True), 2000.0),
    "pos": (_pos, None),
}
STORAGE_IP_KEYS = {("address" if k == "wwn" else k): v for k, v in STORAGE_KEYS.items()}
STORAGE_IP_KEYS["address"] = (_ipv4, REQUIRED)
VOLUME_KEYS = {"lun": (_at_least(_int, 0), REQUIRED), "blocks": (_at_least(_int, 0, strict=True), REQUIRED)}
EDGE_KEYS = {
    "name": (_name, REQUIRED),
    "ip": (_ipv4, REQUIRED),
    "site": (_site, REQUIRED),
    "log_capacity": (_at_least(_int, 0, strict=True), 1 << 30),
    "log_durable": (_bool, False),
    "resend_timeout_ms": (_positive_ms, 50.0),
    "resend_limit": (_at_least(_int, 0), 5),
    "suspend_timeout_ms": (_positive_ms, 1000.0),
    "reorder_window": (_at_least(_int, 1), 1 << 20),
    "virtual_wwn": (lambda v: v, {}),  # checked entry by entry below
    "pos": (_pos, None),
}
CORE_KEYS = {
    "name": (_name, REQUIRED),
    "ip": (_ipv4, REQUIRED),
    "capacity": (_at_least(_int, 1), 64),
    "batch_wait_ms": (_ms, 0.0),
    "pos": (_pos, None),
}
MANAGEMENT_KEYS = {
    "name": (_name, "M103"),
    "collect_interval_ms": (_positive_ms, 500.0),
    "latency_ms": (_ms, 1.0),
    "pos": (_pos, None),
}
LINK_KEYS = {
    "a": (_name, REQUIRED),
    "b": (_name, REQUIRED),
    "kind": (_one_of(("scsi", "fc", "gbe", "ip")), REQUIRED),
    "latency_ms": (_ms, None),
    "distance_km": (_at_least(_num, 0), None),
    "jitter_ms": (_ms, 0.0),
    "bandwidth_mbps": (_at_least(_num, 0, strict=True), None),
    "mtu": (_at_least(_int, 64), None),
    "loss": (_num, 0.0),
}
PAIR_KEYS = {"source": (_str, REQUIRED), "target": (_str, REQUIRED), "order_id": (_at_least(_int, 0), REQUIRED)}
LAB_KEYS = {
    "name": (_str, None),
    "block_size": (_int, 512),
    "order_assurance": (_one_of(ORDER_METHODS), "A-1"),
}
SECTIONS = ("lab", "management", "customer", "host", "storage", "edge", "core", "link", "pair")


class _Reader:
    """Reads one file's tables, remembering where each device was declared for messages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.declared: dict[str, tuple[str, str]] = {}  # device name -> (kind, key)

    def fail(self, key: str, problem: str) -> TopologyError:
        return TopologyError(self.path, key, problem)

    def check(self, key: str, check: Callable[[Any], Any], value: Any) -> Any:
        try:
            return check(value)
        except _Bad as bad:
            raise self.fail(key, str(bad)) from None

    def table(self, key: str, value: Any, keys: dict[str, tuple[Callable[[Any], Any], Any]]) -> dict[str, Any]:
        """Check a table's keys against ``keys``: no unknown key, no missing one, right types."""
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_type_name(value)}")
        for unknown in (name for name in value if name not in keys):
            raise self.fail(f"{key}.{unknown}", f"unknown key (expected one of: {', '.join(keys)})")
        out = {}
        for name, (check, default) in keys.items():
            if name in value:
                out[name] = self.check(f"{key}.{name}", check, value[name])
            elif default is REQUIRED:
                raise self.fail(f"{key}.{name}", "missing required key")
            else:
                out[name] = default
        return out

    def items(self, data: dict[str, Any], section: str) -> list[tuple[str, Any]]:
        """An array of tables ``[[section]]`` as (key, unchecked item) pairs."""
        value = data.get(section, [])
        if not isinstance(value, list):
            raise self.fail(section, f"expected an array of tables [[{section}]], got {_type_name(value)}")
        return [(f"{section}[{i}]", item) for i, item in enumerate(value)]

    def tables(self, data: dict[str, Any], section: str, keys: dict) -> list[tuple[str, dict[str, Any]]]:
        """An array of tables ``[[section]]`` as (key, checked table) pairs."""
        return [(key, self.table(key, item, keys)) for key, item in self.items(data, section)]

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

    def topology(self, data: dict[str, Any]) -> Topology:
        for section in (name for name in data if name not in SECTIONS):
            raise self.fail(section, f"unknown section (expected one of: {', '.join(SECTIONS)})")
        lab = self.table("lab", data.get("lab", {}), LAB_KEYS)
        block_size = lab["block_size"]
        if block_size < 512 or block_size & (block_size - 1):
            raise self.fail("lab.block_size", f"must be a power of two >= 512, got {block_size}")

        customers = self.customers(data)
        management = self.management(data)
        edges = self.edges(data)
        cores = self.cores(data)
        storages = self.storages(data, block_size, customers)
        hosts = self.hosts(data, customers, storages)
        self.unique_addresses(storages, edges, cores)
        self.edge_virtual_wwns(edges, storages)
        links = self.links(data, storages, hosts)
        pairs = self.pairs(data, storages, customers)

        topo = Topology(
            name=lab["name"] if lab["name"] is not None else Path(self.path).stem,
            path=self.path,
            block_size=block_size,
            order_method=lab["order_assurance"],
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

    def customers(self, data: dict[str, Any]) -> dict[str, tuple[str, Customer]]:
        out: dict[str, tuple[str, Customer]] = {}
        for key, t in self.tables(data, "customer", CUSTOMER_KEYS):
            if t["id"] in out:
                raise self.fail(f"{key}.id", f"duplicate customer id {t['id']!r} (also {out[t['id']][0]})")
            out[t["id"]] = (key, Customer(**t))
        return out

    def management(self, data: dict[str, Any]) -> ManagementSpec:
        t = self.table("management", data.get("management", {}), MANAGEMENT_KEYS)
        self.declare("management", t["name"], "management server")
        return ManagementSpec(
            name=t["name"],
            collect_interval=t["collect_interval_ms"] / 1000,
            latency=t["latency_ms"] / 1000,
            pos=t["pos"],
        )

    def edges(self, data: dict[str, Any]) -> list[tuple[str, EdgeSpec]]:
        out = []
        for key, t in self.tables(data, "edge", EDGE_KEYS):
            self.declare(key, t["name"], "edge")
            t["resend_timeout"] = t.pop("resend_timeout_ms") / 1000
            t["suspend_timeout"] = t.pop("suspend_timeout_ms") / 1000
            vwwn = t["virtual_wwn"]
            if not isinstance(vwwn, dict):
                raise self.fail(f"{key}.virtual_wwn", f"expected a table of WWN = WWN, got {_type_name(vwwn)}")
            t["virtual_wwn"] = {
                self.check(f"{key}.virtual_wwn", _wwn, real): self.check(f'{key}.virtual_wwn."{real}"', _wwn, virtual)
                for real, virtual in vwwn.items()
            }
            out.append((key, EdgeSpec(**t)))
        return out

    def cores(self, data: dict[str, Any]) -> list[tuple[str, CoreSpec]]:
        out = []
        for key, t in self.tables(data, "core", CORE_KEYS):
            self.declare(key, t["name"], "core")
            t["batch_wait"] = t.pop("batch_wait_ms") / 1000
            out.append((key, CoreSpec(**t)))
        return out

    def storages(
        self,
        data: dict[str, Any],
        block_size: int,
        customers: dict[str, tuple[str, Customer]],
    ) -> list[tuple[str, StorageSpec]]:
        for ckey, customer in customers.values():
            for j, edge in enumerate(customer.edges):
                self.device(f"{ckey}.edges[{j}]", edge, "edge")
        out = []
        wwns: dict[str, str] = {}
        for key, item in self.items(data, "storage"):
            # An IP-attached storage has "address" (its IPv4 address) where others have "wwn".
            ip = isinstance(item, dict) and item.get("attach") == "ip"
            t = self.table(key, item, STORAGE_IP_KEYS if ip else STORAGE_KEYS)
            if ip:
                t["wwn"] = t.pop("address")
            self.declare(key, t["name"], "storage")
            if not ip:  # IP addresses are checked with the edges' and cores' (unique_addresses)
                if t["wwn"] in wwns:
                    raise self.fail(f"{key}.wwn", f"duplicate WWN {t['wwn']} (also {wwns[t['wwn']]})")
                wwns[t["wwn"]] = f"{key}.wwn"
            self.customer_ref(f"{key}.customer", t["customer"], customers)
            self.device(f"{key}.edge", t["edge"], "edge")
            t["volumes"] = self.volumes(key, t["volumes"], block_size)
            t["command_timeout"] = t.pop("command_timeout_ms") / 1000
            out.append((key, StorageSpec(**t)))
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

    def volumes(self, key: str, value: Any, block_size: int) -> tuple[VolumeSpec, ...]:
        if value is None:
            return (VolumeSpec(lun=0, blocks=DEFAULT_VOLUME_BYTES // block_size),)
        if not isinstance(value, list):
            raise self.fail(f"{key}.volumes", f"expected an array of {{lun, blocks}} tables, got {_type_name(value)}")
        if not value:
            raise self.fail(f"{key}.volumes", "expected at least one volume (or leave volumes out)")
        luns: dict[int, str] = {}
        out = []
        for j, item in enumerate(value):
            vkey = f"{key}.volumes[{j}]"
            v = VolumeSpec(**self.table(vkey, item, VOLUME_KEYS))
            if v.lun in luns:
                raise self.fail(f"{vkey}.lun", f"duplicate LUN {v.lun} (also {luns[v.lun]})")
            luns[v.lun] = vkey
            out.append(v)
        return tuple(out)

    def customer_ref(self, key: str, cid: str, customers: dict[str, tuple[str, Customer]]) -> None:
        if cid not in customers:
            raise self.fail(key, f"unknown customer {cid!r}")

    def hosts(
        self,
        data: dict[str, Any],
        customers: dict[str, tuple[str, Customer]],
        storages: list[tuple[str, StorageSpec]],
    ) -> list[tuple[str, HostSpec]]:
        owner = {s.name: s.customer for _, s in storages}
        out = []
        for key, t in self.tables(data, "host", HOST_KEYS):
            self.declare(key, t["name"], "host")
            self.customer_ref(f"{key}.customer", t["customer"], customers)
            self.device(f"{key}.storage", t["storage"], "storage")
            if owner[t["storage"]] != t["customer"]:
                raise self.fail(
                    f"{key}.storage",
                    f"storage {t['storage']} belongs to customer {owner[t['storage']]}, not {t['customer']}",
                )
            out.append((key, HostSpec(**t)))
        return out

    def unique_addresses(
        self,
        storages: list[tuple[str, StorageSpec]],
        edges: list[tuple[str, EdgeSpec]],
        cores: list[tuple[str, CoreSpec]],
    ) -> None:
        seen: dict[str, str] = {}
        ip_storages = [(f"{key}.address", s.wwn) for key, s in storages if s.attach == "ip"]
        for key, ip in [*ip_storages, *((f"{k}.ip", d.ip) for k, d in (*edges, *cores))]:
            if ip in seen:
                raise self.fail(key, f"duplicate IP address {ip} (also {seen[ip]})")
            seen[ip] = key

    def edge_virtual_wwns(self, edges: list[tuple[str, EdgeSpec]], storages: list[tuple[str, StorageSpec]]) -> None:
        """Fig. 2: each virtual WWN stands for a known storage WWN and is unique among all WWNs."""
        seen = {s.wwn: f"{key}.wwn" for key, s in storages if s.attach == "fc"}
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
        data: dict[str, Any],
        storages: list[tuple[str, StorageSpec]],
        hosts: list[tuple[str, HostSpec]],
    ) -> tuple[LinkSpec, ...]:
        out = []
        ends: dict[frozenset[str], str] = {}
        for key, t in self.tables(data, "link", LINK_KEYS):
            a, b, kind = t["a"], t["b"], t["kind"]
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
            out.append(LinkSpec(a=a, b=b, kind=kind, **self.link_delay(key, kind, t)))
        self.attachments(out, ends, storages, hosts)
        return tuple(out)

    def link_delay(self, key: str, kind: str, t: dict[str, Any]) -> dict[str, Any]:
        latency_ms, bandwidth_mbps, mtu = LINK_DEFAULTS[kind]
        if t["latency_ms"] is not None and t["distance_km"] is not None:
            raise self.fail(f"{key}.distance_km", "give latency_ms or distance_km, not both")
        if t["distance_km"] is not None:
            latency = t["distance_km"] * SECONDS_PER_KM
        elif t["latency_ms"] is not None:
            latency = t["latency_ms"] / 1000
        elif latency_ms is None:
            raise self.fail(f"{key}.latency_ms", f"missing required key for a {kind} link (or distance_km)")
        else:
            latency = latency_ms / 1000
        if not 0 <= t["loss"] < 1:
            raise self.fail(f"{key}.loss", f"must be in [0, 1), got {t['loss']:g}")
        return {
            "latency": latency,
            "jitter": t["jitter_ms"] / 1000,
            "bandwidth": (t["bandwidth_mbps"] or bandwidth_mbps) * 1e6 / 8,
            "mtu": t["mtu"] or mtu,
            "loss": t["loss"],
        }

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
                if link.kind in ("fc", "ip") and end in attached:
                    s = attached[end]
                    if other != s.edge:
                        raise self.fail(other_key, f"storage {end} is attached to edge {s.edge}, not {other}")
                    if link.kind != s.attach:
                        raise self.fail(
                            f"{key}.kind",
                            f'storage {end} has attach = "{s.attach}", so its link to {other} must be "{s.attach}"',
                        )
                if link.kind == "scsi" and end in uses and other != uses[end]:
                    raise self.fail(other_key, f"host {end} uses storage {uses[end]}, not {other}")
        for skey, s in storages:
            if frozenset((s.name, s.edge)) not in ends:
                raise self.fail(f"{skey}.edge", f"no {s.attach} link between {s.name} and its edge {s.edge}")
        for hkey, h in hosts:
            if frozenset((h.name, h.storage)) not in ends:
                raise self.fail(f"{hkey}.storage", f"no scsi link between {h.name} and its storage {h.storage}")

    def pairs(
        self,
        data: dict[str, Any],
        storages: list[tuple[str, StorageSpec]],
        customers: dict[str, tuple[str, Customer]],
    ) -> tuple[PairSpec, ...]:
        by_name = {s.name: s for _, s in storages}
        used: dict[str, str] = {}
        count: dict[str, int] = {}
        groups: dict[int, tuple[str, str, str]] = {}  # order ID -> (source edge, target edge, key)
        out = []
        for key, t in self.tables(data, "pair", PAIR_KEYS):
            owners = []
            for role in ("source", "target"):
                name, _, lun = t[role].partition(":")
                if not name or not re.fullmatch(r"\d+", lun):
                    raise self.fail(f"{key}.{role}", f"expected 'STORAGE:LUN', got {t[role]!r}")
                storage = by_name[self.device(f"{key}.{role}", name, "storage")]
                if int(lun) not in {v.lun for v in storage.volumes}:
                    raise self.fail(f"{key}.{role}", f"storage {name} has no LUN {int(lun)}")
                t[role] = f"{name}:{int(lun)}"
                if t[role] in used:
                    raise self.fail(f"{key}.{role}", f"volume {t[role]} is already in {used[t[role]]}")
                used[t[role]] = f"{key}.{role}"
                owners.append(storage)
            source, target = owners
            if source.name == target.name:
                raise self.fail(f"{key}.target", f"source and target are both on storage {source.name}")
            if source.customer != target.customer:
                raise self.fail(
                    f"{key}.target",
                    f"pair crosses customers: {target.name} belongs to {target.customer}, "
                    f"{source.name} to {source.customer}",
                )
            edges = (source.edge, target.edge)
            first = groups.setdefault(t["order_id"], (*edges, key))
            if first[:2] != edges:
                raise self.fail(
                    f"{key}.order_id",
                    f"order assurance ID {t['order_id']} already joins edges {first[0]}->{first[1]} ({first[2]}); "
                    f"one sequence cannot be reflected in order by two edge pairs ({edges[0]}->{edges[1]})",
                )
            count[source.customer] = count.get(source.customer, 0) + 1
            ckey, customer = customers[source.customer]
            if count[source.customer] > customer.max_pairs:
                raise self.fail(
                    f"{ckey}.max_pairs",
                    f"customer {customer.id} has more pairs than the contract limit of {customer.max_pairs} ({key})",
                )
            out.append(PairSpec(**t))
        return tuple(out)

    def routes_exist(self, topo: Topology, storages: list[tuple[str, StorageSpec]]) -> None:
        """Two storages of one customer on different edges need a GbE route between their edges."""
        for (_, s1), (key2, s2) in combinations(storages, 2):
            if s1.customer == s2.customer and s1.edge != s2.edge and find_route(topo, s1.edge, s2.edge) is None:
                raise self.fail(
                    f"{key2}.edge",
                    f"no GbE route between {s1.name} (edge {s1.edge}) and {s2.name} (edge {s2.edge})",
                )

