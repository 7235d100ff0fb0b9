"""Remote copy I/O requests (RIO): what storage and edges say to each other over FC.

The same kinds travel inside log entries 211 between edges (RIO area 805), and as
SCSI commands between a host and its storage.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

import attrs

from rcnlab.model.ids import VolumeRef
from rcnlab.model.kinds import ScsiStatus

RIO_HEADER_BYTES = 64


class RioKind(enum.Enum):
    WR = "WR"  # write (1602)
    WROK = "WROK"  # write complete (1603, 1608)
    PAIR_CREATE = "pair-create"  # 1002
    ICOK = "ICOK"  # Initial-Copying transition complete (1006)
    DUPLEX = "Duplex-transition"  # 1101
    DOK = "DOK"  # Duplex transition complete (1105)
    RESYNC = "resynchronize"  # 1202
    DPOK = "DPOK"  # Duplex-Pending transition complete, carries bitmap 1213/1209 (1206, 1210)
    SUSPEND = "Suspend"  # Suspend instruction (910, 1303; 908 when ``failure``)
    SOK = "SOK"  # Suspend transition complete (1304 C, 1310)
    DELETE = "delete"  # pair delete (back to Simplex)
    DELOK = "DELOK"  # pair delete complete
    READ = "READ"  # SCSI READ from a host (beyond the patent); its answer carries the block's data
    # Not in the patent: the target edge tells the source edge that a resent entry is
    # kept in its 413, queued behind others (``seq`` 0), or refused for now as beyond its
    # reorder window (``seq`` = that window): it is not lost (flow control).
    RECEIPT = "receipt"

    def __str__(self) -> str:
        return self._value_  # (.value is a Python-level descriptor; this is a plain attribute)

    # Kinds are dict keys on every message's path; identity hashing is a C call where
    # Enum's own __hash__ (hash of the name) is a Python one. (Set iteration order of
    # kinds was never fixed: str hashes vary per process.)
    __hash__ = object.__hash__


#: The answer each request kind expects.
REPLY = {
    RioKind.WR: RioKind.WROK,
    RioKind.PAIR_CREATE: RioKind.ICOK,
    RioKind.DUPLEX: RioKind.DOK,
    RioKind.RESYNC: RioKind.DPOK,
    RioKind.SUSPEND: RioKind.SOK,
    RioKind.DELETE: RioKind.DELOK,
}
REPLIES = frozenset(REPLY.values())


class RioMore(NamedTuple):
    """The fields of a RIO that few requests use. A Rio keeps them in one tuple, or
    none at all (a host's or a log entry's WR needs none of them)."""

    bitmap: frozenset[int] = frozenset()  # DPOK: differential bitmap 1213 / 1209
    mode: str = ""  # PAIR_CREATE: "sync" or "async"
    order_id: int = 0  # PAIR_CREATE with method B: the operator's order assurance ID
    failure: bool = False  # SUSPEND/SOK: go to failure Suspend rather than Suspend
    copy: bool = False  # WR: part of an initial or differential copy (1013), not a host write
    swap: bool = False  # RESYNC: failback, the pair's direction is reversed
    full: bool = False  # SUSPEND failure: the edge lost its log (volatile 413): mark every written block
    xid: int = 0  # FC exchange ID (other headers 1413): matches a WROK to its WR at the source storage
    seq: int = 0  # set by the target edge when it turns a log entry back into a RIO (2004)
    error: str = ""  # a reply that refuses the request (access control 405, illegal state)


NO_BLOCKS: frozenset[int] = frozenset()  # an empty differential bitmap, shared
_tuple_new = tuple.__new__
_set = object.__setattr__


@attrs.frozen(kw_only=True, slots=True, weakref_slot=False, init=False)
class Rio:
    """A remote copy I/O request.

    ``source`` and ``target`` name the pair: the source volume (113) and the
    target volume (123) as the sender addresses them. A WR carries ``block`` and
    ``data``; every other field (see RioMore: bitmap 1213/1209, mode, order
    assurance ID, failure, copy 1013, swap, full, FC exchange ID 1413, sequence
    number 2004, error) is read as an attribute like these and kept in ``more``
    only when one of them is set, so a held write costs little (413).

    ``Rio(kind=..., source=..., target=..., xid=7)`` builds one as before;
    ``attrs.evolve`` works too, but can only set those fields, not clear them.
    """

    kind: RioKind
    source: VolumeRef
    target: VolumeRef
    block: int = -1
    data: bytes = b""
    more: RioMore | None = None

    def __init__(self, *, kind: RioKind, source: VolumeRef, target: VolumeRef, block: int = -1, data: bytes = b"",
                 bitmap: frozenset[int] = NO_BLOCKS, mode: str = "", order_id: int = 0, failure: bool = False,
                 copy: bool = False, swap: bool = False, full: bool = False, xid: int = 0, seq: int = 0,
                 error: str = "", more: RioMore | None = None) -> None:
        # frozen: set the slots as attrs' own __init__ does
        _set(self, "kind", kind)
        _set(self, "source", source)
        _set(self, "target", target)
        _set(self, "block", block)
        _set(self, "data", data)
        if xid or seq or order_id or copy or bitmap or mode or failure or swap or full or error:
            if more is None:
                more = _tuple_new(RioMore, (bitmap, mode, order_id, failure, copy, swap, full, xid, seq, error))
            else:  # attrs.evolve: the fields given on top of the ones kept
                given: dict[str, Any] = {k: v for k, v in (
                    ("bitmap", bitmap), ("mode", mode), ("order_id", order_id), ("failure", failure), ("copy", copy),
                    ("swap", swap), ("full", full), ("xid", xid), ("seq", seq), ("error", error)) if v}
                more = more._replace(**given)
        _set(self, "more", more)

    @property
    def bitmap(self) -> frozenset[int]:
        m = self.more
        return NO_BLOCKS if m is None else m.bitmap

    @property
    def mode(self) -> str:
        m = self.more
        return "" if m is None else m.mode

    @property
    def order_id(self) -> int:
        m = self.more
        return 0 if m is None else m.order_id

    @property
    def failure(self) -> bool:
        m = self.more
        return False if m is None else m.failure

    @property
    def copy(self) -> bool:
        m = self.more
        return False if m is None else m.copy

    @property
    def swap(self) -> bool:
        m = self.more
        return False if m is None else m.swap

    @property
    def full(self) -> bool:
        m = self.more
        return False if m is None else m.full

    @property
    def xid(self) -> int:
        m = self.more
        return 0 if m is None else m.xid

    @property
    def seq(self) -> int:
        m = self.more
        return 0 if m is None else m.seq

    @property
    def error(self) -> str:
        m = self.more
        return "" if m is None else m.error

    @property
    def size(self) -> int:
        m = self.more
        if m is None or not m.bitmap:
            return RIO_HEADER_BYTES + len(self.data)
        return RIO_HEADER_BYTES + len(self.data) + 8 * len(m.bitmap)


@attrs.frozen(kw_only=True, slots=True)
class ScsiCommand:
    """A SCSI command between a host and its storage (1001, 1201, 1302, 1601), or the
    storage's answer (``status`` "ok" or "error", with ``detail``)."""

    tag: int
    rio: Rio
    status: ScsiStatus = ScsiStatus.NONE
    detail: str = ""

    @property
    def kind(self) -> RioKind:
        return self.rio.kind

    @property
    def size(self) -> int:
        return self.rio.size
