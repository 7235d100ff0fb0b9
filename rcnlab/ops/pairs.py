"""The handlers of the pair commands and the host writes: each a SCSI command (or
writes) from a host, checked against the pair's state first (rcnlab.model.pair_state)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rcnlab.devices.host import Host
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.lab import CommandHandle, Lab, LabError
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import FailoverMode, OrderMethod, Party, Role, ScsiStatus, Site
from rcnlab.model.pair_state import (
    LEGAL,
    Command,
    IllegalCommand,
    PairState,
    check_command,
)
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
from rcnlab.ops.contract import require_configured
from rcnlab.topo.rules import Claim, End, given_order_id, pair_problem


def _send(lab: Lab, host: Host, rio: Rio, step: str | None = None,
          then: Callable[[ScsiCommand], Any] | None = None) -> CommandHandle:
    """The host sends the command; its handle gets its own answer (and ``then`` is called with it)."""
    return lab.send(host, rio, step, then)


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
    """Fig. 9 step 904: the host asks its storage to pair two volumes (1001). Refused
    first, with nothing sent, unless both volumes are Simplex and the pair keeps the
    pair rules (rcnlab.topo.rules, the topology file's) next to the pairs there are,
    those on their way and the order assurance IDs the topology's ``[[pair]]`` reserve."""
    net, topo = lab.net, lab.net.topo
    src, src_ref = lab.volume(c.source)
    dst, dst_ref = lab.volume(c.target)
    source, target = (End(name=net.volume_name(ref), storage=s.spec, blocks=s.volumes[ref.lun].size)
                      for s, ref in ((src, src_ref), (dst, dst_ref)))
    order_id = given_order_id(topo, source.name, target.name, c.order_id)
    customer = require_configured(lab, src.spec.customer, f"pair {source.name}>{target.name}")
    in_use = {net.volume_name(w.volume): f"host {h.name} runs a workload on it"
              for h in net.hosts for w in h.workloads if not w.done}
    problem = pair_problem(source, target, order_id, f"pair {source.name}>{target.name}", customer, _claims(lab),
                           in_use, method=topo.order_method)
    if problem is not None and not problem.clash:
        raise LabError(problem.text)
    check_command(Command.CREATE, src.pair_state(src_ref.lun), f"{src.name} {c.source}")
    check_command(Command.CREATE, dst.pair_state(dst_ref.lun), f"{dst.name} {c.target}")
    if c.order_id and topo.order_method is not OrderMethod.B:
        raise LabError(f'order_id applies only with order_assurance = "B"; this lab assigns order assurance IDs '
                       f'itself (method {topo.order_method})')
    if problem is not None:
        raise LabError(problem.text)
    addressed = VolumeRef(net.management.addressed_wwn(src.name, dst.name), dst_ref.lun)
    h = lab.host_of(src, c.host)
    h.emit("pair-create-instructed", "fig9:904", source=c.source, target=c.target, mode=c.mode)
    _send(lab, h, Rio(kind=RioKind.PAIR_CREATE, source=src_ref, target=addressed, mode=c.mode,
                      order_id=c.order_id))


def _claims(lab: Lab) -> list[Claim]:
    """The pairs there are (as their source storages know them), the creations on their
    way (sent by a host, not answered yet), and the order assurance IDs the topology's
    ``[[pair]]`` reserve for their edges."""
    net, topo = lab.net, lab.net.topo
    claims: dict[str, Claim] = {}
    for h in net.hosts:
        for rio in h.sent(RioKind.PAIR_CREATE):
            storages = net.storage_of(rio.source), net.storage_of(rio.target)
            if storages[0] is None or storages[1] is None:
                continue
            source, target = net.volume_name(rio.source), net.volume_name(net.real(rio.target))
            claims[source] = Claim(source=source, target=target, customer=storages[0].spec.customer,
                                   edges=(storages[0].edge, storages[1].edge), where=f"pair {source}>{target}",
                                   order_id=given_order_id(topo, source, target, rio.order_id))
    for view in net.pair_views():
        known = claims.get(view.source)
        storage = net.storage_of(view.source_ref)
        if storage is None or view.devices[2] is None:
            continue
        claims[view.source] = Claim(
            source=view.source, target=view.target, customer=storage.spec.customer,
            edges=(storage.edge, view.devices[2]), where=f"pair {view.source}>{view.target}",
            order_id=view.order_id if view.order_id is not None or known is None else known.order_id)
    reserved = [Claim(source=p.source, target=p.target, customer=topo.storage(p.source.partition(":")[0]).customer,
                      edges=(topo.storage(p.source.partition(":")[0]).edge,
                             topo.storage(p.target.partition(":")[0]).edge),
                      order_id=p.order_id, where=f"the topology's [[pair]] {p.source}>{p.target}", counts=False)
                for p in topo.pairs]
    return [*claims.values(), *reserved]


def _not_restoring(lab: Lab, volume: str, what: str) -> None:
    """Refuse writes to a target volume while entries fetched after a failover are reflected on it."""
    if lab.restoring(volume):
        raise LabError(f"{what} refused: {volume} is being restored from the entries fetched from the network "
                       f"(fetch-remaining, 501); write once they are reflected")


def write(lab: Lab, c: Write) -> None:
    """One host write; ``data`` (text) is the block's first bytes, the rest zeros."""
    storage, ref = lab.volume(c.volume)
    _not_restoring(lab, lab.net.volume_name(ref), "write")
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
    _not_restoring(lab, lab.net.volume_name(ref), "workload")
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


def suspend(lab: Lab, c: Suspend) -> CommandHandle:
    """Planned Suspend (910) of the pair whose source volume is ``volume``."""
    h, pair = _at_source(lab, c.volume, Command.SUSPEND, c.host)
    return _send(lab, h, Rio(kind=RioKind.SUSPEND, source=pair.local, target=pair.remote))


def resync(lab: Lab, c: Resync) -> CommandHandle:
    """Resynchronize (Fig. 12, 1201) the pair whose source volume is ``volume``. A
    resync given while the pair's last one still waits for its answer joins it."""
    h, pair = _at_source(lab, c.volume, Command.RESYNC, c.host)
    h.emit("resync-instructed", "fig9:909", volume=c.volume)
    return _send(lab, h, Rio(kind=RioKind.RESYNC, source=pair.local, target=pair.remote))


def _group(lab: Lab, command: Command, volume: str | None, order_id: int | None) -> list[tuple[ExternalStorage,
                                                                                             StoragePair]]:
    """The target storages' records of the consistency group a failover or failback acts
    on, as arrays act on a whole consistency group (horctakeover on a CTG): the pairs of one
    order group and one customer whose target storage hangs off the same edge, named by one
    of its volumes (either end) or by its order assurance ID. Refused (one line) when the
    ID names no group, or the groups of several customers (method A-2 shares an ID per edge
    pair)."""
    net = lab.net
    if volume is not None:
        storage, pair = _target_side(lab, volume, command)
        edge = net.edge_named[storage.edge]
        info = edge.pairs.get((net.real(pair.remote), pair.local))
        if info is None:  # the edge has no record of it: the pair alone (the edge will say so)
            return [(storage, pair)]
        key = edge.group_key(info)
    else:
        found = sorted({(e.name, e.group_key(p)) for e in net.edges for p in e.pairs.values()
                        if p.order_id == order_id and p.target.wwn in e.attached and p.state is not PairState.SIMPLEX})
        if not found:
            known = sorted({p.order_id for e in net.edges for p in e.pairs.values() if p.target.wwn in e.attached})
            raise LabError(f"{command} refused: no pair is in order group {order_id} "
                           f"(order groups now: {', '.join(map(str, known)) or 'none'})")
        if len(found) > 1:
            whose = ", ".join(f"customer {k[1]} at {name}" for name, k in found)
            raise LabError(f"{command} refused: order group {order_id} holds the pairs of {whose}; "
                           f"name one of the pairs' volumes instead")
        edge, key = net.edge_named[found[0][0]], found[0][1]
    members = []
    for info in edge.consistency_group(key, target=True):
        tstorage = net.storage_of(info.target)
        tpair = tstorage.pairs.get(info.target.lun) if tstorage is not None else None
        name = net.volume_name(info.target)
        if tstorage is None or tpair is None:
            check_command(command, PairState.SIMPLEX, f"{tstorage.name if tstorage else '?'} {name}")
        elif tpair.role is not Role.TARGET:
            raise IllegalCommand(f"{command} refused: {name} is the source of its pair at {tstorage.name} "
                                 f"but the target at edge {edge.name}")
        else:
            members.append((tstorage, tpair))
    return members


def group_targets(lab: Lab, command: Command, volume: str | None, order_id: int | None) -> list[str]:
    """The target volumes of the consistency group ``command`` (failover, failback) acts on."""
    return [lab.net.volume_name(pair.local) for _, pair in _group(lab, command, volume, order_id)]


@contextmanager
def _as_one(lab: Lab, members: list[tuple[ExternalStorage, StoragePair]]) -> Iterator[None]:
    """A refusal of one member refuses the group; the line names the group."""
    try:
        yield
    except (LabError, IllegalCommand) as exc:
        if len(members) < 2:
            raise
        names = ", ".join(lab.net.volume_name(pair.local) for _, pair in members)
        raise type(exc)(f"{exc} ({names}: one order group, acted on as one)") from None


def _hosts(lab: Lab, members: list[tuple[ExternalStorage, StoragePair]], host: str | None) -> list[Host]:
    """Each member's host, up: ``host`` for the pairs on its storage, the storage's own elsewhere."""
    out = []
    for storage, _ in members:
        named = lab.net.host_named.get(host or "")
        h = lab.host_of(storage, host if named is not None and named.storage == storage.name else None)
        if not h.up:
            raise LabError(f"host {h.name} is down")
        out.append(h)
    if host is not None and all(h.name != host for h in out):
        lab.host_of(members[0][0], host)  # says why it cannot be
    return out


def _under_way(lab: Lab, command: Command, volume: str) -> bool:
    """Is a ``command`` (failover, failback) of the pair of ``volume`` sent and not answered?"""
    return lab.waiting(command, volume) is not None


def _group_not_under_way(lab: Lab, command: Command, volume: str | None,
                         order_id: int | None) -> list[tuple[ExternalStorage, StoragePair]]:
    """`_group`, less the members whose ``command`` is under way. A command for a pair whose
    own is under way joins it: it sends nothing, and that command's answer is its answer
    too (so two failovers, or failbacks, of one group at once are one)."""
    asked = None if volume is None else lab.net.volume_name(lab.volume(volume)[1])
    members = [] if asked is not None and _under_way(lab, command, asked) else [
        (s, p) for s, p in _group(lab, command, volume, order_id)
        if not _under_way(lab, command, lab.net.volume_name(p.local))]
    if not members:
        lab.net.management.emit(f"{command}-joined", None, volume=volume, order_id=order_id)
    return members


def failover(lab: Lab, c: Failover, by: str = "operator") -> list[str]:
    """Failover (Fig. 13): the target host takes over: it sends a Suspend instruction
    (1302) to the target storage; when the storage answers (1311) it restarts the
    application on the target volume (1312, 911). The decision is the operator's (or the
    cluster software's, ``by``), after the management server's notice of a source-site
    failure (1301, trace event ``site-failure-notified`` at the host) or without one: the
    trace event ``takeover-decided`` says which. Acts on the
    whole consistency group (`_group`, named by ``volume``, either end, or ``order_id``):
    each pair's target host sends its own instruction and gets its own answer; the target
    edge fails the group over once. ``prompt``: the variant that suspends at once
    (1310-1312 right after 1303), leaving entries in the network (see fetch_remaining).
    Returns the target volumes."""
    net = lab.net
    members = _group_not_under_way(lab, Command.FAILOVER, c.volume, c.order_id)
    if not members:
        return []
    with _as_one(lab, members):
        for storage, pair in members:
            check_command(Command.FAILOVER, pair.state, f"{storage.name} {net.volume_name(pair.local)}")
        hosts = _hosts(lab, members, c.host)
    for (storage, pair), h in zip(members, hosts):
        target = net.volume_name(pair.local)
        source_storage = net.storage_of(pair.remote)
        site = source_storage.spec.site if source_storage else Site.SOURCE
        notice = h.notified.get(site)
        h.emit("takeover-decided", None, site=site, by=by, pair=f"{net.volume_name(pair.remote)}>{target}",
               notified=None if notice is None else round(notice, 9))
        _send(lab, h, Rio(kind=RioKind.SUSPEND, source=pair.remote, target=pair.local, failure=True,
                          mode=FailoverMode.PROMPT if c.prompt else FailoverMode.WAIT), "fig13:1302",
              _restarted(h, target, c.prompt))
    return [net.volume_name(pair.local) for _, pair in members]


def install_cluster_software(lab: Lab) -> None:
    """Give every host the cluster software (911): a host whose topology entry says
    ``auto_failover`` takes over the target volumes it is told of (1301) by itself, each
    consistency group once; a refusal is a line of ``lab.refused``."""
    for h in lab.net.hosts:
        h.cluster = _cluster(lab, h)


def _cluster(lab: Lab, h: Host) -> Callable[[list[str]], None]:
    def take_over(volumes: list[str]) -> None:
        done: set[str] = set()
        for volume in volumes:
            if volume in done:
                continue
            try:
                done.update(failover(lab, Failover(volume=volume, host=h.name), by="cluster software"))
            except (LabError, IllegalCommand) as exc:
                lab.refused.append(f"{h.name} cluster software: failover of {volume}: {exc}")

    return take_over


def _restarted(h: Host, target: str, prompt: bool) -> Callable[[ScsiCommand], None]:
    def restarted(answer: ScsiCommand) -> None:
        if answer.status is ScsiStatus.OK:
            h.emit("application-restarted", "fig13:1312", volume=target)
            h.emit("failover-done", "fig9:911", volume=target, prompt=prompt)

    return restarted


def fetch_remaining(lab: Lab, c: FetchRemaining) -> int:
    """After a failover (the prompt variant above all): fetch the log entries still in the
    network through the management server (501) and reflect them in order on the
    target volume. Returns how many entries were found.

    Refused once the target volume has been written since the pair stopped copying
    (blocks in its bitmap 1213, the restarted application's acknowledged writes) or while
    a workload writes it: the entries still in the network are older than those writes
    and would overwrite them. They stay where they are (a failback copies the target
    volume's data back to the source instead), as an array's journal is not restored
    onto a secondary volume the application already writes. While the fetched entries
    are reflected, host writes to the target volume are refused (`_not_restoring`)."""
    net = lab.net
    storage, pair = _target_side(lab, c.volume, Command.FETCH)
    name = net.volume_name(pair.local)
    where = f"{storage.name} {name}"
    if pair.role is not Role.TARGET or pair.state is not PairState.FAILURE_SUSPEND:
        legal = ", ".join(str(cmd) for cmd in LEGAL[pair.state])
        raise IllegalCommand(f"fetch-remaining refused: pair is {pair.state} at {where} (it follows a failover, "
                             f"in failure Suspend); legal now: {legal}")
    _refuse_if_written(lab, storage, pair, name)
    edge = net.edge_named[storage.edge]
    if not edge.up:
        raise LabError(f"edge {edge.name} is down")
    info = edge.pairs.get((net.real(pair.remote), pair.local))
    if info is None:
        raise LabError(f"edge {edge.name} has no record of the pair")
    lab.restores[name] = (edge, info.order_id, net.kernel.now + net.topo.management.latency)
    return net.management.fetch_remaining(edge, info.order_id)


def _refuse_if_written(lab: Lab, storage: ExternalStorage, pair: StoragePair, name: str) -> None:
    """Refuse the fetch when the target volume holds (or is taking) its own host's writes."""
    why = "fetch-remaining refused: "
    if pair.bitmap:
        raise IllegalCommand(f"{why}{name} has been written since the pair stopped copying ({len(pair.bitmap)} "
                             f"blocks in its bitmap 1213); the entries still in the network are older and would "
                             f"overwrite those acknowledged writes (failback copies {name} back instead)")
    for host in lab.net.hosts:
        if host.storage != storage.name:
            continue
        if any(not wl.done and wl.volume == pair.local for wl in host.workloads):
            raise IllegalCommand(f"{why}a workload of {host.name} is writing {name}; the entries still in the "
                                 f"network are older and would overwrite its acknowledged writes")
        if host.outstanding:
            raise IllegalCommand(f"{why}{host.name} has {host.outstanding} command(s) on their way to {storage.name}; "
                                 f"the entries still in the network are older and would overwrite writes among them")


def failback(lab: Lab, c: Failback) -> list[str]:
    """Failback (beyond the patent, like ``pairresync -swaps``): after a failover, turn the
    pair round (the old target becomes the source), copy back only the blocks marked in
    the bitmaps (1211, 1213, 727) and reach Duplex in the reverse direction. Acts on the
    whole consistency group (`_group`, named by ``volume``, either end, or ``order_id``),
    each pair's command going to its old target's storage and answered there.
    ``swap_back``: once Duplex reversed, suspend, fail over and fail back again to the
    first direction. A second failback of a failed-back group in Duplex does that swap
    back too. Returns the volumes that become sources."""
    net = lab.net
    members = _group_not_under_way(lab, Command.FAILBACK, c.volume, c.order_id)
    if not members:
        return []
    if all(pair.swapped and pair.state is PairState.DUPLEX for _, pair in members):  # a second failback
        turned = []
        for storage, pair in members:
            source = net.volume_name(net.real(pair.remote))
            states = set(lab.states(storage, pair).values())
            if states != {PairState.DUPLEX}:
                raise IllegalCommand(f"failback refused: pair {source} is not Duplex at all four parties yet "
                                     f"({', '.join(sorted(str(s) for s in states))}); try again when it is")
            turned.append((source, net.volume_name(pair.local)))
        _swap_back(lab, tuple(turned))
        return [target for _, target in turned]
    with _as_one(lab, members):
        for storage, pair in members:
            where = f"{storage.name} {net.volume_name(pair.local)}"
            if not pair.takeover:
                legal = ", ".join(str(cmd) for cmd in LEGAL[pair.state] if cmd is not Command.FAILBACK)
                raise IllegalCommand(f"failback refused: pair is {pair.state} at {where} but no failover took "
                                     f"place (the target host has not taken over); legal now: {legal}")
            check_command(Command.FAILBACK, pair.state, where)
            old_source = net.storage_of(pair.remote)
            if old_source is None or not old_source.up:
                raise LabError(f"failback needs the old source storage up; "
                               f"{old_source.name if old_source else pair.remote} is down")
            states = lab.states(storage, pair)
            if states[Party.SOURCE_STORAGE.value] is PairState.SIMPLEX:
                raise IllegalCommand(f"failback refused: {where} took over but {old_source.name} "
                                     f"{net.volume_name(net.real(pair.remote))} is Simplex (the pair's creation "
                                     f"failed there); delete the pair at {net.volume_name(pair.local)} and create "
                                     f"it again")
            edge_state = states[Party.TARGET_EDGE.value]
            if edge_state not in (PairState.SUSPEND, PairState.FAILURE_SUSPEND):
                raise IllegalCommand(f"failback refused: {where} took over but edge {storage.edge} holds the pair "
                                     f"in {edge_state} (its failover did not complete there); fail it over again")
        hosts = _hosts(lab, members, c.host)
    for (storage, pair), h in zip(members, hosts):
        _send(lab, h, Rio(kind=RioKind.RESYNC, source=pair.remote, target=pair.local, swap=True))
    turned = [(net.volume_name(pair.local), net.volume_name(net.real(pair.remote))) for _, pair in members]
    if c.swap_back:
        _swap_back(lab, tuple(turned))
    return [source for source, _ in turned]


def _swap_back(lab: Lab, pairs: tuple[tuple[str, str], ...], step: int = 0, started: float | None = None) -> None:
    """Drive suspend -> failover -> failback of the reversed ``pairs`` (new source, new
    target; one consistency group), each step once the last is done for all of them."""
    net = lab.net
    kernel = net.kernel
    started = kernel.now if started is None else started

    def abandoned(**why: Any) -> None:
        for source, target in pairs:
            net.management.emit("swap-back-abandoned", None, pair=f"{source}>{target}", **why)

    if kernel.now - started > 60.0:
        abandoned(at_step=step)
        return
    try:
        states: set[PairState | None] = set()
        for source, _ in pairs:
            storage, pair = lab.pair_of(source)
            states |= set(lab.states(storage, pair).values()) if pair.role is Role.SOURCE else {None}
        if step == 0 and states == {PairState.DUPLEX}:
            for source, _ in pairs:
                suspend(lab, Suspend(volume=source))
            step = 1
        elif step == 1 and states == {PairState.SUSPEND}:
            _each_group(pairs, lambda target: failover(lab, Failover(volume=target)))
            step = 2
        elif step == 2 and all(lab.pair_of(target)[1].takeover for _, target in pairs):
            _each_group(pairs, lambda target: failback(lab, Failback(volume=target)))
            for source, target in pairs:
                net.management.emit("swapped-back", None, pair=f"{target}>{source}")
            return
    except (LabError, IllegalCommand) as exc:
        abandoned(reason=str(exc))
        return
    kernel.timer(0.005, _swap_back, lab, pairs, step, started)


def _each_group(pairs: tuple[tuple[str, str], ...], act: Callable[[str], list[str]]) -> None:
    """``act`` on the group of each pair's target volume, once per group."""
    done: set[str] = set()
    for _, target in pairs:
        if target not in done:
            done.update(act(target))


def delete_pair(lab: Lab, c: DeletePair) -> None:
    """Delete the pair (back to Simplex at all four parties). Given at either volume; it
    goes to the source storage, or, when that is down, to the target storage alone."""
    storage, pair = _paired(lab, c.volume, Command.DELETE)
    check_command(Command.DELETE, pair.state, f"{storage.name} {c.volume}")
    _refuse_delete_while_turning(lab, pair, c.volume)
    other = lab.net.storage_of(pair.remote)
    mirror = other.pairs.get(lab.net.real(pair.remote).lun) if other is not None and other.up else None
    if mirror is not None and (pair.role is Role.TARGET or not storage.up):
        storage, pair = other, mirror
    h = lab.host_of(storage, c.host)
    _send(lab, h, Rio(kind=RioKind.DELETE, source=pair.source, target=pair.target))


def _refuse_delete_while_turning(lab: Lab, pair: StoragePair, volume: str) -> None:
    """A delete while a failback of the pair is in flight (sent and unanswered, or the two
    storages holding the pair in opposite directions) would reach one side only: the other
    side's edge has turned the pair and its order group, and refuses the delete. Refused,
    in one line (fuzz seed 7419)."""
    net = lab.net
    other = net.storage_of(pair.remote)
    mirror = other.pairs.get(net.real(pair.remote).lun) if other is not None and other.up else None
    names = volume, net.volume_name(net.real(pair.remote))
    if any(lab.waiting(Command.FAILBACK, name) is not None for name in names) or (
            mirror is not None and mirror.role is pair.role):
        raise IllegalCommand(f"delete refused: a failback of pair {names[0]}-{names[1]} is in flight (it would "
                             f"delete on one side only); delete it once the failback is answered, or fail it back "
                             f"again (resync at the new source) if it never completes")


def resync_all(lab: Lab, c: ResyncAll) -> None:
    """The fuzzer's: resynchronize (Fig. 12) every pair whose source storage holds it in
    Suspend or failure Suspend. A pair whose target took over (failover) while its source
    still stands in Duplex (the prompt variant never tells the source) is suspended at the
    source first; the next resync-all resyncs it. A pair whose creation failed half way
    (the source storage gave up waiting for ICOK while the target side registered it) is
    deleted at the target and created again, and a planned pair creation that failed
    outright is tried again, as an operator would; so is a pair deleted at its target alone
    (its source storage was down): deleted at the source, then created again. Each refusal
    is a line of ``lab.refused``."""
    net = lab.net
    for storage in net.storages:
        for pair in list(storage.pairs.values()):
            try:
                if pair.role is Role.TARGET:
                    _recreate_half_pair(lab, pair)
                elif pair.state in (PairState.SUSPEND, PairState.FAILURE_SUSPEND):
                    if not _recreate_deleted_target(lab, storage, pair):
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


def _recreate_deleted_target(lab: Lab, storage: ExternalStorage, pair: StoragePair) -> bool:
    """A pair of ``storage``'s whose target storage (up) holds no pair: it was deleted at
    the target alone. Delete it here, then create it again once the delete is through."""
    net = lab.net
    remote = net.real(pair.remote)
    target = net.storage_of(remote)
    if target is None or not target.up or target.pairs.get(remote.lun) is not None:
        return False
    names = net.volume_name(pair.local), net.volume_name(remote)
    info = net.edge_named[storage.edge].pairs.get((pair.local, remote))
    given = info.order_id if info is not None and net.topo.order_method is OrderMethod.B else 0
    delete_pair(lab, DeletePair(volume=names[0]))
    _create_later(lab, CreatePair(source=names[0], target=names[1], mode=pair.mode, order_id=given))
    return True


def _create_later(lab: Lab, c: CreatePair) -> None:
    def create() -> None:
        try:
            create_pair(lab, c)
        except (LabError, IllegalCommand) as exc:
            lab.refused.append(f"resync-all: {exc}")

    lab.net.kernel.timer(0.2, create)


def _recreate_half_pair(lab: Lab, pair: StoragePair) -> None:
    """A target-side pair whose source storage (up) holds no pair: delete it here, then
    create the pair again from the source once the delete is through."""
    source = lab.net.storage_of(pair.remote)
    if source is None or not source.up or source.pairs.get(pair.remote.lun) is not None:
        return
    net = lab.net
    names = net.volume_name(pair.remote), net.volume_name(pair.local)
    target = net.storage_of(pair.local)
    info = net.edge_named[target.edge].pairs.get((net.real(pair.remote), pair.local)) if target else None
    given = info.order_id if info is not None and net.topo.order_method is OrderMethod.B else 0
    delete_pair(lab, DeletePair(volume=names[1]))
    _create_later(lab, CreatePair(source=names[0], target=names[1], mode=pair.mode, order_id=given))
