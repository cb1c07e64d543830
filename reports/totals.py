"""Portfolio totals of `report pnl` (DESIGN §6 `totals`): in one reporting currency, never a sum of two.

Each account's base figures are in its own base currency (AccountInformation). Over accounts with several bases,
`by_currency` keeps each base's own totals, and `base` converts them to the reporting currency (`--currency`, else
the ledger's operating_currency) at the rate the statements state on the as-of date; a base without one is left
out and flagged `fx_rate_missing`. Worked example (tests/test_multi_base.py): a CHF account with 100 CHF of
unrealized and a USD account with 200 USD, `price USD 0.9 CHF`: 100 + 200 x 0.9 = 280 CHF; in USD
100 / 0.9 + 200 = 311.11.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from beanflex.engine import pnl as pnl_mod
from beanflex.engine.book import ZERO, Book

BASE_KEYS = ("cost_basis", "realized", "unrealized", "fx", "total")


def money(value):
    from beanflex.reports.reports import money as as_money

    return as_money(value)


def exact(value):
    return None if value is None else str(value)


def totals(rows: list[pnl_mod.InstrumentPnl], base_currency: str, book: Book | None = None,
            options: pnl_mod.Options | None = None) -> dict:
    """Portfolio totals in base currency over the instruments whose value is known. An instrument without a
    mark has no unrealized, fx or total (pnl.NEEDS_MARK): those totals leave it out and `excluded`/`note` say
    so, rather than counting it as 0 (DESIGN §4).

    Accounts with other base currencies are never summed as one: `by_currency` has each base's own totals, and
    `base` is in the reporting currency (`--currency`, else the ledger's operating_currency), each other base
    converted at the statements' own rate on the as-of date (`rates`: CHF ledger, USD account, `price USD 0.9
    CHF`: 200 USD of unrealized count 180 CHF). A base without a stated rate is left out, flagged
    `fx_rate_missing` in `excluded`."""
    reporting = (options.currency if options and options.currency else None) or base_currency
    day = _as_of_date(book, options) if book is not None else None

    def rate_of(ccy: str) -> Decimal | None:
        return book.rate(ccy, day, reporting) if book and day else None

    return totals_at(rows, base_currency, reporting, day, rate_of)


def totals_at(rows: list, base_currency: str, reporting: str, day: datetime.date | None, rate_of) -> dict:
    """totals() with the as-of day and the rate of each other base (`rate_of(ccy)`, None: not stated) given, so
    the daily P&L snapshot (pnl_snapshot.py) totals its stored rows by the same rule. A row needs `value(field)`,
    `base_currency`, `unknown_unrealized` and `instrument.account/conid/symbol`."""
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        groups[r.base_currency or base_currency].append(r)
    excluded = [{"account": r.instrument.account, "conid": r.instrument.conid, "symbol": r.instrument.symbol,
                 "fields": [k for k in BASE_KEYS if r.value(f"base.{k}") is None], "flag": "no_mark"}
                for r in rows if r.unknown_unrealized]
    by_currency = {ccy: _sums(group) for ccy, group in sorted(groups.items())}
    rates, total = {}, {k: ZERO for k in BASE_KEYS}
    for ccy, sums in by_currency.items():
        rate = Decimal(1) if ccy == reporting else rate_of(ccy)
        if rate is None:
            excluded += [{"account": r.instrument.account, "conid": r.instrument.conid, "symbol": r.instrument.symbol,
                          "fields": list(BASE_KEYS), "flag": "fx_rate_missing"} for r in groups[ccy]]
            continue
        rates[ccy] = rate
        for k in BASE_KEYS:
            total[k] += sums[k] * rate
    out = {"base": {"currency": reporting, **{k: money(v) for k, v in total.items()}},
           "excluded": excluded, "note": excluded_note(excluded)}
    if set(by_currency) - {reporting}:
        out["by_currency"] = {ccy: {"currency": ccy, **{k: money(v) for k, v in sums.items()}}
                              for ccy, sums in by_currency.items()}
        out["rates"] = {ccy: {"to": reporting, "rate": exact(rate), "date": day.isoformat() if day else None}
                        for ccy, rate in rates.items()}
    return out


def _sums(rows: list) -> dict:
    return {k: sum((r.value(f"base.{k}") for r in rows if r.value(f"base.{k}") is not None), ZERO)
            for k in BASE_KEYS}


def _as_of_date(book: Book, options: pnl_mod.Options | None) -> datetime.date | None:
    from beanflex.reports.reports import as_of

    text = as_of(book, options or pnl_mod.Options())
    return datetime.date.fromisoformat(text) if text else None


def excluded_note(excluded: list[dict]) -> str | None:
    """"unrealized, fx, total exclude 1 instrument(s) without a mark: XYZ" (None when nothing is left out)."""
    if not excluded:
        return None
    notes = []
    no_mark = [e for e in excluded if e.get("flag", "no_mark") == "no_mark"]
    if no_mark:
        fields = ", ".join(dict.fromkeys(f for e in no_mark for f in e["fields"]))
        notes.append(f"{fields} exclude {len(no_mark)} instrument(s) without a mark (unrealized unknown): "
                     f"{', '.join(e['symbol'] for e in no_mark)}")
    no_rate = [e for e in excluded if e.get("flag") == "fx_rate_missing"]
    if no_rate:
        notes.append(f"all totals exclude {len(no_rate)} instrument(s) whose account's base has no stated rate "
                     f"to the reporting currency (fx_rate_missing): {', '.join(e['symbol'] for e in no_rate)}")
    return "; ".join(notes)


