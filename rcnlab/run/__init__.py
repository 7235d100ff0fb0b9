"""Running the lab: a `Session` (world, lab, scenario runner, journal, checker) with
the headless run and a synchronous driver; checkers, the fuzzer, bench and
walkthroughs use it, and the command line sits on top."""

from rcnlab.run.headless import run_headless, same_trace, trace_bytes
from rcnlab.run.session import Session

__all__ = ["Session", "run_headless", "same_trace", "trace_bytes"]
