"""A plugin that turns every reconciliation diff above the tolerance into a Beancount error.

`plugin "beanflex.plugins.reconcile" "{'tolerance': '0.01'}"` returns the entries unchanged and adds one
ReconcileError per difference engine/reconcile.py finds above the tolerance (a closing trade's realized P&L, an
open position, a performance summary, an ending cash balance), located at the entry behind it, so bean-check and
Fava's error page show it, e.g. "Realized P&L differs for 'U1/trade/T3': ours 347.00 != IBKR 346.50 (+0.50 USD)".
"""

from __future__ import annotations

import collections
from decimal import Decimal

from beanflex.engine import reconcile_cash
from beanflex.engine.shared_book import shared_book
from beanflex.contract.gcpause import paused_gc
from beanflex.engine.reconcile import mismatch_message, parse_config, reconcile_book

__plugins__ = ("reconcile",)

ReconcileError = collections.namedtuple("ReconcileError", "source message entry")


def plugin_errors(entries, options_map, tolerance: Decimal) -> list:
    """One ReconcileError per trade, position, performance summary or ending-cash diff above the tolerance,
    located at the entry behind it; a cash error names the kinds of money that differ (reconcile_cash.py)."""
    found = reconcile_book(shared_book(entries, options_map), tolerance)
    errors = []
    differing = found.diffs  # trades, positions, summaries, ending cash
    by_meta = {id(getattr(e, "meta", None)): e for e in entries} if differing else {}
    for d in differing:
        breakdown = ""
        if d.field == "cash":
            mine = [g for g in found.cash if g.meta is d.meta and g.field != "cash"]
            breakdown = reconcile_cash.breakdown_text(mine, tolerance)
        errors.append(ReconcileError(d.meta or {"filename": "<beanflex.plugins.reconcile>", "lineno": 0},
                                     mismatch_message(d, breakdown), by_meta.get(id(d.meta))))
    return errors


@paused_gc()
def reconcile(entries, options_map, config_str=None):
    """Beancount plugin entry point: (entries, options_map, config) -> (entries unchanged, ReconcileErrors)."""
    try:
        config = parse_config(config_str)
    except (ValueError, SyntaxError) as exc:
        return entries, [ReconcileError({"filename": "<beanflex.plugins.reconcile>", "lineno": 0}, str(exc), None)]
    return entries, plugin_errors(entries, options_map, config["tolerance"])
