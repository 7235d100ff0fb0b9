"""The application panel: a SQLite bank on the emulated volumes (rcnlab.apps), as the
lab shows it: transactions per second, committed, the last transaction on the target,
and after a failover the target's integrity check and the transactions lost."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from rcnlab.apps.status import AppStatus


class AppPanel(Static):
    DEFAULT_CSS = """
    AppPanel { width: 44; height: auto; border: round $primary 50%; padding: 0 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("no application running", **kwargs)
        self.border_title = "Application: SQLite bank"
        self.status: AppStatus | None = None

    def show(self, status: AppStatus) -> None:
        """Redraw from ``status`` (skipped when nothing changed)."""
        if status == self.status:
            return
        self.status = status
        self.border_subtitle = f"{status.journal}, {status.layout}"
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim")
        grid.add_column()
        grid.add_row("transactions/s", f"{status.rate:,.0f}")
        grid.add_row("committed", f"{status.committed:,}")
        grid.add_row("last on target", "?" if status.target_last is None else f"{status.target_last:,}")
        if status.integrity is not None:
            style = "green" if status.consistent else "bold red"
            grid.add_row("integrity_check", Text(status.integrity, style=style))
            grid.add_row("lost", f"{status.lost:,} transactions (RPO {status.rpo_ms or 0:.1f} ms)")
            grid.add_row("target", Text("consistent" if status.consistent else "NOT consistent", style=style))
        self.update(grid)
