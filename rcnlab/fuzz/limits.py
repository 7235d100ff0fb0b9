"""How long one fuzz seed may run: a deterministic budget of events, and a wall-clock
backstop for the rare run that is merely slow.

Both are looked at each time the kernel's trio task comes back from a checkpoint (the
headless kernel takes one every 500 event times, and every 10,000 events within one event
time, after bringing its event count up to date), so the budget stops a run at the same
event on every machine, an event storm that never lets virtual time pass included; the
backstop, being wall time, does not, and is recorded as its own kind. (One event that never
returns is beyond both: nothing here can interrupt it.)"""

from __future__ import annotations

from time import perf_counter

import attrs
import trio

from rcnlab.emu.kernel import Kernel


class Stopped(Exception):
    """A run stopped by its limits; ``str()`` is its problem line: ``budget: ...`` or ``backstop: ...``."""


@attrs.frozen(kw_only=True)
class Limits:
    budget_events: int | None = None
    backstop_s: float | None = None
    #: A test hook: the run falls into an event storm (an event that schedules itself again
    #: at the same instant, for ever) at its first event time.
    storm: bool = False

    def watch(self, kernel: Kernel) -> None:
        """Stop ``kernel``'s coming run (with `Stopped`) when it exceeds these limits."""
        if self.budget_events is not None or self.backstop_s is not None:
            kernel.timer(0.0, lambda: trio.lowlevel.add_instrument(_Watch(self, kernel)), daemon=True)
        if self.storm:
            kernel.call_at(0.0, _storm, kernel)


NO_LIMITS = Limits()


class _Watch(trio.abc.Instrument):
    def __init__(self, limits: Limits, kernel: Kernel) -> None:
        self.limits, self.kernel, self.started = limits, kernel, perf_counter()

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        kernel, budget, backstop = self.kernel, self.limits.budget_events, self.limits.backstop_s
        where = f"at t={kernel.now:.6f} after {kernel.events_run} events"
        if budget is not None and kernel.events_run >= budget:
            stop = Stopped(f"budget: the lab has not drained {where} (--budget-events {budget})")
        elif backstop is not None and perf_counter() - self.started > backstop:
            stop = Stopped(f"backstop: {backstop:g}s of wall time ran out {where} (--backstop-s {backstop:g})")
        else:
            return
        trio.lowlevel.remove_instrument(self)
        kernel.call_at(kernel.now, _raise, stop)  # the next event the kernel runs


def _raise(stop: Stopped) -> None:
    raise stop


def _storm(kernel: Kernel) -> None:
    kernel.call_at(kernel.now, _storm, kernel)
