"""The command line: run, check, JSON summary, trace, and one-line errors with exit 2."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from rcnlab.cli import main
from tests.helpers import ROOT

FIG1 = str(ROOT / "topologies" / "fig1.toml")
BASIC = str(ROOT / "topologies" / "scenarios" / "fig1-basic.toml")


def test_run_json_summary_has_the_documented_fields(capsys, tmp_path):
    trace = tmp_path / "trace.jsonl"
    assert main(["run", FIG1, "--scenario", BASIC, "--seed", "7", "--json", "--trace", str(trace)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["virtual_time"] > 0
    (pair,) = s["pairs"]
    assert (pair["source"], pair["target"], pair["order_id"]) == ("ST112:0", "ST122:0", 1)
    assert set(pair["states"].values()) == {"Duplex"}
    vols = s["volumes"]
    assert vols["ST112:0"]["digest"] == vols["ST122:0"]["digest"]
    assert vols["ST112:0"]["blocks_written"] > 0
    groups = {g["device"]: g for g in s["order_groups"]}
    assert groups["E104"]["created"] == groups["E104"]["deleted"] == groups["E105"]["reflected"]
    assert set(s["log_entries_remaining"].values()) == {0}
    assert s["writes"]["issued"] == s["writes"]["acknowledged"] == 2200
    assert s["writes"]["reflected"] == 2000
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert {"t", "device", "event", "step"} <= set(lines[0])
    created = [e for e in lines if e["event"] == "log-created" and e["kind"] == "WR"]
    reflected = [e for e in lines if e["event"] == "reflected"]
    for e in created[:1] + reflected[:1]:
        assert {"order_id", "seq", "volume", "block", "data_digest"} <= set(e)


def test_run_prints_a_table_for_people(capsys):
    assert main(["run", FIG1, "--scenario", BASIC]) == 0
    out = capsys.readouterr().out
    assert "Duplex" in out and "ST122:0" in out and "expectations: 2 passed" in out


def test_check_accepts_the_shipped_topologies(capsys):
    for name in ("fig1", "nocore", "mesh", "fig2", "ip"):
        assert main(["check", str(ROOT / "topologies" / f"{name}.toml")]) == 0
    assert "routes E104-C202-E105" in capsys.readouterr().out


BROKEN_SCENARIOS = {
    "toml": ("[[step]\nat = 0", "invalid TOML"),
    "unknown-step": ('[[step]]\nat = 0\ndo = "explode"', "step[0].do: unknown step 'explode'"),
    "missing-key": ('[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"', "step[0].target: missing"),
    "unknown-key": ('[[step]]\nat = 0\ndo = "write"\nvolume = "ST112:0"\nblock = 1\ncolour = 3',
                    "step[0].colour: unknown key"),
    "wrong-type": ('[[step]]\nat = 0\ndo = "workload"\nvolume = "ST112:0"\nrate = "fast"',
                   "step[0].rate: expected a number"),
    "unknown-storage": ('[[step]]\nat = 0\ndo = "write"\nvolume = "ST999:0"\nblock = 1',
                        "step[0].volume: unknown storage 'ST999'"),
    "unknown-lun": ('[[step]]\nat = 0\ndo = "write"\nvolume = "ST112:7"\nblock = 1', "has no LUN 7"),
    "negative-time": ('[[step]]\nat = -1\ndo = "note"\ntext = "x"', "step[0].at: must not be negative"),
    "no-time": ('[[step]]\ndo = "note"\ntext = "x"', "step[0].at: missing"),
    "unknown-link": ('[[step]]\nat = 0\ndo = "set-link"\nlink = "E104-E105"', "unknown link"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_SCENARIOS))
def test_a_broken_scenario_is_one_line_and_exit_2(kind, tmp_path, capsys):
    text, expected = BROKEN_SCENARIOS[kind]
    path = tmp_path / f"{kind}.toml"
    path.write_text(text)
    assert main(["run", FIG1, "--scenario", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert str(path) in err and expected in err


def test_a_missing_topology_file_is_one_line_and_exit_2(capsys):
    assert main(["check", "/no/such/topology.toml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rcnlab: /no/such/topology.toml: file: cannot read") and "\n" not in err


def test_a_refused_command_at_run_time_is_reported_and_exit_1(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('[[step]]\nat = 0\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n'
                    '[[step]]\nat = 1\ndo = "pair-create"\nsource = "ST112:0"\ntarget = "ST122:0"\n')
    assert main(["run", FIG1, "--scenario", str(path), "--json"]) == 1
    err = capsys.readouterr().err
    assert "step[1] (pair-create at 1s)" in err and "pair-create refused: pair is Duplex" in err


def test_until_stops_early(capsys):
    assert main(["run", FIG1, "--scenario", BASIC, "--until", "0.3", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["virtual_time"] == pytest.approx(0.3)


def test_run_exports_the_message_sequence(tmp_path, capsys):
    mmd, svg = tmp_path / "run.mmd", tmp_path / "run.svg"
    assert main(["run", FIG1, "--scenario", BASIC, "--until", "0.2", "--mermaid", str(mmd), "--svg", str(svg)]) == 0
    text = mmd.read_text()
    assert text.startswith("sequenceDiagram") and "ST112" in text and "E104" in text
    import xml.etree.ElementTree as ET

    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert main(["run", FIG1, "--scenario", BASIC, "--until", "0.1", "--svg", "/no/such/dir/x.svg"]) == 2
    assert "run --svg: /no/such/dir/x.svg: no folder '/no/such/dir' to write in" in capsys.readouterr().err


def test_version_is_the_installed_one(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"rcnlab {metadata.version('rcnlab')}\n"
