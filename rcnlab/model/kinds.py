"""The closed sets of the topology and the operator's commands, as `enum.StrEnum`.

A member compares equal to its string and formats as it ("fc" == LinkKind.FC,
f"{Site.SOURCE}" == "source"), so traces and JSON output read the same as plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class LinkKind(StrEnum):
    """"scsi" host-storage, "fc" storage-edge (network 101's FC side), "gbe" edge-core and
    core-core (GbE/IP/UDP), "ip" storage-edge in the IP-attached variant."""

    SCSI = "scsi"
    FC = "fc"
    GBE = "gbe"
    IP = "ip"


class Attach(StrEnum):
    """How an external storage (112, 122) reaches its edge: FC, or IP in the modified example."""

    FC = "fc"
    IP = "ip"


class Site(StrEnum):
    SOURCE = "source"
    NETWORK = "network"
    TARGET = "target"


class CopyMode(StrEnum):
    """Remote copy of a pair: synchronous or asynchronous (Fig. 10)."""

    SYNC = "sync"
    ASYNC = "async"


class OrderMethod(StrEnum):
    """Order assurance (Fig. 19-21): A-1 a group per storage pair, A-2 one per edge pair,
    B the groups configured in advance."""

    A1 = "A-1"
    A2 = "A-2"
    B = "B"


class Party(StrEnum):
    """The four parties that hold a pair's state."""

    SOURCE_STORAGE = "source_storage"
    SOURCE_EDGE = "source_edge"
    TARGET_EDGE = "target_edge"
    TARGET_STORAGE = "target_storage"


class Role(StrEnum):
    """A volume's role in its pair, as its storage records it."""

    SOURCE = "source"
    TARGET = "target"


class DeviceKind(StrEnum):
    HOST = "host"
    STORAGE = "storage"
    EDGE = "edge"
    CORE = "core"
    MANAGEMENT = "management"


class CopyKind(StrEnum):
    """What a storage's copy job is: the initial copy (1013), a differential copy (after
    1212), or either resumed after a restart."""

    INITIAL = "initial"
    DIFFERENTIAL = "differential"
    RESUMED = "resumed"


class ScsiStatus(StrEnum):
    """A storage's answer to a host's SCSI command ("" on the command itself)."""

    NONE = ""
    OK = "ok"
    ERROR = "error"


class FailoverMode(StrEnum):
    """A failover's SUSPEND (1302, 1303), in the RIO's mode: wait for the source edge's
    answer, or the prompt variant that suspends at once (1310-1312 right after 1303)."""

    WAIT = ""
    PROMPT = "prompt"


class ContractTime(StrEnum):
    """When a customer's contract is concluded and the customer configured (Fig. 9, 901-902):
    ``at-start``, before the lab starts (as every topology did before contracts were
    operations), or ``later``, by an operator's command (the scenario steps ``contract``
    and ``configure-customer``); until then nothing can be configured for the customer."""

    AT_START = "at-start"
    LATER = "later"


class LogPolicy(StrEnum):
    """What an edge does as its log storage area 413 fills (flow control, not in the patent).

    ``throttle``: above the high-water mark the source storages hold their hosts' writes
    (the host sees latency; nothing suspends), as HUR's journal inflow control, SRDF/A
    write pacing and DRBD's ``on-congestion block`` do. ``suspend``: writes go on until
    the area is full, then the group goes to failure Suspend (908)."""

    THROTTLE = "throttle"
    SUSPEND = "suspend"
