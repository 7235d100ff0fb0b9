"""The target edge: the log entry reflection program 406 keeps arriving entries in
413 (2001-2002, 2101-2102, 2202-2203), hands them to the target storage strictly
in sequence, the one numbered reflection counter 733 + 1 next (2003-2005,
2103-2105, 2204-2205), and sends the storage's answer back as a log entry
(2006-2011, 2106-2112, 2206-2212). Entries beyond the reorder window, or for a
pair it does not hold, are refused.
"""

from __future__ import annotations

import attrs

from rcnlab.devices.edge.log import Inbound
from rcnlab.devices.edge.state import ANSWER_EVENT, EdgeState
from rcnlab.model.kinds import CopyMode, Party
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.pair_state import TRANSITIONS, Event, PairState
from rcnlab.model.rio import NO_BLOCKS, REPLY, Rio, RioKind, RioMore
from rcnlab.model.steps import Tag
from rcnlab.model.tables import PairInfo

S = PairState
K = RioKind


@attrs.frozen
class ReceiveSteps:
    """Where the target edge is with a request entry of one kind."""

    received: str | None = None  # entry received (2001, 2101, 2202)
    stored: str | None = None  # entry stored in 413 (2002, 2102, 2203)
    converted: str | None = None  # turned into a RIO for the storage (2004, 2104, 2204)
    rio_sent: str | None = None  # that RIO sent (2005, 2105, 2205)
    arrow: str | None = None  # the RIO itself (1607, 1004, 1103, 1205)


@attrs.frozen
class ReflectSteps:
    """Where the target edge is when its storage answers a request of one kind."""

    answered: str | None = None  # the storage's answer received (2006, 2106, 2206)
    counted: str | None = None  # reflection counter 733 incremented (2007, 2107, 2207)
    state: str | None = None  # pair state 725 changed (1007, 1106)
    info_updated: str | None = None  # pair information 411 updated (2108, 2208, 1207)
    created: str | None = None  # answer entry created (2008, 2109, 2209)
    hop: str | None = None  # next hop chosen (2009, 2110, 2210)
    sent: str | None = None  # answer entry sent (2010, 2111, 2211)
    arrow: str | None = None  # the answer entry itself (1609, 1008, 1107, 1207)
    deleted: str | None = None  # the request entry deleted from 413 (2011, 2112, 2212)


RECEIVE_STEPS: dict[RioKind, ReceiveSteps] = {
    K.WR: ReceiveSteps(received=Tag.TGT_WR_LOG_RECEIVED, stored=Tag.TGT_WR_LOG_STORED,
                       converted=Tag.TGT_WR_RIO_CONVERTED, rio_sent=Tag.TGT_WR_RIO_SENT,
                       arrow=Tag.WRITE_TO_TARGET_STORAGE),
    K.PAIR_CREATE: ReceiveSteps(received=Tag.TGT_CREATE_LOG_RECEIVED, stored=Tag.TGT_CREATE_LOG_STORED,
                                converted=Tag.TGT_CREATE_RIO_CONVERTED, rio_sent=Tag.TGT_CREATE_RIO_SENT,
                                arrow=Tag.CREATE_TO_TARGET_STORAGE),
    K.DUPLEX: ReceiveSteps(received=Tag.TGT_DUPLEX_LOG_RECEIVED, stored=Tag.TGT_DUPLEX_LOG_STORED,
                           converted=Tag.TGT_DUPLEX_RIO_CONVERTED, rio_sent=Tag.TGT_DUPLEX_RIO_SENT,
                           arrow=Tag.DUPLEX_TO_TARGET_STORAGE),
    K.RESYNC: ReceiveSteps(arrow=Tag.RESYNC_TO_TARGET_STORAGE),
    K.SUSPEND: ReceiveSteps(),
    K.DELETE: ReceiveSteps(),
    K.SOK: ReceiveSteps(),
}
REFLECT_STEPS: dict[RioKind, ReflectSteps] = {
    K.WROK: ReflectSteps(answered=Tag.TGT_WR_ANSWER_FROM_STORAGE, counted=Tag.TGT_WR_REFLECTED_COUNTED,
                         created=Tag.TGT_WR_ANSWER_LOG_CREATED, hop=Tag.TGT_WR_HOP_CHOSEN, sent=Tag.TGT_WR_LOG_SENT,
                         arrow=Tag.WRITE_WROK_SENT, deleted=Tag.TGT_WR_LOG_DELETED),
    K.ICOK: ReflectSteps(answered=Tag.TGT_CREATE_ANSWER_FROM_STORAGE, counted=Tag.TGT_CREATE_REFLECTED_COUNTED,
                         state=Tag.CREATE_TARGET_EDGE_STATE, info_updated=Tag.TGT_CREATE_STATE_UPDATED,
                         created=Tag.TGT_CREATE_ANSWER_LOG_CREATED, hop=Tag.TGT_CREATE_HOP_CHOSEN,
                         sent=Tag.TGT_CREATE_LOG_SENT, arrow=Tag.CREATE_ICOK_SENT, deleted=Tag.TGT_CREATE_LOG_DELETED),
    K.DOK: ReflectSteps(answered=Tag.TGT_DUPLEX_ANSWER_FROM_STORAGE, counted=Tag.TGT_DUPLEX_REFLECTED_COUNTED,
                        state=Tag.DUPLEX_TARGET_EDGE_STATE, info_updated=Tag.TGT_DUPLEX_STATE_UPDATED,
                        created=Tag.TGT_DUPLEX_ANSWER_LOG_CREATED, hop=Tag.TGT_DUPLEX_HOP_CHOSEN,
                        sent=Tag.TGT_DUPLEX_LOG_SENT, arrow=Tag.DUPLEX_DOK_SENT, deleted=Tag.TGT_DUPLEX_LOG_DELETED),
    K.DPOK: ReflectSteps(info_updated=Tag.RESYNC_TARGET_EDGE_STATE, arrow=Tag.RESYNC_TARGET_EDGE_STATE),
    K.SOK: ReflectSteps(),
    K.DELOK: ReflectSteps(),
}


def numbered(rio: Rio, order_id: int, seq: int) -> Rio:
    """The RIO of a WR entry as the target edge hands it to its storage (2004): the
    same request with the order assurance ID and sequence number attached."""
    more = rio.more
    if more is None:
        more = RioMore(NO_BLOCKS, "", order_id, False, False, False, False, 0, seq, "")
    else:
        more = more._replace(order_id=order_id, seq=seq)
    return Rio(kind=rio.kind, source=rio.source, target=rio.target, block=rio.block, data=rio.data, more=more)


class TargetMixin(EdgeState):
    __slots__ = ()

    def _bogus(self, entry: LogEntry) -> str | None:
        """Why an arriving request entry cannot be genuine, or None: it must belong to a
        pair this edge holds with that order assurance ID (pair creation and failback
        introduce a pair; one its storage deleted alone is still answered, by the storage)."""
        kind = entry.kind
        if not (kind is K.PAIR_CREATE or (kind is K.RESYNC and entry.rio.swap)):
            key = (entry.source, entry.target)
            pair = self.pairs.get(key)
            if (pair.order_id if pair is not None else self._deleted_here.get(key)) != entry.order_id:
                return f"no pair {entry.source}>{entry.target} with order assurance ID {entry.order_id} here"
        return None

    def _accept(self, entry: LogEntry) -> None:
        """2001-2002, 2101-2102, 2202-2203: keep the entry until its turn comes."""
        bogus = self._bogus(entry)
        if bogus is not None:
            self.malformed += 1
            self.emit("entry-refused", None, reason=bogus, order_id=entry.order_id, seq=entry.seq)
            return
        self._follow_source_edge(entry)
        if self._stale and entry.order_id in self._stale:
            if entry.seq > self._stale[entry.order_id]:
                if entry.rebase:
                    del self._stale[entry.order_id]
            elif not self._turn_unheard(entry):
                self.emit("entry-refused", None, reason="made before the source edge gave up (908)",
                          order_id=entry.order_id, seq=entry.seq)
                return
        window = self.spec.reorder_window
        group = self.groups.get(entry.order_id)
        reflected = group.reflected if group else 0
        if not entry.rebase and entry.seq > reflected + window:
            self.malformed += 1
            self.emit("entry-refused", None, reason=f"sequence number {entry.seq} is beyond the reorder window "
                                                    f"({reflected} + {window})", order_id=entry.order_id,
                      seq=entry.seq)
            self._receipt(entry, window)  # not now: the source edge holds it back until the window moves
            return
        group = self.order_group(entry.order_id)
        box = self.inbound.get(entry.order_id)
        if box is None:
            box = self.inbound[entry.order_id] = Inbound()
        stuck = box.in_progress
        if entry.rebase:
            if stuck is not None and stuck.seq < entry.seq and self.now - box.since < self._answer_due(stuck):
                # Its RIO is on its way to the storage, which will apply it whatever this edge
                # now thinks: rebase (or let a failover complete) once the storage has answered,
                # or the write lands after the entries the rebase lets through (fuzz seeds 481
                # and 665; the deep profile: a WR issued again to a storage 12.5 ms away landed
                # 10 ms after a rebase that had given it up at 5 ms).
                box.parked = entry
                return
            box.parked = None
        if entry.rebase and self.failovers:
            self._sequence_restarted(entry, group.reflected)
        if entry.rebase and entry.seq > group.reflected + 1:
            dropped = [s for s in box.pending if s < entry.seq]
            for s in dropped:
                self.log_bytes -= box.pending.pop(s).size
            if stuck is not None and stuck.seq < entry.seq:  # its RIO or answer was lost; 727 covers it
                box.in_progress = None
                self.log_bytes -= stuck.size
                dropped.append(stuck.seq)
            self.emit("sequence-rebased", None, order_id=entry.order_id, reflected=group.reflected,
                      now=entry.seq - 1, dropped=len(dropped))
            group.reflected = entry.seq - 1
        if entry.seq <= group.reflected:  # reflected already: answer again, never apply again
            self.duplicates += 1
            self._answer_again(entry)
            return
        if entry.seq in box.pending:
            self.duplicates += 1
            pair = self.pairs.get((entry.source, entry.target))
            if pair is not None and pair.state not in (S.SUSPEND, S.FAILURE_SUSPEND):
                self._receipt(entry)  # resent while it waits its turn here: it is not lost
            # (while suspended here reflection halts: it waits for nothing that will come)
            return
        if box.in_progress is not None and box.in_progress.seq == entry.seq:
            self.duplicates += 1
            if entry.kind is K.WR and self.now - box.since >= min(self.spec.resend_timeout,
                                                                  self._storage_round_trip(entry)):
                # the storage's answer is overdue (it was down, or the WR or its answer was lost
                # on the FC link; the source edge's resend says its own wait ran out): ask again
                self._reissue(entry, box)
            return
        box.pending[entry.seq] = entry
        self.log_bytes += entry.size
        if entry.kind is K.SUSPEND and not entry.rio.failure:
            self._suspending(entry)
        heard = self.net.journal.heard
        if "log-received" in heard:
            self.emit("log-received", RECEIVE_STEPS[entry.kind].received, kind=str(entry.kind),
                      order_id=entry.order_id, seq=entry.seq)
        if "log-stored" in heard:
            self.emit("log-stored", RECEIVE_STEPS[entry.kind].stored, kind=str(entry.kind), order_id=entry.order_id,
                      seq=entry.seq)
        self._reflect_next(entry.order_id)

    def _follow_source_edge(self, entry: LogEntry) -> None:
        """Note which edge numbers the order group's entries. A pair creation from another
        edge than the last, with no pair of the group here and nothing of it waiting, is a
        method B order ID freed and given to another edge pair (the old one's pairs deleted):
        its edge numbers the group afresh, and the reflection counter starts over with it
        (else its entries would be taken for duplicates of the old ones, or wait for ever)."""
        group = self.groups.get(entry.order_id)
        source_edge = self.order_ids.edge_of.get(entry.source.wwn, "")
        if group is None or group.source_edge in ("", source_edge):
            if group is not None or entry.kind is K.PAIR_CREATE:
                self.order_group(entry.order_id).source_edge = source_edge
            return
        box = self.inbound.get(entry.order_id)
        if (entry.kind is not K.PAIR_CREATE or any(p.order_id == entry.order_id for p in self.pairs.values())
                or (box is not None and (box.pending or box.in_progress or box.parked))):
            return
        self.emit("sequence-rebased", None, order_id=entry.order_id, reflected=group.reflected,
                  now=entry.seq - 1, dropped=0)
        group.reflected = entry.seq - 1
        group.source_edge = source_edge
        self._stale.pop(entry.order_id, None)

    def _turn_unheard(self, entry: LogEntry) -> bool:
        """Is ``entry`` a failback (a swap resync) of a pair this edge still holds the old way
        round? Made before the new source edge gave up (908), it still turns the pair here
        and at the storage, which stay failure Suspend (``_turned_failed``): the failback is
        never half applied, one side turned and the other not (fuzz seed 9205)."""
        return entry.kind is K.RESYNC and entry.rio.swap and (entry.target, entry.source) in self.pairs

    def _turned_failed(self, pair: PairInfo, rio: Rio) -> None:
        """The storage turned the pair for a failback the new source edge had given up:
        what it marked stays here (727) for the next resync, and it goes failure Suspend."""
        pair.bitmap.update(rio.bitmap)
        self._tell_failed(pair)

    def _reflecting(self, rio: Rio) -> int | None:
        """The order group whose entry being reflected ``rio`` answers, for a pair no longer
        held here (deleted at the target storage meanwhile): its answer still ends the entry."""
        for order_id, box in self.inbound.items():
            entry = box.in_progress
            if entry is not None and REPLY.get(entry.kind) is rio.kind and (entry.source, entry.target) == (
                    rio.source, rio.target):
                return order_id
        return None

    def _deleted_at_target(self, pair: PairInfo | None, rio: Rio) -> None:
        """The target storage deleted the pair by itself (its host's delete, given while the
        source storage was down; like ``pairsplit -R``): the pair is gone here too, and the
        source side cannot go on copying to it. The management server tells the source
        edge: the pair goes to failure Suspend there (908), the source storage hears of it
        (when back), and the operator deletes the pair there too. What is still on its way
        for the pair is answered, not applied: the target storage refuses it."""
        if pair is None:
            self.emit("rio-refused", None, kind=str(rio.kind), reason=f"no pair {rio.source}>{rio.target}")
            return
        self._forget(pair, Party.TARGET_EDGE)
        self._deleted_here[(pair.source, pair.target)] = pair.order_id
        storage = self.attached.get(pair.target.wwn, pair.target.wwn)
        self.management.report_deleted_at_target(
            self, (pair.source, pair.target), f"the pair was deleted at the target storage {storage} alone")

    def _storage_round_trip(self, entry: LogEntry) -> float:
        """Twice the longest a WR and its answer take over the target storage's link (latency,
        jitter and the WR's bytes at its bandwidth, both ways): an answer not back by then was
        lost (the deep hypothesis profile: a WR lost on a lossy FC link, and 5 ms resends at
        the source edge that gave up before this edge's 50 ms)."""
        ch = self.net.channels[(self.name, self.attached[entry.target.wwn])]
        return 2 * (2 * (ch.latency + ch.jitter) + entry.rio.size / ch.bandwidth)

    def _answer_due(self, entry: LogEntry) -> float:
        """How long after handing ``entry`` to its storage its answer may still come: this
        edge's resend timeout, or the storage's round trip when that is longer."""
        if entry.target.wwn not in self.attached:
            return self.spec.resend_timeout
        return max(self.spec.resend_timeout, self._storage_round_trip(entry))

    def _reissue(self, entry: LogEntry, box: Inbound) -> None:
        """Send the WR being reflected to the storage again (it answers a repeat of the last
        WR it reflected without applying it again)."""
        self.emit("reissued", None, order_id=entry.order_id, seq=entry.seq)
        box.since = self.now
        self._to_storage(numbered(entry.rio, entry.order_id, entry.seq))

    def _reissue_to(self, wwn: str) -> None:
        """The attached storage ``wwn`` is back (it restarted, or its link did): a WR being
        reflected to it may have been lost on the way, and its answer would never come. Ask
        again now, rather than wait for the source edge's resend of it, which may come only
        behind a long queue on a slow link (widened fuzz seed 9842)."""
        for box in self.inbound.values():
            entry = box.in_progress
            if entry is not None and entry.kind is K.WR and entry.target.wwn == wwn:
                self._reissue(entry, box)

    def _suspending(self, entry: LogEntry) -> None:
        """A planned Suspend of an asynchronous pair reached us: this edge and the target
        storage go Suspending and go on reflecting what is held for the pair, here and
        still in the network, until the Suspend entry's turn comes (SPEC 2)."""
        pair = self.pairs.get((entry.source, entry.target))
        if pair is None or pair.mode != CopyMode.ASYNC or (pair.state, Event.SUSPEND_ASYNC) not in TRANSITIONS:
            return
        self._set_state(pair, Event.SUSPEND_ASYNC, None, Party.TARGET_EDGE)
        self._to_storage(Rio(kind=K.SUSPEND, source=entry.rio.source, target=entry.rio.target, mode=CopyMode.ASYNC))

    def _receipt(self, entry: LogEntry, window: int = 0) -> None:
        """Tell the source edge that ``entry`` is kept here, queued behind others (or, with
        ``window``, refused for now as beyond the reorder window): RioKind.RECEIPT."""
        self._transmit(LogEntry(target=entry.source, source=entry.target, order_id=entry.order_id,
                                io_time=entry.io_time, seq=entry.seq,
                                rio=Rio(kind=K.RECEIPT, source=entry.rio.source, target=entry.rio.target,
                                        seq=window)))

    def _answer_again(self, entry: LogEntry) -> None:
        answer = self._answers.get(entry.key)
        if answer is None:
            if entry.kind is not K.WR:
                return
            answer = LogEntry(target=entry.source, source=entry.target, order_id=entry.order_id,
                              io_time=entry.io_time, seq=entry.seq,
                              rio=Rio(kind=K.WROK, source=entry.rio.source, target=entry.rio.target))
        self.emit("answered-again", None, kind=str(answer.kind), order_id=entry.order_id, seq=entry.seq)
        self._transmit(answer)

    def _reflect_next(self, order_id: int) -> None:
        """2003: the entry whose number is the reflection counter + 1, if it is here."""
        box = self.inbound[order_id]
        if box.in_progress is not None or not self.up:
            return
        group = self.groups[order_id]
        entry = box.pending.get(group.reflected + 1)
        if entry is None and self.unsafe_reflect_any_order:  # test hook: break rule 2003 (issue 6)
            entry = box.pending.get(max((s for s, e in box.pending.items() if e.kind is K.WR), default=-1))
        if entry is None:
            return
        pair = self.pairs.get((entry.source, entry.target))
        kind = entry.kind
        if (pair is not None and pair.state in (S.SUSPEND, S.FAILURE_SUSPEND) and kind in (K.WR, K.DUPLEX)
                and not (kind is K.WR and order_id in self._fetching)):
            return  # reflection halts while suspended; the entries wait (or are fetched, 501)
        if kind is K.RESYNC and entry.rio.swap:
            pair = self._swap_at_new_target(entry)
        del box.pending[entry.seq]
        if self.failovers and self._failing_over(entry):
            self._failover_turn(entry)  # 1306-1309
        if kind is K.SOK:  # 1308: the source edge's SOK, in order: nothing is missing
            self.log_bytes -= entry.size
            group.reflected += 1
            self.emit("sok-received", None, order_id=order_id, seq=entry.seq)
            self._sok_arrived(entry)
            self._reflect_next(order_id)
            return
        box.in_progress = entry
        box.since = self.now
        steps = RECEIVE_STEPS[kind]
        heard = self.net.journal.heard
        if kind is K.WR:
            if entry.rio.copy and pair is not None and not pair.copying and pair.state is S.INITIAL_COPYING:
                pair.copying = True  # 2201 once, with the first block the initial copy sends
                self.emit("initial-copy-started", Tag.TGT_DUPLEX_INITIAL_COPY_STARTED,
                          pair=f"{pair.source}>{pair.target}", block=entry.rio.block)
            if "entry-selected" in heard:
                self.emit("entry-selected", Tag.TGT_WR_ENTRY_SELECTED, order_id=order_id, seq=entry.seq)
            if "rio-converted" in heard:
                self.emit("rio-converted", steps.converted, order_id=order_id, seq=entry.seq)
        elif kind is K.PAIR_CREATE:
            if pair is None or pair.state is S.SIMPLEX:
                self._deleted_here.pop((entry.source, entry.target), None)
                pair = self.pairs[(entry.source, entry.target)] = PairInfo(
                    source=entry.source, target=entry.target, order_id=order_id, mode=entry.rio.mode)
                self.emit("pair-registered", Tag.TGT_CREATE_PAIR_REGISTERED, pair=f"{pair.source}>{pair.target}",
                          order_id=order_id, state=str(pair.state))
            self.emit("rio-converted", steps.converted, kind=str(kind), seq=entry.seq)
        elif steps.converted:
            self.emit("rio-converted", steps.converted, kind=str(kind), seq=entry.seq)
        rio = numbered(entry.rio, order_id, entry.seq) if kind is K.WR else entry.rio
        self._to_storage(rio, steps.arrow)
        if steps.rio_sent and "rio-sent" in heard:
            self.emit("rio-sent", steps.rio_sent, kind=str(kind), seq=entry.seq)

    def _from_target_storage(self, rio: Rio) -> None:
        """The target storage answered the RIO being reflected (2006, 2106, 2206, 1206)."""
        kind = rio.kind
        pair = self.pairs.get((rio.source, rio.target))
        if kind is K.SUSPEND and rio.failure:  # 1303: failover asked by the target host
            self._start_failover(pair, rio)
            return
        if kind is K.DELETE:
            self._deleted_at_target(pair, rio)
            return
        order_id = pair.order_id if pair is not None else self._reflecting(rio)
        if order_id is None:
            self.emit("rio-refused", None, kind=str(kind), reason=f"no pair {rio.source}>{rio.target}")
            return
        box = self.inbound.get(order_id)
        entry = box.in_progress if box else None
        if box is None or entry is None or REPLY.get(entry.kind) is not kind or (kind is K.WROK and rio.seq
                                                                     and rio.seq != entry.seq):
            self.emit("rio-refused", None, kind=str(kind), reason="no request of that kind is being reflected")
            return
        if kind is K.DPOK and pair is not None and pair.bitmap:  # failback: what the old source edge had goes
            rio = attrs.evolve(rio, bitmap=frozenset(pair.bitmap | rio.bitmap))  # too, and stays marked until Duplex
        box.in_progress = None
        steps = REFLECT_STEPS[kind]
        group = self.groups[order_id]
        group.reflected += 1  # 2007, 2107, 2207
        group.reflection_delay = self.net.kernel.now - entry.io_time
        self.log_bytes -= LOG_ENTRY_HEADER_BYTES + entry.rio.size
        heard = self.net.journal.heard
        if "answer-from-storage" in heard:
            self.emit("answer-from-storage", steps.answered, kind=str(kind), order_id=order_id, seq=entry.seq)
        if "counter-incremented" in heard:
            self.emit("counter-incremented", steps.counted, order_id=order_id, reflected=group.reflected,
                      reflection_delay=round(group.reflection_delay, 9))
        if pair is None:  # deleted here meanwhile (by the target storage alone): the answer only goes back,
            if kind is K.DELOK:  # and the source side's delete ends it
                self._deleted_here.pop((rio.source, rio.target), None)
        elif kind is K.DELOK:
            self._forget(pair, Party.TARGET_EDGE)
        elif kind is K.DPOK and entry.rio.swap and self._stale and entry.seq <= self._stale.get(order_id, 0):
            self._turned_failed(pair, rio)
            rio = attrs.evolve(rio, bitmap=frozenset())
        elif kind is not K.WROK and not rio.error and not (self._stale and entry.seq <= self._stale.get(order_id, 0)):
            # (an answer to an entry made before the source edge gave up changes no state here:
            # the pair stays failure Suspend, fuzz seed 1937)
            event: Event | None = ANSWER_EVENT[kind]
            if kind is K.SOK:
                event = Event.SUSPEND
            if kind is K.DPOK and entry.rio.swap:
                event = Event.SWAP
            if kind is K.ICOK and pair.state is not S.SIMPLEX:
                event = None
            if event is not None:
                self._set_state(pair, event, steps.state, Party.TARGET_EDGE)
                if pair.state is S.DUPLEX:
                    pair.bitmap.clear()  # the copy the last DPOK asked for is done
                if steps.info_updated:
                    self.emit("pair-info-updated", steps.info_updated, pair=f"{pair.source}>{pair.target}",
                              state=str(pair.state))
        answer = LogEntry(target=entry.source, source=entry.target, order_id=order_id, io_time=entry.io_time,
                          seq=entry.seq, rio=rio)
        if "log-created" in heard:
            self.emit("log-created", steps.created, kind=str(kind), order_id=order_id, seq=entry.seq)
        if kind is not K.WROK:
            self._answers[entry.key] = answer
        self._transmit(answer, steps.hop, steps.sent, steps.arrow)
        if "log-deleted" in heard:
            self.emit("log-deleted", steps.deleted, kind=str(entry.kind), order_id=order_id, seq=entry.seq)
        parked = box.parked
        if parked is not None:
            box.parked = None
            self._accept(parked)
        else:
            self._reflect_next(order_id)
        if order_id in self._fetching:
            self._fetch_done(order_id)
