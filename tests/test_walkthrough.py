"""Walkthroughs: every shipped one passes its checkpoints, together they cover the patent's
step catalogue in order, and broken or diverging walkthroughs fail loudly."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from rcnlab.catalogue import CATALOGUE, missing, not_in_order
from rcnlab.cli import main
from rcnlab.walkthrough.engine import Player
from rcnlab.walkthrough.model import WalkthroughError, available, load_walkthrough, parse_walkthrough
from tests.helpers import ROOT

WALKTHROUGHS = available()
NAMES = [p.stem for p in WALKTHROUGHS]
FIG1 = (ROOT / "topologies" / "fig1.toml").as_posix()


def test_the_issue_s_walkthroughs_are_there():
    assert {"lifecycle", "pair-creation", "write", "resync", "failover", "failover-prompt", "fig2-wwn",
            "two-customers", "distance"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_walkthrough_passes_with_auto(name, capsys):
    assert main(["walkthrough", name, "--auto"]) == 0
    out, err = capsys.readouterr()
    assert f"{name}: " in out and "checks passed" in out
    assert "✗" not in out and err == ""


@pytest.fixture(scope="module")
def played() -> dict[str, Player]:
    players = {}
    for path in WALKTHROUGHS:
        p = Player(load_walkthrough(path))
        p.play()
        assert all(r.ok for r in p.results), (path.stem, [r.problems for r in p.results])
        players[path.stem] = p
    return players


def test_the_walkthroughs_together_cover_the_whole_catalogue_in_order(played):
    everything = [tag for p in played.values() for tag in (e.step for e in p.events) if tag]
    assert list(CATALOGUE)[0] == "fig9" and list(CATALOGUE)[-1] == "fig22"
    for figure in CATALOGUE:
        assert missing(everything, figure) == [], figure
        # in one instance (one write, one pair command's flow), not pieced together across several
        in_order = [name for name, p in played.items() if not_in_order(p.events, figure) is None]
        assert in_order, f"{figure}: no walkthrough has its steps in the patent's order in one instance"


def test_each_step_s_patent_steps_are_in_its_own_events(played):
    p = played["write"]
    step = p.steps[2]
    tags = [e.step for e in p.events_of(step) if e.step]
    assert "fig19:1904" in tags and "fig20:2005" not in tags  # the WROK (1603) comes before E105 is reached
    assert [m.src for m in p.messages_of(step)][:2] == ["H111", "ST112"]


def test_the_configuration_belongs_to_the_first_step(played):
    first = played["lifecycle"].events_of(0)
    assert [e.step for e in first if e.step][:3] == ["fig9:901", "fig9:902", "fig9:903"]


def test_listing(capsys):
    assert main(["walkthrough"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out


# -- driving a Player (the TUI's way) ---------------------------------------------------------
def test_player_steps_forward_and_replays_back_deterministically():
    wt = load_walkthrough(WALKTHROUGHS[NAMES.index("failover")])
    p = Player(wt)
    assert p.current == -1 and not p.done
    p.advance()
    p.advance()
    p.advance()
    assert p.current == 2
    back = Player.replayed(wt, 1)
    assert back.current == 1
    for i in (0, 1):
        assert [e.to_json() for e in back.events_of(i)] == [e.to_json() for e in p.events_of(i)]
    # begin / settled / finish, as a paced driver would use them
    back.begin()
    assert not back.settled()
    while not back.settled():
        back.net.kernel.step()
    back.finish()
    assert [e.to_json() for e in back.events_of(2)][:50] == [e.to_json() for e in p.events_of(2)][:50]


def test_a_condition_that_never_holds_fails_the_step(tmp_path):
    text = _walkthrough("""
[[step]]
say = "Wait for a Duplex that never comes."
until = { pair = "ST112:0", state = "Duplex" }
run_for = 0.5
""")
    p = Player(parse_walkthrough(text, str(tmp_path / "x.toml")))
    r = p.advance()
    assert r.problems == ["waited 0.5 s for pair ST112:0 Duplex; it never held"]


# -- failing loudly ------------------------------------------------------------------------------
def _walkthrough(steps: str) -> str:
    return f"""
[walkthrough]
title = "t"
topology = "{FIG1}"
seed = 1
{steps}
"""


PAIR = """
[[step]]
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
mode = "{mode}"
say = "Pair."
"""


def test_a_checkpoint_that_cannot_hold_exits_1_naming_the_step(tmp_path, capsys):
    path = tmp_path / "diverges.toml"
    path.write_text(_walkthrough(PAIR.format(mode="sync") + """
[[step]]
title = "Suspended already?"
do = "write"
volume = "ST112:0"
block = 1
say = "The pair is Duplex here; the checkpoint says otherwise."
[step.checkpoint]
pair = "ST112:0"
state = "Suspend"
"""))
    assert main(["walkthrough", str(path), "--auto"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"rcnlab: {path}: step[1] 'Suspended already?': pair ST112:0: source_storage is Duplex, "
                             "expected Suspend")
    assert all(line.startswith(f"rcnlab: {path}: step[1] ") for line in err)


def test_a_step_tag_missing_from_the_trace_fails(tmp_path, capsys):
    path = tmp_path / "tags.toml"
    path.write_text(_walkthrough(PAIR.format(mode="async") + "steps = [904, 1201]\n"))
    assert main(["walkthrough", str(path), "--auto"]) == 1
    assert "step[0] (pair-create): expected fig12:1201 in this step's trace; found none" in capsys.readouterr().err


def test_a_refused_action_fails_unless_the_checkpoint_expects_it(tmp_path, capsys):
    refused = PAIR.format(mode="async").replace("ST122:0", "ST112:0")
    path = tmp_path / "refused.toml"
    path.write_text(_walkthrough(refused))
    assert main(["walkthrough", str(path), "--auto"]) == 1
    assert "the action pair-create was refused: source and target are on the same storage" in capsys.readouterr().err
    path.write_text(_walkthrough(refused + "[step.checkpoint]\nrefused = \"same storage\"\n"))
    assert main(["walkthrough", str(path), "--auto"]) == 0


BROKEN = [
    (lambda t: t.replace('mode = "async"', 'mode = "fast"'), "step[0].mode: expected one of sync, async, got 'fast'"),
    (lambda t: t.replace('say = "Pair."', ""), "step[0].say: missing (one or two sentences: what happens and why)"),
    (lambda t: t.replace('do = "pair-create"', 'do = "pair-creat"'), "step[0].do: unknown step 'pair-creat' (known: "),
    (lambda t: t.replace('target = "ST122:0"', 'target = "ST999:0"'), "step[0].target: unknown storage 'ST999'"),
    (lambda t: t.replace('source = "ST112:0"', 'sorce = "ST112:0"'), "step[0].sorce: unknown key for 'pair-create'"),
    (lambda t: t + '[step.checkpoint]\nstat = "Duplex"\n', "step[0].checkpoint.stat: unknown key (allowed: pair, state, "),
    (lambda t: t + '[step.checkpoint]\nstate = "Duplex"\n', "step[0].checkpoint.state: needs 'pair'"),
    (lambda t: t + "steps = [1999]\n", "step[0].steps: 1999 is not a step of the catalogue"),
    (lambda t: t + 'until = { tag = "fig19" }\n', "step[0].until.tag: expected a step tag like \"fig19:1902\""),
    (lambda t: t + 'run_for = "later"\n', "step[0].run_for: expected a number, got string 'later'"),
    (lambda t: t.replace(FIG1, "nowhere.toml"), "walkthrough.topology: nowhere.toml: "),
    (lambda t: t.replace('title = "t"', 'titel = "t"'), "walkthrough.titel: unknown key"),
]


@pytest.mark.parametrize("edit, error", BROKEN, ids=[e for _, e in BROKEN])
def test_a_broken_walkthrough_is_one_line_and_exit_2(tmp_path, capsys, edit, error):
    path = tmp_path / "broken.toml"
    path.write_text(edit(_walkthrough(PAIR.format(mode="async"))))
    assert main(["walkthrough", str(path), "--auto"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"rcnlab: {path}: {error}"), err


def test_an_unknown_walkthrough_name_is_exit_2(capsys):
    assert main(["walkthrough", "no-such-walkthrough"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no walkthrough 'no-such-walkthrough' (known: " in err


def test_the_shipped_files_reject_a_load_error_as_walkthrough_error(tmp_path):
    with pytest.raises(WalkthroughError, match=r"x\.toml: line 1: invalid TOML"):
        parse_walkthrough("[walkthrough", str(tmp_path / "x.toml"))


# -- interactive -----------------------------------------------------------------------------------
def test_without_a_terminal_it_reads_answers_and_runs_on_at_end_of_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["walkthrough", "write"]) == 0
    out = capsys.readouterr().out
    assert "Step 4/4" in out and "checks passed" in out


def test_q_quits_and_b_goes_back(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n\nb\nq\n"))
    assert main(["walkthrough", "write"]) == 0
    out = capsys.readouterr().out
    # steps 1, 2, 3 shown, back to 2, then quit: step 4 never shown
    assert out.count("Step 2/4") == 2 and "back to step 2" in out
    assert "Step 4/4" not in out and "quit" in out


def test_exports_from_the_command_line(tmp_path, capsys):
    mmd, svg = tmp_path / "w.mmd", tmp_path / "w.svg"
    assert main(["walkthrough", "write", "--auto", "--mermaid", str(mmd), "--svg", str(svg)]) == 0
    assert mmd.read_text().startswith("sequenceDiagram\n")
    assert svg.read_text().startswith("<?xml")
    assert f"wrote {mmd} (28 messages)" in capsys.readouterr().err


def test_an_export_file_that_cannot_be_written_is_exit_2(capsys):
    assert main(["walkthrough", "write", "--auto", "--svg", "/nonexistent/dir/w.svg"]) == 2
    assert "walkthrough --svg: /nonexistent/dir/w.svg: no folder '/nonexistent/dir'" in capsys.readouterr().err


def test_shipped_files_name_their_topology_relative_to_themselves():
    for path in WALKTHROUGHS:
        wt = load_walkthrough(path)
        assert Path(os.path.normpath(wt.topology_path)).parent == ROOT / "topologies"


def test_walkthrough_trace_writes_every_event_as_run_does(played, tmp_path, capsys):
    """``rcnlab walkthrough NAME --trace FILE``: every trace event as a JSON line, the same
    events the player journals, byte for byte again on a second play; a folder that is
    not there is one line of bad input."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["walkthrough", "write", "--auto", "--trace", str(first)]) == 0
    assert main(["walkthrough", "write", "--auto", "--trace", str(second)]) == 0
    lines = first.read_text().splitlines()
    assert lines == [e.to_json() for e in played["write"].events]
    assert first.read_bytes() == second.read_bytes()
    assert {"t", "device", "event", "step"} <= set(json.loads(lines[0]))
    capsys.readouterr()
    assert main(["walkthrough", "write", "--auto", "--trace", "/no/such/dir/t.jsonl"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rcnlab: walkthrough --trace: /no/such/dir/t.jsonl: no folder '/no/such/dir' to write in")
