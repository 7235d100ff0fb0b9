"""The rules a pair of volumes keeps, wherever it comes from.

A pair is declared in a topology file (``[[pair]]``, checked by `rcnlab.topo.load`
when the file is read and by ``rcnlab check``) or created at run time (a pair-create
from a scenario or the lab's screen, checked by `rcnlab.ops.pairs` before the host
sends anything). Both hand `pair_problem` the new pair and the pairs already there,
and report what it finds their own way: ``FILE: KEY: problem`` or a refused command.
A pair that breaks one of these rules would not fail at once but later, and worse:
two edge pairs sharing one order assurance ID suspend each other (2003 reflects one
sequence in order at one target edge); two storages on one edge have no route
between edges, so the creation times out; a contract limit would hold only for
the pairs in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from rcnlab.model.kinds import OrderMethod, Role
from rcnlab.topo.schema import Customer, StorageSpec, Topology


@attrs.frozen(kw_only=True)
class End:
    """One volume of a pair: ``name`` "STORAGE:LUN", its storage and size in blocks."""

    name: str
    storage: StorageSpec
    blocks: int


@attrs.frozen(kw_only=True)
class Claim:
    """A pair already there, as the rules see it. ``order_id`` None: its source edge
    creates it (methods A-1 and A-2). ``counts`` False: a ``[[pair]]`` not yet
    created at run time, which only reserves its order assurance ID for its edges."""

    source: str
    target: str
    customer: str
    edges: tuple[str, str]  # source edge, target edge
    order_id: int | None
    where: str  # how a message names it: "pair[0]", "pair ST112:0>ST122:0"
    counts: bool = True


@attrs.frozen(kw_only=True)
class Problem:
    """Why a pair is refused: ``key`` is the pair's "source", "target" or "order_id",
    or "max_pairs" (the customer's contract limit); ``text`` says it in one line.
    ``clash``: the pair itself is fine but clashes with what is already there."""

    key: str
    text: str
    clash: bool = True


def given_order_id(topo: Topology, source: str, target: str, given: int | None) -> int | None:
    """The order assurance ID the manager gives the pair ``source``>``target`` ("NAME:LUN")
    with method B: ``given`` (0 or None: none), else its ``[[pair]]``; None with methods
    A-1 and A-2 (its source edge creates it) or when there is none."""
    if topo.order_method is not OrderMethod.B:
        return None
    return given or next((p.order_id for p in topo.pairs if (p.source, p.target) == (source, target)), None)


def no_order_id(method: OrderMethod, order_id: int | None, where: str) -> Problem | None:
    """Method B without an order assurance ID: refused (the patent's method B has the
    manager give every pair its ID before the pair is created)."""
    if method is not OrderMethod.B or order_id is not None:
        return None
    return Problem(key="order_id", clash=False, text=(
        f'{where} has no order assurance ID: with order_assurance = "B" the manager gives each pair one '
        "(order_id in the pair creation, or a [[pair]] in the topology)"))


def claim(source: End, target: End, order_id: int | None, where: str) -> Claim:
    """The claim of a pair that `pair_problem` accepted."""
    return Claim(source=source.name, target=target.name, customer=source.storage.customer,
                 edges=(source.storage.edge, target.storage.edge), order_id=order_id, where=where)


def pair_problem(source: End, target: End, order_id: int | None, where: str, customer: Customer,
                 others: Iterable[Claim], in_use: Mapping[str, str] | None = None, *,
                 method: OrderMethod) -> Problem | None:
    """What is wrong with pairing ``source`` to ``target`` (the pair ``where``) next to
    ``others``, or None. ``customer`` is the source storage's; ``in_use`` maps a volume
    the run is using to who uses it (a host's workload), empty when reading a file;
    ``method`` the lab's order assurance method."""
    others = list(others)
    s, t = source.storage, target.storage
    if s.name == t.name:
        return Problem(key="target", clash=False, text=f"source and target are on the same storage {s.name}; "
                                                       "the RCN copies between storages")
    if s.customer != t.customer:
        return Problem(key="target", clash=False, text=f"{source.name} and {target.name} belong to different "
                                                       f"customers ({s.name} to {s.customer}, {t.name} to {t.customer})")
    if s.edge == t.edge:
        return Problem(key="target", clash=False, text=f"{s.name} and {t.name} are both attached to edge {s.edge}; "
                                                       "the RCN copies between storages on two different edges")
    missing = no_order_id(method, order_id, where)
    if missing is not None:
        return missing
    if target.blocks < source.blocks:
        return Problem(key="target", clash=False, text=f"target {target.name} has {target.blocks} blocks, "
                                                       f"fewer than source {source.name} ({source.blocks})")
    for role, end in ((Role.SOURCE, source), (Role.TARGET, target)):
        for c in others:
            if c.counts and end.name in (c.source, c.target):
                other_role = Role.SOURCE if end.name == c.source else Role.TARGET
                return Problem(key=str(role), text=f"volume {end.name} is already the {other_role} of {c.where}")
    if in_use and target.name in in_use:
        return Problem(key="target", text=f"target {target.name} is in use ({in_use[target.name]}); "
                                          "the copy would overwrite it: stop that first")
    edges = (s.edge, t.edge)
    for c in others:
        if order_id is not None and c.order_id == order_id and c.edges != edges:
            return Problem(key="order_id", text=(
                f"order assurance ID {order_id} already joins edges {c.edges[0]}->{c.edges[1]} ({c.where}); "
                f"one sequence cannot be reflected in order by two edge pairs ({edges[0]}->{edges[1]})"))
    mine = [c.where for c in others if c.counts and c.customer == customer.id]
    if len(mine) >= customer.max_pairs:
        listed = ", ".join(mine[:3]) + (", ..." if len(mine) > 3 else "")
        return Problem(key="max_pairs", text=(
            f"customer {customer.id} would have more pairs than the contract limit of {customer.max_pairs} "
            f"(max_pairs) with {where}" + (f"; it has {len(mine)}: {listed}" if mine else "")))
    return None
