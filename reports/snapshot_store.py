"""The daily P&L snapshot on disk: one SQLite file (Python's own sqlite3), derived, never committed, rebuilt at will.

Why SQLite: a past day is then a query by anyone, not only by beanflex. The P&L by label on 2024-06-30, with the
weights labels.yaml gives (SQLite sums the decimal text as floating point: for exact figures ask `beanflex report
labels --to 2024-06-30`, which reads the same rows as Decimals):

    SELECT m.label, SUM(m.weight * s.base_total) FROM pnl_snapshot_daily s
      JOIN label_members m ON m.conid = s.conid
     WHERE s.date <= '2024-06-30' AND (s.until IS NULL OR s.until >= '2024-06-30') GROUP BY m.label;

The file names the ledger files it was built from and their sha256 (every file the loader read, labels.yaml
included, as Beancount's own cache does); a snapshot whose files changed since is stale and never answers.
It is written to a temporary file beside it and renamed, so a reader sees the old snapshot or the new one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Iterable

#: Bump when the tables or the meaning of a stored row change: an older file is then stale.
FORMAT = "1"
NUMBERS = ("quantity", "cost_basis", "market_value", "realized", "unrealized", "commissions", "dividends",
           "withholding", "fees", "total")
BASE_NUMBERS = ("cost_basis", "realized", "unrealized", "fx", "total")
SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE pnl_snapshot_daily (
  view TEXT NOT NULL, ordinal INTEGER NOT NULL, account TEXT NOT NULL, conid TEXT, symbol TEXT NOT NULL,
  currency TEXT, date TEXT NOT NULL, until TEXT,
  {", ".join(f"{name} TEXT" for name in NUMBERS)},
  base_currency TEXT, {", ".join(f"base_{name} TEXT" for name in BASE_NUMBERS)},
  labels TEXT, flags TEXT, row_json TEXT NOT NULL);
CREATE INDEX pnl_snapshot_daily_day ON pnl_snapshot_daily (view, date, until);
CREATE TABLE label_members (label TEXT NOT NULL, conid TEXT, symbol TEXT NOT NULL, weight TEXT NOT NULL);
CREATE TABLE base_rates (currency TEXT NOT NULL, date TEXT NOT NULL, rate TEXT NOT NULL);
"""


def source_files(include: Iterable[str]) -> dict[str, str]:
    """{path: sha256} of every file the ledger load read (a folder, e.g. notes/, counts file by file)."""
    found: dict[str, str] = {}
    for name in include:
        path = Path(name)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            found[str(file)] = _sha256(file) if file.exists() else "missing"
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write(path: Path, *, files: dict[str, str], base_currency: str, view: str, rows: Iterable[tuple],
          members: Iterable[tuple[str, str | None, str, Decimal]], rates: Iterable[tuple],
          catalogue: list[dict], labels_path: str, ledger_errors: list[str] = ()) -> int:
    """Write the snapshot; `rows` are pnl_snapshot.daily_rows' (ordinal, day, row) in instrument order, `members`
    (label, conid, symbol, weight) from labels.yaml. Returns the number of rows stored."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            db.executescript(SCHEMA)
            count = db.executemany(_INSERT, _with_until(view, rows)).rowcount
            db.executemany("INSERT INTO label_members VALUES (?, ?, ?, ?)",
                           ((label, conid, symbol, str(weight)) for label, conid, symbol, weight in members))
            db.executemany("INSERT INTO base_rates VALUES (?, ?, ?)",
                           ((ccy, day.isoformat(), str(rate)) for ccy, day, rate in rates))
            built = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            meta = {"format": FORMAT, "files": json.dumps(files, sort_keys=True), "base_currency": base_currency,
                    "catalogue": json.dumps(catalogue), "labels_path": labels_path,
                    "ledger_errors": json.dumps(list(ledger_errors)), "built": built}
            db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            db.commit()
        finally:
            db.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return count


_INSERT = f"INSERT INTO pnl_snapshot_daily VALUES ({', '.join('?' * (12 + len(NUMBERS) + len(BASE_NUMBERS)))})"


def _with_until(view: str, rows: Iterable[tuple]):
    """Each row with the last day it holds: the day before the same instrument's next row, or before the day its
    row ends (a None row, not stored); None: it still holds."""
    held = None
    for ordinal, day, row in rows:
        if held is not None:
            until = day - datetime.timedelta(days=1) if held[0] == ordinal else None
            yield _record(view, *held, until)
        held = (ordinal, day, row) if row is not None else None
    if held is not None:
        yield _record(view, *held, None)


def _record(view: str, ordinal: int, day: datetime.date, row: dict, until: datetime.date | None) -> tuple:
    base = row.get("base") or {}
    return (view, ordinal, row["account"], row.get("conid"), row["symbol"], row.get("currency"), day.isoformat(),
            until.isoformat() if until else None, *(row.get(name) for name in NUMBERS), base.get("currency"),
            *(base.get(name) for name in BASE_NUMBERS), ",".join(row.get("labels") or []),
            ",".join(row.get("flags") or []), json.dumps(row, separators=(",", ":")))


class Snapshot:
    """An open snapshot file: its meta, whether it is still the ledger's, and the rows of a day."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.meta = dict(self.db.execute("SELECT key, value FROM meta"))

    def close(self) -> None:
        self.db.close()

    def stale_reason(self) -> str | None:
        """Why the snapshot cannot answer (None: it can): another format, or a ledger file changed since."""
        if self.meta.get("format") != FORMAT:
            return f"it was written by another beanflex (format {self.meta.get('format')}, now {FORMAT})"
        files = json.loads(self.meta["files"])
        for name, digest in files.items():
            now = _sha256(Path(name)) if Path(name).is_file() else "missing"
            if now != digest:
                return f"{name} changed since it was built"
        return None

    def rows_on(self, view: str, day: datetime.date) -> list[dict]:
        text = day.isoformat()
        return [json.loads(row) for (row,) in self.db.execute(
            "SELECT row_json FROM pnl_snapshot_daily WHERE view = ? AND date <= ? AND (until IS NULL OR until >= ?)"
            " ORDER BY ordinal", (view, text, text))]

    def rate_on(self, currency: str, day: datetime.date) -> Decimal | None:
        found = self.db.execute("SELECT rate FROM base_rates WHERE currency = ? AND date <= ? ORDER BY date DESC "
                                "LIMIT 1", (currency, day.isoformat())).fetchone()
        return Decimal(found[0]) if found else None

    @property
    def ledger_errors(self) -> list[str]:
        """What the load it was built from said about the ledger's errors (ledger_load.summary_lines)."""
        return json.loads(self.meta.get("ledger_errors") or "[]")

    @property
    def catalogue(self) -> list[dict]:
        return json.loads(self.meta.get("catalogue") or "[]")
