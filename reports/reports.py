"""The DESIGN §6 report dicts (`pnl`, `positions`, `reconcile`, `events`, `explain`): pure functions of a Book.

Money and quantities go out as decimal strings at full precision (`str(Decimal)`), never floats and never
rounded here: the renderers round for display only. explain's events add up exactly to its value because
pnl.py computes every value as the sum of those same contributions.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from beanflex.contract.gcpause import paused_gc
from beanflex.engine import pnl as pnl_mod
from beanflex.reports import totals as totals_mod
from beanflex.reports.totals import excluded_note  # noqa: F401  (labels.py and older callers)
from beanflex.engine import reconcile as reconcile_mod
from beanflex.engine.book import ZERO, Book

from .raw_rows import element_rows

from . import options as options_mod

BASE_KEYS = ("cost_basis", "realized", "unrealized", "fx", "total")


CENT = Decimal("0.01")


def money(value: Decimal | None) -> str | None:
    """A money Decimal as a JSON decimal string with at least 2 decimal places and every other digit kept (DESIGN
    §6 "347.00"): 347 -> "347.00", 600.5 -> "600.50", 120.1000 -> "120.10", 0.0100004 -> "0.0100004". Formatting,
    not rounding: only zeros are added or dropped. None stays null."""
    if value is None:
        return None
    trimmed = value.normalize()
    if trimmed.as_tuple().exponent > -2:
        trimmed = trimmed.quantize(CENT)  # exact: the number has at most one decimal digit here
    if not trimmed:
        trimmed = abs(trimmed)  # -0.00 -> 0.00
    return f"{trimmed:f}"


def exact(value: Decimal | None) -> str | None:
    """A quantity or price as the ledger holds it ("5", "150", "137.4397692307692307692307692"); None stays null."""
    return None if value is None else str(value)


def field_text(field: str, value: Decimal | None) -> str | None:
    """A quantity is a number of units, exact (`quantity`, `summary.prev_close_quantity`); every other field is
    money."""
    return exact(value) if field.endswith("quantity") else money(value)


def as_of(book: Book, options: pnl_mod.Options) -> str | None:
    if options.end is not None:
        return options.end.isoformat()
    dates = [e.date for inst in book.instruments.values() for e in inst.events]
    dates += [p.date for inst in book.instruments.values() for p in inst.positions]
    return max(dates).isoformat() if dates else None


def _header(book: Book, options: pnl_mod.Options) -> dict:
    head = {"as_of": as_of(book, options), "base_currency": book.base_currency, "mode": options.mode,
            "method": options.method, "premium": "folded" if options.folds_premium else "separate"}
    if options.start is not None:
        head["from"] = options.start.isoformat()
    if options.end is not None:
        head["to"] = options.end.isoformat()
    return head


def instrument_row(row: pnl_mod.InstrumentPnl, base_currency: str) -> dict:
    """One `instruments[]` row of DESIGN §6 (plus `mark_source`, the source DESIGN §4 asks reports to name)."""
    inst = row.instrument
    value = row.value
    return {
        "account": inst.account, "conid": inst.conid, "symbol": inst.symbol, "currency": inst.currency,
        "quantity": exact(value("quantity")), "average_cost": money(row.average_cost),
        "cost_basis": money(value("cost_basis")),
        "mark": exact(row.mark.price) if row.mark else None,
        "mark_date": row.mark.date.isoformat() if row.mark else None,
        "mark_source": row.mark.source if row.mark else None,
        "market_value": money(value("market_value")), "realized": money(value("realized")),
        "unrealized": money(value("unrealized")), "commissions": money(value("commissions")),
        "dividends": money(value("dividends")), "withholding": money(value("withholding")),
        "fees": money(value("fees")), "total": money(value("total")),
        "base": {"currency": row.base_currency or base_currency, **{k: money(value(f"base.{k}")) for k in BASE_KEYS}},
        "labels": inst.labels, "flags": row.flags,
    }


@paused_gc()
def pnl_report(book: Book, options: pnl_mod.Options, accounts=(), labels=(),
               tolerance: Decimal = reconcile_mod.DEFAULT_TOLERANCE, entries=None) -> dict:
    """`report pnl --format json` (DESIGN §6). A row's `flags` name what makes its numbers less than certain:
    `flagged_corporate_action` (a `!` event up to the end date), `no_mark`, `missing_history`, and
    `reconcile_diff` when `report reconcile` (same tolerance) lists a diff for it up to the end date.
    `accounts` lists the account-level items (interest, fees without an instrument, …) of the ledger `entries`
    (empty without them): they belong to no instrument and are not in `totals`."""
    rows = pnl_mod.book_pnl(book, options, accounts, labels)
    flagged = _reconcile_flagged(book, options, accounts, tolerance) if rows else set()
    out = []
    for r in rows:
        row = instrument_row(r, book.base_currency)
        if (r.instrument.account, r.instrument.conid) in flagged:
            row["flags"] = sorted(set(row["flags"]) | {"reconcile_diff"})
        out.append(row)
    # a label selects instruments; account-level items belong to none
    items = pnl_mod.account_items(entries, book, options, accounts) if entries is not None and not labels else []
    return {**_header(book, options), "instruments": out, "totals": totals_mod.totals(rows, book.base_currency, book, options),
            "accounts": [account_row(i, book.base_of(i.account)) for i in items]}


def account_row(items: pnl_mod.AccountItems, base_currency: str) -> dict:
    """One `accounts[]` row: {"account", "currency", "interest": "3.21", "fees": "10.00", …, "base": {…}}."""
    return {"account": items.account, "currency": items.currency,
            **{k: money(items.values[k]) for k in pnl_mod.ACCOUNT_FIELDS},
            "base": {"currency": base_currency, **{k: money(items.base[k]) for k in pnl_mod.ACCOUNT_FIELDS}},
            "flags": items.flags}


def _reconcile_flagged(book: Book, options: pnl_mod.Options, accounts, tolerance: Decimal) -> set[tuple[str, str]]:
    """(account, conid) of the instruments with a trade or position diff above `tolerance` on or before the end."""
    return {key for key, day in first_diff_days(book, tolerance, accounts).items()
            if options.end is None or day <= options.end}


def first_diff_days(book: Book, tolerance: Decimal, accounts=()) -> dict[tuple[str, str], datetime.date]:
    """The first day each instrument has a trade or position diff beyond `tolerance`: a pnl row is flagged
    `reconcile_diff` from that day on (the daily P&L snapshot stores the flag from that day too)."""
    found = reconcile_mod.reconcile_book(book, tolerance, accounts)
    first: dict[tuple[str, str], datetime.date] = {}
    for d in found.beyond(found.trades + found.positions):
        if d.conid and ((d.account, d.conid) not in first or d.date < first[(d.account, d.conid)]):
            first[(d.account, d.conid)] = d.date
    return first


@paused_gc()
def positions_report(book: Book, options: pnl_mod.Options, accounts=(), labels=(), underlying: str | None = None
                     ) -> dict:
    """Open positions at the end date, with their lots (open date, quantity, basis, the rows behind them); each
    with its `underlying` and, for an option, its contract and moneyness (options.py). `underlying` keeps one
    underlying and its options."""
    rows = [r for r in pnl_mod.book_pnl(book, options, accounts, labels) if r.lots
            and (underlying is None or options_mod.matches_underlying(book, r.instrument, underlying))]
    day = as_of(book, options)
    day = datetime.date.fromisoformat(day) if day else None
    positions = []
    for r in rows:
        keep = ("account", "conid", "symbol", "currency", "quantity", "average_cost", "cost_basis", "mark",
                "mark_date", "mark_source", "market_value", "unrealized", "base", "labels", "flags")
        full = instrument_row(r, book.base_currency)
        entry = {k: full[k] for k in keep}
        entry["lots"] = [{"open_date": lot.open_date.isoformat(), "quantity": exact(lot.units),
                          "cost": exact(lot.cost), "cost_basis": money(lot.basis),
                          "base_cost_basis": money(lot.base_basis), "label": lot.label, "ids": list(lot.ids)}
                         for lot in r.lots]
        entry.update(options_mod.option_fields(book, r.instrument, day))
        positions.append(entry)
    return {**_header(book, options), "positions": positions}


def _diff_row(d: reconcile_mod.Diff, tolerance: Decimal) -> dict:
    """One comparison; `reason` is named only on a diff (a matched row needs none). A `flagged` row (a `!` entry,
    reconcile._flag_checks) is always a diff, with its reason."""
    bad = abs(d.diff) > tolerance or d.field == "flagged"
    return {"date": d.date.isoformat(), "account": d.account, "conid": d.conid, "symbol": d.symbol,
            "flex_id": d.flex_id, "field": d.field, "ours": field_text(d.field, d.ours),
            "ibkr": field_text(d.field, d.ibkr), "diff": field_text(d.field, d.diff), "raw": list(d.raw), "reason": d.reason if bad else None,
            "currency": d.currency, "status": "diff" if bad else "ok"}


def _sums(diffs: list[reconcile_mod.Diff], tolerance: Decimal) -> dict:
    ours = sum((d.ours for d in diffs), ZERO)
    ibkr = sum((d.ibkr for d in diffs), ZERO)
    matched = sum(1 for d in diffs if abs(d.diff) <= tolerance)
    return {"closing_trades": len(diffs), "matched": matched, "ours": money(ours), "ibkr": money(ibkr),
            "diff": money(ours - ibkr)}


@paused_gc()
def reconcile_report(book: Book, tolerance: Decimal = reconcile_mod.DEFAULT_TOLERANCE, accounts=(),
                     start: datetime.date | None = None, end: datetime.date | None = None, labels=()) -> dict:
    """`report reconcile --format json` (DESIGN §6): every diff listed with its reason, nothing netted.

    `labels` keeps the instruments carrying one of them (an account's summary totals then drop out)."""
    found = reconcile_mod.reconcile_book(book, tolerance, accounts)

    def inside(d):
        if labels:
            inst = book.instruments.get((d.account, d.conid))
            if inst is None or not set(labels) & set(inst.labels):
                return False
        return (start is None or d.date >= start) and (end is None or d.date <= end)

    trades = [d for d in found.trades if inside(d)]
    found.summaries = [d for d in found.summaries if not labels or inside(d)]
    by_instrument, by_day = defaultdict(list), defaultdict(list)
    for d in trades:
        by_instrument[(d.account, d.conid, d.symbol, d.currency)].append(d)
        by_day[(d.date, d.account, d.currency)].append(d)
    positions = defaultdict(dict)
    for d in found.positions:
        if inside(d):
            positions[(d.date, d.account, d.conid)][d.field] = d
    cash = [d for d in found.cash if not labels and inside(d)]  # account-level: no label owns cash
    cash_checks = [d for d in cash if d.field == "cash"]
    diffs = [d for d in found.beyond(trades + [d for d in found.positions if inside(d)] + found.summaries
                                     + cash_checks)] + [d for d in found.flagged if inside(d)]
    return {
        "tolerance": str(tolerance),
        "status": "diff" if diffs else "ok",
        "by_instrument": [{"account": a, "conid": c, "symbol": s, "currency": ccy, **_sums(ds, tolerance),
                           "trades": [_diff_row(d, tolerance) for d in ds]}
                          for (a, c, s, ccy), ds in by_instrument.items()],
        "by_day": [{"date": day.isoformat(), "account": a, "currency": ccy, **_sums(ds, tolerance)}
                   for (day, a, ccy), ds in sorted(by_day.items())],
        "diffs": [_diff_row(d, tolerance) for d in diffs],
        "positions": [_position_row(fields, tolerance) for fields in positions.values()],
        "summaries": [_diff_row(d, tolerance) for d in found.summaries],
        "flagged": [_diff_row(d, tolerance) for d in found.flagged if inside(d)],
        "cash": [_cash_row(d, [k for k in cash if k.meta is d.meta and k.field != "cash"], tolerance)
                 for d in cash_checks],
    }


def _cash_row(d: reconcile_mod.Diff, kinds: list[reconcile_mod.Diff], tolerance: Decimal) -> dict:
    """One CashReport currency: ending cash ours vs IBKR, and the kinds of money behind it (reconcile_cash.py)."""
    return {**_diff_row(d, tolerance),
            "kinds": [{"kind": k.field.removeprefix("cash."), "ours": money(k.ours), "ibkr": money(k.ibkr),
                       "diff": money(k.diff), "status": "diff" if abs(k.diff) > tolerance else "ok"}
                      for k in kinds]}


def _position_row(fields: dict, tolerance: Decimal) -> dict:
    first = next(iter(fields.values()))
    bad = [d for d in fields.values() if abs(d.diff) > tolerance]
    return {"date": first.date.isoformat(), "account": first.account, "conid": first.conid,
            "symbol": first.symbol, "currency": first.currency,
            **{name: {"ours": field_text(name, d.ours), "ibkr": field_text(name, d.ibkr),
                      "diff": field_text(name, d.diff)}
               for name, d in fields.items()},
            "status": "diff" if bad else "ok", "reason": next((d.reason for d in bad if d.reason), None),
            "raw": list(first.raw)}


def _event_row(date, flex_id, description, amount, flex_src, ledger_dir, field: str = "amount") -> dict:
    return {"date": date.isoformat(), "flex_id": flex_id, "description": description,
            "amount": field_text(field, amount),
            "raw": element_rows(ledger_dir, flex_src)}


def explain_report(book: Book, key: str, field: str = "total", options: pnl_mod.Options | None = None,
                   ledger_dir: Path | None = None, accounts=()) -> dict:
    """Every event behind one number of one instrument (by symbol or conid); amounts add up to `value`.

    Raises LookupError naming the candidates when the key is unknown or ambiguous across accounts.
    """
    options = options or pnl_mod.Options()
    found = [inst for (account, conid), inst in sorted(book.instruments.items())
             if key in (conid, inst.symbol) and (not accounts or account in accounts)]
    if not found:
        raise LookupError(f"no instrument with symbol or conid {key!r} in the ledger")
    if len({inst.account for inst in found}) > 1:
        raise LookupError(f"{key!r} is held in several accounts ({', '.join(i.account for i in found)}); "
                          f"pick one with --account")
    if field not in pnl_mod.LOCAL_FIELDS + pnl_mod.BASE_FIELDS:
        raise LookupError(f"unknown field {field!r}; one of {', '.join(pnl_mod.LOCAL_FIELDS + pnl_mod.BASE_FIELDS)}")
    row = pnl_mod.instrument_pnl(book, found[0], options)
    inst = row.instrument
    value = row.value(field)
    events = [] if value is None else [_event_row(c.date, c.flex_id, c.description, c.amount, c.flex_src,
                                                  ledger_dir, field) for c in row.events(field)]
    report = {"symbol": inst.symbol, "conid": inst.conid, "field": field, "value": field_text(field, value),
              "currency": book.base_currency if field.startswith("base.") else inst.currency, "events": events}
    if value is None:
        report["note"] = f"{field} is unknown: {inst.symbol} has open lots and no mark (flag no_mark)"
    return report


def events_report(book: Book, options: pnl_mod.Options, accounts=(), labels=(), key: str | None = None,
                  ledger_dir: Path | None = None) -> dict:
    """Every ledger event of the selected instruments in the date range, in the explain event shape.

    `amount` is the event's cash effect in its currency: net cash of a trade, the income or tax amount.
    """
    events = []
    links = options_mod.link_index(book)  # a combo's legs and an assignment's other side, across instruments
    for (account, conid), inst in sorted(book.instruments.items(), key=lambda kv: (kv[0][0], kv[1].symbol)):
        if (accounts and account not in accounts) or (labels and not set(labels) & set(inst.labels)):
            continue
        if key is not None and key not in (conid, inst.symbol):
            continue
        for e in inst.events:
            if (options.start and e.date < options.start) or (options.end and e.date > options.end):
                continue
            amount = e.net_cash if e.legs else (-e.amount if e.kind in ("withholding", "fee") else e.amount)
            row = _event_row(e.date, e.flex_id, e.description, amount or ZERO, e.flex_src, ledger_dir)
            row.update({"account": account, "conid": conid, "symbol": inst.symbol, "kind": e.kind,
                        "currency": e.currency, "quantity": exact(e.quantity) if e.legs else None,
                        "flag": e.flag, **options_mod.order_fields(e.meta, e.links),
                        **options_mod.linked_fields(links, account, e.flex_id, e.links)})
            events.append(row)
    events.sort(key=lambda r: (r["date"], r["account"], r["symbol"], r["flex_id"]))
    return {**_header(book, options), "events": events}
