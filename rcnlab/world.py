"""The composition root: a `World` is the network with its devices, built from a
topology, and the address book every reader uses: volume names, real and virtual
WWNs (from the management server's virtual storage table 404), and `PairView`, one
pair as its four parties hold it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import trio.testing

from rcnlab.devices.core import CoreDevice
from rcnlab.devices.edge import EdgeDevice
from rcnlab.devices.host import Host
from rcnlab.devices.management import ManagementServer
from rcnlab.devices.storage import ExternalStorage, StoragePair
from rcnlab.emu.journal import Journal
from rcnlab.emu.network import Network
from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import Attach, Party, Role
from rcnlab.model.pair_state import PairState
from rcnlab.model.tables import PairInfo
from rcnlab.topo.schema import Topology

#: The four parties in the order every table shows them.
PARTIES = (Party.SOURCE_STORAGE, Party.SOURCE_EDGE, Party.TARGET_EDGE, Party.TARGET_STORAGE)


@attrs.frozen(kw_only=True)
class PairRecords:
    """The live records behind a `PairView` (for the checker, which reads the bitmaps
    and volumes themselves); None where a party has none."""

    source_storage: ExternalStorage | None
    source_pair: StoragePair | None  # the source storage's record of the source volume (any role)
    source_edge: PairInfo | None  # 411 at the source storage's edge
    target_edge: PairInfo | None  # 411 at the target storage's edge
    target_pair: StoragePair | None  # the target storage's record of the target volume (any role)
    target_storage: ExternalStorage | None


@attrs.frozen(kw_only=True)
class PairView:
    """One pair as its four parties (source storage, source edge, target edge, target
    storage) hold it at one instant, by real volume addresses. A party without a record
    of the pair (or whose record has the other role) is Simplex."""

    source: str  # volume names, "ST112:0"
    target: str
    source_ref: VolumeRef
    target_ref: VolumeRef
    mode: str  # a CopyMode value, as the record the view was taken from says
    order_id: int | None  # 726 at the source edge
    devices: tuple[str | None, str | None, str | None, str | None]  # per party, PARTIES order
    states: tuple[PairState, PairState, PairState, PairState]
    down: frozenset[Party]  # parties whose device is down
    bitmaps: tuple[int, int, int, int]  # marked blocks: 1211, 727 (source edge), 727 (target edge), 1213
    copy_done: int | None  # the source's copy job (1013, or a differential copy), when one runs
    copy_total: int | None
    copy_left: int  # blocks the copy job has still to send
    takeover: bool  # the target host took over the target volume (failover)
    records: PairRecords = attrs.field(eq=False, repr=False)

    def state(self, party: Party) -> PairState:
        return self.states[PARTIES.index(party)]

    def by_party(self) -> dict[Party, PairState]:
        return dict(zip(PARTIES, self.states))

    def record(self) -> dict[str, Any]:
        """The pair as the run summary (``rcnlab run --json``) shows it."""
        return {"source": self.source, "target": self.target, "mode": self.mode, "order_id": self.order_id,
                "states": {party.value: str(state) for party, state in zip(PARTIES, self.states)}}

    @property
    def name(self) -> str:
        """"SOURCE>TARGET"."""
        return f"{self.source}>{self.target}"

    @property
    def progress(self) -> float | None:
        if self.copy_total is None or self.copy_done is None:
            return None
        return self.copy_done / self.copy_total if self.copy_total else 1.0


class World(Network):
    """The network with every device of the topology attached and the management server's
    tables configured (901-903), ready to run."""

    def __init__(self, topo: Topology, seed: int = 0, clock: trio.testing.MockClock | None = None,
                 journal: Journal | None = None) -> None:
        super().__init__(topo, seed, clock, journal)
        self.management = ManagementServer(topo.management.name, self, spec=topo.management)
        self.hosts = [Host(spec.name, self, spec=spec) for spec in topo.hosts]
        self.host_named = {host.name: host for host in self.hosts}
        for host in self.hosts:
            self.add(host)
        self.storages: list[ExternalStorage] = []
        for sspec in topo.storages:
            storage = ExternalStorage(sspec.name, self, spec=sspec, block_size=topo.block_size)
            self.storages.append(storage)
            self.add(storage, sspec.wwn if sspec.attach is Attach.IP else None)
        self.edges = [EdgeDevice(spec.name, self, spec=spec, management=self.management) for spec in topo.edges]
        self.edge_named = {edge.name: edge for edge in self.edges}
        for edge in self.edges:
            self.add(edge, edge.spec.ip)
        self.cores = [CoreDevice(spec.name, self, spec=spec) for spec in topo.cores]
        for core in self.cores:
            self.add(core, core.spec.ip)
        self.add(self.management)
        # The RCN is configured (903) before the lab starts: the tables leave over the
        # management network 150 one latency before t = 0 and are in place at t = 0.
        self.kernel.advance_to(-topo.management.latency)
        self.management.configure(self.edges, self.cores)
        while not self.management.configured:
            self.kernel.step()
        self._by_wwn: dict[str, ExternalStorage] = {}
        for storage in self.storages:
            self._by_wwn.setdefault(storage.wwn, storage)
        self._real_of = {v.virtual_wwn: v.corresponding_wwn for v in self.management.virtual}

    # -- the address book ------------------------------------------------------------
    @property
    def virtual_wwns(self) -> Mapping[str, str]:
        """Virtual WWN -> the real storage WWN it stands for (404; Fig. 2)."""
        return self._real_of

    def real_wwn(self, wwn: str) -> str:
        """The storage WWN ``wwn`` stands for (itself when it is no virtual WWN)."""
        return self._real_of.get(wwn, wwn)

    def real(self, ref: VolumeRef) -> VolumeRef:
        """The volume ``ref`` addresses, by its storage's own WWN."""
        real = self._real_of.get(ref.wwn)
        return ref if real is None or real == ref.wwn else VolumeRef(real, ref.lun)

    def storage_of(self, ref: VolumeRef) -> ExternalStorage | None:
        """The storage holding the volume ``ref`` addresses (real or virtual WWN)."""
        return self._by_wwn.get(self._real_of.get(ref.wwn, ref.wwn))

    def volume_name(self, ref: VolumeRef) -> str:
        """"ST112:0" for a volume addressed by real or virtual WWN; the reference itself
        when no storage has it."""
        storage = self.storage_of(ref)
        return f"{storage.name}:{ref.lun}" if storage is not None else str(ref)

    # -- pairs at their four parties ----------------------------------------------------
    def pair_views(self) -> list[PairView]:
        """Every pair, as the source storages know them."""
        return [self.pair_view(s, p) for s in self.storages for p in s.pairs.values() if p.role is Role.SOURCE]

    def pair_view(self, storage: ExternalStorage, pair: StoragePair) -> PairView:
        """The pair of ``storage``'s record ``pair`` (either end) at its four parties."""
        source_storage: ExternalStorage | None
        target_storage: ExternalStorage | None
        if pair.role is Role.TARGET:
            source_ref, target_ref = self.real(pair.remote), pair.local
            source_storage, target_storage = self.storage_of(source_ref), storage
        else:
            source_ref, target_ref = pair.local, self.real(pair.remote)
            source_storage, target_storage = storage, self.storage_of(target_ref)
        key = (source_ref, target_ref)
        spair = source_storage.pairs.get(source_ref.lun) if source_storage is not None else None
        tpair = target_storage.pairs.get(target_ref.lun) if target_storage is not None else None
        source_edge = self.edge_named.get(source_storage.edge) if source_storage is not None else None
        target_edge = self.edge_named.get(target_storage.edge) if target_storage is not None else None
        src_info = source_edge.pairs.get(key) if source_edge is not None else None
        dst_info = target_edge.pairs.get(key) if target_edge is not None else None
        spair_mine = spair if spair is not None and spair.role is Role.SOURCE else None
        tpair_mine = tpair if tpair is not None and tpair.role is Role.TARGET else None
        parties = (source_storage, source_edge, target_edge, target_storage)
        copy = spair_mine.copy if spair_mine is not None else None
        return PairView(
            source=self.volume_name(source_ref),
            target=self.volume_name(target_ref),
            source_ref=source_ref,
            target_ref=target_ref,
            mode=pair.mode,
            order_id=src_info.order_id if src_info is not None else None,
            devices=(source_storage.name if source_storage is not None else None,
                     source_storage.edge if source_storage is not None else None,
                     target_storage.edge if target_storage is not None else None,
                     target_storage.name if target_storage is not None else None),
            states=(spair_mine.state if spair_mine is not None else PairState.SIMPLEX,
                    src_info.state if src_info is not None else PairState.SIMPLEX,
                    dst_info.state if dst_info is not None else PairState.SIMPLEX,
                    tpair_mine.state if tpair_mine is not None else PairState.SIMPLEX),
            down=frozenset(p for p, dev in zip(PARTIES, parties) if dev is not None and not dev.up),
            bitmaps=(len(spair_mine.bitmap) if spair_mine is not None else 0,
                     len(src_info.bitmap) if src_info is not None else 0,
                     len(dst_info.bitmap) if dst_info is not None else 0,
                     len(tpair_mine.bitmap) if tpair_mine is not None else 0),
            copy_done=copy.done if copy is not None else None,
            copy_total=copy.total if copy is not None else None,
            copy_left=len(copy.blocks) - copy.done if copy is not None else 0,
            takeover=bool(tpair is not None and tpair.takeover),
            records=PairRecords(source_storage=source_storage, source_pair=spair, source_edge=src_info,
                                target_edge=dst_info, target_pair=tpair, target_storage=target_storage),
        )
