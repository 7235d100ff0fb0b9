"""How a source edge numbers the order groups of the pairs it registers (411, 726).

The patent's method A: the edge that receives a pair creation creates the pair
information, and with it the order assurance ID: A-1 one ID per storage pair, A-2 one
per edge pair. Method B: the manager gave the ID (501), in the pair creation or in the
topology's ``[[pair]]``. The management server hands every edge this numbering with its
configuration (903): edge i of n numbers its groups i, i + n, i + 2n, ..., so IDs that
two edges create never meet at one target edge, and never one a ``[[pair]]`` reserves.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import OrderMethod
from rcnlab.model.rio import Rio


@attrs.define(eq=False, kw_only=True)
class OrderIds:
    method: OrderMethod = OrderMethod.A1
    first: int = 1  # this edge's first ID
    step: int = 1  # edges in the lab
    given: dict[tuple[VolumeRef, VolumeRef], int] = attrs.field(factory=dict)  # [[pair]] (method B)
    edge_of: dict[str, str] = attrs.field(factory=dict)  # storage WWN -> its edge (503), for A-2
    assigned: dict[tuple[str, str], int] = attrs.field(factory=dict, init=False)
    _next: int = attrs.field(default=0, init=False)

    def assign(self, rio: Rio, in_use: Collection[int] = ()) -> int:
        """The ID of the pair ``rio`` (a pair creation, or a failback's turned pair) registers.
        Method B: the one given; a turned pair (a failback) has none and is numbered as
        method A-1 numbers it. A new number is none of ``in_use`` (the groups the edge knows:
        a run-time method B ID may be any number, and a turned pair that took one shared
        its group's sequence numbers with the other direction, fuzz seed 9828)."""
        if self.method is OrderMethod.B:
            given = rio.order_id or self.given.get((rio.source, rio.target))
            if given is not None:
                return given
        if self.method is OrderMethod.A2:
            key = ("A-2", self.edge_of.get(rio.target.wwn, "?"))
        else:
            key = (rio.source.wwn, rio.target.wwn)
        order_id = self.assigned.get(key)
        if order_id is None:
            reserved = {*self.given.values(), *in_use}
            while True:
                order_id = self.first + self._next * self.step
                self._next += 1
                if order_id not in reserved:
                    break
            self.assigned[key] = order_id
        return order_id
