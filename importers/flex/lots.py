"""Importer-side open lots: which lots a closing posting must name, and opening entries for missing history.

This is not the P&L engine (that is `plugins/`'s job, on the loaded ledger). It only mirrors what Beancount's
STRICT booking will hold, so every closing posting we write names exactly one existing lot by its label:

- a lot is (label, open date, units, total cost, currency); label = the opening trade's `flex_id`;
- the cost per unit is total cost / units at full precision, e.g. 1001 USD / 10 = 100.1 USD (IBKR's `cost`
  already includes the opening commission and the multiplier);
- lots are closed by label (IBKR's CLOSED_LOT rows), else first-in-first-out, or last-in-first-out when the
  trade's notes carry `LI`.

Statements start in the middle of an account's life. When a sale closes more than the ledger holds, the missing
units get an `opening` entry against `Equity:IBKR:<acct>:Opening`, dated on the lot's open date (Lot
`openDateTime`) or the day before the statement starts, so the ledger loads without booking errors.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.position import Cost

ZERO = Decimal(0)


@dataclass
class Lot:
    label: str
    date: datetime.date
    units: Decimal  # negative for a short lot
    total_cost: Decimal  # signed like units: a short lot has negative cost
    currency: str
    cost_per_unit: Decimal  # fixed when the lot opens, so closing postings repeat it byte for byte

    def cost(self) -> Cost:
        return Cost(self.cost_per_unit, self.currency, self.date, self.label)


def per_unit(total: Decimal, units: Decimal) -> Decimal:
    """Cost per unit at full precision, written without an exponent: 1001 / 10 -> 100.1."""
    if units == 0:
        return ZERO
    value = total / units
    return plain(value)


def plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent notation (1.00E+3 -> 1000, 2.50 -> 2.5)."""
    value = value.normalize()
    if value == 0:
        return ZERO
    if value.as_tuple().exponent > 0:
        value = value.quantize(Decimal(1))
    return value


@dataclass
class Closed:
    """Units taken from one lot by one closing trade; `cost_part` is that share of the lot's total cost."""

    lot: Lot
    units: Decimal  # signed like the lot (positive when a long lot is sold)
    cost_part: Decimal
    ibkr_cost: Decimal | None = None  # IBKR's CLOSED_LOT cost for this part, when it differs from cost_part

    def note_ibkr_cost(self, cost: Decimal | None) -> None:
        """Keep IBKR's Lot-row cost when it is not the ledger's (kmi: 1686 against 1700), signed like the lot."""
        if cost is not None and abs(cost) != abs(self.cost_part):
            self.ibkr_cost = abs(cost) * (1 if self.units > 0 else -1)


class OpenLots:
    """The open lots of one IBKR account, per commodity, in opening order."""

    def __init__(self) -> None:
        self.by_commodity: dict[str, list[Lot]] = {}

    def lots(self, commodity: str) -> list[Lot]:
        return self.by_commodity.setdefault(commodity, [])

    def held(self, commodity: str) -> Decimal:
        return sum((lot.units for lot in self.lots(commodity)), ZERO)

    def open(self, commodity: str, lot: Lot) -> None:
        lots = self.lots(commodity)
        lots.append(lot)
        lots.sort(key=lambda item: item.date)  # stable: same-day lots keep their opening order

    def find(self, commodity: str, label: str) -> Lot | None:
        return next((lot for lot in self.lots(commodity) if lot.label == label), None)

    def take(self, commodity: str, lot: Lot, units: Decimal) -> Closed:
        """Take `units` (signed like the lot, |units| <= |lot.units|) out of `lot`."""
        if units == lot.units:
            part = lot.total_cost
            self.lots(commodity).remove(lot)
        else:
            part = units * lot.cost_per_unit
            lot.units -= units
            lot.total_cost -= part
        return Closed(Lot(lot.label, lot.date, units, part, lot.currency, lot.cost_per_unit), units, part)

    def close_in_order(self, commodity: str, units: Decimal, lifo: bool = False) -> tuple[list[Closed], Decimal]:
        """Close up to `units` (signed like the lots being closed) FIFO or LIFO; returns (closed, units left)."""
        closed: list[Closed] = []
        left = units
        while left != 0:
            candidates = [lot for lot in self.lots(commodity) if lot.units * left > 0]
            if not candidates:
                break
            lot = candidates[-1] if lifo else candidates[0]
            take = left if abs(left) <= abs(lot.units) else lot.units
            closed.append(self.take(commodity, lot, take))
            left -= take
        return closed, left

    def split(self, commodity: str, ratio: Decimal) -> list[tuple[Lot, Lot]]:
        """Multiply every open lot's units by `ratio`, keeping label, date and total cost; returns (old, new)."""
        pairs = []
        for index, lot in enumerate(self.lots(commodity)):
            old = Lot(lot.label, lot.date, lot.units, lot.total_cost, lot.currency, lot.cost_per_unit)
            lot.units = plain(lot.units * ratio)
            lot.cost_per_unit = per_unit(lot.total_cost, lot.units)
            pairs.append((old, Lot(lot.label, lot.date, lot.units, lot.total_cost, lot.currency,
                                   lot.cost_per_unit)))
        return pairs


def closes_history(open_close: str | None, record, pre_window: Decimal | None, remaining: Decimal) -> bool:
    """Does the unmatched rest of a trade row close a lot opened before the first statement?

    `C` says so. Old and trimmed exports have no indicator: then a realized P&L means a close, and so does a
    position held before the statement (its end position minus its trades) on the other side; without
    OpenPositions to tell, a sale of shares closes history (short stock is rarer than a partial history).
    """
    if open_close == "C":
        return True
    if open_close is not None:
        return False
    if record.decimal("fifoPnlRealized"):
        return True
    if pre_window is not None:
        return pre_window * remaining < 0
    return remaining < 0 and (record.text("assetCategory") or "STK") == "STK"


class History:
    """What a statement says was held before it began: OpenPositions at its end minus its own trades and transfers.

    Example: IBKR holds 10 MSTR at the end, the statement bought 5 and sold 8, so 13 were held before it. The
    first sales (IBKR's FIFO) close those 13 before any lot bought inside the statement, so the ledger opens them
    (`materialize`) when a sale first needs them, at the cost IBKR's `cost` implies.
    """

    def __init__(self) -> None:
        #: id() of each account's first statement: only there is "held before" history, not an earlier file's
        #: lots (overlapping later statements would otherwise open them twice).
        self.first_statements: set[int] | None = None
        self._pre: dict[tuple[int, str | None], Decimal | None] = {}
        self._used: dict[tuple[int, str | None], Decimal] = {}
        self._totals: dict[int, tuple[dict, dict]] = {}
        #: label -> (units, total cost) of lots opened before the archive (window_lots.full_quantities).
        self.full_lots: dict[str, tuple[Decimal, Decimal]] = {}

    def forget_statements(self, first_statements: set[int]) -> None:
        """Start over for new statements (map_resume.py): the answers kept per id() of an earlier statement would
        be wrong for a new object that gets the same id."""
        self.first_statements = first_statements
        self._pre, self._used, self._totals = {}, {}, {}

    def full_lot(self, label: str | None, units: Decimal, cost: Decimal) -> tuple[Decimal, Decimal]:
        """The whole pre-archive lot a first closing piece opens: (units, cost) at IBKR's full quantity.

        E.g. a piece of 40 (cost 400.20) of a lot IBKR shows as 40 + 60 sold + 25 still open -> (125, 1250.625).
        A lot unknown here, or one that would not cover the piece, opens as just the piece.
        """
        full = self.full_lots.get(label) if label else None
        if full is None or full[0] * units <= 0 or abs(full[0]) < abs(units):
            return units, cost
        return full

    def pre_window(self, ctx, record) -> Decimal | None:
        """Units held before the statement; None when the statement has no OpenPositions to tell."""
        from .instruments import instrument_key

        key = (id(ctx), instrument_key(record))
        if key not in self._pre:
            if "OpenPositions" not in ctx.statement.sections:
                self._pre[key] = None
            else:
                ends, traded = self._statement_totals(ctx)
                self._pre[key] = ends.get(key[1], ZERO) - traded.get(key[1], ZERO)
        return self._pre[key]

    def _statement_totals(self, ctx) -> tuple[dict, dict]:
        """Per instrument of one statement: the position IBKR reports at its end, and the units traded in it.

        Computed once per statement (one pass over its rows), not once per instrument: a 10k-trade statement
        has hundreds of instruments, and scanning every row for each of them dominated the import's time.
        """
        from .instruments import instrument_key

        cached = self._totals.get(id(ctx))
        if cached is not None:
            return cached
        summary: dict = {}
        lots: dict = {}
        for row in ctx.statement.rows("OpenPositions", "OpenPosition"):
            is_lot = (row.text("levelOfDetail") or "").upper() == "LOT"
            target = lots if is_lot else summary
            key = instrument_key(row)
            target[key] = target.get(key, ZERO) + (row.decimal("position") or ZERO)
        ends = {**lots, **summary}  # SUMMARY rows when there are any for the instrument, else its LOT rows
        traded: dict = {}
        for row in ctx.statement.rows("Trades", "Trade"):
            if (row.text("levelOfDetail") or "EXECUTION") == "EXECUTION":
                key = instrument_key(row)
                traded[key] = traded.get(key, ZERO) + (row.decimal("quantity") or ZERO)
        from .transfers import position_units  # shares transferred in/out were not held before the statement either
        for row in ctx.statement.rows("Transfers", "Transfer"):
            key = instrument_key(row)
            traded[key] = traded.get(key, ZERO) + position_units(row)
        for row in ctx.statement.rows("CorporateActions", "CorporateAction"):  # a split or merger moves shares too
            if (row.text("levelOfDetail") or "DETAIL").upper() == "DETAIL":
                key = instrument_key(row)
                traded[key] = traded.get(key, ZERO) + (row.decimal("quantity") or ZERO)
        self._totals[id(ctx)] = (ends, traded)
        return ends, traded

    def materialize(self, ctx, record, commodity: str, tracker: OpenLots, remaining: Decimal,
                    before: datetime.date, currency: str, row_id: str) -> Lot | None:
        """Open (cost to be set by the caller) the part of a FIFO sale that falls on pre-statement holdings."""
        from .instruments import instrument_key

        if self.first_statements is not None and id(ctx) not in self.first_statements:
            return None
        pre = self.pre_window(ctx, record)
        key = (id(ctx), instrument_key(record))
        left = (pre or ZERO) - self._used.get(key, ZERO)
        if not left or left * remaining >= 0:
            return None
        known = sum((lot.units for lot in tracker.lots(commodity) if lot.date <= before), ZERO)
        need = -remaining - known
        if need * left <= 0:
            return None
        units = need if abs(need) <= abs(left) else left
        label = f"{ctx.account_id}/opening/{record.text('conid') or commodity}/{row_id}"
        lot = Lot(label, before, units, ZERO, currency, ZERO)
        tracker.open(commodity, lot)
        self._used[key] = self._used.get(key, ZERO) + units
        return lot


def opening_entry(meta: dict, commodity: str, lot: Lot, accounts, narration: str,
                  flag: str = "*") -> data.Transaction:
    """An `opening` transaction for a lot bought before the first statement: lot vs Equity:…:Opening.

    The equity leg is minus IBKR's total cost (not units × cost per unit), so it stays a short, exact number.
    `flag` is `!` when that cost is not IBKR's own cost basis (see position_openings).
    """
    postings = [
        data.Posting(accounts.positions, Amount(lot.units, commodity), lot.cost(), None, None, None),
        data.Posting(accounts.opening, Amount(plain(-lot.total_cost), lot.currency), None, None, None, None),
    ]
    return data.Transaction(meta, lot.date, flag, None, narration, data.EMPTY_SET, data.EMPTY_SET, postings)


def position_openings(ctx, instruments, tracker: OpenLots) -> list[data.Transaction]:
    """Opening entries for positions IBKR holds at the end of a statement that the ledger does not hold.

    For each instrument in `OpenPositions`: LOT rows (when there are any) name their lots by
    `originatingTransactionID`; lots the ledger lacks are opened with IBKR's `costBasisMoney`, dated on the
    row's `openDateTime` (else the day before the statement). Without LOT rows the SUMMARY row's position minus
    what the ledger holds is opened with the matching share of `costBasisMoney`. Holding more than IBKR is
    not "fixed" here: the position balance assertion (checks.py) shows it.

    The cost is IBKR's, never guessed silently (DESIGN §4): without `costBasisMoney` it is position ×
    `costBasisPrice` × multiplier (still IBKR's basis). Without either, the number
    written (position × `markPrice`, else 0) is a placeholder, not a cost: the entry is flagged `!`, its
    `cost_source` says where the number came from, and the row goes into the drift report as `flagged_row`, so
    `beanflex check` lists it and the user fixes it in manual.beancount (same flex_id). A row without `currency`
    is flagged the same way (the ledger's USD is then an assumption).
    """
    groups: dict[str, list] = {}
    for record in ctx.statement.rows("OpenPositions", "OpenPosition"):
        inst = instruments.get(record)
        if inst is not None and record.decimal("position") is not None:
            groups.setdefault(inst.name, []).append(record)
    before = (ctx.statement.from_date or ctx.statement.to_date) - datetime.timedelta(days=1)
    entries = []
    for commodity, rows in groups.items():
        lot_rows = [r for r in rows if (r.text("levelOfDetail") or "").upper() == "LOT"]
        summary = [r for r in rows if (r.text("levelOfDetail") or "").upper() != "LOT"]
        target = sum((r.decimal("position") for r in (summary or lot_rows)), ZERO)
        missing = target - tracker.held(commodity)
        if missing == 0 or missing * target < 0:
            continue
        candidates = lot_rows or summary
        for record in candidates:
            if missing == 0:
                break
            position = record.decimal("position")
            label_id = record.text("originatingTransactionID")
            label = f"{ctx.account_id}/trade/{label_id}" if label_id and lot_rows else None
            if position == 0 or position * missing < 0 or (label and tracker.find(commodity, label)):
                continue
            units = missing if abs(missing) < abs(position) else position
            entries.append(_opening_of_row(ctx, commodity, record, units, tracker, before, label,
                                           from_lot_rows=bool(lot_rows)))
            missing -= units
    return entries


def _opening_of_row(ctx, commodity: str, record, units: Decimal, tracker: OpenLots, before: datetime.date,
                    label: str | None, from_lot_rows: bool) -> data.Transaction:
    """The opening entry of `units` of one OpenPositions row, at IBKR's basis for them (position_openings says
    which), its lot added to `tracker`; flagged `!` with `cost_source` when the number is not IBKR's cost."""
    position = record.decimal("position")
    basis, cost_source, guessed = _opening_basis(record, position)
    total = plain(basis * units / position)
    cost_per_unit = per_unit(total, units)
    rest = _rest_of_basis(tracker, commodity, basis, units, position) if not (from_lot_rows or guessed) else None
    if rest is not None:  # IBKR's basis for the position minus the lots the ledger holds: IBKR's own figure
        total, cost_per_unit = rest, per_unit(rest, units)
    elif units != position:  # a share of the row: units x IBKR's per-unit basis, so the entry balances
        cost_per_unit = per_unit(basis, position)  # to the last digit (2 x 247.94074…)
        total = plain(units * cost_per_unit)
    label_id = record.text("originatingTransactionID")
    open_id = f"{ctx.account_id}/opening/{record.text('conid') or commodity}/" \
              f"{label_id or ctx.statement.to_date.strftime('%Y%m%d')}"
    opened_on = record.date("openDateTime") or before
    currency = record.text("currency")
    if currency is None:
        currency, guessed = "USD", True
        cost_source = f"{cost_source or 'costBasisMoney'}; no currency on the row, USD assumed"
    lot = Lot(label or open_id, min(opened_on, before), units, total, currency, cost_per_unit)
    meta = ctx.meta("opening", open_id, record, conid=record.text("conid"), cost_source=cost_source)
    if guessed:
        ctx.drift.add("flagged_row", "OpenPositions", record.tag,
                      f"opening lot's cost is not IBKR's cost basis ({cost_source}); fix it in "
                      "manual.beancount (same flex_id)", ctx.raw_path, record.line)
    tracker.open(commodity, lot)
    return opening_entry(meta, commodity, lot, ctx.accounts,
                         f"Opening lot {units} {commodity} held before the first statement",
                         flag="!" if guessed else "*")


def _rest_of_basis(tracker: OpenLots, commodity: str, basis: Decimal, units: Decimal,
                   position: Decimal) -> Decimal | None:
    """The cost of the units held before the statement, when IBKR's SUMMARY row gives only the whole position's.

    E.g. IBKR holds 209 at costBasisMoney 51,819.615 and the ledger holds 207 bought in the statement at 51,323.73:
    the 2 held before cost 495.885 (IBKR's figure), not 2/209 of the total. None when the ledger's lots are on
    both sides or the rest has the wrong sign (then the share of the total stands in).
    """
    if units == position:
        return None
    lots = tracker.lots(commodity)
    if any(lot.units * position < 0 for lot in lots):
        return None
    rest = plain(basis - sum((lot.total_cost for lot in lots), ZERO))
    return rest if rest * units > 0 else None


def _opening_basis(record, position: Decimal) -> tuple[Decimal, str | None, bool]:
    """(total cost of the row's whole position, meta `cost_source` or None for costBasisMoney, guessed?).

    E.g. position 10, no costBasisMoney, costBasisPrice 12.5, multiplier 1 -> (125.0, None, False): IBKR's basis;
    with markPrice 13 only -> (130, "markPrice: …", True); with neither -> (0, "none: …", True).
    """
    basis = record.decimal("costBasisMoney")
    if basis is not None:
        return basis, None, False
    multiplier = record.decimal("multiplier") or 1
    price = record.decimal("costBasisPrice")
    if price is not None:
        return position * price * multiplier, None, False
    mark = record.decimal("markPrice")
    if mark is not None:
        return position * mark * multiplier, "markPrice: no costBasisMoney or costBasisPrice in the statement", True
    return ZERO, "none: no costBasisMoney, costBasisPrice or markPrice in the statement; 0 written", True


def closing_posting(account: str, commodity: str, closed: Closed) -> data.Posting:
    """A closing posting naming its lot; with `ibkr_lot_cost` when IBKR's CLOSED_LOT row gives that part another
    cost than the ledger holds (kmi: assigned 100 @ 17, IBKR's Lot cost 1686: the put's premium, folded by IBKR)."""
    meta = {"ibkr_lot_cost": closed.ibkr_cost} if closed.ibkr_cost is not None else None
    return data.Posting(account, Amount(plain(-closed.units), commodity), closed.lot.cost(), None, None, meta)
