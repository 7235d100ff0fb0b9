"""The bank app in the lab: started on the lab's session, run in turns with the lab's paced
kernel (`Lockstep`), and after the operator's failover its target checked once.

Everything here runs between two kernel events: `LiveApp.begin` from inside the
emulation's loop, `LiveApp.update` from the screen's timer (the same thread; the
program's greenlet runs only inside `Lockstep`'s turns)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs

from rcnlab.apps.lockstep import Driver, Lockstep
from rcnlab.apps.run import App, AppError, Options, Outcome, Plan, misfit, plan, start
from rcnlab.apps.status import AppStatus, status
from rcnlab.run import Session


@attrs.define(eq=False)
class LiveApp:
    session: Session
    plan: Plan
    options: Options
    app: App | None = None  # once the pairs are in Duplex and the bank is created
    outcome: Outcome | None = None  # once the app stopped and every pair of it failed over
    lock: Lockstep | None = None

    @classmethod
    def begin(cls, session: Session, options: Options) -> LiveApp:
        """Pair the app's volumes and start the bank on ``session`` (the lab's): `AppError`
        (one line) when the topology cannot hold it."""
        topo = session.world.topo
        p = plan(topo)
        if (why := misfit(topo, p)) is not None:
            raise AppError(f"{topo.name}: {why}; open the lab with `rcnlab tui --app sqlite`")
        live = cls(session=session, plan=p, options=options)
        live.lock = Lockstep(session.kernel, live._body)
        live.lock.start()
        return live

    def _body(self, drive: Driver) -> None:
        self.app = start(self.session, self.plan, self.options, drive=drive)
        while self.app.step():
            pass

    @property
    def error(self) -> str | None:
        """Why the app could not run (one line), if it failed."""
        exc = self.lock.error if self.lock is not None else None
        return None if exc is None else f"{type(exc).__name__}: {exc}"

    @property
    def failed_over(self) -> bool:
        """Has every pair of the app failed over (the target host owns the data)?"""
        sources = {source for source, _, _ in self.plan.pairs(self.options.layout)}
        taken = {v.source for v in self.session.world.pair_views() if v.takeover}
        return sources <= taken

    def update(self, look: bool = False) -> AppStatus | None:
        """The panel's values now (None before the bank exists); once the app has stopped
        and every pair of it failed over, the target is checked (once) and the app closed.
        ``look``: open the target's image for its last transaction."""
        app, lock = self.app, self.lock
        if app is None or lock is None:
            return None
        if self.outcome is None and lock.done and self.failed_over:
            with tempfile.TemporaryDirectory(prefix="rcnlab-app-") as tmp:
                self.outcome = app.outcome(Path(tmp))
            app.close()
        return status(app, self.outcome, look=look)

    def stop(self) -> None:
        """The lab closes: the program's waits fail, it ends."""
        if self.lock is not None:
            self.lock.cancel()
