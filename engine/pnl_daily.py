"""Each instrument's P&L day by day: the rows `report pnl --to DAY` would show, for every day, from one lot run.

A row changes only on a day that brings one of the instrument's events (a trade, a dividend, a corporate action,
a folded premium) or a new mark; between two such days it holds. So the days worked out are those, not every
calendar day: 100 AAPL bought on 03-01, marked on 03-05 and 03-08, sold on 03-10 give rows on 03-01 (unrealized
unknown, no mark yet), 03-05, 03-08 and 03-10 (realized); the row of 03-08 is the one of 03-09 too.

Each day's row comes from pnl.pnl_at_end, the very function `report pnl` uses, fed with the lots open at the end
of that day (lots.run's checkpoints of one run) and the run's closings up to it; so a stored day and a report
computed afresh for it cannot disagree unless the lot run itself depended on where it stops, which it does not
(a run applies events in order and never looks ahead). tests/test_pnl_snapshot.py checks every day of several
ledgers against the fresh report.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Iterable, Iterator

from . import carry
from .book import Book, Instrument
from .pnl import InstrumentPnl, Options, pnl_at_end, view_events


def change_days(book: Book, inst: Instrument, options: Options, extra: Iterable[datetime.date] = ()
                ) -> list[datetime.date]:
    """The days on which the instrument's row may change, from its first event on: its events' days (as this
    view sees them, folded premiums included), its marks' days and `extra` (e.g. the day a reconciliation diff
    appears, which flags the row)."""
    events = view_events(book, inst, options)
    event_days = {e.date for e in events} | {e.date for e in inst.events}
    if not event_days:
        return []
    first = min(event_days)
    days = event_days | set(book.mark_dates(inst.symbol)) | set(extra)
    return sorted(day for day in days if day >= first)


def instrument_days(book: Book, inst: Instrument, options: Options, extra: Iterable[datetime.date] = ()
                    ) -> Iterator[tuple[datetime.date, InstrumentPnl | None]]:
    """(day, the instrument's P&L as of the end of that day) for each change day; None on a day it has no row
    (pnl.book_pnl keeps a row with open lots or any contribution: a position transferred out at cost leaves
    neither). `options.start` must be None: a row as of a day counts from the first event."""
    if options.start is not None:
        raise ValueError("daily P&L rows count from the first event: options.start must be None")
    days = change_days(book, inst, options, extra)
    if not days:
        return
    run = carry.run(book, view_events(book, inst, options), options.lot_method, None, checkpoints=days)
    memo: dict = {}
    for day in days:
        row = pnl_at_end(book, inst, dataclasses.replace(options, end=day), run.snapshots[day], run.closings, memo)
        yield day, (row if row.lots or row.contributions else None)
