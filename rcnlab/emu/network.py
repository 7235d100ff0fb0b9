"""The network: builds devices and links from a Topology, owns the kernel, the
journal and the random generators, and carries frames between devices."""

from __future__ import annotations

import math
import random
from heapq import heappush
from typing import Any

import trio.testing

from rcnlab.devices.base import Device
from rcnlab.devices.core import CoreDevice
from rcnlab.devices.edge import EdgeDevice
from rcnlab.devices.host import Host
from rcnlab.devices.management import ManagementServer
from rcnlab.devices.storage import ExternalStorage
from rcnlab.emu.journal import Journal
from rcnlab.emu.kernel import Kernel
from rcnlab.emu.link import Channel, Link
from rcnlab.model.frames import FcFrame, GbeFrame, _make
from rcnlab.model.rio import RioKind
from rcnlab.topo.schema import Topology


class Network:
    """Everything the lab emulates, in one object. Not thread-safe; one trio task
    (the kernel's) drives it, and commands from outside run between its steps."""

    def __init__(self, topo: Topology, seed: int = 0, clock: trio.testing.MockClock | None = None,
                 journal: Journal | None = None) -> None:
        self.topo = topo
        self.seed = seed
        self.kernel = Kernel(clock)
        self.journal = journal or Journal()
        self.devices: dict[str, Device] = {}
        self.links: dict[str, Link] = {}
        self.channels: dict[tuple[str, str], Channel] = {}
        self.ips: dict[str, str] = {}  # device name -> IP (edges, cores; IP-attached storages)
        self.by_ip: dict[str, str] = {}
        self._arrive_cb = self._arrive  # bound once: every one-frame message is scheduled with it
        self._build()

    def rng(self, name: str) -> random.Random:
        """A child generator, fixed by the seed and the name alone."""
        return random.Random(f"{self.seed}:{name}")

    # -- building ----------------------------------------------------------
    def _build(self) -> None:
        topo = self.topo
        self.management = ManagementServer(topo.management.name, self, spec=topo.management)
        for spec in topo.hosts:
            self._add(Host(spec.name, self, spec=spec))
        for spec in topo.storages:
            self._add(ExternalStorage(spec.name, self, spec=spec, block_size=topo.block_size))
            if spec.attach == "ip":
                self.ips[spec.name] = spec.wwn
        for spec in topo.edges:
            self._add(EdgeDevice(spec.name, self, spec=spec))
            self.ips[spec.name] = spec.ip
        for spec in topo.cores:
            self._add(CoreDevice(spec.name, self, spec=spec))
            self.ips[spec.name] = spec.ip
        self._add(self.management)
        self.by_ip = {ip: name for name, ip in self.ips.items()}
        for ls in topo.links:
            chans = [
                Channel(link=ls.name, kind=ls.kind, src=src, dst=dst, latency=ls.latency, jitter=ls.jitter,
                        bandwidth=ls.bandwidth, mtu=ls.mtu, loss=ls.loss, rng=self.rng(f"link:{src}>{dst}"))
                for src, dst in ((ls.a, ls.b), (ls.b, ls.a))
            ]
            self.links[ls.name] = Link(ls.name, ls.kind, ls.a, ls.b, *chans)
            for ch in chans:
                self.channels[(ch.src, ch.dst)] = ch
        self.management.configure()

    def _add(self, device: Device) -> None:
        self.devices[device.name] = device

    def device(self, name: str) -> Any:
        return self.devices[name]

    @property
    def hosts(self) -> list[Host]:
        return [d for d in self.devices.values() if isinstance(d, Host)]

    @property
    def storages(self) -> list[ExternalStorage]:
        return [d for d in self.devices.values() if isinstance(d, ExternalStorage)]

    @property
    def edges(self) -> list[EdgeDevice]:
        return [d for d in self.devices.values() if isinstance(d, EdgeDevice)]

    @property
    def cores(self) -> list[CoreDevice]:
        return [d for d in self.devices.values() if isinstance(d, CoreDevice)]

    def link_between(self, a: str, b: str) -> Link | None:
        ch = self.channels.get((a, b))
        return self.links[ch.link] if ch else None

    # -- carrying frames ---------------------------------------------------
    def send(self, src: str, dst: str, message: Any, size: int, step: str | None = None,
             src_addr: Any = None, dst_addr: Any = None) -> None:
        """Send ``message`` of ``size`` bytes from ``src`` to its neighbour ``dst``,
        split into frames of the link's MTU; each frame may be lost or delayed.

        A message that fits one frame travels as itself: its frame (Fig. 14) would
        only wrap it with headers that its receiver checks and strips again, so none
        is built. The random draws (loss, then jitter) are the same either way."""
        ch = self.channels[(src, dst)]
        kernel = self.kernel
        now = kernel.now
        journal = self.journal
        if journal.active:
            journal.record(now, src, "sent", step, {"to": dst, "link": ch.link, "what": _describe(message),
                                                    "bytes": size})
        if not ch.up:
            ch.dropped += 1
            if journal.active:
                journal.record(now, src, "frame-dropped", None, {"to": dst, "link": ch.link, "reason": "link down",
                                                                 "what": _describe(message)})
            return
        ch.next_msg_id += 1
        busy = ch.busy_until
        start = now if now > busy else busy
        if 0 < size <= ch.mtu:  # one frame
            start += size / ch.bandwidth
            ch.busy_until = start
            ch.sent += 1
            ch.bytes += size
            loss, jitter = ch.loss, ch.jitter
            if loss and ch.rng.random() < loss:
                ch.dropped += 1
                if journal.active:
                    journal.record(now, src, "frame-dropped", None, {"to": dst, "link": ch.link, "reason": "lost",
                                                                     "what": _describe(message), "fragment": "1/1"})
                return
            ch.in_flight += 1
            # kernel.call_at(due, self._arrive, ch, ch.epoch, message), inlined: due is never before now
            seq = kernel._seq = kernel._seq + 1
            kernel.live += 1
            heappush(kernel._heap, (start + ch.latency + (ch.rng.random() * jitter if jitter else 0.0), seq,
                                    self._arrive_cb, (ch, ch.epoch, message), True))
            if kernel._wake is not None:
                kernel._wake.set()
            return
        msg_id = ch.next_msg_id
        if ch.kind == "gbe" or ch.kind == "ip":
            kind, s_addr, d_addr = GbeFrame, src_addr or self.ips.get(src, src), dst_addr or self.ips.get(dst, dst)
        else:
            kind, s_addr, d_addr = FcFrame, src_addr or 0, dst_addr or 0
        mtu = ch.mtu
        count = max(1, -(-size // mtu))
        rng = ch.rng
        for index in range(count):
            length = size - index * mtu if index == count - 1 else mtu
            start += length / ch.bandwidth
            ch.sent += 1
            ch.bytes += length
            if ch.loss and rng.random() < ch.loss:
                ch.dropped += 1
                if journal.active:
                    journal.record(now, src, "frame-dropped", None, {"to": dst, "link": ch.link, "reason": "lost",
                                                                     "what": _describe(message),
                                                                     "fragment": f"{index + 1}/{count}"})
                continue
            frame = _make(kind, s_addr, d_addr, msg_id, index, count, length, message)
            due = start + ch.latency + (rng.random() * ch.jitter if ch.jitter else 0.0)
            ch.in_flight += 1
            kernel.call_at(due, self._deliver, ch, ch.epoch, frame)
        ch.busy_until = start

    def _lost_on_arrival(self, ch: Channel, epoch: int, dst: Device, what: Any) -> bool:
        """A frame arriving on a channel that failed since it left, or at a device that is down."""
        if epoch == ch.epoch and ch.up and dst.up:
            return False
        ch.dropped += 1
        if self.journal.active:
            reason = "link down" if epoch != ch.epoch or not ch.up else f"{ch.dst} down"
            self.journal.record(self.kernel.now, ch.src, "frame-dropped", None,
                                {"to": ch.dst, "link": ch.link, "reason": reason, "what": _describe(what)})
        return True

    def _deliver(self, ch: Channel, epoch: int, frame: Any) -> None:
        """A frame arrives: the receiver checks it and reassembles its message."""
        ch.in_flight -= 1
        dst = self.devices[ch.dst]
        if self._lost_on_arrival(ch, epoch, dst, frame.payload):
            return
        ch.delivered += 1
        dst.on_frame(ch.src, frame)

    def _arrive(self, ch: Channel, epoch: int, message: Any) -> None:
        """A one-frame message arrives: straight to the receiver's handler (what the
        frame checks and reassembly of a well-formed single frame come down to)."""
        ch.in_flight -= 1
        dst = ch.receiver
        if dst is None:
            dst = ch.receiver = self.devices[ch.dst]
        if epoch != ch.epoch or not ch.up or not dst.up:
            self._lost_on_arrival(ch, epoch, dst, message)
            return
        ch.delivered += 1
        if type(dst).on_frame is _ON_FRAME:
            dst.receive(ch.src, message)
        else:  # a device that looks at frames itself gets one
            dst.on_frame(ch.src, _make(GbeFrame if ch.kind in ("gbe", "ip") else FcFrame, 0, 0, 0, 0, 1,
                                       ch.mtu, message))

    def inject_frame(self, src: str, dst: str, frame: Any, delay: float = 0.0) -> None:
        """Put a hand-made (perhaps malformed) frame on the wire from ``src`` to ``dst``."""
        ch = self.channels[(src, dst)]
        ch.in_flight += 1
        self.kernel.call_at(self.kernel.now + delay + ch.latency, self._deliver, ch, ch.epoch, frame)

    def mgmt(self, src: str, dst: str, fn: Any, *args: Any, what: str = "") -> None:
        """A message over the management network 150 (no loss; down devices miss it): on
        arrival ``dst`` runs ``fn(*args)``; ``fn`` None is a report that only informs."""
        if self.journal.active and what:
            self.journal.record(self.kernel.now, src, "mgmt-sent", None, {"to": dst, "what": what})
        if fn is None:
            return

        def arrive() -> None:
            if self.devices[src].up and self.devices[dst].up:
                fn(*args)

        self.kernel.call_later(self.topo.management.latency, arrive)

    # -- running -----------------------------------------------------------
    async def run(self, until: float = math.inf, drain: bool = True, paced: bool = False) -> None:
        await self.kernel.run(until=until, drain=drain, paced=paced)


_ON_FRAME = Device.on_frame


def _describe(message: Any) -> str:
    """A short description of a message for traces: "WR", "log[WR#12]", ..."""
    if isinstance(message, tuple):
        return "log[" + ",".join(f"{e.kind._value_}#{e.order_id}.{e.seq}" for e in message) + "]"
    kind = getattr(message, "kind", None) or getattr(getattr(message, "rio", None), "kind", None)
    return kind._value_ if isinstance(kind, RioKind) else str(kind) if kind is not None else type(message).__name__
