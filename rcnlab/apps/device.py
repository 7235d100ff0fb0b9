"""The block device an application writes through: the interface the VFS codes against.

`BlockDevice` is what ``session.block_device("ST112:0")`` hands out (a volume through its
host). Until the public API has it, `open_device` builds an interim one on the host's
SCSI commands that reads the source volume directly."""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from rcnlab.model.kinds import ScsiStatus
from rcnlab.model.rio import Rio, RioKind, ScsiCommand


class IOFailed(Exception):
    """A write was answered with an error, or the host or its storage went down."""


class Ticket(Protocol):
    @property
    def done(self) -> bool: ...

    @property
    def ok(self) -> bool: ...


class BlockDevice(Protocol):
    @property
    def block_size(self) -> int: ...

    @property
    def blocks(self) -> int: ...

    def write(self, block: int, data: bytes) -> Any: ...

    def write_sync(self, block: int, data: bytes) -> None: ...

    def flush(self) -> None: ...

    def read(self, block: int) -> bytes: ...


@attrs.define(eq=False)
class _Ticket:
    done: bool = False
    ok: bool = False


class HostDevice:
    """Interim: a volume through its host's SCSI WR; reads go to the storage's volume."""

    def __init__(self, session: Any, volume: str) -> None:
        self.session, self.volume = session, volume
        self._pending: list[_Ticket] = []
        lab = session.lab
        self._storage, self._ref = lab.volume(self.volume)
        self._host = lab.host_of(self._storage)
        self.block_size = self.session.world.topo.block_size
        self.blocks = self._storage.volumes[self._ref.lun].size

    def write(self, block: int, data: bytes) -> _Ticket:
        ticket = _Ticket()
        if not self._host.up:
            raise IOFailed(f"host {self._host.name} is down")

        def answered(answer: ScsiCommand) -> None:
            ticket.done, ticket.ok = True, answer.status is ScsiStatus.OK

        rio = Rio(kind=RioKind.WR, source=self._ref, target=self._ref, block=block, data=data)
        self._host.command(rio, answered)
        self._pending.append(ticket)
        return ticket

    def write_sync(self, block: int, data: bytes) -> None:
        self.write(block, data)
        self.flush()

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        self.session.run_until(lambda: all(t.done for t in pending) or not self._host.up or not self._storage.up)
        if not all(t.done and t.ok for t in pending):
            raise IOFailed(f"{self.volume}: {sum(not (t.done and t.ok) for t in pending)} writes failed")

    def read(self, block: int) -> bytes:
        self.flush()
        if not self._storage.up:
            raise IOFailed(f"{self.volume}: storage down")
        return bytes(self._storage.volumes[self._ref.lun].read(block))


def open_device(session: Any, volume: str) -> BlockDevice:
    opener = getattr(session, "block_device", None)
    return opener(volume) if opener is not None else HostDevice(session=session, volume=volume)
