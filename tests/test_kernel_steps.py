"""Kernel.run_steps: the TUI's batch at max speed (a number of event times, the clock
brought to now once at the end, stopping where a headless run that drains stops)."""

from rcnlab.emu.kernel import Kernel


def test_run_steps_runs_that_many_event_times_and_syncs_the_clock_once():
    k = Kernel()
    ran: list[float] = []
    for t in (1.0, 1.0, 2.0, 3.0):
        k.call_at(t, lambda t=t: ran.append(t))
    jumps: list[float] = []
    jump = k.clock.jump
    k.clock.jump = lambda d: (jumps.append(d), jump(d))  # type: ignore[method-assign]
    assert k.run_steps(2) is True
    assert ran == [1.0, 1.0, 2.0] and k.now == 2.0 and k.events_run == 3
    assert len(jumps) == 1 and k.clock.current_time() == 2.0


def test_run_steps_stops_when_only_housekeeping_is_left():
    k = Kernel()
    ran: list[str] = []
    k.call_at(1.0, ran.append, "work")
    k.timer(5.0, ran.append, "housekeeping", daemon=True)
    assert k.run_steps(10) is False
    assert ran == ["work"] and k.now == 1.0 and k.pending == 1
    assert Kernel().run_steps(10) is False  # nothing at all
