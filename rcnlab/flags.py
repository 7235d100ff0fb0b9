"""The command line's flags, checked as they are parsed, for every subcommand alike.

A bad flag is one line on stderr, ``rcnlab: run --rate: expected a finite number >= 0,
got '-1'``, and exit status 2: never a traceback, a usage screen, or a run that
cannot end. ``Parser`` makes argparse's own errors that one line; the ``type=``
functions here refuse values a run cannot use (nan, inf, negative, out of range) and
turn a shipped name (``fig1``, ``fig1-basic``) into its file.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from rcnlab import shipped
from rcnlab.errors import BadInput


class Parser(argparse.ArgumentParser):
    """argparse with each error raised as BadInput, one line naming the command and flag:
    ``argument --rate: ...`` of ``rcnlab run`` becomes ``run --rate: ...``."""

    def error(self, message: str) -> NoReturn:
        flag = re.match(r"argument ([^:]+): (.*)", message, re.DOTALL)
        where = " ".join(filter(None, (self.prog.partition(" ")[2], flag and flag[1])))
        problem = " ".join((flag[2] if flag else message).split())
        raise BadInput(f"{where}: {problem}" if where else problem)


def _refuse(expected: str, text: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")


def non_negative(text: str) -> float:
    """A finite number >= 0 (a virtual time, a pace)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise _refuse("a finite number >= 0", text)
    return value


#: The slowest pace of a run (virtual seconds per wall second): below it, a run of seconds takes days.
MIN_PACE = 0.001


def pace(text: str) -> float:
    """0 (as fast as possible), or a pace of at least MIN_PACE virtual seconds per wall second."""
    value = non_negative(text)
    if 0 < value < MIN_PACE:
        raise _refuse(f"0 or a pace of at least {MIN_PACE}", text)
    return value


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` up to ``high`` (no limit: None)."""
    expected = f"a whole number >= {low}" if high is None else f"a whole number from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise _refuse(expected, text) from None
        if value < low or (high is not None and value > high):
            raise _refuse(expected, text)
        return value

    return parse


#: A random seed: any whole number >= 0.
seed = whole(0)


def output(text: str) -> str:
    """A file to write, in a folder that exists (checked before a long run, not after)."""
    path = Path(text)
    if not text or path.is_dir():
        raise _refuse("a file name", text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no folder {str(path.parent)!r} to write in")
    return text


def folder(text: str) -> str:
    """A folder to write in, made when missing: not a file."""
    if not text or (Path(text).exists() and not Path(text).is_dir()):
        raise _refuse("a folder", text)
    return text


def named(kind: shipped.Kind) -> Callable[[str], str]:
    """A shipped file's name (``fig1``) or a path; a bare name that is neither is refused,
    with the known names. A path is left for its reader, whose errors name file and key."""

    def parse(text: str) -> str:
        path = shipped.find(kind, text)
        if shipped.is_name(text) and not path.is_file():
            raise argparse.ArgumentTypeError(shipped.unknown(kind, text))
        return str(path)

    return parse
