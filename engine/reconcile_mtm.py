"""IBKR's Mark-to-Market performance summary (`MTMPerformanceSummaryInBase`) against our own ledger.

IBKR's MTM method (Reporting Guide, "Mark-to-Market Performance Summary in Base") settles every position and
every trade at each day's close: a position held into a day earns (close − previous close) × quantity that day
(`priorOpenMtm`), a trade earns (close of its day − trade price) × quantity (`transactionMtm`), commissions are a
separate line (`commissions`, a cost, so ≤ 0), and `total` adds them up with `corpActionMtm`, `dividends` and
`other`; all in base, each day's figure at that day's rate. The row also gives the quantity and price at the
close of the day before the period (`prevCloseQuantity`, `prevClosePrice`) and at its end (`closeQuantity`,
`closePrice`), prices per share.

Ours, per instrument, for the row's period `statement_from`..`statement_to` (m the multiplier, r base per
instrument currency; a "close" is a mark the ledger holds for that exact day: a `price` directive from
`Trade.closePrice` or `OpenPositions.markPrice`, or IBKR's `ibkr-position` mark):

- `prev_close_quantity`: Positions held at the end of the day before `statement_from` (`opening` lots too);
  `close_quantity`: held at the end of `statement_to`.
- `prev_close_price`: the start mark (the latest on or before the day before the period) per share, when
  something was held; `close_price`: the close of `statement_to` per share, when something is held then.
- `transaction_mtm`: Σ over the period's trades of quantity × (close of the trade's day − trade price) × m × the
  trade's `fx_rate_to_base`. An option that expires without a close that day is worth 0.
- `prior_open_mtm`: the period cut at every day with a trade or a close; each piece (a, b] adds (quantity held
  at the end of a) × (close b − close a) × m × r(b). The quantity only changes on trade days, so the days inside
  a piece add up to its ends: piece by piece is IBKR's day by day (in base exactly for base-currency
  instruments, and for others when the ledger has a close for each day, as daily statements give).
- `commissions`: −Σ the period's trade commissions × the trade's rate; `total`: the three above added, compared
  only when IBKR's row has no `corp_action_mtm`, `dividends` or `other` (figures this check does not compute).
- A total row (no conid, description "Total…") sums the account's instruments (of its `asset_category` if it
  names one) for the MTM figures; quantities and prices are not summed.

Worked number (tests/fixtures/mtm, base USD): 100 ACME held at 51.00; on the one-day period 2024-03-05 SELL 40
@ 53 and BUY 20 @ 52 (commission 1 each), close 52.50. transaction = −40 × (52.5 − 53) + 20 × (52.5 − 52) = 30;
prior open = 100 × (52.5 − 51) = 150; commissions = −2; total = 178. For a EUR stock at 1.12 USD/EUR: 10 held at
202, SELL 4 @ 205 (commission 2 EUR), close 204: prior open 10 × 2 × 1.12 = 22.40, transaction −4 × (204 − 205) ×
1.12 = 4.48, commissions −2.24, total 24.64. Over a week, a trade is marked at its own day's close, not the
week's (tests/test_reconcile_mtm.py works one).

Never compared against a guess: a figure that needs a close, a rate or a trade price the ledger lacks (no mark
before the first statement) is skipped, and so are prior open and total of a period with a split or corporate
action (IBKR's `corpActionMtm` re-bases the marks). Rows of SKIPPED_CATEGORIES are left out, and so is a total
row of an account that has them. Reasons, from evidence only: `flagged_corporate_action` or `flagged_entry` (an
`!` event by the period's end); `missing_history` (the ledger has no events for the instrument, holds it at the
start with no mark before the period, i.e. from a first statement's reconstruction, or has an `opening` lot inside
the period; MTM does not use cost basis, so older `opening` lots are no evidence); `statement_gap` (REASONS_MTM:
a weekday lies between the start mark and the period, and the mark differs from IBKR's `prevClosePrice`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beanflex.contract import flex_src
from beanflex.contract.accounts import account_component

from .book import ZERO, Book, Event, Instrument, dec, flag_reason
from .diffs import Diff

SECTION = "MTMPerformanceSummaryInBase"
ONE_DAY = datetime.timedelta(days=1)
#: Fields compared, in report order; quantities and prices only on instrument rows.
QUANTITIES = ("prev_close_quantity", "close_quantity")
PRICES = ("prev_close_price", "close_price")
FIGURES = ("transaction_mtm", "prior_open_mtm", "commissions", "total")
#: IBKR's parts of `total` this check does not compute; `total` is compared only when they are 0 or absent.
NOT_COMPUTED = ("corp_action_mtm", "dividends", "other")
#: Rows left out, and the total rows of an account that has them: what the ledger does not hold as instruments
#: priced per unit (currency balances are cash; a bond's ledger price is a fraction of face, its trade price a
#: percentage, and its MTM has accrued interest in it).
SKIPPED_CATEGORIES = ("CASH", "BOND")
#: Events that move Positions without a price (MTM figures of their period are skipped).
REBASING = ("split", "corporate_action")
TRADES = ("trade", "expiry", "assignment", "exercise")
#: Reasons this module names beyond reconcile.REASONS (which includes them).
REASONS_MTM = {
    "statement_gap": "the ledger's last mark before the period is from before a weekday the ledger has no mark "
                     "for, and is not IBKR's previous close: a statement in between is not imported, so the start "
                     "mark (and quantity) are out of date",
}


@dataclass
class Mtm:
    """Our MTM figures for one instrument (or the sum of several) and one period, in base; None where a needed
    close or rate is missing. Prices are per share (IBKR's `prevClosePrice`/`closePrice`), instrument rows only."""

    prev_close_quantity: Decimal = ZERO
    close_quantity: Decimal = ZERO
    transaction_mtm: Decimal | None = ZERO
    prior_open_mtm: Decimal | None = ZERO
    commissions: Decimal | None = ZERO
    prev_close_price: Decimal | None = None
    close_price: Decimal | None = None
    start_mark_date: datetime.date | None = None
    history_gap: bool = False  # held at the start with no earlier mark, or an `opening` lot inside the period

    @property
    def total(self) -> Decimal | None:
        parts = (self.transaction_mtm, self.prior_open_mtm, self.commissions)
        return None if None in parts else sum(parts, ZERO)

    def add(self, other: Mtm) -> None:
        for name in ("prev_close_quantity", "close_quantity", *FIGURES[:3]):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, None if mine is None or theirs is None else mine + theirs)
        self.history_gap = self.history_gap or other.history_gap


def mtm_checks(book: Book) -> list[Diff]:
    """One Diff per comparable field of every `MTMPerformanceSummaryInBase` row (instrument and total rows)."""
    checks = []
    rows = [e for e in book.summaries if e.values and str(e.values[0].value) == SECTION]
    skipped = {(e.date, account_component(str(e.meta.get("account") or ""))) for e in rows
               if e.meta.get("asset_category") in SKIPPED_CATEGORIES}
    for entry in rows:
        meta = entry.meta
        start, end = meta.get("statement_from"), meta.get("statement_to")
        account = account_component(str(meta.get("account") or ""))
        conid = str(meta.get("conid") or "")
        total_row = not conid and str(meta.get("description") or "").startswith("Total")
        if not isinstance(start, datetime.date) or not isinstance(end, datetime.date) or not (conid or total_row):
            continue
        if meta.get("asset_category") in SKIPPED_CATEGORIES or (total_row and (entry.date, account) in skipped):
            continue
        category = meta.get("asset_category") if total_row else None
        insts = [i for (a, c), i in book.instruments.items() if a == account and (
            c == conid or (total_row and (not category or i.meta.get("asset_category") == category)))]
        ours = Mtm()
        for inst in insts:
            mine = instrument_mtm(book, inst, start, end)
            ours.add(mine)
            if not total_row:
                ours.prev_close_price, ours.close_price = mine.prev_close_price, mine.close_price
                ours.start_mark_date = mine.start_mark_date
        reason = _reason(insts, ours, meta, start, end)
        names = FIGURES if total_row else QUANTITIES + PRICES + FIGURES
        symbol = "TOTAL" if total_row else str(meta.get("symbol") or "")
        own_currency = next((i.currency for i in insts if i.currency), str(meta.get("currency") or ""))
        for name in names:
            ibkr, value = dec(meta.get(name)), getattr(ours, name)
            if ibkr is None or value is None:
                continue
            if name == "total" and any(dec(meta.get(part)) for part in NOT_COMPUTED):
                continue
            currency = book.base_currency if name in FIGURES else own_currency  # prices: the instrument's own
            checks.append(Diff(entry.date, account, conid, symbol, currency, "", f"summary.{name}",
                               value, ibkr, tuple(flex_src.refs(meta.get("flex_src"))), reason, meta))
    return checks


def _reason(insts: list[Instrument], ours: Mtm, meta: dict, start: datetime.date,
            end: datetime.date) -> str | None:
    """The evidence-based cause a diff of this row may have (set on every Diff; reports show it on diffs only)."""
    flagged = flag_reason([e for inst in insts for e in inst.events], end)
    if flagged:
        return flagged
    if not any(inst.events for inst in insts) or ours.history_gap:
        return "missing_history"
    ibkr_price, marked = dec(meta.get("prev_close_price")), ours.start_mark_date
    if (ours.prev_close_price is not None and ibkr_price is not None and ours.prev_close_price != ibkr_price
            and marked is not None and _weekday_between(marked, start - ONE_DAY)):
        return "statement_gap"
    return None


def _weekday_between(after: datetime.date, until: datetime.date) -> bool:
    """Is there a Monday-to-Friday day in (after, until]? A Friday mark before a Monday period leaves none."""
    day = after + ONE_DAY
    while day <= until:
        if day.weekday() < 5:
            return True
        day += ONE_DAY
    return False


def instrument_mtm(book: Book, inst: Instrument, start: datetime.date, end: datetime.date) -> Mtm:
    """Our MTM figures for one instrument over `start`..`end` (both inclusive), as the module docstring defines."""
    before = start - ONE_DAY
    moves = [e for e in inst.events if e.legs]
    held = sum((e.quantity for e in moves if e.date <= before), ZERO)
    inside = [e for e in moves if start <= e.date <= end]
    result = Mtm(prev_close_quantity=held, close_quantity=held + sum((e.quantity for e in inside), ZERO))
    result.history_gap = (bool(held) and book.mark(inst.symbol, before) is None) or any(
        e.kind == "opening" for e in inside)
    trades = [e for e in inside if e.kind in TRADES]
    result.transaction_mtm = _transaction_mtm(book, inst, trades)
    result.commissions = -sum((e.commission * e.fx_rate for e in trades if e.fx_rate is not None), ZERO)
    if any(e.fx_rate is None and e.commission for e in trades):
        result.commissions = None
    if any(e.kind in REBASING for e in inside):
        result.prior_open_mtm = None
    else:
        result.prior_open_mtm = _prior_open_mtm(book, inst, held, inside, before, end)
    start_mark, end_close = book.mark(inst.symbol, before), _close(book, inst, end, None)
    if held and start_mark is not None:
        result.prev_close_price = _unit_value(inst, start_mark) / inst.multiplier
        result.start_mark_date = start_mark.date
    if result.close_quantity and end_close is not None:
        result.close_price = end_close / inst.multiplier
    return result


def _transaction_mtm(book: Book, inst: Instrument, trades: list[Event]) -> Decimal | None:
    total = ZERO
    for event in trades:
        close, price, rate = _close(book, inst, event.date, event), _trade_price(inst, event), event.fx_rate
        if close is None or price is None or rate is None:
            return None
        total += event.quantity * (close - price) * rate
    return total


def _prior_open_mtm(book: Book, inst: Instrument, held: Decimal, inside: list[Event], before: datetime.date,
                    end: datetime.date) -> Decimal | None:
    """Σ over the pieces (a, b] of the quantity held at the end of a × (close b − close a) × r(b)."""
    days = sorted({e.date for e in inside} | {m.date for m in book.marks.get(inst.symbol, [])
                                              if before < m.date < end} | {end})
    start_mark = book.mark(inst.symbol, before)
    previous = _unit_value(inst, start_mark) if start_mark is not None else None
    quantity, total = held, ZERO
    for day in days:
        close = _close(book, inst, day, next((e for e in inside if e.date == day), None))
        if quantity:
            rate = _rate(book, inst, day, inside)
            if close is None or previous is None or rate is None:
                return None
            total += quantity * (close - previous) * rate
        quantity += sum((e.quantity for e in inside if e.date == day), ZERO)
        previous = close
    return total


def _close(book: Book, inst: Instrument, day: datetime.date, event: Event | None) -> Decimal | None:
    """The value of one unit (one contract for options) at the close of `day`: a mark dated that day, else 0 for an
    option expiring that day, else None."""
    mark = book.mark(inst.symbol, day)
    if mark is not None and mark.date == day:
        return _unit_value(inst, mark)
    if event is not None and event.kind == "expiry":
        return ZERO
    return None


def _unit_value(inst: Instrument, mark) -> Decimal:
    """What one unit of the commodity is worth at this mark (book.Mark.unit_price: an option's per contract)."""
    return mark.unit_price


def _trade_price(inst: Instrument, event: Event) -> Decimal | None:
    """IBKR's `tradePrice` per unit of the commodity (× the trade's multiplier); an expiry's is 0."""
    price = dec(event.meta.get("trade_price"))
    if price is None:
        return ZERO if event.kind == "expiry" else None
    return price * (dec(event.meta.get("multiplier")) or inst.multiplier)


def _rate(book: Book, inst: Instrument, day: datetime.date, inside: list[Event]) -> Decimal | None:
    """Base per instrument currency on `day` exactly (1 for the base): IBKR's position rate that day, a rate
    directive of that day, else that day's trade rate; None when the ledger has none for that day."""
    if inst.currency == book.base_currency:
        return Decimal(1)
    mark = book.mark(inst.symbol, day)
    if mark is not None and mark.date == day and mark.fx_rate is not None:
        return mark.fx_rate
    rate = next((r for d, r in book.rates.get(inst.currency) or [] if d == day), None)
    if rate is not None:
        return rate
    return next((e.fx_rate for e in inside if e.date == day and e.fx_rate is not None), None)
