"""The pure model: frames with fragmentation and reassembly, pair-state tables."""

from __future__ import annotations

import attrs
import pytest

from rcnlab.model.frames import FcFrame, GbeFrame, MalformedFrame, Reassembler, fragment
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.pair_state import (Command, Event, IllegalCommand, IllegalTransition, PairState, Party,
                                     check_command, operator_name, step)
from rcnlab.model.rio import Rio, RioKind

SRC, DST = VolumeRef("50:06:0e:80:00:00:01:12", 0), VolumeRef("50:06:0e:80:00:00:01:22", 0)


def test_a_big_log_entry_is_split_and_reassembled_in_any_order():
    rio = Rio(kind=RioKind.WR, source=SRC, target=DST, block=9, data=bytes(5000))
    entry = LogEntry(target=DST, source=SRC, order_id=1, io_time=0.5, seq=3, rio=rio)
    frames = fragment(GbeFrame, "192.0.2.104", "192.0.2.202", 77, (entry,), entry.size, 1500)
    assert len(frames) == 4
    assert sum(f.length for f in frames) == entry.size
    assert {f.src_ip for f in frames} == {"192.0.2.104"}  # 1421
    r = Reassembler()
    got = [r.accept("E104", f, 0.0) for f in reversed(frames)]
    assert got[:-1] == [None, None, None]
    assert got[-1] == (entry,)
    assert r.pending == 0


def test_a_corrupted_or_truncated_fragment_is_refused():
    rio = Rio(kind=RioKind.WR, source=SRC, target=DST, block=1, data=bytes(100))
    (frame,) = fragment(FcFrame, port_id(SRC.wwn), port_id(DST.wwn), 1, rio, rio.size, 2112)
    assert frame.src_port == port_id(SRC.wwn)  # 1411
    r = Reassembler()
    with pytest.raises(MalformedFrame):
        r.accept("ST112", attrs.evolve(frame, checksum=frame.checksum ^ 1), 0.0)
    with pytest.raises(MalformedFrame):
        r.accept("ST112", attrs.evolve(frame, length=0), 0.0)
    assert r.accept("ST112", frame, 0.0) is rio


def test_partial_messages_expire():
    rio = Rio(kind=RioKind.WR, source=SRC, target=DST, block=1, data=bytes(3000))
    frames = fragment(FcFrame, 1, 2, 5, rio, rio.size, 1024)
    r = Reassembler(max_age=1.0)
    r.accept("a", frames[0], 0.0)
    other = fragment(FcFrame, 1, 2, 6, rio, rio.size, 1024)
    r.accept("a", other[0], 5.0)
    assert r.dropped_partials == 1 and r.pending == 1


def test_pair_states_move_only_along_the_table():
    s = step(PairState.SIMPLEX, Event.CREATE)
    assert s is PairState.INITIAL_COPYING
    assert step(s, Event.DUPLEX) is PairState.DUPLEX
    assert step(PairState.DUPLEX, Event.SUSPEND_ASYNC) is PairState.SUSPENDING
    assert step(PairState.SUSPENDING, Event.SUSPENDED) is PairState.SUSPEND
    assert step(PairState.SUSPEND, Event.RESYNC) is PairState.DUPLEX_PENDING
    assert step(PairState.DUPLEX, Event.FAIL) is PairState.FAILURE_SUSPEND
    with pytest.raises(IllegalTransition):
        step(PairState.SIMPLEX, Event.DUPLEX)


def test_an_illegal_command_names_the_state_and_what_is_legal():
    with pytest.raises(IllegalCommand) as exc:
        check_command(Command.RESYNC, PairState.DUPLEX, "ST112 ST112:0")
    message = str(exc.value)
    assert "resync refused" in message and "Duplex" in message and "suspend" in message
    assert "\n" not in message
    check_command(Command.RESYNC, PairState.FAILURE_SUSPEND, "x")  # legal: no exception


def test_operator_names():
    assert operator_name(PairState.DUPLEX, Party.SOURCE_STORAGE) == "PAIR"
    assert operator_name(PairState.SUSPEND, Party.SOURCE_STORAGE) == "PSUS"
    assert operator_name(PairState.SUSPEND, Party.TARGET_STORAGE) == "SSUS"
    assert operator_name(PairState.SUSPENDING, Party.SOURCE_EDGE) == "PSUS*"
    assert operator_name(PairState.SUSPENDING, Party.TARGET_STORAGE) == "SSUS*"
    assert operator_name(PairState.FAILURE_SUSPEND, Party.TARGET_STORAGE, takeover=True) == "SSWS"
    assert operator_name(PairState.INITIAL_COPYING, Party.TARGET_EDGE) == "COPY"
