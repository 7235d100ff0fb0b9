"""The operator's commands: one frozen class per scenario step kind.

Each class's fields are the step's keys (the file's names and units), typed and
range-checked where declared; ``kind`` is the step's ``do`` name; ``key``, when set,
is how the lab's screen offers the command (rcnlab.tui.actions derives its key
binding, key bar chip, palette entry and help line from it). `COMMANDS` maps ``do``
to the class. The scenario reader (rcnlab.scenario.steps) structures every
``[[step]]`` into one of these; its one handler (`rcnlab.ops.registry.HANDLERS`)
carries it out: ``do(lab, command)``.
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
class Key:
    """How the lab's screen offers a command: the key (Textual key names, comma
    separated) and how it is shown (as typed unless said), the key bar's label, the
    palette's title, the help line, and the group (pair | workload | fault). The
    screen's action is ``action_<kind>`` (``-`` read as ``_``)."""

    key: str
    label: str
    title: str
    help: str
    group: str
    display: str = attrs.field()

    @display.default
    def _as_typed(self) -> str:
        return self.key


class Command:
    """What every command class has: its step kind, and its key on the lab's screen."""

    __slots__ = ()
    kind: ClassVar[str]
    key: ClassVar[Key | None] = None


@attrs.frozen(kw_only=True)
class CreatePair(Command):
    """Pair create (Fig. 10): ``source`` and ``target`` volumes, STORAGE:LUN."""

    kind: ClassVar[str] = "pair-create"
    key = Key(key="c", label="create pair", title="Pair: create", group="pair",
              help="Create a pair (Fig. 10): choose source and target volume and sync/async")
    source: Text
    target: Text
    mode: CopyMode = CopyMode.ASYNC
    order_id: int = attrs.field(default=0, validator=_count)
    host: Text | None = None


@attrs.frozen(kw_only=True)
class Contract(Command):
    """Contract conclusion (Fig. 9, 901) with ``customer``, through the configuration
    interface 501: its limits are the topology's ``[[customer]]`` unless given here."""

    kind: ClassVar[str] = "contract"
    key = Key(key="C", label="contract", title="Customer: conclude the contract (901)", group="pair",
              help="Conclude the contract (901) of the selected device's customer, on its [[customer]] limits")
    customer: Text
    max_storages: int | None = attrs.field(default=None, validator=bounded(0))
    max_pairs: int | None = attrs.field(default=None, validator=bounded(0))
    edges: list[Text] | None = None  # edges the contract allows; [] means any


@attrs.frozen(kw_only=True)
class ConfigureCustomer(Command):
    """Customer configuration (Fig. 9, 902): the provider enters the customer's ID and
    its contract's conditions into the management server; pairs may be created after."""

    kind: ClassVar[str] = "configure-customer"
    key = Key(key="Y", label="configure", title="Customer: configure (902)", group="pair",
              help="Configure the selected device's customer (902) after its contract; then its pairs may be created")
    customer: Text


@attrs.frozen(kw_only=True)
class Write(Command):
    """One host write of ``block`` (``data``: its first bytes, the rest zeros)."""

    kind: ClassVar[str] = "write"
    volume: Text
    block: int = attrs.field(validator=_count)
    host: Text | None = None
    data: Text | None = None


@attrs.frozen(kw_only=True)
class Workload(Command):
    """Host writes at ``rate`` per virtual second to blocks in [first, last), until
    ``count`` writes or ``duration`` seconds."""

    kind: ClassVar[str] = "workload"
    key = Key(key="w", label="workload", title="Workload: start", group="workload",
              help="Start a host workload (writes per second) on a volume")
    volume: Text
    rate: float = attrs.field(validator=bounded(MIN_RATE, MAX_RATE, why="writes per virtual second"))
    host: Text | None = None
    count: int | None = attrs.field(default=None, validator=bounded(0, MAX_COUNT))
    duration: float | None = attrs.field(default=None, validator=bounded(0, MAX_TIME, above=True, why="one day"))
    blocks: tuple[int, ...] | None = attrs.field(default=None, validator=_span)


@attrs.frozen(kw_only=True)
class StopWorkload(Command):
    kind: ClassVar[str] = "stop-workload"
    key = Key(key="x", label="stop writes", title="Workload: stop", group="workload",
              help="Stop every host workload")


@attrs.frozen(kw_only=True)
class SetLink(Command):
    """Change a link's data at run time; the ranges are the topology file's."""

    kind: ClassVar[str] = "set-link"
    key = Key(key="g", label="degrade link", title="Fault: degrade the selected link", group="fault",
              help="Set the selected link's loss and jitter")
    link: Text
    latency_ms: float | None = attrs.field(default=None, validator=delay_rule)
    jitter_ms: float | None = attrs.field(default=None, validator=delay_rule)
    bandwidth_mbps: float | None = attrs.field(default=None, validator=bandwidth_rule)
    loss: float | None = attrs.field(default=None, validator=loss_rule)
    mtu: int | None = attrs.field(default=None, validator=mtu_rule)
    distance_km: float | None = attrs.field(default=None, validator=distance_rule)


@attrs.frozen(kw_only=True)
class Expect(Command):
    """What must hold now; only the keys given are checked. ``command_failed``: a pair
    command has failed by now (answered with an error) whose line holds this text (its
    command, pair, host or reason); such failures are expected and do not fail the run."""

    kind: ClassVar[str] = "expect"
    pair: Text | None = None
    state: Text | None = None
    party: Party | None = None
    equal: list[Text] | None = attrs.field(default=None, validator=_names)
    remaining: int | None = attrs.field(default=None, validator=_count)
    writes_acknowledged: int | None = attrs.field(default=None, validator=_count)
    invariants: bool | None = None
    command_failed: Text | None = None


@attrs.frozen(kw_only=True)
class Note(Command):
    kind: ClassVar[str] = "note"
    text: Text


@attrs.frozen(kw_only=True)
class FailLink(Command):
    """Fail a link, or one ``direction`` of it (FROM>TO)."""

    kind: ClassVar[str] = "fail"
    key = Key(key="f", label="cut link", title="Fault: cut the selected link", group="fault",
              help="Cut the selected link both ways (frames in flight are lost)")
    link: Text
    direction: Text | None = None


@attrs.frozen(kw_only=True)
class RestoreLink(Command):
    kind: ClassVar[str] = "restore"
    key = Key(key="u", label="restore link", title="Fault: restore the selected link", group="fault",
              help="Bring the selected link back up")
    link: Text
    direction: Text | None = None


@attrs.frozen(kw_only=True)
class Crash(Command):
    kind: ClassVar[str] = "crash"
    key = Key(key="k", label="crash", title="Fault: crash the selected device", group="fault",
              help="Crash the selected device (it loses what it holds in memory)")
    device: Text


@attrs.frozen(kw_only=True)
class Restart(Command):
    kind: ClassVar[str] = "restart"
    key = Key(key="K", label="restart", title="Fault: restart the selected device", group="fault",
              help="Restart a crashed device")
    device: Text


@attrs.frozen(kw_only=True)
class SiteFailure(Command):
    """Every host and storage of ``site`` (or the named ``devices``) goes down."""

    kind: ClassVar[str] = "site-failure"
    key = Key(key="F", label="site failure", title="Fault: site failure", group="fault",
              help="Fail the whole site (hosts and storages) of the selected device")
    site: Site | None = None
    devices: list[Text] | None = attrs.field(default=None, validator=_names)


@attrs.frozen(kw_only=True)
class SiteRestore(Command):
    kind: ClassVar[str] = "site-restore"
    key = Key(key="U", label="site restore", title="Fault: site restore", group="fault",
              help="Bring the hosts and storages of the selected device's site back")
    site: Site | None = None
    devices: list[Text] | None = attrs.field(default=None, validator=_names)


@attrs.frozen(kw_only=True)
class Partition(Command):
    kind: ClassVar[str] = "partition"
    key = Key(key="X", label="partition", title="Fault: partition the selected device", group="fault",
              help="Cut the selected device off from the network (every link with one end at it)")
    devices: list[Text] = attrs.field(validator=_names)


@attrs.frozen(kw_only=True)
class Heal(Command):
    kind: ClassVar[str] = "heal"
    key = Key(key="h", label="heal", title="Fault: heal partitions", group="fault",
              help="Undo every partition")
    devices: list[Text] | None = attrs.field(default=None, validator=_names)


@attrs.frozen(kw_only=True)
class Suspend(Command):
    """Planned Suspend (910) of the pair whose source volume is ``volume``."""

    kind: ClassVar[str] = "suspend"
    key = Key(key="s", label="suspend", title="Pair: suspend", group="pair",
              help="Planned suspend (910) of the selected pair")
    volume: Text
    host: Text | None = None


@attrs.frozen(kw_only=True)
class Resync(Command):
    """Resynchronize (Fig. 12)."""

    kind: ClassVar[str] = "resync"
    key = Key(key="r", label="resync", title="Pair: resync", group="pair",
              help="Resynchronize (Fig. 12) back to Duplex")
    volume: Text
    host: Text | None = None


class GroupCommand(Command):
    """A command that acts on a whole consistency group (as arrays do, horctakeover on a
    CTG): every pair of an order group, of one customer, whose target storage hangs off the
    same edge. Named by one of its ``volume``s (either end) or by its ``order_id``."""

    __slots__ = ()
    volume: Text | None
    order_id: int | None

    def __attrs_post_init__(self) -> None:
        if self.volume is None and self.order_id is None:
            raise Bad("missing: give volume (one of the group's volumes) or order_id (its order assurance ID)",
                      "volume")
        if self.volume is not None and self.order_id is not None:
            raise Bad("give volume or order_id, not both", "order_id")


@attrs.frozen(kw_only=True)
class Failover(GroupCommand):
    """Take over at the target (Fig. 13), the whole consistency group; ``prompt``: without
    waiting for the source."""

    kind: ClassVar[str] = "failover"
    key = Key(key="o", label="failover", title="Pair: failover", group="pair",
              help="Failover (Fig. 13): the target host takes over the target volume (its whole order group)")
    volume: Text | None = None
    order_id: int | None = attrs.field(default=None, validator=bounded(1))
    prompt: bool = False
    host: Text | None = None


@attrs.frozen(kw_only=True)
class FetchRemaining(Command):
    kind: ClassVar[str] = "fetch-remaining"
    volume: Text


@attrs.frozen(kw_only=True)
class Failback(GroupCommand):
    """Back to the source site after a failover, the whole consistency group."""

    kind: ClassVar[str] = "failback"
    key = Key(key="b", label="failback", title="Pair: failback", group="pair",
              help="Failback to the source site after a failover (the whole order group)")
    volume: Text | None = None
    order_id: int | None = attrs.field(default=None, validator=bounded(1))
    swap_back: bool = False
    host: Text | None = None


@attrs.frozen(kw_only=True)
class DeletePair(Command):
    kind: ClassVar[str] = "delete-pair"
    key = Key(key="d", label="delete pair", title="Pair: delete", group="pair",
              help="Delete the pair (back to Simplex)")
    volume: Text
    host: Text | None = None


@attrs.frozen(kw_only=True)
class HealAll(Command):
    """The fuzzer's: every link restored, loss and jitter as the topology gave them,
    every device restarted."""

    kind: ClassVar[str] = "heal-all"


@attrs.frozen(kw_only=True)
class ResyncAll(Command):
    """The fuzzer's: resynchronize every suspended pair, retry failed creations."""

    kind: ClassVar[str] = "resync-all"


class Rule(StrEnum):
    """The protocol rules the fuzzer's ``break-rule`` can switch off (rcnlab.ops.faults):
    target edges ignore rule 2003 and reflect whatever WR entry they hold; or the FC
    (or IP) links from storages to their edges reorder again, so a source edge numbers
    writes out of the order its storage took them."""

    REFLECT_OUT_OF_ORDER = "reflect-out-of-order"
    REORDER_BEFORE_EDGE = "reorder-before-edge"


@attrs.frozen(kw_only=True)
class BreakRule(Command):
    """The fuzzer's test hook: switch off a protocol rule."""

    kind: ClassVar[str] = "break-rule"
    rule: Rule


@attrs.frozen(kw_only=True)
class ForgeWrite(Command):
    """The walkthroughs': a storage forges a RIO (WR) to another customer's volume."""

    kind: ClassVar[str] = "forge-write"
    device: Text
    volume: Text
    block: int = attrs.field(default=0, validator=_count)


COMMANDS: dict[str, type[Command]] = {cls.kind: cls for cls in (
    Contract, ConfigureCustomer, CreatePair, Suspend, Resync, Failover, FetchRemaining, Failback, DeletePair, Write, Workload, StopWorkload,
    FailLink, RestoreLink, SetLink, Crash, Restart, SiteFailure, SiteRestore, Partition, Heal, Expect, Note,
    HealAll, ResyncAll, BreakRule, ForgeWrite,
)}
