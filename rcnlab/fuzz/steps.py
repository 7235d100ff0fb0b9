"""Scenario steps the fuzzer writes into the scenarios it saves.

The saved scenarios use the scenario package's own fault and pair steps ("fail",
"crash", "suspend", ...) and these three of the fuzzer's:

- ``heal-all``: restore every link both ways, give every link back the loss and jitter
  its topology gave it, restart every device that is down.
- ``resync-all``: resynchronize (Fig. 12) every pair whose source storage holds it
  in Suspend or failure Suspend; a pair whose creation failed half way (the source
  storage gave up waiting for ICOK while the target side registered it) is deleted
  at the target and created again, and a pair creation of the scenario that failed
  outright is tried again, as an operator would.
- ``break-rule``: switch on a test hook that breaks a protocol rule, so a saved
  scenario replays a deliberately broken run (``reflect-out-of-order``: target
  edges ignore rule 2003 and reflect whatever WR entry they hold).
"""

from __future__ import annotations

from typing import Any

from rcnlab.lab import LabError
from rcnlab.model.pair_state import IllegalCommand, PairState
from rcnlab.scenario.runner import Runner, action

RULES = ("reflect-out-of-order",)


def _heal_all(r: Runner) -> None:
    net = r.net
    specs = {ls.name: ls for ls in net.topo.links}
    for name, link in net.links.items():
        spec = specs.get(name)
        for ch in link.channels:
            if not ch.up:
                ch.restore()
            if spec is not None:
                ch.loss, ch.jitter = spec.loss, spec.jitter
    for dev in net.devices.values():
        if not dev.up:
            r.lab.restart(dev.name)
    net.management.emit("healed", None)


def _resync_all(r: Runner) -> None:
    """Resync every suspended pair. A pair whose target took over (failover) while its
    source still stands in Duplex (the prompt variant never tells the source) is
    suspended at the source first; the next resync-all resyncs it."""
    lab = r.lab
    for storage in lab.net.storages:
        for pair in list(storage.pairs.values()):
            try:
                if pair.role == "target":
                    _recreate_half_pair(r, pair)
                elif pair.state in (PairState.SUSPEND, PairState.FAILURE_SUSPEND):
                    lab.resync(lab.net.volume_name(pair.local))
                elif pair.state is PairState.DUPLEX and lab.net.pair_view(storage, pair).takeover:
                    lab.suspend(lab.net.volume_name(pair.local))
            except (LabError, IllegalCommand) as exc:
                r.refused.append(f"resync-all: {exc}")
    for step in r.scenario.steps if r.scenario else ():  # a creation that failed outright: try again
        if step.do == "pair-create" and all(lab.volume(v)[0].pair_state(lab.volume(v)[1].lun) is PairState.SIMPLEX
                                            for v in (step.args["source"], step.args["target"])):
            try:
                lab.pair_create(step.args["source"], step.args["target"], step.args.get("mode", "async"))
            except (LabError, IllegalCommand) as exc:
                r.refused.append(f"resync-all: {exc}")


def _recreate_half_pair(r: Runner, pair: Any) -> None:
    """A target-side pair whose source storage (up) holds no pair: delete it here, then
    create the pair again from the source once the delete is through."""
    lab = r.lab
    source = lab.net.storage_of(pair.remote)
    if source is None or not source.up or source.pairs.get(pair.remote.lun) is not None:
        return
    names = lab.net.volume_name(pair.remote), lab.net.volume_name(pair.local)
    lab.delete_pair(names[1])

    def create() -> None:
        try:
            lab.pair_create(names[0], names[1], pair.mode)
        except (LabError, IllegalCommand) as exc:
            r.refused.append(f"resync-all: {exc}")

    r.net.kernel.timer(0.2, create)


def _break_rule(r: Runner, rule: str) -> None:
    if rule == "reflect-out-of-order":
        for edge in r.net.edges:
            edge.unsafe_reflect_any_order = True
    r.net.management.emit("rule-broken", None, rule=rule)


action("heal-all")(_heal_all)
action("resync-all")(_resync_all)
action("break-rule")(_break_rule)
