"""Seed campaigns (issue 16): one runner over a local process pool or a Dask cluster,
records appended as seeds finish, resume and merge, a deterministic event budget and a
wall-clock backstop, failures grouped before shrinking."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import sys

import pytest

from rcnlab.cli import main
from rcnlab.fuzz import runner
from rcnlab.fuzz.gen import random_case, run_case
from rcnlab.fuzz.limits import Limits
from rcnlab.fuzz.records import Params
from rcnlab.fuzz.work import Job, run_seeds

RULE = ["--break-rule", "reflect-out-of-order"]


def dask_cluster() -> str:
    """The in-process Dask cluster's flag, or skip: Dask is the optional extra rcnlab[cluster]."""
    pytest.importorskip("distributed", reason="Dask is not installed (pip install -e '.[cluster]'); .ci/run has it")
    return "local:2"


def fuzz(*argv: str) -> int:
    """The campaign CLI over the first envelope, whose seeds run clean with the rules kept:
    these tests are about running seeds, not about what the widened labs still find."""
    return main(["fuzz", "--quiet", "--envelope", "first", *argv])


def records(path) -> dict[int, dict]:
    return {r["seed"]: r for r in map(json.loads, path.read_text().splitlines())}


def saved(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.toml"))}


def test_the_same_campaign_saves_the_same_files_on_the_local_pool_and_on_dask(tmp_path, capsys):
    cluster = dask_cluster()
    common = ["--seeds", "16", "--jobs", "2", *RULE]
    assert fuzz(*common, "--out", str(tmp_path / "pool")) == 1
    assert fuzz(*common, "--cluster", cluster, "--out", str(tmp_path / "dask")) == 1
    out = capsys.readouterr().out
    assert "on 2 processes" in out and "on a local Dask cluster of 2 workers" in out
    pool, dask = saved(tmp_path / "pool"), saved(tmp_path / "dask")
    assert pool and pool == dask
    unstable = ("seconds",)
    assert ({s: {k: v for k, v in r.items() if k not in unstable} for s, r in records(tmp_path / "pool/records.jsonl").items()}
            == {s: {k: v for k, v in r.items() if k not in unstable} for s, r in records(tmp_path / "dask/records.jsonl").items()})


@pytest.mark.parametrize("cluster", [None, "dask"])
def test_a_seed_that_kills_its_worker_is_recorded_and_the_campaign_goes_on(tmp_path, capsys, cluster):
    where = ["--cluster", dask_cluster()] if cluster else []
    assert fuzz("--seeds", "12", "--jobs", "2", "--kill-on-seed", "5", "--out", str(tmp_path), *where) == 1
    got = records(tmp_path / "records.jsonl")
    assert sorted(got) == list(range(12))
    assert got[5]["kind"] == "worker-died" and "died each of the 2 times" in got[5]["problems"][0]
    assert all(r["kind"] == "ok" for s, r in got.items() if s != 5)
    out = capsys.readouterr().out
    assert re.search(r"^group 1 of 1: 1 seed, first seed 5: worker-died", out, re.MULTILINE), out
    assert "seed 5: worker-died" in out and "(worker-died 1)" in out
    assert (tmp_path / "seed-5.scenario.toml").is_file()  # what killed it, to replay


def test_a_worker_killed_mid_campaign_does_not_hang_it(tmp_path):
    """SIGKILL to a pool worker (as the kernel's OOM killer would): the tasks it broke run
    again, and every seed comes back."""
    job = Job(params=Params(faults=("cut",), max_faults=1, envelope="first"))  # seeds that run clean
    others = {p.pid for p in multiprocessing.active_children()}
    with runner.backend(None, 2) as where:
        got = {}
        for seed, record in runner.run(where, run_seeds, job, range(24)):
            if not got:
                pool = [p.pid for p in multiprocessing.active_children() if p.pid not in others]
                os.kill(pool[0], signal.SIGKILL)
            got[seed] = record
    assert sorted(got) == list(range(24))
    assert all(r["kind"] == "ok" for r in got.values())


def test_resume_skips_the_seeds_already_recorded(tmp_path, capsys):
    out = str(tmp_path)
    assert fuzz("--seeds", "6", "--jobs", "2", "--out", out) == 0
    path = tmp_path / "records.jsonl"
    with path.open("a") as f:
        f.write('{"seed": 6, "kind"')  # a campaign stopped while writing
    capsys.readouterr()
    assert fuzz("--seeds", "10", "--jobs", "2", "--out", out, "--resume") == 0
    assert f"(6 from {path})" in capsys.readouterr().out
    lines = [json.loads(line) for line in path.read_text().splitlines()]  # the cut line is gone
    assert sorted(r["seed"] for r in lines) == list(range(10))  # each seed ran once
    # Other parameters are another campaign: nothing of it was recorded.
    assert fuzz("--seeds", "10", "--jobs", "2", "--out", out, "--resume", "--max-faults", "1") == 0
    assert "from" not in capsys.readouterr().out.split("run in")[1].split(",")[0]
    assert len(path.read_text().splitlines()) == 20


def test_failures_are_grouped_and_only_the_first_per_group_are_shrunk_and_saved(tmp_path, capsys):
    assert fuzz("--seeds", "24", "--jobs", "2", *RULE, "--shrink-per-key", "1", "--out", str(tmp_path)) == 1
    out = capsys.readouterr().out
    groups: dict[str, list[int]] = {}
    for seed, r in sorted(records(tmp_path / "records.jsonl").items()):
        if r["kind"] != "ok":
            groups.setdefault(r["key"], []).append(seed)
    assert sum(map(len, groups.values())) > len(groups) >= 1  # some group has more than one seed
    firsts = sorted(seeds[0] for seeds in groups.values())
    assert sorted(saved(tmp_path)) == sorted(f"seed-{s}.{kind}.toml" for s in firsts for kind in ("topology", "scenario"))
    for n, (key, seeds) in enumerate(groups.items(), start=1):
        assert f"group {n} of {len(groups)}: {len(seeds)} seeds, first seed {seeds[0]}: {key}" in out or len(seeds) == 1
    assert re.findall(r"^seed (\d+): ", out, re.MULTILINE) == [str(s) for s in firsts]
    assert len(re.findall(r"^  replay: rcnlab run .* --seed \d+ ", out, re.MULTILINE)) == len(firsts)


def test_records_of_several_runs_merge_into_one_report(tmp_path, capsys):
    assert fuzz("--seeds", "12", "--jobs", "2", *RULE, "--out", str(tmp_path / "all")) == 1
    one = capsys.readouterr().out
    assert fuzz("--seeds", "5", "--jobs", "2", *RULE, "--out", str(tmp_path / "a")) == 1
    assert fuzz("--first", "5", "--seeds", "7", "--jobs", "2", *RULE, "--out", str(tmp_path / "b")) == 1
    capsys.readouterr()
    assert fuzz(*RULE, "--merge", str(tmp_path / "a/records.jsonl"), str(tmp_path / "b/records.jsonl"),
                "--out", str(tmp_path / "merged")) == 1
    merged = capsys.readouterr().out
    assert "fuzz: 12 seeds (0..11) merged from 2 record files," in merged
    assert merged.split("\nfuzz:")[0] == one.split("\nfuzz:")[0].replace("/all/", "/merged/")
    assert saved(tmp_path / "merged") == saved(tmp_path / "all")
    # Records of another campaign are not this one's.
    assert fuzz("--max-faults", "2", "--merge", str(tmp_path / "a/records.jsonl"), "--out", str(tmp_path)) == 2
    assert capsys.readouterr().err.startswith(f"rcnlab: fuzz --merge: no record in {tmp_path / 'a/records.jsonl'} "
                                              "is of this campaign: give the flags it ran with")


def test_the_event_budget_stops_a_seed_at_the_same_event_everywhere(tmp_path, capsys):
    case = random_case(81)
    first, again = (run_case(case, limits=Limits(budget_events=5000)) for _ in range(2))
    assert first == again and first.signature == "budget" and 5000 <= first.events < 5000 + 5000
    assert fuzz("--seeds", "4", "--jobs", "2", "--budget-events", "500", "--out", str(tmp_path)) == 1
    got = records(tmp_path / "records.jsonl")
    assert {r["kind"] for r in got.values()} == {"budget"}
    assert "(budget 4) in 1 group" in capsys.readouterr().out


def test_the_backstop_is_its_own_kind_and_is_not_shrunk(tmp_path, capsys):
    assert fuzz("--seeds", "2", "--jobs", "2", "--backstop-s", "0.000001", "--out", str(tmp_path)) == 1
    got = records(tmp_path / "records.jsonl")
    assert {r["kind"] for r in got.values()} == {"backstop"}
    kept = re.findall(r"\((\d+) of (\d+) fault steps kept\)", capsys.readouterr().out)
    assert kept and all(a == b for a, b in kept)  # saved as found
    assert all(r["key"] == "backstop: #s of wall time ran out at t=# after # events (--backstop-s #)"
               for r in got.values())


def test_cluster_flags_are_checked(tmp_path, capsys, monkeypatch):
    assert fuzz("--seeds", "1", "--cluster", "local:0") == 2
    assert fuzz("--seeds", "1", "--cluster", str(tmp_path / "scheduler.json"), "--out", str(tmp_path)) == 2
    monkeypatch.setitem(sys.modules, "distributed", None)  # as when the extra is not installed
    assert fuzz("--seeds", "1", "--cluster", "local", "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("rcnlab: fuzz --cluster: expected local, local:N")
    assert err[1] == f"rcnlab: fuzz --cluster: no scheduler file {str(tmp_path / 'scheduler.json')!r}"
    assert err[2] == "rcnlab: fuzz --cluster: Dask is not installed (pip install 'rcnlab[cluster]')"


def test_the_budget_stops_an_event_storm_at_the_same_event_everywhere():
    """A seed whose events never let virtual time pass (a storm) still meets its limits:
    the kernel takes a checkpoint within the storm."""
    case = random_case(3)
    first, again = (run_case(case, limits=Limits(budget_events=30_000, storm=True)) for _ in range(2))
    assert first == again and first.signature == "budget" and 30_000 <= first.events < 30_000 + 20_000


@pytest.mark.parametrize("cluster", [None, "dask"])
def test_a_seed_in_an_event_storm_is_freed_by_the_backstop_and_the_campaign_goes_on(cluster):
    """The storm seed runs until the backstop stops it (recorded as its own kind); its
    worker is free again and every other seed comes back (whatever its wall time)."""
    job = Job(params=Params(budget_events=None), backstop_s=0.2, storm_on_seed=2)
    with runner.backend(dask_cluster() if cluster else None, 2) as where:
        got = dict(runner.run(where, run_seeds, job, range(6)))
    assert sorted(got) == list(range(6))
    assert got[2]["kind"] == "backstop" and "--backstop-s 0.2" in got[2]["problems"][0]
    assert all(r["kind"] in ("ok", "backstop") for r in got.values())
