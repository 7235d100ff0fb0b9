"""A topology file as written: one attrs class per table, keys and units as in the file.

`rcnlab.topo.load` structures the file into `TopologyFile`, checks the references
between tables and converts to the frozen `rcnlab.topo.schema.Topology` (seconds,
bytes per second). The bounds below keep every value one that a run can finish with;
``topologies/fig1.toml`` documents the keys.
"""

from __future__ import annotations

from typing import Any

import attrs

from rcnlab.formats.fields import Bad, Ipv4, Name, Pos, Wwn, bounded, non_empty, power_of_two
from rcnlab.model.kinds import Attach, ContractTime, LinkKind, LogPolicy, OrderMethod, Site

#: Delays (latency, jitter, batch wait): at most one hour.
MAX_DELAY_MS = 3_600_000.0
#: Timers (resend, suspend, command timeout, collection): a microsecond to a year
#: (a very long timeout is how a lab says "never": rcnlab bench does).
MIN_TIMER_MS, MAX_TIMER_MS = 0.001, 365 * 86_400_000.0
#: Distances: at most the Earth's circumference.
MAX_DISTANCE_KM = 40_000.0
#: Link bandwidth: 1 kbit/s to 10 Tbit/s.
MIN_BANDWIDTH_MBPS, MAX_BANDWIDTH_MBPS = 0.001, 1e7
#: Frame payload: 64 bytes to 1 MiB.
MIN_MTU, MAX_MTU = 64, 1 << 20
#: Block size: a power of two from 512 bytes to 1 MiB.
MIN_BLOCK_SIZE, MAX_BLOCK_SIZE = 512, 1 << 20
#: A volume (blocks * block_size): at most 1 PiB.
MAX_VOLUME_BYTES = 1 << 50
#: Initial and differential copy: 1 to 10**9 blocks per virtual second.
MIN_COPY_RATE, MAX_COPY_RATE = 1.0, 1e9

# The range rules, shared with the operator's set-link command (rcnlab.ops.commands).
delay_rule = bounded(0, MAX_DELAY_MS, why="one hour")
timer_rule = bounded(MIN_TIMER_MS, MAX_TIMER_MS, why="one year")
distance_rule = bounded(0, MAX_DISTANCE_KM, why="40,000 km")
bandwidth_rule = bounded(MIN_BANDWIDTH_MBPS, MAX_BANDWIDTH_MBPS, why="10 Tbit/s")
mtu_rule = bounded(MIN_MTU, MAX_MTU, why="1 MiB")


def loss_rule(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0 <= value < 1:
        raise Bad(f"must be in [0, 1), got {value:g}", attribute.name)


@attrs.frozen(kw_only=True)
class LabEntry:
    name: str | None = None  # default: the file's stem
    block_size: int = attrs.field(default=512, validator=power_of_two(MIN_BLOCK_SIZE, MAX_BLOCK_SIZE))
    order_assurance: OrderMethod = OrderMethod.A1


@attrs.frozen(kw_only=True)
class CustomerEntry:
    id: Name
    name: str = ""
    max_storages: int = attrs.field(default=16, validator=bounded(0))
    max_pairs: int = attrs.field(default=64, validator=bounded(0))
    edges: tuple[Name, ...] = ()
    contract: ContractTime = ContractTime.AT_START


@attrs.frozen(kw_only=True)
class ManagementEntry:
    name: Name = Name("M103")
    collect_interval_ms: float = attrs.field(default=500.0, validator=timer_rule)
    site_timeout_ms: float | None = attrs.field(default=None, validator=timer_rule)  # None: 3 collections
    latency_ms: float = attrs.field(default=1.0, validator=delay_rule)
    pos: Pos | None = None


@attrs.frozen(kw_only=True)
class EdgeEntry:
    name: Name
    ip: Ipv4
    site: Site
    log_capacity: int = attrs.field(default=1 << 30, validator=bounded(0, above=True))
    log_durable: bool = False
    resend_timeout_ms: float = attrs.field(default=50.0, validator=timer_rule)
    resend_limit: int = attrs.field(default=5, validator=bounded(0))
    suspend_timeout_ms: float = attrs.field(default=1000.0, validator=timer_rule)
    reorder_window: int = attrs.field(default=1 << 20, validator=bounded(1))
    log_policy: LogPolicy = LogPolicy.THROTTLE  # flow control as 413 fills: "throttle" or "suspend"
    log_high_water_pct: float = attrs.field(default=80.0, validator=bounded(1, 100))  # of log_capacity
    virtual_wwn: dict[Wwn, Wwn] = attrs.field(factory=dict)  # Fig. 2: storage WWN -> own virtual WWN
    pos: Pos | None = None


@attrs.frozen(kw_only=True)
class CoreEntry:
    name: Name
    ip: Ipv4
    capacity: int = attrs.field(default=64, validator=bounded(1))
    batch_wait_ms: float = attrs.field(default=0.0, validator=delay_rule)
    pos: Pos | None = None


@attrs.frozen(kw_only=True)
class VolumeEntry:
    lun: int = attrs.field(validator=bounded(0))
    blocks: int = attrs.field(validator=bounded(0, above=True))  # and blocks * block_size <= MAX_VOLUME_BYTES


@attrs.frozen(kw_only=True)
class StorageEntry:
    """An FC-attached storage has ``wwn``; an IP-attached one (``attach = "ip"``) ``address``."""

    name: Name
    wwn: Wwn | None = None
    address: Ipv4 | None = None
    customer: Name
    site: Site
    edge: Name
    attach: Attach = Attach.FC
    volumes: tuple[VolumeEntry, ...] | None = attrs.field(default=None, validator=non_empty)  # None: one of 1 TiB
    copy_rate: float = attrs.field(default=20000.0, validator=bounded(MIN_COPY_RATE, MAX_COPY_RATE))
    command_timeout_ms: float = attrs.field(default=2000.0, validator=timer_rule)
    # A WR the edge leaves unanswered this long fails the path (908); default: follows the
    # attachment's round trip (rcnlab.devices.storage.path); longer than that round trip.
    path_timeout_ms: float | None = attrs.field(default=None, validator=timer_rule)
    pos: Pos | None = None

    def __attrs_post_init__(self) -> None:
        needed, other = ("address", "wwn") if self.attach == Attach.IP else ("wwn", "address")
        if getattr(self, other) is not None:
            raise Bad(f'unknown key for attach = "{self.attach}" (give {needed})', other)
        if getattr(self, needed) is None:
            raise Bad("missing required key", needed)


@attrs.frozen(kw_only=True)
class HostEntry:
    name: Name
    customer: Name
    site: Site
    storage: Name  # the external storage it issues SCSI commands to
    auto_failover: bool = False
    pos: Pos | None = None


@attrs.frozen(kw_only=True)
class LinkEntry:
    """A link; a GbE link needs ``latency_ms`` or ``distance_km``, the others have defaults."""

    a: Name
    b: Name
    kind: LinkKind
    latency_ms: float | None = attrs.field(default=None, validator=delay_rule)
    distance_km: float | None = attrs.field(default=None, validator=distance_rule)
    jitter_ms: float = attrs.field(default=0.0, validator=delay_rule)
    bandwidth_mbps: float | None = attrs.field(default=None, validator=bandwidth_rule)
    mtu: int | None = attrs.field(default=None, validator=mtu_rule)
    loss: float = attrs.field(default=0.0, validator=loss_rule)


@attrs.frozen(kw_only=True)
class PairEntry:
    """An order assurance group configured in advance (method B)."""

    source: str  # "STORAGE:LUN"
    target: str
    order_id: int = attrs.field(validator=bounded(0))


@attrs.frozen(kw_only=True)
class TopologyFile:
    lab: LabEntry = LabEntry()
    customer: tuple[CustomerEntry, ...] = ()
    management: ManagementEntry = ManagementEntry()
    edge: tuple[EdgeEntry, ...] = ()
    core: tuple[CoreEntry, ...] = ()
    storage: tuple[StorageEntry, ...] = ()
    host: tuple[HostEntry, ...] = ()
    link: tuple[LinkEntry, ...] = ()
    pair: tuple[PairEntry, ...] = ()
