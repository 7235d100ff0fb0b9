"""What ``rcnlab bench`` reports for the application: SQLite transactions per CPU second
on Fig. 1, and the share of that time spent in the emulation (everything below the block
device: SCSI commands, the RCN, the barrier's wait) rather than in SQLite and the VFS."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # the VFS needs apsw, an optional extra; the bench runs without it
    from rcnlab.apps.vfs import BlockDevice

TRANSACTIONS = {True: 60, False: 1500}  # quick, full


@attrs.define(eq=False)
class Timed:
    """A block device that adds the CPU time of each call to ``spent[0]``."""

    device: BlockDevice
    spent: list[float]

    @property
    def block_size(self) -> int:
        return self.device.block_size

    @property
    def blocks(self) -> int:
        return self.device.blocks

    def _timed(self, fn: Any, *args: Any) -> Any:
        began = time.process_time()
        try:
            return fn(*args)
        finally:
            self.spent[0] += time.process_time() - began

    def write(self, block: int, data: bytes) -> Any:
        return self._timed(self.device.write, block, data)

    def flush(self) -> None:
        self._timed(self.device.flush)

    def read(self, block: int) -> bytes:
        result: bytes = self._timed(self.device.read, block)
        return result


def measure(quick: bool = False) -> dict[str, Any]:
    """Transactions per CPU second (rollback journal, one order group, no fault) and the
    emulation's share of that CPU time; a status line instead when apsw is missing."""
    try:
        from rcnlab.apps import run
    except ImportError:
        return {"status": "not measured: apsw is not installed (pip install 'rcnlab[apps]')"}
    from rcnlab.topo.load import load_builtin_topology

    spent = [0.0]
    options = run.Options()
    session, plan = run.open_session(load_builtin_topology(), options)
    app = run.start(session, plan, options, wrap=lambda device: Timed(device=device, spent=spent))
    count = TRANSACTIONS[quick]
    try:
        began, virtual = time.process_time(), session.kernel.now
        for _ in range(count):
            app.step()
        cpu = time.process_time() - began
        virtual = session.kernel.now - virtual
    finally:
        app.close()
    return {"transactions": count, "cpu_seconds": cpu, "transactions_per_cpu_s": count / cpu,
            "virtual_transactions_per_s": count / virtual if virtual else None, "emulation_share": spent[0] / cpu}


def line(result: dict[str, Any]) -> str:
    """The report's line."""
    if "status" in result:
        return f"SQLite app: {result['status']}"
    return (f"SQLite app: {result['transactions_per_cpu_s']:,.0f} transactions per CPU second "
            f"({result['transactions']} bank transfers, rollback journal, Fig. 1), "
            f"{result['emulation_share']:.0%} of it in the emulation")
