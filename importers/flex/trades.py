"""Trades: IBKR `Trade` EXECUTION rows -> Beancount transactions that close exactly IBKR's lots.

Only EXECUTION rows are events (flex-schema §2, pitfall 1): `Order`, `SymbolSummary` and `AssetSummary` rows
repeat the same money, and `Lot` CLOSED_LOT rows say which lots a sale closed (Lot.transactionID = the opening
trade's transactionID, so the closing posting names the lot labelled `<acct>/trade/<that id>`).

Worked example (DESIGN §4): buy 10 @ 100 with commission 1 gives IBKR `cost` 1001, so the lot is
`10 AAPL {100.1 USD, 2024-01-02, "U1/trade/T1"}` against `Cash -1001 USD`. Selling 15 @ 130 (commission 1.5,
netCash 1948.5) closes 10 of T1 (cost 1001) and 5 of T2 (5 × 120.1 = 600.5); P&L = 1948.5 − 1601.5 = 347, booked
as `Income:…:PnL -347` so the transaction balances.

`assetCategory="CASH"` rows are currency conversions, never instruments: `symbol` is BASE.QUOTE, `quantity` is in
BASE and `proceeds` in QUOTE; the commission may be in a third currency and goes to `Expenses:…:Commissions`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount

from .adapter import FlexRecord, parse_datetime
from .context import MapContext
from .lots import ZERO, Closed, History, Lot, OpenLots, closes_history, opening_entry, per_unit, plain

SECTION = "Trades"
EXECUTION = "EXECUTION"
#: Rows of the Trades section that repeat the money of EXECUTION rows (never events).
REPEAT_TAGS = frozenset({"Order", "SymbolSummary", "AssetSummary"})
REPEAT_LEVELS = frozenset({"ORDER", "SYMBOL_SUMMARY", "ASSET_SUMMARY"})
#: notes codes -> event (flex-schema §2): expired, assigned, exercised.
EVENT_CODES = (("Ep", "expiry"), ("A", "assignment"), ("Ex", "exercise"))
PNL_PLACES = Decimal("1E-10")
_FX_PAIR = re.compile(r"^[A-Z]{3}\.[A-Z]{3}$")


@dataclass
class TradeRow:
    """One EXECUTION row with the CLOSED_LOT rows that follow it, ready to book in time order."""

    ctx: MapContext
    record: FlexRecord
    flex_id: str
    when: datetime.datetime
    lots: list[FlexRecord] = field(default_factory=list)
    extra: list[FlexRecord] = field(default_factory=list)  # rows merged into this one (OptionEAE twins)
    event: str | None = None  # set by option_eae when an OptionEAE row names the event
    links: frozenset = frozenset()  # ^eae-… ties an assignment/exercise to the stock or future it delivered

    @property
    def is_cancel(self) -> bool:
        buy_sell = self.record.text("buySell") or ""
        return (self.record.text("transactionType") == "TradeCancel" or "(Ca.)" in buy_sell
                or "Ca" in notes(self.record))


def is_fx(record: FlexRecord) -> bool:
    """A currency conversion: `assetCategory="CASH"`, or a BASE.QUOTE symbol in exports without the category."""
    category = record.text("assetCategory")
    return category == "CASH" or (category is None and bool(_FX_PAIR.match(record.text("symbol") or "")))


def notes(record: FlexRecord) -> list[str]:
    return [code.strip() for code in (record.text("notes") or "").split(";") if code.strip()]


def trade_datetime(record: FlexRecord) -> datetime.datetime | None:
    """`dateTime`, else `tradeDate` + `tradeTime` (older exports), else `reportDate`."""
    when = record.datetime("dateTime")
    if when is None and record.text("tradeDate"):
        text = record.text("tradeDate") + (";" + record.text("tradeTime") if record.text("tradeTime") else "")
        when = parse_datetime(text) or record.datetime("tradeDate")
    return when or record.datetime("reportDate")


def collect(ctx: MapContext) -> tuple[list[TradeRow], list[FlexRecord], list[tuple[FlexRecord, str]]]:
    """Sort the Trades section into (execution rows with their lots, repeat rows, rows not mapped with why)."""
    rows: list[TradeRow] = []
    repeats: list[FlexRecord] = []
    unmapped: list[tuple[FlexRecord, str]] = []
    for record in ctx.statement.rows(SECTION):
        level = record.text("levelOfDetail")
        if record.tag == "Lot" or (record.tag == "Trade" and level == "CLOSED_LOT"):
            owner = next((row for row in reversed(rows) if row.record.text("conid") == record.text("conid")),
                         None)
            if owner is None:
                unmapped.append((record, "closed lot without its closing trade"))
            else:
                owner.lots.append(record)
        elif record.tag in REPEAT_TAGS or level in REPEAT_LEVELS:
            repeats.append(record)
        elif record.tag == "Trade" and level in (None, EXECUTION):
            when = trade_datetime(record)
            if when is None or record.decimal("quantity") is None:
                unmapped.append((record, "trade without date or quantity"))
                continue
            rows.append(TradeRow(ctx, record, ctx.flex_id("trade", record), when))
        else:
            unmapped.append((record, f"row kind {record.tag}/{level} not known"))
    return rows, repeats, unmapped


def pair_cancels(rows: list[TradeRow]) -> list[tuple[TradeRow, TradeRow]]:
    """(original, cancel) pairs: a TradeCancel row and the row it reverses (same tradeID, opposite quantity).

    IBKR re-books a corrected trade under the same tradeID (pp28), so the original is the earliest row with
    that tradeID whose quantity the cancel exactly reverses; the re-book stays an ordinary trade.
    """
    pairs = []
    used: set[str] = set()
    for cancel in rows:
        if not cancel.is_cancel:
            continue
        orig_id = cancel.record.text("origTradeID") or cancel.record.text("tradeID")
        quantity = cancel.record.decimal("quantity")
        candidates = [row for row in rows
                      if row is not cancel and not row.is_cancel and row.flex_id not in used
                      and row.ctx.account_id == cancel.ctx.account_id
                      and row.record.text("tradeID") == orig_id and row.record.decimal("quantity") == -quantity]
        if candidates:
            original = min(candidates, key=_booking_order)
            used.add(original.flex_id)
            pairs.append((original, cancel))
    return pairs


def _booking_order(row: TradeRow) -> tuple:
    """Earliest first: by time, then transactionID (numerically when it is a number)."""
    tx = row.record.text("transactionID") or ""
    return (row.when, 0 if tx.isdigit() else 1, int(tx) if tx.isdigit() else 0, tx)


def cancel_note(original: TradeRow, cancel: TradeRow) -> data.Note:
    """A cancelled trade and its cancellation move nothing together; a note keeps both rows visible."""
    ctx, record = cancel.ctx, original.record
    text = (f"IBKR cancelled trade {record.text('tradeID')} ({record.text('buySell')} {record.text('quantity')} "
            f"{record.text('symbol')} @ {record.text('tradePrice')}); the pair moves nothing")
    meta = ctx.meta("trade_cancel", cancel.flex_id, cancel.record, **{"cancelled_flex_id": original.flex_id})
    meta["flex_src"] = " ".join(filter(None, [original.ctx.src(original.record), ctx.src(cancel.record)]))
    return data.Note(meta, cancel.when.date(), ctx.accounts.cash, text, None, None)


@dataclass
class Money:
    """A trade row's amounts, with IBKR's missing fields filled from the ones present (flex-schema §12.8)."""

    quantity: Decimal
    price: Decimal | None
    multiplier: Decimal
    proceeds: Decimal
    commission: Decimal
    commission_currency: str
    taxes: Decimal
    net_cash: Decimal
    cost: Decimal | None
    currency: str

    @classmethod
    def of(cls, record: FlexRecord, default_multiplier: Decimal = Decimal(1)) -> "Money":
        quantity = record.decimal("quantity")
        price = record.decimal("tradePrice")
        multiplier = record.decimal("multiplier") or default_multiplier
        currency = record.text("currency") or "USD"
        commission = record.decimal("ibCommission") or ZERO
        commission_currency = record.text("ibCommissionCurrency") or currency
        own_commission = commission if commission_currency == currency else ZERO
        taxes = record.decimal("taxes") or ZERO
        cost = record.decimal("cost")
        proceeds = record.decimal("proceeds")
        if proceeds is None and record.decimal("tradeMoney") is not None:
            proceeds = -record.decimal("tradeMoney")
        elif proceeds is None and price is not None:
            proceeds = -(quantity * price * multiplier)
        net_cash = record.decimal("netCash")
        if net_cash is None:
            if proceeds is not None:
                net_cash = proceeds + taxes + own_commission
            elif cost is not None:  # trimmed exports (pp12): IBKR's realized = netCash + cost
                net_cash = (record.decimal("fifoPnlRealized") or ZERO) - cost
            else:
                net_cash = ZERO
        if proceeds is None:
            proceeds = net_cash - taxes - own_commission
        return cls(quantity, price, multiplier, proceeds, commission, commission_currency, taxes, net_cash,
                   cost, currency)


def trade_meta(row: TradeRow, event: str, money: Money, *sources: FlexRecord) -> dict:
    record, ctx = row.record, row.ctx
    meta = ctx.meta(
        event, row.flex_id, record, *sources,
        conid=record.text("conid"), quantity=money.quantity, trade_price=money.price, proceeds=money.proceeds,
        commission=money.commission, commission_currency=money.commission_currency, taxes=money.taxes,
        net_cash=money.net_cash, ibkr_cost=money.cost, fifo_pnl_realized=record.decimal("fifoPnlRealized"),
        fx_rate_to_base=record.decimal("fxRateToBase"), open_close=record.text("openCloseIndicator") or "",
        notes=record.text("notes") or "", multiplier=money.multiplier,
        trade_datetime=record.text("dateTime") or record.text("tradeDate"),
        trade_id=record.text("tradeID"), transaction_type=record.text("transactionType"))
    return meta


def narration(record: FlexRecord, money: Money, symbol: str) -> str:
    side = (record.text("buySell") or ("BUY" if money.quantity > 0 else "SELL")).replace(" (Ca.)", "")
    price = f" @ {money.price}" if money.price is not None else ""
    return f"{side} {abs(money.quantity)} {symbol}{price}"


def map_fx(row: TradeRow) -> data.Transaction:
    """USD.CHF BUY 1000 @ 0.9 -> `Cash 1000 USD @@ 900 CHF`, `Cash -900 CHF`, commission to Commissions."""
    record, ctx = row.record, row.ctx
    money = Money.of(record)
    acc = ctx.accounts
    base = (record.text("symbol") or "").split(".")[0] or money.currency
    proceeds = money.proceeds
    postings, flag = [], "*"
    if proceeds != 0:
        total = Amount(abs(proceeds), money.currency)
        postings.append(total_price_posting(acc.cash, Amount(money.quantity, base), total))
        postings.append(posting(acc.cash, proceeds, money.currency))
    else:  # a conversion without a counter amount cannot be right: keep it visible, flagged, never guessed
        flag = "!"
        postings.append(posting(acc.cash, money.quantity, base))
        postings.append(posting(acc.unclassified, -money.quantity, base))
        ctx.drift.add("flagged_row", SECTION, record.tag, "currency conversion without proceeds", ctx.raw_path,
                      record.line)
    if money.commission:
        postings.append(posting(acc.cash, money.commission, money.commission_currency))
        postings.append(posting(acc.commissions, -money.commission, money.commission_currency))
    if money.taxes:
        postings.append(posting(acc.cash, money.taxes, money.currency))
        postings.append(posting(acc.commissions, -money.taxes, money.currency))
    meta = trade_meta(row, "fx", money, *row.extra)
    return data.Transaction(meta, row.when.date(), flag, None, narration(record, money, record.text("symbol") or ""),
                            data.EMPTY_SET, data.EMPTY_SET, postings)


def posting(account: str, number: Decimal, currency: str, cost=None) -> data.Posting:
    return data.Posting(account, Amount(plain(number) if number else ZERO, currency), cost, None, None, None)


def total_price_posting(account: str, units: Amount, total: Amount) -> data.Posting:
    """A posting with an `@@` total price; the writer prints `@@` from the `__total_price__` meta."""
    price = Amount(total.number / abs(units.number), total.currency)
    return data.Posting(account, units, None, price, None, {"__total_price__": total})


@dataclass
class Booker:
    """Books trade rows in time order for one build, holding the open lots of every account."""

    lots: dict[str, OpenLots] = field(default_factory=dict)
    history: History = field(default_factory=History)

    def account_lots(self, ctx: MapContext) -> OpenLots:
        return self.lots.setdefault(ctx.account_id, OpenLots())

    def book(self, row: TradeRow, commodity: str, default_multiplier: Decimal) -> list[data.Directive]:
        """The trade transaction, preceded by `opening` entries for lots bought before the first statement.

        In IBKR's order: 1. the lots IBKR's Lot rows name; 2. the rest closes held lots of the other side (FIFO,
        or LIFO for notes LI), IBKR's FIFO taking lots held before the statement first; 3. what is still left
        closes a lot from before the first statement, or opens a new lot.
        """
        money = Money.of(row.record, default_multiplier)
        tracker = self.account_lots(row.ctx)
        openings: list[data.Transaction] = []
        closed: list[Closed] = []
        remaining = self.close_named_lots(row, money, commodity, tracker, openings, closed)
        lifo = "LI" in notes(row.record)
        history_lot = None
        if remaining != 0 and not row.lots and not lifo:  # IBKR's FIFO takes lots held before the statement first
            history_lot = self.history.materialize(row.ctx, row.record, commodity, tracker, remaining,
                                                   self.before_statement(row.ctx, row), money.currency,
                                                   row.flex_id.rsplit("/", 1)[-1])
        if remaining != 0 and tracker.held(commodity) * remaining < 0:  # 2. closes held lots of the other side
            taken, left = tracker.close_in_order(commodity, -remaining, lifo)
            closed.extend(taken)
            remaining = -left
        opened = self.close_history_or_open(row, money, commodity, tracker, remaining, openings, closed) \
            if remaining != 0 else None
        if history_lot is not None:
            openings.append(self.settle_history_lot(row, money, commodity, history_lot, closed))
        return openings + [self.transaction(row, money, commodity, closed, opened)]

    def close_named_lots(self, row: TradeRow, money: Money, commodity: str, tracker: OpenLots,
                         openings: list, closed: list) -> Decimal:
        """Step 1: close exactly the lots IBKR's Lot rows name (opening a lot from before the first statement
        when the ledger lacks it); returns the quantity still to close or open, signed like the trade."""
        record, ctx = row.record, row.ctx
        remaining = money.quantity
        for lot_row in row.lots:
            units = abs(lot_row.decimal("quantity") or ZERO) * (-1 if money.quantity > 0 else 1)
            if units == 0 or abs(units) > abs(remaining):
                continue
            label = f"{ctx.account_id}/trade/{lot_row.text('transactionID')}" if lot_row.text("transactionID") \
                else None
            if label is None:  # no id: the ledger lot opened that day, else leave it to FIFO below
                opened_day = lot_row.date("openDateTime")
                lot = next((lot for lot in tracker.lots(commodity) if lot.date == opened_day
                            and lot.units * units > 0 and abs(lot.units) >= abs(units)), None)
                if lot is None and tracker.held(commodity) * units > 0:
                    continue
            else:
                lot = tracker.find(commodity, label)
            if lot is None or abs(lot.units) < abs(units) or lot.units * units < 0:
                lot_cost = abs(lot_row.decimal("cost") or ZERO) * (1 if units > 0 else -1)
                open_id = f"{ctx.account_id}/opening/{record.text('conid') or commodity}/" \
                          f"{lot_row.text('transactionID') or row.flex_id.rsplit('/', 1)[-1]}"
                opened_on = lot_row.date("openDateTime") or self.before_statement(ctx, row)
                lot = Lot(label or open_id, min(opened_on, row.when.date()), units, lot_cost, money.currency,
                          per_unit(lot_cost, units))
                if tracker.find(commodity, lot.label) is not None:
                    lot.label = open_id
                openings.append(self.opening(ctx, open_id, commodity, lot, lot_row))
                tracker.open(commodity, lot)
            closed.append(tracker.take(commodity, lot, units))
            remaining += units
        return remaining

    def close_history_or_open(self, row: TradeRow, money: Money, commodity: str, tracker: OpenLots,
                              remaining: Decimal, openings: list, closed: list) -> Lot | None:
        """Step 3: the rest closes a lot bought before the first statement (opened here at IBKR's cost minus what
        the ledger closed), or opens a new lot; returns the lot opened, if any."""
        record, ctx = row.record, row.ctx
        open_close = record.text("openCloseIndicator")
        if closes_history(open_close, record, self.history.pre_window(ctx, record), remaining):
            units = -remaining
            if money.cost is not None and money.cost != 0:
                lot_cost = -money.cost - sum((c.cost_part for c in closed), ZERO)
            else:
                lot_cost = units * (money.price or ZERO) * money.multiplier
            open_id = f"{ctx.account_id}/opening/{record.text('conid') or commodity}/{row.flex_id.rsplit('/', 1)[-1]}"
            lot = Lot(open_id, self.before_statement(ctx, row), units, lot_cost, money.currency,
                      per_unit(lot_cost, units))
            openings.append(self.opening(ctx, open_id, commodity, lot, record))
            tracker.open(commodity, lot)
            closed.append(tracker.take(commodity, lot, units))
            return None
        # a new lot (or the opening half of a flip, with its share of the cash)
        if not closed and money.cost is not None and money.cost == -money.net_cash:
            total = money.cost  # IBKR's basis; equal to what was paid in 358/360 sample rows
        else:  # edited rows, commission in another currency, flips: the cash actually paid
            total = -money.net_cash * remaining / money.quantity
        opened = Lot(row.flex_id, row.when.date(), remaining, total, money.currency, per_unit(total, remaining))
        tracker.open(commodity, opened)
        return opened

    def settle_history_lot(self, row: TradeRow, money: Money, commodity: str, history_lot: Lot,
                           closed: list) -> data.Transaction:
        """The opening entry of a lot held before the statement that this sale closed: its cost is IBKR's basis
        for the sale minus the lots the ledger knew, e.g. basis 1,601.50 with a known lot of 1,001.00 -> 600.50."""
        basis = -money.cost if money.cost else history_lot.units * (money.price or ZERO) * money.multiplier
        part = next(c for c in closed if c.lot.label == history_lot.label)
        known = sum((c.cost_part for c in closed if c is not part), ZERO)
        total = basis - known if money.cost else basis
        history_lot.total_cost = part.cost_part = part.lot.total_cost = total
        history_lot.cost_per_unit = part.lot.cost_per_unit = per_unit(total, history_lot.units)
        return self.opening(row.ctx, history_lot.label, commodity, history_lot, row.record)

    @staticmethod
    def before_statement(ctx: MapContext, row: TradeRow) -> datetime.date:
        start = ctx.statement.from_date or row.when.date()
        return min(start, row.when.date()) - datetime.timedelta(days=1)

    @staticmethod
    def opening(ctx: MapContext, flex_id: str, commodity: str, lot: Lot, source: FlexRecord) -> data.Transaction:
        meta = ctx.meta("opening", flex_id, source, conid=source.text("conid"))
        return opening_entry(meta, commodity, lot, ctx.accounts,
                             f"Opening lot {lot.units} {commodity} from before the first statement")

    def transaction(self, row: TradeRow, money: Money, commodity: str, closed: list[Closed],
                    opened: Lot | None) -> data.Transaction:
        record, ctx = row.record, row.ctx
        acc = ctx.accounts
        postings = [posting(acc.positions, -c.units, commodity, c.lot.cost()) for c in closed]
        if opened is not None:
            postings.append(posting(acc.positions, opened.units, commodity, opened.cost()))
        postings.append(posting(acc.cash, money.net_cash, money.currency))
        if money.commission and money.commission_currency != money.currency:
            postings.append(posting(acc.cash, money.commission, money.commission_currency))
            postings.append(posting(acc.commissions, -money.commission, money.commission_currency))
        weight = money.net_cash - sum((c.cost_part for c in closed), ZERO) \
            + (opened.units * opened.cost_per_unit if opened else ZERO)
        if closed or (opened is None and weight):  # a zero-quantity row is cash only: its P&L
            pnl = -weight
            if abs(pnl.as_tuple().exponent) > 10:
                pnl = pnl.quantize(PNL_PLACES)
            postings.append(posting(acc.pnl, pnl, money.currency))
        event = row.event or next((name for code, name in EVENT_CODES if code in notes(record)), "trade")
        meta = trade_meta(row, event, money, *row.lots, *row.extra)
        return data.Transaction(meta, row.when.date(), "*", None, narration(record, money, commodity),
                                data.EMPTY_SET, row.links or data.EMPTY_SET, postings)
