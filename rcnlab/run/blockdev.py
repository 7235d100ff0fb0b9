"""A block device on a volume, as a program on the volume's host sees it: each write a
SCSI WR and each read a SCSI READ the host sends its storage, answered through the
emulation. ``write`` returns a `Ticket` at once; ``write_sync``, ``flush`` and ``read``
run the emulation until their answers come (or the host's command timeout passes)."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from rcnlab.devices.host import Host
from rcnlab.errors import BadInput, IOFailed
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import Role, ScsiStatus
from rcnlab.model.rio import ScsiCommand
from rcnlab.world import World

#: Virtual seconds a host waits for the answer to a read or write before it gives up
#: (a SCSI command timeout, as a host's disk driver has: Linux's default is 30 s).
IO_TIMEOUT = 30.0

#: run_until(predicate, timeout) of the session that drives the emulation.
Driver = Callable[[Callable[[], bool], float], bool]


@attrs.define(eq=False)
class Ticket:
    """One read or write a `BlockDevice` issued, and its answer: ``done`` once answered
    (or given up), ``ok`` when answered with good status; ``status`` and ``detail`` are
    the storage's (``detail``: why it failed); a read's ``data``."""

    op: str  # "write" or "read"
    volume: str  # "ST112:0"
    block: int
    issued: float  # virtual time
    deadline: float  # virtual time the host gives up waiting
    tag: int = 0  # the SCSI command's tag at the host
    status: ScsiStatus = ScsiStatus.NONE
    detail: str = ""
    answered: float | None = None
    data: bytes = b""

    @property
    def done(self) -> bool:
        return self.answered is not None

    @property
    def ok(self) -> bool:
        return self.status is ScsiStatus.OK

    @property
    def latency(self) -> float | None:
        return None if self.answered is None else self.answered - self.issued

    def failure(self) -> str:
        """One line: ``write of ST112:0 block 7 failed: ...``."""
        why = self.detail or ("never answered" if not self.done else str(self.status))
        return f"{self.op} of {self.volume} block {self.block} failed: {why}"


@attrs.define(eq=False)
class BlockDevice:
    """The volume ``volume`` through ``host``: blocks of ``block_size`` bytes, ``blocks``
    of them. Writes and reads go as SCSI commands to the host's storage; a failed one
    (refused by the storage, unanswered within ``timeout`` virtual seconds, or the host
    down) raises `IOFailed` from ``write_sync``, ``flush`` or ``read``."""

    world: World = attrs.field(repr=False)
    host: Host
    ref: VolumeRef
    volume: str  # its name, "ST112:0"
    blocks: int
    block_size: int
    drive: Driver = attrs.field(repr=False)
    timeout: float = IO_TIMEOUT
    in_flight: int = attrs.field(default=0, init=False)  # writes and reads not answered yet
    _unflushed: list[Ticket] = attrs.field(factory=list, init=False)  # writes since the last flush

    # -- writes ----------------------------------------------------------------------------
    def write(self, block: int, data: bytes) -> Ticket:
        """Issue a SCSI WR of one block and return at once; its `Ticket` gets the answer."""
        self._in_range(block, "write")
        if len(data) != self.block_size:
            raise BadInput(f"write of {self.volume} block {block}: {len(data)} bytes, but a block is "
                           f"{self.block_size} bytes")
        self._not_fenced(block)
        ticket = self._ticket("write", block)
        ticket.tag = self.host.write(self.ref, block, bytes(data), self._settle(ticket))
        self._unflushed.append(ticket)
        return ticket

    def write_sync(self, block: int, data: bytes) -> None:
        """Write one block and run the emulation until the storage acknowledges it."""
        ticket = self.write(block, data)
        self._wait(ticket)
        if self._unflushed and self._unflushed[-1] is ticket:
            self._unflushed.pop()  # answered here: not reported again by flush
        if not ticket.ok:
            raise IOFailed(ticket.failure())

    def flush(self) -> None:
        """A barrier: run the emulation until every write issued through this device is
        answered. Raises `IOFailed` naming the writes that failed since the last flush."""
        pending, self._unflushed = self._unflushed, []
        self._wait(*pending)
        failed = [t for t in pending if not t.ok]
        if failed:
            more = f" (and {len(failed) - 1} more: blocks {', '.join(str(t.block) for t in failed[1:])})" \
                if len(failed) > 1 else ""
            raise IOFailed(failed[0].failure() + more)

    # -- reads -----------------------------------------------------------------------------
    def read(self, block: int) -> bytes:
        """Read one block: a SCSI READ through the host, the emulation run until the data comes."""
        self._in_range(block, "read")
        ticket = self._ticket("read", block)
        ticket.tag = self.host.read(self.ref, block, self._settle(ticket))
        self._wait(ticket)
        if not ticket.ok:
            raise IOFailed(ticket.failure())
        return ticket.data

    # -- the machinery ----------------------------------------------------------------------
    def _in_range(self, block: int, op: str) -> None:
        if isinstance(block, bool) or not isinstance(block, int) or not 0 <= block < self.blocks:
            raise BadInput(f"{op} of {self.volume}: block {block!r} is outside the volume (0..{self.blocks - 1})")

    def _not_fenced(self, block: int) -> None:
        """A pair that failed over away from this volume fences it (as arrays do, and as the
        lab's screen does): the target host owns the data now, and writes here would be lost
        at failback."""
        storage = self.world.storage_of(self.ref)
        pair = storage.pairs.get(self.ref.lun) if storage is not None else None
        if pair is None or pair.role is not Role.SOURCE:
            return
        target = self.world.real(pair.remote)
        tstorage = self.world.storage_of(target)
        tpair = tstorage.pairs.get(target.lun) if tstorage is not None else None
        if tpair is not None and tpair.takeover:
            raise IOFailed(f"write of {self.volume} block {block} failed: fenced: its pair failed over to "
                           f"{self.world.volume_name(target)}, whose host owns the data now")

    def _ticket(self, op: str, block: int) -> Ticket:
        """A ticket for a command the host is about to send; IOFailed if it cannot."""
        if not self.host.up:
            raise IOFailed(f"{op} of {self.volume} block {block} failed: host {self.host.name} is down")
        now = self.world.kernel.now
        self.in_flight += 1
        return Ticket(op=op, volume=self.volume, block=block, issued=now, deadline=now + self.timeout)

    def _settle(self, ticket: Ticket) -> Callable[[ScsiCommand], None]:
        def answered(answer: ScsiCommand) -> None:
            self._close(ticket, answer.status, answer.detail, answer.rio.data)

        return answered

    def _close(self, ticket: Ticket, status: ScsiStatus, detail: str, data: bytes = b"") -> None:
        ticket.status, ticket.detail, ticket.data = status, detail, data
        ticket.answered = self.world.kernel.now
        self.in_flight -= 1

    def _wait(self, *tickets: Ticket) -> None:
        """Run until ``tickets`` are answered; those still unanswered at their deadline fail."""
        pending = [t for t in tickets if not t.done]
        if not pending:
            return
        first = 0  # pending[:first] are answered (answers mostly come in order: each looked at once)

        def answered() -> bool:
            nonlocal first
            while first < len(pending) and pending[first].done:
                first += 1
            return first == len(pending)

        host = self.host
        self.drive(lambda: answered() or not host.up, max(t.deadline for t in pending) - self.world.kernel.now)
        for t in pending:
            if t.done:
                continue
            if host.awaits(t.tag):  # the host gives up (the storage, or the way to it, is gone)
                host.abort(t.tag, f"no answer from {host.storage} within {self.timeout:g} s")
            else:  # the host crashed and forgot it
                self._close(t, ScsiStatus.ERROR, f"host {host.name} went down before the answer came")
