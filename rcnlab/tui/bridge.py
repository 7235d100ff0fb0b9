"""The bridge between the emulation (trio) and the lab's screen (Textual, asyncio).

The kernel's trio task runs in trio *guest mode* inside Textual's asyncio loop:
one process, one event loop, no polling. (trio's guest mode waits for I/O in a
helper thread of its own; nothing of the emulation runs there.) Virtual time is a
``trio.testing.MockClock``:

* paced (x0.1 .. x100): ``clock.rate`` ties virtual to wall time and the kernel
  sleeps until each event's time (``Kernel.run_forever`` in a cancel scope);
* max: the clock stands (rate 0) and the bridge steps the kernel, until only
  housekeeping timers are left (drained, where a headless run stops; then the clock
  runs at IDLE_RATE until there is work again, so virtual time never freezes), in chunks of
  about 20 ms wall time, then leaves the host loop 1 ms to itself (an asyncio
  ``call_later`` that sets a trio event through the token), so the screen and the
  keys stay responsive;
* paused: nothing runs at all, so virtual time and every counter stand exactly
  still; ``step()`` runs the events of the next event time (``Kernel.step``);
* a walkthrough step (``play_step``): the driver plays one step of a
  ``rcnlab.walkthrough.engine.Player`` at the current speed, event time by event
  time, exactly as far as the headless ``Player.run`` would (so going back by
  replaying is the same network), then pauses; ``hurry()`` finishes it at once;
* ``swap(net)``: drive another network (walkthrough mode and back). trio fixes a
  run's clock when it starts and each network's virtual time is its own clock's, so
  the guest run stops and starts again on the new network's clock.

Everything that touches the network from the UI (a Lab command, a rate change, a
step) runs *inside* trio through the trio token (``token.run_sync_soon``), then
wakes the kernel so that a sleeping deadline is recomputed. The UI awaits the
answer as an asyncio future; a refused command comes back as its exception.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import outcome
import trio
import trio.lowlevel
import trio.testing

from rcnlab.scenario.runner import Runner
from rcnlab.world import World

T = TypeVar("T")

#: The speeds offered, slowest first; ``math.inf`` is "as fast as possible".
SPEEDS: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, math.inf)
#: At max speed the kernel runs in chunks of MAX_CHUNK wall seconds, then leaves the
#: host loop MAX_GAP wall seconds to itself: a key press (which takes Textual a few
#: hops through the loop) is answered within a few chunks (measured: 25-50 ms), and the
#: screen costs the emulation about a quarter of its speed (``rcnlab bench``).
MAX_CHUNK = 0.02
MAX_GAP = 0.001
#: After a key or a click the emulation at max speed stands back for QUIET wall seconds:
#: the key's way through Textual (several turns of the host loop) and the redraw it asks
#: for then take no chunk each, so the screen answers within a frame or two. The app
#: ends the hush once the screen has been redrawn after the key's action.
QUIET = 0.5
#: At max, while nothing but housekeeping is scheduled, virtual time runs at the fastest
#: paced speed (there is nothing to run faster than the clock).
IDLE_RATE = SPEEDS[-2]


def new_clock() -> trio.testing.MockClock:
    """The virtual clock for a network the bridge will drive (standing until it starts)."""
    return trio.testing.MockClock(rate=0.0)


def speed_label(speed: float) -> str:
    if math.isinf(speed):
        return "max"
    return f"x{speed:g}"


class Bridge:
    """Runs ``net``'s kernel (and ``runner``'s scenario) as a trio guest of an asyncio loop."""

    def __init__(self, net: World, runner: Runner | None = None, *, speed: float = 1.0,
                 paused: bool = False) -> None:
        clock = net.kernel.clock
        if not isinstance(clock, trio.testing.MockClock):  # pragma: no cover - the app always passes one
            raise TypeError("the network needs a trio.testing.MockClock")
        self.net = net
        self.runner = runner
        self.clock: trio.testing.MockClock = clock
        self.speed = speed
        self.paused = paused
        self.token: trio.lowlevel.TrioToken | None = None
        self.error: BaseException | None = None  # what stopped the emulation, if it failed
        self.started: asyncio.Future[None] | None = None
        self.done: asyncio.Future[None] | None = None
        self._scope: trio.CancelScope | None = None
        self._inner: trio.CancelScope | None = None
        self._changed: trio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._job: tuple[Any, asyncio.Future[Any]] | None = None  # (player, its step's future)
        self._hurry = False
        self._chunk_end = 0.0
        self.quiet_until = 0.0  # wall time (perf_counter) until which max speed stands back
        self.quiet_paced = False  # ... and so does a paced run (its clock standing)

    # -- life cycle (asyncio side) ------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the guest run on ``loop`` (the running loop by default)."""
        loop = loop or asyncio.get_running_loop()
        self._loop = loop
        self.started = loop.create_future()
        self.done = loop.create_future()
        self.clock.rate = 0.0  # the driver sets the real rate once it runs
        trio.lowlevel.start_guest_run(
            self._root,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            run_sync_soon_not_threadsafe=loop.call_soon,
            done_callback=self._done,
            clock=self.clock,
            host_uses_signal_set_wakeup_fd=False,
        )

    def _done(self, result: outcome.Outcome) -> None:
        if isinstance(result, outcome.Error):
            self.error = result.error
        if self.started is not None and not self.started.done():
            self.started.set_result(None)
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    @property
    def running(self) -> bool:
        return self.done is not None and not self.done.done()

    async def stop(self, timeout: float = 5.0) -> None:
        """Cancel the emulation's scope and wait until trio reports it done."""
        if self.done is None or self.done.done():
            return
        if self.token is not None and self._scope is not None:
            scope = self._scope
            try:
                self.token.run_sync_soon(scope.cancel)
            except trio.RunFinishedError:
                pass
        try:
            await asyncio.wait_for(asyncio.shield(self.done), timeout)
        except asyncio.TimeoutError:  # pragma: no cover - trio never takes that long to cancel
            pass

    async def swap(self, net: World, *, speed: float, paused: bool) -> None:
        """Drive ``net`` from now on (walkthrough mode, and back to the lab). A network's
        virtual time is its own clock's and trio fixes a run's clock when the run starts,
        so the guest run stops, the old clock stands still (the network it drove keeps
        exactly its state), and a new run starts on ``net``'s clock. A walkthrough step
        still running is abandoned (its future is cancelled)."""
        clock = net.kernel.clock
        if not isinstance(clock, trio.testing.MockClock):  # pragma: no cover - walk.new_stage gives one
            raise TypeError("the network needs a trio.testing.MockClock")
        await self.stop()
        self.clock.rate = 0.0
        if self._job is not None and not self._job[1].done():
            self._job[1].cancel()
        self.net, self.clock, self.runner = net, clock, None
        self.speed, self.paused = speed, paused
        self.error = None
        self.token = self._scope = self._inner = self._changed = self._job = None
        self._hurry = False
        self.start(self._loop)
        assert self.started is not None
        await self.started

    def hush(self, seconds: float = QUIET, *, paced: bool = False) -> None:
        """The user pressed or clicked: at max speed, leave the host loop alone for ``seconds``.
        ``paced``: the screen is laid out anew (a resize): at any speed, the clock standing
        meanwhile; a hush that ends it lets the emulation go on at once."""
        wake = paced or self.quiet_paced
        self.quiet_until = time.perf_counter() + seconds
        self.quiet_paced = paced and seconds > 0
        if wake and self.token is not None:
            try:
                self.token.run_sync_soon(self._hushed)
            except trio.RunFinishedError:
                pass

    def _hushed(self) -> None:
        """Inside trio: the driver looks at the hush now (a paced run stops for it)."""
        if self.quiet_paced and self._inner is not None:
            self._inner.cancel()
        if self._changed is not None:
            self._changed.set()

    # -- calls into trio --------------------------------------------------------------------------
    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` inside trio between two kernel steps, then wake the kernel.
        The future holds its result, or the exception it raised (nothing else is touched)."""
        loop = self._loop or asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        if self.token is None or not self.running:
            fut.set_exception(RuntimeError("the emulation is not running"
                                           + (f" ({self.error!r})" if self.error else "")))
            return fut

        def inside() -> None:
            try:
                result = fn(*args)
            except Exception as exc:  # handed to the UI, never raised inside trio
                if not fut.done():
                    fut.set_exception(exc)
            else:
                if not fut.done():
                    fut.set_result(result)
            self.net.kernel.wake()
            if self._changed is not None:  # at max speed an idle driver looks for new work
                self._changed.set()

        try:
            self.token.run_sync_soon(inside)
        except trio.RunFinishedError:
            fut.set_exception(RuntimeError("the emulation has stopped"))
        return fut

    # -- time control ----------------------------------------------------------------------------
    def set_paused(self, paused: bool) -> asyncio.Future[None]:
        return self.call(self._apply, self.speed, paused)

    def set_speed(self, speed: float) -> asyncio.Future[None]:
        return self.call(self._apply, speed, self.paused)

    def faster(self) -> asyncio.Future[None]:
        return self.set_speed(next((s for s in SPEEDS if s > self.speed), SPEEDS[-1]))

    def slower(self) -> asyncio.Future[None]:
        return self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0]))

    def step(self) -> asyncio.Future[bool]:
        """Pause (if running) and run the events of the next event time."""

        def step_once() -> bool:
            self._apply(self.speed, True)
            return self.net.kernel.step()

        return self.call(step_once)

    def advance(self, until: float) -> asyncio.Future[int]:
        """Pause, then run every event up to virtual time ``until`` at once (for tests and
        demos): a deterministic way to a given moment."""

        def run_until() -> int:
            self._apply(self.speed, True)
            kernel = self.net.kernel
            n = 0
            while kernel.next_time <= until:
                kernel.step()
                n += 1
            if until > self.clock.current_time():
                self.clock.jump(until - self.clock.current_time())
            kernel.now = max(kernel.now, until)
            return n

        return self.call(run_until)

    def _apply(self, speed: float, paused: bool) -> None:
        """Inside trio: set the mode and the clock's rate, tell the driver, wake the kernel."""
        self.speed, self.paused = speed, paused
        self.clock.rate = 0.0 if paused or math.isinf(speed) else speed
        if self._inner is not None:
            self._inner.cancel()
        if self._changed is not None:
            self._changed.set()
        self.net.kernel.wake()

    # -- walkthrough steps ------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        """Is a walkthrough step running?"""
        return self._job is not None

    def play_step(self, player: Any) -> asyncio.Future[Any]:
        """Begin ``player``'s next step and run it at the current speed (space pauses it,
        ``hurry()`` runs the rest at once), check it, and pause: the future holds the
        ``StepResult``. The player's network must be this bridge's network."""
        loop = self._loop or asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def start() -> None:
            if self._job is not None:
                raise RuntimeError("a walkthrough step is already running")
            self._job = (player, done)
            self._hurry = False
            self.paused = False
            if self._inner is not None:
                self._inner.cancel()

        def failed(f: asyncio.Future[None]) -> None:
            if not f.cancelled() and f.exception() is not None and not done.done():
                done.set_exception(f.exception())  # type: ignore[arg-type]

        self.call(start).add_done_callback(failed)
        return done

    def hurry(self) -> asyncio.Future[None]:
        """Run the rest of the walkthrough step that is running at once."""

        def set_hurry() -> None:
            if self._job is not None:
                self._hurry = True

        return self.call(set_hurry)

    async def _run_job(self) -> None:
        assert self._job is not None
        player, done = self._job
        kernel = self.net.kernel
        self._chunk_end = time.perf_counter() + MAX_CHUNK
        try:
            player.begin()
            while (t := player.due()) is not None:
                await self._wait_for(t)
                kernel.step()
            if player.step.run_for is not None:
                await self._wait_for(player.deadline)
            player.end_run()
            result = player.finish()
        except BaseException as exc:
            if not done.done():
                done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("the emulation stopped"))
            if not isinstance(exc, Exception):
                raise
        else:
            if not done.done():
                done.set_result(result)
        finally:
            self._job = None
            self._hurry = False
            self.paused = True
            self.clock.rate = 0.0

    async def _wait_for(self, t: float) -> None:
        """Inside a walkthrough step: wait until virtual time ``t`` at the current speed
        (not at all at max or in a hurry; never while paused), giving the host loop a turn
        every MAX_CHUNK of wall time."""
        while True:
            fast = self._hurry or math.isinf(self.speed)
            if not fast and self.paused:
                self.clock.rate = 0.0
                self._changed = changed = trio.Event()
                await changed.wait()
                self._chunk_end = time.perf_counter() + MAX_CHUNK
                continue
            self.clock.rate = 0.0 if fast else self.speed
            if fast or trio.current_time() >= t:
                if time.perf_counter() >= self._chunk_end:
                    self._changed = changed = trio.Event()
                    await self._yield_to_host(changed)
                    self._chunk_end = time.perf_counter() + MAX_CHUNK
                    continue  # paused meanwhile? then not one more event
                return
            self._changed = changed = trio.Event()
            with trio.move_on_at(t):
                await changed.wait()
            self._chunk_end = time.perf_counter() + MAX_CHUNK

    @property
    def virtual_time(self) -> float:
        """Virtual now: the clock while the kernel keeps up with it; the last event's time
        when the kernel is behind the clock (paced faster than the CPU allows) or at max."""
        clock, kernel = self.clock.current_time(), self.net.kernel
        return clock if kernel.next_time > clock else max(kernel.now, min(clock, kernel.next_time))

    @property
    def lagging(self) -> bool:
        """Paced, but the kernel is more than 50 ms of wall time behind the clock."""
        if self.paused or math.isinf(self.speed):
            return False
        return self.clock.current_time() - self.net.kernel.next_time > 0.05 * self.speed

    # -- the trio side ---------------------------------------------------------------------------
    async def _root(self) -> None:
        self.token = trio.lowlevel.current_trio_token()
        with trio.CancelScope() as self._scope:
            if self.runner is not None:
                self.runner.schedule()
            if self.started is not None and not self.started.done():
                self.started.set_result(None)
            await self._drive()

    async def _yield_to_host(self, changed: trio.Event) -> None:
        """Sleep MAX_GAP wall seconds, or until the end of a hush (the clock stands still at
        max speed, so this is the host loop's timer, not trio's), or until the mode changes."""
        token, loop = self.token, self._loop
        assert token is not None and loop is not None

        def resume() -> None:
            try:
                token.run_sync_soon(changed.set)
            except trio.RunFinishedError:
                pass

        handle = loop.call_later(max(MAX_GAP, self.quiet_until - time.perf_counter()), resume)
        try:
            await changed.wait()
        finally:
            handle.cancel()

    async def _idle_at_max(self, changed: trio.Event) -> None:
        """At max with only housekeeping left: virtual time goes on at IDLE_RATE (the
        housekeeping timers run at their times) until there is work again or the mode
        changes; it never stands still while the lab runs."""
        kernel = self.net.kernel
        self.clock.rate = IDLE_RATE
        while not changed.is_set() and kernel.live <= 0:
            with trio.move_on_at(kernel.next_time):
                await changed.wait()
            if kernel.next_time <= trio.current_time():
                kernel.step()
        self.clock.rate = 0.0

    async def _drive(self) -> None:
        kernel = self.net.kernel
        self._apply(self.speed, self.paused)
        while True:
            self._changed = changed = trio.Event()
            if self._job is not None:
                await self._run_job()
                continue
            if self.paused:
                self.clock.rate = 0.0
                await changed.wait()
            elif math.isinf(self.speed):
                self.clock.rate = 0.0
                if time.perf_counter() < self.quiet_until:  # the user is busy with the screen
                    await self._yield_to_host(changed)
                    continue
                deadline = time.perf_counter() + MAX_CHUNK
                idle = False
                while not changed.is_set() and time.perf_counter() < deadline:
                    # only housekeeping left (drained, as headless runs stop): wait for work
                    if not kernel.run_steps(64):
                        idle = True
                        break
                if idle:
                    await self._idle_at_max(changed)
                elif not changed.is_set():
                    await self._yield_to_host(changed)
            elif self.quiet_paced and time.perf_counter() < self.quiet_until:  # the screen is laid out anew
                self.clock.rate = 0.0
                await self._yield_to_host(changed)
            else:
                self.clock.rate = self.speed
                with trio.CancelScope() as self._inner:
                    await kernel.run_forever()
                self._inner = None
