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
from time import perf_counter
from collections.abc import Callable, Iterator
from typing import Any

import trio
import trio.testing

#: Headless runs take a checkpoint every this many event times, and every this many events
#: of one event time (an event storm that never lets virtual time pass is stopped by its limits too).
CHECKPOINT_STEPS, CHECKPOINT_STORM = 500, 10_000
#: Paced runs give the host event loop a turn after this much wall time of events...
PACED_BUDGET = 0.004
#: ...looked at every this many steps (a step is every event of one event time).
PACED_CHECK = 32

#: A heap entry: (when, sequence, function, arguments, live); see `Kernel.call_at`.
_Entry = tuple[float, int, Callable[..., Any], tuple[Any, ...], bool]


class Timer:
    """A cancellable scheduled call. ``daemon`` timers (periodic housekeeping) do
    not keep the network from counting as drained."""

    __slots__ = ("fn", "args", "cancelled", "daemon", "kernel", "when")

    def __init__(self, kernel: Kernel, when: float, fn: Callable[..., Any], args: tuple[Any, ...],
                 daemon: bool) -> None:
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
        self._heap: list[_Entry] = []
        self._seq = 0
        self._wake: trio.Event | None = None

    # -- scheduling --------------------------------------------------------
    # Heap entries are (when, seq, fn, args, live): ``live`` says the call keeps the
    # network from counting as drained (a Timer accounts for itself, so False).
    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` at virtual time ``when`` (never earlier than now)."""
        self._seq += 1
        self.live += 1
        heapq.heappush(self._heap, (when if when > self.now else self.now, self._seq, fn, args, True))
        if self._wake is not None:
            self._wake.set()

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        self.call_at(self.now + delay, fn, *args)

    def push(self, when: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """``call_at`` for the network's hot path: ``when`` is never before now (the
        caller knows) and ``args`` come as a tuple."""
        seq = self._seq = self._seq + 1
        self.live += 1
        heapq.heappush(self._heap, (when, seq, fn, args, True))
        if self._wake is not None:
            self._wake.set()

    def timer(self, delay: float, fn: Callable[..., Any], *args: Any, daemon: bool = False) -> Timer:
        """A cancellable call ``delay`` seconds from now."""
        when = self.now + delay
        timer = Timer(self, when, fn, args, daemon)
        if not daemon:
            self.live += 1
        self._seq += 1
        entry: _Entry = (when, self._seq, timer, (), False)
        heapq.heappush(self._heap, entry)
        if self._wake is not None:
            self._wake.set()
        return timer

    @property
    def next_time(self) -> float:
        return self._heap[0][0] if self._heap else math.inf

    @property
    def pending(self) -> int:
        return len(self._heap)

    def scheduled(self) -> Iterator[tuple[float, Callable[..., Any], tuple[Any, ...]]]:
        """(time, function, arguments) of every call waiting, in no particular order (a
        timer's function is the `Timer` itself, with no arguments)."""
        return ((item[0], item[2], item[3]) for item in self._heap)

    # -- running -----------------------------------------------------------
    def step(self) -> bool:
        """Run every event due at the next event time; False when nothing is scheduled."""
        heap = self._heap
        if not heap:
            return False
        t = heap[0][0]
        self.advance_to(t)
        self._run_due(t)
        return True

    def _run_due(self, t: float) -> None:
        """Every event due at ``t``, in (time, sequence) order, in one wake-up; calls
        scheduled for ``t`` while they run join the same batch."""
        heap = self._heap
        pop = heapq.heappop
        ran = 0
        try:
            while heap and heap[0][0] <= t:
                _, _, fn, args, live = pop(heap)
                if live:
                    self.live -= 1
                ran += 1
                fn(*args)
        finally:
            self.events_run += ran

    def run_steps(self, steps: int) -> bool:
        """Run the events of up to ``steps`` event times while there is work (more than
        housekeeping), the clock brought to now once at the end, not at each step (a
        driver that looks at the wall clock between batches: the TUI at max speed).
        False when it stopped because only housekeeping (or nothing) is left."""
        heap = self._heap
        try:
            for _ in range(steps):
                if self.live <= 0 or not heap:
                    return False
                t = self.now = heap[0][0]
                self._run_due(t)
            return True
        finally:
            self._sync_clock()

    def advance_to(self, t: float) -> None:
        """Let virtual time pass to ``t`` (no event runs; a driver that stops early)."""
        self.now = t
        self._sync_clock()

    def _sync_clock(self) -> None:
        """Bring the MockClock to ``now`` (headless: the clock jumps; paced: it runs)."""
        clock = self.clock
        if clock.rate == 0:
            gap = self.now - clock.current_time()
            if gap > 0:
                clock.jump(gap)

    def drained(self) -> bool:
        return self.live <= 0

    async def run(self, until: float = math.inf, drain: bool = True, paced: bool = False) -> None:
        """Run events up to virtual time ``until``; with ``drain``, stop as soon as
        only housekeeping is left. Paced, wait for each event's time on the clock."""
        if paced:
            await self._run_paced(until, drain)
            return
        # Headless: nothing reads the clock while the heap runs, so it is brought to
        # ``now`` only when other trio tasks may look (checkpoints, the end). The batch
        # of events due at one time is ``_run_due``, inlined (cut short by a storm).
        heap = self._heap
        pop = heapq.heappop
        since_checkpoint = 0
        ran = 0
        try:
            while not (drain and self.live <= 0):
                if not heap:
                    if until < math.inf:
                        self.now = until
                    return
                t = heap[0][0]
                if t > until:
                    if until < math.inf:
                        self.now = until
                    return
                self.now = t
                storm = ran + CHECKPOINT_STORM
                while heap and heap[0][0] <= t:
                    _, _, fn, args, live = pop(heap)
                    if live:
                        self.live -= 1
                    ran += 1
                    fn(*args)
                    if ran >= storm:
                        since_checkpoint = CHECKPOINT_STEPS
                        break
                since_checkpoint += 1
                if since_checkpoint >= CHECKPOINT_STEPS:
                    since_checkpoint = 0
                    self.events_run += ran
                    ran = 0
                    self._sync_clock()
                    await trio.lowlevel.checkpoint()
        finally:
            self.events_run += ran
            self._sync_clock()

    async def _run_paced(self, until: float, drain: bool) -> None:
        """Paced: run each event at its time on the clock. The host event loop (the
        TUI's keys and redraws) gets a turn whenever this loop has held the CPU for
        ``PACED_BUDGET`` wall seconds (looked at every ``PACED_CHECK`` steps); a
        checkpoint never changes the order of events, only when the wall clock sees them."""
        since_check = 0
        began = perf_counter()
        while True:
            if drain and self.live <= 0:
                return
            t = self.next_time
            deadline = min(t, until)
            if deadline > trio.current_time():
                await self._sleep_until(deadline)
                began = perf_counter()
                since_check = 0
                continue
            if t > until:
                if until < math.inf:
                    self.advance_to(until)
                return
            self.step()
            since_check += 1
            if since_check >= PACED_CHECK:
                since_check = 0
                if perf_counter() - began >= PACED_BUDGET:
                    await trio.lowlevel.checkpoint()
                    began = perf_counter()

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
