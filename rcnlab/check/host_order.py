"""The host-order invariant (issue 12): per order assurance ID (803), the target holds
what the source held after some of the hosts' writes, never a later write without one
that a host had seen acknowledged before it issued the later one.

``write_order`` compares each reflection with the source edge's numbering (804), so
it cannot see writes reordered before the edge numbered them. This checker holds the
target to what the hosts were promised instead, from the hosts' and storages' own
events: "write-issued" (a host sent a write), "write-applied" (its storage took it),
"write-answered" (the storage acknowledged it), "reflected" (a target storage applied
a WR), and the pair-state changes of the four parties.

Exactly:

*Ordered writes.* A write that a storage takes on the source volume of a pair while
all four parties (source storage, source edge, target edge, target storage) hold the
pair in Duplex is *ordered*. It belongs to the history of the pair's order assurance
ID at its source edge (726 in 411 there): one customer's pairs sharing that ID are
one consistency group, their writes one history. It takes its place (position) in the
history when its storage acknowledges it, so positions are the order of the storages'
acknowledgements (an asynchronous storage acknowledges a write as it takes it, a
synchronous one once the edge has it, 1603-1604, or once it gave up on the edge and
kept the block in 1211). A write answered with an error has no place. Writes taken in
any other state are in no history: Simplex (not copied); Suspend, failure Suspend and
Suspending (recorded in 1211/1213, the next resync copies them by bitmap);
Initial-Copying and Duplex-Pending (the copy program 1013/1212 copies blocks by bitmap,
in no host order, so while a pair copies its target is no image of any moment of the
source: the property is suspended for that pair and restarts with the first write
taken once all four parties hold it Duplex; by then the target has every copied block
and every earlier write, which the edge sent before the Duplex transition). After a
failover and failback the pair runs the other way: its source, and so its source edge
and history, are on the other side: the new source's writes form a new history.

*Runs.* A pair's run ends whenever one of its parties changes the pair's state or
swaps its direction. An ordered write not yet on the target when its pair's run ends
is no longer expected there (the pair left Duplex: edges and storages turn what they
still hold into differential bitmaps 727/1211, which ``nothing_lost`` follows).

*What is checked*, at each host write a target storage reflects ("reflected", not a
copy). A write w *depends on* the writes of its history that had their places when
its host issued it: acknowledged before w was issued, so a host may have acted on
them (e.g. a database commits a journal record, waits for it, then writes the page).
The target must hold every write that w depends on whenever it holds w: each such
write has been reflected, or a later write to its block has (it shows newer data), or
its pair's run has ended. And once the target shows a write, it must not show one
that that write depends on, on the same block, again (older data over newer).

Writes in flight together (neither acknowledged before the other was issued) carry
no promise between them: a host cannot tell their order, and a synchronous pair and
an asynchronous one in one group do answer them in an order other than the edge
numbers them. So "the source after a prefix of the writes in the order the storage
acknowledged them" holds up to such writes: the target is the source after a prefix
of some order of the writes in which every write comes after all it depends on. Which
of two such writes to one block the source keeps is ``convergence``'s to check.

The target host's own writes to a target volume it took over (after a failover, or in
Suspend) are acknowledged writes too: host data reflected onto such a block before the
pair's next state change overwrites one with older data (a violation).

A storage acknowledges only writes it has taken: answering a write it never took is
a violation.

Cost: amortised O(1) per write and per reflection (each place is passed once by the
mark below which every write is on the target); memory holds the writes above that
mark and one write per block.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from rcnlab.devices.storage import ExternalStorage
from rcnlab.emu.journal import TraceEvent
from rcnlab.model.kinds import Role, ScsiStatus
from rcnlab.model.pair_state import PairState
from rcnlab.world import World

NAME = "host_order"
D = PairState.DUPLEX
#: The states in which the target storage of a pair takes its own host's writes (a takeover).
TAKEN_OVER = (PairState.SUSPEND, PairState.FAILURE_SUSPEND)

Violate = Callable[[str, str, float], None]
Block = tuple[str, int]  # (volume, block)
Tagged = tuple[str, int]  # (host, tag)


@attrs.define(slots=True, eq=False)
class History:
    """The ordered writes of one consistency group: one customer's pairs of one order
    assurance ID at one source edge (with method A-2 customers share IDs, never writes'
    dependencies: one customer's hosts cannot act on another's acknowledgements)."""

    order_id: int
    customer: str
    edge: str
    done: int = 0  # every write placed at or below this is on the target (or need not be)
    count: int = 0  # places given
    placed: dict[int, Write] = attrs.field(factory=dict)  # place above ``done`` -> write
    last: dict[Block, Write] = attrs.field(factory=dict)  # target block -> its latest placed write

    def __str__(self) -> str:
        return f"order {self.order_id} of customer {self.customer} at {self.edge}"


@attrs.define(slots=True, eq=False)
class Write:
    """One ordered write."""

    history: History
    source: str  # the source volume: its pair's run
    run: int
    target: str  # the target volume
    block: int
    digest: str
    issued: float
    taken: float
    storage: str
    deps: int  # it depends on the writes placed at or below this
    pos: int = 0  # its place, once acknowledged
    answered: float = 0.0
    on_target: bool = False  # reflected, or a later write to its block was
    prev: Write | None = None  # the write placed before it on its block, while both are above ``done``
    next: Write | None = None  # and the one placed after it

    def __str__(self) -> str:
        acked = f", acknowledged at t={self.answered:.6f}" if self.pos else ""
        return (f"{self.source}>{self.target} block {self.block} data {self.digest} (issued at "
                f"t={self.issued:.6f}, taken by {self.storage}{acked})")


@attrs.frozen(slots=True)
class Lane:
    """Where the writes a storage takes on one volume go: a history, or (for a target
    volume its host took over) the takeover marks."""

    history: History | None
    source: str
    target: str


@attrs.define(eq=False)
class HostOrder:
    """Follows one network's events (fed by `rcnlab.check.invariants.Checker`)."""

    net: World
    violate: Violate
    checked: int = 0  # reflections checked against a history
    _storages: dict[str, ExternalStorage] = attrs.field(init=False)
    _histories: dict[tuple[int, str, str], History] = attrs.field(factory=dict)
    _lanes: dict[tuple[str, str], Lane | None] = attrs.field(factory=dict)  # (storage, volume) -> lane
    _runs: dict[str, int] = attrs.field(factory=dict)  # source volume -> state changes of its pair
    _issued: dict[Tagged, tuple[History | None, int, float]] = attrs.field(factory=dict)  # not yet taken
    _taken: dict[Tagged, Write | None] = attrs.field(factory=dict)  # not yet answered (None: in no history)
    _writes: dict[tuple[str, int, str], Write] = attrs.field(factory=dict)  # (target, block, data) -> write
    _shown: dict[Block, Write] = attrs.field(factory=dict)  # target block -> the write it shows
    _taken_over: dict[Block, tuple[str, int]] = attrs.field(factory=dict)  # block -> (source volume, run)

    def __attrs_post_init__(self) -> None:
        self._storages = {s.name: s for s in self.net.storages}

    # -- the hosts' and source storages' events ------------------------------------------------
    def on_issued(self, ev: TraceEvent, tag: int) -> None:
        """A host sent a write ("write-issued"), tagged ``tag``."""
        lane = self._lane_of(self.net.host_named[ev.device].storage, ev.fields["volume"])
        history = lane.history if lane is not None else None
        self._issued[(ev.device, tag)] = (history, history.count if history is not None else 0, ev.t)

    def on_applied(self, ev: TraceEvent) -> None:
        """A storage took a host's write ("write-applied")."""
        f = ev.fields
        tagged = (f["host"], f["tag"])
        history, deps, issued = self._issued.pop(tagged, (None, 0, ev.t))
        lane = self._lane_of(ev.device, f["volume"])
        h = lane.history if lane is not None else None
        if lane is None or h is None:
            if lane is not None:  # the target host writes the volume it took over
                self._taken_over[(lane.target, f["block"])] = (lane.source, self._runs.get(lane.source, 0))
            self._taken[tagged] = None
            return
        w = Write(h, lane.source, self._runs.get(lane.source, 0), lane.target, f["block"], f["data_digest"], issued,
                  ev.t, ev.device, deps if history is h else 0)
        self._taken[tagged] = w
        self._writes[(w.target, w.block, w.digest)] = w

    def on_answered(self, ev: TraceEvent) -> None:
        """A storage acknowledged a host's write, or refused it ("write-answered")."""
        f = ev.fields
        tagged = (f["host"], f["tag"])
        if tagged not in self._taken:
            self.violate(NAME, f"{ev.device} answered write {f['tag']} of {f['host']} ({f['status']}), which it "
                         "never took", ev.t)
            return
        w = self._taken.pop(tagged)
        if w is None:
            return
        if f["status"] != ScsiStatus.OK:
            self._forget(w)
            return
        h = w.history
        h.count += 1
        w.pos, w.answered = h.count, ev.t
        at = (w.target, w.block)
        prev = h.last.get(at)
        if prev is not None:
            w.prev, prev.next = prev, w
            if w.on_target:
                self._cover(prev)
        h.last[at] = w
        h.placed[w.pos] = w
        if h.done == w.pos - 1:
            self._advance(h)

    def gone(self, host: str, tag: int) -> None:
        """A host's write was answered or forgotten: a write never taken is not waited for."""
        self._issued.pop((host, tag), None)

    def on_state(self, ev: TraceEvent) -> None:
        """A party changed a pair's state ("pair-state") or direction ("pair-swapped")."""
        self._lanes.clear()
        f = ev.fields
        for text in (f.get("pair"), f.get("old"), f.get("new")):
            if isinstance(text, str) and ">" in text:
                source = self._real(text.split(">", 1)[0])
                self._runs[source] = self._runs.get(source, 0) + 1

    # -- the target storages' -----------------------------------------------------------------
    def on_reflected(self, ev: TraceEvent) -> None:
        """A target storage applied a WR ("reflected")."""
        f = ev.fields
        if f.get("copy"):
            return
        target, block, digest = f["volume"], f["block"], f["data_digest"]
        at = (target, block)
        mark = self._taken_over.get(at)
        if mark is not None:
            if self._runs.get(mark[0], 0) == mark[1]:
                self.violate(NAME, f"{ev.device} reflected a host write of order {f['order_id']} seq {f['seq']} "
                             f"onto {target} block {block}, which the target host has written since it took the volume "
                             "over: an acknowledged write overwritten by older data", ev.t)
            else:
                del self._taken_over[at]
        w = self._writes.get((target, block, digest))
        if w is None:
            shown = self._shown.get(at)
            if shown is not None and shown.digest != digest and self._live(shown):
                self.violate(NAME, f"{shown.history}: {ev.device} reflected data {digest} onto {target} block "
                             f"{block}, which showed {shown}: older data over newer (or data no host wrote)",
                             ev.t)
            return
        x = w.prev  # the same data written to the block more than once: the earliest not yet there
        while x is not None and not x.on_target:
            if x.digest == digest:
                w = x
            x = x.prev
        h = w.history
        self.checked += 1
        shown = self._shown.get(at)
        if (shown is not None and shown.digest != digest and shown.history is h and w.pos and shown.deps >= w.pos
                and self._live(shown)):
            self.violate(NAME, f"{h}: {ev.device} reflected {w} after {shown}, which depends on it: older data "
                         "over newer", ev.t)
        self._show(at, w)
        self._cover(w)
        self._advance(h)
        if w.deps > h.done:
            missing = h.placed[h.done + 1]
            self.violate(NAME, f"{h}: {w} is on the target but {missing}, which it depends on (acknowledged "
                         "before it was issued), is not", ev.t)

    # -- the mark below which everything is on the target --------------------------------------
    def _cover(self, w: Write) -> None:
        """``w`` is on the target: so is (in effect) every write placed before it on its block."""
        w.on_target = True
        prev = w.prev
        while prev is not None and not prev.on_target:
            prev.on_target = True
            prev = prev.prev

    def _advance(self, h: History) -> None:
        """Move the mark past every write that is on the target or need not be."""
        placed, runs = h.placed, self._runs
        j = h.done + 1
        while j in placed:
            x = placed[j]
            if not x.on_target and runs.get(x.source, 0) == x.run:
                break
            del placed[j]
            at = (x.target, x.block)
            if x.next is not None:  # below the mark it links nothing any more
                x.next.prev = None
                x.next = None
            elif h.last.get(at) is x:
                del h.last[at]
            if self._shown.get(at) is not x:
                self._forget(x)
            j += 1
        h.done = j - 1

    def _show(self, at: Block, w: Write) -> None:
        old = self._shown.get(at)
        self._shown[at] = w
        if old is not None and old is not w and old.pos and old.pos <= old.history.done:
            self._forget(old)

    def _forget(self, w: Write) -> None:
        key = (w.target, w.block, w.digest)
        if self._writes.get(key) is w:
            del self._writes[key]

    def _live(self, w: Write) -> bool:
        return self._runs.get(w.source, 0) == w.run

    # -- where a storage's writes go ------------------------------------------------------------
    def _lane_of(self, storage: str, volume: str) -> Lane | None:
        key = (storage, volume)
        lanes = self._lanes
        if key in lanes:
            return lanes[key]
        lane = lanes[key] = self._lane(storage, volume)
        return lane

    def _lane(self, device: str, volume: str) -> Lane | None:
        storage = self._storages.get(device)
        if storage is None:
            return None
        pair = storage.pairs.get(int(volume.rsplit("/", 1)[1]))
        if pair is None:
            return None
        net = self.net
        if pair.role is Role.TARGET:
            if pair.state not in TAKEN_OVER:
                return None
            return Lane(None, str(net.real(pair.source)), volume)
        target = net.real(pair.remote)
        key = (pair.local, target)
        source_edge = net.edge_named.get(storage.edge)
        info = source_edge.pairs.get(key) if source_edge is not None else None
        other = net.storage_of(target)
        tpair = other.pairs.get(target.lun) if other is not None else None
        target_edge = net.edge_named.get(other.edge) if other is not None else None
        tinfo = target_edge.pairs.get(key) if target_edge is not None else None
        if (source_edge is None or info is None or tpair is None or tinfo is None or tpair.role is not Role.TARGET
                or {pair.state, info.state, tpair.state, tinfo.state} != {D}):
            return None
        hkey = (info.order_id, storage.spec.customer, source_edge.name)
        history = self._histories.get(hkey)
        if history is None:
            history = self._histories[hkey] = History(info.order_id, storage.spec.customer, source_edge.name)
        return Lane(history, str(pair.local), str(target))

    def _real(self, volume: str) -> str:
        wwn, _, lun = volume.strip().rpartition("/")
        return f"{self.net.real_wwn(wwn)}/{lun}"
