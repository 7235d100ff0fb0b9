"""Identifiers: WWNs (or IP addresses in the IP-attached variant), LUNs, FC PortIDs."""

from __future__ import annotations

import zlib

import attrs


@attrs.frozen(order=True)
class VolumeRef:
    """A volume as the FC side names it: storage WWN (or address) and LUN."""

    wwn: str
    lun: int

    def __str__(self) -> str:
        return f"{self.wwn}/{self.lun}"


def port_id(wwn: str) -> int:
    """The 24-bit FC PortID a fabric assigns to a WWN (1411, 1412): a stable hash here."""
    return zlib.crc32(wwn.encode()) & 0xFFFFFF
