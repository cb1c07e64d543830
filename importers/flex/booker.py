"""Booking trades against open lots, in time order: which lots a closing trade closes, and the transaction.

A sale closes, in IBKR's order, the lots IBKR's Lot rows name, then held lots of the other side (FIFO, or LIFO
for notes LI), then a lot from before the first statement; what is left opens a lot. E.g. DESIGN §4: SELL 15 AAPL
with Lot rows for T1 (10) and T2 (5) closes exactly those, at 1,001.00 + 600.50, and books PnL 347.00.
trades.py reads the rows; this module only books them.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data

from .adapter import FlexRecord
from .context import MapContext
from .lots import (ZERO, Closed, History, Lot, OpenLots, closes_history, closing_posting, opening_entry, per_unit,
                   plain)
from .trades import (EVENT_CODES, PNL_PLACES, Money, TradeRow, daily_variation, futures_notional, narration, notes,
                     posting, trade_meta)


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
        paid = money.net_cash  # what the Cash posting gets: IBKR's netCash
        if daily_variation(row.record, money):  # lots and P&L on the trade's money, the cash as IBKR moved it
            money = dataclasses.replace(money, net_cash=money.proceeds + money.own_commission + money.taxes)
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
        return openings + [self.transaction(row, money, commodity, closed, opened, paid)]

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
                lot_units, lot_cost = self.history.full_lot(label, units, lot_cost) if lot is None \
                    else (units, lot_cost)  # a lot sold in pieces opens once, whole
                lot = Lot(label or open_id, min(opened_on, row.when.date()), lot_units, lot_cost, money.currency,
                          per_unit(lot_cost, lot_units))
                if tracker.find(commodity, lot.label) is not None:
                    lot.label = open_id
                openings.append(self.opening(ctx, open_id, commodity, lot, lot_row))
                tracker.open(commodity, lot)
            closed.append(tracker.take(commodity, lot, units))
            closed[-1].note_ibkr_cost(lot_row.decimal("cost"))
            remaining += units
        return remaining

    def close_history_or_open(self, row: TradeRow, money: Money, commodity: str, tracker: OpenLots,
                              remaining: Decimal, openings: list, closed: list) -> Lot | None:
        """Step 3: the rest closes a lot bought before the first statement (opened here at IBKR's cost minus what
        the ledger closed), or opens a new lot; returns the lot opened, if any."""
        record, ctx = row.record, row.ctx
        open_close = record.text("openCloseIndicator")
        # a cancel of a sale whose original is elsewhere (pair_cancels found none) re-opens the lot that sale
        # closed, at IBKR's `cost` (its basis); its `C` says what the original did, not that it closes
        reopens = row.is_cancel and remaining > 0 and money.cost is not None and money.cost > 0
        if not reopens and closes_history(open_close, record, self.history.pre_window(ctx, record), remaining):
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
        if not closed and money.cost is not None and (money.cost == -money.net_cash or reopens):
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
                    opened: Lot | None, paid: Decimal | None = None) -> data.Transaction:
        record, ctx = row.record, row.ctx
        acc = ctx.accounts
        postings = [closing_posting(acc.positions, commodity, c) for c in closed]
        if opened is not None:
            postings.append(posting(acc.positions, opened.units, commodity, opened.cost()))
        paid = money.net_cash if paid is None else paid
        postings.append(posting(acc.cash, paid, money.currency))
        if paid != money.net_cash:  # a future's daily variation: the rest of the trade's money is notional
            postings.append(posting(futures_notional(ctx), money.net_cash - paid, money.currency))
        if money.commission and money.commission_currency != money.currency:
            postings.append(posting(acc.cash, money.commission, money.commission_currency))
            postings.append(posting(acc.commissions, -money.commission, money.commission_currency))
        weight = money.net_cash - sum((c.cost_part for c in closed), ZERO) \
            + (opened.units * opened.cost_per_unit if opened else ZERO)
        if closed or weight:  # a zero-quantity row is cash only, a re-opening cancel's cash is not its lot: P&L
            pnl = -weight
            if abs(pnl.as_tuple().exponent) > 10:
                pnl = pnl.quantize(PNL_PLACES)
            postings.append(posting(acc.pnl, pnl, money.currency))
        event = row.event or next((name for code, name in EVENT_CODES if code in notes(record)), "trade")
        meta = trade_meta(row, event, money, *row.lots, *row.extra)
        if paid != money.net_cash:
            meta["net_cash"], meta["trade_money"] = paid, money.net_cash
        return data.Transaction(meta, row.when.date(), "*", None, narration(record, money, commodity),
                                data.EMPTY_SET, row.links or data.EMPTY_SET, postings)


def move_lots(accounts, tracker: OpenLots, old: str, new: str, ratio: Decimal) -> list[data.Posting]:
    """Every open lot of `old` moved to `new` at `ratio` new units per old unit, same label, date and total cost
    (a split into another conid, an adjusted option contract): the postings that close and reopen them, plus a
    balancing corporate-actions leg when a total cost does not divide evenly by the new units. E.g. a 1-for-25
    reverse split of 12,000 at 3,256.20 -> 480 at 3,256.20 / 480 each."""
    postings, residual = [], ZERO
    for lot in list(tracker.lots(old)):
        postings.append(posting(accounts.positions, -lot.units, old, lot.cost()))
        units = plain(lot.units * ratio)
        moved = Lot(lot.label, lot.date, units, lot.total_cost, lot.currency, per_unit(lot.total_cost, units))
        postings.append(posting(accounts.positions, units, new, moved.cost()))
        residual += units * moved.cost_per_unit - lot.units * lot.cost_per_unit
        tracker.take(old, lot, lot.units)
        tracker.open(new, moved)
    if residual:
        postings.append(posting(accounts.corporate_actions, -residual, tracker.lots(new)[0].currency))
    return postings
