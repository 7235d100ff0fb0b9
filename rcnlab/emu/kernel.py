"""The kernel: one deterministic event heap driven by a trio task on a MockClock.

trio deliberately shuffles tasks that wake together, so the emulation does not
hand each device its own task: every delivery and timer goes through this heap,
ordered by ``(virtual time, sequence)`` as SimPy orders its events. One trio
task drives it. Headless, it jumps the MockClock from event to event as fast as
the CPU allows; paced (the TUI, ``run --rate``), it sleeps until each event's
time on a MockClock whose ``rate`` ties virtual to wall time, and 0 pauses.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

import trio
import trio.testing


class Timer:
    """A cancellable scheduled call. ``daemon`` timers (periodic housekeeping) do
    not keep the network from counting as drained."""

    __slots__ = ("fn", "args", "cancelled", "daemon", "kernel", "when")

    def __init__(self, kernel: Kernel, when: float, fn: Callable[..., Any], args: tuple, daemon: bool) -> None:
        self.kernel, self.when, self.fn, self.args, self.daemon = kernel, when, fn, args, daemon
        self.cancelled = False

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if not self.daemon:
                self.kernel.live -= 1

    def __call__(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if not self.daemon:
                self.kernel.live -= 1
            self.fn(*self.args)


class Kernel:
    def __init__(self, clock: trio.testing.MockClock | None = None) -> None:
        self.clock = clock or trio.testing.MockClock(rate=0)
        self.now = 0.0
        self.live = 0  # scheduled work that is not housekeeping
        self.events_run = 0
        self._heap: list[tuple[float, int, Callable[..., Any], tuple]] = []
        self._seq = 0
        self._wake: trio.Event | None = None

    # -- scheduling --------------------------------------------------------
    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` at virtual time ``when`` (never earlier than now)."""
        self._seq += 1
        self.live += 1
        heapq.heappush(self._heap, (max(when, self.now), self._seq, self._run_live, (fn, args)))
        self._poke()

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        self.call_at(self.now + delay, fn, *args)

    def timer(self, delay: float, fn: Callable[..., Any], *args: Any, daemon: bool = False) -> Timer:
        """A cancellable call ``delay`` seconds from now."""
        when = self.now + delay
        timer = Timer(self, when, fn, args, daemon)
        if not daemon:
            self.live += 1
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, timer, ()))
        self._poke()
        return timer

    def _run_live(self, fn: Callable[..., Any], args: tuple) -> None:
        self.live -= 1
        fn(*args)

    @property
    def next_time(self) -> float:
        return self._heap[0][0] if self._heap else math.inf

    @property
    def pending(self) -> int:
        return len(self._heap)

    # -- running -----------------------------------------------------------
    def step(self) -> bool:
        """Run every event due at the next event time; False when nothing is scheduled."""
        heap = self._heap
        if not heap:
            return False
        t = heap[0][0]
        self._advance_clock(t)
        pop = heapq.heappop
        while heap and heap[0][0] <= t:
            _, _, fn, args = pop(heap)
            fn(*args)
            self.events_run += 1
        return True

    def _advance_clock(self, t: float) -> None:
        self.now = t
        gap = t - self.clock.current_time()
        if gap > 0 and self.clock.rate == 0:
            self.clock.jump(gap)

    def drained(self) -> bool:
        return self.live <= 0

    async def run(self, until: float = math.inf, drain: bool = True, paced: bool = False) -> None:
        """Run events up to virtual time ``until``; with ``drain``, stop as soon as
        only housekeeping is left. Paced, wait for each event's time on the clock."""
        since_checkpoint = 0
        while True:
            if drain and self.live <= 0:
                return
            t = self.next_time
            if paced:
                deadline = min(t, until)
                if deadline > trio.current_time():
                    await self._sleep_until(deadline)
                    continue
            if t > until:
                if until < math.inf:
                    self._advance_clock(until)
                return
            self.step()
            since_checkpoint += 1
            if since_checkpoint >= 500:
                since_checkpoint = 0
                await trio.lowlevel.checkpoint()

    async def run_forever(self) -> None:
        """Paced, without end: the TUI's loop (cancel its scope to stop it)."""
        await self.run(drain=False, paced=True)

    async def _sleep_until(self, deadline: float) -> None:
        self._wake = trio.Event()
        with trio.move_on_at(deadline):
            await self._wake.wait()
        self._wake = None

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def wake(self) -> None:
        """Make a paced run look at the heap and the clock again (after a rate change
        or a command from outside)."""
        self._poke()
