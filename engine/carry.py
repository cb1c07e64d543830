"""Lots that a corporate action moves from one instrument to another keep their basis, dates and base rates.

The lot engine runs one instrument at a time; a split into a new conid (pp01: 12000 GCM.OLD -> 480 GCM) or a
merger (uabean: 2.5052 LVGO -> 1.4831 TDOC + 10.62 USD) closes lots on one and opens them on the other. The
receiving instrument asks here what the giving one closed in that transaction: the base rate of that basis (so
3256.20 CAD bought at 0.93097 CHF stays 3031.49 CHF on the new conid, whatever the rate on the split day) and
the rows behind each lot (so `/opening/` history and the opening trade stay visible on the new conid).
"""

from __future__ import annotations

import datetime

from . import lots as lots_mod
from .book import ZERO, Book, Event


def carry_in(book: Book, method: str, end: datetime.date | None = None) -> lots_mod.CarryIn:
    """A `carry_in` for lots.run over this book: the giving instruments' runs, each computed once (cached on the
    book per method and end, so a report over every instrument runs each one once more at most)."""
    cache: dict = book.carry_runs.setdefault((method, end), {})
    busy: set = set()

    def run_of(key: tuple[str, str]) -> lots_mod.LotRun | None:
        if key not in cache:
            inst = book.instruments.get(key)
            if inst is None or key in busy:
                return None
            busy.add(key)
            cache[key] = lots_mod.run(inst.events, method, end, carry_in=receive)
            busy.discard(key)
        return cache[key]

    def receive(event: Event) -> lots_mod.Carried | None:
        basis, base, ids = ZERO, ZERO, {}
        for key in event.sources:
            found = run_of(key)
            for closing in (found.closings + found.moves if found is not None else ()):
                if closing.event.flex_id != event.flex_id:
                    continue
                for lot in closing.closed:
                    basis += lot.basis
                    base += lot.base_basis
                    if lot.label is not None:
                        ids[lot.label] = lot.ids
        if not basis and not ids:
            return None
        return lots_mod.Carried(base / basis if basis else None, ids)

    return receive


def run(book: Book, events, method: str, end: datetime.date | None = None, checkpoints=()) -> lots_mod.LotRun:
    """lots.run for one instrument of the book, with lots carried in from the instruments that gave them.

    Cached on the book per events list (held, so its id stays its own), method and end: the reconcile plugin and
    pnl_meta (or a report) on one load run the same instrument's lots once. A cached run with the snapshots of
    other `checkpoints` serves any request whose checkpoints are among them (a caller reads only its own dates);
    the runs are read, never changed, by their callers (reconcile, pnl)."""
    wanted = frozenset(checkpoints)
    key = (id(events), method, end)
    cached = book.runs.get(key)
    if cached is not None and cached[0] is events and wanted <= cached[1]:
        return cached[2]
    found = lots_mod.run(events, method, end, wanted, carry_in=carry_in(book, method, end))
    book.runs[key] = (events, wanted, found)
    return found

