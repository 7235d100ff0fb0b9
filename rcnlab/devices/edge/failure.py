"""Step 908 at the edge: remote copy of an order group cannot go on. Its pairs go
to failure Suspend, and the WR entries the source edge still holds become the
differential bitmap 727, so the resync (Fig. 12) copies their blocks."""

from __future__ import annotations

from rcnlab.devices.edge.state import EdgeState, PairKey
from rcnlab.model.kinds import Party
from rcnlab.model.pair_state import Event, PairState
from rcnlab.model.rio import Rio, RioKind
from rcnlab.model.steps import Tag
from rcnlab.model.tables import PairInfo

S = PairState
K = RioKind
#: A failure notice lost on the FC link to the storage goes again this much later (up to
#: the edge's ``resend_limit`` times): the notice has no answer, but its FC exchange does
#: not complete, and the port sees that.
TELL_AGAIN = 0.05


class FailureMixin(EdgeState):
    __slots__ = ()

    def _tell_failed(self, pair: PairInfo, full: bool = False, tries: int = 0) -> None:
        """Tell the attached storage the pair stands in failure Suspend (908); ``full``: with
        every written block to copy (kept, to tell it the same again); ``tries``: told
        already that many times, each lost on the way."""
        key = (pair.source, pair.target)
        if full:
            self._told_full.add(key)
        else:
            self._told_full.discard(key)
        storage = self.attached.get(pair.target.wwn if pair.target.wwn in self.attached else pair.source.wwn)
        ch = self.net.channels.get((self.name, storage)) if storage is not None else None
        dropped = ch.dropped if ch is not None else 0
        self._to_storage(Rio(kind=K.SUSPEND, source=pair.source, target=pair.target, failure=True, full=full))
        # lost on a link that is up: say it again (a link that comes back logs the storage in
        # again, and ``storage_logged_in`` tells it then; seed 0 of the deep hypothesis profile)
        if ch is not None and ch.dropped != dropped and ch.up and tries < self.spec.resend_limit:
            self.net.kernel.timer(TELL_AGAIN, self._tell_again, key, tries + 1)

    def _tell_again(self, key: PairKey, tries: int) -> None:
        pair = self.pairs.get(key)
        if self.up and pair is not None and pair.state is S.FAILURE_SUSPEND:
            self._tell_failed(pair, key in self._told_full, tries)

    def _absorb_held(self, order_id: int, only: set[PairKey] | None = None) -> int:
        """Turn the group's held entries (``only`` those of these pairs) into 727 (WR
        blocks); count them deleted (734)."""
        converted = 0
        group = self.order_group(order_id)
        for entry in self.held.group(order_id):
            if only is not None and (entry.source, entry.target) not in only:
                continue
            self.held.take(order_id, entry.seq)
            self.log_bytes -= entry.size
            group.deleted += 1
            rio = entry.rio
            pair = self.pairs.get((entry.source, entry.target))
            if rio.kind is K.WR and pair is not None:
                pair.bitmap.add(rio.block)
                converted += 1
        return converted

    def remote_copy_failed(self, order_id: int, reason: str, full: bool = False,
                           spare: PairKey | None = None) -> None:
        """Step 908: give up on an order group. Its pairs go to failure Suspend; the
        WR entries still held become the differential bitmap 727; both storages are
        told (the target's through the management server). ``full``: the entries
        were lost with a volatile log storage area 413, so nobody knows their blocks;
        the source storage marks every written block in 1211 (a full copy at resync).
        ``spare``: a pair of the group that starts afresh instead (created again)."""
        pairs = [p for p in self.pairs.values() if p.order_id == order_id and p.source.wwn in self.attached
                 and (p.source, p.target) != spare]
        converted = self._absorb_held(order_id)
        self.rebase.add(order_id)
        self.emit("remote-copy-failed", Tag.LIFE_REMOTE_COPY_FAILED, order_id=order_id, reason=reason,
                  converted=converted, full=full)
        for pair in pairs:
            if pair.state is S.SIMPLEX:
                self._creation_failed(pair, order_id, reason)
                continue
            self._set_state(pair, Event.FAIL, None, Party.SOURCE_EDGE)
            self._tell_failed(pair, full)
        self.management.report_failure(self, order_id, [(p.source, p.target) for p in pairs], reason,
                                       self.order_group(order_id).created)

    def _creation_failed(self, pair: PairInfo, order_id: int, reason: str) -> None:
        """908 finds the pair still Simplex here: its creation entry (gone with the group's
        held entries) waits for an ICOK that no longer counts. The creation fails: the
        record goes, and the source storage gets the ICOK with the error (it drops its record
        and answers its host), instead of waiting for an answer that never comes. A target
        side that registered the pair meanwhile goes to failure Suspend (``report_failure``), a
        half pair the operator deletes there and creates again (fuzz seed 1418)."""
        del self.pairs[(pair.source, pair.target)]
        self.emit("creation-failed", None, pair=f"{pair.source}>{pair.target}", order_id=order_id)
        self._to_storage(Rio(kind=K.ICOK, source=pair.source, target=pair.target,
                             error=f"pair creation failed: remote copy of order group {order_id} failed before "
                                   f"the target answered (908: {reason})"))

    def fail_pairs(self, keys: list[PairKey], reason: str, order_id: int = 0, created: int = 0) -> None:
        """Told by the management server (908): the pairs' remote copy has failed. The
        source edge had created ``created`` entries of the group then: any of them still
        on its way (or waiting here) is void, or a late RESYNC would start a resync the
        source edge gave up on (fuzz seeds 747 and 828); its next resync comes rebased."""
        if created:
            self._stale[order_id] = created
            box = self.inbound.get(order_id)
            if box is not None:
                for seq in [s for s in box.pending if s <= created]:
                    self.log_bytes -= box.pending.pop(seq).size
        for key in keys:
            pair = self.pairs.get(key)
            if pair is None or pair.state is S.SIMPLEX:
                continue
            self._set_state(pair, Event.FAIL, Tag.LIFE_REMOTE_COPY_FAILED, Party.TARGET_EDGE)
            self._tell_failed(pair)

    def target_deleted(self, keys: list[PairKey], reason: str) -> None:
        """Told by the management server: the target side deleted these pairs alone (its
        host's delete while the source storage was down). Each goes to failure Suspend here
        and at the source storage (908), for the operator to delete it here too; the other
        pairs of its order group go on. A creation still waiting for its ICOK fails."""
        for key in keys:
            pair = self.pairs.get(key)
            if pair is None or pair.state is S.FAILURE_SUSPEND:  # (told again: it was down, `edge_back`)
                continue
            if pair.state is S.SIMPLEX:
                self._creation_failed(pair, pair.order_id, reason)
                continue
            self.emit("remote-copy-failed", Tag.LIFE_REMOTE_COPY_FAILED, order_id=pair.order_id, reason=reason,
                      converted=0, full=False, pair=f"{pair.source}>{pair.target}")
            self._set_state(pair, Event.FAIL, None, Party.SOURCE_EDGE)
            self._tell_failed(pair)
