"""Field kinds and range rules shared by the file specs and the operator's commands.

A field's *type* says what the file must hold (an integer, a name, a WWN: the reader's
hooks check it); a field's *validator* says which values can run (a range, with the
reason). Both raise `Bad`; the reader adds the file and the key path.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from typing import Any, NewType

import attrs

#: A device, customer or link-end name: letters, digits, '_' and '.'.
Name = NewType("Name", str)
#: A non-empty string.
Text = NewType("Text", str)
#: A World Wide Name, 8 colon-separated hex bytes, kept in lower case.
Wwn = NewType("Wwn", str)
#: An IPv4 address, kept in its canonical spelling.
Ipv4 = NewType("Ipv4", str)
#: A map position [x, y], both whole numbers >= 0.
Pos = NewType("Pos", tuple)

_NAME = re.compile(r"[A-Za-z0-9_.]+")
_WWN = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){7}")


class Bad(ValueError):
    """One value that cannot be used. ``key`` (relative, e.g. "latency_ms") when the
    raiser knows the field better than the reader does."""

    def __init__(self, problem: str, key: str = "") -> None:
        super().__init__(problem)
        self.problem, self.key = " ".join(problem.split()), key


def type_name(value: Any) -> str:
    """'string \\'lots\\'', 'boolean True': what a wrong value is, for messages."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}
    shown = repr(value)
    return f"{names.get(type(value), type(value).__name__)} {shown if len(shown) <= 40 else shown[:37] + '...'}"


# -- type checks: each returns the clean value or raises Bad -----------------------------------
def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Bad(f"expected an integer, got {type_name(value)}")
    return value


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad(f"expected a number, got {type_name(value)}")
    if not math.isfinite(value):
        raise Bad(f"expected a finite number, got {value!r}")
    return float(value)


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise Bad(f"expected a string, got {type_name(value)}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Bad(f"expected true or false, got {type_name(value)}")
    return value


def text(value: Any) -> str:
    if not string(value).strip():
        raise Bad("expected a non-empty string")
    return value


def name(value: Any) -> str:
    if not _NAME.fullmatch(string(value)):
        raise Bad(f"invalid name {value!r} (letters, digits, '_' and '.' only)")
    return value


def wwn(value: Any) -> str:
    lower = string(value).lower()
    if not _WWN.fullmatch(lower):
        raise Bad(f"invalid WWN {value!r} (expected 8 colon-separated hex bytes)")
    return lower


def ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(string(value)))
    except ipaddress.AddressValueError:
        raise Bad(f"invalid IPv4 address {value!r}") from None


def pos(value: Any) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2):
        raise Bad(f"expected [x, y], got {type_name(value)}")
    x, y = (integer(v) for v in value)
    if x < 0 or y < 0:
        raise Bad(f"expected non-negative [x, y], got {value!r}")
    return x, y


#: The reader's hook for each field kind above.
CHECKS: dict[Any, Callable[[Any], Any]] = {
    int: integer, float: number, str: string, bool: boolean,
    Name: name, Text: text, Wwn: wwn, Ipv4: ipv4, Pos: pos,
}


# -- range rules: attrs validators ---------------------------------------------------------------
def bounded(low: float | None = None, high: float | None = None, *, above: bool = False,
            why: str = "") -> Callable[[Any, attrs.Attribute, Any], None]:
    """``low <= value`` (``low < value`` if ``above``) and ``value <= high``; ``why`` says
    what the upper bound stands for. None passes (an optional key left out)."""

    def check(_: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None:
            return
        if low is not None and (value < low or (above and value == low)):
            bound = f"be > {low:g}" if above else "not be negative" if low == 0 else f"be >= {low:g}"
            raise Bad(f"must {bound}, got {value!r}", attribute.name)
        if high is not None and value > high:
            raise Bad(f"must be <= {high:g}{f' ({why})' if why else ''}, got {value!r}", attribute.name)

    return check


def power_of_two(low: int, high: int) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_: Any, attribute: attrs.Attribute, value: int) -> None:
        if not (low <= value <= high and value & (value - 1) == 0):
            raise Bad(f"must be a power of two from {low} to {high}, got {value}", attribute.name)

    return check


def non_empty(_: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not value:
        raise Bad(f"expected at least one entry (or leave {attribute.name} out)", attribute.name)
