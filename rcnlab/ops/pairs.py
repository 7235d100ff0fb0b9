"""The handlers of the pair commands and the host writes: each a SCSI command (or
writes) from a host, checked against the pair's state first (rcnlab.model.pair_state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcnlab.devices.host import Host
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.lab import Lab, LabError
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import FailoverMode, Role, ScsiStatus, Site
from rcnlab.model.pair_state import LEGAL, Command, IllegalCommand, PairState, check_command
from rcnlab.model.rio import Rio, RioKind, ScsiCommand
from rcnlab.ops.commands import (
    CreatePair,
    DeletePair,
    Failback,
    Failover,
    FetchRemaining,
    Resync,
    ResyncAll,
    StopWorkload,
    Suspend,
    Workload,
    Write,
)


def _send(lab: Lab, host: Host, rio: Rio, step: str | None = None,
          then: Callable[[ScsiCommand], Any] | None = None) -> None:
    """The host sends the command; its answer goes to ``lab.answers`` (and to ``then``)."""
    if not host.up:
        raise LabError(f"host {host.name} is down")

    def on_reply(answer: ScsiCommand) -> None:
        lab.answers.append((host.name, answer))
        if then is not None:
            then(answer)

    host.command(rio, on_reply, step)


def _paired(lab: Lab, volume: str, command: Command) -> tuple[ExternalStorage, StoragePair]:
    """The volume's pair; a Simplex volume refuses ``command`` naming its state and what is legal."""
    storage, ref = lab.volume(volume)
    pair = storage.pairs.get(ref.lun)
    if pair is None:
        check_command(command, PairState.SIMPLEX, f"{storage.name} {volume}")
        raise LabError(f"{volume} is not in a pair (Simplex)")  # pragma: no cover - CREATE only
    return storage, pair


def _at_source(lab: Lab, volume: str, command: Command, host: str | None) -> tuple[Host, StoragePair]:
    """The host and pair for a command given at the pair's source volume."""
    storage, pair = _paired(lab, volume, command)
    check_command(command, pair.state, f"{storage.name} {volume}")
    h = lab.host_of(storage, host)
    if pair.role is not Role.SOURCE:
        raise IllegalCommand(f"{command} refused: {volume} is the target of its pair; give it at the source "
                             f"volume {lab.net.volume_name(lab.net.real(pair.remote))}")
    return h, pair


def _target_side(lab: Lab, volume: str, command: Command) -> tuple[ExternalStorage, StoragePair]:
    """The pair's target storage and its record, from either of the pair's volumes."""
    storage, pair = _paired(lab, volume, command)
    if pair.role is Role.SOURCE:
        storage, pair = _paired(lab, lab.net.volume_name(lab.net.real(pair.remote)), command)
    return storage, pair


def create_pair(lab: Lab, c: CreatePair) -> None:
    """Fig. 9 step 904: the host asks its storage to pair two volumes (1001)."""
    src, src_ref = lab.volume(c.source)
    dst, dst_ref = lab.volume(c.target)
    if src is dst:
        raise LabError("source and target are on the same storage; the RCN copies between storages")
    if src.spec.customer != dst.spec.customer:
        raise LabError(f"{c.source} and {c.target} belong to different customers")
    check_command(Command.CREATE, src.pair_state(src_ref.lun), f"{src.name} {c.source}")
    check_command(Command.CREATE, dst.pair_state(dst_ref.lun), f"{dst.name} {c.target}")
    addressed = VolumeRef(lab.net.management.addressed_wwn(src.name, dst.name), dst_ref.lun)
    h = lab.host_of(src, c.host)
    h.emit("pair-create-instructed", "fig9:904", source=c.source, target=c.target, mode=c.mode)
    _send(lab, h, Rio(kind=RioKind.PAIR_CREATE, source=src_ref, target=addressed, mode=c.mode,
                      order_id=c.order_id))


def write(lab: Lab, c: Write) -> None:
    """One host write; ``data`` (text) is the block's first bytes, the rest zeros."""
    storage, ref = lab.volume(c.volume)
    size = storage.volumes[ref.lun].size
    if not 0 <= c.block < size:
        raise LabError(f"block {c.block} is outside {c.volume} (0..{size - 1})")
    h = lab.host_of(storage, c.host)
    if not h.up:
        raise LabError(f"host {h.name} is down")
    bs = lab.net.topo.block_size
    h.write(ref, c.block, None if c.data is None else c.data.encode()[:bs].ljust(bs, b"\0"))


def workload(lab: Lab, c: Workload) -> None:
    storage, ref = lab.volume(c.volume)
    size = storage.volumes[ref.lun].size
    first, last = c.blocks or (0, min(size, 1 << 20))
    if not 0 <= first < last <= size:
        raise LabError(f"blocks [{first}, {last}) do not fit {c.volume} (0..{size})")
    h = lab.host_of(storage, c.host)
    if not h.up:
        raise LabError(f"host {h.name} is down")
    h.start_workload(ref, c.rate, first, last, c.count, c.duration)


def stop_workloads(lab: Lab, c: StopWorkload) -> None:
    for h in lab.net.hosts:
        h.stop_workloads()


def suspend(lab: Lab, c: Suspend) -> None:
    """Planned Suspend (910) of the pair whose source volume is ``volume``."""
    h, pair = _at_source(lab, c.volume, Command.SUSPEND, c.host)
    _send(lab, h, Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote))


def resync(lab: Lab, c: Resync) -> None:
    """Resynchronize (Fig. 12, 1201) the pair whose source volume is ``volume``."""
    h, pair = _at_source(lab, c.volume, Command.RESYNC, c.host)
    h.emit("resync-instructed", "fig9:909", volume=c.volume)
    _send(lab, h, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote))


def failover(lab: Lab, c: Failover) -> None:
    """Failover (Fig. 13): the target host detects the source-site failure (1301) and
    sends a Suspend instruction (1302) to the target storage; when the storage answers
    (1311) it restarts the application on the target volume (1312, 911). ``volume`` is
    the pair's source or target volume. ``prompt``: the variant that suspends at once
    (1310-1312 right after 1303), leaving entries in the network (see fetch_remaining)."""
    net = lab.net
    storage, pair = _target_side(lab, c.volume, Command.FAILOVER)
    target = net.volume_name(pair.local)
    check_command(Command.FAILOVER, pair.state, f"{storage.name} {target}")
    h = lab.host_of(storage, c.host)
    if not h.up:
        raise LabError(f"host {h.name} is down")
    source_storage = net.storage_of(pair.remote)
    site = source_storage.spec.site if source_storage else Site.SOURCE
    by = "management server 103" if site in net.management.sites_down else "operator"
    h.emit("site-failure-detected", "fig13:1301", site=site, by=by, pair=f"{net.volume_name(pair.remote)}>{target}")

    def restarted(answer: ScsiCommand) -> None:
        if answer.status is ScsiStatus.OK:
            h.emit("application-restarted", "fig13:1312", volume=target)
            h.emit("failover-done", "fig9:911", volume=target, prompt=c.prompt)

    _send(lab, h, Rio(kind=RioKind.SUSPEND, source=pair.remote, target=pair.local, failure=True,
                      mode=FailoverMode.PROMPT if c.prompt else FailoverMode.WAIT), "fig13:1302", restarted)


def fetch_remaining(lab: Lab, c: FetchRemaining) -> int:
    """After a failover (the prompt variant above all): fetch the log entries still in the
    network through the management server (501) and reflect them in order on the
    target volume. Returns how many entries were found."""
    net = lab.net
    storage, pair = _target_side(lab, c.volume, Command.FETCH)
    where = f"{storage.name} {net.volume_name(pair.local)}"
    if pair.role is not Role.TARGET or pair.state is not PairState.FAILURE_SUSPEND:
        legal = ", ".join(str(cmd) for cmd in LEGAL[pair.state])
        raise IllegalCommand(f"fetch-remaining refused: pair is {pair.state} at {where} (it follows a failover, "
                             f"in failure Suspend); legal now: {legal}")
    edge = net.edge_named[storage.edge]
    if not edge.up:
        raise LabError(f"edge {edge.name} is down")
    info = edge.pairs.get((net.real(pair.remote), pair.local))
    if info is None:
        raise LabError(f"edge {edge.name} has no record of the pair")
    return net.management.fetch_remaining(edge, info.order_id)


def failback(lab: Lab, c: Failback) -> None:
    """Failback (beyond the patent, like ``pairresync -swaps``): after a failover, turn the
    pair round (the old target becomes the source), copy back only the blocks marked in
    the bitmaps (1211, 1213, 727) and reach Duplex in the reverse direction. Given at
    either volume; the command goes to the old target's storage. ``swap_back``: once
    Duplex reversed, suspend, fail over and fail back again to the first direction. A
    second failback of a failed-back pair in Duplex does that swap back too."""
    net = lab.net
    storage, pair = _target_side(lab, c.volume, Command.FAILBACK)
    where = f"{storage.name} {net.volume_name(pair.local)}"
    if pair.swapped and pair.state is PairState.DUPLEX:  # a second failback: swap back
        source = net.volume_name(net.real(pair.remote))
        states = set(lab.states(*lab.pair_of(source)).values())
        if states != {PairState.DUPLEX}:
            raise IllegalCommand(f"failback refused: pair {source} is not Duplex at all four parties yet "
                                 f"({', '.join(sorted(str(s) for s in states))}); try again when it is")
        _swap_back(lab, source, net.volume_name(pair.local))
        return
    if not pair.takeover:
        legal = ", ".join(str(cmd) for cmd in LEGAL[pair.state] if cmd is not Command.FAILBACK)
        raise IllegalCommand(f"failback refused: pair is {pair.state} at {where} but no failover took place "
                             f"(the target host has not taken over); legal now: {legal}")
    check_command(Command.FAILBACK, pair.state, where)
    old_source = net.storage_of(pair.remote)
    if old_source is None or not old_source.up:
        raise LabError(f"failback needs the old source storage up; "
                       f"{old_source.name if old_source else pair.remote} is down")
    h = lab.host_of(storage, c.host)
    _send(lab, h, Rio(kind=RioKind.RESYNC, source=pair.remote, target=pair.local, swap=True))
    if c.swap_back:
        _swap_back(lab, net.volume_name(pair.local), net.volume_name(net.real(pair.remote)))


def _swap_back(lab: Lab, new_source: str, new_target: str, step: int = 0, started: float | None = None) -> None:
    """Drive suspend -> failover -> failback of the reversed pair, each when the last is done."""
    net = lab.net
    kernel = net.kernel
    started = kernel.now if started is None else started
    if kernel.now - started > 60.0:
        net.management.emit("swap-back-abandoned", None, pair=f"{new_source}>{new_target}", at_step=step)
        return
    try:
        storage, pair = lab.pair_of(new_source)
        states = set(lab.states(storage, pair).values()) if pair.role is Role.SOURCE else set()
        if step == 0 and states == {PairState.DUPLEX}:
            suspend(lab, Suspend(volume=new_source))
            step = 1
        elif step == 1 and states == {PairState.SUSPEND}:
            failover(lab, Failover(volume=new_target))
            step = 2
        elif step == 2:
            _, tpair = lab.pair_of(new_target)
            if tpair.takeover:
                failback(lab, Failback(volume=new_target))
                net.management.emit("swapped-back", None, pair=f"{new_target}>{new_source}")
                return
    except (LabError, IllegalCommand) as exc:
        net.management.emit("swap-back-abandoned", None, pair=f"{new_source}>{new_target}", reason=str(exc))
        return
    kernel.timer(0.005, _swap_back, lab, new_source, new_target, step, started)


def delete_pair(lab: Lab, c: DeletePair) -> None:
    """Delete the pair (back to Simplex at all four parties). Given at either volume; it
    goes to the source storage, or, when that is down, to the target storage alone."""
    storage, pair = _paired(lab, c.volume, Command.DELETE)
    check_command(Command.DELETE, pair.state, f"{storage.name} {c.volume}")
    if pair.role is Role.TARGET:
        source = lab.net.storage_of(pair.remote)
        if source is not None and source.up and source.pairs.get(pair.remote.lun) is not None:
            storage, pair = source, source.pairs[pair.remote.lun]
    h = lab.host_of(storage, c.host)
    _send(lab, h, Rio(kind=RioKind.DELETE, source=pair.source, target=pair.target))


def resync_all(lab: Lab, c: ResyncAll) -> None:
    """The fuzzer's: resynchronize (Fig. 12) every pair whose source storage holds it in
    Suspend or failure Suspend. A pair whose target took over (failover) while its source
    still stands in Duplex (the prompt variant never tells the source) is suspended at the
    source first; the next resync-all resyncs it. A pair whose creation failed half way
    (the source storage gave up waiting for ICOK while the target side registered it) is
    deleted at the target and created again, and a planned pair creation that failed
    outright is tried again, as an operator would. Each refusal is a line of ``lab.refused``."""
    net = lab.net
    for storage in net.storages:
        for pair in list(storage.pairs.values()):
            try:
                if pair.role is Role.TARGET:
                    _recreate_half_pair(lab, pair)
                elif pair.state in (PairState.SUSPEND, PairState.FAILURE_SUSPEND):
                    resync(lab, Resync(volume=net.volume_name(pair.local)))
                elif pair.state is PairState.DUPLEX and net.pair_view(storage, pair).takeover:
                    suspend(lab, Suspend(volume=net.volume_name(pair.local)))
            except (LabError, IllegalCommand) as exc:
                lab.refused.append(f"resync-all: {exc}")
    for plan in lab.planned:  # a creation that failed outright: try again
        if all(lab.volume(v)[0].pair_state(lab.volume(v)[1].lun) is PairState.SIMPLEX
               for v in (plan.source, plan.target)):
            try:
                create_pair(lab, plan)
            except (LabError, IllegalCommand) as exc:
                lab.refused.append(f"resync-all: {exc}")


def _recreate_half_pair(lab: Lab, pair: StoragePair) -> None:
    """A target-side pair whose source storage (up) holds no pair: delete it here, then
    create the pair again from the source once the delete is through."""
    source = lab.net.storage_of(pair.remote)
    if source is None or not source.up or source.pairs.get(pair.remote.lun) is not None:
        return
    names = lab.net.volume_name(pair.remote), lab.net.volume_name(pair.local)
    delete_pair(lab, DeletePair(volume=names[1]))

    def create() -> None:
        try:
            create_pair(lab, CreatePair(source=names[0], target=names[1], mode=pair.mode))
        except (LabError, IllegalCommand) as exc:
            lab.refused.append(f"resync-all: {exc}")

    lab.net.kernel.timer(0.2, create)
