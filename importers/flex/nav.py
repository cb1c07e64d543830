"""IBKR's own NAV figures as records for the NAV and TWR reconciliation (DESIGN §10).

- `EquitySummaryByReportDateInBase` (section EquitySummaryInBase): one row per report date with the account's
  value in base currency by asset class (`cash`, `stock`, `options`, `notes`, `funds`, accruals, …) and `total`.
  -> `custom "ibkr-summary" "EquitySummaryInBase" "<acct>/<yyyy-mm-dd>"` on the report date.
- `ChangeInNAV`: the statement period's starting and ending value, what moved it, and `twr` (IBKR's time-weighted
  return for the period, in percent). -> `custom "ibkr-summary" "ChangeInNAV" "<acct>/<from>..<to>"` on toDate.

Meta, like the performance summaries (checks.map_summaries): `row`, `account`, `currency` when given, the
statement's period (`statement_from`, `statement_to`; a ChangeInNAV row's own fromDate/toDate win), then every
numeric attribute in snake_case (`total`, `interest_accruals`, `starting_value`, `twr`, …; `notes` here is the
value of the Notes asset class, not trade codes), and `flex_src`. Records, not assertions: the engine compares them
with the ledger (engine/reconcile_nav.py). Rows without a date are drift, never guessed.
"""

from __future__ import annotations

from beancount.core import data
from beancount.parser.grammar import ValueType

from .adapter import FlexStatement
from .checks import summary_meta
from .context import MapContext


def map_equity_summary(statement: FlexStatement, ctx: MapContext) -> list[data.Custom]:
    """One record per EquitySummaryByReportDateInBase row (its reportDate)."""
    entries = []
    for record in statement.rows("EquitySummaryInBase", "EquitySummaryByReportDateInBase"):
        day = record.date("reportDate")
        if day is None:
            ctx.drift.add("unmapped_row", record.section, record.tag, "no reportDate; no NAV check written",
                          ctx.raw_path, record.line)
            continue
        entries.append(_record(statement, ctx, record, day, "EquitySummaryInBase", day.isoformat()))
    return entries


def map_change_in_nav(statement: FlexStatement, ctx: MapContext) -> list[data.Custom]:
    """One record per ChangeInNAV row, on its toDate (else the statement's)."""
    entries = []
    for record in statement.rows("ChangeInNAV", "ChangeInNAV"):
        start = record.date("fromDate") or statement.from_date
        end = record.date("toDate") or statement.to_date
        if start is None or end is None:
            ctx.drift.add("unmapped_row", record.section, record.tag, "no fromDate/toDate; no TWR check written",
                          ctx.raw_path, record.line)
            continue
        entry = _record(statement, ctx, record, end, "ChangeInNAV", f"{start.isoformat()}..{end.isoformat()}")
        entry.meta["statement_from"], entry.meta["statement_to"] = start, end
        entries.append(entry)
    return entries


def _record(statement: FlexStatement, ctx: MapContext, record, day, section: str, key: str) -> data.Custom:
    meta = summary_meta(statement, ctx, record, (("currency", "currency"),))
    account = record.text("accountId") or ctx.account_id
    return data.Custom(meta, day, "ibkr-summary", [ValueType(section, str), ValueType(f"{account}/{key}", str)])
