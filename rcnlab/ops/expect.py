"""The scenario's own steps: ``expect`` (what must hold now; each problem is one line)
and ``note``. A walkthrough's checkpoints make the same checks (`problems`).

What a run's outcome is made of (``rcnlab run`` exits 1 when any is there): expectations
that did not hold (``lab.failed``), steps refused (``lab.refused``), invariant violations,
and pair commands that failed (``lab.failed_commands``) unless an ``expect`` step with
``command_failed`` said they would."""

from __future__ import annotations

from rcnlab.check.invariants import check_all
from rcnlab.lab import CommandHandle, Lab, LabError
from rcnlab.model.pair_state import PairState
from rcnlab.ops.commands import Expect, Note
from rcnlab.world import PARTIES

STATES = {s.value: s for s in PairState}


def problems(lab: Lab, want: Expect) -> list[str]:
    """What does not hold of ``want`` now, one line each (only the keys given are checked)."""
    found: list[str] = []
    net = lab.net
    pair, state, party = want.pair, want.state, want.party
    if state is not None:
        if state not in STATES:
            return [f"unknown state {state!r} (known: {', '.join(STATES)})"]
        if pair is None:
            return ["expect: 'state' needs 'pair' (the source volume, STORAGE:LUN)"]
        try:
            states: tuple[PairState, ...] = net.pair_view(*lab.pair_of(pair)).states
        except LabError as exc:
            states = (PairState.SIMPLEX,) * len(PARTIES)
            if state != "Simplex":
                return [f"pair {pair}: {exc}"]
        for who, have in zip(PARTIES, states):
            if party is not None and who.value != party:
                continue
            if have.value != state:
                found.append(f"pair {pair}: {who.value} is {have.value}, expected {state}")
    if want.equal:
        digests = {}
        for name in want.equal:
            storage, ref = lab.volume(name)
            digests[name] = storage.volumes[ref.lun].digest()
        if len(set(digests.values())) > 1:
            found.append("volumes differ: " + ", ".join(f"{k}={v[:12]}" for k, v in digests.items()))
    if want.remaining is not None:
        held = sum(e.log_entries for e in net.edges) + sum(c.held for c in net.cores)
        if held != want.remaining:
            found.append(f"{held} log entries remain in the network, expected {want.remaining}")
    if want.writes_acknowledged is not None:
        acked = sum(h.acknowledged for h in net.hosts)
        if acked != want.writes_acknowledged:
            found.append(f"{acked} writes acknowledged, expected {want.writes_acknowledged}")
    if want.command_failed is not None and not _failed_like(lab, want.command_failed):
        failed = "; ".join(h.line() for h in lab.failed_commands()) or "none"
        found.append(f"expected a failed command matching {want.command_failed!r}; failed so far: {failed}")
    if want.invariants:
        for name, ok in check_all(net).items():
            if not ok:
                found.append(f"invariant {name} does not hold")
    return found


def expect(lab: Lab, c: Expect) -> None:
    """Check now; a problem is a line of ``lab.failed``, a pass counts in ``lab.passed``."""
    net = lab.net
    found = problems(lab, c)
    if c.command_failed is not None:
        for handle in _failed_like(lab, c.command_failed):
            handle.expected = True
    if found:
        t = net.kernel.now
        lab.failed.extend(f"t={t:.6f}: {p}" for p in found)
        net.management.emit("expectation-failed", None, problems=found)
    else:
        lab.passed += 1
        net.management.emit("expectation-passed", None, pair=c.pair, state=c.state)


def _failed_like(lab: Lab, text: str) -> list[CommandHandle]:
    """The failed commands whose line holds ``text``."""
    return [h for h in lab.failed_commands() if text in h.line()]


def unexpected_failures(lab: Lab, final: bool = True) -> list[CommandHandle]:
    """The pair commands that failed (``final``: or were never answered) and that no
    ``expect`` step said would fail."""
    return [h for h in lab.failed_commands(final) if not h.expected]


def note(lab: Lab, c: Note) -> None:
    lab.net.management.emit("note", None, text=c.text)
