"""Corporate actions that IBKR's own rows settle: mergers (TC), ISIN/symbol changes (IC), splits into another
conid, spin-offs (SO), rights (RI), tenders (TO) and delistings (DW), booked `*` from the rows alone.

The rows give everything: the shares each leg removes or adds, the cash (`proceeds`) and IBKR's realized P&L
(`fifoPnlRealized`). The removed legs close the ledger's lots FIFO at their basis B; the cash C is received; IBKR's
realized R fixes the basis the new shares carry, B + R - C, so the ledger's realized equals IBKR's:
- uabean LVGO -> TDOC (592 for 1000 and USD 4.24): B = 0.5052 x 50.3788 + 2 x 50.27400312 = 126.00, C = R =
  10.622048, so the 1.4831 TDOC carry 126.00 + 10.622048 - 10.622048 = 126.00 and 10.622048 is realized;
- a stock-only merger or an ISIN change (C = R = 0) carries B unchanged; a cash-only one (no new legs) realizes
  C - B; a delisting with no cash realizes -B.
With one new leg each old lot moves under its own label and date, units x new/old (the last lot takes the
rounding remainder, so the units add up to IBKR's exactly), basis x (B + R - C) / B. With several new legs, or
none removed (a spin-off, a rights issue), each new leg is one lot labelled `<acct>/ca/<transactionID>`: its
basis is the leg's share by IBKR's `value` of what the removed lots carry, or, for a spin-off, IBKR's own
`costBasis` allocation, which leaves the parent's lots (same labels and dates) with that much less basis.

What the rows cannot settle is returned as an `Unsettled` reason and booked flagged by corporate_actions.py: a
type not listed here, shares held before the first statement whose row gives no cost basis, several new legs
without values, a spin-off without IBKR's cost allocation, several currencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from .adapter import FlexRecord
from .lots import ZERO, Closed, Lot, per_unit, plain
from .booker import Booker
from .trades import posting

SETTLED_TYPES = frozenset({"TC", "IC", "SO", "RS", "FS", "DW", "RI", "TO"})
#: Rows without `type` (old exports, pp01) whose description names a kind this module settles.
_UNTYPED = re.compile(r"\b(MERGED|TENDERED|CUSIP/ISIN CHANGE|DELISTED|SPINOFF|SPIN-OFF|SPLIT)\b", re.I)
UNIT_PLACES = Decimal("1E-8")  # a carried lot's share of the new units; the last lot takes the remainder
_PARENT = re.compile(r"^\s*([^\s(]+)\((\w{12})\)")

REASONS = {
    "ca_type_unsupported": "a corporate action type beanflex does not book from IBKR's rows",
    "ca_basis_unknown": "shares held before the first imported statement, and IBKR's row gives no cost basis",
    "ca_allocation_unknown": "IBKR's rows do not say how the cost basis is shared between the new instruments",
    "ca_realized_unknown": "cash and shares were received, but the row gives no fifoPnlRealized to tell the "
                           "carried basis from the gain",
    "ca_unsupported_shape": "the action's legs (several currencies, a short position, a leg without an "
                            "instrument) are not a shape beanflex books from IBKR's rows",
}


@dataclass(frozen=True)
class Unsettled:
    """Why an action is booked flagged: a REASONS code and the specifics (`GCM: 480 shares …`)."""

    code: str
    detail: str

    @property
    def text(self) -> str:
        return f"{REASONS[self.code]}: {self.detail}" if self.detail else REASONS[self.code]


@dataclass
class _Leg:
    record: FlexRecord
    name: str
    quantity: Decimal

    @property
    def value(self) -> Decimal:
        return self.record.decimal("value") or ZERO


def settles(item) -> bool:
    kind = item.record.text("type")
    return kind in SETTLED_TYPES or (kind is None and _UNTYPED.search(item.record.text("description") or "")
                                     is not None)


def settle(item, instruments, booker: Booker) -> list | Unsettled:
    """The action's directives (`*`), or why IBKR's rows cannot settle it. Nothing is booked on Unsettled."""
    if not settles(item):
        return Unsettled("ca_type_unsupported", f"type {item.record.text('type') or '(none)'}")
    legs, problem = _legs(item, instruments)
    if problem is not None:
        return problem
    currency = item.record.text("currency") or "USD"
    tracker = booker.account_lots(item.ctx)
    removed = [leg for leg in legs if leg.quantity < 0]
    added = [leg for leg in legs if leg.quantity > 0]
    gaps = {}
    for leg in removed:
        held = tracker.held(leg.name)
        if held < 0:
            return Unsettled("ca_unsupported_shape", f"{leg.name} is held short")
        left = -leg.quantity - min(held, -leg.quantity)
        if left:
            basis = _gap_basis(leg, left, added, legs)
            if basis is None:
                return Unsettled("ca_basis_unknown", f"{leg.name}: {plain(left)} of {plain(-leg.quantity)} "
                                                     "shares not in the ledger")
            gaps[leg.name] = (left, basis)
    cash = sum((r.decimal("proceeds") or ZERO for r in item.rows), ZERO)
    realized_rows = [r.decimal("fifoPnlRealized") for r in item.rows if r.decimal("fifoPnlRealized") is not None]
    realized = sum(realized_rows, ZERO) if realized_rows else None
    if added and cash and realized is None:
        return Unsettled("ca_realized_unknown", "")
    if cash and not removed:
        return Unsettled("ca_unsupported_shape", f"{cash} {currency} paid for no shares removed")
    kind = item.record.text("type")
    if kind in ("RS", "FS") or (kind is None and "SPLIT" in (item.record.text("description") or "").upper()):
        if not removed:
            return Unsettled("ca_basis_unknown", f"a split of shares not in the ledger ({added[0].name})"
                             if added else "a split without shares")
    spin_off = not removed and (kind == "SO" or re.search(r"SPIN-?OFF", item.record.text("description") or "",
                                                          re.I) is not None)
    parent = None
    if spin_off:
        if len(added) != 1 or added[0].record.text("costBasis") is None:
            return Unsettled("ca_allocation_unknown", "spin-off without IBKR's costBasis on the new leg")
        if added[0].record.decimal("costBasis"):
            parent = _parent(item, instruments, tracker)
            if parent is None:
                return Unsettled("ca_allocation_unknown", "spin-off whose parent the ledger does not hold")
    if len(added) > 1 and removed and not all(leg.value > 0 for leg in added):
        return Unsettled("ca_allocation_unknown", f"{len(added)} new instruments without IBKR values")
    return _book(item, booker, removed, added, gaps, cash, realized, currency, parent)


def _legs(item, instruments) -> tuple[list[_Leg], Unsettled | None]:
    legs = []
    currencies = {r.text("currency") or "USD" for r in item.rows}
    if len(currencies) > 1:
        return [], Unsettled("ca_unsupported_shape", f"legs in {', '.join(sorted(currencies))}")
    for record in item.rows:
        quantity = record.decimal("quantity") or ZERO
        inst = instruments.get(record)
        if quantity and inst is None:
            return [], Unsettled("ca_unsupported_shape", f"a leg of {record.text('symbol')} without conid")
        if quantity:
            legs.append(_Leg(record, inst.name, quantity))
    return legs, None


def _gap_basis(leg: _Leg, left: Decimal, added: list, legs: list) -> Decimal | None:
    """IBKR's basis of removed shares the ledger does not hold: the row's `costBasis` (its share), else for a
    cash-only action its proceeds minus its realized (pp01 UUU.TEN2: 34320 - 2358 = 31962), else unknown."""
    basis = leg.record.decimal("costBasis")
    if basis:
        return abs(basis) * left / -leg.quantity
    proceeds, realized = leg.record.decimal("proceeds"), leg.record.decimal("fifoPnlRealized")
    if not added and len(legs) == 1 and proceeds and realized is not None:
        return (proceeds - realized) * left / -leg.quantity
    return None


def _parent(item, instruments, tracker) -> str | None:
    """The spin-off's parent commodity, by the ISIN that opens IBKR's description ("ABC(US0001) SPINOFF …")."""
    match = _PARENT.match(item.record.text("description") or "")
    if not match:
        return None
    for inst in instruments.by_key.values():
        if inst.attrs.get("isin") == match.group(2) and tracker.held(inst.name) > 0:
            return inst.name
    return None


def _book(item, booker: Booker, removed, added, gaps, cash, realized, currency, parent) -> list:
    ctx, tracker, acc = item.ctx, booker.account_lots(item.ctx), item.ctx.accounts
    entries, postings, closed = [], [], []
    for leg in removed:
        if leg.name in gaps:
            left, basis = gaps[leg.name]
            open_id = f"{ctx.account_id}/opening/{leg.record.text('conid') or leg.name}/" \
                      f"{item.flex_id.rsplit('/', 1)[-1]}"
            gap = Lot(open_id, booker.before_statement(ctx, item), left, basis, currency, per_unit(basis, left))
            entries.append(booker.opening(ctx, open_id, leg.name, gap, leg.record))
            tracker.open(leg.name, gap)
        parts, _ = tracker.close_in_order(leg.name, -leg.quantity)
        closed.extend(parts)
        postings.extend(posting(acc.positions, -p.units, leg.name, p.lot.cost()) for p in parts)
    basis = sum((p.cost_part for p in closed), ZERO)
    carried = basis + (realized if realized is not None else cash) - cash if added else ZERO
    if parent is not None:
        carried = abs(added[0].record.decimal("costBasis") or ZERO)
        postings.extend(_reduce_parent(tracker, parent, carried, acc))
    if len(added) == 1 and closed:
        postings.extend(_carry_lots(tracker, closed, added[0], carried, currency, acc))
    else:
        total_value = sum((leg.value for leg in added), ZERO)
        for leg in added:
            share = carried * leg.value / total_value if len(added) > 1 else carried
            label = f"{ctx.account_id}/ca/{leg.record.text('transactionID') or item.flex_id.rsplit('/', 1)[-1]}"
            lot = Lot(label, item.when.date(), leg.quantity, share, currency, per_unit(share, leg.quantity))
            tracker.open(leg.name, lot)
            postings.append(posting(acc.positions, leg.quantity, leg.name, lot.cost()))
    if cash:
        postings.append(posting(acc.cash, cash, currency))
    gain = cash + carried - basis if removed else ZERO
    if gain:
        postings.append(posting(acc.pnl, -gain, currency))
    residual = sum((p.units.number * p.cost.number if p.cost else p.units.number for p in postings), ZERO)
    if residual:  # per-unit costs that do not divide evenly: keep the transaction exactly balanced
        postings.append(posting(acc.corporate_actions, -residual, currency))
    return entries + [data.Transaction(_meta(item, removed, realized), item.when.date(), "*", None,
                                       _narration(item, removed, added), data.EMPTY_SET, data.EMPTY_SET, postings)]


def _carry_lots(tracker, closed: list[Closed], leg: _Leg, carried: Decimal, currency: str, acc) -> list:
    """Each closed lot re-opened on the new instrument under its own label and date, units and basis in
    proportion; the last lot takes the remainders so units and basis add up exactly."""
    postings = []
    units_total = sum((p.units for p in closed), ZERO)
    basis_total = sum((p.cost_part for p in closed), ZERO)
    units_left, basis_left = leg.quantity, carried
    for i, part in enumerate(closed):
        last = i == len(closed) - 1
        units = plain(units_left) if last else plain((leg.quantity * part.units / units_total).quantize(UNIT_PLACES))
        basis = basis_left if last else (carried * part.cost_part / basis_total if basis_total
                                         else carried * part.units / units_total)
        units_left -= units
        basis_left -= basis
        if not units:
            continue
        label = part.lot.label if tracker.find(leg.name, part.lot.label) is None else f"{part.lot.label}/ca"
        lot = Lot(label, part.lot.date, units, basis, currency, per_unit(basis, units))
        tracker.open(leg.name, lot)
        postings.append(posting(acc.positions, units, leg.name, lot.cost()))
    return postings


def _reduce_parent(tracker, parent: str, allocated: Decimal, acc) -> list:
    """A spin-off moves `allocated` of the parent's basis to the new shares: every parent lot is re-added with
    its basis x (B - allocated) / B, same units, date and label (parent 1000 basis, 150 allocated: 850 left)."""
    lots = list(tracker.lots(parent))
    total = sum((lot.total_cost for lot in lots), ZERO)
    postings = []
    for lot in lots:
        postings.append(posting(acc.positions, -lot.units, parent, lot.cost()))
        lot.total_cost = lot.total_cost * (total - allocated) / total if total else ZERO
        lot.cost_per_unit = per_unit(lot.total_cost, lot.units)
        postings.append(posting(acc.positions, lot.units, parent, lot.cost()))
    return postings


def _meta(item, removed, realized) -> dict:
    """The flagged entry's meta (corporate_actions._meta), naming the leg that removed shares (IBKR's realized is
    on it) and IBKR's realized for the action."""
    from .corporate_actions import action_meta

    meta = action_meta(item, "corporate_action")
    if removed:
        meta["conid"] = removed[0].record.text("conid")
    if realized is not None and removed:
        meta["fifo_pnl_realized"] = realized
    return meta


def _narration(item, removed, added) -> str:
    kind = item.record.text("type") or "corporate action"
    moves = ", ".join([f"{plain(leg.quantity)} {leg.name}" for leg in removed + added])
    return f"{kind}: {moves}"
