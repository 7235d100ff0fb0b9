"""The patent's numbered steps (SPEC.md section 5), each figure's in the patent's order.

Traces tag events ``figN:STEP``. The order is the order the text walks through
them, which is not always numeric (Fig. 17 updates the pair state, 1711, before
1708). The patent's misnumberings are settled as SPEC.md says: Fig. 10's ninth
step is 1009, Fig. 22's last is 2212.
"""

from __future__ import annotations

from rcnlab.model.steps import all_tags


def _catalogue() -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for tag in all_tags():
        figure, number = tag.split(":")
        out.setdefault(figure, []).append(int(number))
    return {figure: tuple(numbers) for figure, numbers in out.items()}


#: Each figure's step numbers, in the patent's order (read from ``rcnlab.model.steps``).
CATALOGUE: dict[str, tuple[int, ...]] = _catalogue()

TITLES = {
    "fig9": "Fig. 9 life cycle",
    "fig10": "Fig. 10 pair creation to Initial-Copying",
    "fig11": "Fig. 11 Duplex transition",
    "fig12": "Fig. 12 resync",
    "fig13": "Fig. 13 failover",
    "fig16": "Fig. 16 write timeline",
    "fig17": "Fig. 17 source edge, pair creation",
    "fig18": "Fig. 18 source edge, Duplex transition",
    "fig19": "Fig. 19 source edge, write",
    "fig20": "Fig. 20 target edge, write",
    "fig21": "Fig. 21 target edge, pair creation",
    "fig22": "Fig. 22 target edge, Duplex transition",
}


def tags(figure: str) -> list[str]:
    return [f"{figure}:{n}" for n in CATALOGUE[figure]]


def missing(seen_in_order: list[str], figure: str) -> list[str]:
    """The figure's steps that ``seen_in_order`` (trace step tags, in trace order) lacks."""
    seen = set(seen_in_order)
    return [t for t in tags(figure) if t not in seen]


def not_in_order(seen_in_order: list[str], figure: str) -> str | None:
    """The first of the figure's steps that does not follow its predecessor in the
    trace (the steps must occur as a subsequence in the patent's order), or None."""
    wanted = tags(figure)
    i = 0
    for tag in seen_in_order:
        if i < len(wanted) and tag == wanted[i]:
            i += 1
    return None if i == len(wanted) else wanted[i]
