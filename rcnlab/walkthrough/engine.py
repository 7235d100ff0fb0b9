"""Plays a walkthrough step by step on a network and checks each step's checkpoints.

Headless (the CLI, the tests) a `Player` runs the kernel itself, synchronously:
``advance()`` = ``begin()`` (apply the step's action) + ``run()`` (let the network run
for ``run_for`` or until the condition holds) + ``finish()`` (check the checkpoints).

The TUI (rcnlab.tui.bridge) drives the same object with its paced kernel loop instead
of ``run()``: per step ``begin()``, then while ``due()`` gives the time of the next
event the run still takes, wait for it and ``net.kernel.step()``; then ``end_run()``
and ``finish()`` - exactly as far as ``run()`` goes. ``events_of(i)``/``messages_of(i)``
give what to highlight. Going back is ``Player.replayed(wt, upto)`` (or ``play_to``):
runs are deterministic, so a fresh network replayed up to the previous step is that
step exactly.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import trio.testing

from rcnlab.catalogue import WRITE_FIGURES, not_in_order, segments, write_instances
from rcnlab.emu.journal import Journal, TraceEvent
from rcnlab.export import Message, messages
from rcnlab.lab import LabError
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.ops.commands import Expect
from rcnlab.ops.expect import problems as unmet
from rcnlab.ops.registry import do
from rcnlab.run import Session
from rcnlab.summary import summarize
from rcnlab.walkthrough.model import Checkpoint, Condition, WalkStep, Walkthrough

#: How long "drain" and "until" may run at most, in virtual seconds, before the step fails.
DRAIN_LIMIT = 600.0
UNTIL_LIMIT = 60.0


@attrs.define(eq=False)
class StepResult:
    index: int
    t_start: float
    t_end: float = 0.0
    refused: str | None = None  # the action's refusal, one line
    problems: list[str] = attrs.Factory(list)  # checks that did not hold, one line each
    passed: list[str] = attrs.Factory(list)  # checks that held, short descriptions

    @property
    def ok(self) -> bool:
        return not self.problems


class Player:
    """A walkthrough being played: ``steps``, ``current`` (the index of the step being
    played or last played; -1 before the first), ``advance()``, ``events_of(step)``."""

    def __init__(self, wt: Walkthrough, seed: int | None = None, clock: trio.testing.MockClock | None = None,
                 keep: int = 0) -> None:
        self.wt = wt
        self.steps: tuple[WalkStep, ...] = wt.steps
        self.seed = wt.seed if seed is None else seed
        self.events: list[TraceEvent] = []
        self.spans: list[tuple[int, int]] = []  # per begun step: [first event, end event) (end -1: open)
        self.results: list[StepResult] = []
        self.current = -1
        self._seen_tags: set[str] = set()
        self._seen_events: set[str] = set()
        self.journal = Journal(keep=keep)  # keep: recent events for a viewer (the TUI's event log)
        self.journal.subscribe(self._record)
        self.session = Session.open(wt.topology, seed=self.seed, clock=clock, journal=self.journal, check=False)
        self.net = self.session.world
        self.runner = self.session.runner
        self.lab = self.session.lab
        self._deadline = math.inf

    @classmethod
    def replayed(cls, wt: Walkthrough, upto: int, seed: int | None = None) -> Player:
        """A fresh player that has played steps 0..upto (for going back)."""
        p = cls(wt, seed)
        p.play_to(upto)
        return p

    def play_to(self, upto: int) -> None:
        """Play (headless) until step ``upto`` has been played (-1: none)."""
        while self.current < upto and not self.done:
            self.advance()

    # -- the journal -------------------------------------------------------------------
    def _record(self, ev: TraceEvent) -> None:
        self.events.append(ev)
        if ev.step:
            self._seen_tags.add(ev.step)
        self._seen_events.add(ev.event)

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.steps) and self.spans[-1][1] >= 0

    @property
    def step(self) -> WalkStep:
        return self.steps[self.current]

    def events_of(self, step: int | WalkStep) -> list[TraceEvent]:
        """The journal events of a step, from its action to the end of its run (the
        first step also gets the network's configuration, 901-903)."""
        i = step.index if isinstance(step, WalkStep) else step
        if i >= len(self.spans):
            return []
        start, end = self.spans[i]
        return self.events[start:end if end >= 0 else len(self.events)]

    def messages_of(self, step: int | WalkStep) -> list[Message]:
        """The step's messages: sent, dropped and resent frames, in order."""
        return messages(self.events_of(step))

    # -- playing -----------------------------------------------------------------------
    def advance(self) -> StepResult:
        """Play the next step to its end (headless) and check it."""
        self.begin()
        self.run()
        return self.finish()

    def play(self, stop_on_failure: bool = True) -> list[StepResult]:
        while not self.done:
            r = self.advance()
            if not r.ok and stop_on_failure:
                break
        return self.results

    def begin(self) -> WalkStep:
        """Apply the next step's action; the network has not run yet."""
        if self.current + 1 >= len(self.steps):
            raise IndexError("the walkthrough is over")
        self.current += 1
        step = self.steps[self.current]
        start = 0 if self.current == 0 else len(self.events)
        self.spans.append((start, -1))
        self._seen_tags = {e.step for e in self.events[start:] if e.step}
        self._seen_events = {e.event for e in self.events[start:]}
        result = StepResult(index=step.index, t_start=self.net.kernel.now)
        self.results.append(result)
        if step.command is not None:
            self.net.management.emit("walkthrough-step", None, index=step.index, do=step.do)
            try:
                do(self.lab, step.command)
            except (LabError, IllegalCommand) as exc:
                result.refused = str(exc)
                self.net.management.emit("step-refused", None, index=step.index, do=step.do, reason=str(exc))
        now = self.net.kernel.now
        if step.run_for is not None:
            self._deadline = now + step.run_for
        else:
            self._deadline = now + (UNTIL_LIMIT if step.until else DRAIN_LIMIT)
        return step

    def settled(self) -> bool:
        """Is the current step's run over? (For a paced driver such as the TUI.)"""
        step = self.step
        k = self.net.kernel
        if step.until is not None and self._holds(step.until):
            return True
        if step.run_for is None and step.until is None:
            return k.live <= 0 or k.now >= self._deadline
        return k.now >= self._deadline

    @property
    def deadline(self) -> float:
        """The virtual time the current step's run ends at the latest (run_for, or the limit)."""
        return self._deadline

    def due(self) -> float | None:
        """The virtual time of the next kernel event the current step's run still takes, or
        None when the run is over. A paced driver (the TUI) waits until that time, calls
        ``net.kernel.step()`` and asks again; then ``end_run()`` and ``finish()``."""
        step = self.step
        k = self.net.kernel
        if step.until is not None:
            if self._holds(step.until):
                return None
        elif step.run_for is None and k.live <= 0:
            return None
        t = k.next_time
        return t if t <= self._deadline else None

    def end_run(self) -> None:
        """Close the current step's run: note a condition that never held or a network that
        did not drain; let virtual time pass to the end of ``run_for``."""
        step = self.step
        k = self.net.kernel
        if step.until is not None:
            if not self._holds(step.until):
                limit = step.run_for if step.run_for is not None else UNTIL_LIMIT
                self.results[-1].problems.append(
                    f"waited {limit:g} s for {step.until.describe()}; it never held")
        elif step.run_for is None:
            if k.live > 0:
                self.results[-1].problems.append(f"the network did not drain within {DRAIN_LIMIT:g} s")
        elif self._deadline > k.now:
            k.advance_to(self._deadline)  # let the virtual time pass to the end of run_for

    def run(self) -> None:
        """Run the network synchronously until the current step's run is over."""
        step_kernel = self.net.kernel.step
        while self.due() is not None:
            step_kernel()
        self.end_run()

    def finish(self) -> StepResult:
        """Close the current step's journal span and check its checkpoints."""
        step = self.step
        result = self.results[-1]
        start, _ = self.spans[-1]
        self.spans[-1] = (start, len(self.events))
        result.t_end = self.net.kernel.now
        events = self.events_of(step.index)
        wants_refusal = [cp.refused for cp in step.checkpoints if cp.refused not in (None, False)]
        if result.refused is not None and not wants_refusal:
            result.problems.insert(0, f"the action {step.do} was refused: {result.refused}")
        # the patent's steps this step shows must be in its trace, each figure's in order
        for fig in step.figures:
            tags = [t for t in step.tags if t.startswith(f"fig{fig}:")]
            if tags:
                problem = in_one_instance(events, tags, f"fig{fig}")
                if problem:
                    result.problems.append(problem)
                else:
                    result.passed.append(f"trace has {tags[0]}" + (f" .. {tags[-1]}" if len(tags) > 1 else ""))
        for cp in step.checkpoints:
            self._check(cp, step, result, events)
        return result

    # -- conditions and checks -------------------------------------------------------------
    def _holds(self, c: Condition) -> bool:
        if c.tag is not None:
            return c.tag in self._seen_tags
        if c.event is not None:
            return c.event in self._seen_events
        return not unmet(self.lab, Expect(pair=c.pair, state=c.state, party=c.party))

    def _check(self, cp: Checkpoint, step: WalkStep, result: StepResult, events: list[TraceEvent]) -> None:
        problems = result.problems
        before = len(problems)
        if cp.refused not in (None, False):
            if result.refused is None:
                problems.append(f"expected the action {step.do} to be refused; it was carried out")
            elif isinstance(cp.refused, str) and cp.refused not in result.refused:
                problems.append(f"expected a refusal saying {cp.refused!r}; found: {result.refused}")
            else:
                result.passed.append(f"refused: {result.refused}")
        if cp.state is not None:
            problems += unmet(self.lab, Expect(pair=cp.pair, state=cp.state, party=cp.party))
        for party, state in (cp.states or {}).items():
            problems += unmet(self.lab, Expect(pair=cp.pair, state=state, party=party))
        if cp.equal:
            problems += unmet(self.lab, Expect(equal=cp.equal))
        if cp.differ:
            digests = {}
            for name in cp.differ:
                storage, ref = self.lab.volume(name)
                digests[name] = storage.volumes[ref.lun].digest()
            if len(set(digests.values())) == 1:
                digest = next(iter(digests.values()))[:12]
                problems.append(f"expected {', '.join(cp.differ)} to differ; they are equal ({digest})")
        if isinstance(cp.remaining, tuple):
            have = sum(e.log_entries for e in self.net.edges) + sum(c.held for c in self.net.cores)
            if not _within(have, cp.remaining):
                problems.append(f"expected {_show(cp.remaining)} log entries in the network; found {have}")
        elif cp.remaining is not None:
            problems += unmet(self.lab, Expect(remaining=cp.remaining))
        if cp.writes_acknowledged is not None:
            problems += unmet(self.lab, Expect(writes_acknowledged=cp.writes_acknowledged))
        if cp.invariants:
            problems += unmet(self.lab, Expect(invariants=True))
        if cp.trace:
            problem = in_one_instance(events, cp.trace)
            if problem:
                problems.append(problem)
        for tag in cp.absent or ():
            if any(e.step == tag for e in events):
                problems.append(f"expected no {tag} in this step's trace; found one")
        for name, want in (cp.events or {}).items():
            have = sum(1 for e in events if e.event == name)
            if not _within(have, want):
                problems.append(f"expected {_show(want)} {name!r} event(s) in this step; found {have}")
        if cp.host_latency_ms is not None:
            lat = [e.fields["latency"] for e in events if e.event == "write-acknowledged"]
            if not lat:
                problems.append("expected host writes acknowledged in this step (host_latency_ms); found none")
            else:
                mean = 1000 * sum(lat) / len(lat)
                if not _within(mean, cp.host_latency_ms):
                    problems.append(f"expected mean host write latency in {_show(cp.host_latency_ms)} ms; "
                                    f"found {mean:.4f} ms ({len(lat)} writes)")
                else:
                    result.passed.append(f"host write latency {mean:.4f} ms ({len(lat)} writes)")
        if cp.lag_ms is not None:
            lag = step_lag(events)
            if lag is None:
                problems.append("expected writes reflected on the target in this step (lag_ms); found none")
            elif not _within(1000 * lag, cp.lag_ms):
                problems.append(f"expected mean lag (1902 -> reflected) in {_show(cp.lag_ms)} ms; "
                                f"found {1000 * lag:.4f} ms")
            else:
                result.passed.append(f"lag {1000 * lag:.4f} ms")
        for volume, wwn in (cp.addresses or {}).items():
            try:
                _, pair = self.lab.pair_of(volume)
            except LabError as exc:
                problems.append(f"expected {volume}'s pair to address {wwn}; found: {exc}")
                continue
            if pair.remote.wwn != wwn:
                problems.append(f"expected {volume}'s pair to address {wwn}; found {pair.remote.wwn}")
            else:
                result.passed.append(f"{volume} addresses {wwn}")
        if cp.summary:
            s = summarize(self.net)
            for path, want in cp.summary.items():
                have = lookup(s, path)
                if have is _MISSING:
                    problems.append(f"summary has no {path!r}")
                elif not _within(have, want):
                    problems.append(f"expected summary {path} = {_show(want)}; found {have}")
        if len(problems) == before:
            result.passed.append(f"checkpoint {cp.index}: " + ", ".join(
                k for k, v in attrs.asdict(cp).items() if v is not None and k != "index"))


def in_one_instance(events: list[TraceEvent], tags: list[str], figure: str | None = None) -> str | None:
    """None if one instance in ``events`` (a write, or one run of a pair command's flow:
    rcnlab.catalogue) shows ``tags``: in its figure's order when ``figure`` is given, else
    in the order listed; else what is wrong (one line)."""
    seen = {e.step for e in events if e.step}
    for tag in tags:
        if tag not in seen:
            return f"expected {tag} in this step's trace; found none"
    figures = {t.split(":")[0] for t in tags}
    what = "write" if figures <= WRITE_FIGURES else "instance"
    if figure is not None:
        problem = not_in_order(events, figure, tags)
        return None if problem is None else (
            f"expected {tags[0]} .. {tags[-1]} in the patent's order in one {what} of this step's trace; "
            f"the closest has {problem}")
    if figures <= WRITE_FIGURES:
        groups = write_instances(events)
    elif len(figures) == 1:
        groups = segments(events, figures.pop())
    else:
        groups = [[e.step for e in events if e.step]]
    best = (0, tags[0])
    for group in groups:
        i = 0
        for t in group:
            if i < len(tags) and t == tags[i]:
                i += 1
        if i == len(tags):
            return None
        best = max(best, (i, tags[i]))
    i, want = best
    if i == 0:
        return f"expected {want} in one {what} of this step's trace; found none"
    return f"expected {want} after {tags[i - 1]} in one {what} of this step's trace; found it only before"


def step_lag(events: list[TraceEvent]) -> float | None:
    """Mean time from log entry creation at the source edge (1902) to reflection in the
    target volume, over the writes of these events; None when none was reflected."""
    created = {}
    for e in events:
        if e.event == "log-created" and e.step == "fig19:1902":
            created[(e.device, e.fields.get("order_id"), e.fields.get("seq"))] = e.t
    by_key = {(oid, seq): t for (_, oid, seq), t in created.items()}
    lags = [e.t - by_key[(e.fields.get("order_id"), e.fields.get("seq"))] for e in events
            if e.event == "reflected" and (e.fields.get("order_id"), e.fields.get("seq")) in by_key]
    return sum(lags) / len(lags) if lags else None


_MISSING = object()


def lookup(d: Any, path: str) -> Any:
    """'writes.mean_latency' in a nested dict; keys may hold dots or colons ('bitmaps.ST112:0')."""
    if isinstance(d, list):
        head, _, rest = path.partition(".")
        if head.isdigit() and int(head) < len(d):
            return lookup(d[int(head)], rest) if rest else d[int(head)]
        return _MISSING
    if isinstance(d, dict):
        if path in d:
            return d[path]
        for i, ch in enumerate(path):
            if ch == "." and path[:i] in d:
                found = lookup(d[path[:i]], path[i + 1:])
                if found is not _MISSING:
                    return found
    return _MISSING


def _within(have: Any, want: Any) -> bool:
    if isinstance(want, tuple):
        return isinstance(have, int | float) and want[0] <= have <= want[1]
    if isinstance(want, float) and isinstance(have, int | float) and not isinstance(have, bool):
        return math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-12)
    return have == want


def _show(want: Any) -> str:
    if isinstance(want, tuple):
        return f"[{want[0]:g}, {want[1]:g}]"
    if isinstance(want, float):
        return f"{want:g}"
    return repr(want)
