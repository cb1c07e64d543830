"""Rows that contradict themselves or the calendar: refused with what is wrong, before anything is mapped.

IBKR's rows are redundant on purpose, and a row whose parts disagree cannot be booked safely: which part is
true is unknown, and booking either one leaves lots that later sales cannot match. So the statement stops with a
SchemaDriftError naming file, section, line and fields, like a missing field:

- a `Trade` with `buySell="BUY"` and a negative `quantity`, or `SELL` and a positive one (a cancellation says
  `BUY (Ca.)` and is not checked);
- a statement whose `fromDate` is after its `toDate`, or whose dates lie in the future: IBKR's dates are US
  Eastern, so anything later than tomorrow (today + 2 days, e.g. 2096-01-31 on 2026-12-03) was edited or made
  by a broken clock. Statements only get older, so an archived statement that passed once always passes.
"""

from __future__ import annotations

import datetime

from .adapter import FlexRecord, FlexStatement
from .errors import FlexParseError, SchemaDriftError

#: How far ahead of this machine's date IBKR's dates may be (its US Eastern day vs a user east of it).
FUTURE_SLACK = datetime.timedelta(days=2)
_HINT = "the statement was edited or damaged; fetch it again from IBKR (do not edit archived statements)"


def check_statement(statement: FlexStatement, source: str, today: datetime.date | None = None) -> None:
    """Raise SchemaDriftError for the first contradiction in `statement`; return None when there is none."""
    latest = (today or datetime.date.today()) + FUTURE_SLACK
    if statement.from_date and statement.to_date and statement.from_date > statement.to_date:
        raise SchemaDriftError(f"fromDate {statement.from_date} is after toDate {statement.to_date}", file=source,
                               section="FlexStatement", line=statement.line, attribute="fromDate", hint=_HINT)
    for name, value in (("toDate", statement.to_date), ("whenGenerated", statement.when_generated)):
        day = value.date() if isinstance(value, datetime.datetime) else value
        if day is not None and day > latest:
            raise SchemaDriftError(f"the statement is dated {day}, after today", file=source,
                                   section="FlexStatement", line=statement.line, attribute=name,
                                   hint=f"{_HINT}; or this machine's clock is wrong")
    for record in statement.rows("Trades", "Trade"):
        if (record.text("levelOfDetail") or "EXECUTION") == "EXECUTION":
            _check_trade(record, source, latest)


def _check_trade(record: FlexRecord, source: str, latest: datetime.date) -> None:
    try:
        side, quantity = record.text("buySell"), record.decimal("quantity")
        when = record.date("dateTime") if record.text("dateTime") else None
    except FlexParseError:  # not a number or date at all: the mapper names it, with what to do about the file
        return
    if quantity is not None and ((side == "BUY" and quantity < 0) or (side == "SELL" and quantity > 0)):
        raise SchemaDriftError(f'buySell="{side}" contradicts quantity="{record.raw("quantity")}" (a BUY adds, a '
                               "SELL takes away)", file=source, section=record.section, line=record.line,
                               attribute="buySell/quantity", hint=_HINT)
    if when is not None and when > latest:
        raise SchemaDriftError(f"the trade is dated {when}, after today", file=source, section=record.section,
                               line=record.line, attribute="dateTime", hint=f"{_HINT}; or this machine's clock "
                               "is wrong")
