"""Counters: the order assurance information 412 of every group at every edge
(731 ID, 732 creation, 733 reflection, 734 deletion, 735 reflection delay) as the
management server last collected it (502(B)), with its age, and sparklines of the
reflection delay, writes per second and log occupancy."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.table import Table
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical


from rcnlab.tui.widgets.shown import Shown
from rcnlab.tui.widgets.titles import fitted
from rcnlab.world import World

SAMPLES = 60
#: The panel's border title, longest first (`fitted`: the longest that fits).
TITLES = ("Order assurance 412 (731 ID, 732 created, 733 reflected, 734 deleted, 735 delay)",
          "Order assurance 412: 731 ID, 732-734 counters, 735 delay",
          "Order assurance 412: 731 ID, 732-734, 735 delay",
          "Order assurance 412")
BARS = " ▁▂▃▄▅▆▇█"


def spark(data: list[float], width: int) -> str:
    """A one-line sparkline scaled from 0 to the maximum (all zeros stay blank)."""
    data = data[-width:]
    top = max(data, default=0.0)
    if top <= 0:
        return "▁" * len(data)
    return "".join(BARS[max(1, round(v / top * (len(BARS) - 1)))] if v > 0 else "▁" for v in data)


class Spark(Shown):
    DEFAULT_CSS = """
    Spark { height: 1; color: $success; }
    """


class Counters(Vertical):
    DEFAULT_CSS = """
    Counters { width: 60; height: 1fr; border: round $primary 50%; padding: 0 1; }
    Counters > #groups { height: auto; }
    Counters Spark { margin-bottom: 1; }
    Counters .label { height: 1; color: $text-muted; }
    """

    def __init__(self, net: World, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.net = net
        self.border_title = TITLES[0]
        self.delay: deque[float] = deque([0.0], maxlen=SAMPLES)
        self.writes: deque[float] = deque([0.0], maxlen=SAMPLES)
        self.occupancy: deque[float] = deque([0.0], maxlen=SAMPLES)
        self._last: tuple[float, int] | None = None
        self.rows: list[tuple[str, int, int, int, int, float]] = []

    def on_resize(self, event: events.Resize) -> None:
        self.border_title = fitted(TITLES, event.size.width)

    def compose(self) -> ComposeResult:
        yield Shown("", id="groups")
        yield Shown("reflection delay 735 (ms)", id="delay-label", classes="label")
        yield Spark("", id="delay")
        yield Shown("writes/s", id="writes-label", classes="label")
        yield Spark("", id="writes")
        yield Shown("log occupancy (entries)", id="occ-label", classes="label")
        yield Spark("", id="occupancy")

    def sample(self, now: float) -> None:
        """Take one sample for the sparklines if virtual time moved."""
        issued = sum(h.issued for h in self.net.hosts)
        if self._last is None:
            self._last = (now, issued)
            return
        t0, n0 = self._last
        if now - t0 < 0.05:  # too short a window for a rate: wait for more virtual time
            return
        self._last = (now, issued)
        self.writes.append((issued - n0) / (now - t0))
        delays = [c.reflection_delay for c in self.net.management.collected.values() if c.reflected]
        self.delay.append(max(delays, default=0.0) * 1000)
        self.occupancy.append(float(sum(e.log_entries for e in self.net.edges)))

    def update_view(self, now: float) -> None:
        self.sample(now)
        collected = self.net.management.collected
        rows = [(edge, oid, g.created, g.reflected, g.deleted, g.reflection_delay)
                for (edge, oid), g in sorted(collected.items())]
        if rows != self.rows or self.query_one("#groups", Shown).shape is None:  # a new collection (502(B))
            self.rows = rows
            table = Table(box=None, padding=(0, 1), show_edge=False)
            for col in ("edge", "ID", "created", "reflected", "deleted", "delay ms"):
                table.add_column(col, justify="right" if col != "edge" else "left", no_wrap=True)
            for edge, oid, created, reflected, deleted, delay in rows:
                table.add_row(edge, str(oid), str(created), str(reflected), str(deleted), f"{delay * 1000:.3f}")
            if not rows:
                table.add_row("-", "-", "-", "-", "-", "-")
            self.query_one("#groups", Shown).show(table, len(rows))
        age = max((now - g.at for g in collected.values()), default=None)
        mgmt = self.net.management
        self.border_subtitle = (f"no report at {mgmt.name} yet (it collects every {mgmt.spec.collect_interval:g} s)"
                                if age is None else f"collected by {mgmt.name} {age * 1000:.0f} ms ago")
        for wid, data, label in (("delay", self.delay, "reflection delay 735 (ms)"),
                                 ("writes", self.writes, "writes/s"),
                                 ("occupancy", self.occupancy, "log occupancy (entries)")):
            bar = self.query_one(f"#{wid}", Spark)
            bar.show(spark(list(data), max(1, bar.size.width or SAMPLES)))
            self.query_one(f"#{wid}-label" if wid != "occupancy" else "#occ-label", Shown).show(
                f"{label}: {data[-1]:,.1f}  (max {max(data):,.1f})")
