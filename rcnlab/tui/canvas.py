"""A character canvas: put strings with styles at cells, get Rich ``Text`` lines.
The topology map and the pair-state diagram draw on it."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = max(1, width), max(1, height)
        self.chars = [[" "] * self.width for _ in range(self.height)]
        self.styles: list[list[Style | str | None]] = [[None] * self.width for _ in range(self.height)]

    def put(self, x: int, y: int, text: str, style: Style | str | None = None) -> None:
        if not 0 <= y < self.height:
            return
        row, srow = self.chars[y], self.styles[y]
        for i, ch in enumerate(text):
            cx = x + i
            if 0 <= cx < self.width:
                row[cx] = ch
                srow[cx] = style

    def get(self, x: int, y: int) -> str:
        if 0 <= y < self.height and 0 <= x < self.width:
            return self.chars[y][x]
        return ""

    def hline(self, x0: int, x1: int, y: int, ch: str, style: Style | str | None = None) -> None:
        if x1 < x0:
            x0, x1 = x1, x0
        for x in range(x0, x1 + 1):
            self.put(x, y, ch, style)

    def vline(self, x: int, y0: int, y1: int, ch: str, style: Style | str | None = None) -> None:
        if y1 < y0:
            y0, y1 = y1, y0
        for y in range(y0, y1 + 1):
            self.put(x, y, ch, style)

    def to_text(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for y in range(self.height):
            row, srow = self.chars[y], self.styles[y]
            start = 0
            for x in range(1, self.width + 1):
                if x == self.width or srow[x] != srow[start]:
                    out.append("".join(row[start:x]), srow[start] or "")
                    start = x
            if y < self.height - 1:
                out.append("\n")
        return out
