"""One comparison of our figure against IBKR's: the unit every reconciliation check produces.

Kept apart from the checks themselves (reconcile.py for trades and positions, reconcile_summaries.py for IBKR's
performance summaries, reconcile_cash.py for the CashReport) so each check module can build Diffs without
importing the others.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Diff:
    """One comparison of ours against IBKR's figure (a closing trade, or one field of an open position)."""

    date: datetime.date
    account: str
    conid: str
    symbol: str
    currency: str
    flex_id: str
    field: str  # realized | quantity | cost_basis | unrealized | summary.<attribute>
    ours: Decimal
    ibkr: Decimal
    raw: tuple[str, ...]
    reason: str | None = None
    meta: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def diff(self) -> Decimal:
        return self.ours - self.ibkr
