"""`report labels`: the P&L report (DESIGN §6 `instruments[]`) grouped by the user's labels, weights applied.

A label's totals are the sum over its members of `weight × base field`, in base currency. Worked example
(tests/test_labels.py): Dividend = KO + 0.25 × AAPL, so its base total is 57.24 + 0.25 × 497.52 = 181.62.

An instrument may sit in several labels, so the label totals overlap: adding them up counts such an instrument
more than once and is not the portfolio's total. The report says so in `overlap` (which instruments, in which
labels) and carries the portfolio's own totals next to the labels in `portfolio_totals`. Instruments in no
label form the `unlabelled` group.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from beanflex.engine.labels_config import Instrument, LabelsConfig, assign
from .formats import decimal_or_none
from .reports import excluded_note, money

BASE_KEYS = ("cost_basis", "realized", "unrealized", "fx", "total")  # reports.BASE_KEYS, the pnl `base` fields
NOT_FIELDS = ("currency", "excluded", "note")
OVERLAP_NOTE = ("Label totals overlap: {n} instrument(s) sit in more than one label, so the label totals do not "
                "add up to the portfolio total{portfolio}.")
NO_OVERLAP_NOTE = "No instrument sits in two labels; weights below 1 still leave part of an instrument unlabelled."


def labels_report(pnl_report: dict, config: LabelsConfig, as_of: str | None = None, *,
                  instruments: Iterable[Instrument] = (), only: Iterable[str] = (),
                  warnings: list | None = None) -> dict:
    """Group pnl instrument rows by label (DESIGN §6 `report labels`).

    Args:
      pnl_report: `report pnl` JSON as a dict; its `instruments[]` rows keep money as decimal strings.
      config: labels.yaml as read by `labels_config.load_labels`.
      as_of: the report date; default the pnl report's `as_of`.
      instruments: the ledger's instruments (`plugins.labels.instruments_from_entries`), so ISIN, description
        and asset-category rules can match; rows whose conid is not among them match on symbol and conid only.
      only: label names to keep (`--label`); empty keeps all. The unlabelled group is always there.
      warnings: when given, receives assign()'s LabelsErrors (a member or exclusion that matches nothing), for
        the CLI to print; the labels plugin reports the same ones to bean-check.
    """
    rows = list(pnl_report.get("instruments") or [])
    totals = pnl_report.get("totals") or {}
    base_currency = (totals.get("base") or {}).get("currency") or pnl_report.get("base_currency")
    rates = totals.get("rates")
    catalogue = {inst.key: inst for inst in instruments}
    for row in rows:
        key = _key(row)
        if key not in catalogue:
            catalogue[key] = Instrument(str(row.get("symbol") or key), _opt(row.get("conid")))
    membership, match_errors = assign(config, list(catalogue.values()))
    if warnings is not None:
        warnings.extend(match_errors)
    wanted = set(only)
    groups = []
    for label in config.labels:
        if wanted and label.name not in wanted:
            continue
        members = [dict(row, weight=str(membership[_key(row)][label.name])) for row in rows
                   if label.name in membership.get(_key(row), {})]
        groups.append({"label": label.name, "description": label.description, "colour": label.colour,
                       "totals": weighted_totals(members, base_currency, rates), "instruments": members,
                       "flags": sorted({flag for row in members for flag in row.get("flags") or []})})
    unlabelled = [dict(row) for row in rows if not membership.get(_key(row))]
    overlapping = [{"conid": row.get("conid"), "symbol": row.get("symbol"), "account": row.get("account"),
                    "labels": {name: str(w) for name, w in membership[_key(row)].items()}}
                   for row in rows if len(membership.get(_key(row), {})) > 1]
    portfolio = _portfolio_totals(pnl_report.get("totals") or {})
    report = {key: pnl_report[key] for key in ("from", "to") if key in pnl_report}
    report.update({
        "as_of": as_of or pnl_report.get("as_of"), "base_currency": base_currency,
        "mode": pnl_report.get("mode"), "method": pnl_report.get("method"),
        "labels": groups,
        "unlabelled": {"totals": weighted_totals(unlabelled, base_currency, rates), "instruments": unlabelled},
        "overlap": {"labels_overlap": bool(overlapping), "instruments": overlapping,
                    "note": (OVERLAP_NOTE.format(n=len(overlapping), portfolio=_portfolio_text(portfolio))
                             if overlapping else NO_OVERLAP_NOTE)},
        "portfolio_totals": portfolio,
    })
    return report


def _portfolio_text(portfolio: dict | None) -> str:
    """" (461.81 USD, each instrument once)" for the overlap note; empty without a portfolio total."""
    if not portfolio or portfolio.get("total") is None:
        return ""
    from .money import money_text

    currency = portfolio.get("currency")
    return f" ({money_text(portfolio['total'], currency)} {currency or ''}, each instrument once)".replace(" ,", ",")


def weighted_totals(rows: list[dict], base_currency: str | None, rates: dict | None = None) -> dict:
    """Sum of `weight × base[field]` over rows, per numeric base field, as decimal strings (never rounded).

    A row without `weight` counts fully, e.g. [AAPL total 497.52 × 0.25, KO 57.24] -> "181.62". The same rule as
    `report pnl`'s totals (reports/totals.py): a field that is null in a member row (no mark, so unrealized, fx
    and total are unknown) is left out of that field's sum, never counted as 0, and `excluded` names the row.
    A row of an account with another base is converted at pnl's `totals.rates` (200 USD x 0.9 = 180 CHF), or
    left out with flag `fx_rate_missing`: never a sum of two currencies.
    """
    sums: dict[str, Decimal] = {}
    excluded: list[dict] = []
    for row in rows:
        weight = Decimal(str(row.get("weight", "1")))
        currency = (row.get("base") or {}).get("currency") or base_currency
        if currency != base_currency:
            rate = ((rates or {}).get(currency) or {}).get("rate")
            if rate is None:
                excluded.append({"account": row.get("account"), "conid": row.get("conid"),
                                 "symbol": row.get("symbol"), "fields": list(BASE_KEYS), "flag": "fx_rate_missing"})
                continue
            weight = weight * Decimal(str(rate))
        unknown = []
        for field, value in (row.get("base") or {}).items():
            if field == "currency":
                continue
            number = decimal_or_none(value)
            sums.setdefault(field, Decimal(0))
            if number is None:
                unknown.append(field)
            else:
                sums[field] += weighted(number, weight)
        if unknown:
            excluded.append({"account": row.get("account"), "conid": row.get("conid"), "symbol": row.get("symbol"),
                             "fields": unknown, "flag": "no_mark"})
    totals: dict = {"currency": base_currency}
    totals.update({field: money(value) for field, value in sums.items()})
    if not rows:  # an empty label still has every base field of pnl, at zero
        totals.update({field: "0.00" for field in BASE_KEYS})
    totals["excluded"] = excluded
    totals["note"] = excluded_note(excluded)
    return totals


def weighted(number: Decimal, weight: Decimal) -> Decimal:
    """`number × weight`, exact, without the extra trailing zeros the product's exponent adds.

    0.25 × 497.52 = 124.3800 -> 124.38 (the number's own places); 0.25 × 600.5 = 150.125 stays 150.125.
    """
    if weight == 1:
        return number
    product = number * weight
    rounded = product.quantize(Decimal(1).scaleb(min(number.as_tuple().exponent, 0)))
    return rounded if rounded == product else product.normalize()  # normalize: only drops zeros past the places


def _portfolio_totals(totals: dict) -> dict | None:
    """pnl's totals as one dict like a label's: the base fields plus `excluded` and `note`."""
    if totals.get("base") is None:
        return None
    return {**totals["base"], "excluded": totals.get("excluded") or [], "note": totals.get("note")}


def flat_rows(report: dict) -> list[dict]:
    """One row per (label, member), one total row per label, then the portfolio's own total, for csv/xlsx/table.

    Columns: label, row (member|total), account, symbol, conid, weight, the base fields, note. The portfolio row
    (label "(portfolio)") counts each instrument once and its note is the overlap note, so a spreadsheet says
    what the label totals do not add up to; a total row's note names instruments its sums leave out (no mark).
    """
    fields = _base_fields(report)
    out = []
    groups = [(g["label"], g) for g in report["labels"]] + [("(unlabelled)", report["unlabelled"])]
    for name, group in groups:
        for row in group["instruments"]:
            base = row.get("base") or {}
            out.append({"label": name, "row": "member", "account": row.get("account"), "symbol": row.get("symbol"),
                        "conid": row.get("conid"), "weight": row.get("weight", "1"),
                        **{f: base.get(f) for f in fields}, "note": None})
        out.append({"label": name, "row": "total", "account": None, "symbol": None, "conid": None, "weight": None,
                    **{f: group["totals"].get(f) for f in fields}, "note": group["totals"].get("note")})
    portfolio = report.get("portfolio_totals") or {}
    notes = [report["overlap"]["note"], portfolio.get("note")]
    out.append({"label": "(portfolio)", "row": "total", "account": None, "symbol": None, "conid": None,
                "weight": None, **{f: portfolio.get(f) for f in fields},
                "note": " ".join(n for n in notes if n)})
    return out


def _base_fields(report: dict) -> list[str]:
    """Base fields in first-seen order: cost_basis, realized, unrealized, fx, total for DESIGN §6 rows."""
    seen: list[str] = []
    groups = list(report["labels"]) + [report["unlabelled"]]
    for group in groups:
        for field in group["totals"]:
            if field not in NOT_FIELDS and field not in seen:
                seen.append(field)
    return seen


def _key(row: dict) -> str:
    return str(row.get("conid") or row.get("symbol"))


def _opt(value) -> str | None:
    return None if value in (None, "") else str(value)

