"""What a storage holds back on its edge's flow-control notice (``rcnlab.model.pace``)."""

from __future__ import annotations

from collections import deque

import attrs

from rcnlab.emu.kernel import Timer
from rcnlab.model.pace import GO, Pace
from rcnlab.model.rio import ScsiCommand


@attrs.define(eq=False)
class Pacing:
    """The edge's last notice and until when it holds; the host writes waiting, in the
    order they came (``holding``: a write that comes now may have to wait)."""

    notice: Pace = GO
    until: float = 0.0
    timer: Timer | None = None
    queue: deque[tuple[str, ScsiCommand]] = attrs.field(factory=deque)
    holding: bool = False
    held: int = 0  # host writes that waited, for the summary
