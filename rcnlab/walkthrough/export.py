"""A walkthrough's message sequence, with a note for each step, as Mermaid or SVG.

By default every played step is drawn with its first ``PER_STEP`` messages (an initial
copy sends thousands). Choosing a part (``steps``, the 0-based step indices, and/or a
``Window`` of virtual time) draws every message of that part, up to ``LIMIT`` in all.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from rcnlab.export import LIMIT, WHOLE, Message, Note, Sent, Window, participants, write
from rcnlab.walkthrough.engine import Player

#: Messages drawn per step at most (an initial copy sends thousands); the rest are counted.
PER_STEP = 40
#: Resent and dropped messages drawn beyond PER_STEP, so that a failure shows.
RARE = 8


def walkthrough_sequence(player: Player, per_step: int | None = PER_STEP, window: Window = WHOLE,
                         steps: Collection[int] | None = None) -> tuple[list[Message], list[Note]]:
    """The played steps' messages (those of ``steps`` sent within ``window``), each step
    headed by a note (its number, figure and title)."""
    msgs: list[Message] = []
    notes: list[Note] = []
    for result in player.results:
        if steps is not None and result.index not in steps:
            continue
        step = player.steps[result.index]
        mine = [m for m in player.messages_of(result.index) if m.t in window]
        if not mine and not window.whole:
            continue
        head = f"Step {result.index + 1}: {step.heading() or 'narration'}"
        if step.title:
            head += f" - {step.title}"
        notes.append(Note(before=len(msgs), text=head))
        if per_step is None or len(mine) <= per_step:
            shown = mine
        else:
            # the first messages, plus the first few resends and drops after them (they come late)
            rare = [i for i in range(per_step, len(mine)) if mine[i].kind is not Sent.FIRST or mine[i].dropped][:RARE]
            shown = [mine[i] for i in sorted([*range(per_step), *rare])]
        msgs += shown
        if len(shown) < len(mine):
            notes.append(Note(before=len(msgs), text=f"... {len(mine) - len(shown)} more messages in this step"))
    return msgs, notes


def export_walkthrough(player: Player, path: str | os.PathLike[str], per_step: int | None = PER_STEP,
                       window: Window = WHOLE, steps: Collection[int] | None = None) -> int:
    """Write the played part of a walkthrough (.svg: SVG, else Mermaid); return the messages
    drawn. With a part chosen (``window``, ``steps``) every message of it is drawn, up to LIMIT."""
    chosen = steps is not None or not window.whole
    msgs, notes = walkthrough_sequence(player, None if chosen else per_step, window, steps)
    title = player.wt.title
    if chosen:
        part = [f"step{'s' if len(steps) > 1 else ''} {', '.join(str(i + 1) for i in sorted(steps))}"] if steps else []
        title += f" ({'; '.join(part + ([window.describe()] if not window.whole else []))})"
    write(path, msgs, participants(msgs, player.wt.topology), notes, title, limit=LIMIT if chosen else None)
    return min(len(msgs), LIMIT) if chosen else len(msgs)
