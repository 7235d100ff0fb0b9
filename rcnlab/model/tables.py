"""The management tables of Fig. 6 and 7, as the management server derives them
and the edges and cores hold copies of them."""

from __future__ import annotations

import attrs

from rcnlab.model.ids import VolumeRef
from rcnlab.model.pair_state import PairState


@attrs.frozen(kw_only=True)
class StorageConnection:
    """Storage connection information 503: 631 edge ID, 632 customer ID, 633 storage WWN."""

    edge: str
    customer: str
    storage_wwn: str


@attrs.frozen(kw_only=True)
class VirtualStorage:
    """Virtual storage information 404: 611 edge ID, 612 virtual storage WWN,
    613 corresponding edge ID, 614 corresponding storage WWN."""

    edge: str
    virtual_wwn: str
    corresponding_edge: str
    corresponding_wwn: str


@attrs.frozen(kw_only=True)
class AccessControl:
    """Access control information 405: 621 edge ID, 622 virtual storage WWN,
    623 the storage WWN permitted to access it."""

    edge: str
    virtual_wwn: str
    permitted_wwn: str


@attrs.frozen(kw_only=True)
class Route:
    """Routing information 408: 711 source storage WWN, 712 target storage WWN,
    713/714 transit route (IP addresses: edge, cores..., edge)."""

    source_wwn: str
    target_wwn: str
    ips: tuple[str, ...]
    devices: tuple[str, ...]  # the same route by device name, for people


@attrs.frozen(kw_only=True, slots=True)
class Hop:
    """Where a storage pair's log entries go next from one device (1905, 2009): the
    address after this device's own in the route's IP list, the device that has it, and
    the list itself (713/714), which the GbE frames carry for the cores."""

    device: str
    ip: str
    route: tuple[str, ...]


@attrs.define(eq=False)
class PairInfo:
    """Pair information 411: 721/722 source WWN and LUN, 723/724 target WWN and LUN,
    725 pair state, 726 order assurance ID, 727 differential bitmap (blocks to copy
    after a failure inside the RCN)."""

    source: VolumeRef
    target: VolumeRef
    order_id: int
    state: PairState = PairState.SIMPLEX
    bitmap: set[int] = attrs.field(factory=set)
    mode: str = "async"
    copying: bool = False  # this edge has handled the first block of the initial copy (1801, 2201)


@attrs.define(eq=False)
class OrderAssurance:
    """Order assurance information 412: 731 ID, 732 log creation counter,
    733 log reflection counter, 734 log deletion counter, 735 reflection delay."""

    order_id: int
    created: int = 0
    reflected: int = 0
    deleted: int = 0
    reflection_delay: float = 0.0
    source_edge: str = ""  # the edge whose sequence this edge reflects (733 counts its entries)
