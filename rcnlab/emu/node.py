"""What the network needs of a device attached to it."""

from __future__ import annotations

from typing import Protocol

from rcnlab.model.frames import Frame


class Node(Protocol):
    """A device at the end of links: the network hands it what arrives."""

    name: str
    up: bool

    def receive(self, src: str, message: object) -> None:
        """A whole message arrived from the neighbour ``src`` (one that fits one frame)."""

    def receive_addressed(self, src: str, message: object, src_addr: int | str | None, dst_addr: int | str,
                          route: tuple[str, ...]) -> None:
        """As `receive`, with the frame's addresses: PortIDs 1411/1412 (FC), IPs 1421/1422 and
        the route 713/714 (GbE), or the storages' own addresses (IP-attached)."""

    def on_frame(self, src: str, frame: Frame) -> None:
        """A frame arrived from ``src`` (a fragment, or a hand-made frame)."""
