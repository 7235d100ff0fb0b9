"""The operator's view of a running network: the commands a scenario, a
walkthrough or the TUI gives, by device and volume names. Every command is
checked first and refused with a one-line `LabError` (or `IllegalCommand`)
that changes nothing."""

from __future__ import annotations

from typing import Any

from rcnlab.devices.host import Host
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.emu.network import Network
from rcnlab.model.ids import VolumeRef
from rcnlab.model.pair_state import Command, PairState, check_command
from rcnlab.model.rio import Rio, RioKind, ScsiCommand


class LabError(Exception):
    """A command that names something that does not exist or cannot be done."""


PARTIES = ("source_storage", "source_edge", "target_edge", "target_storage")


class Lab:
    def __init__(self, net: Network) -> None:
        self.net = net
        self.answers: list[tuple[str, ScsiCommand]] = []  # (host, answer) of operator commands

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

    def name_of(self, ref: VolumeRef) -> str:
        for s in self.net.storages:
            if s.wwn == ref.wwn:
                return f"{s.name}:{ref.lun}"
        for e in self.net.edges:
            real = e._real_of.get(ref.wwn)
            if real is not None:
                return self.name_of(VolumeRef(real, ref.lun))
        return str(ref)

    def pair_of(self, volume: str) -> tuple[ExternalStorage, StoragePair]:
        storage, ref = self.volume(volume)
        pair = storage.pairs.get(ref.lun)
        if pair is None:
            raise LabError(f"{volume} is not in a pair (Simplex)")
        return storage, pair

    # -- commands -----------------------------------------------------------------
    def _command(self, host: Host, rio: Rio) -> None:
        if not host.up:
            raise LabError(f"host {host.name} is down")
        host.command(rio, lambda answer: self.answers.append((host.name, answer)))

    def pair_create(self, source: str, target: str, mode: str = "async", order_id: int = 0,
                    host: str | None = None) -> None:
        """Fig. 9 step 904: the host asks its storage to pair two volumes (1001)."""
        src, src_ref = self.volume(source)
        dst, dst_ref = self.volume(target)
        if mode not in ("sync", "async"):
            raise LabError(f"mode must be 'sync' or 'async', not {mode!r}")
        if src is dst:
            raise LabError("source and target are on the same storage; the RCN copies between storages")
        if src.spec.customer != dst.spec.customer:
            raise LabError(f"{source} and {target} belong to different customers")
        check_command(Command.CREATE, src.pair_state(src_ref.lun), f"{src.name} {source}")
        check_command(Command.CREATE, dst.pair_state(dst_ref.lun), f"{dst.name} {target}")
        addressed = VolumeRef(self.net.management.addressed_wwn(src.name, dst.name), dst_ref.lun)
        h = self.host_of(src, host)
        h.emit("pair-create-instructed", "fig9:904", source=source, target=target, mode=mode)
        self._command(h, Rio(kind=RioKind.PAIR_CREATE, source=src_ref, target=addressed, mode=mode,
                             order_id=order_id))

    def write(self, volume: str, block: int, host: str | None = None, data: bytes | None = None) -> None:
        storage, ref = self.volume(volume)
        if not 0 <= block < storage.volumes[ref.lun].size:
            raise LabError(f"block {block} is outside {volume} (0..{storage.volumes[ref.lun].size - 1})")
        h = self.host_of(storage, host)
        if not h.up:
            raise LabError(f"host {h.name} is down")
        h.write(ref, block, data)

    def workload(self, volume: str, rate: float, count: int | None = None, duration: float | None = None,
                 blocks: tuple[int, int] | None = None, host: str | None = None) -> None:
        storage, ref = self.volume(volume)
        size = storage.volumes[ref.lun].size
        first, last = blocks or (0, min(size, 1 << 20))
        if not 0 <= first < last <= size:
            raise LabError(f"blocks [{first}, {last}) do not fit {volume} (0..{size})")
        if rate <= 0:
            raise LabError("rate must be positive")
        h = self.host_of(storage, host)
        if not h.up:
            raise LabError(f"host {h.name} is down")
        h.start_workload(ref, rate, first, last, count, duration)

    def stop_workloads(self) -> None:
        for h in self.net.hosts:
            h.stop_workloads()

    # -- pair commands (SCSI commands from a host) ------------------------------------
    def _pair_command(self, volume: str, command: Command, host: str | None = None) -> tuple[Host, StoragePair]:
        storage, pair = self.pair_of(volume)
        check_command(command, pair.state, f"{storage.name} {volume}")
        return self.host_of(storage, host), pair

    def suspend(self, volume: str, host: str | None = None) -> None:
        """Planned Suspend (910) of the pair whose source volume is ``volume``."""
        h, pair = self._pair_command(volume, Command.SUSPEND, host)
        if pair.role != "source":
            raise LabError(f"suspend is given at the source volume; {volume} is the target")
        self._command(h, Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote))

    def resync(self, volume: str, host: str | None = None) -> None:
        """Resynchronize (Fig. 12, 1201) the pair whose source volume is ``volume``."""
        h, pair = self._pair_command(volume, Command.RESYNC, host)
        if pair.role != "source":
            raise LabError(f"resync is given at the source volume; {volume} is the target")
        self._command(h, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote))

    def failover(self, volume: str, prompt: bool = False, host: str | None = None) -> None:
        """Failover (Fig. 13): the target host sends a Suspend instruction (1302) to the
        target storage. ``volume`` is the pair's source or target volume."""
        storage, pair = self.pair_of(volume)
        if pair.role == "source":
            storage, pair = self.pair_of(self.name_of(self._real(pair.remote, storage)))
        check_command(Command.FAILOVER, pair.state, f"{storage.name} {self.name_of(pair.local)}")
        h = self.host_of(storage, host)
        self._command(h, Rio(kind=RioKind.SUSPEND, source=pair.remote, target=pair.local, failure=True,
                             mode="prompt" if prompt else ""))

    def delete_pair(self, volume: str, host: str | None = None) -> None:
        """Delete the pair (back to Simplex at all four parties)."""
        h, pair = self._pair_command(volume, Command.DELETE, host)
        self._command(h, Rio(kind=RioKind.DELETE, source=pair.source, target=pair.target))

    def legal_commands(self, volume: str) -> list[str]:
        """The commands the pair's state allows now at this volume's storage."""
        from rcnlab.model.pair_state import LEGAL

        storage, ref = self.volume(volume)
        return [str(c) for c in LEGAL[storage.pair_state(ref.lun)]]

    # -- faults ------------------------------------------------------------------------
    def fail_link(self, name: str, direction: str | None = None) -> None:
        """Cut a link both ways, or one way only (``direction`` "A>B")."""
        link = self.link(name)
        for ch in self._channels(link, direction):
            ch.fail()
        self.net.management.emit("link-failed", None, link=link.name, direction=direction or "both")

    def restore_link(self, name: str, direction: str | None = None) -> None:
        link = self.link(name)
        for ch in self._channels(link, direction):
            ch.restore()
        self.net.management.emit("link-restored", None, link=link.name, direction=direction or "both")

    def _channels(self, link: Any, direction: str | None) -> list[Any]:
        if direction is None:
            return list(link.channels)
        src, sep, dst = direction.partition(">")
        for ch in link.channels:
            if (ch.src, ch.dst) == (src, dst):
                return [ch]
        raise LabError(f"link {link.name} has no direction {direction!r} "
                       f"(use {link.a}>{link.b} or {link.b}>{link.a})")

    def device(self, name: str) -> Any:
        dev = self.net.devices.get(name)
        if dev is None:
            raise LabError(f"unknown device {name!r}")
        return dev

    def crash(self, name: str) -> None:
        dev = self.device(name)
        if not dev.up:
            raise LabError(f"{name} is already down")
        dev.crash()
        self.net.management.emit("device-crashed", None, device=name)

    def restart(self, name: str) -> None:
        dev = self.device(name)
        if dev.up:
            raise LabError(f"{name} is already up")
        dev.restart()
        self.net.management.emit("device-restarted", None, device=name)

    # -- the four parties' states -------------------------------------------------
    def pairs(self) -> list[dict[str, Any]]:
        """Every pair, as the source storage knows it, with the four parties' states."""
        out = []
        for storage in self.net.storages:
            for pair in storage.pairs.values():
                if pair.role != "source":
                    continue
                out.append(self.describe(storage, pair))
        return out

    def describe(self, storage: ExternalStorage, pair: StoragePair) -> dict[str, Any]:
        states = self.states(storage, pair)
        target = self._real(pair.remote, storage)
        info = self._edge_pair(storage.edge, pair.local, target)
        return {
            "source": self.name_of(pair.local),
            "target": self.name_of(target),
            "mode": pair.mode,
            "order_id": info.order_id if info else None,
            "states": {k: str(v) for k, v in states.items()},
        }

    def _real(self, ref: VolumeRef, storage: ExternalStorage) -> VolumeRef:
        edge = self.net.devices[storage.edge]
        return VolumeRef(edge._real_of.get(ref.wwn, ref.wwn), ref.lun)

    def _edge_pair(self, edge_name: str, source: VolumeRef, target: VolumeRef) -> Any:
        edge = self.net.devices.get(edge_name)
        return edge.pairs.get((source, target)) if edge is not None else None

    def states(self, storage: ExternalStorage, pair: StoragePair) -> dict[str, PairState]:
        """The pair's state at each of the four parties (Simplex where a party has no record)."""
        source = pair.local
        target = self._real(pair.remote, storage)
        target_storage = next((s for s in self.net.storages if s.wwn == target.wwn), None)
        src_edge = self._edge_pair(storage.edge, source, target)
        dst_edge = self._edge_pair(target_storage.edge, source, target) if target_storage else None
        tpair = target_storage.pairs.get(target.lun) if target_storage else None
        return {
            "source_storage": pair.state,
            "source_edge": src_edge.state if src_edge else PairState.SIMPLEX,
            "target_edge": dst_edge.state if dst_edge else PairState.SIMPLEX,
            "target_storage": tpair.state if tpair and tpair.role == "target" else PairState.SIMPLEX,
        }

    # -- links -------------------------------------------------------------------------
    def link(self, name: str) -> Any:
        link = self.net.links.get(name)
        if link is None:
            a, _, b = name.partition("-")
            link = self.net.link_between(a, b)
        if link is None:
            raise LabError(f"unknown link {name!r} (links are named A-B: {', '.join(self.net.links)})")
        return link

    def set_link(self, name: str, latency_ms: float | None = None, jitter_ms: float | None = None,
                 bandwidth_mbps: float | None = None, loss: float | None = None, mtu: int | None = None,
                 distance_km: float | None = None) -> None:
        """Change a link's data at run time (both directions)."""
        from rcnlab.topo.schema import SECONDS_PER_KM

        link = self.link(name)
        if latency_ms is not None and distance_km is not None:
            raise LabError("give latency_ms or distance_km, not both")
        if loss is not None and not 0 <= loss < 1:
            raise LabError(f"loss must be in [0, 1), got {loss}")
        for value, what in ((latency_ms, "latency_ms"), (jitter_ms, "jitter_ms"), (distance_km, "distance_km")):
            if value is not None and value < 0:
                raise LabError(f"{what} must not be negative, got {value}")
        if mtu is not None and mtu < 64:
            raise LabError(f"mtu must be at least 64, got {mtu}")
        changes = {}
        if latency_ms is not None:
            changes["latency"] = latency_ms / 1000
        if distance_km is not None:
            changes["latency"] = distance_km * SECONDS_PER_KM
        if jitter_ms is not None:
            changes["jitter"] = jitter_ms / 1000
        if bandwidth_mbps is not None:
            changes["bandwidth"] = bandwidth_mbps * 1e6 / 8
        if loss is not None:
            changes["loss"] = loss
        if mtu is not None:
            changes["mtu"] = mtu
        for ch in link.channels:
            for key, value in changes.items():
                setattr(ch, key, value)
        self.net.management.emit("link-changed", None, link=link.name, **changes)
