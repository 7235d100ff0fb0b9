"""Field kinds and range rules shared by the file specs and the operator's commands.

A field's *type* says what the file must hold (an integer, a name, a WWN: the reader's
hooks check it); a field's *validator* says which values can run (a range, with the
reason). Both raise `Bad`; the reader adds the file and the key path.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Sized
from typing import Any, NewType

import attrs

from rcnlab.catalogue import CATALOGUE
from rcnlab.model.pair_state import PairState

#: A device, customer or link-end name: letters, digits, '_' and '.'.
Name = NewType("Name", str)
#: A non-empty string.
Text = NewType("Text", str)
#: A World Wide Name, 8 colon-separated hex bytes, kept in lower case.
Wwn = NewType("Wwn", str)
#: An IPv4 address, kept in its canonical spelling.
Ipv4 = NewType("Ipv4", str)
#: A map position [x, y], both whole numbers >= 0.
Pos = NewType("Pos", tuple[int, int])
#: A pair state's name, e.g. "Duplex".
State = NewType("State", str)
#: A step tag of the catalogue (rcnlab/catalogue.py), e.g. "fig19:1902".
Tag = NewType("Tag", str)
#: [min, max], two numbers with min <= max, kept as (float, float).
Span = NewType("Span", tuple[float, float])
#: A whole number >= 0, or a `Span`.
CountOrSpan = NewType("CountOrSpan", object)
#: A number (kept as float), a string, a boolean, or a `Span`.
Bound = NewType("Bound", object)
#: true or false, or the text a refusal must contain.
Refusal = NewType("Refusal", object)

_NAME = re.compile(r"[A-Za-z0-9_.]+")
_WWN = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){7}")
_TAG = re.compile(r"^fig(\d+):(\d+)$")


class Bad(ValueError):
    """One value that cannot be used. ``key`` (relative, e.g. "latency_ms") when the
    raiser knows the field better than the reader does."""

    def __init__(self, problem: str, key: str = "") -> None:
        super().__init__(problem)
        self.problem, self.key = " ".join(problem.split()), key


def type_name(value: object) -> str:
    """'string \\'lots\\'', 'boolean True': what a wrong value is, for messages."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}
    shown = repr(value)
    return f"{names.get(type(value), type(value).__name__)} {shown if len(shown) <= 40 else shown[:37] + '...'}"


# -- type checks: each returns the clean value or raises Bad -----------------------------------
def integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Bad(f"expected an integer, got {type_name(value)}")
    return value


def number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad(f"expected a number, got {type_name(value)}")
    if not math.isfinite(value):
        raise Bad(f"expected a finite number, got {value!r}")
    return float(value)


def string(value: object) -> str:
    if not isinstance(value, str):
        raise Bad(f"expected a string, got {type_name(value)}")
    return value


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Bad(f"expected true or false, got {type_name(value)}")
    return value


def text(value: object) -> str:
    if not (clean := string(value)).strip():
        raise Bad("expected a non-empty string")
    return clean


def name(value: object) -> str:
    if not _NAME.fullmatch(clean := string(value)):
        raise Bad(f"invalid name {value!r} (letters, digits, '_' and '.' only)")
    return clean


def wwn(value: object) -> str:
    lower = string(value).lower()
    if not _WWN.fullmatch(lower):
        raise Bad(f"invalid WWN {value!r} (expected 8 colon-separated hex bytes)")
    return lower


def ipv4(value: object) -> str:
    try:
        return str(ipaddress.IPv4Address(string(value)))
    except ipaddress.AddressValueError:
        raise Bad(f"invalid IPv4 address {value!r}") from None


def pos(value: object) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2):
        raise Bad(f"expected [x, y], got {type_name(value)}")
    x, y = (integer(v) for v in value)
    if x < 0 or y < 0:
        raise Bad(f"expected non-negative [x, y], got {value!r}")
    return x, y


def state(value: object) -> str:
    if value not in {s.value for s in PairState}:
        raise Bad(f"unknown state {value!r} (known: {', '.join(s.value for s in PairState)})")
    return string(value)


def tag(value: object) -> str:
    found = _TAG.match(value) if isinstance(value, str) else None
    if found is None:
        raise Bad(f"expected a step tag like \"fig19:1902\", got {value!r}")
    if int(found[2]) not in CATALOGUE.get(f"fig{found[1]}", ()):
        raise Bad(f"{value!r} is not a step of the catalogue (rcnlab/catalogue.py)")
    return found.string


def span(value: object) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise Bad(f"expected [min, max], got {type_name(value)}")
    low, high = number(value[0]), number(value[1])
    if low > high:
        raise Bad(f"min {low:g} is above max {high:g}")
    return low, high


def count_or_span(value: object) -> int | tuple[float, float]:
    if isinstance(value, list):
        return span(value)
    if (count := integer(value)) < 0:
        raise Bad(f"expected a whole number >= 0 or [min, max], got {value!r}")
    return count


def bound(value: object) -> Any:
    return span(value) if isinstance(value, list) else value if isinstance(value, str | bool) else number(value)


def refusal(value: object) -> str | bool:
    if isinstance(value, bool) or (isinstance(value, str) and value):
        return value
    raise Bad(f"expected true or the text the refusal must contain, got {type_name(value)}")


#: The reader's hook for each field kind above.
CHECKS: dict[Any, Callable[[Any], Any]] = {
    int: integer, float: number, str: string, bool: boolean,
    Name: name, Text: text, Wwn: wwn, Ipv4: ipv4, Pos: pos,
    State: state, Tag: tag, Span: span, CountOrSpan: count_or_span, Bound: bound, Refusal: refusal,
}


# -- range rules: attrs validators ---------------------------------------------------------------
def bounded(low: float | None = None, high: float | None = None, *, above: bool = False,
            why: str = "") -> Callable[[object, attrs.Attribute[Any], float | None], None]:
    """``low <= value`` (``low < value`` if ``above``) and ``value <= high``; ``why`` says
    what the upper bound stands for. None passes (an optional key left out)."""

    def check(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
        if value is None:
            return
        if low is not None and (value < low or (above and value == low)):
            bound = f"be > {low:g}" if above else "not be negative" if low == 0 else f"be >= {low:g}"
            raise Bad(f"must {bound}, got {value!r}", attribute.name)
        if high is not None and value > high:
            raise Bad(f"must be <= {high:g}{f' ({why})' if why else ''}, got {value!r}", attribute.name)

    return check


def power_of_two(low: int, high: int) -> Callable[[object, attrs.Attribute[Any], int], None]:
    def check(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if not (low <= value <= high and value & (value - 1) == 0):
            raise Bad(f"must be a power of two from {low} to {high}, got {value}", attribute.name)

    return check


def non_empty(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not value:
        raise Bad(f"expected at least one entry (or leave {attribute.name} out)", attribute.name)


def two_or_more(_: object, attribute: attrs.Attribute[Any], value: Sized | None) -> None:
    if value is not None and len(value) < 2:
        raise Bad(f"expected at least two entries, got {len(value)}", attribute.name)
