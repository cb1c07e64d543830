"""Cancels: a cancel row pairs only with the trade it cancels (pp28, pp09; a FracShareCancel and its re-book).

A pair moves nothing and becomes a note; a cancel without its original in the build is booked as a trade
(booker.Booker: a cancel of a sale re-opens the lot at IBKR's cost).
"""

from __future__ import annotations

from beancount.core import data

from .trades import TradeRow


def pair_cancels(rows: list[TradeRow]) -> list[tuple[TradeRow, TradeRow]]:
    """(original, cancel) pairs: a cancel row and the row it reverses, never any other.

    By id first: IBKR's `origTransactionID` names the original. Else by its `origTradeID` (IBKR re-books a
    corrected trade under the same tradeID, pp28) with the exactly opposite quantity, IBKR's `origTradePrice` and
    `origTradeDate` when given, and booked before the cancel: the re-book that follows a cancel (same tradeID,
    same size, same second, e.g. a FracShareCancel and its FracShare) is a trade of its own. A cancel whose
    original is not in the statement pairs with nothing and is booked as IBKR wrote it.
    """
    pairs = []
    used: set[str] = set()
    for cancel in rows:
        if not cancel.is_cancel:
            continue
        candidates = [row for row in rows if row is not cancel and not row.is_cancel and row.flex_id not in used
                      and row.ctx.account_id == cancel.ctx.account_id]
        orig_tx = cancel.record.text("origTransactionID")
        if orig_tx:
            candidates = [row for row in candidates if row.record.text("transactionID") == orig_tx]
        else:
            candidates = [row for row in candidates if _may_be_original(row, cancel)]
        if candidates:
            original = min(candidates, key=_booking_order)
            used.add(original.flex_id)
            pairs.append((original, cancel))
    return pairs


def _may_be_original(row: TradeRow, cancel: TradeRow) -> bool:
    """Same tradeID, opposite quantity, IBKR's original price and date when the cancel gives them, and booked
    before the cancel (by time, then transactionID)."""
    record, its = row.record, cancel.record
    quantity = its.decimal("quantity")
    if record.text("tradeID") != (its.text("origTradeID") or its.text("tradeID")) or quantity is None:
        return False
    if record.decimal("quantity") != -quantity or _booking_order(row) >= _booking_order(cancel):
        return False
    price, day = its.decimal("origTradePrice"), its.date("origTradeDate")
    if price is not None and record.decimal("tradePrice") is not None and record.decimal("tradePrice") != price:
        return False
    return day is None or row.when.date() == day


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
