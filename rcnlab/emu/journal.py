"""The journal: frozen, past-tense trace events, each tagged with the patent's step.

Devices publish to it; the JSON trace, the checkers, the TUI and the sequence
chart read it. When nobody listens, devices skip building events at all
(``journal.active`` is False).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable
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
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str)


def short_digest(data: bytes) -> str:
    """A short digest of a block's data, for traces."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


Sink = Callable[[TraceEvent], None]
_new = tuple.__new__


class Journal:
    """Keeps the last ``keep`` events and hands every event to its sinks."""

    def __init__(self, keep: int = 0) -> None:
        self.recent: deque[TraceEvent] = deque(maxlen=keep or None) if keep else deque(maxlen=0)
        self._sinks: list[Sink] = []
        self.count = 0
        self.active = keep > 0

    def subscribe(self, sink: Sink) -> Callable[[], None]:
        self._sinks.append(sink)
        self.active = True

        def unsubscribe() -> None:
            self._sinks.remove(sink)
            self.active = bool(self._sinks) or self.recent.maxlen != 0

        return unsubscribe

    def record(self, t: float, device: str, event: str, step: str | None, fields: dict[str, Any]) -> None:
        ev = _new(TraceEvent, (t, device, event, step, fields))
        self.count += 1
        self.recent.append(ev)
        for sink in self._sinks:
            sink(ev)


class TraceDigest:
    """The sha256 of the JSON-lines trace (what ``--trace`` writes), without writing it."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def __call__(self, ev: TraceEvent) -> None:
        self._hash.update(ev.to_json().encode())
        self._hash.update(b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class JsonLinesSink:
    """Writes every event as one JSON line."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def __call__(self, ev: TraceEvent) -> None:
        self.out.write(ev.to_json())
        self.out.write("\n")
