"""A run's (or a walkthrough's) message sequence as a Mermaid sequence diagram or an SVG.

The messages are the journal's "sent" events (arrows), "frame-dropped" (an arrow that
ends in a cross) and "resent" (the retransmission of a log entry whose WROK did not
come back in time, 1908, drawn dashed). Participants stand in the order of Fig. 16:
source hosts, source storage, source edge, cores, target edge, target storage, then
target hosts and the management server 103.

    export_run(journal_events, "run.mmd")           # Mermaid (any suffix but .svg)
    export_run(journal_events, "run.svg", topo)     # SVG; the topology fixes the lanes' order
    export_run(journal_events, "run.svg", topo, window=Window(start=0.2, end=0.25))

A diagram draws at most ``LIMIT`` messages (the rest are counted in a closing note):
a ``Window`` of virtual time (``--from``/``--to``) chooses which part of a long run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import attrs

from rcnlab.emu.journal import TraceEvent
from rcnlab.model.kinds import Site
from rcnlab.topo.schema import Topology

#: Messages drawn at most by default; the rest are counted in a closing note.
LIMIT = 1000


class Sent(StrEnum):
    """How a message was sent: the first time, or again (a log entry whose WROK is overdue)."""

    FIRST = "sent"
    AGAIN = "resent"


@attrs.frozen(kw_only=True)
class Message:
    t: float
    src: str
    dst: str
    what: str
    step: str | None
    kind: Sent = attrs.field(converter=Sent)
    note: str = ""  # the resend's attempt
    dropped: str = ""  # why the frame never arrived ("link down", "lost", "E105 down"), or ""

    @property
    def style(self) -> str:
        """sent, resent, dropped or resent-dropped: how it is drawn."""
        return f"{self.kind}-dropped" if self.dropped and self.kind is Sent.AGAIN else (
            "dropped" if self.dropped else self.kind)

    def label(self, with_step: bool = True) -> str:
        text = f"resent {self.what}" if self.kind is Sent.AGAIN else self.what
        extra = [x for x in (self.note, f"dropped: {self.dropped}" if self.dropped else "") if x]
        if extra:
            text += f" ({', '.join(extra)})"
        if self.step and with_step:
            text += f" [{self.step}]"
        return text


@attrs.frozen(kw_only=True)
class Window:
    """The part of a run a diagram shows: messages sent from ``start`` to ``end`` (virtual
    seconds, both included)."""

    start: float = 0.0
    end: float = math.inf

    def __contains__(self, t: float) -> bool:
        return self.start <= t <= self.end

    @property
    def whole(self) -> bool:
        return self.start <= 0 and self.end == math.inf

    def describe(self) -> str:
        """'t = 0.2 .. 0.25 s' ('' for the whole run)."""
        end = "end" if self.end == math.inf else f"{self.end:g}"
        return "" if self.whole else f"t = {self.start:g} .. {end} s"


WHOLE = Window()


@attrs.frozen(kw_only=True)
class Note:
    """A note across all lanes before message number ``before`` (a walkthrough step's heading)."""

    before: int
    text: str


Event = TraceEvent | dict[str, Any]


def _ev(e: Event) -> tuple[float, str, str, str | None, dict[str, Any]]:
    if isinstance(e, dict):
        fields = {k: v for k, v in e.items() if k not in ("t", "device", "event", "step")}
        return e["t"], e["device"], e["event"], e.get("step"), fields
    return e.t, e.device, e.event, e.step, e.fields


def messages(events: Iterable[Event]) -> list[Message]:
    """The message sequence of journal events (TraceEvent objects or their dicts)."""
    out: list[Message] = []
    resending: dict[str, str] = {}  # device -> "attempt n" for its next "sent"
    for e in events:
        t, device, event, step, f = _ev(e)
        if event == "sent":
            kind, note = (Sent.AGAIN, resending.pop(device)) if device in resending else (Sent.FIRST, "")
            out.append(Message(t=t, src=device, dst=f["to"], what=str(f["what"]), step=step, kind=kind, note=note))
        elif event == "resent":
            resending[device] = f"attempt {f.get('attempt', '?')}"
        elif event == "frame-dropped":
            last = out[-1] if out else None
            what, reason = str(f.get("what", "")), str(f.get("reason", ""))
            if f.get("fragment"):
                reason += f", fragment {f['fragment']}"
            if (last is not None and not last.dropped and last.t == t and last.src == device
                    and last.dst == f.get("to") and last.what == what):
                # dropped as it was sent (link down, frame lost): one arrow that ends in a cross
                out[-1] = attrs.evolve(last, dropped=reason)
            else:  # lost on the way (the link failed or the receiver went down meanwhile)
                out.append(Message(t=t, src=device, dst=str(f.get("to")), what=what, step=step, kind=Sent.FIRST,
                                   dropped=reason))
    return out


# -- participants -------------------------------------------------------------------------
def participants(msgs: Sequence[Message], topo: Topology | None = None) -> list[str]:
    """Everyone who sends or receives, in Fig. 16's order when the topology is known
    (else in order of first appearance, which a write's first arrows make Fig. 16's)."""
    seen = list(dict.fromkeys(n for m in msgs for n in (m.src, m.dst)))
    if topo is None:
        return seen
    rank: dict[str, tuple[int, int]] = {}
    site_rank = {Site.SOURCE: 0, Site.NETWORK: 1, Site.TARGET: 2}
    for i, h in enumerate(topo.hosts):
        rank[h.name] = ((0, 35, 60)[site_rank.get(h.site, 1)], i)
    for i, s in enumerate(topo.storages):
        rank[s.name] = ((10, 33, 50)[site_rank.get(s.site, 1)], i)
    for i, e in enumerate(topo.edges):
        rank[e.name] = ((20, 31, 40)[site_rank.get(e.site, 1)], i)
    for i, c in enumerate(topo.cores):
        rank[c.name] = (30, i)
    rank[topo.management.name] = (70, 0)
    first = {n: i for i, n in enumerate(seen)}
    return sorted(seen, key=lambda n: (*rank.get(n, (80, 0)), first[n]))


# -- Mermaid ----------------------------------------------------------------------------------
#: Mermaid arrows: solid with head (sent), solid with cross (dropped), dotted with head (resent),
#: dotted with cross (resent and dropped).
ARROWS = {"sent": "->>", "dropped": "-x", "resent": "-->>", "resent-dropped": "--x"}
_ESCAPES = {"#": "#35;", ";": "#59;", "\n": " ", "\r": " "}


def mermaid_text(text: str) -> str:
    """Text safe in a Mermaid message or note (entity codes for # and ;)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _mermaid_id(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "_"


def to_mermaid(msgs: Sequence[Message], parts: Sequence[str] | None = None, notes: Sequence[Note] = (),
               title: str | None = None, limit: int | None = LIMIT) -> str:
    parts = list(parts) if parts is not None else participants(msgs)
    ids = {p: _mermaid_id(p) for p in parts}
    lines = ["sequenceDiagram"]
    if title:
        lines.append(f"    %% {title}")
    for p in parts:
        lines.append(f"    participant {ids[p]}" + (f" as {p}" if ids[p] != p else ""))
    span = f"{ids[parts[0]]},{ids[parts[-1]]}" if len(parts) > 1 else (ids[parts[0]] if parts else "")
    by_index: dict[int, list[Note]] = {}
    for n in notes:
        by_index.setdefault(n.before, []).append(n)
    shown = msgs if limit is None else msgs[:limit]
    for i, m in enumerate(shown):
        for n in by_index.pop(i, ()):
            lines.append(f"    Note over {span}: {mermaid_text(n.text)}")
        lines.append(f"    {ids[m.src]}{ARROWS[m.style]}{ids[m.dst]}: {mermaid_text(m.label())}")
    for i in sorted(by_index):
        for n in by_index[i]:
            lines.append(f"    Note over {span}: {mermaid_text(n.text)}")
    if len(shown) < len(msgs) and parts:
        lines.append(f"    Note over {span}: {len(msgs) - len(shown)} more messages not shown")
    return "\n".join(lines) + "\n"


# -- SVG ----------------------------------------------------------------------------------------
LANE, ROW, LEFT, TOP = 150, 26, 110, 70
COLOURS = {"sent": "#1f4e79", "dropped": "#c00000", "resent": "#c55a11", "resent-dropped": "#c00000"}


def to_svg(msgs: Sequence[Message], parts: Sequence[str] | None = None, notes: Sequence[Note] = (),
           title: str | None = None, limit: int | None = LIMIT) -> str:
    """A swimlane diagram: a lifeline per participant, an arrow per message (label above,
    step tag at the left margin), notes across all lanes."""
    parts = list(parts) if parts is not None else participants(msgs)
    x = {p: LEFT + LANE // 2 + i * LANE for i, p in enumerate(parts)}
    shown = list(msgs if limit is None else msgs[:limit])
    by_index: dict[int, list[Note]] = {}
    for n in notes:
        by_index.setdefault(min(n.before, len(shown)), []).append(n)
    rows: list[Note | Message] = []
    for i, m in enumerate(shown):
        rows += by_index.pop(i, ())
        rows.append(m)
    for i in sorted(by_index):
        rows += by_index[i]
    if len(shown) < len(msgs):
        rows.append(Note(before=len(shown), text=f"{len(msgs) - len(shown)} more messages not shown"))
    longest = max((len(item.text) for item in rows if isinstance(item, Note)), default=0)
    width = max(LEFT + LANE * max(1, len(parts)) + 20, LEFT + 30 + int(6.7 * longest))
    height = TOP + ROW * (len(rows) + 1) + 20
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">',
        "<defs>",
    ]
    for kind, colour in COLOURS.items():
        out.append(f'<marker id="head-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect width="{width}" height="{height}" fill="white"/>')
    if title:
        out.append(f'<text class="title" x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>')
    bottom = height - 10
    for p in parts:
        out.append(f'<g class="lane"><rect x="{x[p] - 55}" y="30" width="110" height="24" rx="4" fill="#eef3f8" '
                   f'stroke="#1f4e79"/><text x="{x[p]}" y="46" text-anchor="middle">{escape(p)}</text>'
                   f'<line x1="{x[p]}" y1="54" x2="{x[p]}" y2="{bottom}" stroke="#999" stroke-dasharray="4 3"/></g>')
    y = TOP
    for item in rows:
        y += ROW
        if isinstance(item, Note):
            out.append(f'<g class="note"><rect x="{LEFT}" y="{y - 16}" width="{width - LEFT - 10}" height="20" '
                       f'fill="#fff8dc" stroke="#bfa100"/>'
                       f'<text x="{LEFT + 6}" y="{y - 2}">{escape(item.text)}</text></g>')
            continue
        m = item
        x1, x2 = x[m.src], x[m.dst]
        colour = COLOURS[m.style]
        dash = ' stroke-dasharray="6 3"' if m.kind is Sent.AGAIN else ""
        out.append('<g class="row">')
        if m.step:
            out.append(f'<text class="step" x="8" y="{y + 4}" fill="#555">{escape(m.step)}</text>')
        if m.dropped:
            end = x1 + (x2 - x1) * 0.8
            out.append(f'<line class="msg {m.style}" x1="{x1}" y1="{y}" x2="{end:.1f}" y2="{y}" '
                       f'stroke="{colour}"{dash}/>')
            out.append(f'<path d="M{end - 5:.1f},{y - 5} L{end + 5:.1f},{y + 5} M{end - 5:.1f},{y + 5} '
                       f'L{end + 5:.1f},{y - 5}" stroke="{colour}" stroke-width="2"/>')
        else:
            out.append(f'<line class="msg {m.style}" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}"{dash} '
                       f'marker-end="url(#head-{m.style})"/>')
        label = m.label(with_step=False)
        out.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{y - 4}" text-anchor="middle" '
                   f'fill="{colour}">{escape(label)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- files ------------------------------------------------------------------------------------
def write(path: str | os.PathLike[str], msgs: Sequence[Message], parts: Sequence[str] | None = None,
          notes: Sequence[Note] = (), title: str | None = None, limit: int | None = LIMIT) -> None:
    """SVG when the file name ends in .svg, else Mermaid. Raises OSError."""
    render = to_svg if str(path).lower().endswith(".svg") else to_mermaid
    Path(path).write_text(render(msgs, parts, notes, title, limit), encoding="utf-8")


def export_run(journal_events: Iterable[Event], path: str | os.PathLike[str], topo: Topology | None = None,
               limit: int | None = LIMIT, window: Window = WHOLE) -> int:
    """Write a run's message sequence, the messages sent within ``window``, to ``path``
    (.svg: SVG, else Mermaid); return the number of messages in the window.
    ``journal_events``: TraceEvents or their dicts (a JSON trace)."""
    msgs = [m for m in messages(journal_events) if m.t in window]
    title = f"rcnlab run: {topo.name}".rstrip(": ") if topo is not None else "rcnlab run"
    if not window.whole:
        title += f" ({window.describe()})"
    write(path, msgs, participants(msgs, topo), (), title, limit)
    return len(msgs)
