"""The lab's whole trace to a file (``rcnlab tui --trace FILE``), streamed as it happens,
in the format of ``rcnlab run --trace``; the screen itself keeps only the last events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.app import App

from helpers import make_app, run_app as run
from rcnlab.cli import main
from rcnlab.ops.commands import CreatePair, Workload
from rcnlab.ops.registry import do
from rcnlab.tui import launch
from rcnlab.tui.app import RcnLabApp


async def _pair_under_writes(app: Any, until: float) -> None:
    await app.bridge.call(do, app.lab, CreatePair(source="ST112:0", target="ST122:0"))
    await app.bridge.advance(0.5)
    await app.bridge.call(do, app.lab, Workload(volume="ST112:0", rate=1000.0))
    await app.bridge.advance(until)


def test_the_trace_file_holds_every_event_beyond_what_the_screen_keeps(tmp_path: Path) -> None:
    path = tmp_path / "lab.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        app = make_app(tmp_path, paused=True, keep=100, trace=out)

        async def body(pilot: Any) -> None:
            await _pair_under_writes(app, 0.7)

        run(app, body)
    lines = path.read_text().splitlines()
    assert len(lines) == app.journal.count > 1000 > len(app.journal.recent)
    events = [json.loads(line) for line in lines]
    assert [list(e)[:4] for e in events[:3]] == [["t", "device", "event", "step"]] * 3
    assert lines[-1] == app.journal.recent[-1].to_json()  # the same encoding as rcnlab run --trace
    assert {"pair-state", "write-issued"} <= {e["event"] for e in events}


def test_rcnlab_tui_trace_writes_the_file(tmp_path: Path, monkeypatch: Any) -> None:
    async def drive(pilot: Any) -> None:
        app = pilot.app
        await app.bridge.started
        await _pair_under_writes(app, 0.6)
        await app.action_quit()

    run_app = App.run
    monkeypatch.setattr(RcnLabApp, "run", lambda self: run_app(self, headless=True, auto_pilot=drive))
    monkeypatch.chdir(tmp_path)
    assert main(["tui", "--trace", "out.jsonl"]) == 0
    events = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {"pair-state", "write-issued"} <= {e["event"] for e in events}  # (the lab preloads: still copying)


def test_a_trace_into_a_folder_is_refused_before_the_lab_opens(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setattr(launch, "open_tui", lambda *a, **k: (_ for _ in ()).throw(AssertionError("opened")))
    assert main(["tui", "--trace", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
