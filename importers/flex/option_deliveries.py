"""Which underlying trade an assigned or exercised option delivered, written into the ledger both ways.

IBKR books an assignment as two rows of one day: the option closing at price 0 and the underlying trade at the
strike (a short XYZ 50 P assigned: `BUY 1 XYZ 50 P @ 0` and `BUY 100 XYZ @ 50`). Nothing in the rows names the
other, so the pair is found here: the delivery is the same account's BookTrade (or OptionEAE Buy/Sell) on the
same day in the option's underlying (`underlyingConid`, else `underlyingSymbol` or the OCC root; an option on a
future without either delivers the day's only future delivery), on the side the option implies (put assigned or
call exercised: a buy; call assigned or put exercised: a sale) and, when several are candidates, of quantity
contracts × multiplier.

Both get the link `^eae-<acct>-<option conid>-<yyyymmdd>`; the option gets `delivery_flex_id`, the delivery
`option_flex_id` (docs/ledger-format.md, "Options"). A delivery of another size than contracts × multiplier
(1 contract delivering 150 shares after a 3-for-2 split) marks the option an adjusted contract and records its
`deliverable_units` (150) on the commodity.
"""

from __future__ import annotations

from decimal import Decimal

from .instruments import OPTION_CATEGORIES
from .names import parse_occ
from .trades import TradeRow

DELIVERING = ("assignment", "exercise")
#: notes codes that name a delivering event when no OptionEAE row does
_CODES = (("A", "assignment"), ("Ex", "exercise"))


def event_of(row: TradeRow) -> str | None:
    """The row's option event: set by an OptionEAE row, else read from its notes (A, Ex)."""
    if row.event:
        return row.event
    codes = [code.strip() for code in (row.record.text("notes") or "").split(";")]
    return next((name for code, name in _CODES if code in codes), None)


def link_deliveries(ctx, rows: list[TradeRow], instruments=None) -> None:
    """Pair every assigned/exercised option of `rows` (one statement) with the trade it delivered (see module)."""
    claimed: set[int] = set()
    for option in rows:
        if (option.record.text("assetCategory") or "") not in OPTION_CATEGORIES or event_of(option) not in DELIVERING:
            continue
        deliveries = _deliveries(option, rows, claimed)
        if not deliveries:
            continue
        claimed.update(id(row) for row in deliveries)
        day = option.when.date()
        link = f"eae-{ctx.account_id}-{option.record.text('conid') or 'x'}-{day:%Y%m%d}"
        for row in [option, *deliveries]:
            row.links = frozenset(row.links | {link})
        option.extra_meta["delivery_flex_id"] = " ".join(row.flex_id for row in deliveries)
        for row in deliveries:
            row.event = row.event or event_of(row) or event_of(option)  # an OptionEAE `Sell` names no event
            before = row.extra_meta.get("option_flex_id")
            row.extra_meta["option_flex_id"] = f"{before} {option.flex_id}" if before else option.flex_id
        if instruments is not None:
            _note_deliverable(option, deliveries, instruments)


def _deliveries(option: TradeRow, rows: list[TradeRow], claimed: set[int]) -> list[TradeRow]:
    record = option.record
    occ = parse_occ(record.text("symbol"))
    conid = record.text("underlyingConid")
    symbol = record.text("underlyingSymbol") or (occ.root if occ else None)
    day = option.when.date()
    same_day = [row for row in rows if row is not option and id(row) not in claimed and row.when.date() == day
                and row.record.text("transactionType") in ("BookTrade", None)
                and (row.record.text("assetCategory") or "") not in OPTION_CATEGORIES]
    if conid:
        found = [row for row in same_day if row.record.text("conid") == conid]
    elif symbol and any(row.record.text("symbol") == symbol for row in same_day):
        found = [row for row in same_day if row.record.text("symbol") == symbol]
    elif record.text("assetCategory") in ("FOP", "FSFOP"):
        futures = [row for row in same_day if row.record.text("assetCategory") == "FUT"]
        found = futures if len(futures) == 1 else []
    else:
        found = []
    side = _delivery_side(option)
    if side is not None:
        found = [row for row in found if (row.record.decimal("quantity") or 0) * side > 0]
    expected = abs(record.decimal("quantity") or 0) * (record.decimal("multiplier") or Decimal(1))
    exact = [row for row in found if abs(row.record.decimal("quantity") or 0) == expected]
    return exact[:1] if exact else found


def _delivery_side(option: TradeRow) -> int | None:
    """+1 when the option delivers a buy, -1 a sale: short put assigned (close +1, P) buys; short call assigned
    (close +1, C) sells; long call exercised (close -1, C) buys; long put exercised (close -1, P) sells."""
    record = option.record
    right = record.text("putCall") or record.text("subCategory")
    if right not in ("P", "C"):
        occ = parse_occ(record.text("symbol"))
        right = occ.right if occ else None
    quantity = record.decimal("quantity") or 0
    if right is None or not quantity:
        return None
    return (1 if quantity > 0 else -1) * (1 if right == "P" else -1)


def _note_deliverable(option: TradeRow, deliveries: list[TradeRow], instruments) -> None:
    """An option that delivered other than contracts × multiplier units is an adjusted contract: 1 contract,
    multiplier 100, delivering 150 shares -> deliverable_units 150."""
    contracts = abs(option.record.decimal("quantity") or 0)
    delivered = sum((abs(row.record.decimal("quantity") or 0) for row in deliveries), Decimal(0))
    inst = instruments.get(option.record)
    if not contracts or inst is None:
        return
    per_contract = delivered / contracts
    if per_contract != inst.multiplier:
        inst.deliverable_units = per_contract
