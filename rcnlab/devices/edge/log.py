"""The log storage area 413: log entries 211 an edge keeps.

The source edge's share (``HeldLog``): entries kept until their answers return
(1908), so they can be sent again (908). Compact, because a backlog may hold a
great many: per order assurance ID, the entries by sequence number (the key is
the entry's own number), in the order they were (re)sent. An entry's send time
is its I/O time (804) until it is sent again; only entries resent or sent again
keep a (send time, resends) record. Read as a mapping ``(order_id, seq) ->
Held(entry, sent_at, resends)`` (records built on demand), it iterates in send
order: by send time, and at equal times by group, then as sent.

The target edge's share (``Inbound``, one per order assurance ID): entries
waiting for their turn (2003) and the one being reflected.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, MutableMapping

import attrs

from rcnlab.model.log_entry import LogEntry

Key = tuple[int, int]
#: What ``HeldLog.resends`` says of an entry the target edge has receipted (RioKind.RECEIPT):
#: kept there, queued behind others (not lost: it is not sent again while one before it
#: is unanswered); or refused for now as beyond its reorder window (it waits until the
#: entry a window before it is answered).
QUEUED, WAITING = -1, -2


@attrs.define(eq=False)
class Held:
    """A log entry the source edge keeps until its answer returns (1908). A record
    read from (or written into) a HeldLog: changing one in place changes nothing."""

    entry: LogEntry
    sent_at: float
    resends: int = 0


@attrs.define(eq=False)
class Inbound:
    """The target edge's share of 413 for one order assurance ID: entries waiting by
    sequence number (O(1) look-up of reflection counter 733 + 1) and the one being
    reflected."""

    pending: dict[int, LogEntry] = attrs.field(factory=dict)
    in_progress: LogEntry | None = None
    since: float = 0.0  # when the entry in progress went to the storage
    parked: LogEntry | None = None  # a rebasing entry waiting for the storage's answer to the one in progress


class HeldLog(MutableMapping[Key, Held]):
    __slots__ = ("_groups", "_sent", "_len")

    def __init__(self) -> None:
        self._groups: dict[int, dict[int, LogEntry]] = {}  # order ID -> seq -> entry, in send order
        self._sent: dict[Key, tuple[float, int]] = {}  # entries sent again: key -> (sent at, resends)
        self._len = 0

    # -- what the edge does ----------------------------------------------------------
    def add(self, entry: LogEntry) -> None:
        """A new entry, sent now (its I/O time)."""
        group = self._groups.get(entry.order_id)
        if group is None:
            group = self._groups[entry.order_id] = {}
        if entry.seq not in group:
            self._len += 1
        group[entry.seq] = entry

    def take(self, order_id: int, seq: int) -> LogEntry | None:
        """Remove and return the entry an answer is for (None if it is not held)."""
        group = self._groups.get(order_id)
        if group is None:
            return None
        entry = group.pop(seq, None)
        if entry is not None:
            self._len -= 1
            if self._sent:
                self._sent.pop((order_id, seq), None)
        return entry

    def sent_at(self, entry: LogEntry) -> float:
        if self._sent:
            got = self._sent.get((entry.order_id, entry.seq))
            if got is not None:
                return got[0]
        return entry.io_time

    def resends(self, entry: LogEntry) -> int:
        got = self._sent.get((entry.order_id, entry.seq)) if self._sent else None
        return got[1] if got is not None else 0

    def sent_again(self, entry: LogEntry, now: float, resends: int, move: bool = True) -> None:
        """The entry went out again at ``now`` (``move``: it goes to the end of the send order)."""
        group = self._groups[entry.order_id]
        if move:
            del group[entry.seq]
            group[entry.seq] = entry
        if resends == 0 and now == entry.io_time:
            self._sent.pop((entry.order_id, entry.seq), None)
        else:
            self._sent[(entry.order_id, entry.seq)] = (now, resends)

    def turn_comes(self, order_id: int, seq: int, now: float) -> None:
        """The entry before ``seq`` is answered: if ``seq`` is receipted as queued, the target
        edge reflects it next, and its answer is due counting from ``now``."""
        key = (order_id, seq)
        got = self._sent.get(key) if self._sent else None
        if got is not None and got[1] == QUEUED:
            self._sent[key] = (now, QUEUED)

    def group(self, order_id: int) -> list[LogEntry]:
        """The group's entries, in send order."""
        group = self._groups.get(order_id)
        return list(group.values()) if group else []

    def entries(self) -> Iterator[LogEntry]:
        """Every entry, in send order."""
        groups = [g for g in self._groups.values() if g]
        if len(groups) == 1:
            yield from list(groups[0].values())
            return
        yield from heapq.merge(*(list(g.values()) for g in groups), key=self.sent_at)

    def oldest(self) -> LogEntry:
        """The entry sent longest ago (the first in send order); the log must not be empty."""
        best: LogEntry | None = None
        best_t = 0.0
        for group in self._groups.values():
            if group:
                entry = next(iter(group.values()))
                t = self.sent_at(entry)
                if best is None or t < best_t:
                    best, best_t = entry, t
        if best is None:
            raise LookupError("the log storage area is empty")
        return best

    # -- the mapping view ---------------------------------------------------------------
    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Key]:
        for entry in self.entries():
            yield (entry.order_id, entry.seq)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        group = self._groups.get(key[0])
        return group is not None and key[1] in group

    def __getitem__(self, key: Key) -> Held:
        group = self._groups.get(key[0])
        entry = group.get(key[1]) if group is not None else None
        if entry is None:
            raise KeyError(key)
        return Held(entry, self.sent_at(entry), self.resends(entry))

    def __setitem__(self, key: Key, held: Held) -> None:
        entry = held.entry
        if key != (entry.order_id, entry.seq):
            raise ValueError(f"held entry {entry.order_id}.{entry.seq} under key {key}")
        self.add(entry)
        self.sent_again(entry, held.sent_at, held.resends, move=False)

    def __delitem__(self, key: Key) -> None:
        if self.take(*key) is None:
            raise KeyError(key)

    def clear(self) -> None:
        self._groups = {}
        self._sent = {}
        self._len = 0

    def __repr__(self) -> str:
        return f"HeldLog({self._len} entries)"
