"""Transfers: IBKR `Transfer` rows (ACATS, ATON, FOP, INTERNAL, OTC, INTERCOMPANY; IN or OUT) -> transactions
against the transfers account (`Equity:IBKR:<acct>:Transfers`, or the one configured in main.beancount).

A position transfer moves shares at their cost: it is neither a purchase nor a sale, so it realizes nothing.

- IN opens one lot labelled with the row's flex_id, `<acct>/transfer/<transactionID>`:

      Assets:IBKR:U1:Positions   20 MSFT {300.025 USD, 2024-03-05, "U1/transfer/X1"}
      Equity:IBKR:U1:Transfers  -6000.5 USD                  (IBKR's basis 6000.50 / 20 = 300.025 a share)

  A Transfer row carries no cost basis (`positionAmount` is the market value, `transferPrice` is often 0). IBKR's
  own basis is taken from the statement's OpenPositions when it can only belong to these shares: LOT rows whose
  `originatingTransactionID` is the transfer's transactionID, or the instrument's end position when it is
  exactly the transferred quantity and nothing else moved it (no trade, other transfer, corporate action or
  option event in the statement, nothing held by the ledger before). Otherwise the number written is a stand-in
  (positionAmount, else quantity x transferPrice x multiplier, else 0): the entry is flagged `!`, its
  `cost_source` says what stands in, and the row is a `flagged_row` drift item, exactly like a stand-in opening
  lot (lots.position_openings). The user fixes it in manual.beancount with the same flex_id and lot label.
- OUT closes the ledger's lots first-in-first-out at their own cost, with no PnL leg:

      Assets:IBKR:U1:Positions  -4 AAPL {100.1 USD, 2024-03-04, "U1/trade/B1"}
      Equity:IBKR:U1:Transfers   400.4 USD                   (4 x 100.1: the shares leave at cost)

  Units the ledger does not hold (bought before the first statement) are first opened like any missing history,
  an `opening` entry against `Equity:…:Opening`, at a stand-in cost (their share of positionAmount, else
  transferPrice, else 0), flagged `!` with `cost_source`; the transfer that carries that cost is flagged too.
  A non-zero IBKR `pnlAmount` (realized P/L IBKR attributes to the transfer) flags the entry: the ledger has none.
- Cash: `cashTransfer` on any row, or an `assetCategory="CASH"` row (its cashTransfer, else its quantity), is
  `Assets:…:Cash` against the transfers account. When the statement's CashTransactions book the same money (a
  Deposits/Withdrawals row with the same currency, amount and day) it is not booked twice: a cash-only row is
  then a repeat of that row (counted as mapped), and a position row books its shares only.

Signs follow `direction` (IN +, OUT -); a row without a direction keeps the sign IBKR wrote. Rows are booked on
their `dateTime`/`date`, after the day's trades: the generated file lists a day's `…/trade/…` flex_ids before its
`…/transfer/…` ones and Beancount books in that order (so shares transferred in and sold on the same day are not
supported). Rows whose levelOfDetail is neither TRANSFER nor DETAIL (none seen; IBKR documents "transferred
lots") are not booked but reported as unmapped: booking them too would move the shares twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from .adapter import FlexRecord, FlexStatement
from .cash import booking_date, normalise_type, select_cash_rows
from .context import MapContext
from .instruments import instrument_key
from .lots import ZERO, Closed, Lot, OpenLots, opening_entry, per_unit, plain
from .trades import posting

SECTION = "Transfers"
TAG = "Transfer"
EVENT_LEVELS = frozenset({"TRANSFER", "DETAIL"})
END_OF_DAY = datetime.time(23, 59, 59)
#: Sections whose rows also move an instrument's position within a statement (see incoming_basis).
MOVERS = (("Trades", "Trade"), ("CorporateActions", "CorporateAction"), ("OptionEAE", "OptionEAE"),
          (SECTION, TAG))


@dataclass
class TransferItem:
    ctx: MapContext
    record: FlexRecord
    flex_id: str
    when: datetime.datetime
    cash_booked: bool = False  # the cash part repeats a CashTransactions Deposits/Withdrawals row


def is_event_row(record: FlexRecord) -> bool:
    return (record.text("levelOfDetail") or "TRANSFER").upper() in EVENT_LEVELS


def signed(value: Decimal | None, record: FlexRecord) -> Decimal | None:
    """IBKR's number with the sign of `direction`: quantity 0.5, direction OUT -> -0.5 (IN -> 0.5)."""
    if value is None:
        return None
    direction = (record.text("direction") or "").upper()
    return abs(value) if direction == "IN" else -abs(value) if direction == "OUT" else value


def position_units(record: FlexRecord) -> Decimal:
    """Units of an instrument the row moves (0 for cash rows and rows not booked); lots.History counts them."""
    if instrument_key(record) is None or not is_event_row(record):
        return ZERO
    return signed(record.decimal("quantity"), record) or ZERO


def cash_amount(record: FlexRecord) -> Decimal:
    """The cash the row moves: `cashTransfer`, else a CASH row's quantity; signed by direction."""
    amount = record.decimal("cashTransfer")
    if not amount and instrument_key(record) is None:
        amount = record.decimal("quantity")
    return signed(amount, record) or ZERO


def transfer_day(record: FlexRecord) -> datetime.date | None:
    return record.date("dateTime") or record.date("date") or record.date("settleDate") or record.date("reportDate")


def collect(ctx: MapContext, seen_ids: set[str]) -> tuple[list[TransferItem], list[FlexRecord], list[FlexRecord]]:
    """(rows to book, rows repeating a booked CashTransactions row, rows already booked from another statement)."""
    items: list[TransferItem] = []
    repeats: list[FlexRecord] = []
    duplicates: list[FlexRecord] = []
    twins = _deposit_rows(ctx.statement)
    for record in ctx.statement.rows(SECTION, TAG):
        if not is_event_row(record):
            ctx.drift.add("unmapped_row", SECTION, record.tag,
                          f"levelOfDetail={record.text('levelOfDetail')} rows are not booked (only TRANSFER rows "
                          "are events; booking both would move the shares twice)", ctx.raw_path, record.line)
            continue
        day = transfer_day(record)
        if day is None:
            ctx.drift.add("unmapped_row", SECTION, record.tag, "transfer without a date", ctx.raw_path, record.line)
            continue
        flex_id = ctx.flex_id("transfer", record)
        if flex_id in seen_ids:
            duplicates.append(record)
            continue
        seen_ids.add(flex_id)
        item = TransferItem(ctx, record, flex_id, datetime.datetime.combine(day, END_OF_DAY))
        cash = cash_amount(record)
        twin = next((t for t in twins if cash and t[0] == (day, record.text("currency"), cash)), None)
        if twin is not None:
            twins.remove(twin)
            item.cash_booked = True
            if instrument_key(record) is None:  # nothing but that cash: CashTransactions books it
                repeats.append(record)
                continue
        items.append(item)
    return items, repeats, duplicates


def _deposit_rows(statement: FlexStatement) -> list[tuple[tuple, FlexRecord]]:
    """((day, currency, amount), row) of the Deposits/Withdrawals rows cash.py books for this statement."""
    rows, _summaries = select_cash_rows(statement)
    found = []
    for record in rows:
        if normalise_type(record.text("type")) == "deposits/withdrawals":
            found.append(((booking_date(record, statement)[0], record.text("currency"), record.decimal("amount")),
                          record))
    return found


def book(item: TransferItem, instruments, booker) -> list[data.Transaction]:
    """The transfer transaction, preceded by a flagged `opening` when an OUT moves shares the ledger lacks."""
    ctx, record = item.ctx, item.record
    acc = ctx.accounts
    inst = instruments.get(record)
    units = position_units(record) if inst is not None else ZERO
    cash = ZERO if item.cash_booked else cash_amount(record)
    if units == 0 and cash == 0:
        reason = "transfer names no instrument and moves no cash" if inst is None and not item.cash_booked \
            else "transfer of quantity 0 without cash"
        ctx.drift.add("unmapped_row", SECTION, record.tag, reason, ctx.raw_path, record.line)
        return []
    currency = record.text("currency") or "USD"
    tracker: OpenLots = booker.account_lots(ctx)
    postings, entries, problems = [], [], []
    if record.text("currency") is None:
        problems.append("row names no currency, USD assumed")
    cost_source = None
    if units > 0:
        basis, cost_source, guessed = incoming_basis(ctx, record, inst.name, inst.multiplier, units,
                                                     tracker.held(inst.name))
        lot = Lot(item.flex_id, item.when.date(), units, basis, currency, per_unit(basis, units))
        tracker.open(inst.name, lot)
        postings.append(posting(acc.positions, units, inst.name, lot.cost()))
        postings.append(posting(acc.transfers, -basis, currency))
        if guessed:
            problems.append(f"cost is not IBKR's cost basis ({cost_source})")
    elif units < 0:
        closed, opening = _close(item, inst.name, inst.multiplier, -units, currency, tracker)
        if opening is not None:
            entries.append(opening)
            cost_source = opening.meta["cost_source"]
            problems.append(f"closes shares from before the first statement at a stand-in cost ({cost_source})")
        weights: dict[str, Decimal] = {}
        for part in closed:
            postings.append(posting(acc.positions, -part.units, inst.name, part.lot.cost()))
            weights[part.lot.currency] = weights.get(part.lot.currency, ZERO) + part.cost_part
        for lot_currency, weight in sorted(weights.items()):
            postings.append(posting(acc.transfers, weight, lot_currency))
    if cash:
        postings.append(posting(acc.cash, cash, currency))
        postings.append(posting(acc.transfers, -cash, currency))
    if record.decimal("pnlAmount"):
        problems.append(f"IBKR reports pnlAmount {record.text('pnlAmount')}; the ledger books none on a transfer")
    for problem in problems:
        ctx.drift.add("flagged_row", SECTION, record.tag, f"transfer {problem}; fix it in manual.beancount "
                      "(same flex_id)", ctx.raw_path, record.line)
    meta = _meta(item, cost_source)
    entries.append(data.Transaction(meta, item.when.date(), "!" if problems else "*", None,
                                    _narration(record, units, inst.name if inst else None, cash, currency),
                                    data.EMPTY_SET, data.EMPTY_SET, postings))
    return entries


def incoming_basis(ctx: MapContext, record: FlexRecord, commodity: str, multiplier: Decimal, units: Decimal,
                   held: Decimal) -> tuple[Decimal, str, bool]:
    """(total cost of the `units` transferred in, meta `cost_source`, is it a stand-in?).

    E.g. 20 MSFT in, OpenPositions at the end lists 20 MSFT with costBasisMoney 6000.50 and nothing else moved
    MSFT: (6000.50, "OpenPositions.costBasisMoney: …", False). Without OpenPositions, positionAmount 2700 for
    3 NVDA: (2700, "positionAmount: …", True), i.e. 900 a share at market value, not a cost.
    """
    key = instrument_key(record)
    rows = [r for r in ctx.statement.rows("OpenPositions", "OpenPosition") if instrument_key(r) == key]
    lot_rows = [r for r in rows if (r.text("levelOfDetail") or "").upper() == "LOT"]
    txid = record.text("transactionID")
    own = [r for r in lot_rows if txid and r.text("originatingTransactionID") == txid]
    found = _position_basis(own, multiplier)
    if found is not None and found[0] == units:
        return found[1], "OpenPositions LOT costBasisMoney (originatingTransactionID = transactionID)", False
    if held == 0 and _moved_only_by(ctx.statement, record):
        found = _position_basis([r for r in rows if r not in lot_rows] or lot_rows, multiplier)
        if found is not None and found[0] == units:
            return found[1], "OpenPositions.costBasisMoney: the end position is exactly this transfer", False
    return _stand_in(record, units, units, multiplier)


def _position_basis(rows: list[FlexRecord], multiplier: Decimal) -> tuple[Decimal, Decimal] | None:
    """(position, IBKR's cost basis) added up over OpenPositions rows; None when a row lacks the basis."""
    if not rows:
        return None
    position, basis = ZERO, ZERO
    for row in rows:
        units = row.decimal("position") or ZERO
        money = row.decimal("costBasisMoney")
        if money is None and row.decimal("costBasisPrice") is not None:
            money = units * row.decimal("costBasisPrice") * (row.decimal("multiplier") or multiplier)
        if money is None:
            return None
        position += units
        basis += money
    return position, basis


def _moved_only_by(statement: FlexStatement, record: FlexRecord) -> bool:
    """Is `record` the only row of the statement that moves its instrument (trades, actions, transfers)?"""
    key = instrument_key(record)
    for section, tag in MOVERS:
        for row in statement.rows(section, tag):
            if (row.section, row.line) != (record.section, record.line) and instrument_key(row) == key:
                return False
    return True


def _stand_in(record: FlexRecord, units: Decimal, row_units: Decimal,
              multiplier: Decimal) -> tuple[Decimal, str, bool]:
    """A stand-in total cost for `units` of the row's `row_units`, and what it is (never IBKR's basis).

    E.g. 0.5 BTC out of 0.5, positionAmount -20000: (20000, "positionAmount: …", True), 40000 a coin.
    """
    share = abs(units) / abs(row_units)
    amount = record.decimal("positionAmount")
    if amount:
        return plain(abs(amount) * share), "positionAmount: the market value at the transfer, not IBKR's cost " \
            "basis (a Transfer row carries none)", True
    price = record.decimal("transferPrice")
    if price:
        return plain(abs(units) * price * multiplier), "transferPrice x quantity x multiplier, not IBKR's cost " \
            "basis (a Transfer row carries none)", True
    return ZERO, "none: no positionAmount or transferPrice on the Transfer row; 0 written", True


def _close(item: TransferItem, commodity: str, multiplier: Decimal, units: Decimal, currency: str,
           tracker: OpenLots) -> tuple[list[Closed], data.Transaction | None]:
    """Close `units` (> 0) of long lots FIFO; what the ledger lacks is opened first (flagged, stand-in cost)."""
    ctx, record = item.ctx, item.record
    closed, left = tracker.close_in_order(commodity, units)
    if not left:
        return closed, None
    basis, cost_source, _ = _stand_in(record, left, units, multiplier)
    open_id = f"{ctx.account_id}/opening/{record.text('conid') or commodity}/{item.flex_id.rsplit('/', 1)[-1]}"
    start = ctx.statement.from_date or item.when.date()
    before = min(start, item.when.date()) - datetime.timedelta(days=1)
    lot = Lot(open_id, before, left, basis, currency, per_unit(basis, left))
    meta = ctx.meta("opening", open_id, record, conid=record.text("conid"), cost_source=cost_source)
    opening = opening_entry(meta, commodity, lot, ctx.accounts,
                            f"Opening lot {left} {commodity} from before the first statement (transferred out)",
                            flag="!")
    tracker.open(commodity, lot)
    closed.append(tracker.take(commodity, lot, left))
    return closed, opening


def _meta(item: TransferItem, cost_source: str | None) -> dict:
    record = item.record
    return item.ctx.meta(
        "transfer", item.flex_id, record,
        conid=record.text("conid"),
        symbol=record.text("symbol"),
        transfer_type=record.text("type"),
        direction=record.text("direction"),
        quantity=record.decimal("quantity"),
        transfer_price=record.decimal("transferPrice"),
        position_amount=record.decimal("positionAmount"),
        position_amount_in_base=record.decimal("positionAmountInBase"),
        pnl_amount=record.decimal("pnlAmount"),
        cash_transfer=record.decimal("cashTransfer"),
        cash_booked_by="CashTransactions" if item.cash_booked else None,
        currency=record.text("currency"),
        fx_rate_to_base=record.decimal("fxRateToBase"),
        delivering_broker=record.text("deliveringBroker"),
        transfer_account=record.text("account"),
        transfer_company=record.text("company"),
        cost_source=cost_source,
        description=record.text("description"),
    )


def _narration(record: FlexRecord, units: Decimal, commodity: str | None, cash: Decimal, currency: str) -> str:
    """E.g. "ACATS IN 20 MSFT from BROKER X", "INTERNAL OUT 4 AAPL", "INTERNAL IN 2500 USD"."""
    head = " ".join(filter(None, [record.text("type"), record.text("direction")])) or "TRANSFER"
    moved = [f"{abs(units)} {commodity}"] if units else []
    if cash:
        moved.append(f"{abs(cash)} {currency}")
    text = f"{head} {' + '.join(moved)}".rstrip()
    broker = record.text("deliveringBroker")
    if broker:
        text += f" {'from' if units > 0 or cash > 0 else 'to'} {broker}"
    return text
