"""The topologies, scenarios and walkthroughs that ship with rcnlab, found by name from anywhere.

They are the repository's ``topologies/`` folder: topologies at its top, scenarios in
``scenarios/``, walkthroughs in ``walkthroughs/``. The package reaches it as its data
``rcnlab/topologies`` (a link to ``../topologies`` in a checkout, a copy in an install),
read through importlib.resources. A bare name such as ``fig1`` means the shipped file
``fig1.toml`` of its kind; anything with a ``/`` or a ``.toml`` suffix is a path.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Literal

Kind = Literal["topology", "scenario", "walkthrough"]
#: Each kind's folder inside ``topologies/``.
FOLDERS: dict[Kind, str] = {"topology": ".", "scenario": "scenarios", "walkthrough": "walkthroughs"}


def folder(kind: Kind) -> Path:
    """Where the shipped files of ``kind`` are. A real path (walkthroughs name their topology
    relative to their own file), resolved, so a checkout shows ``topologies/...``."""
    return Path(str(files("rcnlab").joinpath("topologies", FOLDERS[kind]))).resolve()


def available(kind: Kind) -> list[Path]:
    """Every shipped file of ``kind``, by name."""
    return sorted(folder(kind).glob("*.toml"))


def is_name(text: str) -> bool:
    """A bare name (``fig1``), not a path (``fig1.toml``, ``./x``, ``a/b``)."""
    return not text.endswith(".toml") and "/" not in text and os.sep not in text


def find(kind: Kind, name: str) -> Path:
    """The shipped file of ``kind`` called ``name``; else ``name`` taken as a path."""
    shipped = folder(kind) / f"{name}.toml"
    return shipped if is_name(name) and shipped.is_file() else Path(name)


def unknown(kind: Kind, name: str) -> str:
    """The one line for a name that is neither shipped nor a file."""
    known = ", ".join(p.stem for p in available(kind)) or "none"
    return f"no {kind} {name!r} (known: {known}; or give a path to a .toml file)"
