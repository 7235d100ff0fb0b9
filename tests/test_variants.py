"""The Fig. 2 variant (virtual storages with their own WWNs, conversions (A)-(D)) and the
IP-attached variant pass the same end-to-end tests as Fig. 1."""

from __future__ import annotations

import pytest

from helpers import TOPOLOGIES, run, topology
from rcnlab.model.ids import port_id
from rcnlab.summary import summarize

VIRTUAL_122_AT_E104 = "50:06:0e:80:00:01:04:22"  # virtual storage 106 stands for ST122
VIRTUAL_112_AT_E105 = "50:06:0e:80:00:01:05:12"  # virtual storage 107 stands for ST112


def scenario_file(name):
    return (TOPOLOGIES / "scenarios" / f"{name}.toml").read_text()


@pytest.mark.parametrize("name", ["fig1", "fig2", "ip"])
def test_the_basic_write_test_passes(name):
    scenario = "fig1-basic" if name == "fig1" else f"{name}-basic"
    net, runner, _ = run(topology(name), scenario_file(scenario), seed=7)
    assert runner.failed == [] and runner.refused == [] and runner.passed == 2
    s = summarize(net)
    assert set(s["pairs"][0]["states"].values()) == {"Duplex"}
    assert s["volumes"]["ST112:0"]["digest"] == s["volumes"]["ST122:0"]["digest"]
    assert s["writes"]["acknowledged"] == 2200 and sum(s["log_entries_remaining"].values()) == 0


def test_fig2_source_storage_addresses_the_virtual_wwn_and_edges_convert():
    net, runner, trace = run(topology("fig2"), scenario_file("fig2-basic"), seed=7)
    st112, st122 = net.devices["ST112"], net.devices["ST122"]
    assert st112.pairs[0].remote.wwn == VIRTUAL_122_AT_E104  # the source addresses 106, not ST122
    assert st122.pairs[0].remote.wwn == VIRTUAL_112_AT_E105  # the target sees 107 as its source (D)
    # the edges carry real WWNs between them (A)/(B): log entries name ST122 itself
    created = [e for e in trace if e["event"] == "log-created" and e["device"] == "E104"]
    assert created and all(e["volume"] == f"{st122.wwn}/0" for e in created)
    # on the wire, FC frames from ST112 go to the virtual storage's port
    assert st112.spec.attach == "fc"
    assert port_id(VIRTUAL_122_AT_E104) != port_id(st122.wwn)


def test_fig2_fc_frames_carry_the_virtual_port_id(monkeypatch):
    seen = []
    from rcnlab.emu import network as network_module

    original = network_module.Network.send

    def spy(self, src, dst, message, size, step=None, src_addr=None, dst_addr=None, route=()):
        if src == "ST112" and dst == "E104":
            seen.append(dst_addr)
        return original(self, src, dst, message, size, step, src_addr=src_addr, dst_addr=dst_addr, route=route)

    monkeypatch.setattr(network_module.Network, "send", spy)
    run(topology("fig2"), '[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n',
        trace=False)
    assert seen and set(seen) == {port_id(VIRTUAL_122_AT_E104)}


@pytest.mark.parametrize("name", ["fig2", "ip"])
@pytest.mark.parametrize("scenario", ["core-crash", "planned-suspend", "failback"])
def test_faults_and_recovery_work_in_the_variants(name, scenario):
    text = scenario_file(scenario)
    if scenario == "core-crash":
        text = text.replace("count = 5000", "count = 2000")
    net, runner, _ = run(topology(name), text, seed=5)
    assert runner.failed == [] and runner.refused == []
    assert net.devices["ST112"].volumes[0].digest() == net.devices["ST122"].volumes[0].digest()


def test_ip_variant_storages_use_ip_addresses():
    net, runner, _ = run(topology("ip"), scenario_file("ip-basic"), seed=7, trace=False)
    st112 = net.devices["ST112"]
    assert st112.spec.attach == "ip" and st112.wwn == "192.0.2.112"
    assert net.channels[("ST112", "E104")].kind == "ip"
    assert st112.pairs[0].remote.wwn == "192.0.2.122"
