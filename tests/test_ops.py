"""The operator's commands: one registry, one handler per command class, one key on
the lab's screen for each command it offers; the layers import one way."""

from __future__ import annotations

import pytest
from test_layout import import_graph

from rcnlab.lab import Lab, LabError
from rcnlab.model.pair_state import IllegalCommand
from rcnlab.ops.commands import COMMANDS, Crash, Note, Suspend
from rcnlab.ops.registry import HANDLERS, do
from rcnlab.topo.load import load_builtin_topology
from rcnlab.tui.actions import ACTIONS, OFFERED
from rcnlab.tui.app import COMMAND_ACTIONS, RcnLabApp
from rcnlab.world import World


def test_every_command_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(COMMANDS.values())
    assert all(cls.kind == kind for kind, cls in COMMANDS.items())


def test_every_command_with_a_key_is_an_action_of_the_screen() -> None:
    assert {cls for cls in COMMANDS.values() if cls.key is not None} == set(OFFERED.values())
    for id, cls in OFFERED.items():
        assert callable(getattr(RcnLabApp, f"action_{id}", None)), id
        assert COMMAND_ACTIONS[cls.kind] == id
    keys = [k for a in ACTIONS for k in a.key.split(",")]
    assert len(keys) == len(set(keys)), "two actions share a key"


def test_do_carries_out_a_command_and_a_refusal_is_one_line() -> None:
    lab = Lab(World(load_builtin_topology(), seed=0))
    do(lab, Note(text="hello"))
    do(lab, Crash(device="C202"))
    assert not lab.net.devices["C202"].up
    with pytest.raises(LabError, match=r"^C202 is already down$"):
        do(lab, Crash(device="C202"))
    with pytest.raises(IllegalCommand) as exc:
        do(lab, Suspend(volume="ST112:0"))
    assert "\n" not in str(exc.value) and str(exc.value).startswith("suspend refused: ")


def test_the_commands_know_nothing_of_the_screen() -> None:
    graph = import_graph()
    for name in (m for m in graph if m.startswith("rcnlab.ops") or m == "rcnlab.lab"):
        assert not {t for t in graph[name] if t.startswith("rcnlab.tui")}, name
