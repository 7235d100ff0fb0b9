"""Random labs for the fuzzer and the property tests: a topology, a workload and a
fault schedule, all written as the TOML files ``rcnlab run`` reads, so that every
case replays with ``rcnlab run TOPOLOGY --scenario SCENARIO --seed S``.

A schedule is a short list of `Step` (time, action, arguments); the fixed frame
around it (pairs created at 0, workloads, then ``heal-all`` at `HEAL_AT`,
``resync-all`` three times and the final expectations at "end") is added by
`scenario_toml`.

A seed draws from two streams (`draw_case`): the first envelope (`random_topo`, the
workloads, faults of `FIRST_KINDS`) exactly as the fuzzer always drew it, then the
widened one (`widen`: the optional keys of every table, `KNOBS`; IP-attached storage;
shared and run-time order IDs; overload; creations that must be refused; faults of
`WIDE_KINDS`). A seed whose second stream draws nothing is the lab it always was.
Every knob a user can set is within reach: a new topology key is one line of `KNOBS`,
a new fault or command one line of `FAULTS`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import attrs

from rcnlab.devices.edge.flow import PIPE_FLOOR
from rcnlab.devices.edge.source import RESEND_BACKOFF_MAX
from rcnlab.emu.journal import Journal, TraceDigest
from rcnlab.fuzz.limits import NO_LIMITS, Limits, Stopped
from rcnlab.model.kinds import LinkKind, OrderMethod
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES
from rcnlab.model.pace import WINDOW_BYTES
from rcnlab.model.pair_state import Command
from rcnlab.model.rio import RIO_HEADER_BYTES
from rcnlab.ops.commands import CreatePair, Note
from rcnlab.run import Session
from rcnlab.scenario.steps import Scenario, parse_scenario
from rcnlab.topo.load import LINK_DEFAULTS, parse_topology
from rcnlab.world import World

FAULT_WINDOW = (0.02, 1.5)  # faults happen in this span of virtual seconds
HEAL_AT = 2.0
#: After the heal; the later passes come after any pair command given in the fault window
#: has timed out (the topologies keep the default command timeout of 2 s), e.g. a failover
#: whose target edge was down, which ends in a takeover the next pass must undo.
RESYNC_AT = (2.6, 4.0, 5.0)
#: The notes before a step that must be refused (a run-time contract or order-ID violation),
#: and before a failover that must complete (no fault about it).
MUST_REFUSE, MUST_SUCCEED = "must be refused: ", "must succeed: "
#: A failover with no other fault step this near it (virtual seconds) must complete.
QUIET = (0.3, 0.6)


class Rng(Protocol):
    """What the draws use of random.Random (the property tests answer it with hypothesis draws)."""

    def choice(self, seq: Any) -> Any: ...
    def uniform(self, a: float, b: float) -> float: ...
    def random(self) -> float: ...
    def randrange(self, start: int, stop: int | None = ...) -> int: ...


#: A topology key beyond the first envelope: (where: "lab", "management", a customer id, a
#: device name or a link "A-B"; key; value). It overrides the key the lab writes anyway.
Knob = tuple[str, str, Any]


@attrs.frozen(kw_only=True)
class TopoParams:
    """The shape of a generated lab: customers C1..Cn each copy storage S<c>1 (edge E1)
    to S<c>2 (edge E2), volume by volume, over ``cores`` core devices."""

    cores: int = 1  # 0-4
    shape: str = "chain"  # "chain" or "mesh" (extra links E1-K2 and K<n-1>-E2)
    customers: int = 1  # 1-2; two customers share both edges
    volumes: int = 1  # pairs per customer
    modes: tuple[str, ...] = ("async",)  # per pair, customer by customer
    order_method: str = "A-1"  # a group per storage pair; A-2: one for the edge pair; B: per pair
    durable: bool = True  # edges' log storage area survives a crash
    batch_wait_ms: float = 0.0
    distance_km: float = 100.0
    jitter_ms: float = 0.0  # on every GbE link
    blocks: int = 256  # volume size: small, so writes hit the same blocks again
    # -- the widened envelope (`widen`) --
    attach: str = "fc"  # storage-edge links: "fc", or "ip" (IP-attached storage)
    order_groups: str = "pair"  # method B: an order ID per "pair", per "customer", or one for the "edge" pair
    runtime_order: bool = False  # method B: pair-create gives the order ID rather than a [[pair]] table
    virtual_wwn: bool = False  # Fig. 2: the edges present virtual storages with WWNs of their own
    spare: bool = False  # every storage has one more LUN, in no pair (for creations that must be refused)
    same_edge: bool = False  # customer 1 has a second source storage S13, also on E1
    tight_contract: bool = False  # each customer's max_pairs is its number of pairs
    knobs: tuple[Knob, ...] = ()

    @property
    def pairs(self) -> list[tuple[str, str, str]]:
        """(source volume, target volume, mode) of every pair."""
        out = []
        for c in range(1, self.customers + 1):
            for lun in range(self.volumes):
                mode = self.modes[((c - 1) * self.volumes + lun) % len(self.modes)]
                out.append((f"S{c}1:{lun}", f"S{c}2:{lun}", mode))
        return out

    def order_id(self, index: int) -> int:
        """Method B: the order ID of pair ``index`` (of `pairs`)."""
        return {"pair": index + 1, "customer": index // self.volumes + 1, "edge": 1}[self.order_groups]

    def groups(self) -> list[list[int]]:
        """The pairs (indices of `pairs`) that share an order assurance ID: all of them (A-2,
        one edge pair), those of a storage pair (A-1), those given one ID (B)."""
        n = len(self.pairs)
        if self.order_method == OrderMethod.A2:
            keys = [0] * n
        elif self.order_method == OrderMethod.B:
            keys = [self.order_id(i) for i in range(n)]
        else:
            keys = [i // self.volumes for i in range(n)]
        out: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            out.setdefault(key, []).append(i)
        return list(out.values())

    def gbe_links(self) -> list[str]:
        return [f"{a}-{b}" for a, b, kind in _links(self) if kind is LinkKind.GBE]

    def fc_links(self) -> list[str]:
        """The storage-edge links (FC, or IP for IP-attached storage)."""
        return [f"{a}-{b}" for a, b, kind in _links(self) if kind in (LinkKind.FC, LinkKind.IP)]

    def storage_links(self) -> list[str]:
        """The links that deliver in order: host-storage SCSI and storage-edge FC or IP."""
        return [f"{a}-{b}" for a, b, kind in _links(self) if kind is not LinkKind.GBE]

    def core_names(self) -> list[str]:
        return [f"K{i}" for i in range(1, self.cores + 1)]

    def storage_names(self) -> list[str]:
        return [f"S{c}{side}" for c in range(1, self.customers + 1) for side in (1, 2)] + ["S13"] * self.same_edge

    def link_value(self, link: str, key: str) -> Any:
        """What the topology file gives ``link`` for ``key`` (its kind's default if nothing)."""
        kind = next(k for a, b, k in _links(self) if f"{a}-{b}" == link)
        written = _link_keys(self, link, kind)
        if key in written:
            return written[key]
        latency, bandwidth, mtu = LINK_DEFAULTS[kind]
        return {"latency_ms": latency, "bandwidth_mbps": bandwidth, "mtu": mtu}.get(key, 0.0)


def _links(p: TopoParams) -> list[tuple[str, str, LinkKind]]:
    attach = LinkKind(p.attach)
    links = []
    for c in range(1, p.customers + 1):
        links += [(f"H{c}1", f"S{c}1", LinkKind.SCSI), (f"S{c}1", "E1", attach),
                  ("E2", f"S{c}2", attach), (f"H{c}2", f"S{c}2", LinkKind.SCSI)]
    if p.same_edge:
        links.append(("S13", "E1", attach))
    cores = p.core_names()
    path = ["E1", *cores, "E2"]
    links += [(a, b, LinkKind.GBE) for a, b in zip(path, path[1:])]
    if p.shape == "mesh" and len(cores) >= 2:
        links += [("E1", cores[1], LinkKind.GBE), (cores[-2], "E2", LinkKind.GBE)]
    return links


def _link_keys(p: TopoParams, name: str, kind: LinkKind) -> dict[str, Any]:
    """A link's keys beyond a, b and kind."""
    keys: dict[str, Any] = {}
    if kind is LinkKind.GBE:
        keys["distance_km"] = float(p.distance_km)
        if p.jitter_ms:
            keys["jitter_ms"] = float(p.jitter_ms)
    return keys | _knobs(p, name)


def _knobs(p: TopoParams, where: str) -> dict[str, Any]:
    return {key: value for at, key, value in p.knobs if at == where}


def _wwn(c: int, side: int, virtual: bool = False) -> str:
    return f"50:06:0e:80:00:{int(virtual):02x}:{c:02x}:{side:02x}"


def _table(name: str, keys: dict[str, Any]) -> list[str]:
    return [f"[{name}]" if name in ("lab", "management") else f"[[{name}]]",
            *(f"{k} = {_toml_value(v)}" for k, v in keys.items()), ""]


def topology_toml(p: TopoParams, name: str = "fuzz") -> str:
    """The topology file for ``p``."""
    out = [f'# generated by rcnlab.fuzz.gen: {attrs.asdict(p)}']
    out += _table("lab", {"name": name, "order_assurance": p.order_method} | _knobs(p, "lab"))
    if _knobs(p, "management"):
        out += _table("management", _knobs(p, "management"))
    for c in range(1, p.customers + 1):
        contract = {"max_pairs": p.volumes} if p.tight_contract else {}
        out += _table("customer", {"id": f"C{c}"} | contract | _knobs(p, f"C{c}"))
    volumes = [{"lun": i, "blocks": p.blocks} for i in range(p.volumes + p.spare)]
    storages = [(c, side, site, edge) for c in range(1, p.customers + 1)
                for side, site, edge in ((1, "source", "E1"), (2, "target", "E2"))]
    for c, side, site, edge in storages + [(1, 3, "source", "E1")] * p.same_edge:
        name = f"S{c}{side}"
        if side != 3:
            out += _table("host", {"name": f"H{c}{side}", "customer": f"C{c}", "site": site, "storage": name}
                          | _knobs(p, f"H{c}{side}"))
        where = {"attach": "ip", "address": f"198.51.100.{16 * c + side}"} if p.attach == "ip" else \
            {"attach": "fc", "wwn": _wwn(c, side)}
        out += _table("storage", {"name": name} | where | {"customer": f"C{c}", "site": site, "edge": edge,
                                                          "volumes": volumes} | _knobs(p, name))
    for i, (name, site, far) in enumerate((("E1", "source", 2), ("E2", "target", 1)), start=1):
        keys: dict[str, Any] = {"name": name, "ip": f"192.0.2.{i}", "site": site, "log_durable": p.durable}
        if p.virtual_wwn:  # Fig. 2: the far storages seen through virtual WWNs of this edge's own
            keys["virtual_wwn"] = {_wwn(c, far): _wwn(c, far, True) for c in range(1, p.customers + 1)}
        out += _table("edge", keys | _knobs(p, name))
    for i, core in enumerate(p.core_names(), start=1):
        out += _table("core", {"name": core, "ip": f"192.0.2.{100 + i}", "batch_wait_ms": float(p.batch_wait_ms)}
                      | _knobs(p, core))
    for a, b, kind in _links(p):
        out += _table("link", {"a": a, "b": b, "kind": str(kind)} | _link_keys(p, f"{a}-{b}", kind))
    if p.order_method == OrderMethod.B and not p.runtime_order:
        for i, (src, dst, _) in enumerate(p.pairs):
            out += _table("pair", {"source": src, "target": dst, "order_id": p.order_id(i)})
    return "\n".join(out)


@attrs.frozen(kw_only=True)
class Step:
    """One step of a fault schedule: at virtual time ``at`` do ``do`` with ``args``;
    ``refuse``: why the step must be refused (a creation against the contract or the order
    IDs); ``succeed``: why it must complete (a failover with no fault about it)."""

    at: float
    do: str
    args: tuple[tuple[str, Any], ...] = ()
    refuse: str = ""
    succeed: str = ""

    @property
    def must(self) -> str:
        """The note that goes before the step, if any."""
        return MUST_REFUSE + self.refuse if self.refuse else MUST_SUCCEED + self.succeed if self.succeed else ""

    def __str__(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.args)
        return f"{self.at:g}s {self.do} {args}".rstrip() + (f" ({self.must})" if self.must else "")


@attrs.frozen(kw_only=True)
class Workload:
    volume: str
    rate: float
    count: int
    at: float = 0.2


@attrs.frozen(kw_only=True)
class Case:
    """A whole generated run: topology, workloads, fault schedule, seed."""

    topo: TopoParams
    workloads: tuple[Workload, ...]
    faults: tuple[Step, ...]
    seed: int = 0
    break_rule: str | None = None

    def with_faults(self, faults: tuple[Step, ...] | list[Step]) -> Case:
        return attrs.evolve(self, faults=tuple(faults))


def _toml_value(v: Any) -> str:
    """``v`` as TOML reads it back: repr of a float is TOML too (``inf``, ``-inf``, ``nan``,
    ``1e-05``), and a string escapes quotes, backslashes and control characters."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + "".join(_TOML_ESCAPES.get(c, c) for c in v) + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_value(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v)


_TOML_ESCAPES = {c: f"\\u{ord(c):04x}" for c in (*map(chr, range(0x20)), "\x7f")} | {'"': '\\"', "\\": "\\\\"}


def _step_toml(at: float | str, do: str, args: Any = ()) -> list[str]:
    out = ["[[step]]", f"at = {_toml_value(at if isinstance(at, str) else float(at))}", f'do = "{do}"']
    out += [f"{k} = {_toml_value(v)}" for k, v in args]
    return out + [""]


#: The bytes of a log entry that carries no block (a pair creation, its ICOK).
CONTROL_ENTRY_BYTES = LOG_ENTRY_HEADER_BYTES + RIO_HEADER_BYTES


def _routes(topo: TopoParams) -> tuple[list[str], bool, float]:
    """The GbE links of the routes the management server gives E1's storages to E2's,
    whether E1 gives up on an entry (908) before its answer can come back on one of them,
    and the longest round trip of an entry and its answer between the edges.

    A mesh does not route round a slow link, it takes the fewest cores (fuzz seeds 419 and
    928: a 1 Mbit/s link K2-E2 on the one-core route E1-K2-E2 of a three-core mesh). With no
    answer yet the resends do not back off: ``resend_limit`` + 1 times ``resend_timeout`` after
    it left, an entry is given up; when that is shorter than the round trip (the route and
    the target storage's link both ways, a batching core's wait each way) no pair can ever
    be created (seed 1380: 5 ms x 6 against a core batching 10 ms and a target storage
    12.5 ms away), as ``rcnlab check`` warns."""
    parsed = parse_topology(topology_toml(topo), "<gen>")
    links = {frozenset((ls.a, ls.b)): ls for ls in parsed.links}
    batch = {c.name: c.batch_wait for c in parsed.cores}
    edge = next(e for e in parsed.edges if e.name == "E1")
    names = set(topo.gbe_links())
    out: set[str] = set()
    gives_up, longest = False, 0.0
    for route in World(parsed).management.routes:
        if route.devices[0] != "E1" or route.devices[-1] != "E2":
            continue
        hops = list(zip(route.devices, route.devices[1:]))
        out.update(f"{a}-{b}" if f"{a}-{b}" in names else f"{b}-{a}" for a, b in hops)
        target = next(s for s in parsed.storages if s.wwn == route.target_wwn)
        gbe = 2 * sum(ls.latency + ls.jitter for ls in (links[frozenset(hop)] for hop in hops)) + 2 * sum(
            batch.get(d, 0.0) for d in route.devices)
        far = links[frozenset((target.name, target.edge))]
        # a creation and its ICOK cross each link at its bandwidth too (the deep profile: two
        # 1 Mbit/s links and a target storage 12.5 ms away came 0.4 ms short of 5 ms x 6)
        carry = sum(2 * CONTROL_ENTRY_BYTES / ls.bandwidth for ls in (links[frozenset(hop)] for hop in hops))
        gives_up |= edge.resend_timeout * (edge.resend_limit + 1) < (
            gbe + carry + 2 * (far.latency + far.jitter + RIO_HEADER_BYTES / far.bandwidth))
        longest = max(longest, gbe)
    return sorted(out), gives_up, longest


def slow_copies(case: Case) -> set[int]:
    """The pairs (indices of ``case.topo.pairs``) that cannot be demanded Duplex at the end: the
    target edge hands an order group's entries to the target storages strictly one after the
    other, each when the last one's answer is back (2003-2005), so a copy of the blocks written
    takes at least their number times the round trip of each target storage's link (and their
    bytes, header and RIO included, over the slowest link of the route, a mesh's cores aside;
    and a round trip of the route for each ``reorder_window`` of them the target edge takes);
    over a route that loses entries (each fragment of one may be lost) every reorder window of
    them waits for a resend, backed off while answers come (`_loss_stall`); the Duplex
    transition's answer (DOK) comes after them, and when that is longer than a source storage's
    command timeout the transition times out and the pair goes to failure Suspend, as the README
    says (say, a target storage 2,500 km away over FC, or a 500 ms command timeout). A group a
    failback may have turned round is judged both ways: its copy then goes to the old source
    storages, timed by the old targets' command timeouts (`_failed_back`)."""
    topo = case.topo
    written = _written(case.workloads, case.faults)
    entry_bytes = _entry_bytes(topo)
    gbe, gives_up, round_trip = _routes(topo)
    if gives_up:
        return set(range(len(topo.pairs)))
    # every copy crosses the GbE links of the route together: one group's copy waits for the
    # others' there (seed 1586: 20 blocks behind another customer's 256 over 1 Mbit/s)
    narrowest = min((topo.link_value(link, "bandwidth_mbps") for link in gbe), default=float("inf")) * 1e6 / 8
    shared_s = sum(min(topo.blocks, written.get(src, 0.0)) for src, _, _ in topo.pairs) * entry_bytes / narrowest
    kept = _kept(topo, gbe, entry_bytes)
    live_s = _live_s(topo, written, gbe)
    if case.faults and live_s >= RESYNC_AT[-1]:
        return set(range(len(topo.pairs)))
    turned = _failed_back(case)
    out: set[int] = set()
    for group in topo.groups():
        pairs = [(src.split(":")[0], dst.split(":")[0], src) for src, dst, _ in (topo.pairs[i] for i in group)]
        copied = [min(topo.blocks, written.get(volume, 0.0)) for _, _, volume in pairs]
        ways = [("E1", "E2", pairs)] + [("E2", "E1", [(dst, src, v) for src, dst, v in pairs])] * bool(
            turned & set(group))
        for source_edge, target_edge, storages in ways:
            reflect_s, far_s = 0.0, 0.0  # far_s: the longest round trip of a target storage's link
            carried: dict[str, float] = {}  # storage link -> blocks copied over it
            for (src, dst, _), blocks in zip(storages, copied):
                far = _storage_link(dst, target_edge)
                reflect_s += blocks * 2 * topo.link_value(far, "latency_ms") / 1000
                far_s = max(far_s, 2 * (topo.link_value(far, "latency_ms") + topo.link_value(far, "jitter_ms")) / 1000)
                for link in (_storage_link(src, source_edge), far):
                    carried[link] = carried.get(link, 0.0) + blocks
            carry_s = max([shared_s] + [blocks * 8 * entry_bytes / (1e6 * topo.link_value(link, "bandwidth_mbps"))
                                        for link, blocks in carried.items()])
            # what the DOK waits behind: the copy engines wait above the source edge's copy mark
            backlog = min(sum(copied), _copy_mark(_knobs(topo, source_edge), narrowest * round_trip) / entry_bytes)
            window = min(backlog, float(_knobs(topo, target_edge).get("reorder_window", 1 << 20)))
            window_s = -(-backlog // window) * (round_trip + far_s) if window else 0.0  # a window a round trip
            stall_s = _loss_stall(window, backlog, 1.0 - kept, _knobs(topo, source_edge))
            timeout_s = min(_knobs(topo, src).get("command_timeout_ms", 2000.0) for src, _, _ in storages) / 1000
            if max(reflect_s, carry_s, window_s) + stall_s >= timeout_s:
                out.update(group)
    return out


def _written(workloads: Sequence[Workload], faults: Sequence[Step]) -> dict[str, float]:
    """Blocks written to each source volume, by the workloads and the workload steps."""
    written: dict[str, float] = {}
    for volume, count in [(w.volume, w.count) for w in workloads] + [
            (a["volume"], a.get("count", a.get("rate", 0.0) * a.get("duration", 0.0)))
            for s in faults if s.do == "workload" for a in [dict(s.args)]]:
        written[volume] = written.get(volume, 0.0) + count
    return written


def _entry_bytes(topo: TopoParams) -> int:
    return LOG_ENTRY_HEADER_BYTES + RIO_HEADER_BYTES + _knobs(topo, "lab").get("block_size", 512)


def _kept(topo: TopoParams, gbe: list[str], entry_bytes: int) -> float:
    """The share of entries that cross the route whole."""
    kept = 1.0
    for link in gbe:
        kept *= (1.0 - topo.link_value(link, "loss")) ** -(-entry_bytes // topo.link_value(link, "mtu"))
    return kept


def _live_s(topo: TopoParams, written: dict[str, float], gbe: list[str]) -> float:
    """How long the live writes keep the narrowest link of the route (or of an end) busy."""
    entry_bytes = _entry_bytes(topo)
    narrowest = min((topo.link_value(link, "bandwidth_mbps") for link in gbe), default=float("inf")) * 1e6 / 8
    kept = _kept(topo, gbe, entry_bytes)
    # Live writes cross the route too, one entry each. Over a route that loses frames, the
    # entries behind a lost one wait at the target edge for its resend and are resent too
    # (their answers come only after it), so each crosses about twice. While they still queue
    # on the narrowest link at the last resync, a creation or resync given then waits behind
    # them past its command timeout (seed 8975: 800 writes of two sync pairs over 1 Mbit/s
    # with 1 % loss further on, 749 resent; the link was busy to 7.7 s and another customer's
    # creations never had their ICOK). With no fault step no command comes after the first.
    live_s = (sum(written.get(src, 0.0) for src, _, _ in topo.pairs) * entry_bytes / narrowest
              * (1 if kept == 1.0 else 2) / kept)
    # So do the links at the ends: the source host's SCSI link carries each write, and a
    # command given behind them waits there too (the deep profile: a suspend behind 2,000
    # writes of 4 KiB on a 10 Mbit/s SCSI link took effect at 6.7 s, after the last resync);
    # each storage's link to its edge carries each entry.
    ends: dict[str, float] = {}
    names = {f"{a}-{b}" for a, b, _ in _links(topo)}
    for src, dst, _ in topo.pairs:
        source, target = src.split(":")[0], dst.split(":")[0]
        for link in {f"H{source[1:]}-{source}", _storage_link(source, "E1"), _storage_link(target, "E2")} & names:
            ends[link] = ends.get(link, 0.0) + written.get(src, 0.0)
    live_s = max([live_s] + [count * entry_bytes * 8 / (1e6 * topo.link_value(link, "bandwidth_mbps"))
                             * (2 if topo.link_value(link, "loss") else 1) for link, count in ends.items()])
    return live_s


def _storage_link(storage: str, edge: str) -> str:
    """The name of a storage's link to its edge, as `_links` writes it (S11-E1, E2-S12)."""
    return f"{storage}-{edge}" if edge == "E1" else f"{edge}-{storage}"


def _copy_mark(edge: dict[str, Any], pipe: float) -> float:
    """At most the bytes a source edge with ``edge``'s knobs holds in 413 when a copy ends (the
    copy engines wait above its copy mark, ``rcnlab.devices.edge.flow``, with a pipe of at most
    ``pipe`` bytes), and a storage's window of WRs beyond it."""
    capacity: int = edge.get("log_capacity", 1 << 30)
    high_water = capacity * float(edge.get("log_high_water_pct", 80)) / 100
    return min(capacity, min(high_water, max(PIPE_FLOOR, 2 * pipe)) + min(WINDOW_BYTES, capacity // 8))


def _loss_stall(window: float, entries: float, lost: float, source_edge: dict[str, Any]) -> float:
    """Seconds a copy of ``entries`` waits for resends over a route that loses a share ``lost``
    of them. The target edge takes at most its ``reorder_window`` of entries beyond the last
    one reflected, so each ``window`` that loses one waits for a resend: the first after the
    source edge's resend timeout (its knobs ``source_edge``), the later ones after that
    timeout backed off (answers keep coming) to `RESEND_BACKOFF_MAX` times (seed 217: 4 KiB blocks in 256-byte frames at 1 %
    loss lose 16 % of the entries; a window of 64 drained some 300 entries a second, and a
    1,000-block copy outlasted the 2 s command timeout; with the default window it did not)."""
    if not lost or not entries:
        return 0.0
    whole: float = (1.0 - lost) ** window  # a window that loses none
    stalls = -(-entries // window) * (1.0 - whole)  # windows that lose an entry
    resend_s = float(source_edge.get("resend_timeout_ms", 50.0)) / 1000
    return resend_s * (min(1.0, stalls) + max(0.0, stalls - 1.0) * RESEND_BACKOFF_MAX)


def _failed_back(case: Case) -> set[int]:
    """The pairs (indices of ``case.topo.pairs``) of the groups a failback step names (by
    either volume, or by order ID) after a failover that may have taken them over (one
    naming the group, or a site failure with a host that takes over by itself): the copies
    of the last resync may go the other way (seed 520)."""
    topo = case.topo
    auto = any(key == "auto_failover" and value for _, key, value in topo.knobs)

    def named(step: Step, group: list[int]) -> bool:
        args = dict(step.args)
        return any(args.get("volume") in topo.pairs[i][:2] or args.get("order_id") == topo.order_id(i)
                   for i in group)

    out: set[int] = set()
    for group in topo.groups():
        for back in (s for s in case.faults if s.do == "failback" and named(s, group)):
            if any(s.at <= back.at and (s.do == "failover" and named(s, group) or auto and s.do == "site-failure")
                   for s in case.faults):
                out.update(group)
    return out


def scenario_toml(case: Case, note: str = "") -> str:
    """The scenario file of ``case``: pairs, workloads, faults, heal, resync, expectations.
    A step that must be refused follows a note saying why, and its target volume is
    expected Simplex at the end."""
    topo = case.topo
    out = ["[scenario]", f'name = "fuzz-{case.seed}"']
    if note:
        out.append(f"description = {_toml_value(note)}")
    out.append("")
    if case.break_rule:
        out += _step_toml(0.0, "break-rule", [("rule", case.break_rule)])
    late = _late_customers(topo)  # their pairs are created by the steps of `_late_contract`
    for i, (src, _, _) in enumerate(topo.pairs):
        if _customer(src) not in late:
            out += _step_toml(0.0, "pair-create", _create_args(topo, i))
    for w in case.workloads:
        out += _step_toml(w.at, "workload", [("volume", w.volume), ("rate", float(w.rate)), ("count", w.count),
                                              ("blocks", [0, topo.blocks])])
    for s in sorted(case.faults, key=lambda s: s.at):
        if s.must:
            out += _step_toml(s.at, "note", [("text", s.must)])
        out += _step_toml(s.at, s.do, s.args)
    out += _step_toml(HEAL_AT, "heal-all")
    for at in RESYNC_AT:
        out += _step_toml(at, "resync-all")
    # A frame lost on a storage's FC (SCSI, IP) link is a path failure (908): over a link that
    # keeps losing frames no resync can be expected to end Duplex; the checkers still hold.
    storage_links = set(topo.storage_links())
    if not any(key == "loss" and where in storage_links for where, key, _ in topo.knobs):
        slow = slow_copies(case)  # nor over a target storage link too slow for the copy (by design)
        for i, (src, _, _) in enumerate(topo.pairs):
            if i not in slow:
                out += _step_toml("end", "expect", [("pair", src), ("state", "Duplex")])
    created = {dict(s.args)["target"] for s in case.faults if s.do == "pair-create" and not s.refuse}
    # where no creation can ever be answered (908 first), no pair fills the contract's max_pairs:
    # a creation beyond it is tried, and fails at its 908 as the others (seed 9910)
    unfilled = _routes(topo)[1]
    for s in case.faults:
        if unfilled and "max_pairs" in s.refuse:
            continue
        if s.refuse and dict(s.args)["target"] not in created:  # (not created again once it may be)
            out += _step_toml("end", "expect", [("pair", dict(s.args)["target"]), ("state", "Simplex")])
    out += _step_toml("end", "expect", [("invariants", True)])
    return "\n".join(out)


# -- random cases from a seed --------------------------------------------------------------
#: A fault kind's drawing: (rng, topology, t0, t1, a pair's source and target volume) -> steps.
Draw = Callable[[Rng, TopoParams, float, float, str, str], list[Step]]


def _cut(rng: Rng, topo: TopoParams, t0: float, t1: float, links: list[str], one_way: bool) -> list[Step]:
    link = rng.choice(links)
    args: tuple[tuple[str, Any], ...] = (("link", link),)
    if one_way:
        a, b = link.split("-")
        args += (("direction", rng.choice((f"{a}>{b}", f"{b}>{a}"))),)
    return [Step(at=t0, do="fail", args=args), Step(at=t1, do="restore", args=args)]


def _set_link(rng: Rng, topo: TopoParams, t0: float, t1: float, links: list[str], key: str,
              values: tuple[Any, ...]) -> list[Step]:
    """``key`` of a link set for a while, then back to what the topology gives it."""
    link = rng.choice(links)
    return [Step(at=t0, do="set-link", args=(("link", link), (key, rng.choice(values)))),
            Step(at=t1, do="set-link", args=(("link", link), (key, topo.link_value(link, key))))]


def _down_up(at: float, back: float, device: str) -> list[Step]:
    return [Step(at=at, do="crash", args=(("device", device),)),
            Step(at=back, do="restart", args=(("device", device),))]


def _crash(rng: Rng, names: list[str], t0: float, t1: float) -> list[Step]:
    return _down_up(t0, t1, rng.choice(names)) if names else []


def _order_id(topo: TopoParams, dst: str) -> int:
    """Method B: the order assurance ID of the pair whose target is ``dst``."""
    return topo.order_id(next(i for i, p in enumerate(topo.pairs) if p[1] == dst))


def _group(topo: TopoParams, dst: str) -> list[tuple[str, str, str]]:
    """The pairs that share the order assurance ID of the pair whose target is ``dst``."""
    pairs = topo.pairs
    index = next(i for i, p in enumerate(pairs) if p[1] == dst)
    return [pairs[i] for i in next(g for g in topo.groups() if index in g)]


def _host(volume: str) -> str:
    """The host of a volume's storage (S11:0 -> H11)."""
    return "H" + volume[1:3]


def _customer(volume: str) -> str:
    """The customer of a volume's storage (S21:0 -> C2)."""
    return "C" + volume[1]


def _create_args(topo: TopoParams, index: int) -> tuple[tuple[str, Any], ...]:
    """The pair-create of pair ``index`` (of `pairs`), with its order ID in a method B lab
    that gives them at run time."""
    src, dst, mode = topo.pairs[index]
    order = (("order_id", topo.order_id(index)),) if topo.runtime_order and topo.order_method == OrderMethod.B else ()
    return (("source", src), ("target", dst), ("mode", mode), *order)


def _late_customers(topo: TopoParams) -> set[str]:
    """The customers whose contract comes later (901-902 by steps, `_late_contract`)."""
    return {where for where, key, value in topo.knobs if key == "contract" and value == "later"}


#: Of the widened labs, the share with a customer whose contract comes later, and the share
#: that says ``contract = "at-start"`` (the default) in so many words.
LATE_CONTRACT, AT_START = 0.15, 0.05


def _late_contract(rng: Rng, topo: TopoParams) -> tuple[TopoParams, list[Step]]:
    """A customer whose contract comes later (``contract = "later"``): the contract (901) and
    the customer configuration (902) are steps, both before its pairs are created at 0
    ("before"), or only the contract ("between"), or neither ("after": the contract comes at
    a time of the fault window). A creation before both must be refused, in one line; it is
    given again once the customer is configured, and after the heal. The contract's terms, when given, keep what
    the lab connects and creates (a tight contract keeps its max_pairs, and comes "before")."""
    c = rng.randrange(1, topo.customers + 1)
    customer = f"C{c}"
    topo = attrs.evolve(topo, knobs=(*topo.knobs, (customer, "contract", "later")))
    when = "before" if topo.tight_contract else rng.choice(("before", "between", "after"))
    t0 = round(rng.uniform(*FAULT_WINDOW), 3)
    contract_at = t0 if when == "after" else 0.0
    configured_at = 0.0 if when == "before" else round(t0 + rng.choice((0.0, 0.05)), 3)
    terms: list[tuple[str, Any]] = [("customer", customer)]
    storages = sum(1 for s in topo.storage_names() if s[1] == str(c))
    for key, value in (("max_storages", rng.choice((storages, 16))), ("edges", rng.choice(([], ["E1", "E2"]))),
                       ("max_pairs", topo.volumes if topo.tight_contract else rng.choice((topo.volumes + 1, 64)))):
        if rng.random() < 0.5:
            terms.append((key, value))
    mine = [i for i, (src, _, _) in enumerate(topo.pairs) if _customer(src) == customer]
    missing = "has no contract yet (901)" if when == "after" else "is not configured yet (902)"
    early = [Step(at=0.0, do="pair-create", args=_create_args(topo, i), refuse=f"customer {customer} {missing}")
             for i in mine] if when != "before" else []
    steps = [Step(at=contract_at, do="contract", args=tuple(terms))]
    steps = early + steps if when == "after" else steps + early
    steps.append(Step(at=configured_at, do="configure-customer", args=(("customer", customer),)))
    # given in the fault window, a creation may be refused for a fault (its host down, seed 820): after
    # the heal it is given once more (refused in one line if the pair is there)
    again = [configured_at] + [round(HEAL_AT + 0.1, 3)] * bool(early)
    return topo, steps + [Step(at=at, do="pair-create", args=_create_args(topo, i)) for at in again for i in mine]


def _spare(volume: str, topo: TopoParams) -> str:
    return f"{volume.split(':')[0]}:{topo.volumes}"


#: The order assurance ID a creation that must be refused gives in a method B lab (which
#: refuses a creation with none): one no generated pair has, so the refusal is the one meant.
REFUSED_ORDER_ID = 999


def _refuse(t: TopoParams, t0: float, source: str, target: str, why: str, order_id: int = 0) -> list[Step]:
    order_id = order_id or (REFUSED_ORDER_ID if t.order_method == OrderMethod.B else 0)
    order = (("order_id", order_id),) if order_id else ()
    return [Step(at=t0, do="pair-create", args=(("source", source), ("target", target), ("mode", "sync"), *order,
                                                ("host", _host(source))), refuse=why)]


def _takeover(rng: Rng, topo: TopoParams, t0: float, t1: float, src: str, dst: str) -> list[Step]:
    """A prompt failover, perhaps a write of the restarted application, then fetch-remaining."""
    steps = [Step(at=t0, do="failover", args=(("volume", dst), ("prompt", True)))]
    if rng.random() < 0.5:
        steps.append(Step(at=round(t0 + 0.005, 3), do="write",
                          args=(("volume", dst), ("block", rng.randrange(topo.blocks)))))
    return steps + [Step(at=max(t1, round(t0 + 0.01, 3)), do="fetch-remaining", args=(("volume", dst),))]


#: Every fault kind and how it is drawn. The first fifteen are the first envelope (their
#: draws, and so what an old seed means, are as they always were); a new kind is one line.
FAULTS: dict[str, Draw] = {
    "cut": lambda rng, t, t0, t1, s, d: _cut(rng, t, t0, t1, t.gbe_links(), False),
    "cut-one-way": lambda rng, t, t0, t1, s, d: _cut(rng, t, t0, t1, t.gbe_links(), True),
    "loss": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.gbe_links(), "loss", (0.05, 0.2, 0.5)),
    "jitter": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.gbe_links(), "jitter_ms", (2.0, 10.0)),
    "crash-core": lambda rng, t, t0, t1, s, d: _crash(rng, t.core_names(), t0, t1),
    "crash-edge": lambda rng, t, t0, t1, s, d: _crash(rng, ["E1", "E2"], t0, t1),
    "suspend": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="suspend", args=(("volume", s),))],
    "resync": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="resync", args=(("volume", s),))],
    "failover": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="failover", args=(("volume", d),
                                                                              ("prompt", rng.random() < 0.3)))],
    "takeover-write": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="write", args=(("volume", d),
                                                                                 ("block", rng.randrange(t.blocks))))],
    "cut-fc": lambda rng, t, t0, t1, s, d: _cut(rng, t, t0, t1, t.fc_links(), False),
    "crash-edge-volatile": lambda rng, t, t0, t1, s, d: _crash(rng, ["E1", "E2"], t0, t1),
    "site-failure": lambda rng, t, t0, t1, s, d: [  # a host and its storage go down together, and come back
        Step(at=t0, do="site-failure", args=(("site", site := rng.choice(("source", "target"))),)),
        Step(at=t1, do="site-restore", args=(("site", site),))],
    "failback": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="failback", args=(("volume", d),
                                                                              ("swap_back", rng.random() < 0.3)))],
    # FC, SCSI and storage-over-IP delay but never reorder: the host's order must hold
    "jitter-fc": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.storage_links(), "jitter_ms",
                                                        (0.2, 1.0, 5.0)),
    # -- the widened envelope --
    "loss-fc": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.storage_links(), "loss", (0.01, 0.1, 0.5)),
    "crash-edge-short": lambda rng, t, t0, t1, s, d: _down_up(t0, round(t0 + rng.choice((0.001, 0.01)), 3),
                                                             rng.choice(("E1", "E2"))),
    "crash-storage": lambda rng, t, t0, t1, s, d: _crash(rng, t.storage_names(), t0, t1),
    "crash-host": lambda rng, t, t0, t1, s, d: _crash(rng, [f"H{c}{x}" for c in range(1, t.customers + 1)
                                                             for x in (1, 2)], t0, t1),
    "partition": lambda rng, t, t0, t1, s, d: [
        Step(at=t0, do="partition", args=(("devices", [dev := rng.choice(["E1", "E2", *t.core_names()])]),)),
        Step(at=t1, do="heal", args=(("devices", [dev]),))],
    "bandwidth": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.gbe_links() + t.storage_links(),
                                                        "bandwidth_mbps", (0.5, 2.0, 10.0)),
    "latency": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.storage_links(), "latency_ms",
                                                      (1.0, 12.5, 50.0)),
    "distance": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.gbe_links(), "distance_km", (5.0, 2500.0)),
    "mtu": lambda rng, t, t0, t1, s, d: _set_link(rng, t, t0, t1, t.gbe_links() + t.storage_links(), "mtu", (128, 256)),
    "burst": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="workload", args=(
        ("volume", s), ("rate", float(rng.choice((20000, 100000)))), ("count", rng.choice((200, 1000))),
        ("blocks", (0, t.blocks))))],
    "stop-workload": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="stop-workload")],
    "delete-pair": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="delete-pair", args=(
        ("volume", v := rng.choice((s, d))), ("host", _host(v))))],
    "suspend-resync": lambda rng, t, t0, t1, s, d: [  # by the source's host, named
        Step(at=t0, do="suspend", args=(("volume", s), ("host", _host(s)))),
        Step(at=t1, do="resync", args=(("volume", s), ("host", _host(s))))],
    "failover-group": lambda rng, t, t0, t1, s, d: [  # every pair of an order group at once
        Step(at=t0, do="failover", args=(("volume", g), ("prompt", prompt), ("host", _host(g))))
        for prompt in (rng.random() < 0.3,) for _, g, _ in _group(t, d)],
    "failback-group": lambda rng, t, t0, t1, s, d: [
        Step(at=t0, do="failback", args=(("volume", g), ("host", _host(g)))) for _, g, _ in _group(t, d)],
    "failover-order-id": lambda rng, t, t0, t1, s, d: [  # a whole group named by its ID (method B)
        Step(at=t0, do="failover", args=(("order_id", _order_id(t, d)), ("prompt", rng.random() < 0.3)))],
    "failback-order-id": lambda rng, t, t0, t1, s, d: [
        Step(at=t0, do="failback", args=(("order_id", _order_id(t, d)),))],
    "forge-write": lambda rng, t, t0, t1, s, d: [  # another customer's storage forges a RIO: the edge refuses it
        Step(at=t0, do="forge-write", args=(("device", "S21" if s.startswith("S1") else "S11"), ("volume", d),
                                            ("block", rng.randrange(t.blocks))))],
    "fetch-remaining": _takeover,
    "write": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="write", args=(
        ("volume", s), ("block", rng.randrange(t.blocks)), ("host", _host(s)),
        ("data", rng.choice(('a "quoted" line\n', "\u00e9\t\\", "x" * 600)))))],
    "workload-duration": lambda rng, t, t0, t1, s, d: [Step(at=t0, do="workload", args=(
        ("volume", s), ("rate", 500.0), ("duration", round(t1 - t0, 3)), ("host", _host(s)),
        ("blocks", (0, t.blocks))))],
    "device-failure": lambda rng, t, t0, t1, s, d: [  # one side's host and storage, named
        Step(at=t0, do="site-failure", args=(("devices", names := [_host(v := rng.choice((s, d))), v.split(":")[0]]),)),
        Step(at=t1, do="site-restore", args=(("devices", names),))],
    # a creation from a paired volume: refused, unless that pair's own creation failed (so no must)
    "refuse-paired": lambda rng, t, t0, t1, s, d: _refuse(t, t0, s, _spare(d, t), ""),
    "refuse-customer": lambda rng, t, t0, t1, s, d: _refuse(
        t, t0, _spare(s, t), _spare(d.replace("S1", "S2", 1) if d.startswith("S1") else d.replace("S2", "S1", 1), t),
        "the volumes belong to different customers"),
    "refuse-same-edge": lambda rng, t, t0, t1, s, d: _refuse(t, t0, _spare("S11", t), "S13:0",
                                                             "both storages hang off edge E1"),
    "refuse-max-pairs": lambda rng, t, t0, t1, s, d: _refuse(t, t0, _spare(s, t), _spare(d, t),
                                                             f"the customer's max_pairs is {t.volumes}"),
    "refuse-order-id": lambda rng, t, t0, t1, s, d: _refuse(
        t, t0, _spare(d, t), _spare(s, t), f"order ID {t.order_id(0)} belongs to pairs of edge pair E1>E2",
        t.order_id(0)),
}
FAULT_KINDS = tuple(FAULTS)
FIRST_KINDS = FAULT_KINDS[:15]
WIDE_KINDS = FAULT_KINDS[15:]
#: What the topology needs for a kind to be drawn, and what it sets for it.
_NEEDS: dict[str, Callable[[TopoParams], bool]] = {
    "refuse-customer": lambda t: t.customers == 2,
    "forge-write": lambda t: t.customers == 2,
    "failover-group": lambda t: any(len(g) > 1 for g in t.groups()),
    "failback-group": lambda t: any(len(g) > 1 for g in t.groups()),
    "refuse-order-id": lambda t: t.order_method == OrderMethod.B,
    # one customer's group: an ID that customers share names no group (the command says so)
    "failover-order-id": lambda t: t.order_method == OrderMethod.B and (t.customers == 1 or t.order_groups != "edge"),
    "failback-order-id": lambda t: t.order_method == OrderMethod.B and (t.customers == 1 or t.order_groups != "edge"),
}
_SETS: dict[str, dict[str, Any]] = {
    "refuse-paired": {"spare": True}, "refuse-customer": {"spare": True},
    "refuse-same-edge": {"spare": True, "same_edge": True}, "refuse-max-pairs": {"spare": True, "tight_contract": True},
    "refuse-order-id": {"spare": True},
}

#: The kinds whose steps must succeed when no other fault step comes near (`_quiet`), and
#: what must hold of them, by step.
_QUIET_KINDS = ("failover-group", "crash-edge-short")
_MUST_SUCCEED = {"failover": "the pairs of an order group fail over together, no fault about",
                 "crash": "an edge with a durable log storage area, down a moment, resends what it held: no "
                          "pair fails"}
#: Kinds drawn more often than the others (group failovers: issue 12, item 2).
_WEIGHT = {"failover-group": 4, "failback-group": 2}

#: The optional keys of each table beyond the first envelope, and the values drawn for them
#: (a key is left out, at its default, most of the time). A new topology key is one line here.
#: A resend limit below 3 is left out: with a steady loss of 1 % a pair fails by design.
KNOBS: dict[str, dict[str, tuple[Any, ...]]] = {
    "lab": {"block_size": (4096,)},
    # site_timeout_ms above every collect_interval_ms drawn (the file requires it)
    "management": {"name": ("M9",), "latency_ms": (0.1, 20.0), "collect_interval_ms": (50.0, 2000.0),
                   "site_timeout_ms": (2500.0, 6000.0)},
    "host": {"auto_failover": (True, False)},
    "customer": {"edges": (["E1", "E2"],), "max_storages": (3,), "name": ('Customer "one"',)},
    "edge": {"log_durable": (True, False), "log_capacity": (1 << 16, 1 << 20), "resend_timeout_ms": (5.0, 200.0),
             "resend_limit": (3, 20), "suspend_timeout_ms": (100.0, 1500.0), "reorder_window": (4, 64),
             "log_policy": ("throttle", "suspend"), "log_high_water_pct": (50, 95)},
    # path_timeout_ms above the longest round trip a storage link here can have: 2 x (12.5 + 1) ms of
    # latency and jitter and a 4 KiB block at 10 Mbit/s, 30.3 ms (tests/test_fuzz.py checks it)
    "storage": {"copy_rate": (200.0, 1e6), "command_timeout_ms": (500.0,), "path_timeout_ms": (35.0, 250.0)},
    # capacity 3: every route a generated lab needs fits (with fewer a customer may have no route at
    # all, and its pair-create is accepted and times out rather than refused: issue 12, item 5)
    "core": {"batch_wait_ms": (0.5, 10.0), "capacity": (3,)},
    "gbe": {"bandwidth_mbps": (1.0, 10.0, 100.0), "loss": (0.001, 0.01), "mtu": (256, 9000)},
    "storage-link": {"jitter_ms": (0.05, 1.0), "loss": (0.001, 0.01), "bandwidth_mbps": (10.0,),
                     "latency_ms": (0.5, 12.5), "mtu": (256,)},
}
KNOB_CHANCE = 0.15  # of each key at each table, in a widened lab
WIDE_SHARE = 0.5  # of the seeds draw from the widened envelope too


def random_topo(rng: Rng) -> TopoParams:
    customers = rng.choice((1, 1, 2))
    volumes = rng.choice((1, 1, 2))
    n = customers * volumes
    return TopoParams(
        cores=rng.randrange(0, 5), shape=rng.choice(("chain", "mesh")), customers=customers, volumes=volumes,
        modes=tuple(rng.choice(("sync", "async")) for _ in range(n)),
        order_method=rng.choice(("A-1", "A-2", "B")), durable=True,
        batch_wait_ms=rng.choice((0.0, 0.0, 2.0)), distance_km=rng.choice((20.0, 100.0, 400.0)),
        jitter_ms=rng.choice((0.0, 0.0, 1.0, 5.0)), blocks=rng.choice((64, 256, 4096)))


def widen(rng: Rng, topo: TopoParams) -> TopoParams:
    """``topo`` with keys of the widened envelope: IP-attached storage, virtual WWNs,
    shared and run-time order IDs (method B), and the optional keys of every table (`KNOBS`)."""
    attach = rng.choice(("fc", "fc", "fc", "ip"))
    topo = attrs.evolve(topo, attach=attach, virtual_wwn=attach == "fc" and rng.random() < 0.15)
    if topo.order_method == OrderMethod.B:
        topo = attrs.evolve(topo, order_groups=rng.choice(("pair", "customer", "edge")),
                            runtime_order=rng.random() < 0.3)
    tables = [("lab", "lab"), ("management", "management")]
    tables += [("customer", f"C{c}") for c in range(1, topo.customers + 1)]
    tables += [("edge", "E1"), ("edge", "E2")] + [("storage", s) for s in topo.storage_names()]
    tables += [("core", k) for k in topo.core_names()] + [("gbe", link) for link in topo.gbe_links()]
    tables += [("storage-link", link) for link in topo.storage_links()]
    tables += [("host", f"H{c}{side}") for c in range(1, topo.customers + 1) for side in (1, 2)]
    knobs = [(where, key, rng.choice(values)) for table, where in tables for key, values in KNOBS[table].items()
             if rng.random() < KNOB_CHANCE]
    return attrs.evolve(topo, knobs=tuple(knobs))


def random_fault(rng: Rng, topo: TopoParams, kinds: tuple[str, ...] = FIRST_KINDS) -> list[Step]:
    """One fault (and usually its undoing) at a random moment."""
    t0 = round(rng.uniform(*FAULT_WINDOW), 3)
    t1 = round(min(FAULT_WINDOW[1] + 0.3, t0 + rng.choice((0.01, 0.05, 0.2, 0.6))), 3)
    kind = rng.choice(kinds)
    src, dst, _ = rng.choice(topo.pairs)
    return FAULTS[kind](rng, topo, t0, t1, src, dst)


def draw_case(rng: Rng, wide: Rng | None, seed: int = 0, break_rule: str | None = None,
              kinds: tuple[str, ...] = FAULT_KINDS, max_faults: int = 4) -> Case:
    """A case from two streams of draws: ``rng`` the first envelope, as the fuzzer always
    drew it; then, for `WIDE_SHARE` of the seeds (all when ``kinds`` has none of the first
    envelope's), ``wide`` (None: never) the widened one: `widen`, overload (write rates far
    above what a link carries), and faults of `WIDE_KINDS`. With the kind "crash-edge-volatile",
    half the labs' edges keep their log storage areas in memory only (a crash loses them)."""
    topo = random_topo(rng)
    if "crash-edge-volatile" in kinds and rng.random() < 0.5:  # half the labs keep 413 in memory only
        topo = attrs.evolve(topo, durable=False)
    workloads = tuple(Workload(volume=src, rate=float(rng.choice((200, 1000, 4000))), count=rng.choice((20, 100, 400)),
                               at=rng.choice((0.0, 0.2)))
                      for src, _, _ in topo.pairs)
    first = tuple(k for k in kinds if k in FIRST_KINDS)
    faults: list[Step] = []
    for _ in range(rng.randrange(0, max_faults + 1)):
        if first:
            faults += random_fault(rng, topo, first)
    case = Case(topo=topo, workloads=workloads, faults=tuple(faults), seed=seed, break_rule=break_rule)
    if wide is None or first and wide.random() >= WIDE_SHARE:
        return case
    topo = widen(wide, topo)
    if wide.random() < 0.2:  # overload: writes far faster than the path carries them
        workloads = tuple(attrs.evolve(w, rate=float(wide.choice((20000, 100000))), count=wide.choice((400, 2000)))
                          for w in workloads)
    more = [k for k in kinds if k in WIDE_KINDS and _NEEDS.get(k, lambda t: True)(topo)
            for _ in range(_WEIGHT.get(k, 1))]
    drawn = [wide.choice(more) for _ in range(min(max_faults, wide.choice((0, 1, 1, 2, 3))))] if more else []
    for kind in drawn:
        topo = attrs.evolve(topo, **_SETS.get(kind, {}))
    steps = [(kind, random_fault(wide, topo, (kind,))) for kind in drawn]
    every = faults + [s for _, some in steps for s in some]
    for kind, some in steps:
        faults += _quiet(some, [s for s in every if s not in some], topo, workloads) if kind in _QUIET_KINDS else some
    contract = wide.random()  # drawn last: the draws above are what they were before contracts came
    if contract < LATE_CONTRACT:
        topo, late = _late_contract(wide, topo)
        faults += late
    elif contract < LATE_CONTRACT + AT_START:
        topo = attrs.evolve(topo, knobs=(*topo.knobs, (f"C{wide.randrange(1, topo.customers + 1)}", "contract",
                                                       "at-start")))
    return Case(topo=topo, workloads=workloads, faults=tuple(_owed(faults)), seed=seed, break_rule=break_rule)


def _quiet(steps: list[Step], others: list[Step], topo: TopoParams, workloads: Sequence[Workload] = ()) -> list[Step]:
    """With no other fault step near them, a group's failovers must complete, and a short crash
    of an edge whose log storage area is durable must lose nothing (`_MUST_SUCCEED`)."""
    at = steps[0].at
    if any(at - QUIET[0] <= s.at <= at + QUIET[1] for s in others):
        return steps
    first = steps[0]
    if first.do == "crash":
        device = dict(first.args)["device"]
        knobs = _knobs(topo, device)
        if not knobs.get("log_durable", topo.durable):
            return steps
        # A small log storage area fills behind the crash from the WRs its storages' links
        # still carry, throttled or not (the deep profile: 64 KiB full 45 ms after a 1 ms
        # crash, 908); a WR lost on a storage's FC link is a failure of its own (908), and on
        # the far side a RIO lost on the target storage's link waits for the target edge to
        # issue it again, past the resends the source edge makes of the burst it sends again
        # at restart (the deep profile: 5 ms x 3 against 1 % loss on E2-S12).
        if "log_capacity" in knobs or any(key == "loss" and any(p.startswith("S") for p in where.split("-"))
                                          for where, key, _ in topo.knobs):
            return steps
        # What the crash lost is resent behind the live writes queued on the narrowest link; a
        # pair command's answer waiting behind it then (a Duplex transition's DOK) may come after
        # the command timeout, and the pair fails by design (the deep profile: 40 writes of 4 KiB
        # over 1 Mbit/s, 1.3 s of them, against a 500 ms command timeout)
        # Nor when a copy is too slow for a command timeout anyway (`slow_copies`), say when the
        # source edge gives an entry up before its answer can come back at all (the deep
        # profile: 5 ms x 4 against a target storage 12.5 ms away; what it holds at restart
        # counts as sent long ago), or a Duplex transition's DOK waits behind 64 reflections to
        # a target storage 12.5 ms away, past a 500 ms timeout (the deep profile)
        timeout_s = min(_knobs(topo, s).get("command_timeout_ms", 2000.0) for s in topo.storage_names()) / 1000
        if (_live_s(topo, _written(workloads, others), _routes(topo)[0]) >= timeout_s
                or slow_copies(Case(topo=topo, workloads=tuple(workloads), faults=tuple(others + steps)))):
            return steps
    # A target storage waits for the failover's answer only its command timeout: when that is
    # shorter than the target edge's failover timer 1306, a SOK late behind a backlog ends
    # the failover there in failure Suspend before the edge takes over (seed 1484: 500 ms
    # against 1 s). It must complete only when the edge's timer ends it first.
    timer_ms = _knobs(topo, "E2").get("suspend_timeout_ms", 1000.0)
    if first.do == "failover" and any(
            _knobs(topo, dict(s.args)["volume"].split(":")[0]).get("command_timeout_ms", 2000.0) < timer_ms
            for s in steps):
        return steps
    # A frame lost on a target storage's SCSI or FC (IP) link loses the host's instruction or
    # its answer: a fault about, on the failover's own path (seed 3440).
    targets = {dict(s.args)["volume"].split(":")[0] for s in steps if s.do == "failover"}
    if any(key == "loss" and any(t in where.split("-") for t in targets) for where, key, _ in topo.knobs):
        return steps
    why = _MUST_SUCCEED[first.do]
    return [attrs.evolve(s, succeed=why) if s.do == first.do else s for s in steps]


def _owed(faults: list[Step]) -> list[Step]:
    """The faults, less a creation to be refused for the contract's max_pairs when a pair
    is deleted before it: that frees a place, and the creation would take the place of the
    deleted pair that resync-all creates again (seeds 5280, 6421)."""
    deletes = [s.at for s in faults if s.do == "delete-pair"]
    return [s for s in faults if "max_pairs" not in s.refuse or all(at > s.at for at in deletes)]


def random_case(seed: int, break_rule: str | None = None, kinds: tuple[str, ...] = FAULT_KINDS,
                max_faults: int = 4, widened: bool = True) -> Case:
    """The case a seed stands for (the fuzzer's seed -> lab mapping); ``widened`` False:
    the first envelope only."""
    wide = random.Random(f"rcnlab-fuzz-wide:{seed}") if widened else None
    return draw_case(random.Random(f"rcnlab-fuzz:{seed}"), wide, seed, break_rule, kinds, max_faults)


# -- running --------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class Outcome:
    problems: tuple[str, ...]  # checker violations and failed expectations, one line each
    refused: int
    events: int
    virtual_time: float
    digest: str = ""  # sha256 of the run's JSON-lines trace (the golden-trace tests hold it still)

    @property
    def signature(self) -> str:
        """What kind of failure this is (for shrinking): the first problem's invariant."""
        if not self.problems:
            return ""
        first = self.problems[0]
        if first.startswith(("exception ", "invariant ", "budget:", "backstop:")):
            return first.split(":", 1)[0]
        return "expect"


def run_texts(topo_text: str, scenario_text: str, seed: int, digest: bool = False,
              limits: Limits = NO_LIMITS) -> Outcome:
    """Run a topology and a scenario given as TOML text, headless, with the checker
    (and with ``digest``, the sha256 of its trace), within ``limits`` (a run they stop
    has their one problem line)."""
    topo = parse_topology(topo_text, "<fuzz>")
    scenario = parse_scenario(scenario_text, "<fuzz>", topo)
    journal = Journal()
    hashed = TraceDigest()
    if digest:
        journal.subscribe(hashed)
    seen: list[tuple[float, str, str]] = []  # (t, event, volume) of failovers done (911) and copies failed (908)
    if any(isinstance(s.command, Note) and s.command.text.startswith(MUST_SUCCEED) for s in scenario.steps):
        journal.subscribe(lambda ev: seen.append((ev.t, ev.event, ev.fields.get("volume", "")))
                          if ev.event in ("failover-done", "remote-copy-failed") else None)
    try:
        session = Session.open(topo, scenario, seed, journal=journal)
        limits.watch(session.kernel)
        session.play()
    except Stopped as stop:
        return Outcome(problems=(str(stop),), refused=0, events=session.kernel.events_run,
                       virtual_time=session.kernel.now)
    except Exception as exc:  # the emulation itself broke: that is a finding too
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome(problems=(f"exception {type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})",),
                       refused=0, events=0, virtual_time=0.0)
    net, runner, checker = session.world, session.runner, session.checker
    problems = [p for p in runner.failed if "invariant" not in p or p.startswith("invariant ")]
    if checker is not None:
        for line in checker.violations:
            if f"invariant {line}" not in problems:
                problems.append(f"invariant {line}")
    failed_creations = [h.issued for h in runner.lab.failed_commands(final=True) if h.command is Command.CREATE]
    freed = _freed_places(scenario, failed_creations)
    problems = [p for p in problems if not (p.endswith("expected Simplex") and any(f"pair {v}: " in p for v in freed))]
    displaced = _displaced(scenario, freed)
    problems = [p for p in problems if not (any(f"pair {v}: " in p for v in displaced)
                                            and ("expected Duplex" in p or "is not in a pair" in p))]
    problems += _not_as_noted(scenario, runner.refused, seen, failed_creations)
    return Outcome(problems=tuple(problems), refused=len(runner.refused), events=net.kernel.events_run,
                   virtual_time=net.kernel.now, digest=hashed.hexdigest() if digest else "")


def _freed_places(scenario: Scenario, failed_creations: Sequence[float]) -> set[str]:
    """The target volumes of the creations to be refused (for max_pairs, or a method B order
    ID, `_freed_by_failure`) that come after a creation that failed (908 before its ICOK, say
    with a crash of an edge whose log is volatile): the creation may take the place freed,
    and the volume is not Simplex at the end (seed 3791)."""
    return {step.command.target for note, step in zip(scenario.steps, scenario.steps[1:])
            if isinstance(note.command, Note) and _freed_by_failure(note.command.text)
            and isinstance(step.command, CreatePair) and any(at < step.at for at in failed_creations)}


def _displaced(scenario: Scenario, freed: set[str]) -> set[str]:
    """The source volumes of the planned pairs whose order ID a creation owed no refusal
    (`_freed_places`) may have taken: created again (resync-all), they are refused for it."""
    creations = [s.command for s in scenario.steps if isinstance(s.command, CreatePair) and s.command.order_id]
    taken = {c.order_id for c in creations if c.target in freed}
    return {c.source for c in creations if c.order_id in taken and c.target not in freed}


def _freed_by_failure(note: str) -> bool:
    """Whether the refusal ``note`` names is owed no more once a pair creation failed: the
    contract has a place more (max_pairs), or the pair whose order ID it is is gone (method
    B: the ID is free for another edge pair, deep profile 2026-12-01)."""
    return "max_pairs" in note or "belongs to pairs of edge pair" in note


def _not_as_noted(scenario: Scenario, refused: list[str], seen: list[tuple[float, str, str]],
                  failed_creations: Sequence[float] = ()) -> list[str]:
    """A line for each step that had to be refused at once (the note before it says why) but
    was not; for each failover that had to complete but did not (refused at once is an answer
    too); for each crash that had to lose nothing but was followed by a failed copy (908).
    A pair creation that failed before the step (``failed_creations``, the times they were
    given) owes neither: the contract has a place more (seed 9910), and the order group may
    not stand whole (seed 4138)."""
    out = []
    for note, step in zip(scenario.steps, scenario.steps[1:]):
        text = note.command.text if isinstance(note.command, Note) else ""
        was_refused = any(f": step[{step.index}] (" in line for line in refused)
        if any(at < step.at for at in failed_creations) and (_freed_by_failure(text) or step.do == "failover"):
            continue
        if text.startswith(MUST_REFUSE) and not was_refused:
            out.append(f"accepted: step[{step.index}] ({step.do} at {step.at:g}s) was carried out; it {text}")
        if not text.startswith(MUST_SUCCEED) or was_refused:
            continue
        if step.do == "failover" and (getattr(step.command, "volume", None) not in {v for _, e, v in seen
                                                                                   if e == "failover-done"}):
            out.append(f"failed: step[{step.index}] (failover at {step.at:g}s) did not complete; it {text}")
        failed = [t for t, e, _ in seen if e == "remote-copy-failed" and step.at <= t <= step.at + QUIET[1]]
        if step.do == "crash" and failed:
            out.append(f"failed: step[{step.index}] (crash at {step.at:g}s) was followed by remote-copy-failed "
                       f"(908) at t={failed[0]:.6f}; it {text}")
    return out


def run_case(case: Case, digest: bool = False, limits: Limits = NO_LIMITS) -> Outcome:
    return run_texts(topology_toml(case.topo), scenario_toml(case), case.seed, digest, limits)


def _simpler(case: Case) -> Iterator[Case]:
    """Cases one change smaller than ``case``: a fault step dropped, a topology knob dropped, a
    key of the widened envelope back to its plain value, a workload shorter or slower. A fault
    and the step that undoes it (a crash and its restart) go together; a step that sets the lab
    up (a late contract, a pair creation not meant to be refused) stays: without either the
    run fails for a reason of the shrinker's own making."""
    for i, step in enumerate(case.faults):
        if step.do in _SET_UP and not step.refuse or step.do in _UNDO.values():
            continue  # (an undo goes with the step it undoes: without it that fault would last)
        undo = [j for j, other in enumerate(case.faults) if other.do == _UNDO.get(step.do)
                and other.args == step.args and other.at >= step.at][:1]
        yield case.with_faults([s for j, s in enumerate(case.faults) if j != i and j not in undo])
    topo = case.topo
    for j, (_, key, _) in enumerate(topo.knobs):
        if key != "contract":  # (the late contract's steps stay, and it with them)
            yield attrs.evolve(case, topo=attrs.evolve(topo, knobs=topo.knobs[:j] + topo.knobs[j + 1:]))
    for key in ("attach", "virtual_wwn", "order_groups", "runtime_order", "durable", "batch_wait_ms"):
        if getattr(topo, key) != getattr(_PLAIN, key):
            yield attrs.evolve(case, topo=attrs.evolve(topo, **{key: getattr(_PLAIN, key)}))
    for j, w in enumerate(case.workloads):
        for smaller in (attrs.evolve(w, count=max(10, w.count // 4)), attrs.evolve(w, rate=min(w.rate, 1000.0))):
            if smaller != w:
                yield attrs.evolve(case, workloads=case.workloads[:j] + (smaller,) + case.workloads[j + 1:])


_PLAIN = TopoParams()
_SET_UP = ("contract", "configure-customer", "pair-create")
_UNDO = {"crash": "restart", "fail": "restore", "site-failure": "site-restore", "partition": "heal"}


def shrink(case: Case, outcome: Outcome, budget: int = 60, limits: Limits = NO_LIMITS) -> tuple[Case, Outcome]:
    """Make the case smaller (`_simpler`) while the same kind of failure persists, within
    ``budget`` runs: what is left names the steps and the knobs the failure needs."""
    runs = 0
    want = outcome.signature
    changed = True
    while changed and runs < budget:
        changed = False
        trials = list(_simpler(case))
        i = 0
        while i < len(trials) and runs < budget:
            got = run_case(trials[i], limits=limits)
            runs += 1
            if got.signature == want:  # keep it; the next candidate now stands at i
                case, outcome, changed = trials[i], got, True
                trials = list(_simpler(case))
            else:
                i += 1
    return case, outcome
