"""What every device has: a name, a link to the network, up/down, a reassembler."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from rcnlab.emu.network import Network
from rcnlab.model.frames import Frame, MalformedFrame, Reassembler, addresses
from rcnlab.model.kinds import DeviceKind


@attrs.define(eq=False)
class Device:
    """A device owns its state and talks to others only through the network's links
    (and the management network). It never blocks: handlers run to completion."""

    name: str
    net: Network = attrs.field(repr=False)
    kind: ClassVar[DeviceKind]
    up: bool = attrs.field(default=True, init=False)
    malformed: int = attrs.field(default=0, init=False)  # frames refused by their checks
    _reassembler: Reassembler = attrs.field(factory=Reassembler, init=False, repr=False)

    @property
    def now(self) -> float:
        return self.net.kernel.now

    def emit(self, event: str, step: str | None = None, **fields: Any) -> None:
        journal = self.net.journal
        if event in journal.heard:
            journal.record(self.net.kernel.now, self.name, event, step, fields)

    def send(self, dst: str, message: object, size: int, step: str | None = None) -> float:
        """Send to a neighbour, without addresses; returns when the message starts to leave (``Network.send``)."""
        return self.net.send(self.name, dst, message, size, step)

    def on_frame(self, src: str, frame: Frame) -> None:
        """A frame arrived from ``src``: reassemble, then hand the whole message on."""
        try:
            message = self._reassembler.accept(src, frame, self.now)
        except MalformedFrame as exc:
            self.refuse_frame(src, str(exc))
            return
        if message is not None:
            self.receive_addressed(src, message, *addresses(frame))

    def receive(self, src: str, message: object) -> None:  # pragma: no cover - every device overrides
        raise NotImplementedError

    def receive_addressed(self, src: str, message: object, src_addr: int | str | None, dst_addr: int | str,
                          route: tuple[str, ...]) -> None:
        """A whole message with its frame's addresses; a device that reads none takes it as `receive`."""
        self.receive(src, message)

    def refuse_frame(self, src: str, reason: str) -> None:
        """A frame whose addresses do not fit: counted and dropped, with one line in the journal."""
        self.malformed += 1
        self.emit("frame-refused", None, src=src, reason=reason)

    def crash(self) -> None:
        """Lose what is held in memory; subclasses say what that is."""
        self.up = False
        self._reassembler = Reassembler()

    def restart(self) -> None:
        self.up = True
