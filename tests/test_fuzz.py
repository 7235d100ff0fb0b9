"""``rcnlab fuzz``: clean seeds pass; a broken rule is found, shrunk, saved, and
``rcnlab run`` replays the saved scenario to the same violation."""

from __future__ import annotations

import random
import re
import tomllib

import attrs

from rcnlab.cli import main
from rcnlab.formats.topology import (CoreEntry, CustomerEntry, EdgeEntry, HostEntry, LabEntry, LinkEntry,
                                     ManagementEntry, PairEntry, StorageEntry)
from rcnlab.fuzz.gen import (FAULTS, Case, Step, TopoParams, Workload, random_case, run_case, scenario_toml,
                             _simpler, shrink, topology_toml)
from rcnlab.model.kinds import Attach, ContractTime, LinkKind, OrderMethod, Site
from rcnlab.ops.commands import COMMANDS

#: The topology keys whose value is a choice, and the choices.
CHOICES = {"LinkKind": LinkKind, "OrderMethod": OrderMethod, "Attach": Attach, "Site": Site,
           "ContractTime": ContractTime}


def test_clean_seeds_report_zero_violations(tmp_path, capsys):
    assert main(["fuzz", "--seeds", "16", "--jobs", "2", "--envelope", "first", "--out", str(tmp_path / "f")]) == 0
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


# -- the fuzzer's reach: every knob a user can set ------------------------------------------
TABLES = {"lab": LabEntry, "management": ManagementEntry, "customer": CustomerEntry, "host": HostEntry,
          "storage": StorageEntry, "edge": EdgeEntry, "core": CoreEntry, "link": LinkEntry, "pair": PairEntry}
#: Keys and values the fuzzer leaves alone, and why.
NOT_DRAWN = {("*", "pos"): "the TUI's map only",
             ("host", "site=network"): "generated hosts sit at a site's storage",
             ("storage", "site=network"): "generated storages sit at the source or the target site",
             ("edge", "site=network"): "generated edges sit at the source or the target site"}
#: Scenario keys the fuzzer leaves alone: the checkers stand in for what an expectation could say.
NOT_STEPPED = {("expect", "party"), ("expect", "equal"), ("expect", "remaining"), ("expect", "writes_acknowledged"),
               ("expect", "command_failed"),  # an assertion on the run, no knob of the network
               ("break-rule", "rule")}  # --break-rule
SEEDS = range(600)
FIRST_FIELDS = attrs.fields(TopoParams)[:11]  # cores .. blocks: the first envelope's


def _reached_keys() -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for seed in SEEDS:
        doc = tomllib.loads(topology_toml(random_case(seed).topo))
        for table, rows in doc.items():
            for row in rows if isinstance(rows, list) else [rows]:
                seen.setdefault(table, set()).update(row)
                seen[table].update(f"{k}={v}" for k, v in row.items() if isinstance(v, str))
    return seen


def test_every_topology_key_and_choice_is_within_the_fuzzers_reach():
    """Every key of every topology table (rcnlab.formats.topology), and every value of each
    key that is a choice, appears in the labs the fuzzer draws: a new knob not wired into
    rcnlab.fuzz.gen (one line of KNOBS) fails here."""
    seen = _reached_keys()
    for table, entry in TABLES.items():
        wanted = set()
        for field in attrs.fields(entry):
            wanted.add(field.name)
            if isinstance(field.type, str) and field.type.split(" ")[0] in CHOICES:
                wanted |= {f"{field.name}={v}" for v in CHOICES[field.type.split(" ")[0]]}
        missing = {k for k in wanted - seen.get(table, set())
                   if ("*", k) not in NOT_DRAWN and (table, k) not in NOT_DRAWN}
        assert not missing, f"[{table}] never drawn by the fuzzer: {sorted(missing)}"


def test_every_step_kind_and_key_is_within_the_fuzzers_reach():
    """Every step kind of the scenario format (rcnlab.ops.commands) and each of its keys
    appears in the schedules the fuzzer draws."""
    seen: set[tuple[str, str]] = {("break-rule", "")}
    for seed in SEEDS:
        for step in tomllib.loads(scenario_toml(random_case(seed)))["step"]:
            seen |= {(step["do"], "")} | {(step["do"], k) for k in step if k not in ("at", "do")}
    wanted = {(kind, "") for kind in COMMANDS}
    wanted |= {(kind, f.name) for kind, cls in COMMANDS.items() for f in attrs.fields(cls)}
    missing = wanted - seen - NOT_STEPPED
    assert not missing, f"never drawn by the fuzzer: {sorted(missing)}"


def test_a_seed_stands_for_one_lab_and_the_first_envelope_keeps_its_draws():
    """``--first S --seeds 1`` rebuilds the same case, knobs and all; the widened envelope
    draws from a stream of its own, so a seed's first-envelope lab is what it always was
    when the second stream draws nothing."""
    for seed in range(40):
        case = random_case(seed)
        assert case == random_case(seed)
        assert topology_toml(case.topo) == topology_toml(random_case(seed).topo)
        plain = random_case(seed, widened=False)
        assert plain.topo.knobs == ()
        assert case.faults[:len(plain.faults)] == plain.faults
        assert [getattr(case.topo, f.name) for f in FIRST_FIELDS] == [getattr(plain.topo, f.name) for f in FIRST_FIELDS]
    widened = [s for s in range(200) if random_case(s) != random_case(s, widened=False)]
    assert 60 < len(widened) < 140, len(widened)


def test_a_customer_contracted_later_has_its_creations_before_the_configuration_refused_then_given_again():
    """A drawn lab sometimes has a customer with ``contract = "later"``: the steps contract
    (901) and configure-customer (902) come before its pairs are created, between, or after;
    each creation before both must be refused (the note says so), and is given again after
    them and after the heal, so the pairs still end Duplex. The first envelope never draws one."""
    seen: dict[str, int] = {}
    for seed in SEEDS:
        case = random_case(seed)
        late = [where for where, key, value in case.topo.knobs if key == "contract" and value == "later"]
        if not late:
            continue
        assert random_case(seed, widened=False).topo.knobs == ()
        steps = sorted(case.faults, key=lambda s: s.at)
        configured = next(i for i, s in enumerate(steps) if s.do == "configure-customer")
        contract = next(i for i, s in enumerate(steps) if s.do == "contract")
        assert dict(steps[contract].args)["customer"] == dict(steps[configured].args)["customer"] == late[0]
        mine = {src for src, _, _ in case.topo.pairs if src[1] == late[0][1]}
        early = [s for s in steps[:configured] if s.do == "pair-create" and dict(s.args)["source"] in mine]
        assert all(s.refuse.startswith(f"customer {late[0]} ") for s in early)
        again = {dict(s.args)["source"] for s in steps[configured:] if s.do == "pair-create" and not s.refuse}
        assert mine <= again and {dict(s.args)["source"] for s in early} in (set(), mine)
        when = "before" if not early else "between" if contract < steps.index(early[0]) else "after"
        if when not in seen:
            seen[when] = seed
            outcome = run_case(case)
            assert outcome.problems == () and outcome.refused >= len(early), (seed, outcome.problems)
            text = scenario_toml(case)
            assert text.count('do = "pair-create"') == len(case.topo.pairs) + 2 * len(early)
    assert set(seen) == {"before", "between", "after"}, seen


def test_a_creation_that_must_be_refused_passes_when_refused_and_fails_when_carried_out():
    """A must-refuse step (a run-time contract or order-ID violation) is correct when refused:
    it ends Simplex and the outcome is clean; carried out, both the end expectation and the
    outcome say so."""
    topo = TopoParams(customers=2, spare=True)
    refused = Case(topo=topo, workloads=(), faults=tuple(FAULTS["refuse-customer"](
        random.Random(0), topo, 0.5, 0.6, "S11:0", "S12:0")))
    assert run_case(refused).problems == ()
    legal = Case(topo=topo, workloads=(), faults=(Step(at=0.5, do="pair-create", refuse="a test says so", args=(
        ("source", "S11:1"), ("target", "S12:1"))),))
    problems = run_case(legal).problems
    assert any(p.endswith("pair S12:1: source_storage is Duplex, expected Simplex") for p in problems), problems
    assert problems[-1] == ("accepted: step[3] (pair-create at 0.5s) was carried out; it must be refused: "
                            "a test says so"), problems


def test_shrinking_drops_knobs_and_widened_keys_that_do_not_matter():
    case = random_case(39, "reflect-out-of-order", max_faults=4)
    noisy = attrs.evolve(case, topo=attrs.evolve(case.topo, attach="ip", knobs=(("management", "latency_ms", 20.0),)))
    outcome = run_case(noisy)
    assert outcome.signature == "invariant write_order"
    small, _ = shrink(noisy, outcome)
    assert small.topo.knobs == () and small.topo.attach == "fc"


def test_the_first_envelope_alone(tmp_path, capsys):
    assert main(["fuzz", "--seeds", "6", "--jobs", "1", "--envelope", "first", "--quiet",
                 "--out", str(tmp_path / "f")]) == 0
    assert "0 seeds with violations" in capsys.readouterr().out


def test_a_failover_that_must_complete_fails_the_outcome_when_it_does_not():
    """A failover marked must-succeed (a group's failovers with no fault about them) that
    never completes (no Fig. 9 911) is a problem line; one that completes is none."""
    topo = TopoParams()
    failover = Step(at=0.5, do="failover", args=(("volume", "S12:0"),), succeed="a test says so")
    assert run_case(Case(topo=topo, workloads=(), faults=(failover,))).problems == ()
    edge_down = (Step(at=0.4, do="crash", args=(("device", "E2"),)), failover,
                 Step(at=1.0, do="restart", args=(("device", "E2"),)))
    problems = run_case(Case(topo=topo, workloads=(), faults=edge_down)).problems
    assert "failed: step[3] (failover at 0.5s) did not complete; it must succeed: a test says so" in problems, problems


def test_a_groups_failovers_must_complete_only_with_no_fault_near():
    quiet = [s for seed in range(600) for s in random_case(seed).faults if s.succeed]
    assert quiet and {s.do for s in quiet} <= {"failover", "crash"}


def test_a_crash_that_must_lose_nothing_fails_the_outcome_when_a_copy_fails():
    """A short edge crash marked must-succeed that is followed by remote-copy-failed (908)
    within the quiet span is a problem line (here the log storage area is volatile, so the
    crash does lose the held entries)."""
    topo = TopoParams(durable=False)
    crash = Step(at=0.3, do="crash", args=(("device", "E1"),), succeed="a test says so")
    case = Case(topo=topo, workloads=(Workload(volume="S11:0", rate=4000.0, count=400, at=0.2),),
                faults=(crash, Step(at=0.31, do="restart", args=(("device", "E1"),))))
    problems = run_case(case).problems
    assert any(p.startswith("failed: step[3] (crash at 0.3s) was followed by remote-copy-failed (908)")
               for p in problems), problems


def test_every_path_timeout_drawn_is_longer_than_any_storage_link_round_trip_drawn():
    """The loader refuses a path timeout not longer than a WR's round trip to the edge; the
    fuzzer must not draw one (the deep profile drew 30 ms against a 30.3 ms round trip)."""
    from rcnlab.fuzz.gen import KNOBS
    from rcnlab.topo.schema import round_trip

    link = KNOBS["storage-link"]
    longest = round_trip(max(link["latency_ms"]) / 1000, max(link["jitter_ms"]) / 1000,
                         min(link["bandwidth_mbps"]) * 1e6 / 8, max(KNOBS["lab"]["block_size"]))
    assert min(KNOBS["storage"]["path_timeout_ms"]) / 1000 > longest


def test_a_campaign_keeps_no_lab_of_a_seed_it_has_run():
    """A 10,000-seed campaign in one process grew by 0.8 MB a seed: every run's network
    stayed alive (its checker, registered by the network, held it). After the runs and a
    collection, no network of theirs is left."""
    import gc

    from rcnlab.world import World

    gc.collect()
    before = {id(o) for o in gc.get_objects() if isinstance(o, World)}  # other tests' labs
    for seed in (5, 6, 7):
        run_case(random_case(seed))
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, World) and id(o) not in before]


def test_shrinking_keeps_a_late_contract_and_the_creations_it_allows():
    """A candidate without the contract, the customer configuration or a creation the final
    "expect Duplex" needs fails for a reason of the shrinker's own (deep profile
    2026-12-01: it turned a write_order failure into a bogus one with the same signature)."""
    case = random_case(4)
    set_up = [s for s in case.faults if s.do in ("contract", "configure-customer") or
              (s.do == "pair-create" and not s.refuse)]
    late = [k for k in case.topo.knobs if k[1] == "contract"]
    assert set_up and late
    smaller = list(_simpler(case))
    assert smaller  # the failovers may still go
    for each in smaller:
        assert all(s in each.faults for s in set_up)
        assert [k for k in each.topo.knobs if k[1] == "contract"] == late


def test_shrinking_drops_a_crash_with_its_restart_never_the_restart_alone():
    """A crash without its restart lasts for ever: a different failure with the same
    signature (the deep profile 2026-12-01 shrank a short crash of a durable edge so)."""
    crash = [Step(at=0.02, do="crash", args=(("device", "E2"),)), Step(at=0.021, do="restart", args=(("device", "E2"),))]
    case = Case(topo=TopoParams(), workloads=(Workload(volume="S11:0", rate=200.0, count=10, at=0.0),),
                faults=(*crash, Step(at=0.3, do="partition", args=(("devices", ["E1"]),))), seed=0)
    smaller = [c.faults for c in _simpler(case)]
    assert all((crash[0] in f) == (crash[1] in f) for f in smaller)
    assert any(crash[0] not in f for f in smaller)
