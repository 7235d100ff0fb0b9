"""What the charts show over time, sampled from the network's views without Textual:
RPO and reflection lag (735), writes per second, each pair's copy progress (1013 or a
differential copy) with an ETA, the differential bitmaps' marked blocks (1211, 727,
1213), each edge's log storage area 413 in use, and each pair's four parties' states.

Memory stays flat however long the lab runs: a series keeps at most ``cap`` points;
when full, every other point goes and the sampling step doubles, so the charts always
span the whole run at a resolution that coarsens with its length. A pair's state
timeline keeps its last TRANSITIONS changes.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from rcnlab.model.pair_state import PairState
from rcnlab.tui import state
from rcnlab.world import World

CAP = 480
FIRST_STEP = 0.05  # virtual seconds between two samples, until the first halving
TRANSITIONS = 256
#: The bitmaps' series, in PARTIES order (source storage 1211, the edges' 727, target storage 1213).
BITMAPS = ("1211 SS", "727 SE", "727 TE", "1213 TS")
NAN = math.nan


class History:
    """Series over virtual time, all sampled at the same instants ``t``."""

    def __init__(self, cap: int = CAP, step: float = FIRST_STEP) -> None:
        self.cap, self.first_step = cap, step
        self.reset()

    def reset(self) -> None:
        self.step = self.first_step
        self.t: list[float] = []
        self.series: dict[str, list[float]] = {}
        self.timelines: dict[str, deque[tuple[float, tuple[PairState, ...]]]] = {}
        self._issued: int | None = None

    def sample(self, net: World, now: float, suspends: Any = None) -> bool:
        """Take a sample at virtual time ``now`` if a step has passed since the last one
        (and the pairs' states whenever they changed); True if one was taken."""
        if self.t and now < self.t[-1]:  # another network (walkthrough mode in or out): start afresh
            self.reset()
        views = state.pairs(net)
        for p in views:
            line = self.timelines.setdefault(p.name, deque(maxlen=TRANSITIONS))
            if not line or line[-1][1] != p.states:
                line.append((now, p.states))
        if self.t and now - self.t[-1] < self.step:
            return False
        issued = sum(h.issued for h in net.hosts)
        values: dict[str, float] = {
            "rpo": state.rpo(net, now, suspends) * 1000,
            "lag": max((g.reflection_delay for e in net.edges for g in e.groups.values() if g.reflected),
                       default=0.0) * 1000,
            "writes": (issued - self._issued) / (now - self.t[-1]) if self.t and self._issued is not None else 0.0,
        }
        self._issued = issued
        for name, blocks in zip(BITMAPS, zip(*(p.bitmaps for p in views)) if views else ((0,),) * 4):
            values[f"bitmap {name}"] = float(sum(blocks))
        for p in views:
            progress = p.progress
            values[f"copy {p.source}"] = NAN if progress is None else progress * 100
            values[f"left {p.source}"] = NAN if progress is None else float(p.copy_left)
        for edge in net.edges:
            values[f"log {edge.name}"] = edge.log_bytes / edge.spec.log_capacity * 100
        n = len(self.t)
        for name, value in values.items():
            column = self.series.get(name)
            if column is None:
                column = self.series[name] = [NAN] * n
            column.append(value)
        for name, column in self.series.items():
            if len(column) == n:
                column.append(NAN)
        self.t.append(now)
        if len(self.t) >= self.cap:
            self.t = self.t[::2]
            for name in self.series:
                self.series[name] = self.series[name][::2]
            self.step *= 2
        return True

    def names(self, prefix: str) -> list[str]:
        return [name for name in self.series if name.startswith(prefix)]

    def eta(self, volume: str) -> float | None:
        """Virtual seconds until ``volume``'s copy is done, at the rate of its recent
        samples; None when no copy runs or it does not advance."""
        left = self.series.get(f"left {volume}")
        if not left or math.isnan(left[-1]):
            return None
        i = len(left) - 1
        while i > 0 and not math.isnan(left[i - 1]) and len(left) - i < 20:
            i -= 1
        if i == len(left) - 1 or left[i] <= left[-1]:
            return None
        rate = (left[i] - left[-1]) / (self.t[-1] - self.t[i])
        return left[-1] / rate

    def timeline(self, pair: str, now: float) -> list[tuple[float, float, tuple[PairState, ...]]]:
        """``pair``'s states as (from, to, states per party) spans, the last up to ``now``."""
        line = list(self.timelines.get(pair, ()))
        return [(t, line[i + 1][0] if i + 1 < len(line) else now, states) for i, (t, states) in enumerate(line)]
