"""Host computers (111, 121): issue SCSI commands and run workloads."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import ClassVar

import attrs

from rcnlab.devices.base import Device
from rcnlab.emu.journal import short_digest
from rcnlab.emu.kernel import Timer
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import DeviceKind, ScsiStatus
from rcnlab.model.rio import Rio, RioKind, ScsiCommand
from rcnlab.topo.schema import HostSpec

#: The arrow of Fig. 16 (or step) each SCSI command a host sends stands for.
COMMAND_STEPS = {
    RioKind.WR: "fig16:1601",
    RioKind.PAIR_CREATE: "fig10:1001",
    RioKind.RESYNC: "fig12:1201",
}


@attrs.define(eq=False)
class Workload:
    """Writes at ``rate`` per virtual second to blocks in [first, last), until
    ``count`` writes or ``until`` (virtual time) is reached."""

    volume: VolumeRef
    rate: float
    first: int
    last: int
    count: int | None
    until: float | None
    issued: int = 0
    timer: Timer | None = None

    @property
    def done(self) -> bool:
        return self.timer is None


@attrs.define(eq=False)
class Host(Device):
    spec: HostSpec = attrs.field(kw_only=True)
    kind: ClassVar[DeviceKind] = DeviceKind.HOST
    issued: int = attrs.field(default=0, init=False)
    acknowledged: int = attrs.field(default=0, init=False)
    failed: int = attrs.field(default=0, init=False)
    latency_sum: float = attrs.field(default=0.0, init=False)
    latency_max: float = attrs.field(default=0.0, init=False)
    workloads: list[Workload] = attrs.field(factory=list, init=False)
    #: Source sites the management server said failed (1301): site -> when the notice came.
    notified: dict[str, float] = attrs.field(factory=dict, init=False)
    #: The cluster software (911; rcnlab.ops.pairs installs it): takes over the target volumes
    #: it is given. Used when the topology says ``auto_failover``; else the operator decides.
    cluster: Callable[[list[str]], object] | None = attrs.field(default=None, init=False)
    _next_tag: int = attrs.field(default=0, init=False)
    _outstanding: dict[int, tuple[float, Rio, Callable[[ScsiCommand], object] | None]] = attrs.field(
        factory=dict, init=False)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = self.net.rng(f"host:{self.name}")

    @property
    def storage(self) -> str:
        return self.spec.storage

    # -- commands ------------------------------------------------------------
    def command(self, rio: Rio, on_reply: Callable[[ScsiCommand], object] | None = None,
                step: str | None = None) -> int:
        """Send a SCSI command to the host's storage; ``on_reply`` gets the answer."""
        tag = self._next_tag = self._next_tag + 1
        self._outstanding[tag] = (self.net.kernel.now, rio, on_reply)
        if rio.kind is RioKind.WR:
            self.issued += 1
        self.net.send(self.name, self.spec.storage, ScsiCommand(tag=tag, rio=rio), rio.size,
                      step or COMMAND_STEPS.get(rio.kind))
        return tag

    def write(self, volume: VolumeRef, block: int, data: bytes | None = None,
              on_reply: Callable[[ScsiCommand], object] | None = None) -> int:
        """One SCSI WR (arrow 1601); data derived from the seed unless given."""
        if data is None:
            data = self._rng.randbytes(self.net.topo.block_size)
        rio = Rio(kind=RioKind.WR, source=volume, target=volume, block=block, data=data)
        if self.net.journal.active:
            self.emit("write-issued", None, tag=self._next_tag + 1, volume=str(volume), block=block,
                      data_digest=short_digest(data))
        return self.command(rio, on_reply)

    def read(self, volume: VolumeRef, block: int, on_reply: Callable[[ScsiCommand], object] | None = None) -> int:
        """One SCSI READ of ``block`` (beyond the patent); the storage's answer carries its data."""
        self.emit("read-issued", None, volume=str(volume), block=block)
        return self.command(Rio(kind=RioKind.READ, source=volume, target=volume, block=block), on_reply)

    def abort(self, tag: int, reason: str) -> None:
        """Stop waiting for the command tagged ``tag`` (a SCSI command timeout): it fails
        with ``reason`` as if the storage had answered so; a late answer is ignored."""
        entry = self._outstanding.get(tag)
        if entry is not None:
            self.receive(self.spec.storage, ScsiCommand(tag=tag, rio=entry[1], status=ScsiStatus.ERROR, detail=reason))

    def undelivered(self, dst: str, message: object) -> None:
        """A command reached its storage while it was down (its port gone from the fabric):
        a pair command fails at once, in one line, instead of waiting for ever (issue 12:
        answer every command). A write is left to the application's own timeout."""
        if isinstance(message, ScsiCommand) and message.rio.kind not in (RioKind.WR, RioKind.READ):
            self.abort(message.tag, f"{dst} is down: the command never reached it")

    def receive(self, src: str, message: object) -> None:
        if not isinstance(message, ScsiCommand):
            self.malformed += 1
            return
        entry = self._outstanding.pop(message.tag, None)
        if entry is None:
            return  # an answer to a command we no longer wait for
        sent_at, rio, on_reply = entry
        if rio.kind is RioKind.WR:
            if message.status == ScsiStatus.OK:
                self.acknowledged += 1
                latency = self.net.kernel.now - sent_at
                self.latency_sum += latency
                self.latency_max = max(self.latency_max, latency)
                if self.net.journal.active:
                    self.emit("write-acknowledged", None, tag=message.tag, volume=str(rio.source), block=rio.block,
                              latency=round(latency, 9))
            else:
                self.failed += 1
                self.emit("write-failed", None, volume=str(rio.source), block=rio.block, detail=message.detail)
        elif rio.kind is RioKind.READ:
            if message.status != ScsiStatus.OK:
                self.emit("read-failed", None, volume=str(rio.source), block=rio.block, detail=message.detail)
        else:
            self.emit("command-answered", None, command=str(rio.kind), status=message.status,
                      detail=message.detail)
        if on_reply is not None:
            on_reply(message)

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def next_tag(self) -> int:
        """The tag the next SCSI command will carry."""
        return self._next_tag + 1

    def awaits(self, tag: int) -> bool:
        """Whether the command tagged ``tag`` still waits for its answer."""
        return tag in self._outstanding

    def sent(self, kind: RioKind) -> list[Rio]:
        """The commands of ``kind`` sent and not answered yet (a pair creation on its way)."""
        return [rio for _, rio, _ in self._outstanding.values() if rio.kind is kind]

    @property
    def mean_latency(self) -> float:
        return self.latency_sum / self.acknowledged if self.acknowledged else 0.0

    def site_failure_notified(self, site: str, volumes: list[str]) -> None:
        """The management server's notice over the WAN 102: the source site of ``volumes``
        (target volumes on this host's storage) failed (1301). With ``auto_failover`` the
        cluster software takes them over now; otherwise the operator decides."""
        self.notified[site] = self.now
        auto = self.spec.auto_failover and self.cluster is not None
        self.emit("site-failure-notified", None, site=site, volumes=volumes,
                  takeover="cluster software" if auto else "operator")
        if auto and self.cluster is not None:
            self.cluster(volumes)

    # -- workloads -----------------------------------------------------------
    def start_workload(self, volume: VolumeRef, rate: float, first: int = 0, last: int = 1024,
                       count: int | None = None, duration: float | None = None) -> Workload:
        until = self.now + duration if duration is not None else None
        wl = Workload(volume=volume, rate=rate, first=first, last=last, count=count, until=until)
        self.workloads.append(wl)
        self.emit("workload-started", None, volume=str(volume), rate=rate, count=count, duration=duration)
        wl.timer = self.net.kernel.timer(0.0, self._tick, wl)
        return wl

    def stop_workloads(self) -> None:
        for wl in self.workloads:
            if wl.timer is not None:
                wl.timer.cancel()
                wl.timer = None
        self.workloads = []

    def _tick(self, wl: Workload) -> None:
        if not self.up or (wl.count is not None and wl.issued >= wl.count) or (
                wl.until is not None and self.now >= wl.until):
            wl.timer = None
            self.emit("workload-finished", None, volume=str(wl.volume), issued=wl.issued)
            return
        wl.issued += 1
        self.write(wl.volume, self._rng.randrange(wl.first, wl.last))
        wl.timer = self.net.kernel.timer(1.0 / wl.rate, self._tick, wl)

    @property
    def workload_rate(self) -> float:
        return sum(wl.rate for wl in self.workloads if not wl.done)

    def crash(self) -> None:
        super().crash()
        self.stop_workloads()
        self._outstanding.clear()

