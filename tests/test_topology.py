"""Topology files: the shipped ones load, every kind of mistake is one clear line, routing 408."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from rcnlab.topo.load import (
    TopologyError,
    builtin_topology_path,
    load_builtin_topology,
    load_topology,
    parse_topology,
)
from rcnlab.topo.routing import find_route, route_ips
from rcnlab.topo.schema import SECONDS_PER_KM

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "topologies").glob("*.toml"))

# Fig. 1 in the compact inline-table spelling, so that every device and link is one line
# and each test case can change it with one unique replacement.
BASE = """\
customer = [{ id = "C1" }]
host = [
  { name = "H111", customer = "C1", site = "source", storage = "ST112" },
  { name = "H121", customer = "C1", site = "target", storage = "ST122" },
]
storage = [
  { name = "ST112", wwn = "50:06:0e:80:00:00:01:12", customer = "C1", site = "source", edge = "E104" },
  { name = "ST122", wwn = "50:06:0e:80:00:00:01:22", customer = "C1", site = "target", edge = "E105" },
]
edge = [
  { name = "E104", ip = "192.0.2.104", site = "source" },
  { name = "E105", ip = "192.0.2.105", site = "target" },
]
core = [{ name = "C202", ip = "192.0.2.202" }]
link = [
  { a = "H111", b = "ST112", kind = "scsi" },
  { a = "ST112", b = "E104", kind = "fc" },
  { a = "E104", b = "C202", kind = "gbe", distance_km = 300 },
  { a = "C202", b = "E105", kind = "gbe", distance_km = 300 },
  { a = "E105", b = "ST122", kind = "fc" },
  { a = "H121", b = "ST122", kind = "scsi" },
]

[lab]
name = "t"
"""
ST112 = '{ name = "ST112", wwn = "50:06:0e:80:00:00:01:12", customer = "C1", site = "source", edge = "E104" }'
# A second customer C2 with storage ST9 on edge E105.
C2_STORAGE = [
    ('customer = [{ id = "C1" }]', 'customer = [{ id = "C1" }, { id = "C2" }]'),
    ("\n]\nedge = [", '\n  { name = "ST9", wwn = "50:06:0e:80:00:00:00:09", customer = "C2", site = "target", edge = "E105" },'
                    "\n]\nedge = ["),
    ('{ a = "H121", b = "ST122", kind = "scsi" },', '{ a = "H121", b = "ST122", kind = "scsi" },\n  { a = "ST9", b = "E105", kind = "fc" },'),
]


def edited(*changes: tuple[str, str]) -> str:
    """BASE with each (old, new) applied; old must occur exactly once."""
    text = BASE
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_base_is_valid() -> None:
    topo = parse_topology(BASE, "t.toml")
    assert [link.name for link in topo.links][2] == "E104-C202"


# (case id, changes to BASE or text to append, key, problem)
CASES = [
    ("toml-syntax", [("[lab]", "[lab]\noops = ")], "line 25", "invalid TOML (Invalid value, column 8)"),
    ("toml-syntax-end", "x = [1,", "line 26", "invalid TOML (Invalid value (at end of document))"),
    ("missing-key", [('name = "H111", customer = "C1", site = "source", ', 'name = "H111", customer = "C1", ')],
     "host[0].site", "missing required key"),
    ("missing-link-end", [('{ a = "H111", b = "ST112", ', '{ a = "H111", ')], "link[0].b", "missing required key"),
    ("wrong-type-int", [('{ name = "C202", ip = "192.0.2.202" }', '{ name = "C202", ip = "192.0.2.202", capacity = "lots" }')],
     "core[0].capacity", "expected an integer, got string 'lots'"),
    ("wrong-type-bool-as-int", [('ip = "192.0.2.202" }', 'ip = "192.0.2.202", capacity = true }')],
     "core[0].capacity", "expected an integer, got boolean True"),
    ("wrong-type-number", [("distance_km = 300 },\n  { a = \"C202\"", "distance_km = \"300\" },\n  { a = \"C202\"")],
     "link[2].distance_km", "expected a number, got string '300'"),
    ("wrong-type-table", [('customer = [{ id = "C1" }]', 'customer = [{ id = "C1" }]\nmanagement = 3')],
     "management", "expected a table"),
    ("wrong-type-section", [('customer = [{ id = "C1" }]', 'customer = { id = "C1" }')],
     "customer", "expected an array of tables, got table"),
    ("wrong-type-pos", [('{ name = "E104", ip = "192.0.2.104", site = "source" }',
                         '{ name = "E104", ip = "192.0.2.104", site = "source", pos = [1.5, 2] }')],
     "edge[0].pos", "expected an integer"),
    ("unknown-key", [('site = "source" }', 'site = "source", resend_timout_ms = 5 }')],
     "edge[0].resend_timout_ms", "unknown key"),
    ("unknown-section", [("[lab]", "[labs]")], "labs", "unknown key (allowed: lab, customer,"),
    ("unknown-device-link", [('{ a = "E105", b = "ST122"', '{ a = "E105", b = "E999"')],
     "link[4].b", "unknown device 'E999'"),
    ("unknown-device-host-storage", [('storage = "ST112" }', 'storage = "ST999" }')],
     "host[0].storage", "unknown device 'ST999'"),
    ("unknown-device-storage-edge", [('edge = "E104" }', 'edge = "E999" }')],
     "storage[0].edge", "unknown device 'E999'"),
    ("wrong-device-kind", [('storage = "ST112" }', 'storage = "E104" }')],
     "host[0].storage", "'E104' is an edge, not a storage"),
    ("unknown-customer-host", [('{ name = "H121", customer = "C1"', '{ name = "H121", customer = "C7"')],
     "host[1].customer", "unknown customer 'C7'"),
    ("unknown-customer-storage", [('customer = "C1", site = "source", edge', 'customer = "C7", site = "source", edge')],
     "storage[0].customer", "unknown customer 'C7'"),
    ("unknown-device-customer-edges", [('{ id = "C1" }', '{ id = "C1", edges = ["E104", "E9"] }')],
     "customer[0].edges[1]", "unknown device 'E9'"),
    ("host-storage-other-customer",
     [*C2_STORAGE, ("\n]\nstorage = [", '\n  { name = "H9", customer = "C1", site = "target", storage = "ST9" },\n]\nstorage = [')],
     "host[2].storage", "storage ST9 belongs to customer C2, not C1"),
    ("duplicate-device-name", [('{ name = "H121"', '{ name = "H111"')], "host[1].name", "duplicate device name 'H111'"),
    ("duplicate-name-across-kinds", [('{ name = "C202"', '{ name = "E104"')],
     "core[0].name", "duplicate device name 'E104' (also edge[0])"),
    ("duplicate-customer", [('{ id = "C1" }', '{ id = "C1" }, { id = "C1" }')], "customer[1].id", "duplicate customer id"),
    ("duplicate-wwn", [("00:00:01:22", "00:00:01:12")], "storage[1].wwn", "duplicate WWN 50:06:0e:80:00:00:01:12"),
    ("duplicate-wwn-case", [("50:06:0e:80:00:00:01:22", "50:06:0E:80:00:00:01:12")],
     "storage[1].wwn", "duplicate WWN 50:06:0e:80:00:00:01:12"),
    ("duplicate-virtual-wwn", [('site = "source" }', 'site = "source", virtual_wwn = '
                                '{ "50:06:0e:80:00:00:01:22" = "50:06:0e:80:00:00:01:12" } }')],
     'edge[0].virtual_wwn."50:06:0e:80:00:00:01:22"', "duplicate WWN 50:06:0e:80:00:00:01:12 (also storage[0].wwn)"),
    ("unknown-virtual-wwn-storage", [('site = "source" }', 'site = "source", virtual_wwn = '
                                      '{ "50:06:0e:80:00:00:09:99" = "50:06:0e:80:00:01:04:22" } }')],
     'edge[0].virtual_wwn."50:06:0e:80:00:00:09:99"', "unknown storage WWN"),
    ("invalid-wwn", [("50:06:0e:80:00:00:01:22", "50:06:0e:80:00:01:22")], "storage[1].wwn", "invalid WWN"),
    ("duplicate-ip", [('ip = "192.0.2.105"', 'ip = "192.0.2.104"')], "edge[1].ip", "duplicate IP address 192.0.2.104"),
    ("duplicate-ip-core", [('ip = "192.0.2.202"', 'ip = "192.0.2.105"')], "core[0].ip", "duplicate IP address 192.0.2.105"),
    ("invalid-ip", [('ip = "192.0.2.202"', 'ip = "192.0.2.300"')], "core[0].ip", "invalid IPv4 address"),
    ("link-to-itself", [('{ a = "E105", b = "ST122"', '{ a = "E105", b = "E105"')], "link[4].b", "link from E105 to itself"),
    ("duplicate-link", [('{ a = "H121", b = "ST122", kind = "scsi" }',
                         '{ a = "H121", b = "ST122", kind = "scsi" }, { a = "ST122", b = "H121", kind = "scsi" }')],
     "link[6].b", "duplicate link between ST122 and H121 (also link[5])"),
    ("link-to-management", [("[lab]", '[management]\nname = "M103"\n\n[lab]'),
                            ('{ a = "H121", b = "ST122", kind = "scsi" }',
                             '{ a = "H121", b = "ST122", kind = "scsi" }, { a = "M103", b = "E104", kind = "gbe", latency_ms = 1 }')],
     "link[6].kind", "gbe links join two edges, an edge and a core, or two cores, not management server M103"),
    ("link-kind-scsi", [('{ a = "H111", b = "ST112", kind = "scsi" }', '{ a = "H111", b = "ST112", kind = "fc" }')],
     "link[0].kind", "fc links join a storage and an edge, not host H111 and storage ST112"),
    ("link-kind-gbe", [('{ a = "ST112", b = "E104", kind = "fc" }', '{ a = "ST112", b = "E104", kind = "gbe", latency_ms = 1 }')],
     "link[1].kind", "gbe links join"),
    ("link-kind-unknown", [('{ a = "ST112", b = "E104", kind = "fc" }', '{ a = "ST112", b = "E104", kind = "fcoe" }')],
     "link[1].kind", "expected one of scsi, fc, gbe, ip, got 'fcoe'"),
    ("attach-ip-needs-ip-link", [('wwn = "50:06:0e:80:00:00:01:12"', 'attach = "ip", address = "192.0.2.112"')],
     "link[1].kind", 'storage ST112 has attach = "ip", so its link to E104 must be "ip"'),
    ("attach-fc-needs-fc-link", [('{ a = "ST112", b = "E104", kind = "fc" }', '{ a = "ST112", b = "E104", kind = "ip" }')],
     "link[1].kind", 'storage ST112 has attach = "fc", so its link to E104 must be "fc"'),
    ("attach-ip-has-no-wwn", [('"50:06:0e:80:00:00:01:12",', '"50:06:0e:80:00:00:01:12", attach = "ip",')],
     "storage[0].wwn", "unknown key"),
    ("attach-ip-needs-address", [('wwn = "50:06:0e:80:00:00:01:12"', 'attach = "ip"')],
     "storage[0].address", "missing required key"),
    ("storage-on-other-edge", [('{ a = "ST112", b = "E104", kind = "fc" }', '{ a = "ST112", b = "E105", kind = "fc" }')],
     "link[1].b", "storage ST112 is attached to edge E104, not E105"),
    ("storage-without-edge-link", [('  { a = "ST112", b = "E104", kind = "fc" },\n', "")],
     "storage[0].edge", "no fc link between ST112 and its edge E104"),
    ("host-without-scsi-link", [('  { a = "H111", b = "ST112", kind = "scsi" },\n', "")],
     "host[0].storage", "no scsi link between H111 and its storage ST112"),
    ("host-linked-to-other-storage", [('{ a = "H121", b = "ST122", kind = "scsi" }', '{ a = "H121", b = "ST112", kind = "scsi" }')],
     "link[5].b", "host H121 uses storage ST122, not ST112"),
    ("negative-latency", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", latency_ms = -1 }')],
     "link[4].latency_ms", "must not be negative"),
    ("negative-distance", [("distance_km = 300 },\n  { a = \"C202\"", "distance_km = -3 },\n  { a = \"C202\"")],
     "link[2].distance_km", "must not be negative"),
    ("negative-jitter", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", jitter_ms = -0.5 }')],
     "link[4].jitter_ms", "must not be negative"),
    ("zero-bandwidth", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", bandwidth_mbps = 0 }')],
     "link[4].bandwidth_mbps", "must be >= 0.001"),
    ("small-mtu", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", mtu = 63 }')],
     "link[4].mtu", "must be >= 64"),
    ("loss-one", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", loss = 1.0 }')],
     "link[4].loss", "must be in [0, 1)"),
    ("loss-negative", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", loss = -0.1 }')],
     "link[4].loss", "must be in [0, 1)"),
    ("loss-nan", [('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E105", b = "ST122", kind = "fc", loss = nan }')],
     "link[4].loss", "expected a finite number"),
    ("latency-and-distance", [("distance_km = 300 },\n  { a = \"C202\"", "distance_km = 300, latency_ms = 1 },\n  { a = \"C202\"")],
     "link[2].distance_km", "give latency_ms or distance_km, not both"),
    ("gbe-without-delay", [("kind = \"gbe\", distance_km = 300 },\n  { a = \"C202\"", "kind = \"gbe\" },\n  { a = \"C202\"")],
     "link[2].latency_ms", "missing required key for a gbe link (or distance_km)"),
    ("duplicate-lun", [(ST112, ST112[:-2] + ", volumes = [{ lun = 0, blocks = 8 }, { lun = 0, blocks = 8 }] }")],
     "storage[0].volumes[1].lun", "duplicate LUN 0 (also storage[0].volumes[0])"),
    ("zero-blocks", [(ST112, ST112[:-2] + ", volumes = [{ lun = 0, blocks = 0 }] }")],
     "storage[0].volumes[0].blocks", "must be > 0"),
    ("no-volumes", [(ST112, ST112[:-2] + ", volumes = [] }")], "storage[0].volumes", "expected at least one entry (or leave volumes out)"),
    ("volume-missing-blocks", [(ST112, ST112[:-2] + ", volumes = [{ lun = 3 }] }")],
     "storage[0].volumes[0].blocks", "missing required key"),
    ("too-many-storages", [('{ id = "C1" }', '{ id = "C1", max_storages = 1 }')],
     "customer[0].max_storages", "customer C1 has 2 storages (ST112, ST122), over the contract limit of 1"),
    ("edge-not-in-contract", [('{ id = "C1" }', '{ id = "C1", edges = ["E104"] }')],
     "storage[1].edge", "edge E105 is not in customer C1's contract edges (E104)"),
    ("too-many-pairs", [('{ id = "C1" }', '{ id = "C1", max_pairs = 0 }'),
                        ("[lab]", 'pair = [{ source = "ST112:0", target = "ST122:0", order_id = 1 }]\n[lab]')],
     "customer[0].max_pairs", "more pairs than the contract limit of 0 (max_pairs) with pair[0]"),
    ("pair-unknown-storage", [("[lab]", 'pair = [{ source = "ST999:0", target = "ST122:0", order_id = 1 }]\n[lab]')],
     "pair[0].source", "unknown device 'ST999'"),
    ("pair-unknown-lun", [("[lab]", 'pair = [{ source = "ST112:0", target = "ST122:7", order_id = 1 }]\n[lab]')],
     "pair[0].target", "storage ST122 has no LUN 7"),
    ("pair-bad-format", [("[lab]", 'pair = [{ source = "ST112", target = "ST122:0", order_id = 1 }]\n[lab]')],
     "pair[0].source", "expected 'STORAGE:LUN', got 'ST112'"),
    ("pair-not-a-storage", [("[lab]", 'pair = [{ source = "H111:0", target = "ST122:0", order_id = 1 }]\n[lab]')],
     "pair[0].source", "'H111' is a host, not a storage"),
    ("pair-crosses-customers", [*C2_STORAGE, ("[lab]", 'pair = [{ source = "ST112:0", target = "ST9:0", order_id = 1 }]\n[lab]')],
     "pair[0].target", "ST112:0 and ST9:0 belong to different customers (ST112 to C1, ST9 to C2)"),
    ("pair-same-volume-twice", [("[lab]", 'pair = [{ source = "ST112:0", target = "ST122:0", order_id = 1 },'
                                 '{ source = "ST112:0", target = "ST122:0", order_id = 2 }]\n[lab]')],
     "pair[1].source", "volume ST112:0 is already the source of pair[0]"),
    ("pair-on-one-edge", [('edge = "E105" },\n]', 'edge = "E104" },\n]'),
                          ('{ a = "E105", b = "ST122", kind = "fc" }', '{ a = "E104", b = "ST122", kind = "fc" }'),
                          ("[lab]", 'pair = [{ source = "ST112:0", target = "ST122:0", order_id = 1 }]\n[lab]')],
     "pair[0].target", "ST112 and ST122 are both attached to edge E104; the RCN copies between storages on two"),
    ("pair-target-smaller", [(ST112, ST112[:-2] + ", volumes = [{ lun = 0, blocks = 16 }] }"),
                             ('edge = "E105" },\n]', 'edge = "E105", volumes = [{ lun = 0, blocks = 8 }] },\n]'),
                             ("[lab]", 'pair = [{ source = "ST112:0", target = "ST122:0", order_id = 1 }]\n[lab]')],
     "pair[0].target", "target ST122:0 has 8 blocks, fewer than source ST112:0 (16)"),
    ("no-route", [('  { a = "C202", b = "E105", kind = "gbe", distance_km = 300 },\n', "")],
     "storage[1].edge", "no GbE route between ST112 (edge E104) and ST122 (edge E105)"),
    ("order-method", [('name = "t"', 'name = "t"\norder_assurance = "C"')], "lab.order_assurance", "expected one of A-1, A-2, B, got 'C'"),
    ("site", [('site = "source", storage', 'site = "moon", storage')], "host[0].site", "expected one of source, network, target, got 'moon'"),
    ("block-size", [('name = "t"', 'name = "t"\nblock_size = 1000')], "lab.block_size", "must be a power of two from 512 to 1048576, got 1000"),
    ("bad-name", [('{ name = "H121"', '{ name = "H-121"')], "host[1].name", "invalid name 'H-121'"),
]


@pytest.mark.parametrize(("changes", "key", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_is_one_line(tmp_path: Path, changes: list[tuple[str, str]] | str, key: str, problem: str) -> None:
    text = BASE + changes if isinstance(changes, str) else edited(*changes)
    message = error_for(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'x.toml'}: {key}"), message
    assert problem in message, message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match=r"x\.toml: file: cannot read"):
        load_topology(tmp_path / "x.toml")


@pytest.mark.parametrize("text", ["", "[lab]\nname = \"empty\"\n"])
def test_a_topology_without_storages_is_refused(text: str) -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "empty.toml")
    assert str(info.value) == "empty.toml: storage: no [[storage]] table: a lab needs storages to copy between"


def test_message_names_the_path_as_given() -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(BASE.replace('edge = "E104" }', 'edge = "E999" }'), "topologies/x.toml")
    assert str(info.value) == "topologies/x.toml: storage[0].edge: unknown device 'E999'"


@pytest.mark.parametrize("bad", ['"x"', "1.5", "-1", "true", "[]", "{}"])
def test_no_other_exception_escapes(bad: str) -> None:
    """Every value replaced by every wrong kind of value, and every line removed: only TopologyError."""
    lines = BASE.splitlines()
    for i, line in enumerate(lines):
        texts = ["\n".join(lines[:i] + lines[i + 1 :])]
        for value_start in (j + 2 for j in range(len(line)) if line.startswith("= ", j)):
            end = min([k for k in (line.find(",", value_start), line.find(" }", value_start)) if k > 0] or [len(line)])
            texts.append("\n".join([*lines[:i], line[:value_start] + bad + line[end:], *lines[i + 1 :]]))
        for text in texts:
            try:
                parse_topology(text, "t.toml")
            except TopologyError as exc:
                assert "\n" not in str(exc)


# --- the shipped files -------------------------------------------------------------------


def test_shipped_files_present() -> None:
    assert {p.name for p in SHIPPED} >= {"fig1.toml", "nocore.toml", "mesh.toml", "fig2.toml", "ip.toml"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_file_loads(path: Path) -> None:
    topo = load_topology(path)
    assert topo.path == str(path)
    assert topo.name == path.stem
    for s1, s2 in itertools.combinations(topo.storages, 2):
        if s1.customer == s2.customer:
            assert find_route(topo, s1.edge, s2.edge) is not None


def test_fig1_is_the_builtin() -> None:
    assert builtin_topology_path() == ROOT / "topologies" / "fig1.toml"
    topo = load_builtin_topology()
    assert topo.path == "<builtin>"
    assert [d for d in topo.device_names()] == ["H111", "H121", "ST112", "ST122", "E104", "E105", "C202", "M103"]
    st112 = topo.storage("ST112")
    assert (st112.wwn, st112.edge, st112.site) == ("50:06:0e:80:00:00:01:12", "E104", "source")
    assert st112.volumes[0].blocks * topo.block_size == 1 << 40
    gbe = [link for link in topo.links if link.kind == "gbe"]
    assert [link.latency for link in gbe] == [300 * SECONDS_PER_KM] * 2
    assert topo.cores[0].batch_wait == 0.0
    assert all(d.pos is not None for d in (*topo.hosts, *topo.storages, *topo.edges, *topo.cores))


def test_units_are_converted() -> None:
    topo = parse_topology(
        edited(
            ('{ a = "E105", b = "ST122", kind = "fc" }',
             '{ a = "E105", b = "ST122", kind = "fc", latency_ms = 2, jitter_ms = 0.5, bandwidth_mbps = 800 }'),
            ('site = "target" }', 'site = "target", resend_timeout_ms = 20, suspend_timeout_ms = 1500 }'),
            ('ip = "192.0.2.202" }', 'ip = "192.0.2.202", batch_wait_ms = 5 }'),
            ("[lab]", "[management]\ncollect_interval_ms = 250\nlatency_ms = 3\n\n[lab]"),
        ),
        "t.toml",
    )
    link = topo.links[4]
    assert (link.latency, link.jitter, link.bandwidth, link.mtu) == (0.002, 0.0005, 1e8, 2112)
    scsi = topo.links[0]
    assert (scsi.latency, scsi.bandwidth, scsi.mtu) == (0.02 / 1000, 4000e6 / 8, 65536)
    assert (topo.edges[1].resend_timeout, topo.edges[1].suspend_timeout) == (0.02, 1.5)
    assert topo.cores[0].batch_wait == 0.005
    assert (topo.management.collect_interval, topo.management.latency) == (0.25, 0.003)


def test_variants() -> None:
    fig2 = load_topology(ROOT / "topologies" / "fig2.toml")
    e104, e105 = fig2.edges
    assert e104.virtual_wwn == {"50:06:0e:80:00:00:01:22": "50:06:0e:80:00:01:04:22"}
    assert e105.virtual_wwn == {"50:06:0e:80:00:00:01:12": "50:06:0e:80:00:01:05:12"}
    ip = load_topology(ROOT / "topologies" / "ip.toml")
    assert [(s.attach, s.wwn) for s in ip.storages] == [("ip", "192.0.2.112"), ("ip", "192.0.2.122")]
    assert {link.kind for link in ip.links} == {"scsi", "ip", "gbe"}
    nocore = load_topology(ROOT / "topologies" / "nocore.toml")
    assert nocore.cores == () and find_route(nocore, "E104", "E105") == ("E104", "E105")


# --- routing 408 -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mesh():
    return load_topology(ROOT / "topologies" / "mesh.toml")


def test_route_fig1() -> None:
    topo = load_builtin_topology()
    assert find_route(topo, "E104", "E105") == ("E104", "C202", "E105")
    assert find_route(topo, "E105", "E104") == ("E105", "C202", "E104")
    assert route_ips(topo, ("E104", "C202", "E105")) == ("192.0.2.104", "192.0.2.202", "192.0.2.105")
    assert find_route(topo, "E104", "E104") == ("E104",)


def test_route_fewest_cores(mesh) -> None:
    # E1 -> E3 could go E1-C201-C202-C204-E3 (3 cores); it takes 2.
    assert find_route(mesh, "E1", "E3") == ("E1", "C201", "C203", "E3")


def test_route_fewest_cores_beats_names() -> None:
    """A route through a later-named core wins if it has fewer cores."""
    text = BASE.replace(
        'core = [{ name = "C202", ip = "192.0.2.202" }]',
        'core = [{ name = "C202", ip = "192.0.2.202" }, { name = "A1", ip = "192.0.2.1" }, { name = "A2", ip = "192.0.2.2" }]',
    ).replace(
        '  { a = "E105", b = "ST122", kind = "fc" },',
        '  { a = "E105", b = "ST122", kind = "fc" },\n'
        '  { a = "E104", b = "A1", kind = "gbe", latency_ms = 1 },\n'
        '  { a = "A1", b = "A2", kind = "gbe", latency_ms = 1 },\n'
        '  { a = "A2", b = "E105", kind = "gbe", latency_ms = 1 },',
    )
    topo = parse_topology(text, "t.toml")
    assert find_route(topo, "E104", "E105") == ("E104", "C202", "E105")
    assert find_route(topo, "E104", "E105", down=["C202"]) == ("E104", "A1", "A2", "E105")


def test_route_tie_is_deterministic(mesh) -> None:
    assert find_route(mesh, "E1", "E2") == ("E1", "C201", "E2")
    assert find_route(mesh, "E2", "E1") == ("E2", "C201", "E1")


def test_route_capacity_detour(mesh) -> None:
    load = {"C201": 1}  # C201's capacity is 1
    assert find_route(mesh, "E1", "E2", load) == ("E1", "C202", "E2")
    assert find_route(mesh, "E1", "E3", load) == ("E1", "C202", "C204", "E3")
    assert find_route(mesh, "E1", "E2", {"C201": 1, "C202": 3}) is None


def test_mesh_routes_in_name_order(mesh) -> None:
    """What the management server derives for mesh.toml, as its header comment says."""
    load: dict[str, int] = {}
    routes = {}
    storages = sorted(mesh.storages, key=lambda s: s.name)
    for s1, s2 in itertools.combinations(storages, 2):
        if s1.customer == s2.customer:
            route = routes[s1.name, s2.name] = find_route(mesh, s1.edge, s2.edge, load)
            for core in route[1:-1]:
                load[core] = load.get(core, 0) + 1
    assert routes == {
        ("ST11", "ST12"): ("E1", "C201", "E2"),
        ("ST21", "ST22"): ("E1", "C202", "E2"),
        ("ST21", "ST23"): ("E1", "C202", "C204", "E3"),
        ("ST22", "ST23"): ("E2", "C202", "C204", "E3"),
    }


def test_route_avoids_down_devices_and_links(mesh) -> None:
    assert find_route(mesh, "E1", "E2", down={"C201"}) == ("E1", "C202", "E2")
    assert find_route(mesh, "E1", "E3", down={"C203"}) == ("E1", "C202", "C204", "E3")
    assert find_route(mesh, "E1", "E3", down={"C203", "E1-C202"}) == ("E1", "C201", "C202", "C204", "E3")
    assert find_route(mesh, "E1", "E3", down={"C201-C203"}) == ("E1", "C202", "C204", "E3")
    assert find_route(mesh, "E1", "E3", down={"C203-C201"}) == ("E1", "C202", "C204", "E3")
    assert find_route(mesh, "E1", "E2", down={"E2"}) is None


def test_route_unreachable(mesh) -> None:
    assert find_route(mesh, "E1", "E3", down={"C203", "C204"}) is None
    assert find_route(mesh, "E1", "E2", down={"E1-C201", "E1-C202"}) is None
    with pytest.raises(KeyError):
        find_route(mesh, "E1", "C201")


def test_an_order_group_spanning_two_edge_pairs_is_refused(tmp_path):
    """One sequence per order assurance ID is reflected in order by one target edge (2003)."""
    import pytest

    from rcnlab.topo.load import TopologyError, load_topology

    text = (ROOT / "topologies" / "mesh.toml").read_text().replace(
        'target = "ST23:0"\norder_id = 3', 'target = "ST23:0"\norder_id = 2')
    path = tmp_path / "mesh.toml"
    path.write_text(text)
    with pytest.raises(TopologyError, match=r"pair\[2\]\.order_id: order assurance ID 2 already joins edges E1->E2"):
        load_topology(path)
