"""A program that waits on the emulation, run in turns with whoever drives the kernel.

A SQLite commit waits for its writes (``flush``): headless, the session runs the kernel
until they are answered (``Session.run_until``). The lab's kernel is driven by the
screen's paced loop instead, so there the program runs in a greenlet (a stack of its
own, in the same thread), in strict turns with the kernel: `Lockstep.start` runs it until
it first waits, and while it waits the kernel goes on as its driver paces it; a poll (a
housekeeping timer every POLL virtual seconds) sees the wait over and lets the program
run again, inside that kernel event, until its next wait. One thread, one side at a
time: the kernel stays single-threaded and virtual time follows the driver's clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import greenlet  # type: ignore[import-untyped]

from rcnlab.emu.kernel import Kernel
from rcnlab.errors import IOFailed

#: Virtual seconds between two looks at what the program waits for.
POLL = 0.0001

Predicate = Callable[[], bool]
Driver = Callable[[Predicate, float], bool]


class Lockstep:
    """``body(drive)`` on a stack of its own; ``drive`` is the `Session.run_until` it gets."""

    def __init__(self, kernel: Kernel, body: Callable[[Driver], Any], poll: float = POLL) -> None:
        self.kernel, self.body, self.poll = kernel, body, poll
        self.done = False
        self.error: BaseException | None = None
        self._cancelled = False
        self._waiting: object = None  # the poll of the program's wait, while it waits
        self._program = greenlet.greenlet(self._main)

    def start(self) -> None:
        """Driver side: run the program until its first wait (or its end)."""
        self._program.switch()

    def cancel(self) -> None:
        """Driver side: the program's waits fail from now on (an I/O error); let it end."""
        self._cancelled = True
        if self._waiting is not None:
            self._turn()

    def drive(self, predicate: Predicate, timeout: float = math.inf) -> bool:
        """Program side: wait until ``predicate()`` holds (True) or ``timeout`` virtual
        seconds have passed (False), while the driver runs the kernel."""
        if self._cancelled:
            raise IOFailed("the lab stopped the application")
        if predicate():
            return True
        kernel, deadline = self.kernel, self.kernel.now + timeout

        def look() -> None:
            if self._waiting is not look:  # that wait was cancelled
                return
            if predicate() or kernel.now >= deadline:
                self._turn()
            else:
                kernel.timer(min(self.poll, deadline - kernel.now), look, daemon=True)

        kernel.timer(min(self.poll, timeout), look, daemon=True)
        self._waiting = look
        self._program.parent.switch()  # the driver's turn, until `_turn`
        if self._cancelled:
            raise IOFailed("the lab stopped the application")
        return predicate()

    def _turn(self) -> None:
        """Driver side: the program runs until it waits again or ends."""
        self._waiting = None
        self._program.switch()

    def _main(self) -> None:
        try:
            self.body(self.drive)
        except BaseException as exc:  # handed to the driver's side
            self.error = exc
        finally:
            self.done = True
