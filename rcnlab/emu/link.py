"""Links: one channel per direction with latency, jitter, bandwidth, MTU, loss and
an up flag. Faults change a channel's data; devices never learn why a frame did
not arrive."""

from __future__ import annotations

import random

import attrs

from rcnlab.emu.node import Node
from rcnlab.model.kinds import LinkKind


@attrs.define(eq=False)
class Channel:
    """One direction of a link.

    FC, SCSI and storage-over-IP (iSCSI on TCP) deliver in order: jitter delays a frame
    but never lets it overtake one sent before it. GbE between edges and cores carries
    UDP, which may reorder; the log entries' sequence numbers put that right (2003)."""

    link: str  # the link's name, "A-B"
    kind: LinkKind
    src: str
    dst: str
    latency: float
    jitter: float
    bandwidth: float  # bytes per second
    mtu: int
    loss: float
    rng: random.Random = attrs.field(repr=False)
    up: bool = True
    epoch: int = 0  # bumped when the channel fails: frames already in flight are lost
    busy_until: float = 0.0  # the sender's serialisation: frames leave one after another
    next_msg_id: int = 0
    sent: int = 0  # frames
    delivered: int = 0
    dropped: int = 0
    bytes: int = 0
    in_flight: int = 0
    receiver: Node | None = attrs.field(default=None, repr=False)  # the device at ``dst``, once a frame arrived
    ordered: bool = attrs.field(init=False)  # frames arrive in the order they were sent
    last_due: float = 0.0  # when the frame sent last arrives (ordered channels)

    def __attrs_post_init__(self) -> None:
        self.ordered = self.kind is not LinkKind.GBE

    def arrival(self, due: float) -> float:
        """When a frame due at ``due`` arrives: on an ordered channel not before the one sent before it."""
        if self.ordered:
            if due < self.last_due:
                due = self.last_due
            self.last_due = due
        return due

    @property
    def degraded(self) -> bool:
        return self.up and (self.loss > 0 or self.jitter > 0)

    def fail(self) -> None:
        self.up = False
        self.epoch += 1
        self.last_due = 0.0  # what was in flight is lost

    def flush(self, now: float) -> None:
        """The port at the far end went dark: what is in flight or queued for it is lost."""
        self.epoch += 1
        self.last_due = 0.0
        self.busy_until = min(self.busy_until, now)

    def restore(self) -> None:
        self.up = True


@attrs.define(eq=False)
class Link:
    """A bidirectional link between ``a`` and ``b``: two channels."""

    name: str
    kind: LinkKind
    a: str
    b: str
    forward: Channel  # a -> b
    backward: Channel  # b -> a

    @property
    def channels(self) -> tuple[Channel, Channel]:
        return (self.forward, self.backward)

    @property
    def up(self) -> bool:
        return self.forward.up and self.backward.up

    def state(self) -> str:
        """"up", "down", "one-way" (a single direction down) or "degraded"."""
        ups = [c.up for c in self.channels]
        if not any(ups):
            return "down"
        if not all(ups):
            return "one-way"
        return "degraded" if any(c.degraded for c in self.channels) else "up"
