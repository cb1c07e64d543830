"""Corporate actions: splits applied automatically, what IBKR's rows settle booked by ca_settle.py, the rest
written flagged `!` and balanced.

A split keeps each lot's open date, label and total cost; only units and cost per unit change. The ratio comes
from the description ("SPLIT 4 FOR 1" -> 4, "SPLIT 1 FOR 25" -> 1/25), else from the row quantities: holding
1.038 AAPL, IBKR adds 3.114 (uabean), so the ratio is (1.038 + 3.114) / 1.038 = 4. A lot of 1.038 AAPL at
{500 USD} becomes 4.152 AAPL at {125 USD}: 519 USD before and after. When IBKR books the split as two conids
(`GCM.OLD` -12000 -> `GCM` +480, pp01) the lots move to the new commodity under their old labels.

Mergers, ISIN changes, tenders, spin-offs, rights and delistings are settled from IBKR's rows (ca_settle.py).
What the rows cannot settle (another type, shares held before the first statement without a cost basis, …) is
one flagged transaction per action (legs grouped by `actionID`), with meta `flag_reason` and `flag_detail`
saying why: removed shares close the ledger's lots (FIFO), added shares open a lot labelled
`<acct>/ca/<transactionID>` that carries the removed cost, cash goes to Cash, and
`Equity:IBKR:<acct>:CorporateActions` balances it. The ledger loads; a person fixes it by copying the entry
into manual.beancount with the same flex_id (DESIGN §2). Each such row is a "flagged_row" drift item.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from . import option_actions
from .adapter import FlexRecord
from .context import MapContext
from .lots import ZERO, Lot, per_unit, plain
from . import ca_settle
from .booker import Booker, move_lots
from .trades import posting

SECTION = "CorporateActions"
SPLIT_TYPES = frozenset({"FS", "RS"})
_SPLIT = re.compile(r"\bSPLIT\s+(?P<new>[\d.]+)\s+FOR\s+(?P<old>[\d.]+)", re.I)


@dataclass
class ActionItem:
    ctx: MapContext
    rows: list[FlexRecord]
    flex_id: str
    when: datetime.datetime

    @property
    def record(self) -> FlexRecord:
        return self.rows[0]


def collect(ctx: MapContext, seen_ids: set[str]) -> list[ActionItem]:
    """The statement's actions, legs grouped by actionID (else date + description), new ones only."""
    groups: dict[tuple, list[FlexRecord]] = {}
    for record in ctx.statement.rows(SECTION, "CorporateAction"):
        if (record.text("levelOfDetail") or "DETAIL").upper() != "DETAIL":
            continue
        key = record.text("actionID") or (record.text("dateTime"),
                                          (record.text("description") or "").rsplit(" (", 1)[0])
        groups.setdefault(key, []).append(record)
    items = []
    for rows in groups.values():
        flex_id = ctx.flex_id("ca", rows[0])
        if flex_id in seen_ids:
            continue
        seen_ids.add(flex_id)
        when = rows[0].datetime("dateTime") or rows[0].datetime("reportDate")
        if when is None:
            for record in rows:
                ctx.drift.add("unmapped_row", SECTION, record.tag, "corporate action without a date",
                              ctx.raw_path, record.line)
            continue
        items.append(ActionItem(ctx, rows, flex_id, when))
    return items


def split_ratio(rows: list[FlexRecord], held: Decimal) -> Decimal | None:
    """New units per old unit, from the description or else from the quantities (see the module docstring)."""
    match = _SPLIT.search(rows[0].text("description") or "")
    if match:
        return Decimal(match["new"]) / Decimal(match["old"])
    if len(rows) == 1 and held:
        added = rows[0].decimal("quantity") or ZERO
        return (held + added) / held
    return None


def is_split(rows: list[FlexRecord]) -> bool:
    kind = rows[0].text("type")
    return kind in SPLIT_TYPES or (kind is None and _SPLIT.search(rows[0].text("description") or "") is not None)


def book(item: ActionItem, instruments, booker: Booker) -> list:
    """An option contract the action adjusts (option_actions.py), a split the ledger can apply, else the action
    as IBKR's rows settle it (ca_settle.py), else flagged `!` with the reason the rows cannot settle it."""
    adjusted = option_actions.book(item, instruments, booker)  # an option contract adjusted by the action
    if adjusted is not None:
        return adjusted
    if is_split(item.rows):
        entry = _split(item, instruments, booker)
        if entry is not None:
            return [entry]
    settled = ca_settle.settle(item, instruments, booker)
    if isinstance(settled, ca_settle.Unsettled):
        return _flagged(item, instruments, booker, settled)
    return settled


def action_meta(item: ActionItem, event: str) -> dict:
    first = item.record
    return item.ctx.meta(event, item.flex_id, *item.rows, conid=first.text("conid"), ca_type=first.text("type"),
                         action_id=first.text("actionID"), description=first.text("description"),
                         legs=" ; ".join(_leg_text(r) for r in item.rows))


def _leg_text(record: FlexRecord) -> str:
    fields = ("symbol", "conid", "quantity", "proceeds", "value", "costBasis", "fifoPnlRealized", "currency")
    return " ".join(f"{name}={record.text(name)}" for name in fields if record.text(name) is not None)


def _split(item: ActionItem, instruments, booker: Booker) -> data.Transaction | None:
    """Re-add every open lot with units × ratio and the same total cost; None when it cannot be applied."""
    ctx = item.ctx
    tracker = booker.account_lots(ctx)
    removed = [r for r in item.rows if (r.decimal("quantity") or ZERO) < 0]
    added = [r for r in item.rows if (r.decimal("quantity") or ZERO) > 0]
    if len(item.rows) == 1:
        old_rec = new_rec = item.rows[0]
    elif len(removed) == 1 and len(added) == 1:
        old_rec, new_rec = removed[0], added[0]
    else:
        return None
    old_inst, new_inst = instruments.get(old_rec), instruments.get(new_rec)
    if old_inst is None or new_inst is None:
        return None
    held = tracker.held(old_inst.name)
    ratio = split_ratio(item.rows, held)
    if not held or ratio is None or ratio <= 0:
        return None
    postings = move_lots(ctx.accounts, tracker, old_inst.name, new_inst.name, ratio)
    meta = action_meta(item, "split")
    meta["ratio"] = plain(ratio)
    narration = f"Split {plain(ratio)} for 1: {old_inst.name}" + (f" -> {new_inst.name}" if new_inst is not old_inst
                                                                 else "")
    return data.Transaction(meta, item.when.date(), "*", None, narration, data.EMPTY_SET, data.EMPTY_SET, postings)


def _flagged(item: ActionItem, instruments, booker: Booker, why: ca_settle.Unsettled) -> list:
    """The action as IBKR wrote it, booked so the ledger stays valid, flagged for a person to check; meta
    `flag_reason` (a ca_settle.REASONS code) and `flag_detail` say why IBKR's rows cannot settle it."""
    ctx = item.ctx
    tracker = booker.account_lots(ctx)
    acc = ctx.accounts
    postings, opening_entries = [], []
    removed_cost: dict[str, Decimal] = {}
    new_legs = []
    for record in item.rows:
        ctx.drift.add("flagged_row", SECTION, record.tag,
                      f"corporate action type {record.text('type') or '(none)'} needs a check by hand: {why.text}",
                      ctx.raw_path, record.line)
        inst = instruments.get(record)
        quantity = record.decimal("quantity") or ZERO
        currency = record.text("currency") or "USD"
        cash = record.decimal("proceeds") or ZERO
        if cash:
            postings.append(posting(acc.cash, cash, currency))
        if inst is None or quantity == 0:
            continue
        held = tracker.held(inst.name)
        if quantity < 0 or held * quantity < 0:  # removes shares: close the ledger's lots, FIFO
            closed, left = tracker.close_in_order(inst.name, -quantity)
            if left:  # more than the ledger holds: a lot from before the first statement, at IBKR's basis
                basis = abs(record.decimal("costBasis") or ZERO) * (1 if left > 0 else -1)
                open_id = f"{ctx.account_id}/opening/{record.text('conid') or inst.name}/{item.flex_id.rsplit('/', 1)[-1]}"
                gap = Lot(open_id, booker.before_statement(ctx, item), left, basis, currency,
                          per_unit(basis, left))
                opening_entries.append(booker.opening(ctx, open_id, inst.name, gap, record))
                tracker.open(inst.name, gap)
                closed.append(tracker.take(inst.name, gap, left))
            for part in closed:
                postings.append(posting(acc.positions, -part.units, inst.name, part.lot.cost()))
                removed_cost[part.lot.currency] = removed_cost.get(part.lot.currency, ZERO) + part.cost_part
        else:
            new_legs.append((record, inst, quantity, currency))
    carried = dict(removed_cost)
    for record, inst, quantity, currency in new_legs:
        total = carried.pop(currency, ZERO) if quantity > 0 else ZERO
        label = f"{ctx.account_id}/ca/{record.text('transactionID') or item.flex_id.rsplit('/', 1)[-1]}"
        lot = Lot(label, item.when.date(), quantity, total, currency, per_unit(total, quantity))
        tracker.open(inst.name, lot)
        postings.append(posting(acc.positions, quantity, inst.name, lot.cost()))
    weights: dict[str, Decimal] = {}
    for entry in postings:
        currency = entry.cost.currency if entry.cost else entry.units.currency
        number = entry.units.number * entry.cost.number if entry.cost else entry.units.number
        weights[currency] = weights.get(currency, ZERO) + number
    for currency, weight in sorted(weights.items()):
        if weight:
            postings.append(posting(acc.corporate_actions, -weight, currency))
    narration = f"CHECK: {item.record.text('type') or 'corporate action'}: " \
                f"{(item.record.text('description') or '')[:120]}"
    meta = action_meta(item, "corporate_action")
    meta.update(flag_reason=why.code, flag_detail=why.text)
    return opening_entries + [data.Transaction(meta, item.when.date(), "!", None, narration, data.EMPTY_SET,
                                               data.EMPTY_SET, postings)]
