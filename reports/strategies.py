"""`report strategies` and `explain strategy:ID [FIELD]` (DESIGN §9): the strategy groups as report dicts.

Money goes out as decimal strings at full precision (reports.money), like every other report. A group row carries
its roll-up, its legs (one per contract, with what is still open), its members (each with the rule that put it in
the group and the row that links it), its chain (order by order: what was closed and what was opened), and the
P&L-over-time points the Fava page draws. `totals` adds the listed groups; without filters it equals `portfolio`
(the per-instrument P&L of `report pnl`) minus what strategies.yaml ignores, and the report says so.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beanflex.contract.gcpause import paused_gc
from beanflex.engine import pnl as pnl_mod
from beanflex.engine.book import ZERO, Book
from beanflex.engine.strategies import Strategies, StrategiesFileError, group_id
from beanflex.engine.strategy_rollup import BASE_FIELDS, FIELDS, LOCAL_FIELDS, GroupPnl, rollup

from .raw_rows import element_rows
from .reports import _header, as_of, exact, money

BASE_KEYS = tuple(f.removeprefix("base.") for f in BASE_FIELDS)
STATUSES = ("open", "closed")
#: What `premium` (the report header: --mode ibkr folds, --mode economic --premium separate|folded) means here.
PREMIUM_NOTES = {
    "folded": "an assigned or exercised option's premium is in the stock's cost or proceeds, as IBKR folds it; "
              "option and stock are in the same group, so the group's total is the same either way",
    "separate": "an assigned or exercised option's premium stays on the option; option and stock are in the same "
                "group, so the group's total is the same either way",
}
__all__ = ("StrategiesFileError", "explain_strategy_report", "load_strategies", "strategies_report")


@paused_gc()
def strategies_report(book: Book, options: pnl_mod.Options, strategies: Strategies, accounts=(), labels=(),
                      underlying: str | None = None, status: str | None = None) -> dict:
    """Every strategy group that overlaps --from/--to and passes the filters, with its roll-up.

    E.g. the wheel of tests/fixtures/strategies/wheel.xml: kind "wheel", realized 665.85, dividends 50.00,
    withholding 7.50, total 708.35, premium received 470.00, status closed, 2024-01-02 .. 2024-03-15 (73 days).
    """
    end = datetime.date.fromisoformat(as_of(book, options)) if as_of(book, options) else None
    rows, ignored, portfolio = rollup(book, strategies.groups, strategies.ignored, options, end)
    shown = [r for r in rows if _selected(book, r, options, accounts, labels, underlying, status)]
    filtered = bool(accounts or labels or underlying or status or options.start)
    report = {**_header(book, options), "premium_note": PREMIUM_NOTES[_header(book, options)["premium"]],
              "strategies": [group_row(book, r) for r in shown],
              "totals": {"groups": len(shown), "base": _in_reporting(book, options, _base_sums(book, shown))},
              "ignored": {"events": [m.flex_id for m in strategies.ignored],
                          "base": _in_reporting(book, options, _base_sums(book, [ignored]))},
              "portfolio": None if filtered else {"base": _in_reporting(book, options, {
                  ccy: {k: sums[f"base.{k}"] for k in BASE_KEYS} for ccy, sums in portfolio.items()})},
              "warnings": [str(w) for w in strategies.warnings]}
    return report


def _selected(book: Book, row: GroupPnl, options, accounts, labels, underlying, status) -> bool:
    group = row.group
    if row.open_date is None or (accounts and group.account not in accounts):
        return False
    if underlying and underlying not in (group.underlying, group.underlying_symbol):
        return False
    if status and row.status != status:
        return False
    if labels and not set(labels) & set(group_labels(book, row)):
        return False
    close = row.close_date
    return options.start is None or close is None or close >= options.start


def group_labels(book: Book, row: GroupPnl) -> list[str]:
    """The labels of the group's underlying and of every instrument in it."""
    keys = {(row.group.account, row.group.underlying)} | {(p.account, p.conid) for p in row.pieces}
    found = [label for key in sorted(keys) if key in book.instruments for label in book.instruments[key].labels]
    return sorted(set(found))


def group_row(book: Book, row: GroupPnl) -> dict:
    group = row.group
    currencies = row.currencies
    value = row.value
    kind = group.kind
    name = group.name or f"{group.underlying_symbol} {kind}" + (f", rolled {group.rolls}x" if group.rolls else "")
    return {
        "id": group.id, "ref": f"strategy:{group.id}", "name": name, "kind": kind, "account": group.account,
        "underlying": group.underlying_symbol, "underlying_conid": group.underlying,
        "currency": currencies[0] if len(currencies) == 1 else None, "status": row.status,
        "open_date": _iso(row.open_date), "close_date": _iso(row.close_date), "days": row.days,
        "rolls": group.rolls, "labels": group_labels(book, row),
        "flags": sorted(row.flags | ({"mixed_currencies"} if len(currencies) > 1 else set())),
        "edited": bool(group.name or group.kind_set) or any("by hand" in m.rule or m.rule.startswith("merged")
                                                            for m in group.members),
        **{name_: money(value(name_)) for name_ in LOCAL_FIELDS},
        "base": {"currency": book.base_of(group.account), **{k: money(value(f"base.{k}")) for k in BASE_KEYS}},
        "legs": _legs(row), "members": [_member(book, m) for m in row.members()],
        "chain": [{"date": c["date"].isoformat(), "rule": c["rule"], "closed": c["closed"], "opened": c["opened"]}
                  for c in group.chain if row.as_of is None or c["date"] <= row.as_of],
        "series": [{"date": d.isoformat(), "total": money(v)} for d, v in row.series()],
    }


def _iso(date: datetime.date | None) -> str | None:
    return date.isoformat() if date else None


def _legs(row: GroupPnl) -> list[dict]:
    """One leg per contract the group traded: its terms, what is open at the end date, and its rows."""
    legs: dict[str, dict] = {}
    held = {conid: units for (conid, _), units in row.open_positions.items()}
    for member in row.members():
        for event, facts in member.events:
            if not event.legs:
                continue
            leg = legs.setdefault(facts.conid, {
                "conid": facts.conid, "symbol": facts.symbol, "category": facts.category, "right": facts.right,
                "strike": exact(facts.strike), "expiry": _iso(facts.expiry),
                "open_quantity": exact(held.get(facts.conid, ZERO)), "events": []})
            leg["events"].append(member.flex_id)
    return list(legs.values())


def _member(book: Book, member) -> dict:
    events = member.events
    # the cash effect, as `report events` shows it: a trade's net cash, income received > 0, tax or fee paid < 0
    cash = [e.net_cash if e.legs else (-e.amount if e.kind in ("withholding", "fee") else e.amount)
            for e, _ in events]
    return {"date": member.date.isoformat(), "flex_id": member.flex_id, "rule": member.rule, "link": member.link,
            "kind": events[0][0].kind if events else None,
            "symbols": sorted({e.symbol for e, _ in events}), "conids": sorted({e.conid for e, _ in events}),
            "quantity": exact(sum((e.quantity for e, _ in events if e.legs), ZERO)) if any(
                e.legs for e, _ in events) else None,
            "amount": money(sum((c for c in cash if c is not None), ZERO)),
            "description": events[0][0].description if events else "",
            "raw": sorted({ref for e, _ in events for ref in (e.flex_src or "").split()})}


def _base_sums(book: Book, rows: list[GroupPnl]) -> dict[str, dict[str, Decimal]]:
    """Base-currency sums by base currency (each account's own) over the rows whose value is known (a group with
    an unmarked open lot is left out of the mark-dependent sums, as report pnl does)."""
    out: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        for key in BASE_KEYS:
            if row.value(f"base.{key}") is None:
                continue
            for piece in row.events(f"base.{key}"):
                sums = out.setdefault(book.base_of(piece.account), {k: ZERO for k in BASE_KEYS})
                sums[key] += piece.contribution.amount
    return out


def _in_reporting(book: Book, options: pnl_mod.Options, by_base: dict[str, dict[str, Decimal]]) -> dict:
    """Sums by base currency as one reporting currency (`--currency`, else the ledger's), each other base
    converted at the statements' rate on the as-of date, as report pnl's totals do (reports/totals.py): 100 CHF
    and 200 USD at `price USD 0.9 CHF` are 280 CHF. A base without a stated rate is left out and named in
    `missing_rates`; `by_currency` keeps each base's own sums when there are several."""
    reporting = options.currency or book.base_currency
    day = as_of(book, options)
    total, missing = {k: ZERO for k in BASE_KEYS}, []
    for ccy, sums in sorted(by_base.items()):
        rate = Decimal(1) if ccy == reporting else (
            book.rate(ccy, datetime.date.fromisoformat(day), reporting) if day else None)
        if rate is None:
            missing.append(ccy)
            continue
        for k in BASE_KEYS:
            total[k] += sums[k] * rate
    out = {"currency": reporting, **{k: money(v) for k, v in total.items()}}
    if set(by_base) - {reporting}:
        out["by_currency"] = {ccy: {k: money(v) for k, v in sums.items()} for ccy, sums in sorted(by_base.items())}
    if missing:
        out["missing_rates"] = missing
    return out


def find_group(strategies: Strategies, key: str) -> str:
    """A group id from `strategy:ID`, `ID` or a member's flex_id; LookupError naming what was asked."""
    wanted = group_id(key)
    if wanted in strategies.groups:
        return wanted
    owner = strategies.group_of(wanted)
    if owner is not None:
        return owner
    raise LookupError(f"no strategy group {key!r}; `beanflex report strategies` lists the ids (strategy:ID)")


def explain_strategy_report(book: Book, options: pnl_mod.Options, strategies: Strategies, key: str,
                            field: str = "total", ledger_dir: Path | None = None) -> dict:
    """Every contribution behind one number of one group, each with its instrument and raw rows; the amounts add
    up exactly to `value` (the group's value is their sum)."""
    if field not in FIELDS:
        raise LookupError(f"unknown field {field!r}; one of {', '.join(FIELDS)}")
    gid = find_group(strategies, key)
    end = datetime.date.fromisoformat(as_of(book, options)) if as_of(book, options) else None
    rows, _, _ = rollup(book, {gid: strategies.groups[gid]}, [], options, end)
    row = rows[0]
    value = row.value(field)
    events = [] if value is None else [
        {"date": p.contribution.date.isoformat(), "flex_id": p.contribution.flex_id, "symbol": p.symbol,
         "conid": p.conid, "description": p.contribution.description, "amount": money(p.contribution.amount),
         "raw": element_rows(ledger_dir, p.contribution.flex_src)}
        for p in sorted(row.events(field), key=lambda p: (p.contribution.date, p.contribution.flex_id))]
    base = book.base_of(strategies.groups[gid].account)
    currency = base if field.startswith("base.") else (row.currencies or [base])[0]
    report = {"strategy": f"strategy:{gid}", "name": group_row(book, row)["name"], "symbol": f"strategy:{gid}",
              "conid": None, "field": field, "value": money(value), "currency": currency, "events": events}
    if value is None:
        report["note"] = (f"{field} is unknown: an open lot has no mark (no_mark)" if row.unknown_unrealized
                          else f"{field} mixes currencies {', '.join(row.currencies)}; ask for base.{field}")
    return report


def check_total(report: dict) -> Decimal | None:
    """groups + ignored - portfolio, in base total: 0 when nothing is lost or counted twice (None: filtered)."""
    if report.get("portfolio") is None:
        return None
    groups = Decimal(report["totals"]["base"]["total"])
    ignored = Decimal(report["ignored"]["base"]["total"])
    return groups + ignored - Decimal(report["portfolio"]["base"]["total"])


def load_strategies(book: Book, entries, yaml_path: Path | None) -> Strategies:
    """Detect the groups of the loaded ledger and apply strategies.yaml (`yaml_path`; None or missing: no
    edits). Raises StrategiesFileError (file:line and what is wrong) for a malformed file."""
    from beanflex.engine.strategies import strategy_groups, transaction_links

    return strategy_groups(book, yaml_path, transaction_links(entries or []))
