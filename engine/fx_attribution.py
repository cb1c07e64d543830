"""How much of a period's base-currency result came from exchange rates (DESIGN §10 "FX attribution").

- holdings: DESIGN §4's `base.fx` over the period: the FX part realized by closings inside it, plus the change of
  the open lots' FX part between the day before the period and its end. An open lot's FX part on a day is
  basis x (that day's rate - the opening rate) = basis x rate - base basis; e.g. 10 SAP bought for 501 EUR at
  1.20, held on a day at 1.10: 501 x 1.10 - 601.20 = -50.10 USD. A closing's is §4's: 57.70 - 98 x 1.10 = -50.10.
- cash: the translation of cash held in other currencies: value at the end - value at the start - every change
  at its own day's rate; e.g. 1,000 EUR held while the rate goes 1.10 -> 1.12: 1,000 x 0.02 = +20 USD.
- conversions: what each FX conversion gained or lost against that day's rate: the cash legs (commission added
  back: it is a cost, not FX) at the day's rates; e.g. 1,000 EUR bought for 1,105 USD on a 1.10 day: 1,100 -
  1,105 = -5 USD.

Total = holdings + cash + conversions. Weights scale a label member's holdings part.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from . import lots as lots_mod
from beanflex.contract.accounts import split_account

from .book import ZERO, Book, Instrument
from .valuation import ONE_DAY


@dataclass
class FxSplit:
    holdings: Decimal | None = ZERO
    realized: Decimal | None = ZERO  # the closings' part of holdings
    cash: Decimal | None = ZERO
    conversions: Decimal | None = ZERO
    notes: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)  # the closings and conversions behind the figures

    @property
    def total(self) -> Decimal | None:
        parts = (self.holdings, self.cash, self.conversions)
        return None if None in parts else sum(parts, ZERO)


def _open_fx(book: Book, inst: Instrument, lots: list[lots_mod.Lot], day: datetime.date) -> Decimal | None:
    if not lots or inst.currency == book.base_currency:
        return ZERO
    rate = book.rate(inst.currency, day)
    if rate is None:
        return None
    return sum((lot.basis * rate - lot.base_basis for lot in lots), ZERO)


def lot_runs(book: Book, keys, dates) -> dict[tuple[str, str], lots_mod.LotRun]:
    """One run of IBKR's lots per instrument with a snapshot at each of `dates`: every period of a report reads
    its start and end from it instead of running the lots again."""
    wanted = sorted(set(dates))
    return {key: lots_mod.run(book.instruments[key].events, "ibkr", checkpoints=wanted) for key in keys
            if key in book.instruments}


def holdings_fx(book: Book, members: dict[tuple[str, str], Decimal], start: datetime.date, end: datetime.date,
                split: FxSplit, runs: dict | None = None) -> None:
    """Add the FX part of the members' positions over start..end to `split` (IBKR's lots, §4). `runs`
    (lot_runs with snapshots at start - 1 day and end) saves running the lots for each period."""
    for (account, conid), weight in sorted(members.items()):
        inst = book.instruments.get((account, conid))
        if inst is None or not weight or inst.currency == book.base_currency:
            continue
        run = (runs or {}).get((account, conid))
        if run is None or start - ONE_DAY not in run.snapshots or end not in run.snapshots:
            run = lots_mod.run(inst.events, "ibkr", checkpoints=[start - ONE_DAY, end])
        fx_before = _open_fx(book, inst, run.snapshots[start - ONE_DAY], start - ONE_DAY)
        fx_after = _open_fx(book, inst, run.snapshots[end], end)
        if fx_before is None or fx_after is None or split.holdings is None:
            split.holdings = None
            split.notes.append(f"no {inst.currency} rate for {inst.symbol} at the period's start or end")
            continue
        realized = ZERO
        for closing in run.closings:
            if start <= closing.event.date <= end and closing.closed:
                realized += closing.base_fx
                split.events.append({"date": closing.event.date, "kind": "realized", "symbol": inst.symbol,
                                     "flex_id": closing.event.flex_id, "flex_src": closing.event.flex_src,
                                     "amount": closing.base_fx * weight})
        if fx_after or fx_before:
            split.events.append({"date": end, "kind": "unrealized", "symbol": inst.symbol, "flex_id": "",
                                 "flex_src": "", "amount": (fx_after - fx_before) * weight})
        split.realized += realized * weight
        split.holdings += (realized + fx_after - fx_before) * weight


class CashIndex:
    """The cash postings of some accounts in date order, with each currency's running balance, so each period's
    cash_fx reads its balances at two points and walks only its own postings (a report of ten periods walked the
    whole ledger's cash ten times). Sums run in ledger order, as a walk from the first posting would add them."""

    def __init__(self, book: Book, accounts: set[str]) -> None:
        self.book, self.accounts = book, accounts
        rows = [(entry, posting) for entry, posting in book.cash_postings
                if split_account(posting.account)[0] in accounts]
        rows.sort(key=lambda row: row[0].date)  # stable: the ledger's order within a day stays
        self.rows = rows
        self.dates = [entry.date for entry, _ in rows]
        self.running: dict[str, tuple[list[int], list[Decimal]]] = {}  # currency -> (row index, balance after it)
        for i, (_, posting) in enumerate(rows):
            currency = posting.units.currency
            if currency == book.base_currency:
                continue
            at, balances = self.running.setdefault(currency, ([], []))
            at.append(i)
            balances.append((balances[-1] if balances else ZERO) + posting.units.number)

    def balances(self, stop: int) -> dict[str, Decimal]:
        """Each currency's balance over the rows before index `stop` (only currencies with a row there)."""
        found = {}
        for currency, (at, balances) in self.running.items():
            k = bisect.bisect_left(at, stop)
            if k:
                found[currency] = balances[k - 1]
        return found


def cash_fx(book: Book, accounts: set[str], start: datetime.date, end: datetime.date, split: FxSplit,
            index: CashIndex | None = None) -> None:
    """Translation of other-currency cash, and the conversions' result against the day's rate. `index` (a
    CashIndex of the same accounts) serves several periods."""
    index = index if index is not None and index.accounts == accounts else CashIndex(book, accounts)
    first, stop = bisect.bisect_left(index.dates, start), bisect.bisect_right(index.dates, end)
    start_bal, balance = index.balances(first), index.balances(stop)
    changes: dict[str, Decimal] = {}  # sum of change x its day's rate
    conversions = {}
    for entry, posting in index.rows[first:stop]:
        currency = posting.units.currency
        if (entry.meta or {}).get("event") == "fx":
            conversions[id(entry)] = entry
        if currency == book.base_currency:
            continue
        rate = book.rate(currency, entry.date)
        if rate is None or changes.get(currency, ZERO) is None:
            changes[currency] = None
            continue
        changes[currency] = changes.get(currency, ZERO) + posting.units.number * rate
    for currency in sorted(balance):
        r_start, r_end = book.rate(currency, start - ONE_DAY), book.rate(currency, end)
        held = start_bal.get(currency, ZERO)
        if changes.get(currency, ZERO) is None or r_end is None or (held and r_start is None):
            split.cash = None
            split.notes.append(f"no {currency} rate for some day of the period: cash translation unknown")
            continue
        if split.cash is not None:
            split.cash += balance[currency] * r_end - held * (r_start or ZERO) - changes.get(currency, ZERO)
    for entry in conversions.values():
        _conversion(book, entry, accounts, split)


def _conversion(book: Book, entry, accounts: set[str], split: FxSplit) -> None:
    """One FX conversion's gain against the day's rates: its cash legs, the commission added back."""
    total = ZERO
    for posting in entry.postings:
        parts = split_account(posting.account)
        if parts is None or parts[0] not in accounts or parts[1] not in ("Assets:Cash", "Expenses:Commissions"):
            continue
        rate = book.rate(posting.units.currency, entry.date)
        if rate is None:
            split.conversions = None
            split.notes.append(f"no {posting.units.currency} rate on {entry.date} for conversion "
                               f"{entry.meta.get('flex_id')}")
            return
        total += posting.units.number * rate
    if split.conversions is not None:
        split.conversions += total
    split.events.append({"date": entry.date, "kind": "conversion", "symbol": "", "amount": total,
                         "flex_id": str(entry.meta.get("flex_id") or ""), "flex_src": str(entry.meta.get("flex_src")
                                                                                           or "")})
