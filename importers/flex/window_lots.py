"""Lots opened before the archive's first statement, at IBKR's full quantity, worked out before any booking.

The Flex Web Service serves at most 365 days, so an account's first statement sells lots bought before it.
IBKR names each one in the sale's CLOSED_LOT rows (`transactionID` = the opening trade's id). When such a lot is
sold in two pieces, both pieces must close one ledger lot, so that lot is opened once, at the quantity held when
the archive begins: every piece closed in the archive plus what `OpenPositions` (LOT rows,
`originatingTransactionID`) still lists. This is worked out over all statements before booking, so the answer
does not depend on the order in which statements were archived.

Example: lot T9 (bought before the window) is sold 40 then 60, costs 400.20 and 600.30; OpenPositions still
lists 25 of it at costBasisMoney 250.125. The ledger opens one lot of 40 + 60 + 25 = 125 units at
400.20 + 600.30 + 250.125 = 1250.625 (10.005 per unit); the sales take 40 and 60 of it, 25 stay open.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass
class _Lot:
    pieces: list[tuple[datetime.date, Decimal, Decimal]] = field(default_factory=list)  # (closed on, units, cost)
    still_open: list[tuple[datetime.date, Decimal, Decimal]] = field(default_factory=list)  # per statement end

    def full(self) -> tuple[Decimal, Decimal]:
        """(units, total cost): the largest quantity any statement's view implies, signed like the lot."""
        best = (sum((p[1] for p in self.pieces), ZERO), sum((p[2] for p in self.pieces), ZERO))
        for end, units, cost in self.still_open:
            before = [p for p in self.pieces if p[0] <= end]
            candidate = (units + sum((p[1] for p in before), ZERO), cost + sum((p[2] for p in before), ZERO))
            if abs(candidate[0]) > abs(best[0]):
                best = candidate
        return best


def _sign(value: Decimal) -> int:
    return -1 if value < 0 else 1


@dataclass
class WindowLots:
    """The pieces behind `full_quantities`, kept so a later statement can add to them (map_resume.py).

    `unsold` holds OpenPositions LOT rows of lots from before the archive that no trade has sold yet: once a
    later statement sells one, its rows count like those of any other lot (in the order the statements came).
    """

    lots: dict[str, _Lot] = field(default_factory=dict)
    unsold: dict[str, list[tuple[datetime.date, Decimal, Decimal]]] = field(default_factory=dict)

    def full(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {label: lot.full() for label, lot in self.lots.items()}


def full_quantities(rows, contexts) -> dict[str, tuple[Decimal, Decimal]]:
    """Lot label (`<acct>/trade/<opening transactionID>`) -> (units, total cost) for lots opened before the archive.

    `rows` are the booked trade rows of all statements, each once (overlapping statements repeat them);
    `contexts` are all statements. Only lots whose opening trade is in no statement are listed.
    """
    window = WindowLots()
    known = {row.flex_id for row in rows}
    add_pieces(window, rows, known)
    add_positions(window, contexts, known)
    return window.full()


def add_pieces(window: WindowLots, rows, known: set[str]) -> None:
    """Each piece a sale in `rows` closes of a lot whose opening trade is not in `known`."""
    for row in rows:
        quantity = row.record.decimal("quantity") or ZERO
        lot_sign = -_sign(quantity)  # a sale (quantity < 0) closes a long lot
        for lot_row in row.lots:
            opening_id = lot_row.text("transactionID")
            label = f"{row.ctx.account_id}/trade/{opening_id}"
            if not opening_id or label in known:
                continue
            units = abs(lot_row.decimal("quantity") or ZERO) * lot_sign
            cost = abs(lot_row.decimal("cost") or ZERO) * lot_sign
            lot = window.lots.get(label)
            if lot is None:
                lot = window.lots[label] = _Lot(still_open=window.unsold.pop(label, []))
            lot.pieces.append((row.when.date(), units, cost))


def add_positions(window: WindowLots, contexts, known: set[str]) -> None:
    """What each statement's OpenPositions still lists of those lots at its end."""
    for ctx in contexts:
        end = ctx.statement.to_date
        for record in ctx.statement.rows("OpenPositions", "OpenPosition"):
            opening_id = record.text("originatingTransactionID")
            label = f"{ctx.account_id}/trade/{opening_id}"
            if end is None or not opening_id or label in known \
                    or (record.text("levelOfDetail") or "").upper() != "LOT":
                continue
            units, basis = record.decimal("position"), record.decimal("costBasisMoney")
            if units is None or basis is None:  # no cost of IBKR's to add: the pieces alone make the lot
                continue
            cost = abs(basis) * _sign(units)
            lot = window.lots.get(label)
            (lot.still_open if lot is not None else window.unsold.setdefault(label, [])).append((end, units, cost))
