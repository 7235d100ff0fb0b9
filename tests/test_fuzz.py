"""``rcnlab fuzz``: clean seeds pass; a broken rule is found, shrunk, saved, and
``rcnlab run`` replays the saved scenario to the same violation."""

from __future__ import annotations

import re

from rcnlab.fuzz.gen import random_case, run_case, scenario_toml, shrink
from rcnlab.cli import main


def test_clean_seeds_report_zero_violations(tmp_path, capsys):
    assert main(["fuzz", "--seeds", "16", "--jobs", "2", "--out", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"fuzz: 16 seeds \(0\.\.15\) run in .* \d+ events simulated, 0 seeds with violations", out), out
    assert [p.name for p in (tmp_path / "f").iterdir()] == ["records.jsonl"]  # no failure saved


def test_a_broken_rule_is_found_saved_and_replayed(tmp_path, capsys):
    out_dir = tmp_path / "f"
    assert main(["fuzz", "--seeds", "8", "--jobs", "2", "--out", str(out_dir),
                 "--break-rule", "reflect-out-of-order"]) == 1
    out = capsys.readouterr().out
    found = re.findall(r"^seed (\d+): (invariant write_order: .*)$", out, re.M)
    assert found, out
    seed, line = found[0]
    topo, scen = out_dir / f"seed-{seed}.topology.toml", out_dir / f"seed-{seed}.scenario.toml"
    assert 'do = "break-rule"' in scen.read_text()
    assert main(["run", str(topo), "--scenario", str(scen), "--seed", seed]) == 1
    assert line in capsys.readouterr().err.splitlines()


def test_shrinking_drops_the_steps_that_do_not_matter():
    case = random_case(39, "reflect-out-of-order", max_faults=4)
    outcome = run_case(case)
    assert outcome.signature == "invariant write_order"
    small, small_outcome = shrink(case, outcome)
    assert small_outcome.signature == outcome.signature
    assert len(small.faults) <= len(case.faults)
    assert all(w.count <= 400 for w in small.workloads)
    assert scenario_toml(small).count("[[step]]") < scenario_toml(case).count("[[step]]") or not case.faults


def test_bad_arguments_are_one_line_errors(capsys):
    assert main(["fuzz", "--seeds", "0"]) == 2
    assert main(["fuzz", "--seeds", "1", "--faults", "meteor"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("rcnlab: fuzz --seeds") and "unknown fault kind 'meteor'" in err[1]
