"""The operator's view of a running network: the commands a scenario, a
walkthrough or the TUI gives, by device and volume names. Every command is
checked first and refused with a one-line `LabError` (or `IllegalCommand`)
that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcnlab.devices.host import Host
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.model.ids import VolumeRef
from rcnlab.model.pair_state import LEGAL, Command, IllegalCommand, PairState, check_command
from rcnlab.model.rio import Rio, RioKind, ScsiCommand
from rcnlab.topo.schema import SECONDS_PER_KM
from rcnlab.world import World


class LabError(Exception):
    """A command that names something that does not exist or cannot be done."""


class Lab:
    def __init__(self, net: World) -> None:
        self.net = net
        self.answers: list[tuple[str, ScsiCommand]] = []  # (host, answer) of operator commands
        self.partitions: list[tuple[frozenset[str], list[Any]]] = []  # (devices cut off, channels failed)

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

    # -- commands -----------------------------------------------------------------
    def _command(self, host: Host, rio: Rio, step: str | None = None,
                 then: Callable[[ScsiCommand], Any] | None = None) -> None:
        if not host.up:
            raise LabError(f"host {host.name} is down")

        def on_reply(answer: ScsiCommand) -> None:
            self.answers.append((host.name, answer))
            if then is not None:
                then(answer)

        host.command(rio, on_reply, step)

    def _paired(self, volume: str, command: Command) -> tuple[ExternalStorage, StoragePair]:
        """The volume's pair; a Simplex volume refuses ``command`` naming its state and what is legal."""
        storage, ref = self.volume(volume)
        pair = storage.pairs.get(ref.lun)
        if pair is None:
            check_command(command, PairState.SIMPLEX, f"{storage.name} {volume}")
            raise LabError(f"{volume} is not in a pair (Simplex)")  # pragma: no cover - CREATE only
        return storage, pair

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
        storage, pair = self._paired(volume, command)
        check_command(command, pair.state, f"{storage.name} {volume}")
        return self.host_of(storage, host), pair

    def suspend(self, volume: str, host: str | None = None) -> None:
        """Planned Suspend (910) of the pair whose source volume is ``volume``."""
        h, pair = self._pair_command(volume, Command.SUSPEND, host)
        if pair.role != "source":
            raise IllegalCommand(f"suspend refused: {volume} is the target of its pair; give it at the source "
                                 f"volume {self.net.volume_name(self.net.real(pair.remote))}")
        self._command(h, Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote))

    def resync(self, volume: str, host: str | None = None) -> None:
        """Resynchronize (Fig. 12, 1201) the pair whose source volume is ``volume``."""
        h, pair = self._pair_command(volume, Command.RESYNC, host)
        if pair.role != "source":
            raise IllegalCommand(f"resync refused: {volume} is the target of its pair; give it at the source "
                                 f"volume {self.net.volume_name(self.net.real(pair.remote))}")
        h.emit("resync-instructed", "fig9:909", volume=volume)
        self._command(h, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote))

    def _target_side(self, volume: str, command: Command) -> tuple[ExternalStorage, StoragePair]:
        """The pair's target storage and its record, from either of the pair's volumes."""
        storage, pair = self._paired(volume, command)
        if pair.role == "source":
            storage, pair = self._paired(self.net.volume_name(self.net.real(pair.remote)), command)
        return storage, pair

    def failover(self, volume: str, prompt: bool = False, host: str | None = None) -> None:
        """Failover (Fig. 13): the target host detects the source-site failure (1301) and
        sends a Suspend instruction (1302) to the target storage; when the storage answers
        (1311) it restarts the application on the target volume (1312, 911). ``volume`` is
        the pair's source or target volume. ``prompt``: the variant that suspends at once
        (1310-1312 right after 1303), leaving entries in the network (see fetch_remaining)."""
        storage, pair = self._target_side(volume, Command.FAILOVER)
        target = self.net.volume_name(pair.local)
        check_command(Command.FAILOVER, pair.state, f"{storage.name} {target}")
        h = self.host_of(storage, host)
        if not h.up:
            raise LabError(f"host {h.name} is down")
        source_storage = self.net.storage_of(pair.remote)
        site = source_storage.spec.site if source_storage else "source"
        by = "management server 103" if site in self.net.management.sites_down else "operator"
        h.emit("site-failure-detected", "fig13:1301", site=site, by=by,
               pair=f"{self.net.volume_name(pair.remote)}>{target}")

        def restarted(answer: ScsiCommand) -> None:
            if answer.status == "ok":
                h.emit("application-restarted", "fig13:1312", volume=target)
                h.emit("failover-done", "fig9:911", volume=target, prompt=prompt)

        self._command(h, Rio(kind=RioKind.SUSPEND, source=pair.remote, target=pair.local, failure=True,
                             mode="prompt" if prompt else ""), "fig13:1302", restarted)

    def fetch_remaining(self, volume: str) -> int:
        """After a failover (the prompt variant above all): fetch the log entries still in the
        network through the management server (501) and reflect them in order on the
        target volume. Returns how many entries were found."""
        storage, pair = self._target_side(volume, Command.FETCH)
        where = f"{storage.name} {self.net.volume_name(pair.local)}"
        if pair.role != "target" or pair.state is not PairState.FAILURE_SUSPEND:
            legal = ", ".join(str(c) for c in LEGAL[pair.state])
            raise IllegalCommand(f"fetch-remaining refused: pair is {pair.state} at {where} (it follows a failover, "
                                 f"in failure Suspend); legal now: {legal}")
        edge = self.net.devices[storage.edge]
        if not edge.up:
            raise LabError(f"edge {edge.name} is down")
        info = edge.pairs.get((self.net.real(pair.remote), pair.local))
        if info is None:
            raise LabError(f"edge {edge.name} has no record of the pair")
        return self.net.management.fetch_remaining(edge, info.order_id)

    def failback(self, volume: str, swap_back: bool = False, host: str | None = None) -> None:
        """Failback (beyond the patent, like ``pairresync -swaps``): after a failover, turn the
        pair round (the old target becomes the source), copy back only the blocks marked in
        the bitmaps (1211, 1213, 727) and reach Duplex in the reverse direction. Given at
        either volume; the command goes to the old target's storage. ``swap_back``: once
        Duplex reversed, suspend, fail over and fail back again to the first direction. A
        second failback of a failed-back pair in Duplex does that swap back too."""
        storage, pair = self._target_side(volume, Command.FAILBACK)
        where = f"{storage.name} {self.net.volume_name(pair.local)}"
        if pair.swapped and pair.state is PairState.DUPLEX:  # a second failback: swap back
            source = self.net.volume_name(self.net.real(pair.remote))
            states = set(self.states(*self.pair_of(source)).values())
            if states != {PairState.DUPLEX}:
                raise IllegalCommand(f"failback refused: pair {source} is not Duplex at all four parties yet "
                                     f"({', '.join(sorted(str(s) for s in states))}); try again when it is")
            self._swap_back(source, self.net.volume_name(pair.local))
            return
        if not pair.takeover:
            legal = ", ".join(str(c) for c in LEGAL[pair.state] if c is not Command.FAILBACK)
            raise IllegalCommand(f"failback refused: pair is {pair.state} at {where} but no failover took place "
                                 f"(the target host has not taken over); legal now: {legal}")
        check_command(Command.FAILBACK, pair.state, where)
        old_source = self.net.storage_of(pair.remote)
        if old_source is None or not old_source.up:
            raise LabError(f"failback needs the old source storage up; "
                           f"{old_source.name if old_source else pair.remote} is down")
        h = self.host_of(storage, host)
        self._command(h, Rio(kind=RioKind.RESYNC, source=pair.remote, target=pair.local, swap=True))
        if swap_back:
            self._swap_back(self.net.volume_name(pair.local), self.net.volume_name(self.net.real(pair.remote)))

    def _swap_back(self, new_source: str, new_target: str, step: int = 0, started: float | None = None) -> None:
        """Drive suspend -> failover -> failback of the reversed pair, each when the last is done."""
        kernel = self.net.kernel
        started = kernel.now if started is None else started
        if kernel.now - started > 60.0:
            self.net.management.emit("swap-back-abandoned", None, pair=f"{new_source}>{new_target}", at_step=step)
            return
        try:
            storage, pair = self.pair_of(new_source)
            states = set(self.states(storage, pair).values()) if pair.role == "source" else set()
            if step == 0 and states == {PairState.DUPLEX}:
                self.suspend(new_source)
                step = 1
            elif step == 1 and states == {PairState.SUSPEND}:
                self.failover(new_target)
                step = 2
            elif step == 2:
                _, tpair = self.pair_of(new_target)
                if tpair.takeover:
                    self.failback(new_target)
                    self.net.management.emit("swapped-back", None, pair=f"{new_target}>{new_source}")
                    return
        except (LabError, IllegalCommand) as exc:
            self.net.management.emit("swap-back-abandoned", None, pair=f"{new_source}>{new_target}",
                                     reason=str(exc))
            return
        kernel.timer(0.005, self._swap_back, new_source, new_target, step, started)

    def delete_pair(self, volume: str, host: str | None = None) -> None:
        """Delete the pair (back to Simplex at all four parties). Given at either volume; it
        goes to the source storage, or, when that is down, to the target storage alone."""
        storage, pair = self._paired(volume, Command.DELETE)
        check_command(Command.DELETE, pair.state, f"{storage.name} {volume}")
        if pair.role == "target":
            source = self.net.storage_of(pair.remote)
            if source is not None and source.up and source.pairs.get(pair.remote.lun) is not None:
                storage, pair = source, source.pairs[pair.remote.lun]
        h = self.host_of(storage, host)
        self._command(h, Rio(kind=RioKind.DELETE, source=pair.source, target=pair.target))

    def legal_commands(self, volume: str) -> list[str]:
        """The commands the pair's state allows now at this volume's storage."""
        storage, ref = self.volume(volume)
        return [str(c) for c in LEGAL[storage.pair_state(ref.lun)]]

    # -- faults ------------------------------------------------------------------------
    def fail_link(self, name: str, direction: str | None = None) -> None:
        """Cut a link both ways, or one way only (``direction`` "A>B"); frames on it are lost."""
        link = self.link(name)
        for ch in self._channels(link, direction):
            ch.fail()
        self.net.management.emit("link-failed", None, link=link.name, direction=direction or "both")

    def restore_link(self, name: str, direction: str | None = None) -> None:
        link = self.link(name)
        for ch in self._channels(link, direction):
            ch.restore()
        self.net.management.emit("link-restored", None, link=link.name, direction=direction or "both")
        self.net.management.refresh_routes()

    def site_failure(self, site: str | None = None, devices: list[str] | None = None) -> list[str]:
        """A site disaster: every host and storage of ``site`` (or the named ``devices``)
        goes down together; the management server notices (it tells 1301). Returns the names."""
        names = self._site_devices(site, devices)
        down = [n for n in names if self.net.devices[n].up]
        if not down:
            raise LabError(f"site {site or ', '.join(devices or ())} is already down")
        for name in down:
            self.net.devices[name].crash()
        self.net.management.emit("site-failed", None, site=site, devices=down)
        if site is not None:
            self.net.management.site_down(site)
        return down

    def site_restore(self, site: str | None = None, devices: list[str] | None = None) -> list[str]:
        """The site's hosts and storages come back (volumes and pair records were on disk)."""
        names = self._site_devices(site, devices)
        up = [n for n in names if not self.net.devices[n].up]
        if not up:
            raise LabError(f"site {site or ', '.join(devices or ())} is not down")
        for name in up:
            self.net.devices[name].restart()
        self.net.management.emit("site-restored", None, site=site, devices=up)
        if site is not None:
            self.net.management.site_up(site)
        return up

    def _site_devices(self, site: str | None, devices: list[str] | None) -> list[str]:
        if (site is None) == (devices is None):
            raise LabError("give a site or a list of devices, not both or neither")
        if devices is not None:
            for name in devices:
                if name not in self.net.devices:
                    raise LabError(f"unknown device {name!r}")
            return list(devices)
        names = [d.name for d in (*self.net.hosts, *self.net.storages) if d.spec.site == site]
        if not names:
            sites = sorted({d.spec.site for d in (*self.net.hosts, *self.net.storages)})
            raise LabError(f"no host or storage at site {site!r} (sites: {', '.join(sites)})")
        return names

    def partition(self, devices: list[str]) -> list[str]:
        """Cut ``devices`` off from the rest: every link with one end inside fails (both
        ways). Returns the links cut; ``heal`` restores them."""
        inside = frozenset(devices)
        for name in inside:
            self.device(name)
        channels = [ch for link in self.net.links.values() if (link.a in inside) != (link.b in inside)
                    for ch in link.channels if ch.up]
        if not channels:
            raise LabError(f"no working link crosses the cut around {', '.join(sorted(inside))}")
        for ch in channels:
            ch.fail()
        cut = sorted({ch.link for ch in channels})
        self.partitions.append((inside, channels))
        self.net.management.emit("partitioned", None, devices=sorted(inside), links=cut)
        return cut

    def heal(self, devices: list[str] | None = None) -> list[str]:
        """Undo partitions: the one around ``devices``, or all of them."""
        wanted = frozenset(devices) if devices is not None else None
        keep, healed = [], []
        for inside, channels in self.partitions:
            if wanted is None or inside == wanted:
                for ch in channels:
                    ch.restore()
                healed.extend(ch.link for ch in channels)
            else:
                keep.append((inside, channels))
        if len(keep) == len(self.partitions):
            raise LabError("no partition to heal" if wanted is None else
                           f"no partition around {', '.join(sorted(wanted))}")
        self.partitions = keep
        links = sorted(set(healed))
        self.net.management.emit("healed", None, links=links)
        self.net.management.refresh_routes()
        return links

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
        self.net.management.refresh_routes()

    # -- the four parties' states -------------------------------------------------
    def pairs(self) -> list[dict[str, Any]]:
        """Every pair, as the source storage knows it, with the four parties' states (the
        run summary's records)."""
        return [view.record() for view in self.net.pair_views()]

    def states(self, storage: ExternalStorage, pair: StoragePair) -> dict[str, PairState]:
        """The pair's state at each of the four parties (Simplex where a party has no record),
        given at either end: after a failback the volume first named may be the target."""
        return {party.value: state for party, state in self.net.pair_view(storage, pair).by_party().items()}

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
