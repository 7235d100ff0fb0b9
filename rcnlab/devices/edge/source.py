"""The source edge: the log entry creation program 406 turns a RIO from the source
storage into a sequenced log entry 211 in 413 (Fig. 19 1901-1906, Fig. 17
1701-1706, Fig. 18 1802-1806), keeps it until its answer returns (1907-1909,
1707-1711, 1807-1811), and sends it again when the answer is overdue (908).
"""

from __future__ import annotations

import attrs

from rcnlab.devices.edge.log import QUEUED, WAITING
from rcnlab.devices.edge.state import ANSWER_EVENT, EdgeState
from rcnlab.emu.journal import short_digest
from rcnlab.model.kinds import CopyMode, Party
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.pair_state import Event, IllegalTransition, PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag
from rcnlab.model.tables import PairInfo

S = PairState
K = RioKind
#: Resends back off: each round doubles the wait, up to this many times resend_timeout.
RESEND_BACKOFF_MAX = 4


@attrs.frozen
class SequenceSteps:
    """Where the source edge is when it sequences a RIO of one kind."""

    created: str | None = None  # log entry created (1902, 1703, 1803)
    counted: str | None = None  # creation counter 732 incremented (1903, 1704, 1804)
    hop: str | None = None  # next hop chosen (1905, 1705, 1805)
    sent: str | None = None  # entry sent (1906, 1706, 1806)
    arrow: str | None = None  # the message itself (1605, 1003, 1102, 1203)


@attrs.frozen
class AnswerSteps:
    """Where the source edge is when the answer to an entry of one kind comes back."""

    received: str | None = None  # answer received (1907, 1707, 1807)
    state: str | None = None  # pair state 725 changed (1009, 1108, 1210)
    info_updated: str | None = None  # pair information 411 updated (1711, 1811)
    arrow: str | None = None  # the RIO handed to the source storage (1010, 1109, 1210)
    rio_sent: str | None = None  # that RIO sent (1708, 1808)
    deleted: str | None = None  # entry deleted from 413 (1908, 1709, 1809)
    counted: str | None = None  # deletion counter 734 incremented (1909, 1710, 1810)


SEQUENCE_STEPS: dict[RioKind, SequenceSteps] = {
    K.WR: SequenceSteps(created=Tag.SRC_WR_LOG_CREATED, counted=Tag.SRC_WR_CREATED_COUNTED,
                        hop=Tag.SRC_WR_HOP_CHOSEN, sent=Tag.SRC_WR_LOG_SENT, arrow=Tag.WRITE_ENTRY_SENT),
    K.PAIR_CREATE: SequenceSteps(created=Tag.SRC_CREATE_LOG_CREATED, counted=Tag.SRC_CREATE_CREATED_COUNTED,
                                 hop=Tag.SRC_CREATE_HOP_CHOSEN, sent=Tag.SRC_CREATE_LOG_SENT,
                                 arrow=Tag.CREATE_ENTRY_SENT),
    K.DUPLEX: SequenceSteps(created=Tag.SRC_DUPLEX_LOG_CREATED, counted=Tag.SRC_DUPLEX_CREATED_COUNTED,
                            hop=Tag.SRC_DUPLEX_HOP_CHOSEN, sent=Tag.SRC_DUPLEX_LOG_SENT,
                            arrow=Tag.DUPLEX_ENTRY_SENT),
    K.RESYNC: SequenceSteps(arrow=Tag.RESYNC_ENTRY_SENT),
    K.SUSPEND: SequenceSteps(),
    K.DELETE: SequenceSteps(),
    K.SOK: SequenceSteps(arrow=Tag.FAILOVER_SUSPEND_SENT),
}
ANSWER_STEPS: dict[RioKind, AnswerSteps] = {
    K.WROK: AnswerSteps(received=Tag.SRC_WR_ANSWER_RECEIVED, deleted=Tag.SRC_WR_LOG_DELETED,
                        counted=Tag.SRC_WR_DELETED_COUNTED),
    K.ICOK: AnswerSteps(received=Tag.SRC_CREATE_ANSWER_RECEIVED, state=Tag.CREATE_SOURCE_EDGE_STATE,
                        info_updated=Tag.SRC_CREATE_STATE_UPDATED, arrow=Tag.CREATE_ICOK_TO_SOURCE,
                        rio_sent=Tag.SRC_CREATE_RIO_TO_STORAGE, deleted=Tag.SRC_CREATE_LOG_DELETED,
                        counted=Tag.SRC_CREATE_DELETED_COUNTED),
    K.DOK: AnswerSteps(received=Tag.SRC_DUPLEX_ANSWER_RECEIVED, state=Tag.DUPLEX_SOURCE_EDGE_STATE,
                       info_updated=Tag.SRC_DUPLEX_STATE_UPDATED, arrow=Tag.DUPLEX_DOK_TO_SOURCE,
                       rio_sent=Tag.SRC_DUPLEX_RIO_TO_STORAGE, deleted=Tag.SRC_DUPLEX_LOG_DELETED,
                       counted=Tag.SRC_DUPLEX_DELETED_COUNTED),
    K.DPOK: AnswerSteps(state=Tag.RESYNC_SOURCE_EDGE_STATE, arrow=Tag.RESYNC_SOURCE_EDGE_STATE),
    K.SOK: AnswerSteps(),
    K.DELOK: AnswerSteps(),
}


class SourceMixin(EdgeState):
    __slots__ = ()

    def _from_source_storage(self, rio: Rio) -> None:
        kind = rio.kind
        key = (rio.source, rio.target)
        if kind is K.WR and rio.xid and not self.unsafe_number_any_order:
            self._note_xid(rio)
        pair = self.pairs.get(key)
        if kind is K.WR and pair is not None:
            # suspended here, and the storage has not heard yet: keep the block in 727
            if pair.state is S.SUSPEND or pair.state is S.FAILURE_SUSPEND:
                self._mark_for_copy(pair, rio)
                return
            if rio.copy and not pair.copying and pair.state is S.INITIAL_COPYING:
                pair.copying = True  # 1801 once, with the first block the initial copy sends
                self.emit("initial-copy-started", Tag.SRC_DUPLEX_INITIAL_COPY_STARTED,
                          pair=f"{pair.source}>{pair.target}", block=rio.block)
            if "rio-received" in self.net.journal.heard:  # the storage's exchange and the number its entry gets (1902)
                group = self.groups.get(pair.order_id)
                self.emit("rio-received", Tag.SRC_WR_RECEIVED, kind="WR", source=str(rio.source), block=rio.block,
                          xid=rio.xid, order_id=pair.order_id, seq=(group.created if group else 0) + 1)
            self._sequence(pair, rio)
            return
        if kind is K.PAIR_CREATE:
            self.emit("rio-received", Tag.SRC_CREATE_RECEIVED, kind=str(kind), source=str(rio.source),
                      target=str(rio.target))
            if pair is not None and pair.state is not S.SIMPLEX:
                # The storage, Simplex, asks again: the creation that left this record failed
                # there (its ICOK never came back). The storage is right; start afresh. The
                # restarted sequence drops at the target edge what other pairs of the order
                # group (methods A-2, B) still have on the way: they fail too (908), so that
                # their resync copies those blocks (fuzz seed 1123).
                oid = pair.order_id
                if any((e.source, e.target) != key for e in self.held.group(oid)):
                    self.remote_copy_failed(oid, f"pair {pair.source}>{pair.target} is created again", spare=key)
                else:
                    self._absorb_held(oid)
                    self.rebase.add(oid)
                self.emit("pair-state", None, pair=f"{pair.source}>{pair.target}", party=Party.SOURCE_EDGE,
                          old=str(pair.state), new=str(S.SIMPLEX))
            order_id = self.order_ids.assign(rio)
            pair = self.pairs[key] = PairInfo(source=rio.source, target=rio.target, order_id=order_id,
                                              mode=rio.mode)
            self.emit("pair-registered", Tag.SRC_CREATE_PAIR_REGISTERED, pair=f"{rio.source}>{rio.target}",
                      order_id=order_id, state=str(pair.state))
            self._sequence(pair, rio)
            return
        if kind is K.RESYNC and rio.swap:
            self._swap_at_new_source(rio)
            return
        if pair is None:
            self._refuse(rio, f"no pair {rio.source}>{rio.target} at {self.name}")
            return
        if kind is K.SUSPEND and rio.failure:  # the storage lost its path to us (908 seen from the storage)
            wwn = rio.source.wwn
            if rio.xid > self._last_xid.get(wwn, 0):  # the WRs it numbered up to xid are answered or in its
                self._last_xid[wwn] = rio.xid         # 1211: a gap below is no loss (widened fuzz seed 9577)
            if pair.state in (S.SIMPLEX, S.SUSPEND, S.FAILURE_SUSPEND):
                self._tell_failed(pair)
                if pair.state is S.SUSPEND:  # (a suspend whose SOK came too late for the storage)
                    self._set_state(pair, Event.FAIL, None, Party.SOURCE_EDGE)
                    # the target side hears it too (908 through the management server), or it
                    # ends Suspend while this side stands in failure Suspend (deep profile,
                    # seed 319); the entries on their way still count (nothing made void)
                    self.management.report_failure(self, pair.order_id, [(pair.source, pair.target)],
                                                   "the source storage reports a failure")
            else:
                self.remote_copy_failed(pair.order_id, "the source storage reports a path failure")
            return
        if kind is K.SUSPEND:
            try:
                self._set_state(pair, Event.SUSPEND_ASYNC if pair.mode == CopyMode.ASYNC else Event.SUSPEND, None,
                                Party.SOURCE_EDGE, strict=True)
            except IllegalTransition as exc:
                self._refuse(rio, str(exc))
                return
        elif kind is K.DUPLEX:
            self.emit("rio-received", Tag.SRC_DUPLEX_RECEIVED, kind=str(kind), source=str(rio.source))
        elif kind is K.RESYNC:
            if pair.state not in (S.SUSPEND, S.FAILURE_SUSPEND):
                self._refuse(rio, f"resync refused: pair is {pair.state} at {self.name}")
                return
            if pair.state is S.FAILURE_SUSPEND:
                self._absorb_stalled(pair.order_id)
        elif kind is K.DELETE:
            pass
        else:
            self.malformed += 1
            return
        self._sequence(pair, rio)

    def _absorb_stalled(self, order_id: int) -> None:
        """A resync of a pair in failure Suspend: the group's entries still held here, all
        WRs of pairs in failure Suspend (a failover took them, 1304, and its target edge
        reflects nothing more of them), will never be answered. Their blocks go into 727
        for the resync to copy, and the resync restarts the group's sequence, instead of
        waiting behind them until they are given up (908) and taking it down too (widened
        fuzz seed 3243). Not while another entry is held (another pair's resync, say): the
        restart would drop it at the target edge."""
        held = self.held.group(order_id)
        pairs = self.pairs
        if held and all(e.kind is K.WR and (p := pairs.get((e.source, e.target))) is not None
                        and p.state is S.FAILURE_SUSPEND for e in held):
            converted = self._absorb_held(order_id)
            self.rebase.add(order_id)
            self.emit("held-absorbed", None, order_id=order_id, converted=converted)

    def _note_xid(self, rio: Rio) -> None:
        """A storage numbers the WRs it sends us (1, 2, 3, ...) and the FC link delivers
        them in order, so a WR whose number skips one means a WR the storage sent (and may
        have acknowledged to its host) was lost on the way. Numbering this later write
        ahead of it would let the target hold a write without one acknowledged before it:
        the storage's order groups go to failure Suspend (908) first, so this write and
        the lost one's block (the storage's path timeout marks it in 1211) are copied at
        resync. A number at or below the last one seen is a resend: it changes nothing. The
        first WR a storage sends is number 1 (a lost one before it is a gap too); only after
        a crash of ours is the last number unknown (-1) until the next WR."""
        wwn = rio.source.wwn
        last = self._last_xid.get(wwn, 0)
        if rio.xid <= last:
            return
        self._last_xid[wwn] = rio.xid
        if last < 0 or rio.xid == last + 1:
            return
        for order_id in sorted({p.order_id for p in self.pairs.values()
                                if p.source.wwn == wwn and p.state not in (S.SIMPLEX, S.FAILURE_SUSPEND)}):
            self.remote_copy_failed(order_id, f"WR {last + 1} from {self.attached.get(wwn, wwn)} lost on its "
                                              f"FC link (WR {rio.xid} came next)")

    def _mark_for_copy(self, pair: PairInfo, rio: Rio) -> None:
        """A WR that gets no log entry: its block goes into 727 (the resync copies it) and
        the storage has its WROK."""
        pair.bitmap.add(rio.block)
        self._to_storage(Rio(kind=K.WROK, source=rio.source, target=rio.target, xid=rio.xid))

    def _sequence(self, pair: PairInfo, rio: Rio) -> LogEntry | None:
        """Create a sequenced log entry in 413 (1902, 1703, 1803), count it, send it on."""
        order_id = pair.order_id
        group = self.groups.get(order_id) or self.order_group(order_id)
        kind = rio.kind
        wr = kind is K.WR
        # The RIO area 805 holds the request as the storage sent it, less the FC exchange
        # ID (1413): that one matters only between the storage and this edge.
        carried = Rio(kind=K.WR, source=rio.source, target=rio.target, block=rio.block, data=rio.data,
                      copy=rio.copy) if wr and rio.more is not None else rio
        now = self.net.kernel.now
        entry = LogEntry(target=pair.target, source=pair.source, order_id=order_id, io_time=now,
                         seq=group.created + 1, rio=carried, rebase=bool(self.rebase) and order_id in self.rebase)
        size = LOG_ENTRY_HEADER_BYTES + carried.size
        if self.log_bytes + size > self.spec.log_capacity:
            self.emit("log-full", None, order_id=pair.order_id, bytes=self.log_bytes)
            if rio.kind is K.WR:
                self._mark_for_copy(pair, rio)
            self.remote_copy_failed(pair.order_id, "log storage area full")
            return None
        if self.rebase:
            self.rebase.discard(order_id)
        steps = SEQUENCE_STEPS[kind]
        group.created += 1
        self.held.add(entry)
        self.log_bytes += size
        heard = self.net.journal.heard
        if "log-created" in heard:
            self.emit("log-created", steps.created, kind=str(kind), order_id=entry.order_id, seq=entry.seq,
                      volume=str(entry.target), block=rio.block,
                      data_digest=short_digest(rio.data) if wr else None, rebase=entry.rebase)
        if "counter-incremented" in heard:
            self.emit("counter-incremented", steps.counted, order_id=entry.order_id, created=group.created)
        if wr:
            self._to_storage(Rio(kind=K.WROK, source=rio.source, target=rio.target, xid=rio.xid),
                             Tag.WRITE_WROK_FROM_EDGE)
            if "wrok-returned" in heard:
                self.emit("wrok-returned", Tag.SRC_WR_WROK_RETURNED, order_id=entry.order_id, seq=entry.seq)
        window = self._windows.get(order_id) if self._windows else None
        if window is not None and (order_id, entry.seq - window) in self.held:
            self.held.sent_again(entry, now, WAITING, move=False)  # beyond the target's reorder window
        else:
            self._send_first(entry)
        if self._resend_timer is None:
            self._arm_resend()
        if self.log_bytes >= self._flow_up:
            self._flow_check()
        return entry

    def _send_first(self, entry: LogEntry) -> None:
        """Send a new entry on (1905-1906, 1705-1706, 1805-1806)."""
        steps = SEQUENCE_STEPS[entry.kind]
        departs = self._leaves(entry, self._transmit(entry, steps.hop, steps.sent, steps.arrow))
        if departs > self.now:  # it waits for the bandwidth: its answer is due counting from then
            self.held.sent_again(entry, departs, 0, move=False)

    def _on_receipt(self, receipt: LogEntry) -> None:
        """The target edge has a resent entry queued in its 413, or refuses it for now as
        beyond its reorder window (RioKind.RECEIPT): while one before it is unanswered (or
        the one a window before it) it is not lost, and its resends start again from
        nothing once it is due. The first unanswered entry of its group is not excused:
        it waits for the target storage, or for nothing that will come (908 as before)."""
        held = self.held
        key = receipt.key
        if key not in held:
            return
        window = receipt.rio.seq
        if window:
            self._windows[receipt.order_id] = window
        elif (receipt.order_id, receipt.seq - 1) not in held:
            return
        held.sent_again(held[key].entry, self.now, WAITING if window else QUEUED, move=False)
        self.emit("receipt", None, order_id=receipt.order_id, seq=receipt.seq, window=window or None)

    def _release(self, order_id: int, seq: int) -> None:
        """Entry ``seq`` is answered: the one a reorder window after it may go now."""
        window = self._windows[order_id]
        key = (order_id, seq + window)
        held = self.held
        if key in held and held.resends(entry := held[key].entry) == WAITING:
            held.sent_again(entry, self.now, 0)
            self._send_first(entry)

    def _on_answer(self, entry: LogEntry) -> None:
        """An answer came back along the route (1907, 1707, 1807, 1208)."""
        held = self.held
        if self._backoff != 1 and not held.resends(entry) and (
                self.now - held.sent_at(entry) < self.spec.resend_timeout):
            self._backoff = 1  # answered at the first try, in time: the path keeps up again
        request = held.take(entry.order_id, entry.seq)
        if request is None:
            self.duplicates += 1
            self.emit("duplicate-answer", None, kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq)
            return
        held.turn_comes(entry.order_id, entry.seq + 1, self.now)
        if self._windows and entry.order_id in self._windows:
            self._release(entry.order_id, entry.seq)
        kind = entry.kind
        steps = ANSWER_STEPS[kind]
        self.log_bytes -= LOG_ENTRY_HEADER_BYTES + request.rio.size
        if self.log_bytes <= self._flow_down:
            self._flow_check()
        group = self.groups.get(entry.order_id) or self.order_group(entry.order_id)
        group.deleted += 1
        heard = self.net.journal.heard
        if "answer-received" in heard:
            self.emit("answer-received", steps.received, kind=str(kind), order_id=entry.order_id, seq=entry.seq)
        pair = None if kind is K.WROK else self.pairs.get((request.source, request.target))
        rio = entry.rio
        if kind is K.WROK and rio.error:  # not applied (the target deleted the pair): copy it at resync
            refused = self.pairs.get((request.source, request.target))
            if refused is not None:
                refused.bitmap.add(request.rio.block)
        if pair is not None:
            if kind is K.DELOK:  # the source storage forgot the pair already; an error (the target
                self._forget(pair, Party.SOURCE_EDGE)  # side deleted it alone before) changes nothing
                if rio.error:
                    self.emit("request-failed", None, kind=str(request.kind), error=rio.error)
            elif rio.error:
                self.emit("request-failed", None, kind=str(request.kind), error=rio.error)
                if kind is K.ICOK:
                    del self.pairs[(request.source, request.target)]
            elif kind is K.DPOK:  # 1209: merge the target's 1213 with our 727
                # 727 keeps the merged blocks until the copy they ask for is done (DOK): the
                # DPOK may be lost on the storage's link, and the storage's next resync needs
                # them again (fuzz seeds 561 and 958)
                own = len(pair.bitmap)
                pair.bitmap.update(rio.bitmap)
                merged = frozenset(pair.bitmap)
                self.emit("bitmap-merged", Tag.RESYNC_EDGE_MERGE, pair=f"{pair.source}>{pair.target}", own=own,
                          received=len(rio.bitmap), merged=len(merged))
                rio = attrs.evolve(rio, bitmap=merged)
                self._set_state(pair, Event.RESYNC, steps.state, Party.SOURCE_EDGE)
            elif kind is K.SOK:
                if pair.state is S.SUSPENDING:
                    self._set_state(pair, Event.SUSPENDED, None, Party.SOURCE_EDGE)
            else:
                self._set_state(pair, ANSWER_EVENT[kind], steps.state, Party.SOURCE_EDGE)
                if steps.info_updated:
                    self.emit("pair-info-updated", steps.info_updated, pair=f"{pair.source}>{pair.target}",
                              state=str(pair.state))
            self._to_storage(rio, steps.arrow)
            if steps.rio_sent:
                self.emit("rio-sent", steps.rio_sent, kind=str(kind))
        if "log-deleted" in heard:
            self.emit("log-deleted", steps.deleted, kind=str(request.kind), order_id=entry.order_id, seq=entry.seq)
        if "counter-incremented" in heard:
            self.emit("counter-incremented", steps.counted, order_id=entry.order_id, deleted=group.deleted)
        if kind is K.DOK and pair is not None and pair.state is S.DUPLEX:
            pair.bitmap.clear()  # every block the last DPOK asked for is on the target now
            self.emit("initial-copy-done", None, pair=f"{pair.source}>{pair.target}")

    # -- resend (908) --------------------------------------------------------------------
    # An entry is due again resend_timeout after it left onto the wire (not after it was
    # created: waiting behind others for the bandwidth is no sign of loss). If answers
    # came in since the last round of resends (the path is slow, not gone), a round
    # doubles the wait, up to RESEND_BACKOFF_MAX times; an answer within resend_timeout
    # to an entry sent once brings it back. Without answers the wait stays, so a failed
    # path is found as soon as before (resend_limit rounds of resend_timeout).
    @property
    def resend_wait(self) -> float:
        """How long an entry sent now waits for its answer before it is sent again."""
        return self.spec.resend_timeout * self._backoff

    def _arm_resend(self) -> None:
        if self._resend_timer is None and self.held:
            held = self.held
            delay = max(0.0, held.sent_at(held.oldest()) + self.resend_wait - self.now)
            self._resend_timer = self.net.kernel.timer(delay, self._resend_due)

    def _resend_due(self) -> None:
        self._resend_timer = None
        if not self.up:
            return
        deadline = self.now - self.resend_wait
        resent = self.resent
        answered = sum(g.deleted for g in self.groups.values())
        tried_reroute = False
        held = self.held
        void: set[int] = set()  # groups whose receipts proved void this round
        while held:
            entry = held.oldest()
            if held.sent_at(entry) > deadline + 1e-12:
                break
            resends = held.resends(entry)
            if resends < 0:  # receipted: not lost while it waits its turn at the target edge
                if (resends == WAITING or entry.order_id not in void) and self._excused(entry, resends):
                    self._excuse_group(entry.order_id)
                    continue
                if resends == QUEUED:  # unanswered a resend wait after its turn came: the target edge
                    void.add(entry.order_id)  # no longer keeps it (a crash lost its 413), nor those after it
                resends = 0
            if resends >= self.spec.resend_limit:
                reason = f"no answer after {resends} resends"
                # 502 may route around a failed core or link first (SPEC: disaster-aware routing)
                if not tried_reroute:
                    tried_reroute = True
                    if self.management.route_around(self, entry.order_id, reason):
                        self._restart_resends()
                        continue
                self.remote_copy_failed(entry.order_id, reason)
                continue
            self.resent += 1
            self.emit("resent", None, kind=str(entry.kind), order_id=entry.order_id, seq=entry.seq,
                      attempt=resends + 1)
            held.sent_again(entry, max(self.now, self._leaves(entry, self._transmit(entry))), resends + 1)
        if self.resent == resent:
            self._answered = -1
        else:
            if 0 <= self._answered != answered:  # answers came since the last resends: slow, not gone
                self._backoff = min(2 * self._backoff, RESEND_BACKOFF_MAX)
            self._answered = answered
        self._arm_resend()

    def _excused(self, entry: LogEntry, resends: int) -> bool:
        """A receipted entry waits its turn while the one before it (QUEUED), or the one a
        reorder window before it (WAITING), is unanswered."""
        before = entry.seq - 1 if resends == QUEUED else entry.seq - self._windows.get(entry.order_id, 1)
        return (entry.order_id, before) in self.held

    def _excuse_group(self, order_id: int) -> None:
        """Every receipted entry of the group that waits its turn is due again from now, all
        together: one resend round wakes for them, not one per entry."""
        held, now = self.held, self.now
        for entry in held.group(order_id):
            resends = held.resends(entry)
            if resends < 0 and self._excused(entry, resends):
                held.sent_again(entry, now, resends)

    def _restart_resends(self) -> None:
        """After a new route arrived: every held entry gets a fresh set of resends."""
        for entry in list(self.held.entries()):
            self.held.sent_again(entry, self.now, 0)
