"""Per-instrument P&L (DESIGN §4): every number is the exact sum of its contributions, so `explain` can list
the events behind it and they add up to the reported value by construction.

DESIGN §4's AAPL, fifo: realized 347.00 (one sale), 5 left at basis 600.50 (average cost 120.10), mark 150 so
market value 750 and unrealized 149.50, commissions 1 + 1 + 1.5 = 3.50, total 347 + 149.5 + 1.20 - 0.18 = 497.52.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from . import carry
from . import lots as lots_mod
from . import premium as premium_mod
from .book import ZERO, Book, Event, Instrument, Mark, flag_reason

#: The summable fields of a P&L row, in the order reports show them.
LOCAL_FIELDS = ("quantity", "cost_basis", "market_value", "realized", "unrealized", "commissions", "dividends",
                "withholding", "fees", "total")
BASE_FIELDS = ("base.cost_basis", "base.realized", "base.unrealized", "base.fx", "base.total")
#: Fields that hold the unrealized P&L, so they are unknown (None, never 0) for open lots without a mark.
NEEDS_MARK = ("market_value", "unrealized", "total", "base.unrealized", "base.fx", "base.total")
INCOME_SIGN = {"dividend": ("dividends", 1), "withholding": ("withholding", -1), "fee": ("fees", -1)}


@dataclass(frozen=True)
class Contribution:
    """One event's share of one field: e.g. ("realized", 2024-03-01, "U1/trade/T3", "SELL 15 AAPL", 347.0)."""

    field: str
    date: datetime.date
    flex_id: str
    description: str
    amount: Decimal
    flex_src: str


@dataclass(frozen=True)
class Options:
    mode: str = "ibkr"  # ibkr: the lots IBKR closed; economic: `method`
    method: str = "fifo"
    start: datetime.date | None = None  # realized and income from this date (inclusive)
    end: datetime.date | None = None  # ... to this date; positions as of its end
    premium: str = "separate"  # economic mode: an assigned/exercised option's premium stays on it, or is "folded"
    currency: str | None = None  # totals over accounts with other bases: converted to it (default: the ledger's)

    @property
    def lot_method(self) -> str:
        return "ibkr" if self.mode == "ibkr" else self.method

    @property
    def folds_premium(self) -> bool:
        """IBKR-match always folds option premiums into the delivered stock, as IBKR does (DESIGN §8)."""
        return self.mode == "ibkr" or self.premium == "folded"


def view_events(book: Book, inst: Instrument, options: Options) -> list[Event]:
    """The instrument's events as this view sees them: with IBKR's premium folding, or as booked."""
    if not options.folds_premium:
        return inst.events
    return premium_mod.folded_events(book, inst, options.lot_method, options.mode == "ibkr")


@dataclass
class InstrumentPnl:
    instrument: Instrument
    mark: Mark | None
    mark_rate: Decimal | None
    lots: list[lots_mod.Lot]
    closings: list[lots_mod.Closing]
    contributions: list[Contribution] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    base_currency: str = ""  # the account's own base: the currency of every base.* field
    _sums: tuple = field(default=(-1, {}), repr=False, compare=False)  # (contributions counted, sums per field)

    def value(self, name: str) -> Decimal | None:
        """A field's value: the exact sum of its contributions; None for the NEEDS_MARK fields of open lots without
        a mark (DESIGN §4: a number that can't be computed is flagged `no_mark`, never counted as 0). Every field
        is summed in one pass over the contributions, in their order, and kept until one is added: a report row
        asks for fifteen fields."""
        if name in NEEDS_MARK and self.unknown_unrealized:
            return None
        counted, sums = self._sums
        if counted != len(self.contributions):
            sums = {}
            for c in self.contributions:
                sums[c.field] = sums.get(c.field, ZERO) + c.amount
            self._sums = (len(self.contributions), sums)
        return sums.get(name, ZERO)

    def values(self, names) -> dict[str, Decimal | None]:
        """`value(name)` for each of `names` in one pass over the contributions (the same sums, added in the same
        order from 0, so the same Decimals): pnl_meta reads 14 fields of every instrument."""
        totals = dict.fromkeys(names, ZERO)
        for c in self.contributions:
            if c.field in totals:
                totals[c.field] += c.amount
        if self.unknown_unrealized:
            totals.update((name, None) for name in names if name in NEEDS_MARK)
        return totals

    @property
    def unknown_unrealized(self) -> bool:
        return bool(self.lots) and self.mark is None

    def events(self, name: str) -> list[Contribution]:
        return [c for c in self.contributions if c.field == name]

    @property
    def quantity(self) -> Decimal:
        return self.value("quantity")

    @property
    def average_cost(self) -> Decimal | None:
        """Cost per share (per underlying unit for options): 600.50 / 5 / 1 = 120.10."""
        qty = self.quantity
        return self.value("cost_basis") / qty / self.instrument.multiplier if qty else None


def instrument_pnl(book: Book, inst: Instrument, options: Options) -> InstrumentPnl:
    """Run the lots and collect every contribution of one instrument."""
    run = carry.run(book, view_events(book, inst, options), options.lot_method, options.end)
    return pnl_at_end(book, inst, options, run.lots, run.closings)


def pnl_at_end(book: Book, inst: Instrument, options: Options, lots: list[lots_mod.Lot],
               closings: list[lots_mod.Closing], memo: dict | None = None) -> InstrumentPnl:
    """The P&L of one instrument as of `options.end`, from the lots open at its end and the closings of a lot run
    that went at least that far (those after the end are left out here). pnl_daily.py calls it for many ends of
    one run, so a day's row is this very function's, not a second version of it; its `memo` keeps each closing's
    contributions (they do not depend on the end) from one end to the next."""
    mark = book.mark(inst.symbol, options.end) if lots else None
    mark_rate = _mark_rate(book, inst, mark)
    result = InstrumentPnl(inst, mark, mark_rate, lots, [c for c in closings if _inside(c.event, options)],
                           base_currency=book.base_of(inst.account))
    _add_open_lots(book, inst, result, lots)
    add = result.contributions.append
    for closing in result.closings:
        found = memo.get(id(closing)) if memo is not None else None
        if found is None:
            found = _closing_contributions(closing)
            if memo is not None:
                memo[id(closing)] = found
        result.contributions.extend(found)
        if closing.unmatched:
            result.flags.append("missing_history")
    flagged = flag_reason(inst.events, options.end)  # it shapes the lots, even before --from
    if flagged:  # the row's flag names the kind; `report reconcile` names the corporate action's own reason
        result.flags.append("flagged_corporate_action" if flagged.startswith("ca_") else flagged)
    for event in inst.events:
        if not _inside(event, options):
            continue
        common = dict(date=event.date, flex_id=event.flex_id, description=event.description, flex_src=event.flex_src)
        if event.legs and event.commission:
            add(Contribution("commissions", amount=event.commission, **common))
        if event.kind in INCOME_SIGN and not event.legs:
            name, sign = INCOME_SIGN[event.kind]
            rate = event.fx_rate if event.fx_rate is not None else _fallback_rate(result)
            add(Contribution(name, amount=event.amount, **common))
            add(Contribution("total", amount=sign * event.amount, **common))
            add(Contribution("base.total", amount=sign * event.amount * rate, **common))
    if lots and mark is None:
        result.flags.append("no_mark")
    if not book.base_declared:
        result.flags.append("base_currency_assumed")  # declare option "operating_currency" in main.beancount
    result.flags = sorted(set(result.flags))
    return result



def _add_open_lots(book: Book, inst: Instrument, result: InstrumentPnl, lots: list[lots_mod.Lot]) -> None:
    """Each open lot's contributions: quantity and cost basis, and with a mark its market value and unrealized
    P&L (e.g. 5 left at 600.50, mark 150: market value 750, unrealized 149.50), base FX apart."""
    mark, mark_rate = result.mark, result.mark_rate
    by_id = {e.flex_id: e for e in inst.events}
    add = result.contributions.append
    for lot in lots:
        desc = f"open lot {lot.units} @ {_shown_price(lot.cost)} from {lot.open_date}"
        common = dict(date=lot.open_date, flex_id=lot.ids[0], description=desc,
                      flex_src=_lot_src(book, inst, lot, by_id))
        add(Contribution("quantity", amount=lot.units, **common))
        add(Contribution("cost_basis", amount=lot.basis - lot.premium, **common))
        if lot.premium:
            add(_premium_contribution("cost_basis", lot.premium, lot.folds, lot.open_date))
        add(Contribution("base.cost_basis", amount=lot.base_basis, **common))
        if mark is not None:
            value = lot.units * mark.unit_price
            unrealized = value - lot.basis
            base_unrealized = value * mark_rate - lot.base_basis
            mark_common = {**common, "description": f"{desc}, marked {mark.price} on {mark.date} ({mark.source})"}
            for name, amount in (("market_value", value), ("unrealized", unrealized), ("total", unrealized),
                                 ("base.unrealized", base_unrealized), ("base.total", base_unrealized),
                                 ("base.fx", base_unrealized - unrealized * mark_rate)):
                add(Contribution(name, amount=amount, **mark_common))

def _closing_contributions(closing: lots_mod.Closing) -> list[Contribution]:
    """A closing's realized (a folded premium shown as its own event) and its base realized and FX."""
    event = closing.event
    common = dict(date=event.date, flex_id=event.flex_id, description=event.description, flex_src=event.flex_src)
    premium = closing.premium
    out = []
    for name, amount in (("realized", closing.realized - premium), ("total", closing.realized - premium)):
        out.append(Contribution(name, amount=amount, **common))
        if premium:
            for fold, part in _premium_parts(closing):
                out.append(_premium_contribution(name, part, (fold,), event.date))
    for name, amount in (("base.realized", closing.base_realized), ("base.total", closing.base_realized),
                         ("base.fx", closing.base_fx)):
        out.append(Contribution(name, amount=amount, **common))
    return out


def _premium_parts(closing: lots_mod.Closing) -> list[tuple]:
    """(Fold, amount) of every folded premium inside a closing's realized: off its proceeds (-fold amount), or in
    the basis of a lot it closed (-lot premium). They add up to closing.premium."""
    parts = [(fold, -fold.amount) for fold in closing.event.folded]
    for lot in closing.closed:
        if lot.premium:
            parts.append((lot.folds[0] if lot.folds else None, -lot.premium))
    return parts


def _premium_contribution(name: str, amount: Decimal, folds: tuple, date: datetime.date) -> Contribution:
    """A folded premium as its own event, so `explain` shows it: e.g. "premium 198.95 of XYZ 50 P … folded in
    by IBKR", under the option close's flex_id and raw row."""
    fold = folds[0] if folds else None
    if fold is None:
        return Contribution(name, date, "", "option premium folded in by IBKR", amount, "")
    return Contribution(name, date, fold.flex_id, fold.description, amount, fold.flex_src)


def _lot_src(book: Book, inst: Instrument, lot: lots_mod.Lot, by_id: dict) -> str:
    """The raw rows behind a lot: its opening row, then any split or corporate action that moved it. A lot carried
    from another conid (GCM.OLD -> GCM) finds its opening row on the instrument it came from."""
    refs: list[str] = []
    for flex_id in lot.ids:
        event = by_id.get(flex_id) or next((e for other in book.instruments.values() if other.account == inst.account
                                            and other is not inst for e in other.events if e.flex_id == flex_id), None)
        for ref in (event.flex_src.split() if event is not None else ()):
            if ref not in refs:
                refs.append(ref)
    return " ".join(refs)


def _inside(event: Event, options: Options) -> bool:
    return (options.start is None or event.date >= options.start) and (options.end is None or event.date <= options.end)


def _mark_rate(book: Book, inst: Instrument, mark: Mark | None) -> Decimal | None:
    """Base per instrument currency on the mark date: IBKR's position rate, else a price directive, else 1."""
    if mark is None:
        return None
    if mark.fx_rate is not None:
        return mark.fx_rate
    rate = book.rate(inst.currency, mark.date, book.base_of(inst.account))
    if rate is not None:
        return rate
    rates = [e.fx_rate for e in inst.events if e.fx_rate is not None and e.date <= mark.date]
    return rates[-1] if rates else Decimal(1)


def _fallback_rate(result: InstrumentPnl) -> Decimal:
    result.flags.append("fx_rate_missing")
    return Decimal(1)


def _shown_price(value: Decimal) -> str:
    """A per-unit cost as a description shows it, at most 6 decimals (half-even): 137.4397692307692307692307692
    -> 137.439769, 120.10 stays 120.10; the contributions' amounts stay exact."""
    if value.as_tuple().exponent >= -6:
        return str(value)
    return f"{value.quantize(Decimal('0.000001')).normalize():f}"


def in_report_order(book: Book) -> list[tuple[tuple[str, str], Instrument]]:
    """((account, conid), instrument) by account, then symbol: the order of every P&L report's rows."""
    return sorted(book.instruments.items(), key=lambda kv: (kv[0][0], kv[1].symbol))


def book_pnl(book: Book, options: Options, accounts=(), labels=()) -> list[InstrumentPnl]:
    """P&L of every instrument with a position at the end or activity in the range, by (account, symbol)."""
    rows = []
    for (account, _conid), inst in in_report_order(book):
        if accounts and account not in accounts:
            continue
        if labels and not set(labels) & set(inst.labels):
            continue
        row = instrument_pnl(book, inst, options)
        if row.lots or row.contributions:
            rows.append(row)
    return rows


#: Account-level items (DESIGN §4 "reported per account, not spread over instruments"), by ledger account role.
ACCOUNT_FIELDS = ("interest", "fees", "commissions", "deposits", "withdrawals", "total")


@dataclass
class AccountItems:
    """One IBKR account's items in one currency, signs as in the P&L: interest received > 0 (paid < 0); fees and
    commissions paid > 0; deposits and withdrawals > 0. total = interest - fees - commissions (the account-level
    P&L; deposits and withdrawals move money, they are not P&L). Demo: 3.21 - 10 - 2 = -8.79 USD."""

    account: str
    currency: str
    values: dict = field(default_factory=lambda: {name: ZERO for name in ACCOUNT_FIELDS})
    base: dict = field(default_factory=lambda: {name: ZERO for name in ACCOUNT_FIELDS})
    flags: list[str] = field(default_factory=list)

    def add(self, name: str, amount: Decimal, rate: Decimal | None) -> None:
        sign = {"interest": 1, "fees": -1, "commissions": -1}.get(name)
        if rate is None:
            self.flags.append("fx_rate_missing")
            rate = Decimal(1)
        for target, factor in ((self.values, Decimal(1)), (self.base, rate)):
            target[name] += amount * factor
            if sign is not None:
                target["total"] += sign * amount * factor


def account_items(entries, book: Book, options: Options, accounts=()) -> list[AccountItems]:
    """Interest, fees without an instrument, commissions outside lots (FX), deposits and withdrawals per account
    and currency, from the postings on `Income|Expenses:IBKR:<acct>:Interest`, `Expenses:IBKR:<acct>:Fees` (no
    conid of a known instrument: those are the instrument's fees), `Expenses:IBKR:<acct>:Commissions` and the
    cash of `event: "transfer"` transactions (the transfer counter-account is configurable). Inside --from/--to.
    Demo 2024: interest 3.21, fees 10 (market data), commissions 2 (the EUR.USD conversion), deposits 10000."""
    from beancount.core import data

    found: dict[tuple[str, str], AccountItems] = {}
    for entry in entries:
        if not isinstance(entry, data.Transaction) or not _inside_dates(entry.date, options):
            continue
        meta = entry.meta or {}
        transfer = meta.get("event") == "transfer"
        for posting in entry.postings:
            parts = posting.account.split(":")
            if len(parts) != 4 or parts[1] != "IBKR" or (accounts and parts[2] not in accounts):
                continue
            name, amount = _account_item(parts, posting.units.number, transfer, book, meta)
            if name is None:
                continue
            currency = posting.units.currency
            key = (parts[2], currency)
            items = found.setdefault(key, AccountItems(parts[2], currency))
            rate = book.rate(currency, entry.date, book.base_of(parts[2]))
            if rate is None and meta.get("currency") == currency and meta.get("fx_rate_to_base") is not None:
                rate = Decimal(str(meta["fx_rate_to_base"]))
            items.add(name, amount, rate)
    for items in found.values():
        items.flags = sorted(set(items.flags))
    return [found[key] for key in sorted(found)]


def _account_item(parts: list[str], number: Decimal, transfer: bool, book: Book, meta: dict):
    """(field, positive amount) of one posting, or (None, 0) when it is not an account-level item."""
    role = (parts[0], parts[3])
    if role == ("Income", "Interest"):
        return "interest", -number
    if role == ("Expenses", "Interest"):
        return "interest", -number  # interest paid lowers the interest line
    if role == ("Expenses", "Fees"):
        if meta.get("conid") is not None and (parts[2], str(meta["conid"])) in book.instruments:
            return None, ZERO  # the instrument's own fee, in its P&L row
        return "fees", number
    if role == ("Expenses", "Commissions"):
        return "commissions", number
    if transfer and role == ("Assets", "Cash"):
        return ("deposits", number) if number > 0 else ("withdrawals", -number)
    return None, ZERO


def _inside_dates(date: datetime.date, options: Options) -> bool:
    return (options.start is None or date >= options.start) and (options.end is None or date <= options.end)
