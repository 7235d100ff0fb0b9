"""Exports: Mermaid text parses back into the same sequence diagram, the SVG is XML with one
arrow per message, and dropped and resent frames are drawn distinctly."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from rcnlab.export import Message, Note, Window, export_run, messages, participants, to_mermaid, to_svg
from rcnlab.run import run_headless
from rcnlab.scenario.steps import parse_scenario
from rcnlab.walkthrough.engine import Player
from rcnlab.walkthrough.export import export_walkthrough, walkthrough_sequence
from rcnlab.walkthrough.model import load_walkthrough, resolve
from tests.helpers import topology

SVG = "{http://www.w3.org/2000/svg}"


# -- a parser for the Mermaid subset we emit ----------------------------------------------------
ARROW = re.compile(r"^(?P<src>[A-Za-z0-9_]+)(?P<arrow>-->>|--x|->>|-x)(?P<dst>[A-Za-z0-9_]+): (?P<text>.+)$")


def _unescape(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


def parse_mermaid(text: str) -> dict:
    """Participants (in order, by display name), messages (src, arrow, dst, text) and notes;
    raises ValueError on any line outside the subset or naming an undeclared participant."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "sequenceDiagram":
        raise ValueError("not a sequence diagram")
    names: dict[str, str] = {}
    out = {"participants": [], "messages": [], "notes": []}
    for line in lines[1:]:
        if line.startswith("%%"):
            continue
        m = re.fullmatch(r"participant (\w+)(?: as (.+))?", line)
        if m:
            if out["messages"]:
                raise ValueError("participant declared after a message")
            names[m.group(1)] = m.group(2) or m.group(1)
            out["participants"].append(names[m.group(1)])
            continue
        m = re.fullmatch(r"Note over (\w+)(?:,(\w+))?: (.+)", line)
        if m:
            if any(g and g not in names for g in m.groups()[:2]):
                raise ValueError(f"note over an undeclared participant: {line}")
            out["notes"].append(_unescape(m.group(3)))
            continue
        m = ARROW.match(line)
        if not m:
            raise ValueError(f"not in the subset: {line!r}")
        if m["src"] not in names or m["dst"] not in names:
            raise ValueError(f"undeclared participant: {line}")
        text_ = m["text"]
        bare = re.sub(r"#\d+;", "", text_)
        if ";" in bare or "#" in bare:
            raise ValueError(f"unescaped ; or # in {text_!r}")
        out["messages"].append((names[m["src"]], m["arrow"], names[m["dst"]], _unescape(text_)))
    return out


def test_the_parser_rejects_what_mermaid_would_not_take():
    with pytest.raises(ValueError):
        parse_mermaid("sequenceDiagram\n    A->>B: hi\n")  # undeclared
    with pytest.raises(ValueError):
        parse_mermaid("sequenceDiagram\n    participant A\n    participant B\n    A->>B: a;b\n")
    with pytest.raises(ValueError):
        parse_mermaid("graph TD\n")


@pytest.fixture(scope="module")
def write_walkthrough() -> Player:
    p = Player(load_walkthrough(resolve("write")))
    p.play()
    return p


def test_a_walkthrough_s_mermaid_round_trips(write_walkthrough, tmp_path):
    p = write_walkthrough
    path = tmp_path / "write.mmd"
    n = export_walkthrough(p, path)
    parsed = parse_mermaid(path.read_text())
    msgs, notes = walkthrough_sequence(p)
    assert n == len(msgs) == 28
    # Fig. 16's order of the lanes
    assert parsed["participants"] == ["H111", "ST112", "E104", "C202", "E105", "ST122"]
    assert parsed["messages"] == [(m.src, "->>", m.dst, m.label()) for m in msgs]
    assert parsed["notes"] == [n.text for n in notes]
    assert parsed["notes"][2].startswith("Step 3: Fig. 16, steps 1601-1603, 1605, 1604; Fig. 19")
    write = [m for m in parsed["messages"] if m[3].endswith("[fig16:1601]")]
    assert write == [("H111", "->>", "ST112", "WR [fig16:1601]")]
    assert ("E104", "->>", "C202", "log[WR#1.3] [fig16:1605]") in parsed["messages"]


def test_a_walkthrough_s_svg_has_an_arrow_per_message(write_walkthrough, tmp_path):
    path = tmp_path / "write.svg"
    n = export_walkthrough(write_walkthrough, path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    arrows = [e for e in root.iter(f"{SVG}line") if (e.get("class") or "").startswith("msg")]
    assert len(arrows) == n == 28
    lanes = [g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lanes == ["H111", "ST112", "E104", "C202", "E105", "ST122"]
    steps = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "step"]
    assert steps[:2] == ["fig10:1001", "fig10:1002"] and "fig16:1610" in steps
    notes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "note"]
    assert len(notes) == 4
    # the first arrow goes right, from H111's lifeline to ST112's
    first = arrows[0]
    assert float(first.get("x1")) < float(first.get("x2"))


# -- dropped and resent ------------------------------------------------------------------------
EVENTS = [
    {"t": 0.0, "device": "E104", "event": "sent", "step": "fig16:1605", "to": "C202", "what": "log[WR#1.1]"},
    {"t": 0.0, "device": "E104", "event": "frame-dropped", "step": None, "to": "C202", "what": "log[WR#1.1]",
     "reason": "link down"},
    {"t": 0.05, "device": "E104", "event": "resent", "step": None, "kind": "WR", "order_id": 1, "seq": 1,
     "attempt": 1},
    {"t": 0.05, "device": "E104", "event": "sent", "step": None, "to": "C202", "what": "log[WR#1.1]"},
    {"t": 0.1, "device": "E104", "event": "resent", "step": None, "kind": "WR", "order_id": 1, "seq": 1,
     "attempt": 2},
    {"t": 0.1, "device": "E104", "event": "sent", "step": None, "to": "C202", "what": "log[WR#1.1]"},
    {"t": 0.1, "device": "E104", "event": "frame-dropped", "step": None, "to": "C202", "what": "log[WR#1.1]",
     "reason": "lost", "fragment": "1/1"},
    {"t": 0.101, "device": "C202", "event": "frame-dropped", "step": None, "to": "E105", "what": "log[WR#1.1]",
     "reason": "E105 down"},
    {"t": 0.2, "device": "E105", "event": "log-created", "step": "fig20:2008", "order_id": 1, "seq": 1},
]


def test_dropped_and_resent_frames_are_distinct():
    msgs = messages(EVENTS)
    assert [(m.kind, m.dropped, m.note) for m in msgs] == [
        ("sent", "link down", ""),
        ("resent", "", "attempt 1"),
        ("resent", "lost, fragment 1/1", "attempt 2"),
        ("sent", "E105 down", ""),
    ]
    assert [m.style for m in msgs] == ["dropped", "resent", "resent-dropped", "dropped"]
    parsed = parse_mermaid(to_mermaid(msgs, participants(msgs)))
    assert parsed["participants"] == ["E104", "C202", "E105"]
    assert [a for _, a, _, _ in parsed["messages"]] == ["-x", "-->>", "--x", "-x"]
    assert parsed["messages"][0][3] == "log[WR#1.1] (dropped: link down) [fig16:1605]"
    assert parsed["messages"][1][3] == "resent log[WR#1.1] (attempt 1)"
    root = ET.fromstring(to_svg(msgs))
    classes = [e.get("class") for e in root.iter(f"{SVG}line") if (e.get("class") or "").startswith("msg")]
    assert classes == ["msg dropped", "msg resent", "msg resent-dropped", "msg dropped"]


def test_participants_follow_fig16_order_whatever_the_order_of_first_appearance():
    topo = topology("fig1")
    msgs = [Message(t=0, src="E105", dst="ST122", what="WR", step=None, kind="sent"),
            Message(t=0, src="H121", dst="ST122", what="Suspend", step=None, kind="sent"),
            Message(t=0, src="C202", dst="E104", what="log", step=None, kind="sent"),
            Message(t=0, src="H111", dst="ST112", what="WR", step=None, kind="sent"),
            Message(t=0, src="ST112", dst="E104", what="WR", step=None, kind="sent")]
    assert participants(msgs) == ["E105", "ST122", "H121", "C202", "E104", "H111", "ST112"]
    assert participants(msgs, topo) == ["H111", "ST112", "E104", "C202", "E105", "ST122", "H121"]


def test_a_label_with_mermaid_s_special_characters_round_trips():
    msgs = [Message(t=0, src="A.1", dst="B", what="odd; #1 text: here", step="fig19:1902", kind="sent")]
    text = to_mermaid(msgs, notes=[Note(before=0, text="note; with #")])
    parsed = parse_mermaid(text)
    assert parsed["participants"] == ["A.1", "B"]
    assert parsed["messages"] == [("A.1", "->>", "B", "odd; #1 text: here [fig19:1902]")]
    assert parsed["notes"] == ["note; with #"]
    ET.fromstring(to_svg(msgs, notes=[Note(before=0, text="<&>")]))


def test_the_limit_is_said_in_a_closing_note():
    msgs = [Message(t=i, src="A", dst="B", what=f"m{i}", step=None, kind="sent") for i in range(10)]
    parsed = parse_mermaid(to_mermaid(msgs, limit=4))
    assert len(parsed["messages"]) == 4 and parsed["notes"] == ["6 more messages not shown"]
    root = ET.fromstring(to_svg(msgs, limit=4))
    assert sum(1 for e in root.iter(f"{SVG}line") if (e.get("class") or "").startswith("msg")) == 4


# -- any run --------------------------------------------------------------------------------------
FAILING_RUN = """
[[step]]
at = 0.0
do = "pair-create"
source = "ST112:0"
target = "ST122:0"
[[step]]
at = 0.1
do = "workload"
volume = "ST112:0"
rate = 1000
count = 20
[[step]]
at = 0.105
do = "fail"
link = "C202-E105"
"""


def test_export_run_from_a_json_trace(tmp_path):
    topo = topology("fig1")
    out = io.StringIO()
    run_headless(topo, parse_scenario(FAILING_RUN, "<test>", topo), seed=3, trace=out)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    n = export_run(events, tmp_path / "run.mmd", topo, limit=None)
    parsed = parse_mermaid((tmp_path / "run.mmd").read_text())
    sent = sum(1 for e in events if e["event"] == "sent")
    orphan_drops = len(parsed["messages"]) - sent
    assert n == len(parsed["messages"]) and orphan_drops >= 0
    arrows = {a for _, a, _, _ in parsed["messages"]}
    assert {"->>", "-x", "-->>"} <= arrows  # sent, dropped at the failed link, resent by E104
    assert parsed["participants"][:6] == ["H111", "ST112", "E104", "C202", "E105", "ST122"]
    assert export_run(events, tmp_path / "run.svg", topo) == n
    root = ET.parse(tmp_path / "run.svg").getroot()
    assert sum(1 for e in root.iter(f"{SVG}line") if (e.get("class") or "").startswith("msg")) == n


# -- choosing the window: --from/--to, and a walkthrough's steps -------------------------------------
def test_run_exports_the_window_asked_for_not_the_first_thousand(tmp_path, capsys):
    from rcnlab.cli import main

    whole, part = tmp_path / "whole.mmd", tmp_path / "part.mmd"
    trace = tmp_path / "t.jsonl"
    assert main(["run", "fig1", "--scenario", "fig1-basic", "--json", "--mermaid", str(whole),
                 "--trace", str(trace)]) == 0
    assert main(["run", "fig1", "--scenario", "fig1-basic", "--json", "--from", "4.00001", "--to", "4.01",
                 "--mermaid", str(part)]) == 0
    capsys.readouterr()
    times = [e["t"] for e in map(json.loads, trace.read_text().splitlines()) if e["event"] == "sent"]
    late = [t for t in times if 4.00001 <= t <= 4.01]
    assert len(times) > 1000 and times.index(late[0]) > 1000  # beyond what the whole run's export draws
    parsed = parse_mermaid(part.read_text())
    assert len(parsed["messages"]) == len(late) and parsed["notes"] == []
    assert "%% rcnlab run: fig1 (t = 4.00001 .. 4.01 s)" in part.read_text()
    assert parse_mermaid(whole.read_text())["notes"] == [f"{len(times) - 1000} more messages not shown"]


def test_a_window_that_ends_before_it_starts_is_bad_input(capsys):
    from rcnlab.cli import main

    assert main(["run", "fig1", "--from", "0.3", "--to", "0.2", "--svg", "x.svg"]) == 2
    assert capsys.readouterr().err.strip() == "rcnlab: run --from: 0.3 is after --to 0.2"


def test_a_walkthrough_exports_the_steps_and_window_asked_for(write_walkthrough, tmp_path, capsys):
    from rcnlab.cli import main

    p = write_walkthrough
    path = tmp_path / "step3.mmd"
    assert main(["walkthrough", "write", "--auto", "--steps", "3", "--mermaid", str(path)]) == 0
    parsed = parse_mermaid(path.read_text())
    assert parsed["notes"][0].startswith("Step 3: ")
    assert len(parsed["messages"]) == len(p.messages_of(2))
    t0 = p.messages_of(2)[0].t
    msgs, notes = walkthrough_sequence(p, None, Window(start=t0, end=t0))
    assert msgs and all(m.t == t0 for m in msgs) and notes[0].text.startswith("Step 3: ")
    assert main(["walkthrough", "write", "--auto", "--steps", "2-9", "--mermaid", str(path)]) == 2
    assert capsys.readouterr().err.strip().endswith("walkthrough --steps: write has 4 steps, got 9")
