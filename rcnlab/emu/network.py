"""The network: the kernel, the journal, the random generators and the links, and
the carrying of frames between the devices attached to it (rcnlab.world builds
them; this module knows no device class, only `Node`)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import trio.testing

from rcnlab.emu.journal import Journal
from rcnlab.emu.kernel import Kernel
from rcnlab.emu.link import Channel, Link
from rcnlab.emu.node import Node
from rcnlab.model.frames import FcFrame, Frame, GbeFrame, make_frame
from rcnlab.model.kinds import LinkKind
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
        self.devices: dict[str, Node] = {}
        self.links: dict[str, Link] = {}
        self.channels: dict[tuple[str, str], Channel] = {}
        self.ips: dict[str, str] = {}  # device name -> IP (edges, cores; IP-attached storages)
        self.by_ip: dict[str, str] = {}
        # bound once: every one-frame message is scheduled with these
        self._push, self._arrive_cb = self.kernel.push, self._arrive
        self._addressed_cb = self._arrive_addressed
        for ls in topo.links:
            chans = [
                Channel(link=ls.name, kind=ls.kind, src=src, dst=dst, latency=ls.latency, jitter=ls.jitter,
                        bandwidth=ls.bandwidth, mtu=ls.mtu, loss=ls.loss, rng=self.rng(f"link:{src}>{dst}"))
                for src, dst in ((ls.a, ls.b), (ls.b, ls.a))
            ]
            self.links[ls.name] = Link(ls.name, ls.kind, ls.a, ls.b, *chans)
            for ch in chans:
                self.channels[(ch.src, ch.dst)] = ch

    def rng(self, name: str) -> random.Random:
        """A child generator, fixed by the seed and the name alone."""
        return random.Random(f"{self.seed}:{name}")

    def add(self, node: Node, ip: str | None = None) -> None:
        """Attach a device (with its IP address, if it has one)."""
        self.devices[node.name] = node
        if ip is not None:
            self.ips[node.name] = ip
            self.by_ip[ip] = node.name

    def device(self, name: str) -> Node:
        return self.devices[name]

    def link_between(self, a: str, b: str) -> Link | None:
        ch = self.channels.get((a, b))
        return self.links[ch.link] if ch else None

    # -- carrying frames ---------------------------------------------------
    def send(self, src: str, dst: str, message: object, size: int, step: str | None = None,
             src_addr: int | str | None = None, dst_addr: int | str | None = None,
             route: tuple[str, ...] = ()) -> float:
        """Send ``message`` of ``size`` bytes from ``src`` to its neighbour ``dst``,
        split into frames of the link's MTU; each frame may be lost or delayed.
        Returns when it starts to leave onto the wire: now, or later when frames sent
        before it still hold the channel (it queues for the bandwidth). The addresses
        (PortIDs, or IPs and the ``route`` 713/714 on GbE) reach the receiver's
        ``receive_addressed``; a message without them, its ``receive``.

        A message that fits one frame travels as itself: its frame (Fig. 14) would
        only wrap it with headers that its receiver checks and strips again, so none
        is built; its addresses travel beside it. The random draws (loss, then
        jitter) are the same either way."""
        ch = self.channels[(src, dst)]
        kernel = self.kernel
        now = kernel.now
        journal = self.journal
        heard = journal.heard
        if "sent" in heard:
            journal.record(now, src, "sent", step, {"to": dst, "link": ch.link, "what": _describe(message),
                                                    "bytes": size})
        if not ch.up:
            ch.dropped += 1
            if "frame-dropped" in heard:
                journal.record(now, src, "frame-dropped", None, {"to": dst, "link": ch.link, "reason": "link down",
                                                                 "what": _describe(message)})
            return now
        ch.next_msg_id += 1
        busy = ch.busy_until
        departs = start = now if now > busy else busy
        if 0 < size <= ch.mtu:  # one frame
            start += size / ch.bandwidth
            ch.busy_until = start
            ch.sent += 1
            ch.bytes += size
            loss, jitter = ch.loss, ch.jitter
            if loss and ch.rng.random() < loss:
                ch.dropped += 1
                if "frame-dropped" in heard:
                    journal.record(now, src, "frame-dropped", None, {"to": dst, "link": ch.link, "reason": "lost",
                                                                     "what": _describe(message), "fragment": "1/1"})
                return departs
            ch.in_flight += 1
            due = start + ch.latency + (ch.rng.random() * jitter if jitter else 0.0)
            if ch.ordered:  # ch.arrival(due), inlined: FC and SCSI never reorder
                if due < ch.last_due:
                    due = ch.last_due
                ch.last_due = due
            if dst_addr is None:
                self._push(due, self._arrive_cb, (ch, ch.epoch, message))
            else:
                self._push(due, self._addressed_cb, (ch, ch.epoch, message, src_addr, dst_addr, route))
            return departs
        msg_id = ch.next_msg_id
        kind: type[Frame]
        if ch.kind is LinkKind.GBE or ch.kind is LinkKind.IP:
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
                if "frame-dropped" in heard:
                    journal.record(now, src, "frame-dropped", None, {"to": dst, "link": ch.link, "reason": "lost",
                                                                     "what": _describe(message),
                                                                     "fragment": f"{index + 1}/{count}"})
                continue
            frame = make_frame(kind, s_addr, d_addr, msg_id, index, count, length, message, route)
            due = ch.arrival(start + ch.latency + (rng.random() * ch.jitter if ch.jitter else 0.0))
            ch.in_flight += 1
            kernel.call_at(due, self._deliver, ch, ch.epoch, frame)
        ch.busy_until = start
        return departs

    def _lost_on_arrival(self, ch: Channel, epoch: int, dst: Node, what: object) -> bool:
        """A frame arriving on a channel that failed since it left, or at a device that is down."""
        if epoch == ch.epoch and ch.up and dst.up:
            return False
        ch.dropped += 1
        if "frame-dropped" in self.journal.heard:
            reason = "link down" if epoch != ch.epoch or not ch.up else f"{ch.dst} down"
            self.journal.record(self.kernel.now, ch.src, "frame-dropped", None,
                                {"to": ch.dst, "link": ch.link, "reason": reason, "what": _describe(what)})
        if epoch == ch.epoch and ch.up:  # the port at the far end is gone: a sender that waits may hear so
            undelivered = getattr(self.devices[ch.src], "undelivered", None)
            if undelivered is not None:
                undelivered(ch.dst, what)
        return True

    def _deliver(self, ch: Channel, epoch: int, frame: Frame) -> None:
        """A frame arrives: the receiver checks it and reassembles its message."""
        ch.in_flight -= 1
        dst = self.devices[ch.dst]
        if self._lost_on_arrival(ch, epoch, dst, frame.payload):
            return
        ch.delivered += 1
        dst.on_frame(ch.src, frame)

    def _arrive(self, ch: Channel, epoch: int, message: object) -> None:
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
        dst.receive(ch.src, message)

    def _arrive_addressed(self, ch: Channel, epoch: int, message: object, src_addr: int | str | None,
                          dst_addr: int | str, route: tuple[str, ...]) -> None:
        """As `_arrive`, for a message sent with addresses."""
        ch.in_flight -= 1
        dst = ch.receiver
        if dst is None:
            dst = ch.receiver = self.devices[ch.dst]
        if epoch != ch.epoch or not ch.up or not dst.up:
            self._lost_on_arrival(ch, epoch, dst, message)
            return
        ch.delivered += 1
        dst.receive_addressed(ch.src, message, src_addr, dst_addr, route)

    def inject_frame(self, src: str, dst: str, frame: Frame, delay: float = 0.0) -> None:
        """Put a hand-made (perhaps malformed) frame on the wire from ``src`` to ``dst``."""
        ch = self.channels[(src, dst)]
        ch.in_flight += 1
        self.kernel.call_at(self.kernel.now + delay + ch.latency, self._deliver, ch, ch.epoch, frame)

    def mgmt(self, src: str, dst: str, fn: Callable[..., object] | None, *args: Any, what: str = "") -> None:
        """A message over the management network 150 (no loss; down devices miss it): on
        arrival ``dst`` runs ``fn(*args)``; ``fn`` None is a report that only informs."""
        if what and "mgmt-sent" in self.journal.heard:
            self.journal.record(self.kernel.now, src, "mgmt-sent", None, {"to": dst, "what": what})
        if fn is None:
            return

        def arrive() -> None:
            if self.devices[src].up and self.devices[dst].up:
                fn(*args)

        self.kernel.call_later(self.topo.management.latency, arrive)

    def in_flight(self) -> Iterator[tuple[Channel, int, object]]:
        """(channel, epoch, message) of every delivery waiting on the kernel: a fragment's
        payload, or a whole message travelling as one frame."""
        deliver, arrive, addressed = self._deliver, self._arrive_cb, self._addressed_cb
        for _, fn, args in self.kernel.scheduled():
            if fn == arrive:
                yield args
            elif fn == addressed:
                yield args[:3]
            elif fn == deliver:
                ch, epoch, frame = args
                yield ch, epoch, getattr(frame, "payload", None)

    # -- running -----------------------------------------------------------
    async def run(self, until: float = math.inf, drain: bool = True, paced: bool = False) -> None:
        await self.kernel.run(until=until, drain=drain, paced=paced)



def _describe(message: object) -> str:
    """A short description of a message for traces: "WR", "log[WR#12]", ..."""
    if isinstance(message, tuple):
        return "log[" + ",".join(f"{e.kind._value_}#{e.order_id}.{e.seq}" for e in message) + "]"
    kind = getattr(message, "kind", None) or getattr(getattr(message, "rio", None), "kind", None)
    return kind._value_ if isinstance(kind, RioKind) else str(kind) if kind is not None else type(message).__name__
