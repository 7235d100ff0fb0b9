"""Failover (Fig. 13, 1303-1310) and failback at the edges.

Failover: the target edge sends the Suspend instruction (1304) to the source edge
and waits for its SOK (1305-1307), reflecting in order what arrives before it
(1308-1309), then tells the target storage (1310). The source edge sends what it
holds, goes to failure Suspend and answers with the SOK. In the prompt variant the
target edge completes at once, and the management server may fetch the entries
still in the network (501) for it to reflect.

A failover acts on a consistency group, as arrays do (horctakeover on a CTG): the pairs of one
order assurance ID and one customer through the edge pair. One Suspend instruction, one
SOK and one timer serve the group; a request for another of its pairs while it fails
over joins it, and every pair's storage gets its SOK. A group already in failure Suspend
here reflects nothing more, so its failover completes at once; and a failover waiting for
a SOK completes when the source edge restarts the group's sequence (a resync after 908),
before that resync is reflected.

Failback (resync with swap, beyond the patent): both edges turn the pair round;
what the old source edge still holds becomes 727 and goes back with DPOK. The operator
fails a whole group back, one request per pair (rcnlab.ops.pairs): a pair turning into a
group whose entries are already on their way does not restart its sequence.
"""

from __future__ import annotations

import attrs

from rcnlab.devices.edge.log import Inbound
from rcnlab.devices.edge.state import EdgeState, Failover, GroupKey, PairKey
from rcnlab.model.kinds import FailoverMode, Party
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.pair_state import Event, PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag
from rcnlab.model.tables import PairInfo

S = PairState
K = RioKind
#: What the patent leaves open about the prompt variant, as the trace says it.
PROMPT_CHOICE = ("rcnlab's choice: the failover completes at once; entries that arrive after it wait "
                 "unreflected in 413 until fetch-remaining (501) reflects them or failback drops them "
                 "(their blocks are in 727)")


class FailoverMixin(EdgeState):
    __slots__ = ()

    # -- consistency groups ---------------------------------------------------------------
    def customer_of(self, wwn: str) -> str:
        """The customer of the storage attached here as ``wwn`` (503)."""
        return self.net.topo.storage(self.attached[wwn]).customer

    def group_key(self, pair: PairInfo) -> GroupKey:
        """The consistency group of ``pair`` at this edge: its order assurance ID and the
        customer of its storage here."""
        mine = pair.target if pair.target.wwn in self.attached else pair.source
        return pair.order_id, self.customer_of(mine.wwn)

    def consistency_group(self, key: GroupKey, *, target: bool) -> list[PairInfo]:
        """The pairs of group ``key`` whose target (or source) storage is attached here:
        what a failover or failback acts on, as arrays act on a whole consistency group."""
        order_id, customer = key
        out = []
        for pair in self.pairs.values():
            mine = pair.target if target else pair.source
            if (pair.order_id == order_id and pair.state is not S.SIMPLEX and mine.wwn in self.attached
                    and self.customer_of(mine.wwn) == customer):
                out.append(pair)
        return out

    # -- failover (Fig. 13) ----------------------------------------------------------------
    def _start_failover(self, pair: PairInfo | None, rio: Rio) -> None:
        """1303 at the target edge, for the pair's whole consistency group. A request for a
        group already failing over joins it: the group's answer (SOK) is its answer too."""
        if pair is None:
            self._to_storage(Rio(kind=K.SOK, source=rio.source, target=rio.target, error="no such pair"))
            return
        key = self.group_key(pair)
        prompt = rio.mode == FailoverMode.PROMPT
        if key in self.failovers:
            self.emit("failover-joined", None, pair=f"{pair.source}>{pair.target}", order_id=pair.order_id,
                      prompt=prompt)
            if prompt:
                self._complete_failover(key)
            return
        order_id = pair.order_id
        self.emit("suspend-instruction", None, pair=f"{pair.source}>{pair.target}", prompt=prompt)
        instruction = LogEntry(target=pair.source, source=pair.target, order_id=order_id, io_time=self.now, seq=0,
                               rio=attrs.evolve(rio, source=pair.source, target=pair.target))
        if prompt or all(p.state is S.FAILURE_SUSPEND for p in self.consistency_group(key, target=True)):
            # The variant: 1310-1312 right after 1303; and a group in failure Suspend here
            # reflects nothing more, so there is no SOK to wait for. The source edge (if
            # alive) still hears of it and goes to failure Suspend; what it holds stays there
            # for the fetch through 501 (or becomes 727 when it gives up).
            if prompt:
                self.emit("failover-prompt", None, order_id=order_id, choice=PROMPT_CHOICE)
            self._complete_failover(key)
            self._transmit(instruction)
            return
        self._transmit(instruction, arrow=Tag.FAILOVER_SUSPEND_SENT)
        timer = self.net.kernel.timer(self.spec.suspend_timeout, self._failover_timeout, key)
        self.failovers[key] = Failover(timer)
        self.emit("timer-reset", Tag.FAILOVER_TIMER_RESET, timeout=self.spec.suspend_timeout)

    def _failover_timeout(self, key: GroupKey) -> None:
        """1306 when the timer runs out: on to 1310 without the SOK."""
        if key in self.failovers:
            self.emit("failover-timeout", Tag.FAILOVER_WAITING_FOR_SOK, order_id=key[0],
                      timeout=self.spec.suspend_timeout)
            self._complete_failover(key)

    def _failover_turn(self, entry: LogEntry) -> None:
        """One turn of the loop 1306-1309 for the next entry of a group failing over, taken
        in order: the timer has not run out (1306: else ``_failover_timeout`` would have
        ended the failover), the entry is received (1307) and checked for the SOK (1308);
        1309 (reflect it) or 1310 (the SOK) follows."""
        order_id, seq = entry.order_id, entry.seq
        fo = self.failovers[(order_id, self.customer_of(entry.target.wwn))]
        self.emit("timer-checked", Tag.FAILOVER_WAITING_FOR_SOK, order_id=order_id,
                  left=round(fo.timer.when - self.now, 9))
        self.emit("entry-received", Tag.FAILOVER_RECEIVING, order_id=order_id, seq=seq, kind=str(entry.kind))
        sok = entry.kind is K.SOK
        self.emit("sok-checked", Tag.FAILOVER_SOK_CHECKED, order_id=order_id, seq=seq, sok=sok)
        if not sok:
            self.emit("reflecting", Tag.FAILOVER_REFLECTING, order_id=order_id, seq=seq)

    def _complete_failover(self, key: GroupKey) -> None:
        """1310 for every pair of the group: failure Suspend here, SOK to its storage."""
        fo = self.failovers.pop(key, None)
        if fo is not None:
            fo.timer.cancel()
        for pair in self.consistency_group(key, target=True):
            if pair.state is not S.FAILURE_SUSPEND:
                self._set_state(pair, Event.FAIL, None, Party.TARGET_EDGE)
            self._to_storage(Rio(kind=K.SOK, source=pair.source, target=pair.target, failure=True),
                             Tag.FAILOVER_SOK_TO_STORAGE)

    def _failing_over(self, entry: LogEntry) -> bool:
        """Does the entry's consistency group fail over here (1307-1309)?"""
        return (entry.order_id, self.customer_of(entry.target.wwn)) in self.failovers

    def _sok_arrived(self, entry: LogEntry) -> None:
        """1308: the source edge's SOK, in order: nothing is missing; the failover of its
        group completes."""
        if self.failovers and self._failing_over(entry):
            self._complete_failover((entry.order_id, self.customer_of(entry.target.wwn)))

    def _sequence_restarted(self, entry: LogEntry, reflected: int) -> None:
        """A new entry restarts its group's sequence (the source edge gave the group up,
        908, and now resyncs it): the SOK a failover of the group waits for will never come
        in order, so the failover completes before the entry is reflected."""
        if entry.seq <= reflected:
            return
        for key in [k for k in self.failovers if k[0] == entry.order_id]:
            self.emit("failover-overtaken", None, order_id=entry.order_id, seq=entry.seq)
            self._complete_failover(key)

    def _on_suspend_instruction(self, entry: LogEntry) -> None:
        """1304 at the source edge, for the pair's whole consistency group: (A) send what is
        held, (B) failure Suspend, (C) one SOK for the group."""
        pair = self.pairs.get((entry.rio.source, entry.rio.target))
        if pair is None:
            return
        order_id = pair.order_id
        held, now = self.held, self.now
        for kept in held.group(order_id):
            # (A): what has left may have been lost, so it goes again (due once it is over the
            # slowest link); what still waits for the bandwidth goes anyway, ahead of the SOK
            # (sending it twice would only lengthen the queue: widened fuzz seed 5001)
            if held.sent_at(kept) <= now:
                departs = self._leaves(kept, self._transmit(kept))
                held.sent_again(kept, max(now, departs), held.resends(kept), move=False)
        pairs = self.consistency_group(self.group_key(pair), target=False)
        for p in pairs:
            if p.state is not S.FAILURE_SUSPEND:
                self._set_state(p, Event.FAIL, None, Party.SOURCE_EDGE)
        group = self.order_group(order_id)
        group.created += 1
        group.deleted += 1  # the SOK is not kept: nothing answers it
        sok = LogEntry(target=pair.target, source=pair.source, order_id=order_id, io_time=self.now,
                       seq=group.created, rio=Rio(kind=K.SOK, source=pair.source, target=pair.target, failure=True))
        self.emit("sok-sent", Tag.FAILOVER_SUSPEND_SENT, order_id=order_id, seq=sok.seq)
        self._transmit(sok)
        for p in pairs:
            self._tell_failed(p)

    # -- fetching remaining entries (the prompt failover variant, 501) -----------------------------
    def remaining_entries(self, order_id: int) -> list[LogEntry]:
        """WR entries of the group this edge still holds (either side of 413)."""
        out = [e for e in self.held.group(order_id) if e.kind is K.WR]
        box = self.inbound.get(order_id)
        if box is not None:
            out.extend(e for e in box.pending.values() if e.kind is K.WR)
        return out

    def apply_fetched(self, order_id: int, entries: list[LogEntry]) -> None:
        """The management server hands us entries fetched from the network: reflect the
        ones that continue the sequence, in order, though the pair is failure Suspend."""
        group = self.order_group(order_id)
        box = self.inbound.setdefault(order_id, Inbound())
        added = 0
        for entry in entries:
            if entry.seq > group.reflected and entry.seq not in box.pending and (
                    box.in_progress is None or box.in_progress.seq != entry.seq):
                box.pending[entry.seq] = entry
                self.log_bytes += entry.size
                added += 1
        self._fetching.add(order_id)
        self.emit("fetched-entries", None, order_id=order_id, entries=len(entries), added=added,
                  reflected=group.reflected)
        self._reflect_next(order_id)
        self._fetch_done(order_id)

    def _fetch_done(self, order_id: int) -> None:
        box = self.inbound.get(order_id)
        if order_id in self._fetching and (box is None or box.in_progress is None):
            self._fetching.discard(order_id)
            group = self.order_group(order_id)
            gap = box is not None and bool(box.pending) and (group.reflected + 1) not in box.pending
            self.emit("fetch-finished", None, order_id=order_id, reflected=group.reflected, gap=gap)

    def fetch_running(self, order_id: int) -> bool:
        """Whether entries fetched through 501 for the group are still being reflected here."""
        return order_id in self._fetching

    # -- failback ---------------------------------------------------------------------------------
    def _swap_at_new_source(self, rio: Rio) -> None:
        """Failback at the old target's edge: the pair's record turns round and gets a new
        order assurance ID; the resynchronize entry then goes out as in Fig. 12."""
        old = self.pairs.get((rio.target, rio.source))
        turned = self.pairs.get((rio.source, rio.target))
        if old is None and turned is not None and turned.state in (S.SUSPEND, S.FAILURE_SUSPEND):
            self._sequence(turned, rio)  # turned here already; the other side has not heard: tell it again
            return
        if old is None or old.state not in (S.SUSPEND, S.FAILURE_SUSPEND):
            state = old.state if old else S.SIMPLEX
            self._refuse(rio, f"failback refused: pair is {state} at {self.name}")
            return
        self._drop_inbound(old)  # never reflected: their blocks are in 727 at the other edge, so the copy back
        order_id = self.order_ids.assign(rio, in_use=self.groups.keys())  # covers them
        pair = self._turn(old, order_id, Party.SOURCE_EDGE)
        if not self.held.group(order_id):  # the other edge may have counted this group differently: start
            self.rebase.add(order_id)      # afresh, unless another pair's entries are on their way in it
        self._sequence(pair, rio)

    def _swap_at_new_target(self, entry: LogEntry) -> PairInfo | None:
        """Failback at the old source's edge: what it still holds for the old direction
        becomes 727 of the turned pair, and goes back to the new source with DPOK."""
        old = self.pairs.get((entry.target, entry.source))
        if old is None:
            return self.pairs.get((entry.source, entry.target))
        self._absorb_held(old.order_id, self._others_in_order_group(old))
        return self._turn(old, entry.order_id, Party.TARGET_EDGE)

    def _others_in_order_group(self, pair: PairInfo) -> set[PairKey] | None:
        """The pairs of ``pair``'s consistency group, when its order group holds other
        customers' pairs too (method A-2): their entries are not ours to take; None when the
        consistency group is the whole order group."""
        mine = self.consistency_group(self.group_key(pair), target=pair.target.wwn in self.attached)
        if all(p in mine for p in self.pairs.values() if p.order_id == pair.order_id):
            return None
        return {(p.source, p.target) for p in mine}

    def _drop_inbound(self, old: PairInfo) -> None:
        """Forget the entries of ``old``'s consistency group waiting here to be reflected."""
        only = self._others_in_order_group(old)
        box = self.inbound.get(old.order_id)
        if box is None:
            return
        if only is None:
            del self.inbound[old.order_id]
            self.log_bytes -= sum(e.size for e in box.pending.values())
            return
        for seq, entry in list(box.pending.items()):
            if (entry.source, entry.target) in only:
                self.log_bytes -= box.pending.pop(seq).size

    def _turn(self, old: PairInfo, order_id: int, party: Party) -> PairInfo:
        del self.pairs[(old.source, old.target)]
        pair = PairInfo(source=old.target, target=old.source, order_id=order_id, state=old.state, mode=old.mode)
        pair.bitmap = old.bitmap
        self.pairs[(pair.source, pair.target)] = pair
        self.emit("pair-swapped", None, old=f"{old.source}>{old.target}", new=f"{pair.source}>{pair.target}",
                  party=party, order_id=order_id, state=str(pair.state), bitmap=len(pair.bitmap))
        self.management.pair_updated(self, pair)
        return pair
