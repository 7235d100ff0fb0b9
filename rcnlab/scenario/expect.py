"""The checks an ``expect`` step makes; each problem is one line."""

from __future__ import annotations

from rcnlab.check.invariants import check_all
from rcnlab.lab import Lab, LabError
from rcnlab.model.pair_state import PairState
from rcnlab.world import PARTIES

STATES = {s.value: s for s in PairState}


def check_expectations(lab: Lab, pair: str | None, state: str | None, party: str | None,
                       equal: list[str] | None, remaining: int | None, writes_acknowledged: int | None,
                       invariants: bool | None) -> list[str]:
    problems: list[str] = []
    net = lab.net
    if state is not None:
        if state not in STATES:
            return [f"unknown state {state!r} (known: {', '.join(STATES)})"]
        if pair is None:
            return ["expect: 'state' needs 'pair' (the source volume, STORAGE:LUN)"]
        try:
            states = net.pair_view(*lab.pair_of(pair)).states
        except LabError as exc:
            states = (PairState.SIMPLEX,) * len(PARTIES)
            if state != "Simplex":
                return [f"pair {pair}: {exc}"]
        for who, have in zip(PARTIES, states):
            if party is not None and who.value != party:
                continue
            if have.value != state:
                problems.append(f"pair {pair}: {who.value} is {have.value}, expected {state}")
    if equal:
        digests = {}
        for name in equal:
            storage, ref = lab.volume(name)
            digests[name] = storage.volumes[ref.lun].digest()
        if len(set(digests.values())) > 1:
            problems.append("volumes differ: " + ", ".join(f"{k}={v[:12]}" for k, v in digests.items()))
    if remaining is not None:
        have = sum(e.log_entries for e in net.edges) + sum(c.held for c in net.cores)
        if have != remaining:
            problems.append(f"{have} log entries remain in the network, expected {remaining}")
    if writes_acknowledged is not None:
        have = sum(h.acknowledged for h in net.hosts)
        if have != writes_acknowledged:
            problems.append(f"{have} writes acknowledged, expected {writes_acknowledged}")
    if invariants:
        for name, ok in check_all(net).items():
            if not ok:
                problems.append(f"invariant {name} does not hold")
    return problems
