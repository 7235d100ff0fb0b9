"""A volume (113, 123) of an external storage."""

from __future__ import annotations

import hashlib

import attrs


@attrs.define(eq=False)
class Volume:
    """A volume of fixed-size blocks. Sparse: a block costs memory only once
    written; unwritten blocks read as zeros."""

    lun: int
    size: int  # blocks
    block_size: int
    blocks: dict[int, bytes] = attrs.field(factory=dict)
    writes: int = 0  # writes applied (host writes and reflected copies)

    def write(self, block: int, data: bytes) -> None:
        self.blocks[block] = data
        self.writes += 1

    def read(self, block: int) -> bytes:
        return self.blocks.get(block) or bytes(self.block_size)

    def clear(self) -> None:
        self.blocks.clear()

    def digest(self) -> str:
        """Equal exactly when the contents are equal (zero blocks count as unwritten)."""
        h = hashlib.blake2b(digest_size=16)
        zero = bytes(self.block_size)
        for block in sorted(self.blocks):
            data = self.blocks[block]
            if data != zero:
                h.update(block.to_bytes(8, "big"))
                h.update(data)
        return h.hexdigest()
