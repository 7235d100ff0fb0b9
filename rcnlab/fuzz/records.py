"""A campaign's records: one JSON line a seed, appended to a file as each result arrives,
so a campaign stopped half-way keeps what it found and ``--resume`` goes on from there.

A record holds the seed, what became of it (its ``kind``: ok, violation, exception,
budget, backstop, worker-died), the ``key`` failures are grouped by, its problem lines,
events, virtual and wall time, the campaign's parameters (``params``: what decides a
seed's result) and the build of rcnlab that ran it (``rcnlab``: version and a hash of
its source)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import attrs

from rcnlab.errors import BadInput

KINDS = ("ok", "violation", "exception", "budget", "backstop", "worker-died")


@attrs.frozen(kw_only=True)
class Params:
    """What decides a seed's record: two records of a seed with equal params agree."""

    break_rule: str | None = None
    faults: tuple[str, ...] = ()
    max_faults: int = 4
    budget_events: int | None = None
    digests: bool = False
    envelope: str = "wide"  # or "first" (rcnlab.fuzz.gen.random_case's ``widened``)

    def as_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "faults": list(self.faults)}


@functools.cache
def build() -> dict[str, str]:
    """This rcnlab's version and a hash of its source files."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    try:
        version = metadata.version("rcnlab")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        version = "unknown"
    return {"version": version, "source": digest.hexdigest()[:16]}


def kind_of(problems: Iterable[str]) -> str:
    first = next(iter(problems), None)
    if first is None:
        return "ok"
    for kind in ("exception", "budget", "backstop", "worker-died"):
        if first.startswith(kind):
            return kind
    return "violation"


_NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_WHERE = re.compile(r" \(at (.*):(\d+)\)$")


def key_of(problem: str) -> str:
    """The group of a failure: its first problem line with numbers (times, sequence
    numbers, device and volume numbers) made ``#``; an exception keeps the file (from
    the package folder on) and line where it was raised."""
    where = _WHERE.search(problem)
    text = _NUMBER.sub("#", problem[:where.start()] if where else problem)
    if where:
        parts = Path(where[1]).parts
        package = len(parts) - 1 - parts[::-1].index("rcnlab") if "rcnlab" in parts else len(parts) - 1
        text += f" (at {'/'.join(parts[package:])}:{where[2]})"
    return text


def record(seed: int, params: Params, problems: list[str], **fields: Any) -> dict[str, Any]:
    """A seed's record (``fields``: signature, events, virtual_time, steps, digest, seconds)."""
    return {"seed": seed, "kind": kind_of(problems), "key": key_of(problems[0]) if problems else "",
            "problems": problems, **fields, "params": params.as_json(), "rcnlab": build()}


def open_to_append(path: Path) -> TextIO:
    """``path`` opened to append records, less a last line cut short by a stopped campaign."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = path.open("a+b")
        f.seek(0)
        end = f.read().rfind(b"\n") + 1
        f.truncate(end)
        f.close()
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot write the records ({exc.strerror})") from None


def append(f: TextIO, rec: dict[str, Any]) -> None:
    f.write(json.dumps(rec) + "\n")
    f.flush()


def read(paths: Iterable[str | Path], params: Params) -> dict[int, dict[str, Any]]:
    """The records with ``params`` in these files, by seed (a seed recorded again: the
    later record). A line cut short by a stopped campaign is passed over; any other
    line that is not a record is an error naming file and line."""
    wanted = params.as_json()
    out: dict[int, dict[str, Any]] = {}
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise BadInput(f"{path}: cannot read the records ({exc.strerror})") from None
        for n, line in enumerate(lines, start=1):
            try:
                rec = json.loads(line)
                seed, kind = rec["seed"], rec["kind"]
            except (ValueError, KeyError, TypeError):
                if n == len(lines):
                    continue
                raise BadInput(f"{path}:{n}: not a fuzz record") from None
            if rec.get("params") == wanted and isinstance(seed, int) and kind in KINDS:
                out[seed] = rec
    return out
