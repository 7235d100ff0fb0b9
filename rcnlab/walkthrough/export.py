"""A walkthrough's message sequence, with a note for each step, as Mermaid or SVG."""

from __future__ import annotations

import os

from rcnlab.export import Message, Note, Sent, participants, write
from rcnlab.walkthrough.engine import Player

#: Messages drawn per step at most (an initial copy sends thousands); the rest are counted.
PER_STEP = 40
#: Resent and dropped messages drawn beyond PER_STEP, so that a failure shows.
RARE = 8


def walkthrough_sequence(player: Player, per_step: int | None = PER_STEP) -> tuple[list[Message], list[Note]]:
    """The played steps' messages, each step headed by a note (its number, figure and title)."""
    msgs: list[Message] = []
    notes: list[Note] = []
    for result in player.results:
        step = player.steps[result.index]
        mine = player.messages_of(result.index)
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


def export_walkthrough(player: Player, path: str | os.PathLike[str], per_step: int | None = PER_STEP) -> int:
    """Write the played part of a walkthrough (.svg: SVG, else Mermaid); return the messages drawn."""
    msgs, notes = walkthrough_sequence(player, per_step)
    write(path, msgs, participants(msgs, player.wt.topology), notes, player.wt.title, limit=None)
    return len(msgs)
