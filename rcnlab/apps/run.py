"""``rcnlab app sqlite``: SQLite on the source volumes, a fault, failover, and the target checked.

`run_app` opens a session on the topology with the app's overrides (4 KiB blocks,
order assurance method B, LUNs 0 and 1 on the source and target storage), pairs the
database volume and the journal volume (one order assurance ID, or two), creates the
bank, runs transfers back to back from virtual time 0 of the workload, injects the fault
at ``at``, stops the application, fails every order group over from the target host,
exports the target volumes' images and opens the files they hold with ``sqlite3``."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from enum import StrEnum
from itertools import count
from pathlib import Path
from typing import Any

import apsw
import attrs

from rcnlab.apps.bank import Bank, Check, check_database
from rcnlab.apps.files import Region, image_reader, read_files
from rcnlab.apps.vfs import BlockDevice, BlockStore, BlockVFS, reseed
from rcnlab.formats.fields import Text
from rcnlab.model.kinds import LinkKind, OrderMethod, Site
from rcnlab.model.pair_state import PairState
from rcnlab.ops.commands import (
    BreakRule,
    FailLink,
    Partition,
    Rule,
    SiteFailure,
)
from rcnlab.run import Session
from rcnlab.run.blockdev import Driver
from rcnlab.topo.schema import Topology, VolumeSpec

BLOCK_SIZE = 4096  # bytes: SQLite's page size
REGION_BLOCKS = 4096  # blocks per file region (16 MiB)
VOLUME_BLOCKS = 2 * REGION_BLOCKS
DB = "bank.db"
ACCOUNTS = 100
SETUP_TIMEOUT = 30.0  # virtual seconds for the pairs to reach Duplex and the bank to reach the target
FAILOVER_TIMEOUT = 30.0
#: Frame loss the app puts on every GbE link unless told otherwise: a wide-area network
#: loses the odd frame, and its resends are what an order group has to wait for.
LOSS = 0.001


class Fault(StrEnum):
    CUT = "cut"  # the source edge's link toward the target
    SITE = "site"  # the source site's hosts and storages go down
    PARTITION = "partition"  # the source site (host, storage, edge) cut off from the network


class Layout(StrEnum):
    ONE_GROUP = "one-group"  # database and journal volumes in one order assurance ID
    TWO_GROUPS = "two-groups"  # in two


class JournalMode(StrEnum):
    ROLLBACK = "rollback"
    WAL = "wal"


@attrs.frozen(kw_only=True)
class Options:
    fault: Fault = Fault.CUT
    at: float = 0.2  # virtual seconds after the workload starts
    seed: int = 0
    layout: Layout = Layout.ONE_GROUP
    journal: JournalMode = JournalMode.ROLLBACK
    break_rule: Rule | None = None
    accounts: int = ACCOUNTS
    loss: float | None = LOSS  # frame loss on every GbE link; None: the topology's


@attrs.frozen(kw_only=True)
class Plan:
    """Which volumes the app uses: the source host's storage and a target storage."""

    host: str
    source: str  # storage names
    target: str
    target_host: str

    def pairs(self, layout: Layout) -> list[tuple[str, str, int]]:
        """(source volume, target volume, order assurance ID): the database's, then the journal's."""
        journal_id = 1 if layout is Layout.ONE_GROUP else 2
        return [(f"{self.source}:0", f"{self.target}:0", 1), (f"{self.source}:1", f"{self.target}:1", journal_id)]


class AppError(Exception):
    """The topology cannot hold the app (one line)."""


def plan(topo: Topology) -> Plan:
    """The first source-site host and its storage; a target-site storage of the same
    customer behind another edge, with a host."""
    storages = {s.name: s for s in topo.storages}
    for host in topo.hosts:
        src = storages[host.storage]
        if host.site is not Site.SOURCE:
            continue
        for th in topo.hosts:
            dst = storages[th.storage]
            if th.site is Site.TARGET and dst.customer == src.customer and dst.edge != src.edge:
                return Plan(host=host.name, source=src.name, target=dst.name, target_host=th.name)
    raise AppError(f"{topo.path}: no source-site host whose storage has a target-site storage of its customer "
                   "behind another edge (with a host) to copy to")


def misfit(topo: Topology, p: Plan) -> str | None:
    """Why the topology cannot hold the app as it stands (without `prepare`), or None."""
    if topo.block_size != BLOCK_SIZE:
        return f"its blocks are {topo.block_size} bytes, the app needs {BLOCK_SIZE} (SQLite's page size)"
    storages = {s.name: s for s in topo.storages}
    for name in (p.source, p.target):
        luns = {v.lun: v.blocks for v in storages[name].volumes}
        if any(luns.get(lun, 0) < VOLUME_BLOCKS for lun in (0, 1)):
            return f"the app needs LUNs 0 and 1 of {VOLUME_BLOCKS} blocks on {name}"
    return None


def prepare(topo: Topology, p: Plan, loss: float | None) -> Topology:
    """The app's overrides: 4 KiB blocks, method B, LUNs 0 and 1 on both storages, the
    GbE links' frame loss (unless None)."""
    volumes = (VolumeSpec(lun=0, blocks=VOLUME_BLOCKS), VolumeSpec(lun=1, blocks=VOLUME_BLOCKS))
    storages = tuple(attrs.evolve(s, volumes=volumes) if s.name in (p.source, p.target) else s for s in topo.storages)
    links = tuple(attrs.evolve(ln, loss=loss) if loss is not None and ln.kind is LinkKind.GBE else ln
                  for ln in topo.links)
    return attrs.evolve(topo, block_size=BLOCK_SIZE, order_method=OrderMethod.B, storages=storages, links=links,
                        pairs=())


@attrs.frozen(kw_only=True)
class Outcome:
    """What `run_app` found."""

    options: Options
    committed: int  # transactions committed on the source
    in_doubt: bool  # the next one's commit failed on an I/O error: the target may hold it or not
    fault_at: float  # virtual time of the fault
    check: Check
    lost: int  # committed transactions missing on the target
    rpo: float  # seconds: the fault's time minus the first lost transaction's commit time (0: none lost)
    layout: str = ""  # volumes and order assurance IDs, for the report

    @property
    def consistent(self) -> bool:
        return self.check.consistent and self.check.last <= self.committed + self.in_doubt

    def record(self) -> dict[str, Any]:
        c = self.check
        return {"seed": self.options.seed, "fault": str(self.options.fault), "at": self.options.at,
                "layout": str(self.options.layout), "journal": str(self.options.journal),
                "break_rule": None if self.options.break_rule is None else str(self.options.break_rule),
                "volumes": self.layout, "fault_time": round(self.fault_at, 9),
                "committed": self.committed, "in_doubt": self.in_doubt, "target_last": c.last, "target_transactions": c.transactions,
                "exactly_1_to_k": c.exact, "integrity_check": c.integrity,
                "balance_total": c.total, "balance_expected": c.expected_total, "invariant": c.invariant,
                "lost_transactions": self.lost, "rpo_ms": round(self.rpo * 1000, 3), "consistent": self.consistent}


_names = count()


@attrs.define(eq=False)
class App:
    """The application on a session: the VFS, the bank, and how far it got. Built by `start`."""

    session: Session
    plan: Plan
    options: Options
    bank: Bank
    vfs: BlockVFS
    started: float  # virtual time the workload started
    fault_at: float | None = None
    stopped: bool = False

    def step(self) -> bool:
        """One transfer; False once the application has stopped (the fault, or an I/O error)."""
        if self.stopped:
            return False
        try:
            self.bank.transfer(lambda: self.session.kernel.now)
        except apsw.Error:
            self.stopped = True
        return not self.stopped

    def inject(self) -> None:
        """The fault, now; the application stops (the disaster is declared)."""
        lab, p = self.session.lab, self.plan
        self.fault_at, self.stopped = self.session.kernel.now, True
        fault = self.options.fault
        if fault is Fault.SITE:
            self.session.do(SiteFailure(site=Site.SOURCE))
        elif fault is Fault.PARTITION:
            storage = lab.storage(p.source)
            self.session.do(Partition(devices=[Text(p.host), Text(p.source), Text(storage.edge)]))
        else:
            self.session.do(FailLink(link=Text(_uplink(self.session, p))))

    def fail_over(self) -> None:
        """Fail every order group over from the target host; wait for the answers."""
        handles = [h for oid in sorted({oid for _, _, oid in self.plan.pairs(self.options.layout)})
                   for h in self.session.failover(order_id=oid, host=self.plan.target_host)]
        self.session.run_until(lambda: all(h.done for h in handles), FAILOVER_TIMEOUT)

    def target_check(self, directory: Path) -> Check:
        """Export the target volumes into ``directory``, rebuild the files, check them."""
        for _, target, _ in self.plan.pairs(self.options.layout):
            path = directory / f"{target.replace(':', '-')}.img"
            self.session.export_image(target, path)
            for name, data in read_files(image_reader(str(path), BLOCK_SIZE), target, BLOCK_SIZE).items():
                (directory / name).write_bytes(data)
        return check_database(directory / DB, self.options.accounts)

    def outcome(self, directory: Path) -> Outcome:
        """The target checked (`target_check`), against what the source committed."""
        check = self.target_check(directory)
        committed = self.bank.committed
        fault_at = self.fault_at if self.fault_at is not None else self.session.kernel.now
        have = min(check.last, len(committed)) if check.exact else 0
        lost = len(committed) - have
        rpo = fault_at - committed[have] if lost else 0.0
        volumes = ", ".join(f"{s}>{t} (order ID {o})" for s, t, o in self.plan.pairs(self.options.layout))
        return Outcome(options=self.options, committed=len(committed), in_doubt=self.bank.in_doubt, fault_at=fault_at, check=check, lost=lost,
                       rpo=rpo, layout=volumes)

    def close(self) -> None:
        """Leave the database as a crash would: no more I/O reaches the volumes."""
        for store in self.vfs.stores.values():
            store.detach()
        try:
            self.bank.conn.close(True)
        except apsw.Error:
            pass
        self.vfs.unregister()


def _uplink(session: Session, p: Plan) -> str:
    """The source edge's link on the route toward the target edge."""
    lab = session.lab
    src_edge, dst_edge = lab.storage(p.source).edge, lab.storage(p.target).edge
    for route in session.world.management.routes:
        devices = list(route.devices)
        if src_edge in devices and dst_edge in devices:
            i = devices.index(src_edge)
            j = i + 1 if i + 1 < len(devices) else i - 1
            return str(lab.link(f"{devices[i]}-{devices[j]}").name)
    raise AppError(f"no route from {src_edge} to {dst_edge}")


def open_session(topo: Topology, options: Options) -> tuple[Session, Plan]:
    p = plan(topo)
    return Session.open(prepare(topo, p, options.loss), seed=options.seed), p


def start(session: Session, p: Plan, options: Options,
          wrap: Callable[[BlockDevice], BlockDevice] = lambda device: device, drive: Driver | None = None) -> App:
    """Pair the volumes (Duplex), lay out the files, create the bank, let it reach the target.
    ``wrap`` may stand in front of each block device (bench times them); ``drive`` waits
    on the emulation in place of ``session.run_until`` (the lab's `Lockstep`)."""
    run = drive or session.run_until
    if options.break_rule is not None:
        session.do(BreakRule(rule=options.break_rule))
    pairs = p.pairs(options.layout)
    for source, target, oid in pairs:
        session.create_pair(source, target, order_id=oid)
    duplex = [PairState.DUPLEX] * 4

    def paired() -> bool:
        views = session.world.pair_views()
        return len(views) == len(pairs) and all(list(v.states) == duplex for v in views)

    if not run(paired, SETUP_TIMEOUT):
        raise AppError("the pairs did not reach Duplex within "
                       f"{SETUP_TIMEOUT:g} virtual seconds: {[v.record()['states'] for v in session.world.pair_views()]}")
    db_dev, log_dev = (wrap(attrs.evolve(session.block_device(volume), drive=run))
                       for volume in (pairs[0][0], pairs[1][0]))
    files = ((DB, pairs[0][0], db_dev, 0), (DB + "-journal", pairs[1][0], log_dev, 0),
             (DB + "-wal", pairs[1][0], log_dev, REGION_BLOCKS))
    stores = {name: BlockStore(name=name, region=Region(volume=volume, first=first, blocks=REGION_BLOCKS), device=dev)
              for name, volume, dev, first in files}
    for store in stores.values():
        store.write_header()
    db_dev.flush()
    log_dev.flush()
    reseed(options.seed)
    vfs = BlockVFS(f"rcnlab-{next(_names)}", stores)
    conn = apsw.Connection(DB, vfs=vfs.name)
    for pragma in (f"page_size = {BLOCK_SIZE}", "locking_mode = EXCLUSIVE", "synchronous = FULL",
                   "temp_store = MEMORY", f"journal_mode = {'WAL' if options.journal is JournalMode.WAL else 'DELETE'}",
                   "wal_autocheckpoint = 64"):
        conn.execute(f"PRAGMA {pragma}")
    bank = Bank(conn=conn, accounts=options.accounts, rng=random.Random(options.seed))
    bank.open_accounts()
    run(session.kernel.drained, SETUP_TIMEOUT)
    return App(session=session, plan=p, options=options, bank=bank, vfs=vfs, started=session.kernel.now)


def run_app(topo: Topology, options: Options, on_step: Callable[[App], Any] | None = None) -> Outcome:
    """The whole run (see the module docstring)."""
    session, p = open_session(topo, options)
    app = start(session, p, options)
    try:
        session.at(app.started + options.at, app.inject)
        while app.step():
            if on_step is not None:
                on_step(app)
        app.fail_over()
        with tempfile.TemporaryDirectory(prefix="rcnlab-app-") as tmp:
            return app.outcome(Path(tmp))
    finally:
        app.close()
