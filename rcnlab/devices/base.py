"""What every device has: a name, a link to the network, up/down, a reassembler."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from rcnlab.emu.network import Network
from rcnlab.model.frames import Frame, MalformedFrame, Reassembler
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

    def send(self, dst: str, message: object, size: int, step: str | None = None, **addr: int | str) -> float:
        """Send to a neighbour; returns when the message starts to leave (``Network.send``)."""
        return self.net.send(self.name, dst, message, size, step, **addr)

    def on_frame(self, src: str, frame: Frame) -> None:
        """A frame arrived from ``src``: reassemble, then hand the whole message on."""
        try:
            message = self._reassembler.accept(src, frame, self.now)
        except MalformedFrame as exc:
            self.malformed += 1
            self.emit("frame-refused", None, src=src, reason=str(exc))
            return
        if message is not None:
            self.receive(src, message)

    def receive(self, src: str, message: object) -> None:  # pragma: no cover - every device overrides
        raise NotImplementedError

    def crash(self) -> None:
        """Lose what is held in memory; subclasses say what that is."""
        self.up = False
        self._reassembler = Reassembler()

    def restart(self) -> None:
        self.up = True
