"""`report returns` (DESIGN §10): TWR, MWR, Modified Dietz and the FX split per account, label, strategy group or
instrument (plus the whole portfolio), per period; and the flows and daily values behind one row (`detail`).

Returns are fractions as decimal strings at full precision ("-0.01" is -1.00 %; renderers show percent), money
is base currency as decimal strings. Each row says its `status` (ok, partial, incomplete, no_data), why (`notes`)
and which prices or rates were missing or carried forward (`gaps`): nothing is filled silently. The FX split is
engine/fx_attribution.py's; `fx_return` = FX total / the Modified Dietz capital, and `local_return` = Modified
Dietz - fx_return, so the two add up to the period's Modified Dietz return.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beanflex.engine import fx_attribution, periods as periods_mod
from beanflex.contract import flex_src as flex_src_format
from beanflex.contract.gcpause import paused_gc
from beanflex.engine.book import Book
from beanflex.engine.shared_book import shared_book  # the load's own book when its plugins built one
from beanflex.engine.flows import Entity, account_entity, instruments_entity
from beanflex.engine.returns import PeriodResult, entity_series, period_result
from beanflex.engine.valuation import ONE_DAY, Prices, value_days

from .reports import money
from .returns_groups import label_members, strategy_entities, strategy_groups

BY = ("account", "label", "strategy", "instrument")


class ReturnsError(ValueError):
    """A usage problem the caller shows as is (unknown period, `--by strategy` without strategy groups, ...)."""


def ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def entities(book: Book, prices: Prices, by: str, entries, accounts=(), labels_config=None,
             strategy_groups=None, only=()) -> tuple[list[Entity], list[str]]:
    """The entities to report for `by` (portfolio first, except by instrument) and notes about the grouping."""
    all_accounts = sorted({a for a, _ in book.instruments} | {p.account.split(":")[2]
                                                              for _, p in book.cash_postings})
    chosen = [a for a in all_accounts if not accounts or a in accounts]
    notes: list[str] = []
    found = [account_entity(book, prices, chosen, kind="portfolio", name="Portfolio")] if chosen else []
    if by == "account":
        found += [account_entity(book, prices, [a]) for a in chosen]
    elif by == "label":
        if labels_config is None:
            notes.append("no labels.yaml: no labels to report")
        else:
            for name, members in label_members(book, entries, labels_config, chosen).items():
                if not only or name in only:
                    found.append(instruments_entity(book, prices, "label", name, members))
    elif by == "instrument":
        found = []
        for (account, conid), inst in sorted(book.instruments.items(), key=lambda kv: (kv[0][0], kv[1].symbol)):
            if account in chosen and (not only or inst.symbol in only or conid in only):
                found.append(instruments_entity(book, prices, "instrument", f"{account}/{conid}",
                                                {(account, conid): Decimal(1)}, name=inst.symbol))
    elif by == "strategy":
        try:
            groups = strategy_groups() if callable(strategy_groups) else strategy_groups
        except ValueError as exc:
            raise ReturnsError(str(exc)) from None
        if groups is None:
            raise ReturnsError("--by strategy needs strategy groups (DESIGN §9), and this build has none: "
                               "engine/strategies.py with group_index(book, edits, links) is not installed")
        found += strategy_entities(book, prices, groups, chosen, only)
    else:
        raise ReturnsError(f"--by {by!r}: use one of {', '.join(BY)}")
    return found, notes


def as_of_date(book: Book, end: datetime.date | None) -> datetime.date | None:
    if end is not None:
        return end
    days = [e.date for inst in book.instruments.values() for e in inst.events]
    days += [entry.date for entry, _ in book.cash_postings] + [p.date for p in book.prices]
    return max(days) if days else None


def period_list(names, start, end, as_of: datetime.date, inception) -> list[tuple[str, datetime.date | None,
                                                                                 datetime.date]]:
    if start is not None or end is not None:
        if names:
            raise ReturnsError("give --period or --from/--to, not both")
        return [("custom", start, as_of)]
    wanted = list(names) or [*periods_mod.STANDARD, *periods_mod.calendar_years(inception, as_of)]
    try:
        return [(name.upper(), *periods_mod.resolve(name, as_of)) for name in wanted]
    except periods_mod.PeriodError as exc:
        raise ReturnsError(str(exc)) from None


@paused_gc()  # as the other report builders: what it builds has no cycles, and a collection rescans the ledger
def returns_report(entries, options_map, by: str = "account", period_names=(), start=None, end=None,
                   accounts=(), labels_config=None, strategy_groups=None, only=()) -> dict:
    """`report returns --format json`: {"as_of", "base_currency", "by", "periods", "rows": [...], "notes"}."""
    book = shared_book(entries, options_map)
    prices = Prices(book)
    found, notes = entities(book, prices, by, entries, accounts, labels_config, strategy_groups, only)
    as_of = as_of_date(book, end)
    report = {"as_of": as_of.isoformat() if as_of else None, "base_currency": book.base_currency, "by": by,
              "periods": [], "rows": [], "notes": notes}
    if as_of is None:
        report["notes"].append("the ledger has no transactions or prices: nothing to measure")
        return report
    firsts = [e.inception() for e in found if e.inception() is not None]
    plist = period_list(period_names, start, end, as_of, min(firsts) if firsts else None)
    report["periods"] = [{"period": p, "from": s.isoformat() if s else None, "to": t.isoformat()}
                         for p, s, t in plist]
    measured = []
    for entity in found:
        series = entity_series(prices, entity, as_of)
        measured.append((entity, [period_result(prices, entity, name, first, last, series=series)
                                  for name, first, last in plist]))
    runs, cash = _shared_fx(book, measured)
    for entity, results in measured:
        members = _members(entity)
        report["rows"].extend(result_row(book, entity, result, runs, cash, members) for result in results)
    return report


def _shared_fx(book: Book, measured: list) -> tuple[dict, dict]:
    """One lot run per instrument for every entity and period (its snapshots at each period's day before and
    end), and one CashIndex per set of accounts: a label's instruments are also the portfolio's."""
    dates = {d for entity, results in measured if entity.kind != "strategy"
             for r in results if r.start for d in (r.start - ONE_DAY, r.end)}
    keys = {key for entity, _ in measured if entity.kind != "strategy" for key in _fx_members(book, entity)}
    cash = {}
    for entity, _ in measured:
        if entity.kind in ("account", "portfolio"):
            accounts = frozenset(_entity_accounts(book, entity))
            cash.setdefault(accounts, fx_attribution.CashIndex(book, set(accounts)))
    return fx_attribution.lot_runs(book, sorted(keys), dates), cash


def _members(entity: Entity) -> list[dict]:
    return [{**m, "weight": str(m["weight"])} for m in entity.members]


def result_row(book: Book, entity: Entity, result: PeriodResult, runs: dict | None = None, cash: dict | None = None,
               members: list[dict] | None = None) -> dict:
    """One row; `runs`, `cash` (_shared_fx) and `members` (_members) are shared by the rows of a report."""
    fx = _fx(book, entity, result, runs, cash)
    fx_total = fx.total if fx is not None else None
    fx_return = local = None
    if fx_total is not None and result.md is not None and result.md_capital:
        fx_return = fx_total / result.md_capital
        local = result.md - fx_return
    return {
        "kind": entity.kind, "key": entity.key, "name": entity.name, "period": result.period,
        "from": result.start.isoformat() if result.start else None,
        "to": result.end.isoformat() if result.end else None, "status": result.status, "notes": result.notes,
        "start_value": money(result.start_value), "end_value": money(result.end_value),
        "inflows": money(result.inflows), "outflows": money(result.outflows), "net_flows": money(result.net_flows),
        "gain": money(result.gain), "twr": ratio(result.twr), "mwr": ratio(result.mwr),
        "mwr_period": ratio(result.mwr_period), "modified_dietz": ratio(result.md),
        "capital": money(result.md_capital), "local_return": ratio(local), "fx_return": ratio(fx_return),
        "fx": None if fx is None else {"holdings": money(fx.holdings), "realized": money(fx.realized),
                                       "cash": money(fx.cash), "conversions": money(fx.conversions),
                                       "total": money(fx_total), "notes": fx.notes},
        "flows": len(result.flows), "gaps": result.gaps,
        "members": _members(entity) if members is None else members,
    }


def _fx_members(book: Book, entity: Entity) -> dict[tuple[str, str], Decimal]:
    """The instruments (with weights) whose holdings FX the entity owns: all of an account's or the portfolio's."""
    if entity.kind in ("account", "portfolio"):
        accounts = _entity_accounts(book, entity)
        return {key: Decimal(1) for key in book.instruments if key[0] in accounts}
    return {(m["account"], m["conid"]): m["weight"] for m in entity.members}


def _entity_accounts(book: Book, entity: Entity) -> set[str]:
    """The IBKR accounts of an account or portfolio entity (the portfolio under --account: those accounts)."""
    return set(entity.accounts)


def _fx(book: Book, entity: Entity, result: PeriodResult, runs: dict | None = None, cash: dict | None = None):
    """The FX split of the row; None where it is not defined (a strategy group, a period without data)."""
    if result.start is None or result.status == "no_data" or entity.kind == "strategy":
        return None
    split = fx_attribution.FxSplit()
    fx_attribution.holdings_fx(book, _fx_members(book, entity), result.start, result.end, split, runs)
    if entity.kind in ("account", "portfolio"):
        accounts = _entity_accounts(book, entity)
        fx_attribution.cash_fx(book, accounts, result.start, result.end, split, (cash or {}).get(frozenset(accounts)))
    return split


@paused_gc()
def detail(entries, options_map, by: str, key: str, period: str = "ITD", start=None, end=None,
           labels_config=None, strategy_groups=None) -> dict:
    """The flows and daily values behind one row: every flow with its raw rows, the value of every day with the
    cumulative TWR, and the last day's holdings line by line (units, price, its date and source, rate)."""
    book = shared_book(entries, options_map)
    prices = Prices(book)
    found, _ = entities(book, prices, by, entries, (), labels_config, strategy_groups)
    entity = next((e for e in found if e.key == key), None)
    if entity is None:
        raise ReturnsError(f"no {by} {key!r} in this ledger")
    as_of = as_of_date(book, end)
    name, first, last = period_list([] if start or end else [period], start, end, as_of, entity.inception())[0]
    result = period_result(prices, entity, name, first, last, keep_days=True)
    lines = value_days(prices, entity.holdings, last, last, detail=True)[0].lines if result.start else []
    cumulative = dict(result.cumulative)
    return {
        "row": result_row(book, entity, result), "base_currency": book.base_currency,
        "flows": [{"date": f.date.isoformat(), "kind": f.kind, "amount": money(f.amount), "local": money(f.local),
                   "currency": f.currency, "rate": None if f.rate is None else str(f.rate), "side": f.side,
                   "flex_id": f.flex_id, "description": f.description, "account": f.account, "symbol": f.symbol,
                   "raw": flex_src_format.refs(f.flex_src)} for f in result.flows],
        "days": [{"date": d.date.isoformat(), "value": money(d.value),
                  "twr": ratio(cumulative.get(d.date)), "gaps": len(d.gaps),
                  "unknown": sorted({g.what for g in d.gaps if g.kind in ("no_price", "no_rate")})}
                 for d in result.days],
        "holdings": [{"account": ln.account, "symbol": ln.symbol, "currency": ln.currency, "units": str(ln.units),
                      "price": None if ln.unit_price is None else str(ln.unit_price),
                      "price_date": ln.price_date.isoformat() if ln.price_date else None,
                      "price_source": ln.price_source, "rate": None if ln.rate is None else str(ln.rate),
                      "value": money(ln.base), "raw": flex_src_format.refs(ln.flex_src)} for ln in lines],
    }


def load_inputs(main_file: Path, labels_file: Path | None = None) -> tuple:
    """(entries, options_map, labels config or None, a function giving the strategy groups or None) of a ledger
    file, for the CLI: the labels.yaml its labels plugin line names, else `labels_file`; strategies.yaml beside
    `ledger/`. A ledger that does not load is a ReturnsError naming the file and line."""
    from beancount import loader

    from beanflex.engine.labels import configured_path
    from beanflex.engine.labels_config import load_labels

    entries, errors, options_map = loader.load_file(str(main_file))
    fatal = [e for e in errors if type(e).__name__ not in ("ReconcileError", "LabelsError", "BalanceError")]
    if fatal and not entries:
        first = fatal[0]
        where = f"{first.source.get('filename')}:{first.source.get('lineno')}" if first.source else main_file
        raise ReturnsError(f"The ledger did not load: {where}: {first.message} (run 'bean-check {main_file}')")
    path = configured_path(options_map) or labels_file
    config = load_labels(path)[0] if path is not None and Path(path).exists() else None
    def groups():  # asked only by --by strategy: a broken strategies.yaml does not stop the other reports
        return strategy_groups(shared_book(entries, options_map), Path(main_file).parent.parent, entries)

    return entries, options_map, config, groups
