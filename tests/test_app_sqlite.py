"""SQLite on the emulated volumes (rcnlab.apps, ``rcnlab app sqlite``): with the rules kept
every target image is a consistent database holding exactly transactions 1..k; with a
rule broken, or database and journal in two order groups, the check can fail."""

import json

import pytest

apsw = pytest.importorskip("apsw")

from rcnlab.apps.bank import check_database
from rcnlab.apps.files import Region, read_files, scan
from rcnlab.apps.run import Fault, JournalMode, Layout, Options, Rule, run_app
from rcnlab.apps.vfs import BlockStore, BlockVFS
from rcnlab.cli import main
from rcnlab.shipped import find
from rcnlab.topo.load import load_topology

AT = 0.05  # virtual seconds of workload before the fault: ~180 rollback or ~380 WAL transactions


@pytest.fixture(scope="module")
def fig1():
    return load_topology(find("topology", "fig1"))


class Disk:
    """An in-memory block device with the session's interface; ``flushed`` counts barriers."""

    block_size, blocks = 4096, 1 << 16

    def __init__(self):
        self.data, self.flushed = {}, 0

    def write(self, block, data):
        assert len(data) == self.block_size
        self.data[block] = bytes(data)

    def write_sync(self, block, data):
        self.write(block, data)
        self.flush()

    def flush(self):
        self.flushed += 1

    def read(self, block):
        return self.data.get(block, bytes(self.block_size))


def _stores(disk):
    return {name: BlockStore(name=name, region=Region(volume="V", first=i * 64, blocks=64), device=disk)
            for i, name in enumerate(["t.db", "t.db-journal"])}


def test_a_files_size_and_place_are_read_back_from_the_volume_alone():
    disk = Disk()
    stores = _stores(disk)
    for s in stores.values():
        s.write_header()
    db = stores["t.db"]
    db.create()
    db.write(b"x" * 5000, 100)  # two blocks, the first partial
    assert [(f.exists, f.size) for f in scan("V", disk.read)] == [(False, 0)] * 2  # not before the barrier
    db.sync()
    assert disk.flushed == 1
    found = {f.name: f for f in scan("V", disk.read)}
    assert found["t.db"].exists and found["t.db"].size == 5100 and found["t.db"].region.blocks == 64
    assert read_files(disk.read, "V", 4096) == {"t.db": bytes(100) + b"x" * 5000}
    db.write(b"y", 4095)  # a partial write keeps the rest of its block
    db.sync()
    assert read_files(disk.read, "V", 4096)["t.db"][4094:4097] == b"xyx"
    db.delete()
    assert read_files(disk.read, "V", 4096) == {}


def test_the_vfs_runs_sqlite_on_the_blocks(tmp_path):
    disk = Disk()
    stores = _stores(disk)
    for s in stores.values():
        s.write_header()
    vfs = BlockVFS("rcnlab-test-vfs", stores)
    try:
        conn = apsw.Connection("t.db", vfs=vfs.name)
        conn.execute("PRAGMA page_size = 4096; PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER)")
        with conn:
            conn.executemany("INSERT INTO account VALUES (?, 1000)", [(i,) for i in range(10)])
        synced = disk.flushed
        with conn:
            conn.execute("UPDATE account SET balance = balance - 5 WHERE id = 1")
        assert disk.flushed > synced  # a commit waits for the barrier
        conn.execute("CREATE TABLE transfer (n INTEGER PRIMARY KEY)")
        with conn:
            conn.execute("INSERT INTO transfer VALUES (1)")
            conn.execute("UPDATE account SET balance = balance + 5 WHERE id = 2")
    finally:
        vfs.unregister()
    for name, data in read_files(disk.read, "V", 4096).items():
        (tmp_path / name).write_bytes(data)
    check = check_database(tmp_path / "t.db", 10)
    assert check.consistent and check.total == 10_000 and check.last == 1


@pytest.mark.parametrize("journal", list(JournalMode))
@pytest.mark.parametrize("fault", list(Fault))
@pytest.mark.parametrize("seed", [1, 2])
def test_with_the_rules_kept_the_target_is_always_a_consistent_database(fig1, seed, fault, journal):
    out = run_app(fig1, Options(seed=seed, fault=fault, journal=journal, at=AT, loss=0.01))
    r = out.record()
    assert r["integrity_check"] == "ok" and r["invariant"] and r["exactly_1_to_k"], r
    assert out.consistent and out.committed > 100
    assert r["target_last"] <= r["committed"] + r["in_doubt"]  # an in-doubt commit may have reached the target
    assert min(r["target_last"], r["committed"]) + r["lost_transactions"] == r["committed"]
    if fault is Fault.SITE:  # the source edge still sends what it holds: nothing acknowledged is lost
        assert out.lost == 0 and out.rpo == 0
    else:
        assert 0 < out.rpo <= out.fault_at


def test_a_lost_transactions_age_is_the_rpo(fig1):
    out = run_app(fig1, Options(seed=0, at=AT, loss=0))
    assert out.consistent and out.lost > 0
    assert 0 < out.rpo < AT


def test_reflecting_out_of_order_corrupts_some_targets(fig1):
    outs = [run_app(fig1, Options(seed=seed, at=AT, loss=0.01, break_rule=Rule.REFLECT_OUT_OF_ORDER))
            for seed in range(4)]
    assert any(not o.consistent for o in outs)
    assert any("malformed" in o.check.integrity or not o.check.exact for o in outs)


def test_database_and_journal_in_two_order_groups_can_be_torn(fig1):
    one = run_app(fig1, Options(seed=2, at=AT, loss=0.01, layout=Layout.ONE_GROUP))
    two = run_app(fig1, Options(seed=2, at=AT, loss=0.01, layout=Layout.TWO_GROUPS))
    assert one.consistent
    assert not two.consistent


# -- the command --------------------------------------------------------------------------------
def test_the_command_reports_the_target_and_exits_0(capsys):
    assert main(["app", "sqlite", "--at", str(AT), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    for text in ("transactions committed", "integrity_check  ok", "sum of balances 100000 (expected 100000): holds",
                 "exactly 1..", "RPO", "the target is a consistent database"):
        assert text in out


def test_the_command_json_and_exit_1_when_the_target_is_corrupt(capsys):
    code = main(["app", "sqlite", "--at", str(AT), "--seed", "2", "--loss", "0.01", "--layout", "two-groups",
                 "--json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 1 and r["consistent"] is False and "malformed" in r["integrity_check"]
    assert main(["app", "sqlite", "--at", str(AT), "--seed", "2", "--loss", "0.01", "--layout", "two-groups"]) == 1
    out = capsys.readouterr().out
    assert "the database does not open" in out and "the target is NOT a consistent database" in out
    assert {"committed", "target_last", "exactly_1_to_k", "integrity_check", "invariant", "lost_transactions",
            "rpo_ms", "layout", "journal", "fault"} <= set(r)


@pytest.mark.parametrize("argv, words", [
    (["--at", "-1"], "app sqlite --at: expected a finite number >= 0, got '-1'"),
    (["--fault", "meteor"], "app sqlite --fault: invalid choice: 'meteor'"),
    (["--loss", "1"], "app sqlite --loss: expected a probability in [0, 1), got '1'"),
    (["no-such-topology"], "app sqlite topology: no topology 'no-such-topology'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    assert main(["app", "sqlite", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_bench_reports_transactions_per_cpu_second_and_the_emulations_share():
    from rcnlab.apps.bench import line, measure

    r = measure(quick=True)
    assert r["transactions"] > 0 and r["transactions_per_cpu_s"] > 0 and 0 < r["emulation_share"] < 1
    assert "transactions per CPU second" in line(r) and "in the emulation" in line(r)


# -- the lab's application panel ----------------------------------------------------------------
def test_the_status_follows_the_run_and_the_failover(fig1, tmp_path):
    from rcnlab.apps.run import open_session, start
    from rcnlab.apps.status import rate, status

    options = Options(seed=1, at=AT)
    session, plan = open_session(fig1, options)
    app = start(session, plan, options)
    try:
        seen = [status(app)]
        for _ in range(150):
            app.step()
            seen.append(status(app))
        looked = status(app, look=True)
        app.inject()
        app.fail_over()
        after = status(app, app.outcome(tmp_path))
    finally:
        app.close()
    assert [s.committed for s in seen] == list(range(151)) and seen[-1].rate > 0
    assert seen[-1].target_last is None and looked.target_last is not None and 0 <= looked.target_last <= 150
    assert after.integrity == "ok" and after.consistent and after.lost == 150 - after.target_last
    assert rate([1.0, 2.0, 2.5, 3.0], now=3.0, window=1.0) == 2.0


def test_the_app_panel_shows_rate_committed_target_and_after_failover_the_check():
    import asyncio

    from textual.app import App

    from rcnlab.apps.status import AppStatus
    from rcnlab.tui.widgets.app_panel import AppPanel

    class Host(App):
        def compose(self):
            yield AppPanel()

    async def main():
        app = Host()
        async with app.run_test(size=(60, 14)) as pilot:
            panel = app.query_one(AppPanel)
            assert "no application running" in _plain(panel)
            panel.show(AppStatus(journal="wal", layout="two-groups", committed=1234, rate=3600.0, target_last=1100))
            await pilot.pause()
            text = _plain(panel)
            assert "3,600" in text and "1,234" in text and "1,100" in text and "integrity_check" not in text
            assert panel.border_subtitle == "wal, two-groups"
            panel.show(AppStatus(journal="wal", layout="two-groups", committed=1234, rate=0.0, target_last=0,
                                 integrity="database disk image is malformed", lost=1234, rpo_ms=49.7,
                                 consistent=False))
            await pilot.pause()
            text = _plain(panel)
            assert "malformed" in text and "1,234 transactions (RPO 49.7 ms)" in text and "NOT consistent" in text

    asyncio.run(main())


def _plain(widget):
    from rich.console import Console

    console = Console(width=60, record=True)
    console.print(widget.content)
    return console.export_text()


def test_without_apsw_the_command_says_how_to_install_it(capsys, monkeypatch):
    import sys

    import rcnlab.apps

    monkeypatch.setitem(sys.modules, "apsw", None)  # import apsw raises ImportError
    for name in ("run", "vfs"):
        monkeypatch.delitem(sys.modules, f"rcnlab.apps.{name}", raising=False)
        monkeypatch.delattr(rcnlab.apps, name, raising=False)
    assert main(["app", "sqlite"]) == 2
    err = capsys.readouterr().err
    assert err == "rcnlab: app sqlite: needs apsw (apsw is not installed): pip install 'rcnlab[apps]'\n"


def test_without_apsw_the_bench_says_so_and_goes_on(monkeypatch):
    """`rcnlab bench` on the plain install (no apps extra) reports the app as not measured."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['apsw'] = None\n"
            "from rcnlab.apps import bench\n"
            "print(bench.line(bench.measure(quick=True)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "SQLite app: not measured: apsw is not installed (pip install 'rcnlab[apps]')\n"
