"""Golden traces: the same topology, scenario and seed give the same trace, byte for byte.

``golden_traces.txt`` holds the sha256 of the ``--trace`` output of every shipped
scenario on its topology for seeds 0-4, of every shipped walkthrough, and of fuzz
seeds 0-499 (``rcnlab fuzz --digests``). Code may move freely under it; a change
that alters behaviour rewrites the list on purpose and says why in its commit::

    python tests/test_golden_traces.py --write
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import TOPOLOGIES  # noqa: E402

from rcnlab.cli import main  # noqa: E402

GOLDEN = Path(__file__).with_name("golden_traces.txt")
SEEDS = range(5)
FUZZ_SEEDS = 500
#: The topology each shipped scenario is written for (fig1 unless named here).
SCENARIO_TOPOLOGY = {"fig2-basic": "fig2", "ip-basic": "ip"}


def _quiet(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SCENARIOS = sorted((TOPOLOGIES / "scenarios").glob("*.toml"))


def scenario_digests(tmp: Path, scenarios: list[Path] = SCENARIOS) -> dict[str, str]:
    out = {}
    for scen in scenarios:
        topo = TOPOLOGIES / f"{SCENARIO_TOPOLOGY.get(scen.stem, 'fig1')}.toml"
        for seed in SEEDS:
            trace = tmp / f"{scen.stem}-{seed}.jsonl"
            code = _quiet(["run", str(topo), "--scenario", str(scen), "--seed", str(seed), "--json",
                           "--trace", str(trace)])
            out[f"scenario {scen.stem} {seed}"] = f"{code} {_sha(trace)}"
    return out


def walkthrough_digests(tmp: Path) -> dict[str, str]:
    out = {}
    for wt in sorted((TOPOLOGIES / "walkthroughs").glob("*.toml")):
        trace = tmp / f"{wt.stem}.jsonl"
        code = _quiet(["walkthrough", str(wt), "--auto", "--trace", str(trace)])
        out[f"walkthrough {wt.stem} -"] = f"{code} {_sha(trace)}"
    return out


def fuzz_digests(tmp: Path) -> dict[str, str]:
    listing = tmp / "fuzz-digests.txt"
    _quiet(["fuzz", "--seeds", str(FUZZ_SEEDS), "--jobs", "2", "--quiet", "--out", str(tmp / "failures"),
            "--digests", str(listing)])
    return {f"fuzz - {seed}": digest for seed, digest in (line.split() for line in listing.read_text().splitlines())}


def read_golden() -> dict[str, str]:
    rows = {}
    for line in GOLDEN.read_text().splitlines():
        if line and not line.startswith("#"):
            kind, name, seed, value = line.split(" ", 3)
            rows[f"{kind} {name} {seed}"] = value
    return rows


def _compare(kind: str, have: dict[str, str]) -> None:
    want = {k: v for k, v in read_golden().items() if k.startswith(kind + " ")}
    assert want, f"no {kind} rows in {GOLDEN.name}"
    changed = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    assert not changed, f"{len(changed)} {kind} traces changed, first: {changed[:5]}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_trace_as_recorded(tmp_path, scenario):
    _compare(f"scenario {scenario.stem}", scenario_digests(tmp_path, [scenario]))


def test_walkthroughs_trace_as_recorded(tmp_path):
    _compare("walkthrough", walkthrough_digests(tmp_path))


def test_fuzz_seeds_trace_as_recorded(tmp_path):
    _compare("fuzz", fuzz_digests(tmp_path))


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_golden_traces.py --write")
    with tempfile.TemporaryDirectory() as d:
        rows = {**scenario_digests(Path(d)), **walkthrough_digests(Path(d)), **fuzz_digests(Path(d))}
    GOLDEN.write_text("# kind name seed [exit-status] sha256 of the --trace output; see test_golden_traces.py\n"
                      + "".join(f"{k} {v}\n" for k, v in rows.items()))
    print(f"wrote {len(rows)} digests to {GOLDEN}")
