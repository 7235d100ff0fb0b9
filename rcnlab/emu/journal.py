"""The journal: frozen, past-tense trace events, each tagged with the patent's step.

Devices publish to it; the JSON trace, the checkers, the TUI and the sequence
chart read it. A reader subscribes to every event (a trace, the TUI's recent
list) or to the events it names (the checker follows a dozen of the thirty-odd a
write makes). Devices build an event only when someone hears it
(``event in journal.heard``; ``journal.active`` says anyone listens at all), and
the one event built goes to every reader that hears it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import deque
from collections.abc import Callable, Collection, Container
from typing import IO, Any, NamedTuple


class TraceEvent(NamedTuple):
    """One event, immutable. (A named tuple: a busy lab records tens of them per write,
    and building a tuple is the cheapest way Python has.)"""

    t: float
    device: str
    event: str
    step: str | None
    fields: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 9), "device": self.device, "event": self.event, "step": self.step, **self.fields}

    def to_json(self) -> str:
        return _encode(self.to_dict())


#: ``json.dumps(d, separators=(",", ":"), default=str)``, its encoder made once.
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode


@functools.lru_cache(maxsize=4096)
def short_digest(data: bytes) -> str:
    """A short digest of a block's data, for traces. (Cached: a write's data is digested
    at the host, both storages and the edge, and a bytes object keeps its hash.)"""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


Sink = Callable[[TraceEvent], None]
_new = tuple.__new__


class Everything:
    """``heard`` when some reader takes every event: every name is in it."""

    __slots__ = ()

    def __contains__(self, name: object) -> bool:
        return True


EVERYTHING = Everything()
NOTHING: frozenset[str] = frozenset()


class Journal:
    """Keeps the last ``keep`` events and hands every event to the sinks that hear it."""

    def __init__(self, keep: int = 0) -> None:
        self.recent: deque[TraceEvent] = deque(maxlen=keep or None) if keep else deque(maxlen=0)
        self._subscribed: list[tuple[Sink, frozenset[str] | None]] = []  # in order; None: every event
        self._every: list[Sink] = []  # sinks of every event
        self._routes: dict[str, list[Sink]] = {}  # event -> the sinks that hear it, in subscription order
        self.count = 0
        self.heard: Container[str] = NOTHING  # the events someone hears (`EVERYTHING` when anyone hears all)
        self.active = False  # anyone hears anything
        self._route()

    def subscribe(self, sink: Sink, events: Collection[str] | None = None) -> Callable[[], None]:
        """Hand ``sink`` the events named in ``events`` (every event if None); returns the
        function that unsubscribes it."""
        sub = (sink, None if events is None else frozenset(events))
        self._subscribed.append(sub)
        self._route()

        def unsubscribe() -> None:
            self._subscribed.remove(sub)
            self._route()

        return unsubscribe

    def _route(self) -> None:
        every = [sink for sink, names in self._subscribed if names is None]
        named = {name for _, names in self._subscribed if names is not None for name in names}
        self._every = every
        self._routes = {name: [sink for sink, names in self._subscribed if names is None or name in names]
                        for name in named}
        keeps = self.recent.maxlen != 0
        self.heard = EVERYTHING if every or keeps else frozenset(named)
        self.active = bool(every or keeps or named)

    def record(self, t: float, device: str, event: str, step: str | None, fields: dict[str, Any]) -> None:
        ev = _new(TraceEvent, (t, device, event, step, fields))
        self.count += 1
        self.recent.append(ev)
        for sink in self._routes.get(event, self._every):
            sink(ev)


class TraceDigest:
    """The sha256 of the JSON-lines trace (what ``--trace`` writes), without writing it."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def __call__(self, ev: TraceEvent) -> None:
        self._hash.update(ev.to_json().encode() + b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class JsonLinesSink:
    """Writes every event as one JSON line."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def __call__(self, ev: TraceEvent) -> None:
        self.out.write(ev.to_json() + "\n")
