"""The reader: TOML text -> attrs specs, every problem one `FormatError`.

`structure` hands the parsed TOML to a cattrs converter whose hooks are strict (an
integer is an int, never a bool or a float; a number is finite; a table is a table)
and whose attrs classes refuse unknown keys; the first problem in field order becomes
``FILE: key.path: problem``, the key path spelt as in the file with 0-based indices
(``link[2].latency_ms``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn, override

from rcnlab.formats.fields import CHECKS, Bad, string, type_name

T = TypeVar("T")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class FormatError(Exception):
    """An input file that cannot be used; str() is ``FILE: KEY: problem`` on one line."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, " ".join(problem.split())
        super().__init__(f"{path}: {key}: {self.problem}")


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, "file", f"cannot read ({exc.__class__.__name__}: {exc})") from None


def parse_toml(text: str, path: str) -> dict[str, Any]:
    """TOML ``text``; a syntax error is reported at ``line N``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if found:
            line, detail = found[1], f"{message[: found.start()].strip()}, column {found[2]}"
        else:  # "(at end of document)"
            line, detail = str(max(1, len(text.splitlines()))), message
        raise FormatError(path, f"line {line}", f"invalid TOML ({detail})") from None


def structure(data: object, cls: type[T], path: str, key: str = "") -> T:
    """``data`` (parsed TOML found at ``key``) as a ``cls``, or `FormatError`."""
    try:
        return _converter.structure(data, cls)
    except Exception as exc:  # noqa: BLE001 - every problem is located, or re-raised as a bug
        where, problem = _locate(exc, key)
        raise FormatError(path, where, problem) from None


def _key_path(key: str, child: str) -> str:
    """``link[2]`` + ``latency_ms`` -> ``link[2].latency_ms`` (``child`` may start with '[')."""
    if not key or child.startswith("["):
        return key + child
    return f"{key}.{child}" if child else key


class _At(Exception):
    """A problem inside an array element or a table entry the reader's own hooks walk."""

    def __init__(self, child: str, error: BaseException) -> None:
        super().__init__(child)
        self.child, self.error = child, error


def _locate(exc: BaseException, key: str) -> tuple[str, str]:
    while True:
        if isinstance(exc, cattrs.ClassValidationError):
            noted, plain = exc.group_exceptions()
            extra = [e for e in plain if isinstance(e, ForbiddenExtraKeysError)]
            if extra or not noted:  # a misspelt key first: it explains the missing one
                exc = (extra or plain)[0]
            else:
                exc, note = noted[0]
                key = _key_path(key, note.name)
        elif isinstance(exc, _At):
            key, exc = _key_path(key, exc.child), exc.error
        else:
            break
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = ", ".join(a.name for a in attrs.fields(exc.cl) if not a.metadata.get("derived")) or "none"
        kind = getattr(exc.cl, "kind", None)  # a command's step kind
        problem = f"unknown key{f' for {kind!r}' if kind else ''} (allowed: {allowed})"
        return _key_path(key, sorted(exc.extra_fields)[0]), problem
    if isinstance(exc, KeyError):
        return key, "missing required key"
    if isinstance(exc, Bad):
        return _key_path(key, exc.key), exc.problem
    raise exc


def _entry_key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else f'"{k}"'


#: A cattrs structure hook: (raw value, wanted type) -> the value as that type.
Hook = Callable[[object, type], Any]


def _table_hook(cls: type) -> Hook:
    """An attrs class from a table; a field with ``metadata={"derived": True}`` is not a
    key of the file (the reader's caller sets it)."""
    derived = {a.name: override(omit=True) for a in attrs.fields(cls) if a.metadata.get("derived")}
    # (cattrs types **overrides as if they could name its own keyword arguments)
    inner: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, _converter, **derived)  # type: ignore[arg-type]

    def hook(value: object, _: type) -> Any:
        if not isinstance(value, dict):
            raise Bad(f"expected a table, got {type_name(value)}")
        return inner(value, cls)

    return hook


def _array_hook(t: Any) -> Hook:
    origin, args = get_origin(t), get_args(t)
    item = args[0]
    many = "tables" if attrs.has(item) or get_origin(item) is dict else "values"

    def hook(value: object, _: type) -> Any:
        if not isinstance(value, list):
            raise Bad(f"expected an array of {many}, got {type_name(value)}")
        out = []
        for i, x in enumerate(value):
            try:
                out.append(_converter.structure(x, item))
            except Exception as exc:  # noqa: BLE001 - located by _locate
                raise _At(f"[{i}]", exc) from None
        return origin(out)

    return hook


def _map_hook(t: Any) -> Hook:
    key_kind, item = get_args(t)

    def hook(value: object, _: type) -> Any:
        if not isinstance(value, dict):
            raise Bad(f"expected a table, got {type_name(value)}")
        out = {}
        for k, x in value.items():
            try:
                out[_converter.structure(k, key_kind)] = _converter.structure(x, item)
            except Exception as exc:  # noqa: BLE001 - located by _locate
                raise _At(_entry_key(k), exc) from None
        return out

    return hook


def _choice(value: object, cls: type[StrEnum]) -> StrEnum:
    values = [m.value for m in cls]
    if string(value) not in values:
        raise Bad(f"expected one of {', '.join(values)}, got {value!r}")
    return cls(string(value))


def _is_array(t: Any) -> bool:
    args = get_args(t)
    return get_origin(t) is list or (get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis)


_converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _hook(check: Callable[[Any], Any]) -> Hook:
    return lambda value, _: check(value)


def _is_map(t: Any) -> bool:
    return get_origin(t) is dict


for _kind, _check in CHECKS.items():
    _converter.register_structure_hook(_kind, _hook(_check))
_converter.register_structure_hook(StrEnum, _choice)  # a StrEnum is a str: the nearer class wins
_converter.register_structure_hook_factory(_is_array, _array_hook)
_converter.register_structure_hook_factory(_is_map, _map_hook)
_converter.register_structure_hook_factory(attrs.has, _table_hook)
