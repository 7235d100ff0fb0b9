"""The operator's view of a running network: devices, volumes and links by name,
the pairs' states, and the record of what the operator's commands got.

The commands themselves are values (rcnlab.ops.commands) carried out by their
handlers (rcnlab.ops.registry: ``do(lab, command)``). Every command is checked first
and refused with a one-line `LabError` (or `IllegalCommand`) that changes nothing.

A pair command that passes the checks goes to a host's storage as a SCSI command; its
`CommandHandle` (in ``lab.commands``) gets that command's own answer. The same command
given again while the first still waits for its answer (a second resync of the same pair)
sends nothing: it joins the first and gets its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from rcnlab.devices.host import Host
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import ScsiStatus
from rcnlab.model.pair_state import LEGAL, Command, PairState
from rcnlab.model.rio import Rio, RioKind, ScsiCommand
from rcnlab.ops.commands import CreatePair
from rcnlab.world import World


class LabError(Exception):
    """A command that names something that does not exist or cannot be done."""


def command_of(rio: Rio) -> Command:
    """The operator command a host's SCSI pair command stands for."""
    if rio.kind is RioKind.SUSPEND:
        return Command.FAILOVER if rio.failure else Command.SUSPEND
    if rio.kind is RioKind.RESYNC:
        return Command.FAILBACK if rio.swap else Command.RESYNC
    return Command.CREATE if rio.kind is RioKind.PAIR_CREATE else Command.DELETE


@attrs.define(eq=False)
class CommandHandle:
    """One pair command a host gave its storage for the operator, and its own answer.

    ``answer`` is None while the host waits; ``joined`` is the same command already
    waiting when this one was given (this one sent nothing and gets that one's answer);
    ``expected`` is set by an ``expect`` step that said this command would fail."""

    command: Command
    pair: str  # "ST112:0>ST122:0", the volumes as the command names them
    host: str
    issued: float  # virtual time
    tag: int = 0  # the SCSI command's tag at the host (0: joined, nothing sent)
    joined: CommandHandle | None = None
    answer: ScsiCommand | None = None
    answered: float | None = None  # virtual time of the answer
    expected: bool = False

    @property
    def done(self) -> bool:
        return self.answer is not None

    @property
    def failed(self) -> bool:
        """Answered with an error (a command still waiting has not failed yet)."""
        return self.answer is not None and self.answer.status is not ScsiStatus.OK

    @property
    def reason(self) -> str:
        """The storage's reason for an error (or the status); "never answered" while none came."""
        if self.answer is None:
            return "never answered"
        return self.answer.detail or str(self.answer.status)

    def line(self) -> str:
        """One line for people: ``t=2.000100: resync ST112:0>ST122:0 (H111, given at t=0.100000) failed: ...``."""
        t = self.issued if self.answered is None else self.answered
        outcome = f"failed: {self.reason}" if self.failed else ("answered ok" if self.done else "never answered")
        joined = f", joined the one given at t={self.joined.issued:.6f}" if self.joined else ""
        expected = " (expected)" if self.expected else ""
        return (f"t={t:.6f}: {self.command} {self.pair} ({self.host}, given at t={self.issued:.6f}{joined}) "
                f"{outcome}{expected}")

    def record(self) -> dict[str, Any]:
        """The JSON summary's record of a failed (or never answered) command."""
        return {"t": None if self.answered is None else round(self.answered, 9), "issued": round(self.issued, 9),
                "command": str(self.command), "pair": self.pair, "host": self.host,
                "reason": self.reason, "expected": self.expected}


class Lab:
    def __init__(self, net: World) -> None:
        self.net = net
        self.commands: list[CommandHandle] = []  # every pair command given, in order
        self._answered: list[CommandHandle] = []  # in the order their answers came
        self._waiting: dict[tuple[str, Rio], CommandHandle] = {}  # (storage, command) -> the handle sent
        #: Target volumes being restored from fetched entries (501): name -> (target edge, order
        #: assurance ID, virtual time the entries reach the edge over the management network).
        self.restores: dict[str, tuple[Any, int, float]] = {}
        self.partitions: list[tuple[frozenset[str], list[Any]]] = []  # (devices cut off, channels failed)
        self.refused: list[str] = []  # commands refused at run time, one line each
        self.failed: list[str] = []  # expectations that did not hold, one line each
        self.passed = 0  # expectations that held
        #: The pair creations the scenario plans (``resync-all`` tries one that failed outright again).
        self.planned: tuple[CreatePair, ...] = ()

    # -- pair commands and their answers ---------------------------------------------------
    def send(self, host: Host, rio: Rio, step: str | None = None,
             then: Callable[[ScsiCommand], Any] | None = None) -> CommandHandle:
        """The host gives its storage the pair command ``rio``; the handle gets its answer
        (and ``then`` is called with it). The same command to the same storage while the
        first still waits joins it: nothing is sent, the first's answer is this one's too
        (its ``then`` is not called: the command is carried out once). A first that has
        waited the storage's whole command timeout is not joined: the command goes again."""
        if not host.up:
            raise LabError(f"host {host.name} is down")
        net = self.net
        pair = f"{net.volume_name(net.real(rio.source))}>{net.volume_name(net.real(rio.target))}"
        handle = CommandHandle(command=command_of(rio), pair=pair, host=host.name, issued=net.kernel.now)
        self.commands.append(handle)
        key = (host.storage, rio)
        first = self._waiting.get(key)
        if first is not None and self._still_waiting(first, host.storage):
            handle.joined = first
            host.emit("command-joined", None, command=str(handle.command), pair=pair, first_host=first.host,
                      given_at=round(first.issued, 9))
            return handle

        def on_reply(answer: ScsiCommand) -> None:
            now = net.kernel.now
            if self._waiting.get(key) is handle:
                del self._waiting[key]
            for h in [handle, *(h for h in self.commands if h.joined is handle)]:
                h.answer, h.answered = answer, now
                self._answered.append(h)
            if then is not None:
                then(answer)

        self._waiting[key] = handle
        handle.tag = host.command(rio, on_reply, step)
        return handle

    def waiting(self, command: Command, volume: str) -> CommandHandle | None:
        """The ``command`` sent for the pair at ``volume`` (either end) that still waits for
        its answer, if any (a failover or failback given again joins it: rcnlab.ops.pairs)."""
        for (storage, _), handle in self._waiting.items():
            if handle.command is command and volume in handle.pair.split(">") and self._still_waiting(handle, storage):
                return handle
        return None

    def _still_waiting(self, handle: CommandHandle, storage: str) -> bool:
        """Whether ``handle``'s host still waits for its answer, and may still get one."""
        host = self.net.host_named.get(handle.host)
        timeout = self.storage(storage).spec.command_timeout
        return host is not None and host.awaits(handle.tag) and self.net.kernel.now - handle.issued < timeout

    @property
    def answers(self) -> list[tuple[str, ScsiCommand]]:
        """(host, answer) of every answered pair command, in the order the answers came."""
        return [(h.host, h.answer) for h in self._answered if h.answer is not None]

    def failed_commands(self, final: bool = False) -> list[CommandHandle]:
        """The commands answered with an error, in the order the answers came; ``final``
        (the run is over): the commands never answered too."""
        failed = [h for h in self._answered if h.failed]
        return failed + [h for h in self.commands if not h.done] if final else failed

    def restoring(self, volume: str) -> bool:
        """Whether fetched entries are (or are about to be) reflected on ``volume``."""
        restore = self.restores.get(volume)
        if restore is None:
            return False
        edge, order_id, arrives = restore
        if edge.up and (self.net.kernel.now <= arrives or edge.fetch_running(order_id)):
            return True
        del self.restores[volume]
        return False

    # -- names -----------------------------------------------------------------
    def storage(self, name: str) -> ExternalStorage:
        dev = self.net.devices.get(name)
        if not isinstance(dev, ExternalStorage):
            raise LabError(f"unknown storage {name!r}")
        return dev

    def volume(self, name_lun: str) -> tuple[ExternalStorage, VolumeRef]:
        """'ST112:0' -> the storage and its volume reference."""
        name, sep, lun = str(name_lun).partition(":")
        storage = self.storage(name)
        try:
            number = int(lun) if sep else 0
        except ValueError:
            raise LabError(f"bad LUN in {name_lun!r}") from None
        if number not in storage.volumes:
            raise LabError(f"storage {name} has no LUN {number}")
        return storage, storage.ref(number)

    def host_of(self, storage: ExternalStorage, host: str | None = None) -> Host:
        if host is not None:
            dev = self.net.devices.get(host)
            if not isinstance(dev, Host):
                raise LabError(f"unknown host {host!r}")
            if dev.storage != storage.name:
                raise LabError(f"host {host} is not attached to storage {storage.name}")
            return dev
        for h in self.net.hosts:
            if h.storage == storage.name:
                return h
        raise LabError(f"no host is attached to storage {storage.name}")

    def pair_of(self, volume: str) -> tuple[ExternalStorage, StoragePair]:
        storage, ref = self.volume(volume)
        pair = storage.pairs.get(ref.lun)
        if pair is None:
            raise LabError(f"{volume} is not in a pair (Simplex)")
        return storage, pair

    def device(self, name: str) -> Any:
        dev = self.net.devices.get(name)
        if dev is None:
            raise LabError(f"unknown device {name!r}")
        return dev

    # -- the four parties' states -------------------------------------------------
    def pairs(self) -> list[dict[str, Any]]:
        """Every pair, as the source storage knows it, with the four parties' states (the
        run summary's records)."""
        return [view.record() for view in self.net.pair_views()]

    def states(self, storage: ExternalStorage, pair: StoragePair) -> dict[str, PairState]:
        """The pair's state at each of the four parties (Simplex where a party has no record),
        given at either end: after a failback the volume first named may be the target."""
        return {party.value: state for party, state in self.net.pair_view(storage, pair).by_party().items()}

    def legal_commands(self, volume: str) -> list[str]:
        """The commands the pair's state allows now at this volume's storage."""
        storage, ref = self.volume(volume)
        return [str(c) for c in LEGAL[storage.pair_state(ref.lun)]]

    # -- links -------------------------------------------------------------------------
    def link(self, name: str) -> Any:
        link = self.net.links.get(name)
        if link is None:
            a, _, b = name.partition("-")
            link = self.net.link_between(a, b)
        if link is None:
            raise LabError(f"unknown link {name!r} (links are named A-B: {', '.join(self.net.links)})")
        return link

