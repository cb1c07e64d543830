"""A plugin that checks each closing trade's realized P&L against the figure IBKR reported.

`plugin "beanflex.plugins.reconcile" "{'tolerance': '0.01'}"` returns the entries unchanged and adds one
ReconcileError per closing trade whose realized P&L (net cash + the basis of the lots the ledger closed, e.g.
1948.50 - 1601.50 = 347.00) differs from IBKR's `fifo_pnl_realized` by more than the tolerance, and per open
position that differs from IBKR's `custom "ibkr-position"` (quantity, cost basis, unrealized).
"""

from __future__ import annotations

import ast
import collections
from decimal import Decimal, InvalidOperation

__plugins__ = ("reconcile",)

ReconcileError = collections.namedtuple("ReconcileError", "source message entry")

DEFAULT_TOLERANCE = Decimal("0.01")


def parse_config(config_str: str | None) -> dict:
    """The plugin's config string as a dict, e.g. "{'tolerance': '0.01'}" -> {'tolerance': Decimal('0.01')}."""
    if not config_str or not config_str.strip():
        return {"tolerance": DEFAULT_TOLERANCE}
    value = ast.literal_eval(config_str)
    if not isinstance(value, dict):
        raise ValueError(f"beanflex.plugins.reconcile: config must be a dict, got {config_str!r}")
    tolerance = value.get("tolerance", DEFAULT_TOLERANCE)
    try:
        value["tolerance"] = Decimal(str(tolerance))
    except InvalidOperation as exc:
        raise ValueError(f"beanflex.plugins.reconcile: tolerance {tolerance!r} is not a number") from exc
    return value


def reconcile(entries, options_map, config_str=None):
    """Beancount plugin entry point: (entries, options_map, config) -> (entries unchanged, ReconcileErrors)."""
    try:
        config = parse_config(config_str)
    except (ValueError, SyntaxError) as exc:
        return entries, [ReconcileError({"filename": "<beanflex.plugins.reconcile>", "lineno": 0}, str(exc), None)]
    return entries, plugin_errors(entries, options_map, config["tolerance"])


def _dec(value) -> Decimal | None:
    """A metadata value as Decimal: the ledger writes numbers, hand edits may quote them."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _is_positions(account: str) -> bool:
    parts = account.split(":")
    return len(parts) == 4 and parts[0] == "Assets" and parts[1] == "IBKR" and parts[3] == "Positions"


def realized_as_booked(entry) -> Decimal | None:
    """Realized P&L of one trade transaction as the ledger booked its lots, in the trade currency.

    net_cash + sum(units x cost) over the Positions postings: opening postings cancel their own net cash, so
    what remains is proceeds minus the basis of the closed lots. E.g. SELL 15 @ 130, comm 1.5 closing
    -10 {100.1} and -5 {120.1}: 1948.5 + (-1001 - 600.5) = 347.0.
    """
    net_cash = _dec(entry.meta.get("net_cash"))
    if net_cash is None:
        return None
    total = net_cash
    for posting in entry.postings:
        if _is_positions(posting.account) and posting.cost is not None and posting.cost.number is not None:
            total += posting.units.number * posting.cost.number
    return total


def mismatch_message(entry, field: str, ours: Decimal, ibkr: Decimal) -> str:
    return (f"{field} differs for '{entry.meta.get('flex_id', '?')}': ours {ours} != IBKR {ibkr} "
            f"({ours - ibkr:+}); raw row {entry.meta.get('flex_src', '?')}")


def plugin_errors(entries, options_map, tolerance: Decimal) -> list:
    """One ReconcileError per closing trade whose realized P&L differs from IBKR's beyond the tolerance."""
    errors = []
    for entry in entries:
        meta = getattr(entry, "meta", None) or {}
        ibkr = _dec(meta.get("fifo_pnl_realized"))
        if ibkr is None or not hasattr(entry, "postings"):
            continue
        ours = realized_as_booked(entry)
        if ours is not None and abs(ours - ibkr) > tolerance:
            errors.append(ReconcileError(meta, mismatch_message(entry, "Realized P&L", ours, ibkr), entry))
    return errors
