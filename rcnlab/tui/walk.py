"""Walkthrough mode of the lab (issue 5), without Textual: which walkthroughs there are,
the player being shown, and what the screen highlights for its current step.

The app plays a step forward with ``Bridge.play_step(player)`` (paced, at WALK_SPEED)
and goes back by swapping in a new network replayed headless to the previous step
(``new_stage``): runs are deterministic, so that network is the one the step left
behind, and the narration, the highlights and the pair states agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from rcnlab.export import Message, participants
from rcnlab.tui.stage import Stage, watch
from rcnlab.walkthrough.engine import Player, StepResult
from rcnlab.walkthrough.model import Walkthrough, WalkthroughError, available, load_walkthrough
from rcnlab.world import World

#: Journal events the walkthrough's network keeps for the event log.
KEEP = 5000
#: Virtual seconds per wall second while a step plays (the steps last 0 .. 0.5 s).
WALK_SPEED = 0.2


@attrs.frozen(kw_only=True)
class Entry:
    """A walkthrough file for the picker (``problem`` when it does not load)."""

    name: str
    path: Path
    title: str
    steps: int
    problem: str = ""


def catalogue() -> list[Entry]:
    """Every walkthrough in topologies/walkthroughs, with its title (or its one-line problem)."""
    out = []
    for path in available():
        try:
            wt = load_walkthrough(path)
        except WalkthroughError as exc:
            out.append(Entry(name=path.stem, path=path, title="", steps=0, problem=str(exc)))
            continue
        out.append(Entry(name=wt.name, path=path, title=wt.title, steps=len(wt.steps)))
    return out


def new_stage(wt: Walkthrough, upto: int = -1, seed: int | None = None) -> tuple[Player, Stage]:
    """A player of ``wt`` on a clock of its own, its journal keeping KEEP events for the
    event log, played headless up to step ``upto`` (-1: none), and its stage, whose live
    invariant checker follows it from the start (its ``invariants`` checkpoints use that one)."""
    player = Player(wt, seed, keep=KEEP)
    stage = watch(player.session)
    player.play_to(upto)
    return player, stage


def link_between(net: World, a: str, b: str) -> str | None:
    for name, link in net.links.items():
        if {link.a, link.b} == {a, b}:
            return name
    return None


@attrs.define(eq=False)
class WalkSession:
    """The walkthrough on screen: its player, whether a step is running."""

    wt: Walkthrough
    player: Player
    seed: int | None = None  # the seed asked for (None: the walkthrough's own)
    running: bool = False  # a step plays (Bridge.play_step)
    busy: bool = False  # a replay (back, restart) or leaving is under way
    _cache: tuple[Any, list[Message]] = (None, [])

    def replace(self, player: Player) -> None:
        self.player = player
        self.running = False
        self._cache = (None, [])

    @property
    def total(self) -> int:
        return len(self.wt.steps)

    @property
    def index(self) -> int:
        """The step shown: the one running (or about to, once > was pressed) or the last
        played; -1 before the first."""
        p = self.player
        i = p.current
        if self.running and (i < 0 or p.spans[i][1] >= 0):
            return i + 1
        return i

    def result(self) -> StepResult | None:
        """The shown step's result once it has run to its end."""
        i = self.index
        p = self.player
        if self.running or i < 0 or i >= len(p.results) or p.spans[i][1] < 0:
            return None
        return p.results[i]

    def counter(self) -> str:
        if self.index < 0:
            return f"before step 1 of {self.total}"
        return f"step {self.index + 1} of {self.total}"

    def messages(self) -> list[Message]:
        """The shown step's messages (while it runs: so far)."""
        i = self.index
        key = (self.player, i, len(self.player.events))
        if self._cache[0] != key:
            self._cache = (key, self.player.messages_of(i) if i >= 0 else [])
        return self._cache[1]

    def lanes(self, msgs: list[Message]) -> list[str]:
        return participants(msgs, self.wt.topology)

    def involved(self) -> tuple[set[str], set[str]]:
        """(devices, links) of the shown step: every sender and receiver of its messages
        and the links they crossed, and the devices or link its action names."""
        net = self.player.net
        devices: set[str] = set()
        links: set[str] = set()
        for src, dst in {(m.src, m.dst) for m in self.messages()}:
            devices.update((src, dst))
            link = link_between(net, src, dst)
            if link is not None:
                links.add(link)
        if 0 <= self.index < self.total:  # what the action names: a link, a device, a partition, a site
            command = self.wt.steps[self.index].command
            link, site = getattr(command, "link", None), getattr(command, "site", None)
            if link in net.links:
                links.add(link)
            devices.update(d for d in [getattr(command, "device", None), *(getattr(command, "devices", None) or ())]
                           if d is not None)
            if site is not None:
                devices.update(d.name for d in (*net.hosts, *net.storages) if d.spec.site == site)
        return {d for d in devices if d in net.devices}, links

    def hint(self) -> str:
        """The hint line in walkthrough mode."""
        name = self.wt.name
        if self.busy:
            return f"Walkthrough {name}: replaying ..."
        if self.running:
            return f"Walkthrough {name}, {self.counter()}: playing (space pauses, > finishes it at once, +/- speed)"
        if self.index < 0:
            return f"Walkthrough {name}: > plays step 1 of {self.total}; L leaves walkthrough mode."
        r = self.result()
        mark = "" if r is None else (" ✓" if r.ok else " ✗ FAILED")
        if self.player.done:
            return f"Walkthrough {name}, {self.counter()}{mark}: the end. < goes back, R restarts, L leaves."
        return f"Walkthrough {name}, {self.counter()}{mark}: > next step, < previous, R restart, L leave."
