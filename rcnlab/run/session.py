"""A `Session`: one run of the lab, the drivers that run it, and what a program does
with it: block devices on volumes, the operator's commands with their handles, volume
images."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import trio
import trio.testing

from rcnlab.check.invariants import Checker
from rcnlab.emu.journal import Journal
from rcnlab.emu.kernel import Kernel
from rcnlab.errors import BadInput, CommandFailed, Refused
from rcnlab.formats.fields import Text
from rcnlab.lab import CommandHandle, Lab, LabError
from rcnlab.model.kinds import CopyMode, Party
from rcnlab.model.pair_state import Command, IllegalCommand, PairState
from rcnlab.ops import commands as ops
from rcnlab.ops.pairs import group_targets
from rcnlab.ops.registry import do
from rcnlab.run.blockdev import IO_TIMEOUT, BlockDevice
from rcnlab.scenario.runner import Runner
from rcnlab.scenario.steps import Scenario
from rcnlab.topo.schema import Topology
from rcnlab.world import World

#: Virtual seconds `Session.wait` gives pair commands unless told.
COMMAND_WAIT = 60.0


@attrs.define(eq=False, repr=False)
class Session:
    """The world built from a topology, the operator's lab on it, the scenario's runner,
    the journal, and (unless switched off) the invariant checker following the run.

    Two ways to run it: `play` is the headless run (trio drives the kernel, paced at a
    rate if asked); `run_until` and `run_for` step the deterministic kernel directly,
    without trio or a wall clock (tests, checkers, tools that stop on a condition)."""

    world: World
    runner: Runner
    checker: Checker | None = None
    _driving: bool = attrs.field(default=False, init=False)

    @classmethod
    def open(cls, topo: Topology, scenario: Scenario | None = None, seed: int = 0, *,
             clock: trio.testing.MockClock | None = None, journal: Journal | None = None,
             check: bool = True) -> Session:
        world = World(topo, seed=seed, clock=clock or trio.testing.MockClock(rate=0), journal=journal)
        checker = Checker.attach(world) if check else None
        return cls(world=world, runner=Runner(world, scenario), checker=checker)

    @property
    def lab(self) -> Lab:
        return self.runner.lab

    @property
    def journal(self) -> Journal:
        return self.world.journal

    @property
    def kernel(self) -> Kernel:
        return self.world.kernel

    # -- the headless run --------------------------------------------------------------
    def play(self, until: float = math.inf, paced: bool = False) -> None:
        """Play the scenario: its timed steps, the network until it drains (or ``until``),
        then its steps for the end; then `check`. Paced, virtual time follows the clock's rate."""
        runner, kernel = self.runner, self.kernel

        async def main() -> None:
            end = runner.schedule()
            await kernel.run(until=until, paced=paced)
            for step in end:
                runner.apply(step)

        trio.run(main, clock=kernel.clock)
        self.check()

    def check(self) -> None:
        """Run the checker's state checks now; each violation becomes a line of ``runner.failed``."""
        if self.checker is not None:
            self.checker.check()
            self.runner.failed.extend(f"invariant {line}" for line in self.checker.violations)

    # -- the synchronous driver ------------------------------------------------------------
    @property
    def now(self) -> float:
        """Virtual time, in seconds."""
        return self.kernel.now

    def run_until(self, predicate: Callable[[], bool], timeout: float = math.inf) -> bool:
        """Run the kernel event time by event time until ``predicate()`` holds (True) or
        ``timeout`` virtual seconds have passed, or nothing is left to run (False)."""
        if self._driving:
            raise BadInput("the emulation is already running: a callback given to at() (or a journal "
                           "subscriber) cannot run it again; issue writes there with write(), not write_sync()")
        kernel = self.kernel
        deadline = kernel.now + timeout
        self._driving = True
        try:
            while not predicate():
                if kernel.next_time > deadline:
                    if deadline < math.inf:
                        kernel.advance_to(deadline)
                    return False
                kernel.step()
            return True
        finally:
            self._driving = False

    def run_for(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, running every event due in them."""
        self.run_until(lambda: False, seconds)

    def drain(self, timeout: float = math.inf) -> bool:
        """Run until only housekeeping is left (True), or ``timeout`` passed (False)."""
        return self.run_until(self.kernel.drained, timeout)

    def at(self, time: float, fn: Callable[[], object]) -> None:
        """Call ``fn()`` at virtual time ``time`` (while a driver runs the emulation)."""
        if not isinstance(time, (int, float)) or isinstance(time, bool) or not math.isfinite(time):
            raise BadInput(f"at: time must be a finite number of virtual seconds, got {time!r}")
        if time < self.kernel.now:
            raise BadInput(f"at: t={time:g} is in the past (now t={self.kernel.now:g})")
        self.kernel.call_at(time, fn)

    # -- volumes ---------------------------------------------------------------------------
    def block_device(self, volume: str, host: str | None = None, timeout: float = IO_TIMEOUT) -> BlockDevice:
        """The volume ``volume`` ("ST112:0") as a block device of ``host`` (default: the
        first host attached to its storage); a host gives up on an answer after ``timeout``
        virtual seconds."""
        if not timeout > 0:
            raise BadInput(f"block_device: timeout must be > 0 virtual seconds, got {timeout!r}")
        try:
            storage, ref = self.lab.volume(volume)
            h = self.lab.host_of(storage, host)
        except LabError as exc:
            raise BadInput(f"block_device: {exc}") from None
        vol = storage.volumes[ref.lun]
        return BlockDevice(world=self.world, host=h, ref=ref, volume=self.world.volume_name(ref), blocks=vol.size,
                           block_size=vol.block_size, drive=self.run_until, timeout=timeout)

    def pair_states(self, volume: str) -> dict[str, PairState]:
        """The state of the pair of ``volume`` (either end) at each of its four parties
        (source_storage, source_edge, target_edge, target_storage); Simplex at every
        party when the volume is in no pair."""
        try:
            storage, ref = self.lab.volume(volume)
        except LabError as exc:
            raise BadInput(f"pair_states: {exc}") from None
        pair = storage.pairs.get(ref.lun)
        if pair is None:
            return {str(party): PairState.SIMPLEX for party in Party}
        return self.lab.states(storage, pair)

    def duplex(self, volume: str) -> bool:
        """Whether the pair of ``volume`` is Duplex at all four parties."""
        return all(state is PairState.DUPLEX for state in self.pair_states(volume).values())

    def export_image(self, volume: str, path: str | os.PathLike[str]) -> None:
        """Write the volume's contents as it is now to ``path``: its raw blocks, block_size
        times blocks bytes (a sparse file: unwritten blocks are holes that read as zeros)."""
        try:
            storage, ref = self.lab.volume(volume)
        except LabError as exc:
            raise BadInput(f"export_image: {exc}") from None
        vol = storage.volumes[ref.lun]
        try:
            with open(path, "wb") as out:
                out.truncate(vol.size * vol.block_size)
                for block in sorted(vol.blocks):
                    out.seek(block * vol.block_size)
                    out.write(vol.blocks[block])
        except OSError as exc:
            raise BadInput(f"{os.fspath(path)}: cannot write the image of {volume} ({exc.strerror})") from None

    # -- the operator's commands, each with its handle ---------------------------------------
    def do(self, command: ops.Command) -> Any:
        """Give the lab ``command`` (a value of rcnlab.ops.commands) as the operator does;
        what its handler returns. A command the lab refuses raises `Refused` (one line)."""
        try:
            return do(self.lab, command)
        except (LabError, IllegalCommand) as exc:
            raise Refused(str(exc)) from None

    def create_pair(self, source: str, target: str, mode: str = "async", order_id: int = 0,
                    host: str | None = None) -> CommandHandle:
        """Pair create (Fig. 10); the handle gets the source storage's answer (ICOK)."""
        return self._one(lambda: ops.CreatePair(source=_text(source), target=_text(target), mode=CopyMode(mode),
                                                order_id=order_id, host=_name(host)))

    def suspend(self, volume: str, host: str | None = None) -> CommandHandle:
        """Planned Suspend (910) of the pair whose source volume is ``volume``."""
        return self._one(lambda: ops.Suspend(volume=_text(volume), host=_name(host)))

    def resync(self, volume: str, host: str | None = None) -> CommandHandle:
        """Resynchronize (Fig. 12) the pair whose source volume is ``volume``."""
        return self._one(lambda: ops.Resync(volume=_text(volume), host=_name(host)))

    def delete_pair(self, volume: str, host: str | None = None) -> CommandHandle:
        """Delete the pair of ``volume`` (either end)."""
        return self._one(lambda: ops.DeletePair(volume=_text(volume), host=_name(host)))

    def failover(self, volume: str | None = None, *, order_id: int | None = None, customer: str | None = None,
                 prompt: bool = False, host: str | None = None) -> list[CommandHandle]:
        """Failover (Fig. 13) of a whole order group, named by one of its volumes (either
        end) or by its order assurance ID (and ``customer``, when several customers' groups
        share the ID); one handle per pair of the group."""
        return self._group(Command.FAILOVER, volume, order_id, customer,
                           lambda v, oid: ops.Failover(volume=_name(v), order_id=oid, prompt=prompt, host=_name(host)))

    def failback(self, volume: str | None = None, *, order_id: int | None = None, customer: str | None = None,
                 swap_back: bool = False, host: str | None = None) -> list[CommandHandle]:
        """Failback of a whole order group after its failover, named as for `failover`;
        one handle per pair (none for the swap back a second failback starts: it runs over time)."""
        return self._group(Command.FAILBACK, volume, order_id, customer,
                           lambda v, oid: ops.Failback(volume=_name(v), order_id=oid, swap_back=swap_back,
                                                       host=_name(host)))

    def wait(self, handles: CommandHandle | Iterable[CommandHandle], timeout: float = COMMAND_WAIT) -> None:
        """Run the emulation until every handle has its answer; `CommandFailed` (the
        command's line) when one is answered with an error or none comes within ``timeout``."""
        waiting = [handles] if isinstance(handles, CommandHandle) else list(handles)
        self.run_until(lambda: all(h.done for h in waiting), timeout)
        for h in waiting:
            if h.failed or not h.done:
                raise CommandFailed(h.line())

    def _one(self, make: Callable[[], ops.Command]) -> CommandHandle:
        before = len(self.lab.commands)
        self.do(self._command(make))
        return self.lab.commands[before]

    def _group(self, kind: Command, volume: str | None, order_id: int | None, customer: str | None,
               make: Callable[[str | None, int | None], ops.Command]) -> list[CommandHandle]:
        if customer is not None:
            if order_id is None or volume is not None:
                raise BadInput(f"{kind}: customer goes with order_id (which customer's order group)")
            volume, order_id = self._member(kind, order_id, customer), None
        command = self._command(lambda: make(volume, order_id))
        try:
            targets = group_targets(self.lab, kind, volume, order_id)
        except (LabError, IllegalCommand) as exc:
            raise Refused(str(exc)) from None
        before = len(self.lab.commands)
        self.do(command)
        handles = self.lab.commands[before:]
        for target in targets:  # a pair whose command was under way joined it: that one's handle
            if not any(target in h.pair.split(">") for h in handles):
                under_way = self.lab.waiting(kind, target)
                if under_way is not None:
                    handles.append(under_way)
        return handles

    def _member(self, kind: Command, order_id: int, customer: str) -> str:
        """A target volume of ``customer``'s order group ``order_id``."""
        world = self.world
        found = {(edge.name, world.volume_name(p.target)) for edge in world.edges for p in edge.pairs.values()
                 if p.order_id == order_id and p.target.wwn in edge.attached and p.state is not PairState.SIMPLEX
                 and edge.customer_of(p.target.wwn) == customer}
        if not found:
            raise Refused(f"{kind} refused: customer {customer} has no pair in order group {order_id}")
        edges = sorted({name for name, _ in found})
        if len(edges) > 1:
            raise Refused(f"{kind} refused: order group {order_id} of customer {customer} has target volumes at "
                          f"edges {', '.join(edges)}; name one of the pairs' volumes instead")
        return min(volume for _, volume in found)

    @staticmethod
    def _command(make: Callable[[], ops.Command]) -> ops.Command:
        """The command value, its own checks (types, ranges) refused as `BadInput`."""
        try:
            return make()
        except (TypeError, ValueError) as exc:
            raise BadInput(str(exc)) from None


def _text(value: object) -> Text:
    """A name a command is given (a volume "ST112:0", a host), checked as the scenario reader does."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a name such as 'ST112:0', got {value!r}")
    return Text(value)


def _name(value: object) -> Text | None:
    return None if value is None else _text(value)
