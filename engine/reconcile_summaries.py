"""Reconciliation against IBKR's performance summary rows (`custom "ibkr-summary"`, DESIGN §4).

`summary_checks(book)` gives one Diff per comparable figure of a summary row; reconcile.py adds them to the
Reconciliation. Rows we cannot compute a figure for are left out, never compared against a guess. FIFO rows are
checked here, `MTMPerformanceSummaryInBase` rows in reconcile_mtm.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beanflex.contract import flex_src
from beanflex.contract.accounts import account_component

from .book import ZERO, Book
from .diffs import Diff
from .reconcile_mtm import mtm_checks
from .reconcile_nav import nav_checks


def summary_checks(book: Book) -> list[Diff]:
    """IBKR's FIFO performance summary rows (in base currency) per conid: `total_realized_pnl` against our base
    realized over the statement's period (`statement_from` to the summary's date; from 1 January of its year for
    a record written before the period was recorded), and
    `total_unrealized_pnl` against our base unrealized at that date. An instrument the ledger has no events
    for is missing history (the statement holds the summary but not the trades or positions behind it)."""
    from . import pnl  # pnl builds on this module's siblings only; imported here to keep the plugin light

    checks = []
    for entry in book.summaries:
        meta = entry.meta
        conid, account = str(meta.get("conid") or ""), account_component(str(meta.get("account") or ""))
        total_row = not conid and str(meta.get("description") or "").startswith("Total")
        if not (conid or total_row) or "FIFO" not in str(entry.values[0].value):
            continue
        # one instrument, or every instrument of the account for IBKR's "Total (All Assets)" row
        insts = [i for (a, c), i in book.instruments.items() if a == account and (total_row or c == conid)]
        start = meta.get("statement_from")
        if not isinstance(start, datetime.date):
            start = entry.date.replace(month=1, day=1)
        options = pnl.Options(start=start, end=entry.date)
        rows = [pnl.instrument_pnl(book, inst, options) for inst in insts]
        reason = None if any(inst.events for inst in insts) else "missing_history"
        for field_, ours_field in (("total_realized_pnl", "base.realized"), ("total_unrealized_pnl",
                                                                              "base.unrealized")):
            if field_ not in meta:
                continue
            ours = sum((r.value(ours_field) or ZERO for r in rows), ZERO)
            symbol = "TOTAL" if total_row else str(meta.get("symbol") or "")
            checks.append(Diff(entry.date, account, conid, symbol, book.base_currency, "",
                               f"summary.{field_}", ours, Decimal(str(meta[field_])),
                               tuple(flex_src.refs(meta.get("flex_src"))), reason, meta))
    return checks + mtm_checks(book) + nav_checks(book)
