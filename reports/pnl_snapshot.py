"""The daily P&L snapshot: every instrument's `report pnl` row for every day, kept so that "P&L by label on a past
date" is a lookup, not a recomputation of the whole ledger (the table `pnl_snapshot_daily`).

A stored row holds from its `date` to its `until` (inclusive; null: still holds): engine/pnl_daily.py works out
the days on which a row can change, and a day whose row equals the one before is not stored again. The row is
`report pnl`'s own `instruments[]` row for that day, `reconcile_diff` flag included, so `report labels --to DAY`
from the snapshot is the same JSON as computed afresh (tests/test_pnl_snapshot.py compares every day).

Only the view `report labels` shows by default is kept: IBKR-match (mode ibkr, its lots, premiums folded) from the
first event on. A `--from`, another mode or method, or `--currency` is computed from the ledger as before.
"""

from __future__ import annotations

import dataclasses
import datetime
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from beanflex.contract.gcpause import paused_gc
from beanflex.engine import pnl_daily
from beanflex.engine.book import Book
from beanflex.engine.pnl import Options, in_report_order

from . import snapshot_store
from . import totals as totals_mod
from .reports import first_diff_days, instrument_row

#: The one view the snapshot keeps: `report labels` / `report pnl` without options.
VIEW = Options(mode="ibkr", method="fifo")
VIEW_NAME = "ibkr"


def covers(options: Options) -> bool:
    """Whether the snapshot answers a report with these options: the stored view, up to a day, nothing else."""
    return (options.mode, options.method, options.start, options.currency) == ("ibkr", "fifo", None, None) \
        and options.end is not None


@paused_gc()
def daily_rows(book: Book, tolerance: Decimal) -> Iterator[tuple[int, datetime.date, dict]]:
    """(ordinal, day, row) for each instrument and each day its row changes; ordinal is the instrument's place in
    `report pnl` (by account, then symbol), so a day's rows come back in the report's order. A row None: from
    that day the instrument has no row (snapshot_store ends the one before)."""
    first_diff = first_diff_days(book, tolerance)
    for ordinal, (key, inst) in enumerate(in_report_order(book)):
        diff_day = first_diff.get(key)
        previous = None
        for day, pnl in pnl_daily.instrument_days(book, inst, VIEW, (diff_day,) if diff_day else ()):
            row = instrument_row(pnl, book.base_currency) if pnl is not None else None
            if row is not None and diff_day is not None and day >= diff_day:
                row["flags"] = sorted(set(row["flags"]) | {"reconcile_diff"})
            if row != previous:
                yield ordinal, day, row
            previous = row


def other_base_rates(book: Book) -> Iterator[tuple[str, datetime.date, Decimal]]:
    """(currency, day, rate to the ledger's base) on each day a rate of another account base may change, so the
    totals of a stored day convert as `report pnl` does (totals.py: the statements' rate on the as-of day)."""
    reporting = book.base_currency
    for currency in sorted({book.base_of(account) for account, _ in book.instruments} - {reporting}):
        days = {day for day, _ in book.rates.get(currency) or []}
        for pair in ((currency, reporting), (reporting, currency)):
            days |= {day for day, _ in book.pairs.get(pair) or []}
        for day in sorted(days):
            rate = book.rate(currency, day, reporting)
            if rate is not None:
                yield currency, day, rate


class StoredRow:
    """A stored row as totals.totals_at reads a pnl row: its base values, base currency, and whether its
    unrealized is unknown (no mark: the report's null)."""

    def __init__(self, row: dict) -> None:
        self.row = row
        self.base_currency = (row.get("base") or {}).get("currency") or ""
        self.unknown_unrealized = (row.get("base") or {}).get("unrealized") is None  # pnl.NEEDS_MARK's null
        self.instrument = _Who(row.get("account"), row.get("conid"), row.get("symbol"))

    def value(self, name: str) -> Decimal | None:
        text = (self.row.get("base") or {}).get(name.removeprefix("base.")) if name.startswith("base.") \
            else self.row.get(name)
        return None if text is None else Decimal(text)


class _Who:
    def __init__(self, account, conid, symbol) -> None:
        self.account, self.conid, self.symbol = account, conid, symbol


def pnl_report_on(day: datetime.date, rows: list[dict], base_currency: str, rate_of) -> dict:
    """`report pnl --to DAY` (its instruments and totals; no account-level items) from the rows stored for DAY.
    `rate_of(currency)` is the stored rate of another base on DAY (None: none stated)."""
    totals = totals_mod.totals_at([StoredRow(row) for row in rows], base_currency, base_currency, day, rate_of)
    return {"as_of": day.isoformat(), "base_currency": base_currency, "mode": VIEW.mode, "method": VIEW.method,
            "premium": "folded", "to": day.isoformat(), "instruments": rows, "totals": totals, "accounts": []}


def write_snapshot(path, loaded, labels_file, ledger_errors: list[str] = ()) -> tuple[int, int]:
    """Write the snapshot of a loaded ledger (reports/ledger.LoadedLedger) to `path`: its rows, the files the load
    read, labels.yaml's members, the ledger's instruments as labels match them and what the load said about the
    ledger's errors (the lines a report prints on stderr). (rows stored, distinct days)."""
    from beanflex.engine.labels_config import assign

    book = loaded.book
    config, _errors, labels_path = loaded.labels(labels_file)
    catalogue = loaded.instruments
    membership, _ = assign(config, catalogue)
    by_key = {inst.key: inst for inst in catalogue}
    members = [(label, by_key[key].conid, by_key[key].symbol, weight) for key, weights in membership.items()
               for label, weight in weights.items()]
    days: set[datetime.date] = set()

    def counted():
        for ordinal, day, row in daily_rows(book, loaded.tolerance):
            days.add(day)
            yield ordinal, day, row

    files = snapshot_store.source_files(loaded.options_map.get("include") or [str(loaded.main_file)])
    count = snapshot_store.write(path, files=files, base_currency=book.base_currency, view=VIEW_NAME,
                                 rows=counted(), members=members, rates=other_base_rates(book),
                                 catalogue=[dataclasses.asdict(inst) for inst in catalogue],
                                 labels_path=str(labels_path), ledger_errors=ledger_errors)
    return count, len(days)


class Answer:
    """What `report labels --to DAY` needs, from a fresh snapshot: the pnl report of the day, labels.yaml (the
    file the ledger names) read now, and the ledger's instruments as labels match them."""

    def __init__(self, pnl: dict, labels_path, catalogue: list[dict], ledger_errors: list[str]) -> None:
        from beanflex.engine.labels_config import Instrument, load_labels

        self.pnl = pnl
        self.ledger_errors = ledger_errors
        self.labels_path = labels_path
        self.config, self.errors = load_labels(labels_path)
        self.instruments = [Instrument(**item) for item in catalogue]


def answer(path, options: Options, accounts=()) -> tuple[Answer | None, str | None]:
    """(the Answer for `options.end`, None) from a fresh snapshot at `path`; (None, why not) when it is missing,
    stale or does not cover these options (why is None when nothing needs saying: no snapshot, another view)."""
    if not covers(options) or not Path(path).exists():
        return None, None
    try:
        store = snapshot_store.Snapshot(Path(path))
    except (sqlite3.Error, KeyError) as exc:  # damaged or not ours: never trusted, rebuilt by `beanflex snapshot`
        return None, f"{path} is unreadable: {exc}"
    try:
        stale = store.stale_reason()
        if stale:
            return None, stale
        rows = [row for row in store.rows_on(VIEW_NAME, options.end) if not accounts or row["account"] in accounts]
        pnl = pnl_report_on(options.end, rows, store.meta["base_currency"], lambda ccy: store.rate_on(ccy, options.end))
        return Answer(pnl, Path(store.meta["labels_path"]), store.catalogue, store.ledger_errors), None
    finally:
        store.close()
