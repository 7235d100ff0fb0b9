"""The operator's view of a running network: devices, volumes and links by name,
the pairs' states, and the record of what the operator's commands got.

The commands themselves are values (rcnlab.ops.commands) carried out by their
handlers (rcnlab.ops.registry: ``do(lab, command)``). Every command is checked first
and refused with a one-line `LabError` (or `IllegalCommand`) that changes nothing."""

from __future__ import annotations

from typing import Any

from rcnlab.devices.host import Host
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.model.ids import VolumeRef
from rcnlab.model.pair_state import LEGAL, PairState
from rcnlab.model.rio import ScsiCommand
from rcnlab.ops.commands import CreatePair
from rcnlab.world import World


class LabError(Exception):
    """A command that names something that does not exist or cannot be done."""


class Lab:
    def __init__(self, net: World) -> None:
        self.net = net
        self.answers: list[tuple[str, ScsiCommand]] = []  # (host, answer) of operator commands
        self.partitions: list[tuple[frozenset[str], list[Any]]] = []  # (devices cut off, channels failed)
        self.refused: list[str] = []  # commands refused at run time, one line each
        self.failed: list[str] = []  # expectations that did not hold, one line each
        self.passed = 0  # expectations that held
        #: The pair creations the scenario plans (``resync-all`` tries one that failed outright again).
        self.planned: tuple[CreatePair, ...] = ()
        #: Failovers and failbacks sent and not answered yet: (command, volume at either end) ->
        #: (host, tag); another for the same pair joins it (rcnlab.ops.pairs).
        self.under_way: dict[tuple[str, str], tuple[Host, int]] = {}

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

