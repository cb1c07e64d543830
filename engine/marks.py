"""Marks: what an instrument was worth on a date, from a price directive or IBKR's own position row."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data


def dec(value) -> Decimal | None:
    """A metadata value as Decimal: the importer writes numbers, hand edits may quote them."""
    if isinstance(value, Decimal):
        return value
    if value is None or value == "":
        return None
    return Decimal(str(value))


@dataclass(frozen=True)
class Mark:
    """A price of an instrument on a date. `price` is IBKR's quote (per share for an option, as IBKR shows it);
    `unit_price` is what one unit of the commodity is worth, the figure to value a lot with: an option marked
    1.25 with multiplier 100 has price 1.25 and unit_price 125.00, whether the mark comes from IBKR's position
    row (mark × multiplier) or from a price directive (already per contract, ledger-format)."""

    date: datetime.date
    price: Decimal
    source: str
    flex_src: str = ""
    fx_rate: Decimal | None = None
    per_unit: Decimal | None = None  # unit_price when it differs from price
    symbol: str = ""  # the commodity marked

    @property
    def unit_price(self) -> Decimal:
        return self.price if self.per_unit is None else self.per_unit


def price_mark(entry: data.Price) -> Mark:
    """A price directive as a Mark: `price OPT 125.00 USD` with `mark_price: 1.25` -> price 1.25, unit_price 125.00."""
    meta = entry.meta or {}
    quoted = dec(meta.get("mark_price")) or dec(meta.get("close_price"))  # IBKR's quote when a factor was applied
    return Mark(entry.date, quoted or entry.amount.number, str(meta.get("source") or "price"),
                str(meta.get("flex_src") or ""), per_unit=entry.amount.number, symbol=entry.currency)


def winners_by_date(marks: list[Mark]) -> tuple[list[datetime.date], list[Mark]]:
    """(sorted mark dates, the mark that wins on each): IBKR's position mark over a price directive on the same
    date, else the first in ledger order; Book.mark bisects it."""
    winners: dict[datetime.date, Mark] = {}
    for mark in marks:
        held = winners.get(mark.date)
        if held is None or (mark.source == "ibkr-position" and held.source != "ibkr-position"):
            winners[mark.date] = mark
    dates = sorted(winners)
    return dates, [winners[d] for d in dates]
