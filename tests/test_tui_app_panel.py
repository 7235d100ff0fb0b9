"""The lab's application panel (issue 14): A starts the SQLite bank on the lab's volumes,
run in turns with the lab's paced kernel; the panel counts its transactions, and after
the operator's failover (o) shows the target's integrity check and the transactions lost."""

import asyncio
import math

import attrs
import pytest

pytest.importorskip("apsw")

from rcnlab.apps.run import plan, prepare
from rcnlab.errors import BadInput
from rcnlab.topo.load import builtin_topology_path, load_topology
from rcnlab.tui.app import RcnLabApp
from rcnlab.tui.launch import bank_topology
from tests.helpers import TIMEOUT, act, make_app, noted, run_app, until


def _bank_lab(tmp_path, **kwargs):
    topo = load_topology(builtin_topology_path())
    app = RcnLabApp(prepare(topo, plan(topo), loss=None), out_dir=tmp_path, seed=7, **kwargs)
    app.NOTIFICATION_TIMEOUT = 3600
    return app


def _panel(app):
    return app.query_one("#app").status


def test_on_a_topology_that_does_not_fit_the_key_says_so_and_nothing_changes(tmp_path):
    app = make_app(tmp_path)

    async def body(pilot):
        pairs = len(app.net.pair_views())
        await act(pilot, "A")
        (line,) = await noted(pilot, "bank app: refused")
        assert "4096" in line and "rcnlab tui --app sqlite" in line
        assert app.bank is None and len(app.net.pair_views()) == pairs and not app.query("#app")

    run_app(app, body)


def test_the_key_starts_the_bank_and_after_failover_the_panel_checks_the_target(tmp_path):
    app = _bank_lab(tmp_path, speed=math.inf)

    async def body(pilot):
        await act(pilot, "A")
        assert app.bank is not None and app.query("#app")
        await until(pilot, lambda: _panel(app) is not None and _panel(app).committed > 0)
        first = _panel(app).committed
        await until(pilot, lambda: _panel(app).committed > first + 20)  # it keeps committing
        assert app.bank.app.session.kernel is app.net.kernel  # on the lab's own emulation
        await act(pilot, "o")  # the operator fails the order group over
        await until(pilot, lambda: _panel(app).integrity is not None)
        st = _panel(app)
        assert st.integrity == "ok" and st.consistent and st.lost is not None and st.lost >= 0
        assert st.target_last == st.committed - st.lost
        assert app.errors == 0

    run_app(app, body)


def test_the_bank_follows_the_paced_clock(tmp_path):
    """Paced (x1), the transactions take virtual time as the lab's clock lets it pass."""
    app = _bank_lab(tmp_path, speed=1.0, bank=True)

    async def body(pilot):
        await until(pilot, lambda: app.bank is not None and app.bank.app is not None
                    and len(app.bank.app.bank.committed) > 5)
        commits = app.bank.app.bank.committed
        assert commits == sorted(commits) and commits[-1] <= app.bridge.clock.current_time()
        await act(pilot, "space", "full_stop", "full_stop", "full_stop")  # paused, single steps: the app waits on
        before = len(commits)
        end = asyncio.get_running_loop().time() + TIMEOUT
        # ... and commits between steps; its thread needs wall time to issue each I/O, so step until it has
        while len(app.bank.app.bank.committed) <= before:
            assert asyncio.get_running_loop().time() < end, "no commit between single steps"
            await act(pilot, *["full_stop"] * 20)
        assert app.bank.error is None and app.errors == 0

    run_app(app, body)


def test_app_sqlite_prepares_the_topology_and_says_when_it_cannot():
    topo = bank_topology(load_topology(builtin_topology_path()))
    assert topo.block_size == 4096
    with pytest.raises(BadInput, match="--app sqlite: .*no source-site host"):
        bank_topology(attrs.evolve(topo, hosts=()))
