"""One reader for every input file: values a run could not finish with are refused by
``rcnlab check`` and ``rcnlab run`` with exit 2 and one line ``rcnlab: FILE: key.path:
problem``; the fuzzer's TOML writer gives files that read back to the same spec."""

from __future__ import annotations

import contextlib
import io
import math
import tomllib
from pathlib import Path

import pytest

from rcnlab.fuzz.gen import _toml_value, random_case, scenario_toml, topology_toml
from rcnlab.cli import main
from rcnlab.ops.commands import COMMANDS
from rcnlab.ops.commands import Workload as StartWorkload
from rcnlab.scenario.steps import parse_scenario
from rcnlab.topo.load import parse_topology
from rcnlab.topo.schema import SECONDS_PER_KM
from tests.helpers import TOPOLOGIES

FIG1 = (TOPOLOGIES / "fig1.toml").read_text(encoding="utf-8")
SCSI_LINK = "latency_ms = 0.02 "  # the first [[link]] (H111-ST112), spelt out in full in fig1.toml


def one_line_exit_2(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = err.getvalue()
    assert code == 2, (code, text, out.getvalue())
    assert text.startswith("rcnlab: ") and text.count("\n") == 1 and "Traceback" not in text, text
    return text.removeprefix("rcnlab: ").rstrip("\n")


# (case id, replaced text of fig1.toml, its replacement, key path, problem)
TOPOLOGY_CASES = [
    ("latency-1e300", SCSI_LINK, "latency_ms = 1e300 ", "link[0].latency_ms", "must be <= 3.6e+06 (one hour)"),
    ("latency-nan", SCSI_LINK, "latency_ms = nan ", "link[0].latency_ms", "expected a finite number, got nan"),
    ("jitter-inf", "jitter_ms = 0 ", "jitter_ms = inf ", "link[0].jitter_ms", "expected a finite number, got inf"),
    ("bandwidth-subnormal", "bandwidth_mbps = 4000 ", "bandwidth_mbps = 5e-324 ", "link[0].bandwidth_mbps",
     "must be >= 0.001"),
    ("bandwidth-absurd", "bandwidth_mbps = 4000 ", "bandwidth_mbps = 1e300 ", "link[0].bandwidth_mbps",
     "must be <= 1e+07 (10 Tbit/s)"),
    ("mtu-huge", "mtu = 65536 ", "mtu = 1099511627776 ", "link[0].mtu", "must be <= 1.04858e+06 (1 MiB)"),
    ("distance-1e300", "distance_km = 300 ", "distance_km = 1e300 ", "link[2].distance_km",
     "must be <= 40000 (40,000 km)"),
    ("block-size-2**40", "block_size = 512 ", "block_size = 1099511627776 ", "lab.block_size",
     "must be a power of two from 512 to 1048576"),
    ("volume-too-large", "blocks = 2147483648 }", "blocks = 4611686018427387904 }", "storage[0].volumes[0].blocks",
     "a volume of at most 1 PiB"),
    ("copy-rate-tiny", "copy_rate = 20000 ", "copy_rate = 1e-300 ", "storage[0].copy_rate", "must be >= 1"),
    ("timeout-1e300", "command_timeout_ms = 2000 ", "command_timeout_ms = 1e300 ", "storage[0].command_timeout_ms",
     "one year"),
    ("collect-interval-subnormal", "collect_interval_ms = 500 ", "collect_interval_ms = 5e-324 ",
     "management.collect_interval_ms", "must be >= 0.001"),
    ("resend-timeout-zero", "resend_timeout_ms = 50 ", "resend_timeout_ms = 0 ", "edge[0].resend_timeout_ms",
     "must be >= 0.001"),
    ("loss-inf", "loss = 0 ", "loss = -inf ", "link[0].loss", "expected a finite number, got -inf"),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), [c[1:] for c in TOPOLOGY_CASES],
                         ids=[c[0] for c in TOPOLOGY_CASES])
def test_a_topology_value_that_cannot_finish_is_refused(tmp_path: Path, old: str, new: str, key: str,
                                                        problem: str) -> None:
    assert old in FIG1, old
    path = tmp_path / "t.toml"
    path.write_text(FIG1.replace(old, new, 1), encoding="utf-8")
    for argv in (["check", str(path)], ["run", str(path), "--until", "0.1"]):
        line = one_line_exit_2(argv)
        assert line.startswith(f"{path}: {key}: ") and problem in line, line


WORKLOAD = 'do = "workload"\nvolume = "ST112:0"\n'
# (case id, step keys after ``at``, key path, problem)
SCENARIO_CASES = [
    ("at-1e300", 'at = 1e300\ndo = "note"\ntext = "x"', "step[0].at", "must be <= 86400 (one virtual day)"),
    ("at-nan", 'at = nan\ndo = "note"\ntext = "x"', "step[0].at", "expected a finite number, got nan"),
    ("at-inf", 'at = inf\ndo = "note"\ntext = "x"', "step[0].at", "expected a finite number, got inf"),
    ("rate-never-starts", f"at = 0\n{WORKLOAD}rate = 1e-300\ncount = 1", "step[0].rate", "must be >= 0.001"),
    ("rate-never-ends", f"at = 0\n{WORKLOAD}rate = 1e300\ncount = 1", "step[0].rate", "must be <= 1e+06"),
    ("rate-inf", f"at = 0\n{WORKLOAD}rate = inf", "step[0].rate", "expected a finite number, got inf"),
    ("rate-nan", f"at = 0\n{WORKLOAD}rate = nan", "step[0].rate", "expected a finite number, got nan"),
    ("duration-1e300", f"at = 0\n{WORKLOAD}rate = 100.0\nduration = 1e300", "step[0].duration", "one day"),
    ("count-huge", f"at = 0\n{WORKLOAD}rate = 100.0\ncount = 9223372036854775807", "step[0].count",
     "must be <= 1e+09"),
    ("set-link-latency-1e300", 'at = 0\ndo = "set-link"\nlink = "E104-C202"\nlatency_ms = 1e300',
     "step[0].latency_ms", "one hour"),
    ("set-link-bandwidth-subnormal", 'at = 0\ndo = "set-link"\nlink = "E104-C202"\nbandwidth_mbps = 5e-324',
     "step[0].bandwidth_mbps", "must be >= 0.001"),
    ("set-link-loss-nan", 'at = 0\ndo = "set-link"\nlink = "E104-C202"\nloss = nan', "step[0].loss",
     "expected a finite number"),
    ("set-link-negative-jitter", 'at = 0\ndo = "set-link"\nlink = "E104-C202"\njitter_ms = -1', "step[0].jitter_ms",
     "must not be negative"),
    ("unknown-key", 'at = 0\ndo = "crash"\ndevice = "C202"\nhard = true', "step[0].hard",
     "unknown key for 'crash' (allowed: device)"),
    ("missing-key", 'at = 0\ndo = "crash"', "step[0].device", "missing required key"),
    ("unknown-device", 'at = 0\ndo = "crash"\ndevice = "C999"', "step[0].device", "unknown device 'C999'"),
    ("unknown-volume", 'at = 0\ndo = "suspend"\nvolume = "ST999:0"', "step[0].volume", "unknown storage 'ST999'"),
    ("unknown-rule", 'at = 0\ndo = "break-rule"\nrule = "all"', "step[0].rule",
     "expected one of reflect-out-of-order, reorder-before-edge, got 'all'"),
]


@pytest.mark.parametrize(("step", "key", "problem"), [c[1:] for c in SCENARIO_CASES],
                         ids=[c[0] for c in SCENARIO_CASES])
def test_a_scenario_value_that_cannot_finish_is_refused(tmp_path: Path, step: str, key: str, problem: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f"[[step]]\n{step}\n", encoding="utf-8")
    topo = str(TOPOLOGIES / "fig1.toml")
    for argv in (["check", topo, "--scenario", str(path)], ["run", topo, "--scenario", str(path)]):
        line = one_line_exit_2(argv)
        assert line.startswith(f"{path}: {key}: ") and problem in line, line


def test_the_writer_spells_every_float_as_toml_reads_it() -> None:
    for value in (math.inf, -math.inf, 0.1, 1e-05, 123456789.123, 2.0):
        assert tomllib.loads(f"x = {_toml_value(value)}")["x"] == value
    assert math.isnan(tomllib.loads(f"x = {_toml_value(math.nan)}")["x"])
    text = 'a "quoted" \\ back\nslash\t\x7f é'
    assert tomllib.loads(f"x = {_toml_value(text)}")["x"] == text
    assert tomllib.loads(f"x = {_toml_value([1, 2.5, 'y', True])}")["x"] == [1, 2.5, "y", True]


@pytest.mark.parametrize("seed", range(12))
def test_a_generated_lab_reads_back_to_the_same_spec(seed: int) -> None:
    case = random_case(seed)
    topo = parse_topology(topology_toml(case.topo), "<fuzz>")
    p = case.topo
    assert topo.order_method == p.order_method and len(topo.cores) == p.cores
    assert all(v.blocks == p.blocks for s in topo.storages for v in s.volumes)
    assert {link.latency for link in topo.links if link.kind == "gbe"} == {p.distance_km * SECONDS_PER_KM}
    assert {link.jitter for link in topo.links if link.kind == "gbe"} == {p.jitter_ms / 1000}
    assert {c.batch_wait for c in topo.cores} <= {ms / 1000 for ms in (p.batch_wait_ms, *(v for _, key, v in p.knobs
                                                                                   if key == "batch_wait_ms"))}
    note = 'seed "quoted"\nsecond line'
    scenario = parse_scenario(scenario_toml(case, note=note), "<fuzz>", topo)
    assert scenario.description == note
    written = [(s.at, s.command) for s in scenario.steps]
    for fault in case.faults:
        assert (fault.at, COMMANDS[fault.do](**dict(fault.args))) in written
    for w in case.workloads:
        assert any(isinstance(c, StartWorkload) and at == w.at and c.rate == w.rate and c.count == w.count
                   for at, c in written)


# (case id, keys added to a walkthrough step, key path, problem)
WALKTHROUGH_CASES = [
    ("run-for-1e300", "run_for = 1e300", "step[0].run_for", "must be <= 86400 (one virtual day)"),
    ("run-for-nan", "run_for = nan", "step[0].run_for", "expected a finite number, got nan"),
    ("action-rate-inf", "", "step[0].rate", "expected a finite number, got inf"),
]


@pytest.mark.parametrize(("keys", "key", "problem"), [c[1:] for c in WALKTHROUGH_CASES],
                         ids=[c[0] for c in WALKTHROUGH_CASES])
def test_a_walkthrough_value_that_cannot_finish_is_refused(tmp_path: Path, keys: str, key: str, problem: str) -> None:
    action = 'do = "workload"\nvolume = "ST112:0"\nrate = inf' if not keys else 'do = "note"\ntext = "x"'
    path = tmp_path / "w.toml"
    path.write_text(f'[walkthrough]\ntitle = "t"\ntopology = "{(TOPOLOGIES / "fig1.toml").as_posix()}"\n'
                    f'[[step]]\nsay = "s."\n{action}\n{keys}\n', encoding="utf-8")
    line = one_line_exit_2(["walkthrough", str(path), "--auto"])
    assert line.startswith(f"{path}: {key}: ") and problem in line, line
