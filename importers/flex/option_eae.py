"""OptionEAE rows (exercise, assignment, expiration) without counting the same event twice.

IBKR writes each option event twice: as an OptionEAE row and as a BookTrade row in Trades (flex-schema §7, pitfall
4): a short call assigned is OptionEAE `Assignment +1` and Trade `BUY 1 @ 0` (BookTrade), and the shares it
delivers are OptionEAE `Sell -100` and Trade `SELL -100 @ 17` (BookTrade). So:

- when the statement has the matching BookTrade (same instrument, date and quantity), the OptionEAE row only
  names the event: the trade transaction gets `event: assignment|exercise|expiry` and the OptionEAE row in its
  `flex_src`; nothing is booked twice;
- when it has none (a query without Trades), the OptionEAE row itself is booked as the trade: the option closes at
  price 0 (an expiry at zero price is valid), the delivered shares or futures at `tradePrice`;
- `Cash Settlement` rows with quantity 0 are folded into the same instrument's event of that day, which becomes a
  `cash_settlement` (an index option, VIX: `Exercise -1` + `Cash Settlement 0`: the option closes, nothing is
  delivered);
- an assigned or exercised option and the trade it delivered are linked (option_deliveries.py).
"""

from __future__ import annotations

import dataclasses

from .adapter import FlexRecord
from .context import MapContext
from .option_deliveries import link_deliveries
from .booker import Booker
from .trades import TradeRow, trade_datetime

SECTION = "OptionEAE"
EVENTS = {"assignment": "assignment", "exercise": "exercise", "expiration": "expiry",
          "cash settlement": "cash_settlement", "buy": None, "sell": None}
NOTES = {"assignment": "A", "exercise": "Ex", "expiration": "Ep", "cash settlement": "Ex"}


def _key(record: FlexRecord):
    return (record.text("conid") or record.text("symbol"), record.date("date") or record.date("tradeDate")
            or record.date("dateTime"), record.decimal("quantity"))


def collect(ctx: MapContext, rows: list[TradeRow], seen_ids: set[str], instruments=None) -> list[TradeRow]:
    """Merge OptionEAE rows into their BookTrade twins; return the rows that must be booked on their own."""
    own: list[TradeRow] = []
    eae_rows = list(ctx.statement.rows(SECTION))
    book_trades = {}
    for row in rows:
        if row.record.text("transactionType") in ("BookTrade", None):
            book_trades.setdefault(_key(row.record), []).append(row)
    last_for_conid: dict = {}
    for record in eae_rows:
        kind = (record.text("transactionType") or "").lower()
        event = EVENTS.get(kind)
        matches = book_trades.get(_key(record)) or []
        if record.decimal("quantity") == 0:
            target = last_for_conid.get((record.text("conid"), _key(record)[1]))
            if target is not None:
                target.extra.append(record)
                if event == "cash_settlement":
                    target.event = event
            else:
                ctx.drift.add("unmapped_row", SECTION, record.tag, f"{kind or 'event'} without quantity or event",
                              ctx.raw_path, record.line)
            continue
        if matches:
            twin = matches.pop(0)
            twin.extra.append(record)
            if event:
                twin.event = event
            last_for_conid[(record.text("conid"), _key(record)[1])] = twin
            continue
        synthetic = _as_trade(record, kind)
        when = trade_datetime(synthetic)
        if when is None:
            ctx.drift.add("unmapped_row", SECTION, record.tag, "OptionEAE row without a date", ctx.raw_path,
                          record.line)
            continue
        flex_id = ctx.flex_id("eae", record, "tradeID")
        if flex_id in seen_ids:
            continue
        seen_ids.add(flex_id)
        row = TradeRow(ctx, synthetic, flex_id, when, event=event)
        last_for_conid[(record.text("conid"), _key(record)[1])] = row
        own.append(row)
    link_deliveries(ctx, rows + own, instruments)
    return own


def _as_trade(record: FlexRecord, kind: str) -> FlexRecord:
    """The OptionEAE row in Trade terms, so booker.Booker books it like the BookTrade IBKR did not send."""
    attrs = dict(record.attrs)
    attrs.setdefault("dateTime", attrs.get("date", ""))
    attrs["ibCommission"] = attrs.get("commisionsAndTax", "")
    if attrs.get("realizedPnl"):
        attrs["fifoPnlRealized"] = attrs["realizedPnl"]
    if kind in NOTES:
        attrs["notes"] = NOTES[kind]
        attrs["openCloseIndicator"] = "C"
        attrs["tradePrice"] = attrs.get("tradePrice") or "0"
    attrs["transactionType"] = "BookTrade"
    return dataclasses.replace(record, attrs=attrs)


def book(row: TradeRow, instruments, booker: Booker) -> list:
    inst = instruments.get(row.record)
    if inst is None:
        row.ctx.drift.add("unmapped_row", SECTION, row.record.tag, "OptionEAE row names no instrument",
                          row.ctx.raw_path, row.record.line)
        return []
    return booker.book(row, inst.name, inst.multiplier)
