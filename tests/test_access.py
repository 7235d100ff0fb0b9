"""Access control 405 and the per-customer view of the management server."""

from __future__ import annotations

from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.rio import Rio, RioKind
from tests.helpers import run, topology


def test_a_storage_of_another_customer_is_refused_by_the_edge():
    topo = topology("mesh")
    net, runner, _ = run(topo, "", trace=False)
    customers = {s.name: s.customer for s in topo.storages}
    shared = [e for e in net.edges if len({customers[n] for n in e.attached.values()}) > 1]
    assert shared, "mesh.toml shares an edge between customers"
    edge = shared[0]
    by_customer = {}
    for wwn, name in edge.attached.items():
        by_customer.setdefault(customers[name], []).append(net.device(name))
    (c1, intruders), (c2, victims) = sorted(by_customer.items())[:2]
    intruder = intruders[0]
    # a virtual storage of the other customer, presented on this shared edge
    other = next(v for v in edge.virtual.values()
                 if intruder.wwn not in edge.access[v.virtual_wwn])
    rio = Rio(kind=RioKind.WR, source=VolumeRef(intruder.wwn, 0), target=VolumeRef(other.virtual_wwn, 0),
              block=1, data=b"x" * 512, xid=1)
    before = edge.log_entries
    net.send(intruder.name, edge.name, rio, rio.size, src_addr=port_id(intruder.wwn),
             dst_addr=port_id(other.virtual_wwn))
    net.kernel.step()
    while net.kernel.pending and net.kernel.next_time < 1:
        net.kernel.step()
    assert edge.denied == 1
    assert edge.log_entries == before


def test_a_customer_sees_only_its_own_configuration():
    topo = topology("mesh")
    net, _, _ = run(topo, "", trace=False)
    for customer in topo.customers:
        mine = {s.wwn for s in topo.storages if s.customer == customer.id}
        view = net.management.view(customer.id)
        assert view["storage_connections"]
        assert {c.storage_wwn for c in view["storage_connections"]} <= mine
        assert {a.permitted_wwn for a in view["access_control"]} <= mine
        assert {r.source_wwn for r in view["routes"]} <= mine


def test_an_edge_tells_the_real_wwn_behind_each_virtual_storage():
    net, _, _ = run(topology("fig1"), "", trace=False)
    for edge in net.edges:
        assert edge.real_of and dict(edge.real_of) == {v.virtual_wwn: v.corresponding_wwn
                                                        for v in edge.virtual.values()}
        virtual, real = next(iter(edge.real_of.items()))
        assert edge.real_wwn(virtual) == real
        assert edge.real_wwn("50:00:00:00:00:00:00:00") == "50:00:00:00:00:00:00:00"
        try:
            edge.real_of[virtual] = "x"  # type: ignore[index]
        except TypeError:
            pass
        else:
            raise AssertionError("real_of is writable")
