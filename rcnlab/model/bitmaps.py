"""Differential bitmaps: the blocks a pair must copy again. The source storage keeps
1211, the target storage 1213, each edge 727 (held entries it gave up on, writes
it took while suspended). A resync (Fig. 12) gathers them all at the source
storage: the target storage hands 1213 over with DPOK (1206), the source edge
merges its 727 into it (1209), the source storage merges the result into 1211
(1211) and copies the union (1212)."""

from __future__ import annotations

from collections.abc import Set


def hand_over(bitmap: set[int], received: Set[int] = frozenset()) -> frozenset[int]:
    """The blocks ``bitmap`` marks, with those ``received`` from the other side, to
    send on; ``bitmap`` is left empty (the blocks travel now, whoever copies them)."""
    blocks = frozenset(bitmap | received) if received else frozenset(bitmap)
    bitmap.clear()
    return blocks
