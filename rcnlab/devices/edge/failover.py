"""Failover (Fig. 13, 1303-1310) and failback at the edges.

Failover: the target edge sends the Suspend instruction (1304) to the source edge
and waits for its SOK (1305-1307), reflecting in order what arrives before it
(1308-1309), then tells the target storage (1310). The source edge sends what it
holds, goes to failure Suspend and answers with the SOK. In the prompt variant the
target edge completes at once, and the management server may fetch the entries
still in the network (501) for it to reflect.

Failback (resync with swap, beyond the patent): both edges turn the pair round;
what the old source edge still holds becomes 727 and goes back with DPOK.
"""

from __future__ import annotations

import attrs

from rcnlab.devices.edge.log import Inbound
from rcnlab.devices.edge.state import EdgeState, Failover
from rcnlab.model.kinds import FailoverMode, Party
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.pair_state import Event, PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag
from rcnlab.model.tables import PairInfo

S = PairState
K = RioKind


class FailoverMixin(EdgeState):
    __slots__ = ()

    # -- failover (Fig. 13) ----------------------------------------------------------------
    def _start_failover(self, pair: PairInfo | None, rio: Rio) -> None:
        if pair is None:
            self._to_storage(Rio(kind=K.SOK, source=rio.source, target=rio.target, error="no such pair"))
            return
        order_id = pair.order_id
        self.emit("suspend-instruction", None, pair=f"{pair.source}>{pair.target}",
                  prompt=rio.mode == FailoverMode.PROMPT)
        instruction = LogEntry(target=pair.source, source=pair.target, order_id=order_id, io_time=self.now, seq=0,
                               rio=attrs.evolve(rio, source=pair.source, target=pair.target))
        if rio.mode == FailoverMode.PROMPT:  # the variant: 1310-1312 right after 1303
            self.failovers[order_id] = Failover(pair, None)
            self._complete_failover(order_id)
            # The source edge (if alive) still hears of it and goes to failure Suspend; what it
            # holds stays there for the fetch through 501 (or becomes 727 when it gives up).
            self._transmit(instruction)
            return
        self._transmit(instruction, arrow=Tag.FAILOVER_SUSPEND_SENT)
        timer = self.net.kernel.timer(self.spec.suspend_timeout, self._failover_timeout, order_id)
        self.failovers[order_id] = Failover(pair, timer)
        self.emit("timer-reset", Tag.FAILOVER_TIMER_RESET, timeout=self.spec.suspend_timeout)
        self.emit("waiting-for-sok", Tag.FAILOVER_WAITING_FOR_SOK, order_id=order_id)
        self.emit("receiving", Tag.FAILOVER_RECEIVING, order_id=order_id)

    def _failover_timeout(self, order_id: int) -> None:
        if order_id in self.failovers:
            self.emit("failover-timeout", Tag.FAILOVER_WAITING_FOR_SOK, order_id=order_id)
            self._complete_failover(order_id)

    def _complete_failover(self, order_id: int) -> None:
        fo = self.failovers.pop(order_id)
        if fo.timer is not None:
            fo.timer.cancel()
        pair = fo.pair
        if pair.state is not S.FAILURE_SUSPEND:
            self._set_state(pair, Event.FAIL, None, Party.TARGET_EDGE)
        self._to_storage(Rio(kind=K.SOK, source=pair.source, target=pair.target, failure=True),
                         Tag.FAILOVER_SOK_TO_STORAGE)

    def _on_suspend_instruction(self, entry: LogEntry) -> None:
        """1304 at the source edge: (A) send what is held, (B) failure Suspend, (C) SOK."""
        pair = self.pairs.get((entry.rio.source, entry.rio.target))
        if pair is None:
            return
        order_id = pair.order_id
        for entry in self.held.group(order_id):
            self.held.sent_again(entry, self.now, self.held.resends(entry), move=False)
            self._transmit(entry)
        if pair.state is not S.FAILURE_SUSPEND:
            self._set_state(pair, Event.FAIL, None, Party.SOURCE_EDGE)
        group = self.order_group(order_id)
        group.created += 1
        group.deleted += 1  # the SOK is not kept: nothing answers it
        sok = LogEntry(target=pair.target, source=pair.source, order_id=order_id, io_time=self.now,
                       seq=group.created, rio=Rio(kind=K.SOK, source=pair.source, target=pair.target, failure=True))
        self.emit("sok-sent", Tag.FAILOVER_SUSPEND_SENT, order_id=order_id, seq=sok.seq)
        self._transmit(sok)
        self._tell_failed(pair)

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
        box = self.inbound.pop(old.order_id, None)  # entries never reflected: their blocks are in 727 at the
        if box is not None:                          # other edge, so the copy back covers them
            self.log_bytes -= sum(e.size for e in box.pending.values())
        order_id = self.management.order_id_for(self, rio)
        pair = self._turn(old, order_id, Party.SOURCE_EDGE)
        self.rebase.add(order_id)  # the other edge may have counted this group differently: start afresh
        self._sequence(pair, rio)

    def _swap_at_new_target(self, entry: LogEntry) -> PairInfo | None:
        """Failback at the old source's edge: what it still holds for the old direction
        becomes 727 of the turned pair, and goes back to the new source with DPOK."""
        old = self.pairs.get((entry.target, entry.source))
        if old is None:
            return self.pairs.get((entry.source, entry.target))
        self._absorb_held(old.order_id)
        return self._turn(old, entry.order_id, Party.TARGET_EDGE)

    def _turn(self, old: PairInfo, order_id: int, party: Party) -> PairInfo:
        del self.pairs[(old.source, old.target)]
        pair = PairInfo(source=old.target, target=old.source, order_id=order_id, state=old.state, mode=old.mode)
        pair.bitmap = old.bitmap
        self.pairs[(pair.source, pair.target)] = pair
        self.emit("pair-swapped", None, old=f"{old.source}>{old.target}", new=f"{pair.source}>{pair.target}",
                  party=party, order_id=order_id, state=str(pair.state), bitmap=len(pair.bitmap))
        self.management.pair_updated(self, pair)
        return pair
