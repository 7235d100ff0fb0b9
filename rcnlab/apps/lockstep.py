"""A program that waits on the emulation, run in turns with whoever drives the kernel.

A SQLite commit waits for its writes (``flush``): headless, the session runs the kernel
until they are answered (``Session.run_until``). The lab's kernel is driven by the
screen's paced loop instead, so there the program runs in a thread of its own, in
strict turns with the kernel: `Lockstep.start` runs it until it first waits, and while
it waits the kernel goes on as its driver paces it; a poll (a housekeeping timer every
POLL virtual seconds) sees the wait over and lets the program run again until its next
wait. Exactly one side runs at any moment, so the kernel stays single-threaded and
virtual time follows the driver's clock."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from rcnlab.emu.kernel import Kernel
from rcnlab.errors import IOFailed

#: Virtual seconds between two looks at what the program waits for.
POLL = 0.0001

Predicate = Callable[[], bool]
Driver = Callable[[Predicate, float], bool]


class Lockstep:
    """``body(drive)`` in its own thread; ``drive`` is the `Session.run_until` it gets."""

    def __init__(self, kernel: Kernel, body: Callable[[Driver], Any], poll: float = POLL) -> None:
        self.kernel, self.body, self.poll = kernel, body, poll
        self.done = False
        self.error: BaseException | None = None
        self._cancelled = False
        self._waiting: object = None  # the poll of the program's wait, while it waits
        self._run = threading.Semaphore(0)  # the program's turn
        self._back = threading.Semaphore(0)  # the driver's turn
        self._thread = threading.Thread(target=self._main, name="rcnlab-app", daemon=True)

    def start(self) -> None:
        """Driver side: run the program until its first wait (or its end)."""
        self._thread.start()
        self._back.acquire()

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
        self._back.release()
        self._run.acquire()
        if self._cancelled:
            raise IOFailed("the lab stopped the application")
        return predicate()

    def _turn(self) -> None:
        """Driver side: the program runs until it waits again or ends."""
        self._waiting = None
        self._run.release()
        self._back.acquire()

    def _main(self) -> None:
        try:
            self.body(self.drive)
        except BaseException as exc:  # handed to the driver's side
            self.error = exc
        finally:
            self.done = True
            self._back.release()
