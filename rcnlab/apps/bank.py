"""The bank-transfer workload and its check on the target.

N accounts start with the same balance; each transaction moves a random amount from
one account to another and records its number (1, 2, ...) and commit time. What must
hold on any consistent copy: the balances sum to N times the opening balance, and the
recorded numbers are exactly 1..k for some k."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import attrs

OPENING = 1000  # each account's opening balance

SCHEMA = """
CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE transfer (n INTEGER PRIMARY KEY, src INTEGER NOT NULL, dst INTEGER NOT NULL,
                       amount INTEGER NOT NULL, padding BLOB NOT NULL);
"""
#: Bytes of padding per transfer row: the transfer table grows page by page, so transactions
#: touch several pages (and a torn copy shows).
PADDING = 400


@attrs.define(eq=False)
class Bank:
    """The workload on an open apsw connection; ``committed[n - 1]`` is transaction n's
    commit time (virtual seconds)."""

    conn: Any
    accounts: int
    rng: random.Random
    committed: list[float] = attrs.field(factory=list)
    attempted: int = 0  # the last transaction begun: committed, or in doubt if its commit failed

    @property
    def in_doubt(self) -> bool:
        """A commit that failed on an I/O error may have reached the disk (and the target) or not."""
        return self.attempted > len(self.committed)

    def open_accounts(self) -> None:
        with self.conn:
            self.conn.execute(SCHEMA)
            self.conn.executemany("INSERT INTO account VALUES (?, ?)", ((i, OPENING) for i in range(self.accounts)))

    def transfer(self, now: Any) -> None:
        """One transaction, numbered next; raises (and records nothing) if it fails."""
        n = self.attempted = len(self.committed) + 1
        src, dst = self.rng.sample(range(self.accounts), 2)
        amount = self.rng.randrange(1, 100)
        with self.conn:
            self.conn.execute("UPDATE account SET balance = balance - ? WHERE id = ?", (amount, src))
            self.conn.execute("UPDATE account SET balance = balance + ? WHERE id = ?", (amount, dst))
            self.conn.execute("INSERT INTO transfer VALUES (?, ?, ?, ?, ?)",
                              (n, src, dst, amount, self.rng.randbytes(PADDING)))
        self.committed.append(now())


@attrs.frozen(kw_only=True)
class Check:
    """What the target's database holds: ``integrity`` is PRAGMA integrity_check's answer
    ("ok") or the error that kept the database from opening."""

    integrity: str
    total: int | None = None  # sum of balances
    expected_total: int = 0
    transactions: int = 0  # rows in the transfer table
    last: int = 0  # the highest transaction number there
    exact: bool = False  # the numbers are exactly 1..last

    @property
    def invariant(self) -> bool:
        return self.total == self.expected_total

    @property
    def consistent(self) -> bool:
        return self.integrity == "ok" and self.invariant and self.exact


def check_database(path: Path, accounts: int) -> Check:
    """Open the database file (its journal or WAL beside it is recovered as SQLite does) with
    the standard library's sqlite3 and check it."""
    expected = accounts * OPENING
    try:
        db = sqlite3.connect(path)
        try:
            integrity = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
            total = db.execute("SELECT sum(balance) FROM account").fetchone()[0]
            count, low, high = db.execute("SELECT count(*), min(n), max(n) FROM transfer").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return Check(integrity=f"error: {exc}", expected_total=expected)
    high = high or 0
    return Check(integrity=integrity, total=total, expected_total=expected, transactions=count, last=high,
                 exact=count == high and (low or 1) == 1)
