"""A pair's state at the storage as the RCN moves it (Fig. 10-13, 908): what the
storage does with a RIO from its edge for a pair it is the target of (pair
creation 1005-1006, Duplex 1104-1105, resync 1206 handing over 1213, failback,
suspend, failover 1311, delete), and with the answer to a command for a pair it
is the source of (1011-1013, 1110, 1211-1212 merging the received bitmap into
1211, 908)."""

from __future__ import annotations

from rcnlab.devices.storage.pair import StoragePair
from rcnlab.devices.storage.state import StorageState
from rcnlab.devices.storage.volume import Volume
from rcnlab.model.bitmaps import hand_over
from rcnlab.model.kinds import CopyKind, CopyMode, Party, Role, ScsiStatus
from rcnlab.model.pair_state import TRANSITIONS, Event, PairState
from rcnlab.model.rio import REPLY, Rio, RioKind
from rcnlab.model.steps import Tag

S = PairState


class TransitionsMixin(StorageState):
    __slots__ = ()

    def _as_target(self, volume: Volume, rio: Rio) -> None:
        """A request for a pair this storage is the target of (a WR is ``_reflect_write``)."""
        lun = rio.target.lun
        pair = self.pairs.get(lun)
        kind = rio.kind
        if kind is RioKind.PAIR_CREATE:
            if pair is not None and pair.state is not S.SIMPLEX:
                self._to_edge(Rio(kind=RioKind.ICOK, source=rio.source, target=rio.target,
                                  error=f"{rio.target} is already paired ({pair.state})"))
                return
            pair = StoragePair(role=Role.TARGET, local=rio.target, remote=rio.source, mode=rio.mode)
            self.pairs[lun] = pair
            volume.clear()  # the initial copy overwrites the whole target volume
            self._set_state(pair, Event.CREATE, Tag.CREATE_TARGET_STATE)
            self._to_edge(Rio(kind=RioKind.ICOK, source=rio.source, target=rio.target),
                          Tag.CREATE_ICOK_FROM_TARGET)
            return
        if pair is None:
            self._to_edge(Rio(kind=REPLY.get(kind, kind), source=rio.source, target=rio.target,
                              error=f"{self.name}:{lun} is not paired"))
            return
        if pair.role is Role.SOURCE and not (kind is RioKind.RESYNC and rio.swap):
            # failed back here: the old direction's commands no longer apply (deep profile: the
            # old source's resync, given as the failback was, ran the turned pair to Duplex here
            # while the old source held it Duplex the old way round)
            self._to_edge(Rio(kind=REPLY.get(kind, kind), source=rio.source, target=rio.target,
                              error=f"{self.name}:{lun} is the source of pair {self.name}:{lun}>"
                                    f"{self.volume_name(pair.remote)} now (failed back)"))
            return
        if kind is RioKind.DUPLEX:
            self._set_state(pair, Event.DUPLEX, Tag.DUPLEX_TARGET_STATE)
            if pair.state is S.DUPLEX:
                pair.bitmap.clear()  # the copy the last DPOK asked for is done
            self._to_edge(Rio(kind=RioKind.DOK, source=rio.source, target=rio.target), Tag.DUPLEX_DOK_FROM_TARGET)
        elif kind is RioKind.RESYNC and rio.swap:  # failback: the old source becomes the target
            self._stop_copy(pair)
            self._cancel_notify(lun)
            if pair.role is not Role.TARGET or pair.remote != rio.source:  # (a repeated swap finds it turned already)
                old = f"{pair.source}>{pair.target}"
                pair.role = Role.TARGET
                pair.remote = rio.source
                pair.swapped = not pair.swapped
                self._drop_waiting(pair, f"the pair was failed back from {self.volume_name(rio.source)}: "
                                         "this side is its target now")
                self.emit("pair-swapped", None, old=old, new=f"{pair.source}>{pair.target}", party=Party.TARGET_STORAGE,
                          state=str(pair.state), bitmap=len(pair.bitmap))
            self._set_state(pair, Event.SWAP, Tag.RESYNC_DPOK_FROM_TARGET)
            # what this volume got that the new source may lack: its 1211, and WRs never answered;
            # marked until Duplex, as for a plain resync: the DPOK may be lost (deep profile, a
            # failback over a path cut one way right after a prompt failover)
            pair.bitmap |= {b for (l, b, *_) in self._unanswered.values() if l == lun}
            for xid in [x for x, v in self._unanswered.items() if v[0] == lun]:
                del self._unanswered[xid]
            self._to_edge(Rio(kind=RioKind.DPOK, source=rio.source, target=rio.target, bitmap=frozenset(pair.bitmap)),
                          Tag.RESYNC_DPOK_FROM_TARGET)
        elif kind is RioKind.RESYNC:
            self._set_state(pair, Event.RESYNC, Tag.RESYNC_DPOK_FROM_TARGET)
            pair.takeover = False
            # 1213 goes with the DPOK but stays marked until Duplex: the DPOK may be lost, or
            # come back after the source edge gave the resync up (fuzz seeds 1123 and 4234)
            self._to_edge(Rio(kind=RioKind.DPOK, source=rio.source, target=rio.target, bitmap=frozenset(pair.bitmap)),
                          Tag.RESYNC_DPOK_FROM_TARGET)
        elif kind is RioKind.SUSPEND and rio.mode == CopyMode.ASYNC:  # Suspending: the held entries still come
            if (pair.state, Event.SUSPEND_ASYNC) in TRANSITIONS:
                self._set_state(pair, Event.SUSPEND_ASYNC, None)
        elif kind is RioKind.SUSPEND:
            self._set_state(pair, Event.FAIL if rio.failure else Event.SUSPEND,
                            Tag.LIFE_REMOTE_COPY_FAILED if rio.failure else None)
            if not rio.failure:
                self._to_edge(Rio(kind=RioKind.SOK, source=rio.source, target=rio.target))
        elif kind is RioKind.SOK:  # failover completes (1310, 1311)
            self._answered(lun, RioKind.SOK)
            self._set_state(pair, Event.FAIL, Tag.FAILOVER_TARGET_STATE)
            pair.takeover = True
            self._answer_waiting(pair, RioKind.SOK, rio, step=Tag.FAILOVER_TARGET_STATE)
        elif kind is RioKind.DELETE:
            self._forget(lun, pair, Party.TARGET_STORAGE)
            self._to_edge(Rio(kind=RioKind.DELOK, source=rio.source, target=rio.target))
        else:
            self.malformed += 1

    def _as_source(self, rio: Rio) -> None:
        """The answer to a pair command, or a failure notice, for a pair this storage is
        the source of (a WROK is ``_write_answered``)."""
        kind = rio.kind
        pair = self.pairs.get(rio.source.lun)
        if pair is None or pair.role is not Role.SOURCE:
            return  # an answer for a pair deleted meanwhile
        self._answered(pair.local.lun, kind)
        if rio.error:
            self.emit("rio-error", None, kind=str(kind), error=rio.error)
            if kind is RioKind.ICOK:
                del self.pairs[rio.source.lun]
            elif kind is RioKind.SOK and pair.state is S.SUSPENDING:
                # the edge refused the suspend: it holds the pair in failure Suspend already
                # (we missed its word, say over a cut FC link); suspended either way
                self._set_state(pair, Event.FAIL, None)
            self._answer_waiting(pair, kind, rio, ScsiStatus.ERROR, rio.error)
            return
        if kind is RioKind.ICOK:  # 1011, 1012, then the initial copy 1013
            self._set_state(pair, Event.CREATE, Tag.CREATE_SOURCE_STATE)
            self._answer_waiting(pair, RioKind.ICOK, rio, step=Tag.CREATE_HOST_ANSWERED)
            volume = self.volumes[pair.local.lun]
            self._start_copy(pair, sorted(volume.blocks), CopyKind.INITIAL)
        elif kind is RioKind.DOK:  # 1110
            self._set_state(pair, Event.DUPLEX, Tag.DUPLEX_SOURCE_STATE)
            if pair.state is S.DUPLEX:
                self.emit("pair-duplex", Tag.LIFE_PAIR_DUPLEX, pair=f"{pair.source}>{pair.target}")
        elif kind is RioKind.DPOK:  # 1211, 1212, then the differential copy
            pair.swap_unconfirmed = False
            before = len(pair.bitmap)
            pair.bitmap |= rio.bitmap
            self.emit("bitmap-merged", Tag.RESYNC_STORAGE_MERGE, pair=f"{pair.source}>{pair.target}", own=before,
                      received=len(rio.bitmap), merged=len(pair.bitmap))
            self._set_state(pair, Event.RESYNC, Tag.RESYNC_SOURCE_STATE)
            self._answer_waiting(pair, RioKind.DPOK, rio, step=Tag.RESYNC_SOURCE_STATE)
            self._start_copy(pair, sorted(hand_over(pair.bitmap)), CopyKind.DIFFERENTIAL)
        elif kind is RioKind.SOK:
            if pair.state is S.SUSPENDING:
                self._set_state(pair, Event.SUSPENDED, None)
            self._answer_waiting(pair, RioKind.SOK, rio)
        elif kind is RioKind.SUSPEND and rio.failure:  # 908: the edge says remote copy cannot go on
            self._cancel_notify(pair.local.lun)
            self._stop_copy(pair)
            if rio.full:  # the edge lost its log: nobody knows which writes are missing on the target
                volume = self.volumes[pair.local.lun]
                pair.bitmap.update(volume.blocks)
                self.emit("bitmap-full", None, pair=f"{pair.source}>{pair.target}", blocks=len(pair.bitmap))
            self._set_state(pair, Event.FAIL, Tag.LIFE_REMOTE_COPY_FAILED)
            for xid, waiting in list(self._sync_waiting.items()):
                del self._sync_waiting[xid]
                self._answer(*waiting, Rio(kind=RioKind.WROK, source=pair.local, target=pair.local))
