"""Bad flags, one kind at a time, for every subcommand: exit status 2 and one line on
stderr, ``rcnlab: COMMAND FLAG: problem``, before anything runs (no traceback, no usage
screen, no run that cannot end)."""

from __future__ import annotations

import pytest

from rcnlab.cli import main

#: kind -> (argv, the line on stderr after "rcnlab: ").
BAD = {
    "negative": (["run", "fig1", "--rate", "-1"], "run --rate: expected a finite number >= 0, got '-1'"),
    "infinite": (["run", "fig1", "--rate", "inf"], "run --rate: expected a finite number >= 0, got 'inf'"),
    "nan": (["run", "fig1", "--until", "nan"], "run --until: expected a finite number >= 0, got 'nan'"),
    "overflow": (["run", "fig1", "--until", "1e999"], "run --until: expected a finite number >= 0, got '1e999'"),
    "too-slow": (["run", "fig1", "--rate", "1e-300"], "run --rate: expected 0 or a pace of at least 0.001, "
                 "got '1e-300'"),
    "text-for-a-number": (["tui", "--seed", "seven"], "tui --seed: expected a whole number >= 0, got 'seven'"),
    "fraction-for-a-count": (["walkthrough", "write", "--seed", "1.5"],
                             "walkthrough --seed: expected a whole number >= 0, got '1.5'"),
    "negative-count": (["fuzz", "--jobs", "-3"], "fuzz --jobs: expected a whole number from 0 to 256, got '-3'"),
    "huge-count": (["fuzz", "--seeds", "10000000000"],
                   "fuzz --seeds: expected a whole number from 1 to 1000000, got '10000000000'"),
    "zero-count": (["fuzz", "--seeds", "0"], "fuzz --seeds: expected a whole number from 1 to 1000000, got '0'"),
    "unknown-fault": (["fuzz", "--faults", "cut,meteor"], "fuzz --faults: unknown fault kind 'meteor' (known: cut, "),
    "unknown-choice": (["fuzz", "--break-rule", "gravity"], "fuzz --break-rule: invalid choice: 'gravity'"),
    "missing-value": (["check", "fig1", "--scenario"], "check --scenario: expected one argument"),
    "missing-argument": (["run"], "run: the following arguments are required: topology"),
    "unknown-flag": (["bench", "--quick", "--fast"], "unrecognized arguments: --fast"),
    "unknown-command": (["frobnicate"], "COMMAND: invalid choice: 'frobnicate'"),
    "unknown-topology": (["run", "fig9"], "run topology: no topology 'fig9' (known: consistency-groups, fig1, fig2, ip, mesh, nocore; "
                         "or give a path to a .toml file)"),
    "unknown-scenario": (["check", "fig1", "--scenario", "fig1-basics"],
                         "check --scenario: no scenario 'fig1-basics' (known: core-crash, failback, fig1-basic, "),
    "no-such-folder": (["run", "fig1", "--trace", "/no/such/dir/t.jsonl"],
                       "run --trace: /no/such/dir/t.jsonl: no folder '/no/such/dir' to write in"),
    "folder-for-a-file": (["fuzz", "--digests", "."], "fuzz --digests: expected a file name, got '.'"),
    "file-for-a-folder": (["fuzz", "--out", __file__], f"fuzz --out: expected a folder, got {__file__!r}"),
    "empty-file-name": (["walkthrough", "write", "--svg", ""], "walkthrough --svg: expected a file name, got ''"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_flag_is_one_line_and_exit_2(kind, capsys):
    argv, line = BAD[kind]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"rcnlab: {line}"), err


def test_shipped_names_work_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "fig1", "--scenario", "fig1-basic"]) == 0
    assert main(["run", "fig1", "--scenario", "fig1-basic", "--until", "0.1", "--json"]) == 0
    capsys.readouterr()
    (tmp_path / "fig1.toml").write_text("not a topology")  # a path names a file, a bare name a shipped one
    assert main(["check", "fig1.toml"]) == 2
    assert capsys.readouterr().err.startswith("rcnlab: fig1.toml: ")
