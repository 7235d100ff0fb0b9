"""Identifiers: WWNs (or IP addresses in the IP-attached variant), LUNs, FC PortIDs."""

from __future__ import annotations

import functools
import zlib

import attrs


@attrs.frozen(order=True, cache_hash=True)
class VolumeRef:
    """A volume as the FC side names it: storage WWN (or address) and LUN. Pair tables
    are keyed by them on every write's path, so the hash is computed once."""

    wwn: str
    lun: int

    def __str__(self) -> str:
        return f"{self.wwn}/{self.lun}"


@functools.cache
def port_id(wwn: str) -> int:
    """The 24-bit FC PortID a fabric assigns to a WWN (1411, 1412): a stable hash here."""
    return zlib.crc32(wwn.encode()) & 0xFFFFFF
