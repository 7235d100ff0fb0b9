"""Frames on the wire (Fig. 14) with fragmentation and reassembly.

An FC frame 220 carries a RIO (1414) between storage and edge; a GbE frame 210
carries log entries (1424) between edges and cores. A message bigger than a
frame's payload (the link's MTU) is split over several frames; the receiver
reassembles it once every fragment is in. The emulation does not serialise to
bytes: every fragment refers to the message and says which share it carries.
"""

from __future__ import annotations

from typing import Any

import attrs


def header_checksum(msg_id: int, index: int, count: int, length: int) -> int:
    """The checksum in the other headers (1413, 1423); a corrupted frame fails it."""
    return (msg_id * 2654435761 + index * 40503 + count * 977 + length) & 0xFFFFFFFF


@attrs.frozen(kw_only=True, slots=True)
class FcFrame:
    """FC frame 220: 1411 source PortID, 1412 destination PortID, 1413 other headers
    (message id, fragment index and count, length, checksum), 1414 RIO area."""

    src_port: int
    dst_port: int
    msg_id: int
    index: int
    count: int
    length: int
    checksum: int
    payload: object  # the RIO (or SCSI command) this frame carries a share of


@attrs.frozen(kw_only=True, slots=True)
class GbeFrame:
    """GbE frame 210: 1421 source IP, 1422 destination IP, 1423 other headers
    (as FC, and the transit route 713/714 its log entries follow: the IP addresses
    edge, cores..., edge, by which each core picks the next hop), 1424 log entry area."""

    src_ip: str
    dst_ip: str
    msg_id: int
    index: int
    count: int
    length: int
    checksum: int
    payload: object  # the tuple of log entries this frame carries a share of
    route: tuple[str, ...] = ()


Frame = FcFrame | GbeFrame


def fragment(kind: type[Frame], src: Any, dst: Any, msg_id: int, payload: object, size: int, mtu: int,
             route: tuple[str, ...] = ()) -> list[Frame]:
    """Split a message of ``size`` bytes into frames of at most ``mtu`` payload bytes."""
    count = max(1, -(-size // mtu))
    frames = []
    for index in range(count):
        length = min(mtu, size - index * mtu) if count > 1 else size
        frames.append(make_frame(kind, src, dst, msg_id, index, count, length, payload, route))
    return frames


def make_frame(kind: type[Frame], src: Any, dst: Any, msg_id: int, index: int, count: int, length: int,
               payload: object, route: tuple[str, ...] = ()) -> Frame:
    """Fragment ``index`` of ``count`` of message ``msg_id`` as an FC (Fig. 14, 220) or GbE (210) frame;
    ``src`` and ``dst`` are PortIDs for an FC frame, IP addresses for a GbE one (which also
    carries the ``route``)."""
    checksum = header_checksum(msg_id, index, count, length)
    if kind is FcFrame:
        return FcFrame(src_port=src, dst_port=dst, msg_id=msg_id, index=index, count=count,
                       length=length, checksum=checksum, payload=payload)
    return GbeFrame(src_ip=src, dst_ip=dst, msg_id=msg_id, index=index, count=count,
                    length=length, checksum=checksum, payload=payload, route=route)


def addresses(frame: Frame) -> tuple[Any, Any, tuple[str, ...]]:
    """A frame's source and destination addresses (PortIDs 1411/1412, or IPs 1421/1422)
    and, for a GbE frame, its route."""
    if isinstance(frame, FcFrame):
        return frame.src_port, frame.dst_port, ()
    return frame.src_ip, frame.dst_ip, frame.route


class MalformedFrame(ValueError):
    """A frame that fails its checks; the receiver counts and drops it."""


@attrs.define(eq=False)
class Reassembler:
    """Collects fragments per (sender, message id) until a message is whole.

    Partial messages older than ``max_age`` are dropped (their sender resends).
    """

    max_age: float = 5.0
    _partial: dict[tuple[str, int], tuple[float, set[int], object]] = attrs.field(factory=dict, init=False)
    dropped_partials: int = attrs.field(default=0, init=False)

    def accept(self, sender: str, frame: Frame, now: float) -> object | None:
        """Take one frame; return the whole message when its last fragment arrives."""
        if frame.checksum != header_checksum(frame.msg_id, frame.index, frame.count, frame.length):
            raise MalformedFrame("bad checksum")
        if not 0 <= frame.index < frame.count or frame.length <= 0:
            raise MalformedFrame(f"fragment {frame.index} of {frame.count} with length {frame.length}")
        if frame.count == 1:
            return frame.payload
        key = (sender, frame.msg_id)
        born, got, payload = self._partial.get(key) or (now, set(), frame.payload)
        if payload is not frame.payload:
            raise MalformedFrame(f"fragment {frame.index} does not belong to message {frame.msg_id}")
        got.add(frame.index)
        if len(got) == frame.count:
            del self._partial[key]
            return payload
        self._partial[key] = (born, got, payload)
        self._expire(now)
        return None

    def _expire(self, now: float) -> None:
        for key in [k for k, (born, _, _) in self._partial.items() if now - born > self.max_age]:
            del self._partial[key]
            self.dropped_partials += 1

    @property
    def pending(self) -> int:
        return len(self._partial)
