"""CashTransactions -> one Beancount transaction per cash row (dividends, withholding, interest, fees, transfers).

Every row becomes its own transaction, `Assets:IBKR:<acct>:Cash` against the account its `type` names
(docs/ledger-format.md). Nothing is netted or dropped: a withholding tax, its reversal and its re-charge are three
transactions, tied to their dividend by the link `^div-<acct>-<actionID>` (or `<conid>-<date>` when IBKR gives no
actionID), so "net dividend" is a query, not a guess. Example (DESIGN §4): dividend 1.20 and withholding -0.18 are

    Cash  1.20 USD / Income:…:Dividends       -1.20 USD    ^div-U1-A1
    Cash -0.18 USD / Expenses:…:WithholdingTax  0.18 USD    ^div-U1-A1     (net 1.20 - 0.18 = 1.02 USD)

SUMMARY/DETAIL twins (flex-schema §5, pitfall 2): real exports repeat every DETAIL row as a SUMMARY row with
`accountId="-"` and no transactionID, and a SUMMARY row may add up several DETAIL rows (eTax: deposits 2731 + 1900
= one SUMMARY 4631). When a statement has DETAIL rows, only they are booked; the SUMMARY rows are compared per
(type, currency) and a difference is reported as drift, never booked.

Dates: a row is booked on its `dateTime` date (the pay/settle day IBKR shows; `settleDate`, then `reportDate`
when dateTime is missing). A row dated outside the statement's period is a late correction of an earlier period
(reds: 2024 withholding reversals in a 2025 statement); the cash moved when IBKR reported it, and the statement's
CashReport counts it in this period, so it is booked on its `reportDate` (else the nearer end of the period) and
keeps the original as `date_time` meta. This keeps every period's ending-cash assertion true across rebuilds.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount

from .adapter import FlexRecord, FlexStatement
from .context import MapContext

SECTION = "CashTransactions"

#: IBKR `type` (normalised: lower case, single spaces, `&` spelled `/`) -> (event, attribute of names.Accounts).
CASH_TYPES: dict[str, tuple[str, str]] = {
    "dividends": ("dividend", "dividends"),
    "payment in lieu of dividends": ("dividend", "dividends"),
    "withholding tax": ("withholding", "withholding"),
    "871(m) withholding": ("withholding", "withholding"),
    "broker interest received": ("interest", "interest_income"),
    "bond interest received": ("interest", "interest_income"),
    "broker interest paid": ("interest", "interest_expense"),
    "bond interest paid": ("interest", "interest_expense"),
    "other fees": ("fee", "fees"),
    "advisor fees": ("fee", "fees"),
    "commission adjustments": ("fee", "fees"),
    "deposits/withdrawals": ("transfer", "transfers"),
}
#: Events whose rows are linked to their dividend with `^div-…`.
DIVIDEND_EVENTS = frozenset({"dividend", "withholding"})
_LINK_BAD = re.compile(r"[^A-Za-z0-9_./-]")


def normalise_type(cash_type: str | None) -> str:
    """`Deposits & Withdrawals` and `Deposits/Withdrawals` (real files) are one type; case and spacing don't count."""
    text = re.sub(r"\s+", " ", (cash_type or "").strip().lower())
    return re.sub(r"\s*&\s*", "/", text)


def select_cash_rows(statement: FlexStatement) -> tuple[list[FlexRecord], list[FlexRecord]]:
    """(rows to book, SUMMARY twins left out): DETAIL rows when the statement has any, else every row.

    Old and trimmed exports have no `levelOfDetail` at all (pp01, reds); their rows are all booked.
    """
    rows = list(statement.rows(SECTION, "CashTransaction"))
    if any(_level(r) == "DETAIL" for r in rows):
        return [r for r in rows if _level(r) != "SUMMARY"], [r for r in rows if _level(r) == "SUMMARY"]
    return rows, []


def map_cash_transactions(statement: FlexStatement, ctx: MapContext) -> list[data.Transaction]:
    """Every booked CashTransaction row as one transaction, in document order."""
    rows, summaries = select_cash_rows(statement)
    _check_summary_twins(rows, summaries, ctx)
    entries = []
    for record in rows:
        entry = _map_row(record, statement, ctx)
        if entry is not None:
            entries.append(entry)
    return entries


def booking_date(record: FlexRecord, statement: FlexStatement) -> tuple[datetime.date | None, bool]:
    """(date to book on, whether it differs from the row's own date); see the module docstring.

    The own date is kept when it lies inside the statement's period (or the period is unknown); otherwise the
    row's reportDate when that lies inside, else the nearer end of the period.
    """
    own = record.date("dateTime") or record.date("settleDate") or record.date("reportDate")
    start, end = statement.from_date, statement.to_date
    if own is None or start is None or end is None or start <= own <= end:
        return own, False
    reported = record.date("reportDate")
    if reported is not None and start <= reported <= end:
        return reported, True
    return (start if own < start else end), True


def dividend_link(record: FlexRecord, ctx: MapContext) -> str:
    """`div-<acct>-<actionID>`, else `div-<acct>-<conid>-<yyyy-mm-dd>` (isin or symbol when there is no conid)."""
    key = record.text("actionID")
    if key is None:
        instrument = record.text("conid") or record.text("isin") or record.text("symbol") or "none"
        day = record.date("dateTime") or record.date("settleDate") or record.date("reportDate")
        key = f"{instrument}-{day.isoformat() if day else 'nodate'}"
    return _LINK_BAD.sub("-", f"div-{ctx.account_id}-{key}")


def _map_row(record: FlexRecord, statement: FlexStatement, ctx: MapContext) -> data.Transaction | None:
    amount, currency = record.decimal("amount"), record.text("currency")
    day, redated = booking_date(record, statement)
    if amount is None or currency is None or day is None:
        missing = "amount" if amount is None else "currency" if currency is None else "dateTime/reportDate"
        ctx.drift.add("unmapped_row", SECTION, record.tag, f"no {missing}; the row cannot be booked",
                      ctx.raw_path, record.line)
        return None
    cash_type = record.text("type")
    event, account_attr = CASH_TYPES.get(normalise_type(cash_type), ("unclassified", "unclassified"))
    counter = getattr(ctx.accounts, account_attr)
    if event == "unclassified":
        ctx.drift.add("unknown_value", SECTION, record.tag, f"type={cash_type!r} (booked to {counter})",
                      ctx.raw_path, record.line)
    links = frozenset({dividend_link(record, ctx)}) if event in DIVIDEND_EVENTS else data.EMPTY_SET
    meta = ctx.meta(
        event, ctx.flex_id("cash", record), record,
        conid=record.text("conid"),
        symbol=record.text("symbol"),
        isin=None if record.text("conid") else record.text("isin"),
        amount=amount,
        currency=currency,
        fx_rate_to_base=record.decimal("fxRateToBase"),
        action_id=record.text("actionID"),
        ex_date=record.date("exDate"),
        pay_date=record.date("settleDate"),
        report_date=record.date("reportDate"),
        date_time=record.text("dateTime") if redated else None,
        description=record.text("description"),
        cash_type=cash_type,
    )
    postings = [
        data.Posting(ctx.accounts.cash, Amount(amount, currency), None, None, None, None),
        data.Posting(counter, Amount(-amount, currency), None, None, None, None),
    ]
    narration = record.text("description") or " ".join(filter(None, [cash_type, record.text("symbol")])) \
        or "cash transaction"
    return data.Transaction(meta, day, "*", None, narration, data.EMPTY_SET, links, postings)


def _level(record: FlexRecord) -> str | None:
    level = record.text("levelOfDetail")
    return level.upper() if level else None


def _check_summary_twins(rows: list[FlexRecord], summaries: list[FlexRecord], ctx: MapContext) -> None:
    """Report (as drift) any (type, currency) whose SUMMARY total differs from the booked DETAIL total.

    Equal totals mean the SUMMARY rows only repeat the DETAIL rows; a difference means money that only a SUMMARY
    row shows, which the user has to look at (it is not booked, to avoid counting twins twice).
    """
    if not summaries:
        return
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    first_line: dict[tuple[str, str], int] = {}
    for index, group in ((0, rows), (1, summaries)):
        for record in group:
            key = (normalise_type(record.text("type")), record.text("currency") or "")
            totals[key][index] += record.decimal("amount") or Decimal(0)
            if index == 1:
                first_line.setdefault(key, record.line)
    for key, (detail, summary) in totals.items():
        if key in first_line and detail != summary:
            ctx.drift.add("unmapped_row", SECTION, "CashTransaction",
                          f"SUMMARY rows of type {key[0]!r} {key[1]} total {summary} but DETAIL rows {detail}; "
                          f"only DETAIL rows are booked", ctx.raw_path, first_line[key])
