"""Corporate actions on options: a split or merger that adjusts option contracts carries their lots across.

After a split or merger OCC adjusts the listed options, and IBKR books it as CorporateAction rows on the option
conids: the old contract leaves, the adjusted one arrives (a 3-for-2 split: `XYZ 240315C00040000` -1,
`XYZ1 240315C00040000` +1, the new root delivering 150 shares; a 2-for-1 split: `… C00050000` -1,
`… C00025000` +2). The lots move like stock lots in a split: each keeps its label, open date and total cost,
its units scaled by new contracts per old contract (2: a lot of 1 contract at 300 becomes 2 at 150 each). A short
lot moves the same way (-1 -> -2). The transaction is event `option_adjustment`: it realizes nothing, and the
engine moves the lots at cost.

Recognised when every leg of the action is an option, exactly one leg is a contract the ledger holds and the
others are not; anything else stays with corporate_actions.py (flagged for a person to check).
"""

from __future__ import annotations

from beancount.core import data

from .instruments import OPTION_CATEGORIES
from .lots import ZERO, plain
from .booker import move_lots

EVENT = "option_adjustment"


def legs(item, instruments, tracker):
    """(old instrument, old quantity, [(new instrument, quantity)]) when the action adjusts one held option
    contract into others; None otherwise."""
    if len(item.rows) < 2 or any((r.text("assetCategory") or "") not in OPTION_CATEGORIES for r in item.rows):
        return None
    resolved = [(instruments.get(r), r.decimal("quantity") or ZERO) for r in item.rows]
    if any(inst is None or not quantity for inst, quantity in resolved):
        return None
    held = [(inst, quantity) for inst, quantity in resolved if tracker.held(inst.name)]
    if len(held) != 1 or held[0][0].name in {inst.name for inst, _ in resolved if inst is not held[0][0]}:
        return None
    old, old_quantity = held[0]
    return old, old_quantity, [(inst, quantity) for inst, quantity in resolved if inst is not old]


def book(item, instruments, booker) -> list | None:
    """The adjustment as one transaction moving the held lots to the new contract; None when not one."""
    ctx = item.ctx
    tracker = booker.account_lots(ctx)
    found = legs(item, instruments, tracker)
    if found is None:
        return None
    old, old_quantity, new_legs = found
    if len(new_legs) != 1:
        return None  # several new contracts per old one: no single place to carry a lot to
    new, new_quantity = new_legs[0]
    ratio = abs(new_quantity) / abs(old_quantity)
    postings = move_lots(ctx.accounts, tracker, old.name, new.name, ratio)
    first = item.record
    meta = ctx.meta(EVENT, item.flex_id, *item.rows, conid=first.text("conid"), ca_type=first.text("type"),
                    action_id=first.text("actionID"), description=first.text("description"))
    meta["ratio"] = plain(ratio)
    meta["adjusted_conid"] = new.attrs.get("conid") or new.key
    narration = f"Option contract adjusted: {old.name} -> {plain(ratio)} x {new.name}"
    return [data.Transaction(meta, item.when.date(), "*", None, narration, data.EMPTY_SET, data.EMPTY_SET,
                             postings)]

