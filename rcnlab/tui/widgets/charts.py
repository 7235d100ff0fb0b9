"""Charts over virtual time (rcnlab.tui.history samples them): RPO and reflection lag
735, writes per second, copy progress with an ETA, the bitmaps' marked blocks (1211,
727, 1213), the log storage area 413 in use, and the shown pair's state timeline
(which party was in which state when). Drawn with textual-plot's PlotWidget, in the
theme's colours (they follow a change of theme)."""

from __future__ import annotations

import math
from typing import Any

from rich.markup import escape
from textual.containers import VerticalScroll
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import CategoricalAxisFormatter, DurationFormatter

from rcnlab.model.pair_state import PairState
from rcnlab.tui.history import BITMAPS, History
from rcnlab.tui.widgets.colours import theme_colour
from rcnlab.world import PairView

S = PairState
#: The state timeline's rows, bottom up (labels fit the chart's margin).
STATE_ROWS = (
    (S.SIMPLEX, "Simplex"), (S.INITIAL_COPYING, "Init-Copy"), (S.DUPLEX_PENDING, "Dup-Pend"),
    (S.DUPLEX, "Duplex"), (S.SUSPENDING, "Suspendng"), (S.SUSPEND, "Suspend"), (S.FAILURE_SUSPEND, "fail-Susp"),
)
ROW = {st: i + 1 for i, (st, _) in enumerate(STATE_ROWS)}
PARTY_TAGS = ("SS", "SE", "TE", "TS")
#: Theme variables, one per line of a chart (they read in light and dark themes alike).
PALETTE = ("text-primary", "text-warning", "text-success", "text-error", "text-accent", "text-secondary")
#: A wide enough tab shows the charts two abreast.
TWO_ABREAST = 90
#: Columns a time tick's label needs ("12.5s" and a gap).
TICK_W = 8
#: Time ticks' steps (virtual seconds): round in the unit the axis shows (s, min, h).
STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
         3600, 7200, 18000, 36000, 86400)


def number(v: float) -> str:
    """A legend's value: whole above 1,000 (1,234,567), else three significant digits."""
    return "-" if math.isnan(v) else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


class Chart(PlotWidget, can_focus=False):
    """One chart: a time axis in virtual seconds, its title and legend on its border.
    Not focusable and not zoomable: its keys stay the lab's."""

    DEFAULT_CSS = """
    Chart { height: 12; border: round $primary 50%; border-subtitle-align: right; }
    """

    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.border_title = title

    def on_mount(self) -> None:
        self.margin_top, self.margin_bottom, self.margin_left = 0, 1, 10
        self.set_x_formatter(DurationFormatter())

    def colour(self, i: int) -> str:
        return theme_colour(self, PALETTE[i % len(PALETTE)], "white")

    def span(self, t: list[float], now: float) -> None:
        """The time axis: from the first sample to now (every chart alike), its ticks at
        a round step, as many as fit the width without their labels touching."""
        start = t[0] if t else 0.0
        end = max(now, start + 1.0)
        self.set_xlimits(start, end)
        fit = max(2, (self.size.width - self.margin_left) // TICK_W)
        step = next((step for step in STEPS if (end - start) / step <= fit), STEPS[-1])
        self.set_xticks([i * step for i in range(math.ceil(start / step), math.floor(end / step) + 1)])

    def lines(self, t: list[float], now: float, series: list[tuple[str, list[float]]], note: str = "") -> None:
        """Draw each (label, values) over ``t``; the legend, with the latest values (and
        ``note``), on the border."""
        self.clear()
        self.span(t, now)
        legend = []
        for i, (label, values) in enumerate(series):
            colour = self.colour(i)
            if len(t) > 1:
                self.plot(t, values, line_style=colour, hires_mode=HiResMode.BRAILLE)
            last = values[-1] if values else math.nan
            legend.append(f"[{colour}]━ {escape(label)} {number(last)}[/]")
        top = max((v for _, vs in series for v in vs if not math.isnan(v)), default=0.0)
        self.set_ylimits(0.0, None if top > 0 else 1.0)
        self.border_subtitle = " ".join(legend) + (f" {note}" if note else "")


class Charts(VerticalScroll):
    """The charts tab. Its six plots (some forty widgets, half the lab's screen) are built
    when the tab first comes on screen: a resize that lays the screen out again, which
    builds the panels anew, need not build them while they are hidden."""

    DEFAULT_CSS = """
    Charts { layout: grid; grid-size: 2; grid-rows: 12; height: 1fr; }
    Charts.-one { grid-size: 1; }
    """

    def __init__(self, history: History, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.ready = False  # built and mounted
        self._asked = False

    async def _build(self, now: float, pair: PairView | None) -> None:
        await self.mount_all([Chart("RPO and lag 735 (ms)", id="chart-rpo"), Chart("pair states", id="chart-states"),
                              Chart("writes/s", id="chart-writes"), Chart("copy progress (%)", id="chart-copy"),
                              Chart("bitmaps: marked blocks", id="chart-bitmaps"),
                              Chart("log storage area 413 in use (%)", id="chart-log")])
        self.ready = True
        self.on_resize()
        self.update_view(now, pair)

    def on_resize(self) -> None:
        """Two abreast when wide enough; each chart as tall as the tab, from 8 to 12 rows
        (a chart taller than the tab would hide its time axis)."""
        self.set_class(self.size.width < TWO_ABREAST, "-one")
        rows = max(8, min(12, self.size.height))
        self.styles.grid_rows = str(rows)
        for chart in self.query(Chart):
            chart.styles.height = rows

    def update_view(self, now: float, pair: PairView | None) -> None:
        if not self.ready:  # the first time on screen: built, then drawn
            if not self._asked:
                self._asked = True
                self.call_later(self._build, now, pair)
            return
        h = self.history
        t, s = h.t, h.series
        self.query_one("#chart-rpo", Chart).lines(t, now, [("RPO", s.get("rpo", [])), ("lag", s.get("lag", []))])
        self.query_one("#chart-writes", Chart).lines(t, now, [("writes/s", s.get("writes", []))])
        copies = h.names("copy ")
        etas = [(name[5:], h.eta(name[5:])) for name in copies]
        note = " ".join(f"ETA {eta:.1f}s" for _, eta in etas if eta is not None)
        self.query_one("#chart-copy", Chart).lines(t, now, [(name[5:], s[name]) for name in copies], note)
        self.query_one("#chart-bitmaps", Chart).lines(t, now, [(n, s.get(f"bitmap {n}", [])) for n in BITMAPS])
        self.query_one("#chart-log", Chart).lines(t, now, [(name[4:], s[name]) for name in h.names("log ")])
        self._states(now, pair)

    def _states(self, now: float, pair: PairView | None) -> None:
        chart = self.query_one("#chart-states", Chart)
        chart.clear()
        chart.span(self.history.t, now)
        chart.set_y_formatter(CategoricalAxisFormatter([label for _, label in STATE_ROWS]))
        chart.set_ylimits(0.5, len(STATE_ROWS) + 0.5)
        if pair is None:
            chart.border_title = "pair states: no pair yet"
            chart.border_subtitle = ""
            return
        chart.border_title = f"pair states {pair.source} → {pair.target}"
        spans = self.history.timeline(pair.name, now)
        # one cell has one colour: where the four parties agree one line shows them all (in
        # the text colour); where they differ each party's own line shows in its colour
        runs: list[tuple[int | None, list[float], list[float]]] = []  # (party or None for all, xs, ys)
        for start, end, states in spans:
            lines = [(None, ROW[states[0]])] if len(set(states)) == 1 else list(enumerate(ROW[st] for st in states))
            for who, y in lines:
                run = next((r for r in reversed(runs) if r[0] == who), None)
                if run is None or run[1][-1] != start:
                    runs.append(run := (who, [], []))
                run[1].extend((start, end))
                run[2].extend((y, y))
        for who, xs, ys in runs:
            colour = theme_colour(self, "foreground", "white") if who is None else chart.colour(who)
            chart.plot(xs, ys, line_style=colour, hires_mode=HiResMode.BRAILLE)
        legend = [f"[{theme_colour(self, 'foreground', 'white')}]━ all[/]"]
        legend += [f"[{chart.colour(k)}]━ {tag}[/]" for k, tag in enumerate(PARTY_TAGS)]
        chart.border_subtitle = " ".join(legend)
