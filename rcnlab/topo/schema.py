"""The frozen topology: what a topology TOML file describes, validated.

`rcnlab.topo.load` turns a file into a `Topology`; `rcnlab.emu.network` builds
the running network from it. Everything here is a plain frozen value.
"""

from __future__ import annotations

import attrs

from rcnlab.model.kinds import Attach, ContractTime, LinkKind, LogPolicy, OrderMethod, Site

#: Light in fibre: about 5 microseconds per kilometre, one way.
SECONDS_PER_KM = 5e-6


def round_trip(latency: float, jitter: float, bandwidth: float, size: int) -> float:
    """The longest a message of ``size`` bytes and its short answer take over a link
    (one-way ``latency`` and ``jitter`` in seconds, ``bandwidth`` in bytes per second)."""
    return 2 * (latency + jitter) + size / bandwidth


@attrs.frozen(kw_only=True)
class Customer:
    """A customer of the RCN provider (Fig. 9, steps 901-902) and the contract limits 903 honours."""

    id: str
    name: str = ""
    max_storages: int = 16
    max_pairs: int = 64
    edges: tuple[str, ...] = ()  # edges the contract allows; empty means any
    contract: ContractTime = ContractTime.AT_START  # 901-902 before the lab starts, or by command later


@attrs.frozen(kw_only=True)
class VolumeSpec:
    """A volume (113, 123) of an external storage: LUN and size in blocks."""

    lun: int
    blocks: int


@attrs.frozen(kw_only=True)
class HostSpec:
    """A host computer (111, 121)."""

    name: str
    customer: str
    site: Site
    storage: str  # the external storage it issues SCSI commands to
    auto_failover: bool = False  # cluster software: take over when told of a source-site failure (1301)
    pos: tuple[int, int] | None = None


@attrs.frozen(kw_only=True)
class StorageSpec:
    """An external storage (112, 122).

    ``wwn`` is its World Wide Name; in the IP-attached variant ``attach`` is "ip"
    and ``wwn`` holds its IP address instead (the patent's modified example).
    """

    name: str
    wwn: str
    customer: str
    site: Site
    edge: str  # the edge device it is connected to (storage connection 503)
    attach: Attach = Attach.FC
    volumes: tuple[VolumeSpec, ...] = ()
    copy_rate: float = 20000.0  # blocks per virtual second for initial/differential copy
    command_timeout: float = 2.0  # seconds a pair command waits for its answer from the RCN
    path_timeout: float | None = None  # seconds a WR may wait for the edge; None: follows the attachment
    pos: tuple[int, int] | None = None


@attrs.frozen(kw_only=True)
class EdgeSpec:
    """An edge device (104, 105)."""

    name: str
    ip: str
    site: Site
    log_capacity: int = 1 << 30  # bytes in the log storage area 413
    log_durable: bool = False  # does the log storage area survive a crash (disk 313)?
    resend_timeout: float = 0.05  # seconds before an unacknowledged log entry is resent
    resend_limit: int = 5  # resends before remote copy is given up (908)
    suspend_timeout: float = 1.0  # failover timer 1306
    reorder_window: int = 1 << 20  # entries beyond reflection counter + this are refused as bogus
    log_policy: LogPolicy = LogPolicy.THROTTLE  # what a filling log storage area does (flow control)
    log_high_water: float = 0.8  # share of log_capacity above which the policy acts on host writes
    virtual_wwn: dict[str, str] = attrs.field(factory=dict)  # Fig. 2: storage WWN -> own virtual WWN
    pos: tuple[int, int] | None = None


@attrs.frozen(kw_only=True)
class CoreSpec:
    """A core device 202."""

    name: str
    ip: str
    capacity: int = 64  # routes (storage pairs) it may carry; routing honours it
    batch_wait: float = 0.0  # batch transfer 420: wait this long after receipt, then forward all
    pos: tuple[int, int] | None = None


@attrs.frozen(kw_only=True)
class ManagementSpec:
    """The management server 103 and the management network 150."""

    name: str = "M103"
    collect_interval: float = 0.5  # how often 411/412 and delay 735 are collected
    site_timeout: float = 1.5  # a site whose storages are silent this long has failed (1301)
    latency: float = 0.001  # management network 150, one way
    pos: tuple[int, int] | None = None


@attrs.frozen(kw_only=True)
class LinkSpec:
    """A bidirectional link; each direction has its own queue and may fail alone."""

    a: str
    b: str
    kind: LinkKind
    latency: float  # seconds, one way
    jitter: float = 0.0  # seconds, uniform extra delay in [0, jitter]
    bandwidth: float = 1.25e8  # bytes per second
    mtu: int = 1500  # frame payload bytes
    loss: float = 0.0  # probability a frame is lost

    @property
    def name(self) -> str:
        return f"{self.a}-{self.b}"


@attrs.frozen(kw_only=True)
class PairSpec:
    """An order assurance group configured in advance (method B): pairs and their ID."""

    source: str  # "STORAGE:LUN"
    target: str
    order_id: int


@attrs.frozen(kw_only=True)
class Topology:
    """A whole lab: devices, links and the RCN provider's settings."""

    name: str
    path: str  # where it was read from (for messages), "<builtin>" for the default
    block_size: int = 512
    order_method: OrderMethod = OrderMethod.A1
    customers: tuple[Customer, ...] = ()
    hosts: tuple[HostSpec, ...] = ()
    storages: tuple[StorageSpec, ...] = ()
    edges: tuple[EdgeSpec, ...] = ()
    cores: tuple[CoreSpec, ...] = ()
    management: ManagementSpec = ManagementSpec()
    links: tuple[LinkSpec, ...] = ()
    pairs: tuple[PairSpec, ...] = ()

    def device_names(self) -> list[str]:
        names = [d.name for group in (self.hosts, self.storages, self.edges, self.cores) for d in group]
        return [*names, self.management.name]

    def storage(self, name: str) -> StorageSpec:
        for s in self.storages:
            if s.name == name:
                return s
        raise KeyError(name)
