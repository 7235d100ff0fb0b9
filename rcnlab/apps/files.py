"""How files lie on a volume: one region per file, its first block a header.

A volume holds regions back to back from block 0. A region's first block says what it
holds (magic, file name, region length, whether the file exists, its size in bytes);
the file's bytes follow block after block. The header is written after the data it
describes and before the barrier (``xSync``), so the target volume's image alone tells
every file's size and place: `read_files` rebuilds the files from images."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

import attrs

MAGIC = b"RCNSQLF1"
#: magic, exists (0/1), name (UTF-8, zero padded), region length in blocks, size in bytes
HEADER = struct.Struct("<8sI48sQQ")


@attrs.frozen(kw_only=True)
class Region:
    """Blocks [first, first + blocks) of ``volume``: a header block, then the file's bytes."""

    volume: str
    first: int
    blocks: int

    def capacity(self, block_size: int) -> int:
        return (self.blocks - 1) * block_size


def header(name: str, region: Region, exists: bool, size: int, block_size: int) -> bytes:
    packed = HEADER.pack(MAGIC, int(exists), name.encode(), region.blocks, size)
    return packed.ljust(block_size, b"\0")


@attrs.frozen(kw_only=True)
class Found:
    """A file as a volume image holds it."""

    name: str
    exists: bool
    size: int
    region: Region


def scan(volume: str, read: Callable[[int], bytes]) -> Iterator[Found]:
    """The regions of a volume from block 0 on, given a function reading one block."""
    block = 0
    while True:
        raw = read(block)
        if len(raw) < HEADER.size:
            return
        magic, exists, name, blocks, size = HEADER.unpack_from(raw)
        if magic != MAGIC or blocks < 1:
            return
        yield Found(name=name.rstrip(b"\0").decode(), exists=bool(exists), size=size,
                    region=Region(volume=volume, first=block, blocks=blocks))
        block += blocks


def read_files(read: Callable[[int], bytes], volume: str, block_size: int) -> dict[str, bytes]:
    """Every existing file on the volume, name -> its bytes (the image's own say)."""
    files = {}
    for f in scan(volume, read):
        if not f.exists:
            continue
        data = b"".join(read(f.region.first + 1 + i) for i in range(-(-f.size // block_size)))
        files[f.name] = data[:f.size]
    return files


def image_reader(path: str, block_size: int) -> Callable[[int], bytes]:
    """Read blocks of a raw volume image (block ``n`` at byte ``n * block_size``; past the
    end reads as zeros)."""
    def read(block: int) -> bytes:
        with open(path, "rb") as fh:
            fh.seek(block * block_size)
            return fh.read(block_size).ljust(block_size, b"\0")

    return read
