"""The one registry of the operator's commands: each command class and its one handler.

Every way in gives commands here: the scenario runner (each ``[[step]]``), the
walkthrough player (each step's action) and the lab's screen (keys, key bar, palette).
A handler ``fn(lab, command)`` checks first and refuses with a one-line `LabError` or
`IllegalCommand` that changes nothing; some return what they did (the devices a site
failure took down, the links a partition cut, the entries fetch-remaining found).

A new command: a class in rcnlab.ops.commands (its fields are the step's keys; a
``key`` ClassVar puts it on the lab's screen), its handler, and its row here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcnlab.lab import Lab
from rcnlab.ops import commands as c
from rcnlab.ops import contract, expect, faults, pairs

Handler = Callable[[Lab, Any], Any]

HANDLERS: dict[type[c.Command], Handler] = {
    c.Contract: contract.contract,
    c.ConfigureCustomer: contract.configure_customer,
    c.CreatePair: pairs.create_pair,
    c.Suspend: pairs.suspend,
    c.Resync: pairs.resync,
    c.Failover: pairs.failover,
    c.FetchRemaining: pairs.fetch_remaining,
    c.Failback: pairs.failback,
    c.DeletePair: pairs.delete_pair,
    c.Write: pairs.write,
    c.Workload: pairs.workload,
    c.StopWorkload: pairs.stop_workloads,
    c.FailLink: faults.fail_link,
    c.RestoreLink: faults.restore_link,
    c.SetLink: faults.set_link,
    c.Crash: faults.crash,
    c.Restart: faults.restart,
    c.SiteFailure: faults.site_failure,
    c.SiteRestore: faults.site_restore,
    c.Partition: faults.partition,
    c.Heal: faults.heal,
    c.Expect: expect.expect,
    c.Note: expect.note,
    c.HealAll: faults.heal_all,
    c.ResyncAll: pairs.resync_all,
    c.BreakRule: faults.break_rule,
    c.ForgeWrite: faults.forge_write,
}


def do(lab: Lab, command: c.Command) -> Any:
    """Carry out ``command`` on ``lab``'s network (raises `LabError`/`IllegalCommand`
    when it is refused); what the handler returns."""
    return HANDLERS[type(command)](lab, command)
