"""Frames carry addresses and the devices read them: the receiving edge learns the
sender's WWN from the FC frame's source PortID (1901), cores forward by the route's IP
list (713/714) the GbE frame carries, and the Fig. 2 conversions act on the addresses.
A frame whose addresses do not fit is counted and dropped with one journal line."""

from __future__ import annotations

from rcnlab.emu.journal import Journal
from rcnlab.lab import Lab
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.log_entry import LogEntry
from rcnlab.model.rio import Rio, RioKind
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.ops.registry import do
from rcnlab.world import World
from tests.helpers import run, topology

SRC, DST = "50:06:0e:80:00:00:01:12", "50:06:0e:80:00:00:01:22"
E104, C202, E105 = "192.0.2.104", "192.0.2.202", "192.0.2.105"


def lab(name: str = "fig1") -> tuple[World, Journal]:
    journal = Journal(keep=100_000)
    return World(topology(name), seed=1, journal=journal), journal


def drain(net: World) -> None:
    while not net.kernel.drained():
        net.kernel.step()


def events(journal: Journal, name: str) -> list[dict]:
    return [{"t": e.t, "device": e.device, **e.fields} for e in journal.recent if e.event == name]


def wr(xid: int = 1) -> Rio:
    return Rio(kind=RioKind.PAIR_CREATE, source=VolumeRef(SRC, 0), target=VolumeRef(DST, 0), xid=xid)


def entry(seq: int) -> LogEntry:
    rio = Rio(kind=RioKind.WR, source=VolumeRef(SRC, 0), target=VolumeRef(DST, 0), block=5, data=b"!" * 512)
    return LogEntry(target=VolumeRef(DST, 0), source=VolumeRef(SRC, 0), order_id=1, io_time=0.0, seq=seq, rio=rio)


def test_the_edge_learns_the_sender_from_the_source_port_id():
    """The RIO comes over ST112's own link and names ST112, but its frame's source PortID
    names no storage attached to E104: the edge goes by the PortID (1901) and refuses it."""
    net, journal = lab()
    rio = wr()
    net.send("ST112", "E104", rio, rio.size, src_addr=port_id("50:06:0e:80:00:00:09:99"), dst_addr=port_id(DST))
    drain(net)
    (denied,) = events(journal, "access-denied")
    assert "is not a storage attached to E104" in denied["reason"] and net.device("E104").denied == 1
    assert not events(journal, "log-created")


def test_a_port_id_that_does_not_match_the_rio_is_malformed():
    """ST11's RIO names ST12, its frame's destination PortID ST22's virtual storage at E1."""
    net, journal = lab("mesh")
    wwn = {s.name: s.wwn for s in net.topo.storages}
    rio = Rio(kind=RioKind.PAIR_CREATE, source=VolumeRef(wwn["ST11"], 0), target=VolumeRef(wwn["ST12"], 0), xid=1)
    edge = net.device("E1")
    net.send("ST11", "E1", rio, rio.size, src_addr=port_id(wwn["ST11"]), dst_addr=port_id(wwn["ST22"]))
    net.send("ST11", "E1", rio, rio.size)  # no addresses at all
    drain(net)
    refused = events(journal, "frame-refused")
    assert [e["reason"] for e in refused] == [
        f"destination {port_id(wwn['ST22'])} is {wwn['ST22']}, the {RioKind.PAIR_CREATE} names {wwn['ST12']}",
        "a frame without addresses"]
    assert edge.malformed == 2 and not events(journal, "log-created") and not events(journal, "access-denied")


def test_well_addressed_writes_still_copy():
    net, journal = lab()
    lab_ = Lab(net)
    do(lab_, CreatePair(source="ST112:0", target="ST122:0"))
    drain(net)
    do(lab_, Workload(volume="ST112:0", rate=1000, count=20))
    drain(net)
    assert net.device("ST122").volumes[0].blocks == net.device("ST112").volumes[0].blocks
    assert all(d.malformed == 0 for d in net.devices.values())


def test_a_core_forwards_by_the_ip_list_the_frame_carries():
    """Routing 408 says E104-C202-E105; a frame whose list says E104-C202-E104 goes back to
    E104, as its list says (E104 then refuses the entry, whose storage is not behind it)."""
    net, journal = lab()
    core = net.device("C202")
    message = (entry(1),)
    net.send("E104", "C202", message, 600, src_addr=E104, dst_addr=C202, route=(E104, C202, E104))
    drain(net)
    sent = [e for e in events(journal, "sent") if e["device"] == "C202"]
    assert [e["to"] for e in sent] == ["E104"] and core.relayed == 1
    assert events(journal, "entry-refused")[0]["device"] == "E104"


def test_a_frame_whose_list_leads_nowhere_is_dropped_with_one_line():
    net, journal = lab()
    core = net.device("C202")
    net.send("E104", "C202", (entry(1),), 600, src_addr=E104, dst_addr=C202, route=(E104, "192.0.2.77", E105))
    net.send("E104", "C202", (entry(2),), 600, src_addr=E104, dst_addr=C202, route=(E104, C202, "192.0.2.77"))
    net.send("E104", "C202", (entry(3),), 600, src_addr=E104, dst_addr=E105, route=(E104, C202, E105))
    drain(net)
    assert core.relayed == 0 and core.unroutable == 2 and core.malformed == 1
    assert [e["route"] for e in events(journal, "no-route")] == [[E104, "192.0.2.77", E105],
                                                                  [E104, C202, "192.0.2.77"]]
    assert events(journal, "frame-refused")[0]["reason"] == f"addressed to {E105}, not to C202's {C202}"
    assert not [e for e in events(journal, "sent") if e["device"] == "C202"]


def test_the_edge_refuses_a_gbe_frame_addressed_to_another_ip():
    net, journal = lab()
    net.send("C202", "E105", (entry(1),), 600, src_addr=C202, dst_addr=E104, route=(E104, C202, E105))
    drain(net)
    assert net.device("E105").malformed == 1 and not events(journal, "log-received")
    assert events(journal, "frame-refused")[0]["reason"] == f"addressed to {E104}, not to E105's {E105}"


def test_the_source_edge_stamps_the_route_it_chose_on_its_frames(monkeypatch):
    seen = []
    from rcnlab.emu import network as network_module

    original = network_module.Network.send

    def spy(self, src, dst, message, size, step=None, src_addr=None, dst_addr=None, route=()):
        if isinstance(message, tuple):
            seen.append((src, dst, src_addr, dst_addr, route))
        return original(self, src, dst, message, size, step, src_addr, dst_addr, route)

    monkeypatch.setattr(network_module.Network, "send", spy)
    run(topology("fig1"), '[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n',
        trace=False)
    there, back = (E104, C202, E105), (E105, C202, E104)
    assert set(seen) == {("E104", "C202", E104, C202, there), ("C202", "E105", C202, E105, there),
                         ("E105", "C202", E105, C202, back), ("C202", "E104", C202, E104, back)}


def test_fig2_the_target_edge_addresses_the_target_storage_from_the_virtual_source():
    """Conversion (D): frames from E105 to ST122 carry the source virtual storage's PortID
    as their source PortID (the virtual WWN of ST112 at E105), not ST112's own."""
    net, journal = lab("fig2")
    edge = net.device("E105")
    virtual = next(v.virtual_wwn for v in edge.virtual.values() if v.corresponding_wwn == SRC)
    assert virtual != SRC
    seen = []
    original = net.send

    def spy(src, dst, message, size, step=None, src_addr=None, dst_addr=None, route=()):
        if (src, dst) == ("E105", "ST122"):
            seen.append(src_addr)
        return original(src, dst, message, size, step, src_addr, dst_addr, route)

    net.send = spy  # type: ignore[method-assign]
    do(Lab(net), CreatePair(source="ST112:0", target="ST122:0"))
    drain(net)
    assert seen and set(seen) == {port_id(virtual)}


def test_ip_attached_storages_are_told_apart_by_their_ip_addresses():
    net, journal = lab("ip")
    rio = Rio(kind=RioKind.PAIR_CREATE, source=VolumeRef("192.0.2.112", 0), target=VolumeRef("192.0.2.122", 0),
              xid=1)
    net.send("ST112", "E104", rio, rio.size, src_addr="192.0.2.199", dst_addr="192.0.2.122")
    drain(net)
    assert net.device("E104").denied == 1
    lab_ = Lab(net)
    do(lab_, CreatePair(source="ST112:0", target="ST122:0"))
    drain(net)
    assert events(journal, "log-created")
