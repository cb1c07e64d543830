"""The self-checks IBKR gives for free (DESIGN §4), IBKR's own figures, and the opening cash.

- `OpenPositions` -> `custom "ibkr-position"` with IBKR's view (quantity, mark, cost basis, unrealized) on the
  report date; an instrument traded in the statement but not listed gets one with `position: 0`.
- `CashReport` per currency -> `custom "ibkr-cash"` on `toDate` with IBKR's starting and ending cash and the
  non-zero figures they are made of (commissions, dividends, net trades, ...).
- `CashReport` startingCash -> the opening cash transaction, for an account's first statement only.
- Performance summaries -> `custom "ibkr-summary" "<section>"`, every numeric attribute as meta.

These are records of what IBKR says, not assertions: the reconcile plugin compares them with the ledger
(`plugins/reconcile.py`, `reconcile_cash.py`) and shows every mismatch with its raw row and a reason when one is
known; nothing is adjusted to make a check pass. They used to be `balance` directives, but a statement that does
not add up (a trimmed export, or IBKR charging a commission in another currency than its row states) then made
the core ledger fail to load, and every nightly sync with it; as reconciliation diffs they are committed,
reported by `beanflex check` and `sync`, and fail only under `--strict`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from .adapter import FlexRecord, FlexStatement
from .context import MapContext

#: CashReport rows that are not one currency: the base-currency total of every currency.
BASE_SUMMARY = "BASE_SUMMARY"
#: Attributes that look numeric but are identifiers or dates, never summary figures.
_NOT_FIGURES = re.compile(r"(ID|Id|[cC]onid|Date|Time|expiry|[cC]ode)$")
#: CashReport columns that split a figure by segment (securities, commodities) or period (MTD, YTD).
_CASH_SPLIT = re.compile(r"(Sec|Com|MTD|YTD)$")


def position_groups(statement: FlexStatement) -> list[list[FlexRecord]]:
    """OpenPosition rows grouped per instrument, SUMMARY or LOT rows but never both (flex-schema pitfall 3).

    An instrument with a SUMMARY row is represented by it alone; one with only LOT rows (or rows without a
    levelOfDetail, as trimmed exports write them) by all of them, to be added up. Groups keep document order.
    """
    groups: dict[str, list[FlexRecord]] = {}
    for record in statement.rows("OpenPositions", "OpenPosition"):
        key = _instrument_key(record)
        groups.setdefault(key, []).append(record)
    result = []
    for rows in groups.values():
        summaries = [r for r in rows if (r.text("levelOfDetail") or "").upper() == "SUMMARY"]
        result.append(summaries or rows)
    return result


def map_position_checks(statement: FlexStatement, ctx: MapContext) -> list:
    """Per open position IBKR's `custom "ibkr-position"` record; per instrument traded but not listed, one with 0.

    Option positions are in contracts, as IBKR reports them and as the ledger holds them.
    """
    entries: list = []
    for rows in position_groups(statement):
        first = rows[0]
        commodity = ctx.commodity(first)
        day = first.date("reportDate") or statement.to_date
        positions = [r.decimal("position") for r in rows]
        if commodity is None or day is None or None in positions:
            ctx.drift.add("unmapped_row", "OpenPositions", first.tag,
                          "no instrument, report date or position; no position check written",
                          ctx.raw_path, first.line)
            continue
        quantity = sum(positions, Decimal(0))
        entries.append(data.Custom(_position_meta(rows, quantity, ctx), day, "ibkr-position",
                                   [ValueType(commodity, str), ValueType(ctx.account_id, str)]))
    entries.extend(_closed_position_checks(statement, ctx))
    return entries


def _closed_position_checks(statement: FlexStatement, ctx: MapContext) -> list[data.Custom]:
    """`custom "ibkr-position"` with `position: 0` for instruments traded in the statement that IBKR no longer lists.

    Only when the query has an OpenPositions section (present, even empty): its silence then means "nothing held",
    so a lot the ledger failed to close shows up as a quantity diff instead of an invisible stale holding.
    """
    if "OpenPositions" not in statement.sections or statement.to_date is None:
        return []
    held = {_instrument_key(r) for r in statement.rows("OpenPositions", "OpenPosition")}
    traded: dict[str, list[FlexRecord]] = {}
    for record in statement.rows("Trades", "Trade"):
        if (record.text("assetCategory") or "") == "CASH":
            continue
        key = _instrument_key(record)
        if key not in held:
            traded.setdefault(key, []).append(record)
    entries = []
    for rows in traded.values():
        last = rows[-1]
        commodity = ctx.commodity(last)
        if commodity is None:
            continue
        meta = data.new_metadata(ctx.raw_path, last.line)
        fields = {"account": ctx.account_id, "conid": last.text("conid"), "position": Decimal(0),
                  "currency": last.text("currency"), "source": "OpenPositions (not listed)",
                  "flex_src": ctx.src(last)}
        meta.update({k: v for k, v in fields.items() if v is not None})
        entries.append(data.Custom(meta, statement.to_date, "ibkr-position",
                                   [ValueType(commodity, str), ValueType(ctx.account_id, str)]))
    return entries


def map_cash_checks(statement: FlexStatement, ctx: MapContext) -> list[data.Custom]:
    """Per currency of the CashReport: `custom "ibkr-cash" "<CCY>" "<acct>"` on toDate.

    Meta: `account`, `currency`, `from_date`, then IBKR's figures in snake_case, every non-zero one plus
    `starting_cash` and `ending_cash` (`netTradesPurchases` -> `net_trades_purchases`; the `…Sec`, `…Com`,
    `…MTD`, `…YTD` splits of the same figures are left out), `flex_src`. The reconcile plugin compares
    ending_cash with the ledger's cash and, when they differ, each figure with the rows of its kind.
    """
    entries = []
    for record in _cash_report_rows(statement):
        ending, currency = record.decimal("endingCash"), record.text("currency")
        day = record.date("toDate") or statement.to_date
        if ending is None or day is None:
            ctx.drift.add("unmapped_row", "CashReport", record.tag, "no endingCash or toDate; no cash check written",
                          ctx.raw_path, record.line)
            continue
        meta = data.new_metadata(ctx.raw_path, record.line)
        meta["account"] = ctx.account_id
        meta["currency"] = currency
        from_date = record.date("fromDate") or statement.from_date
        if from_date is not None:
            meta["from_date"] = from_date
        for name in record.attrs:
            if _NOT_FIGURES.search(name) or _CASH_SPLIT.search(name):
                continue
            value = _number(record, name)
            if value is not None and (value or name in ("startingCash", "endingCash")):
                meta[snake_case(name)] = value
        meta["flex_src"] = ctx.src(record)
        entries.append(data.Custom(meta, day, "ibkr-cash", [ValueType(currency, str),
                                                            ValueType(ctx.account_id, str)]))
    return entries


def opening_cash(statement: FlexStatement, ctx: MapContext) -> list[data.Transaction]:
    """The cash an account held before its first statement: CashReport startingCash per currency, on fromDate.

    Call it only for the account's first statement (the orchestrator knows which one that is): a later
    statement's startingCash is the previous one's ending cash, already in the ledger. Example: startingCash
    2000.00 USD gives `Cash 2000.00 USD / Equity:…:Opening -2000.00 USD`, flex_id `<acct>/opening/cash/USD`.
    """
    entries = []
    for record in _cash_report_rows(statement):
        starting, currency = record.decimal("startingCash"), record.text("currency")
        day = record.date("fromDate") or statement.from_date
        if not starting or day is None:
            continue
        meta = ctx.meta("opening", f"{ctx.account_id}/opening/cash/{currency}", record,
                        amount=starting, currency=currency, source="CashReport.startingCash")
        postings = [data.Posting(ctx.accounts.cash, Amount(starting, currency), None, None, None, None),
                    data.Posting(ctx.accounts.opening, Amount(-starting, currency), None, None, None, None)]
        entries.append(data.Transaction(meta, day, "*", None, f"Opening cash balance {currency} (IBKR CashReport "
                                        f"startingCash)", data.EMPTY_SET, data.EMPTY_SET, postings))
    return entries


#: The text attributes a performance summary row keeps, as (attribute, meta key): what instrument it is about.
INSTRUMENT_TEXT = (("conid", "conid"), ("symbol", "symbol"), ("assetCategory", "asset_category"),
                   ("description", "description"), ("currency", "currency"))


def summary_meta(statement: FlexStatement, ctx: MapContext, record, text_fields) -> dict:
    """The meta of an `ibkr-summary` record: row tag, account, the `text_fields` the row has, the statement's
    period (statement_from/to: the period an MTM, MTD/YTD or NAV figure covers), every numeric attribute under
    its snake_case name (`totalRealizedPnl` -> `total_realized_pnl`), and flex_src."""
    meta = data.new_metadata(ctx.raw_path, record.line)
    meta["row"] = record.tag
    meta["account"] = ctx.account_id
    for name, key in text_fields:
        if record.text(name) is not None:
            meta[key] = record.text(name)
    if statement.from_date is not None:
        meta["statement_from"] = statement.from_date
    if statement.to_date is not None:
        meta["statement_to"] = statement.to_date
    for name in record.attrs:
        if _NOT_FIGURES.search(name) or snake_case(name) in meta:
            continue
        value = _number(record, name)
        if value is not None:
            meta[snake_case(name)] = value
    meta["flex_src"] = ctx.src(record)
    return meta


def map_summaries(statement: FlexStatement, ctx: MapContext) -> list[data.Custom]:
    """Performance summary rows (FIFO, MTM, MTD/YTD) as `custom "ibkr-summary" "<section>"` on the report date.

    Values: the section and `summary_key`. Meta: the row tag, the statement's account, the instrument (conid,
    symbol, asset_category, description), the statement's period (statement_from, statement_to), then every numeric
    attribute under its snake_case name (`totalRealizedPnl` -> `total_realized_pnl`), and flex_src.
    """
    entries = []
    for record in statement.records:
        if "PerformanceSummary" not in record.section:
            continue
        day = record.date("reportDate") or statement.to_date
        if day is None:
            continue
        meta = summary_meta(statement, ctx, record, INSTRUMENT_TEXT)
        entries.append(data.Custom(meta, day, "ibkr-summary", [ValueType(record.section, str),
                                                                ValueType(summary_key(record, ctx), str)]))
    return entries


def snake_case(name: str) -> str:
    """IBKR's camelCase as a Beancount meta key: `realizedSTProfit` -> `realized_st_profit`, `fxPnl` -> `fx_pnl`."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).lower()
    text = re.sub(r"[^a-z0-9_-]", "_", text)
    return text if len(text) > 1 and text[0].isalpha() else f"x_{text}"


def _number(record: FlexRecord, name: str) -> Decimal | None:
    text = record.text(name)
    if text is None:
        return None
    try:
        Decimal(text.replace(",", ""))
    except ArithmeticError:
        return None  # a text attribute among the figures
    return record.decimal(name)  # a number, so a NaN or 1e400 stops here, named, like in any other section


def _cash_report_rows(statement: FlexStatement) -> list[FlexRecord]:
    """CashReportCurrency rows for one real currency each (not BASE_SUMMARY, not levelOfDetail BaseCurrency)."""
    return [r for r in statement.rows("CashReport", "CashReportCurrency")
            if r.text("currency") not in (None, BASE_SUMMARY) and r.text("levelOfDetail") != "BaseCurrency"]


def summary_key(record: FlexRecord, ctx: MapContext) -> str:
    """The second value of `custom "ibkr-summary"`: `<row accountId>/<conid, symbol or description>`, e.g.
    `U1/265598` or `U1/Total-(All-Assets)`. Custom records have no flex_id, so this is what keeps the 12 rows of
    one section and day apart when directives are de-duplicated by their text."""
    row = record.text("conid") or record.text("symbol") or record.text("description") or record.tag
    return re.sub(r"\s+", "-", f"{record.text('accountId') or ctx.account_id}/{row}")


def _instrument_key(record: FlexRecord) -> str:
    return record.text("conid") or record.text("isin") or record.text("symbol") or f"line{record.line}"


def _position_meta(rows: list[FlexRecord], quantity: Decimal, ctx: MapContext) -> dict:
    """IBKR's figures for one position; LOT rows are added up (cost basis price only when there is one row)."""
    first = rows[0]

    def total(name: str) -> Decimal | None:
        values = [r.decimal(name) for r in rows]
        return None if None in values else sum(values, Decimal(0))

    meta = data.new_metadata(ctx.raw_path, first.line)
    fields = {
        "account": ctx.account_id,
        "conid": first.text("conid"),
        "isin": None if first.text("conid") else first.text("isin"),
        "position": quantity,
        "mark_price": first.decimal("markPrice"),
        "cost_basis_money": total("costBasisMoney"),
        "cost_basis_price": first.decimal("costBasisPrice") if len(rows) == 1 else None,
        "fifo_pnl_unrealized": total("fifoPnlUnrealized"),
        "currency": first.text("currency"),
        "fx_rate_to_base": first.decimal("fxRateToBase"),
        "multiplier": first.decimal("multiplier"),
        "side": first.text("side"),
        "level_of_detail": first.text("levelOfDetail"),
        "flex_src": ctx.src(*rows),
    }
    meta.update({k: v for k, v in fields.items() if v is not None})
    return meta
