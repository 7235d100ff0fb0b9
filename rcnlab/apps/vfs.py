"""An apsw VFS that keeps SQLite's files on the lab's block devices.

Each file the application names has a region of a volume (`rcnlab.apps.files`):
``xWrite`` issues the blocks it touches as asynchronous SCSI writes (a partial block is
completed from what the file holds), ``xSync`` writes the file's header (its size) and
then waits for the device's barrier (``flush``: every issued write answered), ``xRead``
reads through the host. A delete or truncate rewrites the header at once; a delete waits
for the barrier too. SQLite runs with 4 KiB pages on 4 KiB blocks, ``locking_mode =
EXCLUSIVE`` (one process; WAL keeps its index in memory) and ``synchronous = FULL``."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Protocol

import apsw
import attrs

from rcnlab.apps.files import Region, header
from rcnlab.errors import IOFailed


class BlockDevice(Protocol):
    """What the VFS needs of a block device (``session.block_device(volume)`` has it)."""

    @property
    def block_size(self) -> int: ...

    @property
    def blocks(self) -> int: ...

    def write(self, block: int, data: bytes) -> object: ...

    def flush(self) -> None: ...

    def read(self, block: int) -> bytes: ...


@attrs.define(eq=False)
class BlockStore:
    """One file on its region: its size, whether it exists, and the blocks it has written
    (a partial write completes its block from them)."""

    name: str
    region: Region
    device: BlockDevice
    exists: bool = False
    size: int = 0
    _written: dict[int, bytes] = attrs.field(factory=dict)
    _stale: bool = True  # the header on the volume does not say the size and existence yet

    @property
    def bs(self) -> int:
        return self.device.block_size

    def detach(self) -> None:
        """From now on every I/O fails (the application is gone)."""
        self.device = _Gone(block_size=self.device.block_size, blocks=self.device.blocks)

    def write_header(self) -> None:
        self.device.write(self.region.first, header(self.name, self.region, self.exists, self.size, self.bs))
        self._stale = False

    def create(self) -> None:
        if not self.exists:
            self.exists, self.size, self._stale = True, 0, True
            self._written.clear()

    def read(self, amount: int, offset: int) -> bytes:
        end = min(offset + amount, self.size)
        if offset >= end:
            return b""
        bs = self.bs
        first, last = offset // bs, (end - 1) // bs
        data = b"".join(self.device.read(self.region.first + 1 + b) for b in range(first, last + 1))
        return data[offset - first * bs:end - first * bs]

    def write(self, data: bytes, offset: int) -> None:
        bs, end = self.bs, offset + len(data)
        if end > self.region.capacity(bs):
            raise apsw.FullError(f"{self.name}: {end} bytes do not fit its region of {self.region.blocks} blocks")
        for b in range(offset // bs, (end - 1) // bs + 1):
            lo, hi = max(offset, b * bs), min(end, (b + 1) * bs)
            if hi - lo == bs:
                block = data[lo - offset:hi - offset]
            else:
                old = self._written.get(b)
                if old is None:
                    old = self._old_block(b)
                block = old[:lo - b * bs] + data[lo - offset:hi - offset] + old[hi - b * bs:]
            self._written[b] = block
            self.device.write(self.region.first + 1 + b, block)
        if end > self.size:
            self.size, self._stale = end, True

    def _old_block(self, b: int) -> bytes:
        if b * self.bs >= self.size:
            return bytes(self.bs)
        return self.device.read(self.region.first + 1 + b)

    def truncate(self, size: int) -> None:
        if size < self.size:
            self.size = size
            keep = -(-size // self.bs)
            self._written = {b: d for b, d in self._written.items() if b < keep}
            self.write_header()

    def sync(self) -> None:
        if self._stale:
            self.write_header()
        self.device.flush()

    def delete(self) -> None:
        self.exists, self.size = False, 0
        self._written.clear()
        self.write_header()
        self.device.flush()


@attrs.define
class _Gone:
    block_size: int
    blocks: int

    def write(self, block: int, data: bytes) -> None:
        raise IOFailed("the application has stopped")

    def flush(self) -> None:
        raise IOFailed("the application has stopped")

    def read(self, block: int) -> bytes:
        raise IOFailed("the application has stopped")


def _io(fn: Any) -> Any:
    """A device failure is SQLite's I/O error (the statement fails, the transaction with it)."""
    def wrapped(*args: Any) -> Any:
        try:
            return fn(*args)
        except IOFailed as exc:
            raise apsw.IOError(str(exc)) from exc
    return wrapped


class BlockFile:
    """SQLite's file object for one `BlockStore`."""

    def __init__(self, store: BlockStore) -> None:
        self.store = store

    @_io
    def xRead(self, amount: int, offset: int) -> bytes:
        return self.store.read(amount, offset)

    @_io
    def xWrite(self, data: bytes, offset: int) -> None:
        self.store.write(bytes(data), offset)

    @_io
    def xTruncate(self, newsize: int) -> None:
        self.store.truncate(newsize)

    @_io
    def xSync(self, flags: int) -> None:
        self.store.sync()

    def xFileSize(self) -> int:
        return self.store.size

    def xLock(self, level: int) -> None:
        pass

    def xUnlock(self, level: int) -> None:
        pass

    def xCheckReservedLock(self) -> bool:
        return False

    def xFileControl(self, op: int, ptr: int) -> bool:
        return False

    def xSectorSize(self) -> int:
        return self.store.bs

    def xDeviceCharacteristics(self) -> int:
        return 0

    def xClose(self) -> None:
        pass


class BlockVFS(apsw.VFS):
    """The files named in ``stores`` (by base name) on their regions; nothing else opens."""

    def __init__(self, name: str, stores: Mapping[str, BlockStore]) -> None:
        self.name, self.stores = name, dict(stores)
        super().__init__(name, base="")

    def _store(self, name: Any) -> BlockStore:
        key = (name.filename() if hasattr(name, "filename") else str(name)).rpartition("/")[2]
        store = self.stores.get(key)
        if store is None:
            raise apsw.CantOpenError(f"{key}: no region for this file (files: {', '.join(self.stores)})")
        return store

    @_io
    def xOpen(self, name: Any, flags: list[int]) -> BlockFile:
        if name is None:
            raise apsw.CantOpenError("temporary files are kept in memory (temp_store = MEMORY)")
        store = self._store(name)
        if flags[0] & apsw.SQLITE_OPEN_CREATE:
            store.create()
        elif not store.exists:
            raise apsw.CantOpenError(f"{store.name} does not exist")
        return BlockFile(store)

    @_io
    def xDelete(self, name: str, syncdir: bool) -> None:
        self._store(name).delete()

    def xAccess(self, name: str, flags: int) -> bool:
        key = name.rpartition("/")[2]
        return key in self.stores and self.stores[key].exists

    def xFullPathname(self, name: str) -> str:
        return "/" + name.rpartition("/")[2]

    def xRandomness(self, amount: int) -> bytes:
        return random.Random(0).randbytes(amount)

    def xSleep(self, microseconds: int) -> int:
        return 0

    def xCurrentTime(self) -> float:
        return 2440587.5

    def xCurrentTimeInt64(self) -> int:
        return 210866760000000

    def xGetLastError(self) -> tuple[int, str]:
        return 0, ""


class _Seed(apsw.VFS):
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        super().__init__("rcnlab-seed", base="", makedefault=True)

    def xRandomness(self, amount: int) -> bytes:
        return self.rng.randbytes(amount)


def reseed(seed: int) -> None:
    """Reseed SQLite's random numbers (journal nonces, WAL salts) from ``seed``: the same
    seed writes the same bytes."""
    seeder = _Seed(seed)
    apsw.randomness(0)  # reset: the next use reseeds from the default VFS, ours for now
    apsw.randomness(1)
    seeder.unregister()
