"""The pair panel: the pair-state machine of SPEC.md section 2 as a diagram, the
four parties' current states marked on it (SS source storage, SE source edge,
TE target edge, TS target storage), the copy's progress during Initial-Copying and
Duplex-Pending, and the differential bitmaps' counts (1211, 727, 1213)."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from rcnlab.lab import Lab
from rcnlab.model.kinds import Party
from rcnlab.model.pair_state import PairState, operator_name
from rcnlab.tui.canvas import Canvas
from rcnlab.tui.widgets.colours import PARTY_ROLES, theme_colour
from rcnlab.world import PairView

S = PairState
#: Each party's tag and colour (a theme variable), in the order of `rcnlab.world.PARTIES`.
PARTIES = tuple(zip((Party.SOURCE_STORAGE, Party.SOURCE_EDGE, Party.TARGET_EDGE, Party.TARGET_STORAGE),
                    ("SS", "SE", "TE", "TS"), PARTY_ROLES))
MUTED, FAINT = Style(dim=True), Style(dim=True, italic=True)
#: Where each state sits in the diagram (column, row).
NODES: dict[PairState, tuple[int, int]] = {
    S.SIMPLEX: (1, 0),
    S.INITIAL_COPYING: (19, 0),
    S.DUPLEX: (44, 0),
    S.SUSPENDING: (19, 4),
    S.SUSPEND: (41, 4),
    S.DUPLEX_PENDING: (1, 7),
    S.FAILURE_SUSPEND: (26, 7),
}
OPERATOR_LABEL = {
    S.SIMPLEX: "SMPL",
    S.INITIAL_COPYING: "COPY",
    S.DUPLEX: "PAIR",
    S.SUSPENDING: "P/SSUS*",
    S.SUSPEND: "PSUS/SSUS",
    S.DUPLEX_PENDING: "COPY(resync)",
    S.FAILURE_SUSPEND: "PSUE/SSWS",
}
#: The transitions, drawn as (column, row, text).
ARROWS = (
    (8, 0, " ─create─▶ "),
    (34, 0, " ─copied▶ "),
    (1, 2, "▲ delete"),
    (1, 3, "│ (any)"),
    (19, 2, "│ suspend"),
    (19, 3, "▼ (async)"),
    (46, 2, "│ suspend"),
    (46, 3, "▼ (sync)"),
    (29, 4, " ─drained─▶ "),
    (15, 7, " ◀─resync─ "),
    (42, 7, "◀─fail 908"),
    (1, 9, "Suspend ─resync─▶ Duplex-Pending ─copied─▶ Duplex"),
)
DIAGRAM_W, DIAGRAM_H = 56, 10


def state_label(state: PairState, operator: bool) -> str:
    return OPERATOR_LABEL[state] if operator else str(state)


class PairPanel(Widget):
    DEFAULT_CSS = """
    PairPanel { width: 60; height: 1fr; border: round $primary 50%; padding: 0 1; }
    """

    def __init__(self, lab: Lab, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(Widget.auto_links, False)  # no links in it: Textual need not look for any in each line
        self.lab = lab
        self.pair: str | None = None  # the pair's source volume, "ST112:0"
        self.operator_names = False
        self.no_pair = "Press c to create one."  # what to do when there is none
        self.border_title = "Pair"
        self._lines = 0  # lines of the last render: the panel's height follows them
        self._text: Text | None = None
        self._shown: Text | None = None  # what update_view last drew
        #: On a small screen: the diagram without its legend row, no copy on a line of its own.
        self.compact = False

    def update_view(self) -> None:
        """Redraw if what the panel shows changed (a Duplex pair under writes stays the
        same); lay the screen out again only when the number of lines changed (a copy
        starts or ends), so a narrow screen's tab scrolls exactly when it must."""
        text = self.text()
        if text == self._shown:
            return
        self._text = self._shown = text
        lines = text.plain.count("\n")
        self.refresh(layout=lines != self._lines)
        self._lines = lines

    def show_pair(self, source: str | None) -> None:
        self.pair = source
        self._text = self._shown = None
        self.refresh()

    def describe(self) -> PairView | None:
        """The pair the panel shows (the tests read it too)."""
        views = self.lab.net.pair_views()
        if not views:
            return None
        return next((v for v in views if v.source == self.pair), views[0])

    def render(self) -> Text:
        """The text ``update_view`` made for this redraw (used once), else made now."""
        text, self._text = self._text, None
        return text if text is not None else self.text()

    def text(self) -> Text:
        try:
            info = self.describe()
        except Exception as exc:  # a view must never take the lab down
            return Text(f"(pair view unavailable: {exc})", style="red")
        op = self.operator_names
        names = "operator names (n: patent names)" if op else "patent names (n: operator names)"
        if info is None:
            canvas = self._diagram({}, op)
            out = Text.assemble(("No pair. ", "bold"), (f"{self.no_pair}\n", "bold yellow"))
            out.append(canvas.to_text())
            out.append(f"\n{names}", style="dim")
            return out
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"{info.source} → {info.target}", style="bold")
        out.append(f"  {info.mode}, order ID {info.order_id}\n")
        for i, ((party, tag, colour), device, state) in enumerate(zip(PARTIES, info.devices, info.states)):
            label = operator_name(state, party, info.takeover) if op else str(state)
            out.append(f"{tag} ", style=Style(color=theme_colour(self, colour), bold=True))
            out.append(f"{(device or '?') + ':':<7}{label:<17}")
            if i % 2:
                out.append("\n")
        progress = info.progress
        source, edge, _, target = info.bitmaps
        if progress is not None:
            width = 24
            filled = int(progress * width)
            out.append("copy ")
            out.append("█" * filled, style=theme_colour(self, "text-success", "green"))
            out.append("░" * (width - filled), style="dim")
            out.append(f" {progress:4.0%} {info.copy_done}/{info.copy_total} blocks\n")
        elif self.compact:
            out.append("copy: none  ", style="dim")
        else:
            out.append("copy: none running\n", style="dim")
        out.append(f"bitmaps: 1211 source {source} · 727 edge {edge} · 1213 target {target}\n"
                   if not self.compact else f"bitmaps 1211 {source} · 727 {edge} · 1213 {target}\n")
        out.append(self._diagram(info.by_party(), op).to_text())
        out.append("\n")
        out.append(names, style="dim")
        return out

    def _diagram(self, states: dict[Party, PairState], operator: bool) -> Canvas:
        canvas = Canvas(DIAGRAM_W, DIAGRAM_H - 1 if self.compact else DIAGRAM_H)
        for x, y, text in ARROWS:
            canvas.put(x, y, text, MUTED if y < 9 else FAINT)
        for state, (x, y) in NODES.items():
            here = [(tag, colour) for party, tag, colour in PARTIES if states.get(party) is state]
            style = Style(bold=True, reverse=True) if here else Style()
            canvas.put(x, y, state_label(state, operator), style)
            cx = x
            for tag, colour in here:
                canvas.put(cx, y + 1, tag, Style(color=theme_colour(self, colour), bold=True))
                cx += 3
        return canvas
