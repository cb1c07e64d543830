"""Combo orders: the legs of one IBKR order in several instruments (a spread, a roll, a buy-write).

IBKR executes a combo as one order and writes one Trade row per leg and fill, all with the order's `ibOrderID`
(flex-schema §2: it groups the partial fills of one order). Rows of two or more instruments sharing it are one
order with legs: each leg gets `order_id` and the link `^order-<acct>-<ibOrderID>`, and keeps its own lots. E.g.
a vertical, BUY 1 XYZ 50 C and SELL 1 XYZ 55 C under ibOrderID 777: two transactions linked `^order-U1-777`.
Partial fills of a single instrument are one leg, not a combo, and get nothing. BookTrades (assignments,
expiries) reuse their own id as order id and are never combos.
"""

from __future__ import annotations

from collections import defaultdict

from .trades import TradeRow, is_fx


def mark_combos(ctx, rows: list[TradeRow]) -> None:
    """Give every leg of a multi-instrument order its `order_id` and `^order-…` link (rows of one statement)."""
    orders: dict[str, list[TradeRow]] = defaultdict(list)
    for row in rows:
        order_id = row.record.text("ibOrderID") or row.record.text("orderID")
        if not order_id or order_id in ("0", "N/A") or is_fx(row.record) or row.is_cancel:
            continue
        if row.record.text("transactionType") == "BookTrade":
            continue
        orders[order_id].append(row)
    for order_id, legs in orders.items():
        if len({leg.record.text("conid") or leg.record.text("symbol") for leg in legs}) < 2:
            continue
        link = f"order-{ctx.account_id}-{order_id}"
        for leg in legs:
            leg.extra_meta["order_id"] = order_id
            leg.links = frozenset(leg.links | {link})
