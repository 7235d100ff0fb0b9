"""The checkers of SPEC.md section 4, live and on demand.

One module used by ``rcnlab run``, the TUI, the fuzzer and the tests.

A `Checker` subscribes to ``net.journal`` (``Checker.attach(net)``) and follows
the trace events the devices emit; `check_all(net)` adds the checks that read
the network's state and returns ``{name: holds}``. Every violation is one line
in ``Checker.violations`` (time, invariant, order assurance ID, sequence
number...), the first one of each invariant also in ``Checker.first``.

The invariants, exactly:

``write_order`` (1). Per order assurance ID (803), the host and copy writes the
target storages reflect ("reflected") are exactly the WR log entries the source
edge created ("log-created", 1902), in sequence order (804): sequence number k
is reflected only when every WR entry numbered below k has been reflected, and
with the same target volume, block and data digest as the entry created. Entries
of other kinds (pair create, Duplex, resync, SOK) take numbers too and are
skipped. A rebase after failure Suspend ("sequence-rebased" at the target edge)
legitimately skips the numbers below it (those writes went to the differential
bitmaps, which ``nothing_lost`` checks). The entry being reflected again after a
crash of a durable target edge (same number, same data) is allowed. A WR the target
storage refuses (its pair was deleted there alone) takes its turn as if reflected.

``host_order`` (1, as the hosts see it; issue 12). Per order assurance ID, the target
is the source after a prefix of the writes in the order the source storages
acknowledged them, and every write acknowledged before another was issued is on
the target whenever the later one is: `rcnlab.check.host_order` says exactly how
copies, suspended pairs, failover and failback and takeover writes count.

``nothing_lost`` (2). For each block of each volume that is the source of a pair
(not Simplex at the source storage; the target storage holds it too: a pair deleted
at its target alone is its target host's volume now), take the latest write a host had
acknowledged on that block. It is not lost when the target volume holds that
data or the data of a later write to the block, or a WR for that block with such
data is held somewhere (source edge 413 ``held``, target edge ``inbound``, a
core's batch 420, a frame in flight whose link epoch is still current), or the
block is marked in a differential bitmap (source storage 1211, target storage
1213, source edge 727) or waits in the pair's copy job. Valid at any instant
between kernel events, and checked by `check_all`. Live: a reflection onto a block
supersedes the write a host had acknowledged there (a takeover write, or the old
source's own before a failback turned the pair) only when its entry was created after
that write was issued; an entry older than the acknowledged write (fetched after a
prompt failover, say) overwrites it with older data, and that is a violation.

``convergence`` (3). Once the network is drained (no live work left), every pair
that all four parties hold in Duplex has target volume digest == source volume
digest.

``agreement`` (SPEC section 2, issue 6). Once drained, the four parties (source
storage, source edge, target edge, target storage) that are up hold the same state
for every pair; or, after a delete at the target alone (its source storage was down),
the target parties Simplex and the source parties failure Suspend.

``counters`` (4). At every edge and order group 412: created (732) - deleted
(734) == the entries of that group held at the source edge (413), and reflected
(733) at any edge never exceeds the largest creation counter of that group.

``isolation`` (5). No log entry is created whose source and target storages
belong to different customers (an edge let a storage reach another customer's
virtual storage), and ``ManagementServer.view(customer)`` shows only that
customer's storages. Edges count what access control 405 refused (``denied``).

Determinism (6) is `rcnlab.run.same_trace`: two runs, identical trace bytes.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import NamedTuple

import attrs

from rcnlab.check.host_order import HostOrder
from rcnlab.emu.journal import TraceEvent, short_digest
from rcnlab.model.kinds import Party, Role
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.pair_state import PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.world import World

NAMES = ("write_order", "host_order", "nothing_lost", "convergence", "agreement", "counters", "isolation")
MAX_VIOLATIONS = 200
#: Kinds of log entries a source edge creates (the target edge creates the answers).
REQUEST_KINDS = frozenset(str(k) for k in (RioKind.WR, RioKind.PAIR_CREATE, RioKind.DUPLEX, RioKind.RESYNC,
                                           RioKind.SUSPEND, RioKind.DELETE))  # keep the first ones; a broken rule tends to break on every write

_new = tuple.__new__
#: id(network) -> its checker. Weak values: the network's journal holds its checker, and the
#: checker its network; a dictionary keyed weakly by the network would keep both alive forever
#: (a 10,000-seed fuzz campaign grew by 0.8 MB a seed).
_CHECKERS: weakref.WeakValueDictionary[int, Checker] = weakref.WeakValueDictionary()


#: A WR's kind as the trace spells it.
WR = RioKind.WR.value


#: A sequence of log entries: an order assurance ID at the target edge that reflects it.
Seq = tuple[str, int]


class Created(NamedTuple):
    """What the checker remembers of a log entry 211 the source edge created (a tuple:
    one per write)."""

    kind: str
    volume: str | None
    block: int
    digest: str | None
    device: str
    issued: int = 0  # host writes issued (the checker's count) when the entry was created


@attrs.define(eq=False)
class Checker:
    """Follows the journal of one network and records violations as they happen."""

    net: World
    violations: list[str] = attrs.field(factory=list)
    first: dict[str, str] = attrs.field(factory=dict)  # invariant -> its first violation
    counts: dict[str, int] = attrs.field(factory=dict)  # invariant -> violations seen (also beyond the cap)
    reflected: int = 0  # reflections checked
    rereflected: int = 0  # the same entry reflected again after a crash
    # A sequence is an order ID's at one target edge: a method B ID may be used again by
    # another edge pair once its pairs are gone, numbered afresh from 1 by its new source edge
    _created: dict[Seq, dict[int, Created]] = attrs.field(factory=dict)  # sequence -> seq -> entry
    _last: dict[Seq, int] = attrs.field(factory=dict)  # sequence -> last sequence number reflected/skipped
    _toward: dict[tuple[str, int], str] = attrs.field(factory=dict)  # (source edge, order id) -> target edge
    _creator: dict[Seq, str] = attrs.field(factory=dict)  # sequence -> the source edge numbering it
    _issued: dict[str, dict[int, tuple[str, int, str, int]]] = attrs.field(factory=dict)  # host -> tag -> write
    _issued_at: dict[tuple[str, str, int], list[int]] = attrs.field(factory=dict)  # (host, volume, block) -> tags
    _index: int = 0
    _acked: dict[tuple[str, int], tuple[int, str]] = attrs.field(factory=dict)  # (volume, block) -> (idx, digest)
    # writes since that ack (tuples of atoms: the collector stops looking at them)
    _since: dict[tuple[str, int], tuple[tuple[int, str], ...]] = attrs.field(factory=dict)
    _seen: set[str] = attrs.field(factory=set)
    _unsubscribe: Callable[[], None] | None = None
    _handlers: dict[str, Callable[[TraceEvent], None]] = attrs.field(factory=dict)
    order: HostOrder = attrs.field(init=False)  # the host-order invariant's state
    _customer: dict[str, str] = attrs.field(init=False)  # storage WWN -> customer
    _edge_of: dict[str, str] = attrs.field(init=False)  # storage name and WWN -> its edge

    def __attrs_post_init__(self) -> None:
        self.order = HostOrder(self.net, self.violate)
        self._customer = _customers(self.net)
        self._edge_of = {k: s.edge for s in self.net.storages for k in (s.name, s.wwn)}

    # -- attaching ---------------------------------------------------------------------
    @classmethod
    def attach(cls, net: World) -> Checker:
        """Subscribe a checker to ``net.journal`` (one per network; returns the existing one)."""
        existing = checker_of(net)
        if existing is not None:
            return existing
        checker = cls(net)
        checker._handlers = {
            "log-created": checker._on_created,
            "sok-sent": checker._on_sok,
            "reflected": checker._on_reflected,
            "sequence-rebased": checker._on_rebased,
            "rio-refused": checker._on_refused,
            "write-issued": checker._on_issued,
            "write-acknowledged": checker._on_answered,
            "write-failed": checker._on_answered,
            "write-applied": checker.order.on_applied,
            "write-answered": checker.order.on_answered,
            "pair-state": checker.order.on_state,
            "pair-swapped": checker.order.on_state,
        }
        # each handler hears its event only, straight from the journal
        unsubscribes = [net.journal.subscribe(handler, (name,)) for name, handler in checker._handlers.items()]

        def unsubscribe() -> None:
            for each in unsubscribes:
                each()

        checker._unsubscribe = unsubscribe
        _CHECKERS[id(net)] = checker
        return checker

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if _CHECKERS.get(id(self.net)) is self:
            del _CHECKERS[id(self.net)]

    def __call__(self, ev: TraceEvent) -> None:
        handler = self._handlers.get(ev.event)
        if handler is not None:
            handler(ev)

    @property
    def ok(self) -> bool:
        return not self.counts

    def violate(self, name: str, message: str, t: float | None = None) -> None:
        line = f"{name}: t={self.net.kernel.now if t is None else t:.6f}: {message}"
        if line in self._seen:
            return
        self._seen.add(line)
        self.counts[name] = self.counts.get(name, 0) + 1
        self.first.setdefault(name, line)
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(line)

    # -- (1) write-order fidelity ----------------------------------------------------------
    def _on_created(self, ev: TraceEvent) -> None:
        f = ev.fields
        if "seq" not in f or f["kind"] not in REQUEST_KINDS:  # an answer created at the target edge
            return
        oid, seq = f["order_id"], f["seq"]
        target = self._edge_of.get(self.net.real_wwn(str(f.get("volume")).rpartition("/")[0]), "?")
        self._toward[(ev.device, oid)] = target
        key = (target, oid)
        group = self._created.setdefault(key, {})
        last = self._last.get(key, 0)
        if self._creator.setdefault(key, ev.device) != ev.device and all(
                c.kind != WR for s, c in group.items() if s > last):
            # the ID given to another edge pair once its writes were reflected: numbered afresh
            group.clear()
            self._last[key] = seq - 1
        self._creator[key] = ev.device
        old = group.get(seq)
        if old is not None and old.device != ev.device:
            self.violate("write_order", f"order {oid} seq {seq} created at both {old.device} and {ev.device}",
                         ev.t)
        group[seq] = _new(Created, (f["kind"], f.get("volume"), f.get("block", -1), f.get("data_digest"), ev.device,
                                    self._index))
        self._check_isolation_of(ev.device, oid, seq, ev.t)

    def _on_sok(self, ev: TraceEvent) -> None:
        f = ev.fields
        target = self._toward.get((ev.device, f["order_id"]), "?")
        self._created.setdefault((target, f["order_id"]), {})[f["seq"]] = Created("SOK", None, -1, None, ev.device)

    def _on_rebased(self, ev: TraceEvent) -> None:
        f = ev.fields
        key = (ev.device, f["order_id"])
        now = f["now"]
        last = self._last.get(key, 0)
        if now > last:
            group = self._created.get(key, {})
            for seq in range(last + 1, now + 1):
                group.pop(seq, None)
            self._last[key] = now

    def _on_reflected(self, ev: TraceEvent) -> None:
        self._check_write_order(ev)
        self.order.on_reflected(ev)

    def _check_write_order(self, ev: TraceEvent) -> None:
        f = ev.fields
        oid, seq = f["order_id"], f["seq"]
        key = (self._edge_of[ev.device], oid)
        self.reflected += 1
        # The block's content on that volume now comes from the other side of the pair: a
        # host write acknowledged there before the entry was created (a takeover write, or
        # the old source's own writes before a failback turned the pair) is superseded; one
        # issued after it is overwritten by older data: lost.
        block = (f["volume"], f["block"])
        acked = self._acked.pop(block, None)
        self._since.pop(block, None)
        group = self._created.get(key, {})
        made = group.get(seq)
        if acked is not None and made is not None and acked[0] > made.issued:
            self.violate("nothing_lost", f"{f['volume']} block {f['block']}: acknowledged data {acked[1]} "
                         f"overwritten by older data: {_where(ev)} was created before that write was issued", ev.t)
        last = self._last.get(key, 0)
        if seq == last and seq in group:  # reflected again after a crash: harmless if identical
            self.rereflected += 1
        elif seq <= last:
            self.violate("write_order", f"{_where(ev)} reflected after seq {last} (out of order)", ev.t)
            return
        entry = made
        if entry is None:
            self.violate("write_order", f"{_where(ev)} reflected but no such log entry was created", ev.t)
            return
        if entry.kind != WR or (entry.volume, entry.block, entry.digest) != (
                f["volume"], f["block"], f["data_digest"]):
            self.violate("write_order", f"{_where(ev)} reflected {f['volume']} block {f['block']} data "
                         f"{f['data_digest']} but the entry created was {entry.kind} {entry.volume} block "
                         f"{entry.block} data {entry.digest}", ev.t)
        if seq != last:
            self._advance(ev, key, seq, last, group, "reflected")

    def _on_refused(self, ev: TraceEvent) -> None:
        """A WR the target storage refused (the pair was deleted there alone): it takes its
        turn in the sequence and is applied nowhere."""
        f = ev.fields
        if f.get("seq"):
            key, seq = (self._edge_of[ev.device], f["order_id"]), f["seq"]
            last = self._last.get(key, 0)
            if seq > last:
                self._advance(ev, key, seq, last, self._created.get(key, {}), "refused")

    def _advance(self, ev: TraceEvent, key: Seq, seq: int, last: int, group: dict[int, Created], what: str) -> None:
        """Entry ``seq`` took its turn after ``last``: every WR numbered between must have."""
        for j in range(last + 1, seq):
            skipped = group.get(j)
            if skipped is None or skipped.kind == WR:
                gap = "never created" if skipped is None else f"WR block {skipped.block}"
                self.violate("write_order", f"{_where(ev)} {what} before seq {j} ({gap}): out of order", ev.t)
                break
        for j in range(last, seq):  # keep the last one for a re-reflection
            group.pop(j, None)
        self._last[key] = seq

    # -- (2) nothing acknowledged lost: history ----------------------------------------------
    def _on_issued(self, ev: TraceEvent) -> None:
        tag = self.net.host_named[ev.device].next_tag  # Host.write emits just before command() takes the tag
        f = ev.fields
        self._index += 1
        key = (f["volume"], f["block"])
        self._issued.setdefault(ev.device, {})[tag] = (f["volume"], f["block"], f["data_digest"], self._index)
        self._issued_at.setdefault((ev.device, *key), []).append(tag)
        self.order.on_issued(ev, tag)
        self._since[key] = self._since.get(key, ()) + ((self._index, f["data_digest"]),)

    def _on_answered(self, ev: TraceEvent) -> None:
        host = self.net.host_named.get(ev.device)
        mine = self._issued.get(ev.device)
        if host is None or not mine:
            return
        # The host's tags leave one by one with these events, or all at once when it
        # crashes (the oldest ones we have): so gone are the tags of this block the host no
        # longer awaits and our oldest ones it no longer awaits.
        f = ev.fields
        at = (ev.device, f["volume"], f["block"])
        same = self._issued_at.get(at, [])
        match = [tag for tag in same if not host.awaits(tag)]
        answered = max(match) if match else None
        gone = []
        for tag in mine:
            if host.awaits(tag):
                break
            gone.append(tag)
        gone.extend(tag for tag in match if tag not in gone)
        for tag in gone:  # the others were forgotten by a crash of the host: never answered
            write = mine.pop(tag)
            tags = self._issued_at[(ev.device, write[0], write[1])]
            tags.remove(tag)
            if not tags:
                del self._issued_at[(ev.device, write[0], write[1])]
            self.order.gone(ev.device, tag)
            if tag == answered and ev.event == "write-acknowledged":
                volume, block, digest, idx = write
                key = (volume, block)
                if idx > self._acked.get(key, (0, ""))[0]:
                    self._acked[key] = (idx, digest)
                    since = self._since.get(key, ())
                    if since and since[0][0] < idx:  # (in order of issue: mostly none before it)
                        self._since[key] = tuple(w for w in since if w[0] >= idx)

    def acknowledged(self, volume: str, block: int) -> tuple[str, set[str]] | None:
        """The latest acknowledged data digest of a block and the digests that may stand for it."""
        key = (volume, block)
        acked = self._acked.get(key)
        if acked is None:
            return None
        return acked[1], self._standing_for(key, acked[1])

    def _standing_for(self, key: tuple[str, int], digest: str) -> set[str]:
        """The digests that may stand for acknowledged data ``digest`` of block ``key``."""
        return {d for _, d in self._since.get(key, ())} | {digest}

    # -- (5) isolation, live -------------------------------------------------------------------
    def _check_isolation_of(self, device: str, oid: int, seq: int, t: float) -> None:
        edge = self.net.devices.get(device)
        held = getattr(edge, "held", {}).get((oid, seq))
        if held is None:
            return
        entry = held.entry
        customers, real = self._customer, self.net.real_wwn
        a, b = customers.get(real(entry.source.wwn)), customers.get(real(entry.target.wwn))
        if a != b:
            self.violate("isolation", f"{device} created order {oid} seq {seq} from {entry.source} (customer {a}) "
                         f"to {entry.target} (customer {b})", t)

    # -- all checks ---------------------------------------------------------------------------
    def check(self) -> dict[str, bool]:
        """Run the state checks now; return every invariant's standing (history included)."""
        net = self.net
        check_nothing_lost(net, self)
        check_counters(net, self)
        check_isolation(net, self)
        if net.kernel.drained():
            check_convergence(net, self)
            check_agreement(net, self)
        return {name: name not in self.counts for name in NAMES}


def _where(ev: TraceEvent) -> str:
    """A reflection, as a violation names it."""
    f = ev.fields
    return f"order {f['order_id']} seq {f['seq']} ({'copy' if f.get('copy') else 'host write'}) at {ev.device}"


def checker_of(net: World) -> Checker | None:
    checker = _CHECKERS.get(id(net))
    return checker if checker is not None and checker.net is net else None


def check_all(net: World) -> dict[str, bool]:
    """Every invariant's standing: live history (if a `Checker` is attached) and the
    network's state now. Violations land in the attached checker's ``violations``;
    without one, a throw-away checker holds them (write_order then has no history)."""
    checker = checker_of(net)
    if checker is None:
        checker = Checker(net)
    return checker.check()


# -- the state checks -------------------------------------------------------------------------
def _customers(net: World) -> dict[str, str]:
    return {s.wwn: s.spec.customer for s in net.storages}


def _wr(rio: Rio, target: str | None = None) -> tuple[str, int, str] | None:
    if rio.kind is not RioKind.WR:
        return None
    return (target or str(rio.target), rio.block, short_digest(rio.data))


def writes_in_network(net: World) -> set[tuple[str, int, str]]:
    """(target volume, block, data digest) of every WR held as a log entry or RIO in the network."""
    found: set[tuple[str, int, str]] = set()

    def entry(e: object) -> None:
        if isinstance(e, LogEntry):
            w = _wr(e.rio, str(e.target))
            if w:
                found.add(w)

    for edge in net.edges:
        for held in edge.held.values():
            entry(held.entry)
        for box in edge.inbound.values():
            for e in box.pending.values():
                entry(e)
            if box.in_progress is not None:
                entry(box.in_progress)
    for core in net.cores:
        for e in core.batched():
            entry(e)
    for ch, epoch, payload in net.in_flight():
        if epoch != ch.epoch:
            continue  # lost with the link's failure
        if isinstance(payload, tuple):
            for e in payload:
                entry(e)
        elif isinstance(payload, Rio):
            w = _wr(payload)
            if w:
                found.add((str(net.real(payload.target)), w[1], w[2]))
    return found


def check_nothing_lost(net: World, checker: Checker) -> bool:
    before = checker.counts.get("nothing_lost", 0)
    if not checker._acked:
        return True
    in_net = writes_in_network(net)
    for view in net.pair_views():
        r = view.records
        s, pair, t, target = r.source_storage, r.source_pair, r.target_storage, view.target_ref
        if s is None or pair is None or pair.state is PairState.SIMPLEX or t is None:
            continue
        volume = str(pair.local)
        tvol = t.volumes.get(target.lun)
        tpair = r.target_pair
        if tpair is None:  # deleted at the target alone: its volume is its host's now
            continue
        marked = set(pair.bitmap)
        if pair.copy is not None:
            marked.update(pair.copy.blocks[pair.copy.done:])
        if tpair is not None and tpair.role is Role.TARGET:
            marked |= tpair.bitmap
        if r.source_edge is not None:
            marked |= r.source_edge.bitmap
        tname = str(target)
        for (vol, block), (_, digest) in checker._acked.items():
            if vol != volume or block in marked:
                continue
            may = checker._standing_for((vol, block), digest)
            if tvol is not None and short_digest(tvol.read(block)) in may:
                continue
            if any((tname, block, d) in in_net for d in may):
                continue
            checker.violate("nothing_lost", f"{s.name} {volume} block {block}: acknowledged data {digest} is not on "
                            f"{t.name} {tname}, not held in the network, not in a bitmap (pair {pair.state})")
    return checker.counts.get("nothing_lost", 0) == before


def check_counters(net: World, checker: Checker) -> bool:
    before = checker.counts.get("counters", 0)
    created: dict[int, int] = {}
    for edge in net.edges:
        held: dict[int, int] = {}
        for oid, _ in edge.held:
            held[oid] = held.get(oid, 0) + 1
        for oid, g in edge.groups.items():
            created[oid] = max(created.get(oid, 0), g.created)
            if g.created - g.deleted != held.get(oid, 0):
                checker.violate("counters", f"{edge.name} order {oid}: created {g.created} - deleted {g.deleted} "
                                f"!= {held.get(oid, 0)} entries held")
    for edge in net.edges:
        for oid, g in edge.groups.items():
            if g.reflected > created.get(oid, 0):
                checker.violate("counters", f"{edge.name} order {oid}: reflected {g.reflected} > created "
                                f"{created.get(oid, 0)}")
    return checker.counts.get("counters", 0) == before


def check_isolation(net: World, checker: Checker) -> bool:
    before = checker.counts.get("isolation", 0)
    customers = _customers(net)
    for edge in net.edges:
        entries = [h.entry for h in edge.held.values()]
        for box in edge.inbound.values():
            entries.extend(box.pending.values())
        for e in entries:
            a, b = customers.get(net.real_wwn(e.source.wwn)), customers.get(net.real_wwn(e.target.wwn))
            if a != b:
                checker.violate("isolation", f"{edge.name} holds order {e.order_id} seq {e.seq} from {e.source} "
                                f"(customer {a}) to {e.target} (customer {b})")
    for customer in net.topo.customers:
        view = net.management.view(customer.id)
        wwns = [c.storage_wwn for c in view["storage_connections"]]
        wwns += [v.corresponding_wwn for v in view["virtual_storage"]]
        wwns += [a.permitted_wwn for a in view["access_control"]]
        wwns += [w for r in view["routes"] for w in (r.source_wwn, r.target_wwn)]
        wwns += [w for k in view["pairs"] for w in (k[1].wwn, k[2].wwn)]
        for wwn in wwns:
            owner = customers.get(net.real_wwn(wwn))
            if owner != customer.id:
                checker.violate("isolation", f"the view of customer {customer.id} shows {wwn} of customer {owner}")
    return checker.counts.get("isolation", 0) == before


def check_convergence(net: World, checker: Checker) -> bool:
    before = checker.counts.get("convergence", 0)
    for view in net.pair_views():
        r = view.records
        s, pair, t, target = r.source_storage, r.source_pair, r.target_storage, view.target_ref
        if s is None or pair is None or t is None or r.source_edge is None or r.target_edge is None:
            continue
        tpair = r.target_pair
        states = {pair.state, r.source_edge.state, r.target_edge.state, tpair.state if tpair else None}
        if states != {PairState.DUPLEX}:
            continue
        a, b = s.volumes[pair.local.lun].digest(), t.volumes[target.lun].digest()
        if a != b:
            diff = sorted(blk for blk in set(s.volumes[pair.local.lun].blocks) | set(t.volumes[target.lun].blocks)
                          if s.volumes[pair.local.lun].read(blk) != t.volumes[target.lun].read(blk))
            checker.violate("convergence", f"pair {s.name}:{pair.local.lun}>{t.name}:{target.lun} is Duplex and "
                            f"drained but the volumes differ in {len(diff)} blocks (first {diff[:5]})")
    return checker.counts.get("convergence", 0) == before


def _deleted_at_target(states: dict[Party, PairState]) -> bool:
    """The pair was deleted at its target alone (the source storage was down): the target
    parties hold no pair, the source parties hold it in failure Suspend until the operator
    deletes it there too. They agree that it is broken."""
    return all(state is (PairState.SIMPLEX if party in (Party.TARGET_EDGE, Party.TARGET_STORAGE)
                         else PairState.FAILURE_SUSPEND) for party, state in states.items())


def check_agreement(net: World, checker: Checker) -> bool:
    before = checker.counts.get("agreement", 0)
    for view in net.pair_views():
        # a party that is down cannot agree (a crashed source storage still says Duplex)
        states = {party: state for party, state in view.by_party().items() if party not in view.down}
        if len(set(states.values())) > 1 and not _deleted_at_target(states):
            shown = ", ".join(f"{party.value} {state}" for party, state in states.items())
            checker.violate("agreement", f"pair {view.devices[0]}:{view.source_ref.lun}>{view.target_ref}: "
                            f"drained but {shown}")
    return checker.counts.get("agreement", 0) == before
