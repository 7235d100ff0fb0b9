"""The operator's commands: one frozen class per scenario step kind.

Each class's fields are the step's keys (the file's names and units), typed and
range-checked where declared; ``kind`` is the step's ``do`` name. `COMMANDS` maps
``do`` to the class. The scenario reader (rcnlab.scenario.steps) structures every
``[[step]]`` into one of these; a handler registered with
`rcnlab.scenario.runner.action` carries it out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

import attrs

from rcnlab.formats.fields import Bad, Text, bounded, non_empty
from rcnlab.formats.topology import (
    bandwidth_rule,
    delay_rule,
    distance_rule,
    loss_rule,
    mtu_rule,
)
from rcnlab.model.kinds import CopyMode, Party, Site

#: Virtual time a scenario may name (a step's ``at``, a workload's ``duration``, a
#: walkthrough's ``run_for``): at most one virtual day.
MAX_TIME = 86_400.0
#: A workload's rate: from one write per 1000 virtual seconds (it starts) to 10**6 per
#: second (virtual time still advances between writes).
MIN_RATE, MAX_RATE = 0.001, 1e6
#: A workload's count: at most 10**9 writes.
MAX_COUNT = 10**9

_count = bounded(0)
_names = non_empty


def _span(_: object, attribute: attrs.Attribute, value: tuple[int, int] | None) -> None:
    if value is not None and len(value) != 2:
        raise Bad(f"expected [first, last), two whole numbers, got {list(value)!r}", attribute.name)


@attrs.frozen(kw_only=True)
class CreatePair:
    """Pair create (Fig. 10): ``source`` and ``target`` volumes, STORAGE:LUN."""

    kind: ClassVar[str] = "pair-create"
    source: Text
    target: Text
    mode: CopyMode = CopyMode.ASYNC
    order_id: int = attrs.field(default=0, validator=_count)
    host: Text | None = None


@attrs.frozen(kw_only=True)
class Write:
    """One host write of ``block`` (``data``: its first bytes, the rest zeros)."""

    kind: ClassVar[str] = "write"
    volume: Text
    block: int = attrs.field(validator=_count)
    host: Text | None = None
    data: Text | None = None


@attrs.frozen(kw_only=True)
class Workload:
    """Host writes at ``rate`` per virtual second to blocks in [first, last), until
    ``count`` writes or ``duration`` seconds."""

    kind: ClassVar[str] = "workload"
    volume: Text
    rate: float = attrs.field(validator=bounded(MIN_RATE, MAX_RATE, why="writes per virtual second"))
    host: Text | None = None
    count: int | None = attrs.field(default=None, validator=bounded(0, MAX_COUNT))
    duration: float | None = attrs.field(default=None, validator=bounded(0, MAX_TIME, above=True, why="one day"))
    blocks: tuple[int, ...] | None = attrs.field(default=None, validator=_span)


@attrs.frozen(kw_only=True)
class StopWorkload:
    kind: ClassVar[str] = "stop-workload"


@attrs.frozen(kw_only=True)
class SetLink:
    """Change a link's data at run time; the ranges are the topology file's."""

    kind: ClassVar[str] = "set-link"
    link: Text
    latency_ms: float | None = attrs.field(default=None, validator=delay_rule)
    jitter_ms: float | None = attrs.field(default=None, validator=delay_rule)
    bandwidth_mbps: float | None = attrs.field(default=None, validator=bandwidth_rule)
    loss: float | None = attrs.field(default=None, validator=loss_rule)
    mtu: int | None = attrs.field(default=None, validator=mtu_rule)
    distance_km: float | None = attrs.field(default=None, validator=distance_rule)


@attrs.frozen(kw_only=True)
class Expect:
    """What must hold now; only the keys given are checked."""

    kind: ClassVar[str] = "expect"
    pair: Text | None = None
    state: Text | None = None
    party: Party | None = None
    equal: list[Text] | None = attrs.field(default=None, validator=_names)
    remaining: int | None = attrs.field(default=None, validator=_count)
    writes_acknowledged: int | None = attrs.field(default=None, validator=_count)
    invariants: bool | None = None


@attrs.frozen(kw_only=True)
class Note:
    kind: ClassVar[str] = "note"
    text: Text


@attrs.frozen(kw_only=True)
class FailLink:
    """Fail a link, or one ``direction`` of it (FROM>TO)."""

    kind: ClassVar[str] = "fail"
    link: Text
    direction: Text | None = None


@attrs.frozen(kw_only=True)
class RestoreLink:
    kind: ClassVar[str] = "restore"
    link: Text
    direction: Text | None = None


@attrs.frozen(kw_only=True)
class Crash:
    kind: ClassVar[str] = "crash"
    device: Text


@attrs.frozen(kw_only=True)
class Restart:
    kind: ClassVar[str] = "restart"
    device: Text


@attrs.frozen(kw_only=True)
class SiteFailure:
    """Every host and storage of ``site`` (or the named ``devices``) goes down."""

    kind: ClassVar[str] = "site-failure"
    site: Site | None = None
    devices: list[Text] | None = attrs.field(default=None, validator=_names)


@attrs.frozen(kw_only=True)
class SiteRestore:
    kind: ClassVar[str] = "site-restore"
    site: Site | None = None
    devices: list[Text] | None = attrs.field(default=None, validator=_names)


@attrs.frozen(kw_only=True)
class Partition:
    kind: ClassVar[str] = "partition"
    devices: list[Text] = attrs.field(validator=_names)


@attrs.frozen(kw_only=True)
class Heal:
    kind: ClassVar[str] = "heal"
    devices: list[Text] | None = attrs.field(default=None, validator=_names)


@attrs.frozen(kw_only=True)
class Suspend:
    """Planned Suspend (910) of the pair whose source volume is ``volume``."""

    kind: ClassVar[str] = "suspend"
    volume: Text
    host: Text | None = None


@attrs.frozen(kw_only=True)
class Resync:
    """Resynchronize (Fig. 12)."""

    kind: ClassVar[str] = "resync"
    volume: Text
    host: Text | None = None


@attrs.frozen(kw_only=True)
class Failover:
    """Take over at the target (Fig. 13); ``prompt``: without waiting for the source."""

    kind: ClassVar[str] = "failover"
    volume: Text
    prompt: bool = False
    host: Text | None = None


@attrs.frozen(kw_only=True)
class FetchRemaining:
    kind: ClassVar[str] = "fetch-remaining"
    volume: Text


@attrs.frozen(kw_only=True)
class Failback:
    kind: ClassVar[str] = "failback"
    volume: Text
    swap_back: bool = False
    host: Text | None = None


@attrs.frozen(kw_only=True)
class DeletePair:
    kind: ClassVar[str] = "delete-pair"
    volume: Text
    host: Text | None = None


@attrs.frozen(kw_only=True)
class HealAll:
    """The fuzzer's: every link restored, loss and jitter as the topology gave them,
    every device restarted."""

    kind: ClassVar[str] = "heal-all"


@attrs.frozen(kw_only=True)
class ResyncAll:
    """The fuzzer's: resynchronize every suspended pair, retry failed creations."""

    kind: ClassVar[str] = "resync-all"


class Rule(StrEnum):
    """The protocol rules the fuzzer's ``break-rule`` can switch off (rcnlab.check.steps):
    target edges ignore rule 2003 and reflect whatever WR entry they hold."""

    REFLECT_OUT_OF_ORDER = "reflect-out-of-order"


@attrs.frozen(kw_only=True)
class BreakRule:
    """The fuzzer's test hook: switch off a protocol rule."""

    kind: ClassVar[str] = "break-rule"
    rule: Rule


@attrs.frozen(kw_only=True)
class ForgeWrite:
    """The walkthroughs': a storage forges a RIO (WR) to another customer's volume."""

    kind: ClassVar[str] = "forge-write"
    device: Text
    volume: Text
    block: int = attrs.field(default=0, validator=_count)


COMMANDS: dict[str, type] = {cls.kind: cls for cls in (
    CreatePair, Write, Workload, StopWorkload, SetLink, Expect, Note, FailLink, RestoreLink, Crash, Restart,
    SiteFailure, SiteRestore, Partition, Heal, Suspend, Resync, Failover, FetchRemaining, Failback, DeletePair,
    HealAll, ResyncAll, BreakRule, ForgeWrite,
)}
