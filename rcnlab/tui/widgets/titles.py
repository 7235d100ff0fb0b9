"""Border titles that shorten on purpose: a panel offers its title in a long form and
shorter ones, and shows the longest that fits its width whole (Textual would cut it
with "…", in the middle of a word or of the legend)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

#: Cells of a round border's top row that are not title: "╭─ " and " ─╮".
BORDER_CELLS = 6


def fitted(titles: Sequence[str], width: int) -> str:
    """The first of ``titles`` (longest first) that fits a panel ``width`` cells wide; the
    last one when none does."""
    room = width - BORDER_CELLS
    return next((t for t in titles if cell_len(t) <= room), titles[-1])
