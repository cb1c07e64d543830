"""Trades: IBKR `Trade` EXECUTION rows -> Beancount transactions that close exactly IBKR's lots.

Only EXECUTION rows are events (flex-schema §2, pitfall 1): `Order`, `SymbolSummary` and `AssetSummary` rows
repeat the same money, and `Lot` CLOSED_LOT rows say which lots a sale closed (Lot.transactionID = the opening
trade's transactionID, so the closing posting names the lot labelled `<acct>/trade/<that id>`).
booker.py books them; this module reads the rows and builds their money, metadata and postings.

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
from .lots import ZERO, plain

SECTION = "Trades"
EXECUTION = "EXECUTION"
#: Rows of the Trades section that repeat the money of EXECUTION rows (never events).
REPEAT_TAGS = frozenset({"Order", "SymbolSummary", "AssetSummary"})
REPEAT_LEVELS = frozenset({"ORDER", "SYMBOL_SUMMARY", "ASSET_SUMMARY"})
#: notes codes -> event (flex-schema §2): expired, assigned, exercised.
EVENT_CODES = (("Ep", "expiry"), ("A", "assignment"), ("Ex", "exercise"))
PNL_PLACES = Decimal("1E-10")
#: transactionType of a row that cancels an earlier one (a fractional-share cancel is one too).
CANCEL_TYPES = frozenset({"TradeCancel", "FracShareCancel"})
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
    extra_meta: dict = field(default_factory=dict)  # option_flex_id, delivery_flex_id, order_id (ledger-format)

    @property
    def is_cancel(self) -> bool:
        buy_sell = self.record.text("buySell") or ""
        return (self.record.text("transactionType") in CANCEL_TYPES or "(Ca.)" in buy_sell
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

    @property
    def own_commission(self) -> Decimal:
        """The commission when charged in the trade's currency (else it is booked apart)."""
        return self.commission if self.commission_currency == self.currency else ZERO

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
    meta.update(row.extra_meta)
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


def daily_variation(record: FlexRecord, money: Money) -> bool:
    """A future whose row settles the day's variation: netCash (FDAX BUY 1 @ 11463 x 25, close 11514.5: 1285.5)
    is not the trade's money (-286575 - 2 = -286577). The lot then costs IBKR's `cost` (286577), the Cash posting
    is netCash, and `Assets:IBKR:<acct>:FuturesNotional` takes the difference (-287862.5, back to 0 when the
    position closes); meta `trade_money` is the trade's money, which the P&L uses."""
    if (record.text("assetCategory") or "") != "FUT":
        return False
    return money.net_cash != money.proceeds + money.own_commission + money.taxes


def futures_notional(ctx: MapContext) -> str:
    return f"Assets:IBKR:{ctx.accounts.id}:FuturesNotional"


def posting(account: str, number: Decimal, currency: str, cost=None) -> data.Posting:
    return data.Posting(account, Amount(plain(number) if number else ZERO, currency), cost, None, None, None)


def total_price_posting(account: str, units: Amount, total: Amount) -> data.Posting:
    """A posting with an `@@` total price; the writer prints `@@` from the `__total_price__` meta."""
    price = Amount(total.number / abs(units.number), total.currency)
    return data.Posting(account, units, None, price, None, {"__total_price__": total})
