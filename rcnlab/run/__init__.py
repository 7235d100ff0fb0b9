"""Running the lab: a `Session` (world, lab, scenario runner, journal, checker) with
the headless run and a synchronous driver; checkers, the fuzzer, bench and
walkthroughs use it, and the command line sits on top. Programs open one with
`open_session` and use volumes through `BlockDevice` handles."""

from rcnlab.run.blockdev import BlockDevice, Ticket
from rcnlab.run.headless import run_headless, same_trace, trace_bytes
from rcnlab.run.opening import open_session
from rcnlab.run.session import Session

__all__ = ["BlockDevice", "Session", "Ticket", "open_session", "run_headless", "same_trace", "trace_bytes"]
