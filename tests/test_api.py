"""The public API for programs (issue 14): open a session, drive it, block devices on
volumes through their hosts (writes, flush as a barrier, the SCSI READ path), volume
images, the operator's commands with their handles, failover of a whole order group."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

import rcnlab
from rcnlab.errors import BadInput, CommandFailed, IOFailed, Refused
from rcnlab.lab import CommandHandle
from rcnlab.model.pair_state import PairState
from rcnlab.ops.commands import FailLink
from rcnlab.run.blockdev import Ticket
from rcnlab.topo.load import load_topology
from tests.helpers import TOPOLOGIES

BLOCKS = 1024
SMALL = {"storage[ST112].volumes": [{"lun": 0, "blocks": BLOCKS}],
         "storage[ST122].volumes": [{"lun": 0, "blocks": BLOCKS}]}


def block(text: str, size: int = 512) -> bytes:
    return text.encode().ljust(size, b"\0")


def small(seed: int = 1, **kw) -> rcnlab.Session:
    return rcnlab.open_session("fig1", overrides=SMALL, seed=seed, **kw)


def paired(seed: int = 1, mode: str = "async") -> rcnlab.Session:
    s = small(seed)
    s.wait(s.create_pair("ST112:0", "ST122:0", mode=mode))
    assert s.run_until(lambda: s.duplex("ST112:0"), timeout=10)
    return s


def recorded(s: rcnlab.Session) -> list:
    """Every journal event from now on."""
    seen: list = []
    s.journal.subscribe(seen.append)
    return seen


def events(seen: list, name: str) -> list:
    return [ev for ev in seen if ev.event == name]


# -- opening ---------------------------------------------------------------------------------------
def test_open_session_takes_a_shipped_name_a_path_a_spec_or_a_topology():
    path = TOPOLOGIES / "fig2.toml"
    assert rcnlab.open_session().world.topo.name == "fig1"
    assert rcnlab.open_session("fig2").world.topo.name == "fig2"
    assert rcnlab.open_session(path).world.topo.name == "fig2"
    assert rcnlab.open_session(str(path)).world.topo.name == "fig2"
    spec = tomllib.loads(path.read_text())
    s = rcnlab.open_session(spec, seed=3, check=False)
    assert s.world.topo.path == "<spec>" and s.checker is None
    assert rcnlab.open_session(load_topology(path)).checker is not None
    assert isinstance(s, rcnlab.Session)


def test_overrides_set_dotted_keys_and_merge_tables():
    s = rcnlab.open_session("fig1", overrides={
        "lab.block_size": 4096,
        "storage[ST112].volumes": [{"lun": 0, "blocks": 100}, {"lun": 3, "blocks": 50}],
        "storage[1].copy_rate": 1234,
        "link[E104-C202].loss": 0.5,
        "management": {"latency_ms": 7},
    })
    topo = s.world.topo
    assert topo.block_size == 4096
    assert [(v.lun, v.blocks) for v in topo.storage("ST112").volumes] == [(0, 100), (3, 50)]
    assert topo.storage("ST122").copy_rate == 1234
    assert next(k for k in topo.links if {k.a, k.b} == {"E104", "C202"}).loss == 0.5
    assert topo.management.latency == 0.007 and topo.management.name == "M103"  # merged, not replaced
    dev = s.block_device("ST112:3")
    assert (dev.block_size, dev.blocks) == (4096, 50)


@pytest.mark.parametrize(("args", "message"), [
    (("nosuch",), "no topology 'nosuch' (known: "),
    (("/nonexistent/x.toml",), "/nonexistent/x.toml: file: cannot read"),
    (("fig1", {"storage[ST9].copy_rate": 1}), "override 'storage[ST9].copy_rate': storage has no entry 'ST9'"),
    (("fig1", {"storage[7].copy_rate": 1}), "override 'storage[7].copy_rate': storage has 2 entries, no [7]"),
    (("fig1", {"lab.block_size.x": 1}), "override 'lab.block_size.x': lab.block_size is not a table"),
    (("fig1", {"lab.block_size": 1000}), "lab.block_size: must be a power of two"),
    (("fig1", {"lab.colour": 1}), "(with overrides lab.colour=1)"),
    ((42,), "topology must be a name, a path, a dict or a Topology, not int"),
])
def test_bad_input_to_open_session_is_one_line(args, message):
    topology, overrides = (args + (None,))[:2]
    with pytest.raises(BadInput) as info:
        rcnlab.open_session(topology, overrides=overrides)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_seed_must_be_a_whole_number_and_a_loaded_topology_takes_no_overrides():
    with pytest.raises(BadInput, match="seed must be a whole number"):
        rcnlab.open_session("fig1", seed=1.5)
    with pytest.raises(BadInput, match="overrides apply to a topology file"):
        rcnlab.open_session(load_topology(TOPOLOGIES / "fig1.toml"), overrides={"lab.block_size": 4096})


def test_importing_rcnlab_alone_loads_no_emulation():
    code = "import sys, rcnlab; print('rcnlab.world' in sys.modules, callable(rcnlab.open_session))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
    with pytest.raises(AttributeError):
        rcnlab.no_such_name  # noqa: B018


# -- driving ---------------------------------------------------------------------------------------
def test_at_calls_a_function_at_its_virtual_time():
    s = small()
    seen = []
    s.at(0.25, lambda: seen.append(s.now))
    s.run_for(0.1)
    assert seen == []
    s.run_for(0.2)
    assert seen == [0.25] and s.now == pytest.approx(0.3)
    with pytest.raises(BadInput, match=r"at: t=0.1 is in the past \(now t=0.3\)"):
        s.at(0.1, lambda: None)
    with pytest.raises(BadInput, match="finite number"):
        s.at(float("nan"), lambda: None)


def test_a_callback_cannot_run_the_emulation_again_but_may_issue_writes():
    s = small()
    dev = s.block_device("ST112:0")
    tickets = []
    s.at(0.1, lambda: tickets.append(dev.write(1, block("async"))))
    s.at(0.2, lambda: dev.write_sync(2, block("sync")))
    s.run_for(0.15)
    assert tickets and tickets[0].ok
    with pytest.raises(BadInput, match="the emulation is already running"):
        s.run_for(0.1)
    assert dev.read(1) == block("async")


# -- block devices ---------------------------------------------------------------------------------
def test_read_your_writes_through_the_host():
    s = small()
    seen = recorded(s)
    dev = s.block_device("ST112:0")
    assert (dev.block_size, dev.blocks, dev.host.name, dev.volume) == (512, BLOCKS, "H111", "ST112:0")
    dev.write_sync(7, block("seven"))
    dev.write_sync(BLOCKS - 1, block("last"))
    assert dev.read(7) == block("seven") and dev.read(BLOCKS - 1) == block("last")
    assert dev.read(8) == bytes(512)  # never written: zeros
    issued, answered = events(seen, "read-issued"), events(seen, "read-answered")
    assert len(issued) == len(answered) == 3
    assert all(ev.step is None for ev in issued + answered)
    assert answered[0].fields["block"] == 7 and answered[0].device == "ST112"


def test_write_returns_a_ticket_at_once_and_flush_is_a_barrier():
    s = paired(mode="sync")
    dev = s.block_device("ST112:0")
    t0 = s.now
    tickets = [dev.write(b, block(f"w{b}")) for b in range(20)]
    assert all(isinstance(t, Ticket) and not t.done for t in tickets) and s.now == t0
    assert dev.in_flight == 20
    dev.flush()
    assert all(t.done and t.ok and t.latency > 0 for t in tickets)
    assert dev.in_flight == 0 and s.now > t0
    dev.flush()  # nothing outstanding: returns at once
    assert s.now == max(t.answered for t in tickets)
    s.drain(5)
    volume = s.world.devices["ST122"].volumes[0]
    assert all(volume.read(b) == block(f"w{b}") for b in range(20))


def test_data_that_is_not_one_block_or_a_block_outside_the_volume_is_bad_input():
    s = small()
    dev = s.block_device("ST112:0")
    with pytest.raises(BadInput, match=r"write of ST112:0 block 1: 511 bytes, but a block is 512 bytes"):
        dev.write(1, b"x" * 511)
    with pytest.raises(BadInput, match="513 bytes"):
        dev.write_sync(1, b"x" * 513)
    with pytest.raises(BadInput, match=r"block 1024 is outside the volume \(0..1023\)"):
        dev.write(BLOCKS, block("x"))
    with pytest.raises(BadInput, match=r"read of ST112:0: block -1 is outside"):
        dev.read(-1)
    assert s.world.host_named["H111"].issued == 0


@pytest.mark.parametrize(("volume", "host", "message"), [
    ("ST999:0", None, "block_device: unknown storage 'ST999'"),
    ("ST112:5", None, "block_device: storage ST112 has no LUN 5"),
    ("ST112:0", "H121", "block_device: host H121 is not attached to storage ST112"),
])
def test_a_block_device_on_something_that_is_not_there_is_bad_input(volume, host, message):
    with pytest.raises(BadInput, match=message):
        small().block_device(volume, host)


def test_a_write_the_storage_refuses_fails_naming_the_volume_and_block():
    s = paired()
    seen = recorded(s)
    target = s.block_device("ST122:0")
    with pytest.raises(IOFailed, match=r"^write of ST122:0 block 5 failed: write refused: .* is the target of a pair "
                       r"in state Duplex"):
        target.write_sync(5, block("no"))
    tickets = [target.write(b, block("no")) for b in (6, 7)]
    with pytest.raises(IOFailed, match=r"write of ST122:0 block 6 failed: .*\(and 1 more: blocks 7\)"):
        target.flush()
    assert all(t.done and not t.ok and "write refused" in t.detail for t in tickets)
    target.flush()  # reported once
    with pytest.raises(IOFailed, match=r"^read of ST122:0 block 5 failed: read refused: .* the target volume may be "
                       r"read only in Suspend or failure Suspend"):
        target.read(5)
    assert len(events(seen, "read-failed")) == 1


def test_a_storage_that_does_not_answer_fails_the_write_after_the_hosts_timeout():
    s = small()
    dev = s.block_device("ST112:0", timeout=2.0)
    s.lab.storage("ST112").crash()
    t0 = s.now
    with pytest.raises(IOFailed, match=r"write of ST112:0 block 3 failed: no answer from ST112 within 2 s"):
        dev.write_sync(3, block("lost"))
    assert s.now == pytest.approx(t0 + 2.0)
    assert s.world.host_named["H111"].outstanding == 0  # the host gave up on it
    with pytest.raises(IOFailed, match="read of ST112:0 block 3 failed: no answer"):
        dev.read(3)


def test_a_host_that_is_down_cannot_issue_and_one_that_crashes_fails_what_it_waited_for():
    s = small()
    dev = s.block_device("ST112:0")
    ticket = dev.write(1, block("x"))
    s.world.host_named["H111"].crash()
    with pytest.raises(IOFailed, match="write of ST112:0 block 1 failed: host H111 went down before the answer"):
        dev.flush()
    assert ticket.done and not ticket.ok
    with pytest.raises(IOFailed, match="write of ST112:0 block 2 failed: host H111 is down"):
        dev.write(2, block("y"))
    with pytest.raises(IOFailed, match="host H111 is down"):
        dev.read(2)


def test_a_bad_timeout_is_bad_input():
    with pytest.raises(BadInput, match="timeout must be > 0"):
        small().block_device("ST112:0", timeout=0)


# -- reading the target after a failover -------------------------------------------------------------
def test_a_target_read_after_failover_returns_the_replicated_data():
    s = paired()
    source, target = s.block_device("ST112:0"), s.block_device("ST122:0")
    assert target.host.name == "H121"
    for b in range(50):
        source.write(b, block(f"data {b}"))
    source.flush()
    s.drain(5)
    handles = s.failover("ST122:0")
    assert len(handles) == 1 and isinstance(handles[0], CommandHandle)
    s.wait(handles)
    assert all(target.read(b) == block(f"data {b}") for b in range(50))
    target.write_sync(0, block("after takeover"))  # writable after the failover
    assert target.read(0) == block("after takeover")
    with pytest.raises(IOFailed, match=r"write of ST112:0 block 0 failed: fenced: its pair failed over to ST122:0"):
        source.write(0, block("stale"))  # the old source is fenced, as the lab's screen fences it
    assert source.read(1) == block("data 1")


def test_pair_states_name_the_four_parties():
    s = small()
    assert s.pair_states("ST122:0") == {p: PairState.SIMPLEX for p in
                                        ("source_storage", "source_edge", "target_edge", "target_storage")}
    assert not s.duplex("ST112:0")
    s.wait(s.create_pair("ST112:0", "ST122:0"))
    assert s.run_until(lambda: s.duplex("ST122:0"), 10)
    assert set(s.pair_states("ST112:0").values()) == {PairState.DUPLEX}
    with pytest.raises(BadInput, match="pair_states: unknown storage 'X'"):
        s.pair_states("X:0")


# -- volume images ---------------------------------------------------------------------------------
def test_an_exported_image_equals_the_volume(tmp_path):
    s = small()
    dev = s.block_device("ST112:0")
    for b in (0, 3, BLOCKS - 1):
        dev.write(b, block(f"image {b}"))
    dev.flush()
    path = tmp_path / "st112.img"
    s.export_image("ST112:0", path)
    data = path.read_bytes()
    assert len(data) == 512 * BLOCKS
    assert data == b"".join(s.world.devices["ST112"].volumes[0].read(b) for b in range(BLOCKS))
    with pytest.raises(BadInput, match="cannot write the image of ST112:0"):
        s.export_image("ST112:0", tmp_path / "no" / "such" / "dir")
    with pytest.raises(BadInput, match="export_image: storage ST112 has no LUN 4"):
        s.export_image("ST112:4", path)


# -- commands and their handles ----------------------------------------------------------------------
def test_each_pair_command_returns_its_handle_and_wait_runs_until_its_answer():
    s = small()
    create = s.create_pair("ST112:0", "ST122:0", mode="sync")
    assert isinstance(create, CommandHandle) and not create.done
    s.wait(create)
    assert create.done and not create.failed and str(create.command) == "pair-create"
    assert s.run_until(lambda: s.duplex("ST112:0"), 10)
    suspend = s.suspend("ST112:0")
    s.wait(suspend)
    resync = s.resync("ST112:0")
    s.wait(resync)
    assert [str(h.command) for h in s.lab.commands] == ["pair-create", "suspend", "resync"]
    assert s.run_until(lambda: s.duplex("ST112:0"), 10)
    delete = s.delete_pair("ST122:0")
    s.wait(delete)
    assert s.world.devices["ST112"].pair_state(0) is PairState.SIMPLEX


def test_a_command_that_fails_or_is_never_answered_raises_commandfailed_and_a_refused_one_refused():
    s = paired()
    s.do(FailLink(link="E104-C202"))
    s.block_device("ST112:0").write_sync(1, block("x"))  # the path fails: failure Suspend
    assert s.run_until(lambda: s.world.devices["ST112"].pair_state(0) is PairState.FAILURE_SUSPEND, 5)
    handle = s.resync("ST112:0")
    with pytest.raises(CommandFailed, match=r"resync ST112:0>ST122:0 \(H111, .*\) failed: no DPOK from the RCN"):
        s.wait(handle)
    with pytest.raises(Refused, match="suspend refused: pair is failure Suspend"):
        s.suspend("ST112:0")
    with pytest.raises(BadInput, match="'fast' is not a valid CopyMode"):
        s.create_pair("ST112:0", "ST122:0", mode="fast")
    s2 = small()
    pending = s2.create_pair("ST112:0", "ST122:0")
    s2.lab.storage("ST112").crash()  # on its way: the host hears that its storage is gone
    with pytest.raises(CommandFailed, match="failed: ST112 is down: the command never reached it"):
        s2.wait(pending, timeout=1.0)
    s3 = small()
    pending = s3.create_pair("ST112:0", "ST122:0")
    assert s3.run_until(lambda: 0 in s3.world.devices["ST112"].pairs, 1.0)
    s3.lab.storage("ST112").crash()  # taken, then the storage is gone for good: never answered
    with pytest.raises(CommandFailed, match="never answered"):
        s3.wait(pending, timeout=1.0)


# -- a whole order group in one call -------------------------------------------------------------------
def groups(method: str = "B", customers: int = 1) -> dict:
    """Customer C<c> copies ST<2c-1>:0 and :1 (edge E1) to ST<2c>:0 and :1 (edge E2), over core K1."""
    spec: dict = {"lab": {"order_assurance": method}, "customer": [], "host": [], "storage": [], "link": [],
                  "edge": [{"name": "E1", "ip": "192.0.2.1", "site": "source"},
                           {"name": "E2", "ip": "192.0.2.2", "site": "target"}],
                  "core": [{"name": "K1", "ip": "192.0.2.11"}]}
    spec["link"] += [{"a": "E1", "b": "K1", "kind": "gbe", "distance_km": 100},
                     {"a": "K1", "b": "E2", "kind": "gbe", "distance_km": 100}]
    for c in range(1, customers + 1):
        spec["customer"].append({"id": f"C{c}"})
        for n, site, edge in ((2 * c - 1, "source", "E1"), (2 * c, "target", "E2")):
            spec["host"].append({"name": f"H{n}", "customer": f"C{c}", "site": site, "storage": f"ST{n}"})
            spec["storage"].append({"name": f"ST{n}", "wwn": f"50:06:0e:80:00:00:00:{n:02x}", "customer": f"C{c}",
                                    "site": site, "edge": edge, "volumes": [{"lun": 0, "blocks": 256},
                                                                            {"lun": 1, "blocks": 256}]})
            spec["link"] += [{"a": f"H{n}", "b": f"ST{n}", "kind": "scsi"},
                             {"a": f"ST{n}", "b": edge, "kind": "fc"}]
    return spec


def grouped(method: str, customers: int) -> rcnlab.Session:
    s = rcnlab.open_session(groups(method, customers), seed=1)
    for c in range(1, customers + 1):
        for lun in (0, 1):
            s.wait(s.create_pair(f"ST{2 * c - 1}:{lun}", f"ST{2 * c}:{lun}", order_id=7 if method == "B" else 0))
    assert s.run_until(lambda: all(set(v.states) == {PairState.DUPLEX} for v in s.world.pair_views()), 10)
    return s


def test_failover_of_a_whole_order_group_by_id_or_by_one_volume():
    s = grouped("B", 1)
    handles = s.failover(order_id=7)
    assert sorted(h.pair for h in handles) == ["ST1:0>ST2:0", "ST1:1>ST2:1"]
    s.wait(handles)
    s2 = grouped("B", 1)
    first = s2.failover("ST1:1")  # either end names the group
    assert sorted(h.pair for h in first) == ["ST1:0>ST2:0", "ST1:1>ST2:1"]
    again = s2.failover(order_id=7)  # given again while it is under way: the handles of the first
    assert sorted(map(id, again)) == sorted(map(id, first))
    s2.wait(again)
    back = s2.failback(order_id=7)
    assert len(back) == 2
    s2.wait(back)


def test_failover_by_order_id_and_customer_when_customers_share_the_id():
    s = grouped("A-2", 2)
    ids = {p.order_id for p in s.world.edge_named["E2"].pairs.values()}
    assert len(ids) == 1
    (oid,) = ids
    with pytest.raises(Refused, match="name one of the pairs' volumes instead"):
        s.failover(order_id=oid)
    handles = s.failover(order_id=oid, customer="C2")
    assert sorted(h.pair for h in handles) == ["ST3:0>ST4:0", "ST3:1>ST4:1"]
    s.wait(handles)
    with pytest.raises(Refused, match="customer C9 has no pair in order group"):
        s.failover(order_id=oid, customer="C9")
    with pytest.raises(BadInput, match="customer goes with order_id"):
        s.failover("ST2:0", customer="C1")
