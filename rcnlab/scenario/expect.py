"""The checks an ``expect`` step makes; each problem is one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcnlab.lab import LabError
from rcnlab.model.pair_state import PairState

if TYPE_CHECKING:
    from rcnlab.scenario.runner import Runner

STATES = {s.value: s for s in PairState}


def check_expectations(r: Runner, pair: str | None, state: str | None, party: str | None,
                       equal: list[str] | None, remaining: int | None, writes_acknowledged: int | None,
                       invariants: bool | None) -> list[str]:
    problems: list[str] = []
    lab = r.lab
    if state is not None:
        if state not in STATES:
            return [f"unknown state {state!r} (known: {', '.join(STATES)})"]
        if pair is None:
            return ["expect: 'state' needs 'pair' (the source volume, STORAGE:LUN)"]
        try:
            storage, p = lab.pair_of(pair)
            states = lab.states(storage, p)
        except LabError as exc:
            states = {k: PairState.SIMPLEX for k in ("source_storage", "source_edge", "target_edge",
                                                      "target_storage")}
            if state != "Simplex":
                return [f"pair {pair}: {exc}"]
        for name, have in states.items():
            if party is not None and name != party:
                continue
            if have.value != state:
                problems.append(f"pair {pair}: {name} is {have.value}, expected {state}")
    if equal:
        digests = {}
        for name in equal:
            storage, ref = lab.volume(name)
            digests[name] = storage.volumes[ref.lun].digest()
        if len(set(digests.values())) > 1:
            problems.append("volumes differ: " + ", ".join(f"{k}={v[:12]}" for k, v in digests.items()))
    if remaining is not None:
        have = sum(e.log_entries for e in r.net.edges) + sum(c.held for c in r.net.cores)
        if have != remaining:
            problems.append(f"{have} log entries remain in the network, expected {remaining}")
    if writes_acknowledged is not None:
        have = sum(h.acknowledged for h in r.net.hosts)
        if have != writes_acknowledged:
            problems.append(f"{have} writes acknowledged, expected {writes_acknowledged}")
    if invariants:
        from rcnlab.check.invariants import check_all

        for name, ok in check_all(r.net).items():
            if not ok:
                problems.append(f"invariant {name} does not hold")
    return problems
