"""IBKR's premium folding (DESIGN §8) as a view over the book: which events carry which option premium.

The ledger books an assigned or exercised option's premium on the option (it realizes its premium at the close)
and the delivered stock at the cash paid. IBKR instead moves the premium into the stock: the option realizes 0,
and the stock's cost (a delivery that opens) or proceeds (a delivery that closes) carry it. This module works out
those moves, as `Fold`s on copies of the events; the lot engine applies them (lots.apply). Nothing in the
book changes, so every view over the same book stays available.

DESIGN §8's example: sell 1 XYZ 50 P @ 2.00 (commission 1.05): the put's lot has basis -198.95. Assigned: the put
closes at 0 and gets Fold(+198.95) (its realized: 0 - 198.95 - (-198.95) = 0); the stock bought 100 @ 50 gets
Fold(-198.95) on its new lot: 5,000 - 198.95 = 4,801.05. Sold 100 @ 52 (commission 1): 5,199 - 4,801.05 = 397.95.
Separate: put 198.95 + stock 199.00 = 397.95, the same total.

The pair comes from the ledger (docs/ledger-format.md, "Options"): the delivery's `option_flex_id`, else the
shared `^eae-…` link. In `ibkr` mode, a delivery whose option is not in the ledger (the statement starts after
the put was sold, kmi) takes IBKR's folded cost from the CLOSED_LOT rows that later close its lot
(`ibkr_lot_cost`): 1686 for 100 assigned @ 17 is a fold of 1686 - 1700 = -14. The economic view leaves those
alone: the option's premium is not in the ledger, so folding it would change the total.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from . import lots as lots_mod
from .book import ZERO, Book, Event, Instrument

@dataclass(frozen=True)
class Fold:
    """An option premium IBKR folds into another event (DESIGN §8), as one view applies it.

    `amount` is in the event's currency: on a closing event it comes off the proceeds, on an opening event it
    goes onto the new lot's basis. The option's close gets minus its closed basis (short put, basis -198.95:
    +198.95, so it realizes 0); the delivered stock gets the basis (-198.95: 5,000 -> 4,801.05).
    """

    amount: Decimal
    base_amount: Decimal | None  # in base currency at the option's opening rates; None: at the event's rate
    flex_id: str  # the other side: the option close (on a delivery) or the delivery (on the option close)
    flex_src: str
    description: str


DELIVERING = frozenset({"assignment", "exercise"})
OPTION_CATEGORIES = frozenset({"OPT", "FOP", "FSOPT", "FSFOP", "IOPT", "WAR"})


def is_option(inst: Instrument) -> bool:
    return str(inst.meta.get("asset_category") or "") in OPTION_CATEGORIES


def folded_events(book: Book, inst: Instrument, method: str, from_lot_rows: bool) -> list[Event]:
    """`inst`'s events with the premiums this view folds (cached on the book per view and instrument: the
    reconcile plugin, pnl_meta and a report on one load get the same list, so carry.run can reuse its lots)."""
    key = (method, from_lot_rows)
    view = (inst.account, inst.conid, method, from_lot_rows)
    if view in book.views:
        return book.views[view]
    cache = book.folds
    if key not in cache:
        cache[key] = _all_folds(book, method, from_lot_rows)
    folds = cache[key]
    if not any(id(event) in folds for event in inst.events):
        events = inst.events
    else:
        events = [replace(event, folded=tuple(folds[id(event)])) if id(event) in folds else event
                  for event in inst.events]
    book.views[view] = events
    return events


def _all_folds(book: Book, method: str, from_lot_rows: bool) -> dict[int, list[Fold]]:
    """id(event) -> the Folds it carries in this view, over every instrument of the book."""
    by_flex_id: dict[tuple[str, str], list[Event]] = defaultdict(list)
    by_link: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for inst in book.instruments.values():
        for event in inst.events:
            if event.kind in DELIVERING and event.legs:
                by_flex_id[(event.account, event.flex_id)].append(event)
                for link in event.links:
                    if link.startswith("eae-"):
                        by_link[(event.account, link)].append(event)
    folds: dict[int, list[Fold]] = defaultdict(list)
    paired: set[int] = set()
    for inst in book.instruments.values():
        if not is_option(inst) or not any(e.kind in DELIVERING for e in inst.events):
            continue
        run = lots_mod.run(inst.events, method)
        for closing in run.closings:
            option = closing.event
            if option.kind not in DELIVERING:
                continue
            deliveries = _deliveries(option, by_flex_id, by_link)
            if deliveries:
                _fold(option, closing, deliveries, folds)
                paired.update(id(d) for d in deliveries)
    if from_lot_rows:
        for inst in book.instruments.values():
            if not is_option(inst):
                _fold_from_lot_rows(inst, paired, folds)
    return folds


def _deliveries(option: Event, by_flex_id, by_link) -> list[Event]:
    """The underlying events the option delivered: its `delivery_flex_id`, else its `^eae-` link's other events."""
    named = str(option.meta.get("delivery_flex_id") or "").split()
    found = [e for flex_id in named for e in by_flex_id.get((option.account, flex_id), []) if e.conid != option.conid]
    if found:
        return found
    return [e for link in option.links if link.startswith("eae-")
            for e in by_link.get((option.account, link), []) if e.conid != option.conid]


def _fold(option: Event, closing: lots_mod.Closing, deliveries: list[Event], folds) -> None:
    """Move the option's closed basis into its deliveries (shared by delivered units when there are several)."""
    basis = closing.basis
    base_basis = sum((lot.base_basis for lot in closing.closed), ZERO)
    if not basis:
        return
    total_units = sum((abs(d.quantity) for d in deliveries), ZERO)
    names = ", ".join(f"{d.symbol} {d.flex_id}" for d in deliveries)
    folds[id(option)].append(Fold(-basis, -base_basis, deliveries[0].flex_id, deliveries[0].flex_src,
                                  f"premium {-basis} of {option.symbol} folded into {names} (IBKR)"))
    for delivery in deliveries:
        share = abs(delivery.quantity) / total_units if total_units else Decimal(1) / len(deliveries)
        folds[id(delivery)].append(Fold(basis * share, base_basis * share, option.flex_id, option.flex_src,
                                        f"premium {-basis * share} of {option.symbol} {option.flex_id} folded "
                                        f"in by IBKR"))


def _fold_from_lot_rows(inst: Instrument, paired: set[int], folds) -> None:
    """Deliveries whose option is not in the ledger: the fold IBKR's later CLOSED_LOT rows show for their lot.

    kmi: assigned 100 @ 16.50 (lot 1650), closed by a Lot row of cost 1625.054283: per unit 16.25054283 - 16.5 =
    -0.24945717, so the delivery carries a fold of -24.945717 on its 100 units.
    """
    by_label: dict[str, list] = defaultdict(list)
    for event in inst.events:
        for leg in event.legs:
            if not leg.opening and leg.label and leg.ibkr_cost is not None and leg.units:
                by_label[leg.label].append((event, leg))
    if not by_label:
        return
    for delivery in inst.events:
        if delivery.kind not in DELIVERING or id(delivery) in paired or id(delivery) in folds:
            continue
        opened = [leg for leg in delivery.legs if leg.opening and leg.label in by_label]
        for leg in opened:
            closer, closing_leg = by_label[leg.label][0]
            per_unit = abs(closing_leg.ibkr_cost / closing_leg.units) - abs(closing_leg.cost or ZERO)
            amount = per_unit * leg.units
            if amount:
                folds[id(delivery)].append(Fold(amount, None, closer.flex_id, closer.flex_src,
                                                f"premium {-amount} folded in by IBKR, from its closed-lot row "
                                                f"(the option is not in the ledger)"))
