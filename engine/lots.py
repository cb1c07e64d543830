"""The lot engine: which lots a closing trade closes, and what it realizes (our own code; Beancount 3 cannot
book average cost).

A method is a picker (which open lots a closing quantity comes from) plus whether openings pool into one lot:
`ibkr` closes the lots the ledger's postings name (IBKR's own choice, FIFO or LIFO/specific lots), `fifo` the
oldest, `lifo` the newest, `average` pools every opening into one lot. Another method is one entry in METHODS.

Worked example (DESIGN §4): lots 10 @ 100.10 (basis 1001) and 10 @ 120.10 (basis 1201); SELL 15 @ 130, comm 1.5
(net cash 1948.50). fifo closes 10 + 5: basis 1001 + 600.50 = 1601.50, realized 347.00. average pools 20 with
basis 2202, closes 15/20 of it: 1651.50, realized 297.00.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from .book import ZERO, Event

ONE = Decimal(1)
#: Events that move lots in or out at their cost (docs/ledger-format.md, "Transfers"): the lots they close leave
#: the book without proceeds, so they realize nothing (a transfer out is not a sale).
AT_COST = frozenset({"transfer", "option_adjustment"})  # the second: lots carried to an adjusted option contract


@dataclass(frozen=True)
class Lot:
    """An open lot (or the part of one a trade closed): units signed (short < 0), basis = money paid incl. the
    opening commission (short: negative, the net proceeds received), base_basis at the opening rate."""

    open_date: datetime.date
    units: Decimal
    basis: Decimal
    base_basis: Decimal
    label: str | None
    ids: tuple[str, ...]  # flex_ids of the rows behind the lot (the opening trade, splits, a pooled history)
    premium: Decimal = ZERO  # the part of basis that is a folded option premium (DESIGN §8), e.g. -198.95
    folds: tuple = ()  # the premium.Folds behind `premium`, for explain

    @property
    def cost(self) -> Decimal:
        """Cost per unit (incl. the multiplier): 1001 / 10 = 100.1."""
        return self.basis / self.units if self.units else ZERO

    def part(self, units: Decimal) -> tuple[Lot, Lot]:
        """(the part of `units`, the rest); the rest keeps basis - part so the totals stay exact."""
        if units == self.units:
            return self, self.with_amounts(ZERO, ZERO, ZERO)
        basis = self.basis * units / self.units
        base_basis = self.base_basis * units / self.units
        premium = self.premium * units / self.units if self.premium else ZERO
        taken = self.with_amounts(units, basis, base_basis, premium)
        rest = self.with_amounts(self.units - units, self.basis - basis, self.base_basis - base_basis,
                                 self.premium - premium)
        return taken, rest

    def with_amounts(self, units: Decimal, basis: Decimal, base_basis: Decimal, premium: Decimal | None = None) -> Lot:
        """This lot with other amounts (what dataclasses.replace does, without its per-call field lookup: the
        lot engine makes tens of thousands of these on a large ledger)."""
        if premium is None and not self.premium:
            return Lot(self.open_date, units, basis, base_basis, self.label, self.ids)
        return Lot(self.open_date, units, basis, base_basis, self.label, self.ids,
                   self.premium if premium is None else premium, self.folds)


@dataclass(frozen=True)
class Closing:
    """What one event realized: the lot parts it closed, the net cash they brought, and the P&L.

    realized = proceeds - sum(closed basis); long: 1948.50 - 1601.50 = 347.00; short covered: buy 5 @ 140,
    comm 1, against a -5 lot of basis -650: -701 - (-650) = -51.

    The figures below are worked out once per closing (cached: the fields are frozen), not per read: a report
    or pnl_meta reads each several times (base_realized reads basis and base_ratio, base_fx reads both again).
    """

    event: Event
    closed: tuple[Lot, ...]
    proceeds: Decimal  # the event's net cash minus what its opening part cost, trade currency
    close_rate: Decimal  # base per trade currency on the closing date
    unmatched: Decimal = ZERO  # closing units no open lot could cover (missing history)
    lots_before: int = 0  # open lots just before: 1 (or all closed) means the lot choice did not matter
    remaining: Decimal = ZERO  # units still open after the closing part
    folded: Decimal = ZERO  # option premium folded off the proceeds by this view (premium.Fold), trade currency
    base_folded: Decimal = ZERO  # the same in base currency
    carried: Decimal = ZERO  # part of proceeds that is basis carried into new lots (a split, a merger's shares)

    @functools.cached_property
    def basis(self) -> Decimal:
        return sum((lot.basis for lot in self.closed), ZERO)

    @functools.cached_property
    def realized(self) -> Decimal:
        """Proceeds minus basis: 5,200 - 1 - 4,801.05 = 397.95 (DESIGN §8, a premium folded into the lot); a
        folded premium on the closing event comes off the proceeds (option closed at 0, basis -198.95: 0 -
        (-198.95) - (-198.95) = 0)."""
        return self.proceeds - self.folded - self.basis

    @functools.cached_property
    def premium(self) -> Decimal:
        """The folded premiums inside this realized figure: off the proceeds, and inside the closed lots' basis."""
        return -self.folded - sum((lot.premium for lot in self.closed), ZERO)

    @functools.cached_property
    def base_ratio(self) -> Decimal:
        """Base per trade currency of the closed basis (the opening rates): 501 at 1.20 -> 1.20."""
        basis = self.basis
        base = sum((lot.base_basis for lot in self.closed), ZERO)
        return base / basis if basis else self.close_rate

    @functools.cached_property
    def base_realized(self) -> Decimal:
        """Proceeds at the closing rate minus cost at the opening rates: 599 x 1.10 - 501 x 1.20 = 57.70. Basis
        carried into new lots keeps its opening rates, so a split realizes 0 in base as well as in its currency."""
        base_basis = sum((lot.base_basis for lot in self.closed), ZERO)
        return ((self.proceeds - self.carried) * self.close_rate + self.carried * self.base_ratio - self.base_folded
                - base_basis)

    @functools.cached_property
    def base_fx(self) -> Decimal:
        """The part of base realized that comes from rate changes: 57.70 - 98 x 1.10 = -50.10."""
        return self.base_realized - self.realized * self.close_rate


Picker = Callable[[list[Lot], Event, Decimal], list[tuple[int, Decimal]]]


def _in_order(order: Iterable[int], lots: list[Lot], units: Decimal) -> list[tuple[int, Decimal]]:
    """Take `units` (signed like the lots) from lots in the given index order: [(index, units taken)]."""
    picks, left = [], units
    for i in order:
        if not left:
            break
        lot = lots[i]
        if lot.units * left <= 0:
            continue
        take = left if abs(left) <= abs(lot.units) else lot.units
        picks.append((i, take))
        left -= take
    return picks


def pick_fifo(lots: list[Lot], event: Event, units: Decimal) -> list[tuple[int, Decimal]]:
    return _in_order(range(len(lots)), lots, units)


def pick_lifo(lots: list[Lot], event: Event, units: Decimal) -> list[tuple[int, Decimal]]:
    return _in_order(reversed(range(len(lots))), lots, units)


def pick_ibkr(lots: list[Lot], event: Event, units: Decimal) -> list[tuple[int, Decimal]]:
    """The lots the ledger's closing postings name by label (IBKR's CLOSED_LOT rows); FIFO for the rest."""
    picks, left = [], units
    taken: dict[int, Decimal] = {}
    for leg in event.legs:
        if leg.opening or leg.label is None:
            continue
        for i, lot in enumerate(lots):
            room = lot.units - taken.get(i, ZERO)
            if lot.label == leg.label and room * leg.units < 0:
                take = -leg.units if abs(leg.units) <= abs(room) else room
                taken[i] = taken.get(i, ZERO) + take
                picks.append((i, take))
                left -= take
                break
    if not left:
        return picks
    rest = [lot.with_amounts(lot.units - taken[i], lot.basis, lot.base_basis) if i in taken else lot
            for i, lot in enumerate(lots)]
    return picks + _in_order(range(len(rest)), rest, left)


#: method -> (picker, pool openings into one average-cost lot)
METHODS: dict[str, tuple[Picker, bool]] = {
    "ibkr": (pick_ibkr, False),
    "fifo": (pick_fifo, False),
    "lifo": (pick_lifo, False),
    "average": (pick_fifo, True),
}


@dataclass
class LotRun:
    """The result of running one instrument's events through one method."""

    lots: list[Lot]
    closings: list[Closing]
    snapshots: dict[datetime.date, list[Lot]]  # open lots at the end of each checkpoint date
    moves: list[Closing] = field(default_factory=list)  # carry events without cash: lots moved, nothing realized

    @property
    def quantity(self) -> Decimal:
        return sum((lot.units for lot in self.lots), ZERO)


@dataclass(frozen=True)
class Carried:
    """What a carry event brings from another instrument: the base rate of the basis moved (its opening rates)
    and, per lot label, the ids of the rows behind the lot (so a lot keeps its history across conids)."""

    base_ratio: Decimal | None
    ids_by_label: dict


CarryIn = Callable[[Event], "Carried | None"]


def run(events: Iterable[Event], method: str, end: datetime.date | None = None,
        checkpoints: Iterable[datetime.date] = (), carry_in: CarryIn | None = None) -> LotRun:
    """Apply the trade-like events (up to `end`, inclusive) of one instrument in ledger order. `carry_in(event)`
    gives the base-per-currency ratio of lots a corporate action brings from another instrument (their opening
    rates; carry.py finds it), else they take the event's rate."""
    picker, pool = METHODS[method]
    lots: list[Lot] = []
    closings: list[Closing] = []
    moves: list[Closing] = []
    snapshots: dict[datetime.date, list[Lot]] = {}
    pending = sorted(set(checkpoints))
    for event in events:
        while pending and pending[0] < event.date:
            snapshots[pending.pop(0)] = list(lots)
        if end is not None and event.date > end:
            break
        if not event.legs:
            continue
        carried = carry_in(event) if carry_in is not None and event.carry else None
        lots, closing = apply(lots, event, picker, pool, carried)
        if (closing is not None and event.carry and not closing.realized and closing.proceeds == closing.carried
                and not closing.unmatched):
            moves.append(closing)  # a split or a move to another conid: no sale, so no realized row
        elif closing is not None:
            closings.append(closing)
    for date in pending:
        if end is None or date <= end:
            snapshots[date] = list(lots)
    return LotRun(lots, closings, snapshots, moves)


def apply(lots: list[Lot], event: Event, picker: Picker, pool: bool,
          carried_in: Carried | None = None) -> tuple[list[Lot], Closing | None]:
    """One event on the open lots: close, then open.

    A transfer (AT_COST) closes lots without a Closing: transferring out 4 of 10 @ 100.10 leaves 6 (basis 600.60)
    and realizes 0, where a sale with no cash would realize -400.40.
    A carry event (a split, a corporate action: book.py) closes the lots its postings remove and opens the ones it
    adds, judged by sign against the position; the basis carried into new lots is proceeds, so a 2-for-1 split of
    10 @ 100.10 (-10, +20 @ 50.05) realizes 1001 - 1001 = 0, and the new lots keep the old lots' base rates.
    """
    rate = event.fx_rate if event.fx_rate is not None else ONE
    position = sum((lot.units for lot in lots), ZERO)
    closing_units, opening_legs = ZERO, []
    for leg in event.legs:
        opens = leg.opening if leg.opening is not None else (position + closing_units) * leg.units >= 0
        if opens:
            opening_legs.append(leg)
        else:
            closing_units += leg.units
    opened_cost = sum((leg.units * (leg.cost or ZERO) for leg in opening_legs), ZERO)
    closing = None
    folded, base_folded = _folded(event, rate)
    carry_ratio = carried_in.base_ratio if carried_in is not None else None
    ids_by_label = dict(carried_in.ids_by_label) if carried_in is not None else {}
    if closing_units:
        picks = picker(lots, event, -closing_units)
        before = len(lots)
        closed, lots = _take(lots, picks)
        if event.kind not in AT_COST:
            unmatched = -closing_units - sum((lot.units for lot in closed), ZERO)
            proceeds = (event.net_cash if event.net_cash is not None else ZERO) + opened_cost
            carried = event.carried + opened_cost if event.carry else ZERO
            closing = Closing(event, tuple(closed), proceeds, rate, unmatched, before,
                              sum((lot.units for lot in lots), ZERO), folded, base_folded, carried)
            if event.carry and closing.basis:
                carry_ratio = closing.base_ratio
        if event.carry:
            ids_by_label.update({lot.label: lot.ids for lot in closed if lot.label is not None})
    if closing is None and _reopens(event, opened_cost):
        # a cancel re-opening the lot an earlier sale closed: its cash (-70) is not the lot's basis (75.05); the
        # difference is the earlier sale's P&L reversed (+5.05), realized here as IBKR reports it
        closing = Closing(event, (), event.net_cash + opened_cost, rate)
    opened_units = sum((leg.units for leg in opening_legs), ZERO)
    for leg in opening_legs:
        basis = leg.units * (leg.cost or ZERO)
        base = basis * (carry_ratio if carry_ratio is not None else rate)
        ids = ids_by_label.get(leg.label, ()) + (event.flex_id,) if event.carry else (event.flex_id,)
        lot = Lot(leg.lot_date or event.date, leg.units, basis, base, leg.label, ids)
        if folded and not closing_units and opened_units:  # a delivery that opens: the premium is in its cost
            share = leg.units / opened_units
            lot = Lot(lot.open_date, lot.units, basis + folded * share, lot.base_basis + base_folded * share,
                      lot.label, lot.ids, folded * share, event.folded)
        lots.append(lot)
    if pool and len(lots) > 1:
        lots = [_pooled(lots)]
    return lots, closing


def _folded(event: Event, rate: Decimal) -> tuple[Decimal, Decimal]:
    """The premium this view folds into the event (book.Fold amounts), in its currency and in base."""
    if not event.folded:
        return ZERO, ZERO
    amount = sum((f.amount for f in event.folded), ZERO)
    base = sum((f.base_amount if f.base_amount is not None else f.amount * rate for f in event.folded), ZERO)
    return amount, base


#: transactionType of a row that cancels an earlier one (importers/flex/trades.py CANCEL_TYPES)
CANCELS = frozenset({"TradeCancel", "FracShareCancel"})


def _reopens(event: Event, opened_cost: Decimal) -> bool:
    """A cancel row that only opens lots, at a basis other than its cash (the ledger's cancel of a sale whose
    original is in an earlier statement)."""
    if event.kind != "trade" or event.net_cash is None or not opened_cost or event.net_cash + opened_cost == 0:
        return False
    meta = event.meta or {}
    return meta.get("transaction_type") in CANCELS or "Ca" in str(meta.get("notes") or "").split(";")


def _take(lots: list[Lot], picks: list[tuple[int, Decimal]]) -> tuple[list[Lot], list[Lot]]:
    """Remove the picked units: (closed parts in pick order, remaining open lots in their order)."""
    remaining = list(lots)
    closed = []
    for i, units in picks:
        taken, rest = remaining[i].part(units)
        closed.append(taken)
        remaining[i] = rest
    return closed, [lot for lot in remaining if lot.units]


def _pooled(lots: list[Lot]) -> Lot:
    """All lots as one average-cost lot: 10 @ 100.10 + 10 @ 120.10 -> 20 with basis 2202 (110.10 each)."""
    ids = tuple(dict.fromkeys(i for lot in lots for i in lot.ids))
    folds = tuple(dict.fromkeys(f for lot in lots for f in lot.folds))
    return Lot(min(lot.open_date for lot in lots), sum((lot.units for lot in lots), ZERO),
               sum((lot.basis for lot in lots), ZERO), sum((lot.base_basis for lot in lots), ZERO), None, ids,
               sum((lot.premium for lot in lots), ZERO), folds)
