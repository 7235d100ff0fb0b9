"""What the lab's application panel shows, computed without Textual: transactions per
(virtual) second, how many committed, the last transaction on the target, and after a
failover the target's integrity check and the transactions lost."""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs

from rcnlab.apps.run import App, Outcome

#: Virtual seconds over which the transaction rate is taken.
RATE_WINDOW = 0.05


@attrs.frozen(kw_only=True)
class AppStatus:
    journal: str
    layout: str
    committed: int
    rate: float  # transactions per virtual second, over the last RATE_WINDOW
    target_last: int | None = None  # the last transaction the target holds, when looked at
    integrity: str | None = None  # after the failover: PRAGMA integrity_check on the target
    lost: int | None = None  # after the failover
    rpo_ms: float | None = None
    consistent: bool | None = None


def rate(commits: list[float], now: float, window: float = RATE_WINDOW) -> float:
    """Commits per virtual second in (now - window, now]."""
    recent = 0
    for t in reversed(commits):
        if t <= now - window:
            break
        recent += 1
    return recent / window


def target_last(app: App) -> int | None:
    """The last transaction the target volumes hold now (the image opened as a failover
    would find it), or None when it does not open as a database."""
    with tempfile.TemporaryDirectory(prefix="rcnlab-app-") as tmp:
        check = app.target_check(Path(tmp))
    return check.last if check.integrity == "ok" else None


def status(app: App, outcome: Outcome | None = None, look: bool = False) -> AppStatus:
    """The panel's values now; ``look``: open the target's image for its last transaction
    (an export and a sqlite3 open: at most a few times a second)."""
    o = app.options
    base = AppStatus(journal=str(o.journal), layout=str(o.layout), committed=len(app.bank.committed),
                     rate=rate(app.bank.committed, app.session.kernel.now),
                     target_last=target_last(app) if look and outcome is None else None)
    if outcome is None:
        return base
    return attrs.evolve(base, target_last=outcome.check.last, integrity=outcome.check.integrity, lost=outcome.lost,
                        rpo_ms=outcome.rpo * 1000, consistent=outcome.consistent)
