"""Our daily NAV and TWR against IBKR's (DESIGN §10): `EquitySummaryByReportDateInBase` and `ChangeInNAV`.

The importer writes both as `custom "ibkr-summary"` records (importers/flex/nav.py): section
`EquitySummaryInBase`, one per account and report date, with IBKR's `total` (and its parts: cash, stock, options,
accruals, …); section `ChangeInNAV`, one per statement, with `starting_value`, `ending_value` and `twr` (IBKR
writes it in percent: 1.25 means +1.25 %).

- `nav.total`: our account value at the end of the report date (valuation.py) against IBKR's `total`.
- `nav.twr`: our account TWR over the statement's period (returns.py), in percent, against IBKR's `twr`; the
  figures are percentages, so the tolerance reads as percentage points.

Reasons, from evidence only: `nav_accruals` (IBKR's total counts dividend, interest or fee accruals the ledger
books only when paid, and they make up the difference), `nav_price_gap` (our value that day used a price that
is missing, stale or a cost), `missing_history` (the day is before the ledger's first data for the account).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beanflex.contract import flex_src
from beanflex.contract.accounts import account_component

from .book import ZERO, Book
from .diffs import Diff
from .flows import account_entity
from .returns import period_result
from .valuation import Prices, value_days

NAV_SECTION = "EquitySummaryInBase"
CHANGE_SECTION = "ChangeInNAV"
#: IBKR's NAV parts that are accruals (not yet cash in the ledger).
ACCRUALS = ("dividend_accruals", "interest_accruals", "broker_fees_accruals_component",
            "broker_interest_accruals_component", "incentive_coupon_accruals", "margin_financing_charge_accruals")
REASONS_NAV = {
    "nav_accruals": "IBKR's NAV counts dividend, interest or fee accruals; the ledger books them when paid, and "
                    "they make up the difference",
    "nav_price_gap": "our value that day uses a missing, stale (carried forward) or cost price for a holding: see "
                     "`report returns` gaps",
}
HUNDRED = Decimal(100)


def nav_checks(book: Book, tolerance: Decimal = Decimal("0.01")) -> list[Diff]:
    """One Diff per EquitySummary row (`nav.total`) and per ChangeInNAV row with a `twr` (`nav.twr`)."""
    rows = [e for e in book.summaries if e.values and str(e.values[0].value) in (NAV_SECTION, CHANGE_SECTION)]
    if not rows:
        return []
    prices = Prices(book)
    entities = {}
    checks = []
    for entry in sorted(rows, key=lambda e: e.date):
        meta = entry.meta
        account = account_component(str(meta.get("account") or ""))
        if account not in entities:
            entities[account] = account_entity(book, prices, [account])
        entity = entities[account]
        raw = tuple(flex_src.refs(meta.get("flex_src")))
        if str(entry.values[0].value) == NAV_SECTION and meta.get("total") is not None:
            checks.append(_nav_check(book, prices, entity, entry, account, raw, tolerance))
        elif str(entry.values[0].value) == CHANGE_SECTION and meta.get("twr") is not None:
            check = _twr_check(book, prices, entity, entry, account, raw)
            if check is not None:
                checks.append(check)
    return checks


def _nav_check(book, prices, entity, entry, account, raw, tolerance) -> Diff:
    meta = entry.meta
    day = entry.date
    value = value_days(prices, entity.holdings, day, day)[0]
    ibkr = Decimal(str(meta["total"]))
    ours = value.value if value.value is not None else ZERO
    reason = None
    inception = entity.inception()
    if inception is None or inception > day:
        reason = "missing_history"
    elif value.gaps:
        reason = "nav_price_gap"
    accruals = sum((Decimal(str(meta[k])) for k in ACCRUALS if meta.get(k) is not None), ZERO)
    if accruals and abs(ours - (ibkr - accruals)) <= tolerance:
        reason = "nav_accruals"
    return Diff(day, account, "", "NAV", book.base_currency, "", "nav.total", ours, ibkr, raw, reason, meta)


def _twr_check(book, prices, entity, entry, account, raw) -> Diff | None:
    meta = entry.meta
    start, end = meta.get("statement_from"), meta.get("statement_to") or entry.date
    if not isinstance(start, datetime.date):
        return None
    result = period_result(prices, entity, "statement", start, end)
    ours = result.twr * HUNDRED if result.twr is not None else ZERO
    reason = None
    if result.status in ("no_data", "incomplete") or result.twr is None:
        reason = "missing_history" if result.status == "no_data" else "nav_price_gap"
    elif result.start != start:
        reason = "missing_history"
    return Diff(end, account, "", "NAV", "%", "", "nav.twr", ours, Decimal(str(meta["twr"])), raw, reason, meta)
