"""Bad input: malformed frames and log entries injected into links are counted and
refused while the lab keeps running and loses nothing acknowledged; mutated
topology and scenario files give a one-line error (exit 2) or a valid run."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rcnlab.check.invariants import NAMES, Checker, check_all
from rcnlab.cli import main
from rcnlab.lab import Lab
from rcnlab.model.frames import FcFrame, GbeFrame, header_checksum
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.rio import Rio, RioKind
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.ops.registry import do
from rcnlab.world import World
from tests.helpers import TOPOLOGIES, topology

SRC, DST = "50:06:0e:80:00:00:01:12", "50:06:0e:80:00:00:01:22"


def drain(net: World) -> None:
    steps = 0
    while not net.kernel.drained() and steps < 1_000_000:
        net.kernel.step()
        steps += 1


def busy_lab() -> tuple[World, Lab, Checker]:
    net = World(topology("fig1"), seed=2)
    lab, checker = Lab(net), Checker.attach(net)
    do(lab, CreatePair(source="ST112:0", target="ST122:0"))
    drain(net)
    do(lab, Workload(volume="ST112:0", rate=2000, count=200, blocks=(0, 128)))
    while net.kernel.now < 0.05 + 0.03:  # writes in flight while the bad frames arrive
        net.kernel.step()
    return net, lab, checker


def gbe(payload: object, size: int, msg_id: int = 777, index: int = 0, count: int = 1,
        checksum: int | None = None) -> GbeFrame:
    return GbeFrame(src_ip="192.0.2.202", dst_ip="192.0.2.105", msg_id=msg_id, index=index, count=count,
                    length=size, checksum=header_checksum(msg_id, index, count, size) if checksum is None
                    else checksum, payload=payload)


def entry(order_id: int, seq: int, block: int = 5) -> LogEntry:
    rio = Rio(kind=RioKind.WR, source=VolumeRef(SRC, 0), target=VolumeRef(DST, 0), block=block, data=b"!" * 512)
    return LogEntry(target=VolumeRef(DST, 0), source=VolumeRef(SRC, 0), order_id=order_id, io_time=0.0, seq=seq,
                    rio=rio)


def finish(net: World, checker: Checker) -> None:
    drain(net)
    assert all(d.up for d in net.devices.values())
    assert net.device("H111").acknowledged == 200
    result = check_all(net)
    assert result == {name: True for name in NAMES}, checker.violations[:3]


def test_a_frame_with_a_wrong_checksum_is_counted_and_refused():
    net, lab, checker = busy_lab()
    rio = Rio(kind=RioKind.WR, source=VolumeRef(SRC, 0), target=VolumeRef(DST, 0), block=1, data=b"x" * 512, xid=1)
    frame = FcFrame(src_port=port_id(SRC), dst_port=port_id(DST), msg_id=5, index=0, count=1, length=rio.size,
                    checksum=12345, payload=rio)
    edge = net.device("E104")
    before = edge.malformed
    net.inject_frame("ST112", "E104", frame)
    net.inject_frame("C202", "E105", gbe((entry(1, 10 ** 6),), 600, checksum=1))
    finish(net, checker)
    assert edge.malformed == before + 1 and net.device("E105").malformed >= 1


def test_truncated_and_impossible_fragments_are_refused():
    net, lab, checker = busy_lab()
    target = net.device("E105")
    before = target.malformed
    net.inject_frame("C202", "E105", gbe((entry(1, 10 ** 6),), 600, index=4, count=3))  # index beyond count
    net.inject_frame("C202", "E105", gbe((entry(1, 10 ** 6),), 0))  # no length
    net.inject_frame("C202", "E105", gbe((entry(1, 10 ** 6),), 600, msg_id=778, index=0, count=3))  # never completed
    finish(net, checker)
    assert target.malformed == before + 2
    assert target.log_entries == 0  # the truncated message never became an entry


def test_a_rio_to_a_virtual_storage_access_control_forbids_is_denied():
    net, lab, checker = busy_lab()
    edge = net.device("E104")
    rio = Rio(kind=RioKind.WR, source=VolumeRef(SRC, 0), target=VolumeRef("50:06:0e:80:00:00:09:99", 0), block=1,
              data=b"x" * 512, xid=1)
    frame = FcFrame(src_port=port_id(SRC), dst_port=port_id("50:06:0e:80:00:00:09:99"), msg_id=6, index=0, count=1,
                    length=rio.size, checksum=header_checksum(6, 0, 1, rio.size), payload=rio)
    net.inject_frame("ST112", "E104", frame)
    finish(net, checker)
    assert edge.denied == 1


def test_something_that_is_not_a_log_entry_is_refused():
    net, lab, checker = busy_lab()
    target = net.device("E105")
    before = target.malformed
    net.inject_frame("C202", "E105", gbe(("not an entry", 42), 100))
    net.inject_frame("C202", "E105", gbe(b"raw bytes", 100))
    finish(net, checker)
    assert target.malformed == before + 3


def test_a_log_entry_with_an_unknown_order_id_is_refused():
    net, lab, checker = busy_lab()
    target = net.device("E105")
    before = target.malformed
    net.inject_frame("C202", "E105", gbe((entry(999, 1),), 600))
    finish(net, checker)
    assert target.malformed == before + 1
    assert 999 not in target.inbound


def test_a_sequence_number_from_the_future_is_refused():
    net, lab, checker = busy_lab()
    target = net.device("E105")
    before = target.malformed
    beyond = target.groups[1].reflected + target.spec.reorder_window + 10_000  # the counter moves on meanwhile
    net.inject_frame("C202", "E105", gbe((entry(1, beyond),), 600))
    finish(net, checker)
    assert target.log_entries == 0 and target.malformed == before + 1


# -- mutated files --------------------------------------------------------------------------------
SHIPPED_TOPOLOGIES = sorted(TOPOLOGIES.glob("*.toml"))
SHIPPED_SCENARIOS = sorted((TOPOLOGIES / "scenarios").glob("*.toml"))
BAD_VALUES = ["-1", '"x"', "[]", "{}", "true", "1e400", "nan", '""', "0", "3.5", '"E999"', "[[1]]", "="]


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(("delete", "duplicate", "value", "truncate", "garble")))
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(st.sampled_from(BAD_VALUES))}"
        elif how == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.sampled_from(list("[]{}=\"'#\\x\x00é"))) + lines[i][j:]
    return "\n".join(lines)


def _one_line_error_or_run(argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)  # any exception here is a traceback: the test fails
    assert code in (0, 1, 2)
    if code == 2:
        text = err.getvalue()
        assert text.startswith("rcnlab: ") and text.count("\n") == 1, text


def _mutant(data: st.DataObject, files: list[Path]) -> Path:
    path = data.draw(st.sampled_from(files))
    text = data.draw(mutated(path.read_text(encoding="utf-8")))
    bad = Path(tempfile.mkdtemp(prefix="rcnlab-mutant-")) / path.name
    bad.write_text(text, encoding="utf-8", errors="surrogateescape")
    return bad


@settings(max_examples=40)
@given(data=st.data())
def test_a_mutated_topology_gives_one_line_or_a_valid_lab(data):
    _one_line_error_or_run(["check", str(_mutant(data, SHIPPED_TOPOLOGIES))])


@settings(max_examples=25)
@given(data=st.data())
def test_a_mutated_scenario_gives_one_line_or_a_valid_run(data):
    bad = _mutant(data, SHIPPED_SCENARIOS)
    _one_line_error_or_run(["run", str(TOPOLOGIES / "fig1.toml"), "--scenario", str(bad), "--until", "0.3", "--json"])
