"""Read a loaded ledger (docs/ledger-format.md) into per-(account, conid) event streams: the plugins' one input.

Nothing here computes P&L; it only turns directives into typed events, so lots.py, pnl.py and reconcile.py read
one shape. E.g. `SELL 15 AAPL` with postings `-10 AAPL {100.1 USD, …, "U1/trade/T1"}` and
`-5 AAPL {120.1 USD, …, "U1/trade/T2"}` becomes one Event(kind="trade", quantity=-15, net_cash=1948.5) with two
closing Legs.
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data

from beanflex.contract import flex_src as flex_src_format
from beanflex.contract.accounts import account_component, split_account
from beanflex.contract.gcpause import paused_gc

from .book_facts import _latest, _realized_of, carry_moves, flag_reason, infer_base_currency  # noqa: F401
from .marks import Mark, dec, price_mark, winners_by_date

ZERO = Decimal(0)

#: Events whose postings move lots at cost between instruments (or re-add them, a split): lots.apply judges each
#: leg by sign, never by label, and the basis carried is proceeds, not P&L.
CARRY_KINDS = frozenset({"split", "corporate_action"})
#: Income/expense accounts (the part after `<acct>:`) that belong to an instrument when the row names a conid.
INCOME_KINDS = {"Income:Dividends": "dividend", "Expenses:WithholdingTax": "withholding", "Expenses:Fees": "fee"}


@dataclass(slots=True)
class Leg:
    """One Positions posting: units (signed), cost per unit incl. multiplier and opening commission."""

    units: Decimal
    cost: Decimal | None
    lot_date: datetime.date | None
    label: str | None
    opening: bool | None  # True: opened here (label == the transaction's flex_id); None: no label, judge by sign
    ibkr_cost: Decimal | None = None  # closing postings: IBKR's CLOSED_LOT cost for this part (`ibkr_lot_cost`)


@dataclass(slots=True)
class Event:
    """One thing that happened to an instrument: a trade, a split, an expiry, a dividend, a tax, a fee."""

    date: datetime.date
    kind: str  # ledger-format `event` (trade, split, expiry, …) or dividend/withholding/fee for income rows
    account: str
    conid: str
    symbol: str
    currency: str
    flex_id: str
    flex_src: str
    description: str
    flag: str
    legs: tuple[Leg, ...] = ()
    net_cash: Decimal | None = None  # trade currency, IBKR sign (sale > 0)
    commission: Decimal = ZERO  # positive amount paid
    fifo_pnl_realized: Decimal | None = None
    fx_rate: Decimal | None = None  # trade/pay currency -> base, at this event's date
    amount: Decimal = ZERO  # income rows: dividend received > 0, withholding/fee paid > 0
    carry: bool = False  # a split or corporate action: lots move at cost (lots.apply), see carry_events
    carried: Decimal = ZERO  # basis this instrument's closed lots carry into other instruments (in net_cash)
    sources: tuple[tuple[str, str], ...] = ()  # (account, conid) whose lots this event receives
    meta: dict = field(default_factory=dict, compare=False, repr=False)
    links: frozenset = frozenset()  # the transaction's links, e.g. ^eae-U1-900002-20240315
    folded: tuple = ()  # premium.Folds applied by the current view; () in the book itself

    @property
    def quantity(self) -> Decimal:
        return sum((leg.units for leg in self.legs), ZERO)


@dataclass(frozen=True)
class IbkrPosition:
    """IBKR's own view of an open position (`custom "ibkr-position"`), the reconciliation oracle."""

    date: datetime.date
    account: str
    conid: str
    symbol: str
    position: Decimal
    mark_price: Decimal | None
    cost_basis_money: Decimal | None
    fifo_pnl_unrealized: Decimal | None
    currency: str
    fx_rate_to_base: Decimal | None
    flex_src: str
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Instrument:
    """Everything the ledger says about one instrument in one account, events in ledger order."""

    account: str
    conid: str
    symbol: str
    currency: str = ""
    multiplier: Decimal = Decimal(1)
    meta: dict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    positions: list[IbkrPosition] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        raw = self.meta.get("labels") or ""
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        return [item.strip() for item in items if item and item.strip()]

    @property
    def flagged(self) -> list[Event]:
        """Events written with flag `!`: unsupported corporate actions waiting for a hand fix."""
        return [e for e in self.events if e.flag == "!"]


@dataclass
class Book:
    base_currency: str
    base_declared: bool = True  # False: no `option "operating_currency"`, the base was inferred (reports flag it)
    instruments: dict[tuple[str, str], Instrument] = field(default_factory=dict)
    prices: list[data.Price] = field(default_factory=list)  # every price directive, in ledger order
    position_marks: list[Mark] = field(default_factory=list)  # IBKR's OpenPositions marks
    _marks: dict[str, list[Mark]] | None = field(default=None, repr=False)
    _mark_indexes: dict[str, tuple] = field(default_factory=dict, repr=False)  # mark(): per symbol, built on use
    rates: dict[str, list[tuple[datetime.date, Decimal]]] = field(default_factory=lambda: defaultdict(list))
    summaries: list[data.Custom] = field(default_factory=list)
    cash_reports: list[data.Custom] = field(default_factory=list)  # `custom "ibkr-cash"`: IBKR's CashReport
    cash_postings: list[tuple[data.Transaction, data.Posting]] = field(default_factory=list)  # on Assets:…:Cash
    symbol_by_conid: dict[str, str] = field(default_factory=dict)
    folds: dict = field(default_factory=dict, repr=False)  # premium.py's folds per view, worked out on first use
    carry_runs: dict = field(default_factory=dict, repr=False)  # carry.py's cache of giving instruments' runs
    views: dict = field(default_factory=dict, repr=False)  # premium.folded_events per instrument and view
    runs: dict = field(default_factory=dict, repr=False)  # carry.run per events list, method and end
    account_base: dict[str, str] = field(default_factory=dict)  # IBKR account -> its own base (Cash `open` meta)
    pairs: dict[tuple[str, str], list] = field(default_factory=lambda: defaultdict(list))  # (ccy, quote) rates

    def base_of(self, account: str) -> str:
        """The account's own base currency (AccountInformation, on its Cash account's `open`), else the ledger's:
        a CHF-base and a USD-base account in one ledger each get their base figures in their own currency."""
        return self.account_base.get(account, self.base_currency)

    def rate(self, currency: str, date: datetime.date, base: str | None = None) -> Decimal | None:
        """`base` units per 1 `currency` on `date` (latest price directive on or before it); 1 for the base itself.
        `base` defaults to the ledger's; another one reads the statements' own rates (`price USD 0.9 CHF`, or its
        inverse: 1 CHF = 1 / 0.9 USD). None when no statement stated one."""
        base = base or self.base_currency
        if currency == base:
            return Decimal(1)
        if base == self.base_currency:
            series = self.rates.get(currency) or []
            i = bisect.bisect_right(series, (date, Decimal("Infinity")))
            return series[i - 1][1] if i else None
        direct = _latest(self.pairs.get((currency, base)) or [], date)
        if direct is not None:
            return direct
        inverse = _latest(self.pairs.get((base, currency)) or [], date)
        return 1 / inverse if inverse else None

    @property
    def marks(self) -> dict[str, list[Mark]]:
        """Marks by commodity symbol: price directives, then IBKR's position marks. Built on first use: the
        reconcile plugin needs none unless the ledger has performance summaries, and a large ledger has a price
        per instrument and day."""
        if self._marks is None:
            self._marks = defaultdict(list)
            for entry in self.prices:
                self._marks[entry.currency].append(price_mark(entry))
            for mark in self.position_marks:
                self._marks[mark.symbol].append(mark)
        return self._marks

    def mark(self, symbol: str, date: datetime.date | None) -> Mark | None:
        """The latest mark on or before `date` (None: no end), marks.winners_by_date's on its date; a bisect, so a
        report asking for every day of a daily-priced instrument does not scan its marks for each day."""
        dates, best = self._mark_index(symbol)
        i = len(dates) if date is None else bisect.bisect_right(dates, date)
        return best[i - 1] if i else None

    def mark_dates(self, symbol: str) -> list[datetime.date]:
        """The days on which the symbol has a mark (a price directive or IBKR's position mark), sorted."""
        return self._mark_index(symbol)[0]

    def _mark_index(self, symbol: str) -> tuple[list[datetime.date], list[Mark]]:
        if symbol not in self._mark_indexes:
            self._mark_indexes[symbol] = winners_by_date(self.marks.get(symbol, []))
        return self._mark_indexes[symbol]


@paused_gc()
def load_book(entries, options_map) -> Book:
    """Build the Book from loaded entries; `options_map["operating_currency"][0]` is the base currency (inferred
    from the rows converted at rate 1 when the ledger does not declare it)."""
    declared = (options_map.get("operating_currency") or [None])[0]
    book = Book(declared or infer_base_currency(entries), base_declared=bool(declared))
    commodities = {e.currency: e.meta for e in entries if isinstance(e, data.Commodity)}
    book.symbol_by_conid = {_conid(symbol, commodities): symbol for symbol in commodities}
    for entry in entries:  # rates first: a trade's base rate may come from a same-day price
        if isinstance(entry, data.Price):
            _read_price(book, entry, commodities)
    for series in list(book.rates.values()) + list(book.pairs.values()):
        series.sort()
    for entry in entries:
        if isinstance(entry, data.Open) and (entry.meta or {}).get("base_currency"):
            parts = split_account(entry.account)
            if parts is not None and parts[1] == "Assets:Cash":
                book.account_base[parts[0]] = str(entry.meta["base_currency"])
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for event in transaction_events(entry, commodities, book):
                inst = _instrument(book, event.account, event.conid, event.symbol, commodities)
                inst.events.append(event)
                if event.legs and not inst.currency:
                    inst.currency = event.currency
        elif isinstance(entry, data.Custom) and entry.type == "ibkr-position":
            pos = _read_position(entry, commodities)
            inst = _instrument(book, pos.account, pos.conid, pos.symbol, commodities)
            inst.positions.append(pos)
            inst.currency = inst.currency or pos.currency
            if pos.mark_price is not None:
                factor = dec(pos.meta.get("multiplier")) or inst.multiplier
                book.position_marks.append(Mark(pos.date, pos.mark_price, "ibkr-position", pos.flex_src,
                                                pos.fx_rate_to_base, pos.mark_price * factor, pos.symbol))
        elif isinstance(entry, data.Custom) and entry.type == "ibkr-summary":
            book.summaries.append(entry)
        elif isinstance(entry, data.Custom) and entry.type == "ibkr-cash":
            book.cash_reports.append(entry)
    for inst in book.instruments.values():
        inst.currency = inst.currency or next((e.currency for e in inst.events if e.currency), "")
    return book


def _instrument(book: Book, account: str, conid: str, symbol: str, commodities: dict) -> Instrument:
    key = (account, conid)
    if key not in book.instruments:
        meta = dict(commodities.get(symbol) or {})
        book.instruments[key] = Instrument(account, conid, symbol, meta.get("currency", ""),
                                           dec(meta.get("multiplier")) or Decimal(1), meta)
    return book.instruments[key]


def _conid(symbol: str, commodities: dict, fallback=None) -> str:
    conid = (commodities.get(symbol) or {}).get("conid") or fallback
    return str(conid) if conid is not None else symbol


def transaction_events(entry: data.Transaction, commodities: dict, book: Book) -> list[Event]:
    """The instrument events of one transaction: one per (account, commodity) of its Positions postings,
    plus one per income/expense posting group that names a conid (dividend, withholding, fee). Its `Cash`
    postings go to `book.cash_postings` on the way (one pass over the postings of a large ledger, not two)."""
    meta = entry.meta or {}
    flex_id = str(meta.get("flex_id") or f"{meta.get('filename', '?')}:{meta.get('lineno', 0)}")
    kind = str(meta.get("event") or "trade")
    legs, currencies, income = _read_postings(entry, flex_id, kind, book)
    if not legs and not income:
        return []  # cash only (deposits, FX conversions, account fees): no instrument event
    common = dict(date=entry.date, flex_id=flex_id, flex_src=str(meta.get("flex_src") or ""),
                  description=entry.narration or "", flag=entry.flag or "*", meta=meta,
                  links=entry.links or frozenset())
    events = []
    # a future settled as daily variation: its P&L is on the trade's money, the cash is the variation
    net_cash = dec(meta.get("trade_money")) if "trade_money" in meta else dec(meta.get("net_cash"))
    commission = dec(meta.get("commission"))
    if net_cash is None and len(legs) == 1:  # hand-written trades: the cash postings in the cost currency
        currency = next(iter(currencies.values()), None)
        net_cash = sum((p.units.number for p in entry.postings if p.units.currency == currency
                        and (split_account(p.account) or ("", ""))[1] == "Assets:Cash"), ZERO)
    carry = kind in CARRY_KINDS or (len(legs) > 1 and kind not in ("transfer", "opening"))
    moves = carry_moves(entry, legs, currencies, split_account) if carry and len(legs) > 1 else {}
    for (account, symbol), its_legs in legs.items():
        conid = _conid(symbol, commodities, meta.get("conid") if len(legs) == 1 else None)
        # net cash belongs to the instrument the row names (a merger's transaction has several)
        mine = len(legs) == 1 or str(meta.get("conid")) == conid
        currency = currencies.get((account, symbol)) or (commodities.get(symbol) or {}).get("currency", "")
        rate = dec(meta.get("fx_rate_to_base")) or book.rate(currency, entry.date, book.base_of(account))
        paid = _in_trade_currency(-(commission or ZERO), str(meta.get("commission_currency") or currency),
                                  currency, rate, book, entry.date, book.base_of(account))
        extra = {}
        if carry:
            its_legs = [Leg(leg.units, leg.cost, leg.lot_date, leg.label, None) for leg in its_legs]
            cash, carried, sources = moves.get((account, symbol), (None, ZERO, ()))
            extra = dict(carry=True, carried=carried, sources=tuple(
                (a, _conid(s, commodities)) for a, s in sources))
            if len(legs) > 1:
                net_cash, mine = cash, True
        events.append(Event(kind=kind, account=account, conid=conid, symbol=symbol, currency=currency,
                            legs=tuple(its_legs), net_cash=net_cash if mine else None,
                            commission=paid if mine else ZERO,
                            fifo_pnl_realized=_realized_of(meta, conid, len(legs)) if mine else None,
                            fx_rate=rate, **extra, **common))
    by_conid = book.symbol_by_conid
    for account, conid, currency in sorted(income):
        symbol = by_conid.get(conid, conid)
        events.extend(_income_events(entry, account, conid, symbol, currency, book, common))
    return events



def _read_postings(entry: data.Transaction, flex_id: str, kind: str, book: Book) -> tuple[dict, dict, set]:
    """One pass over a transaction's postings: (Positions legs per (account, commodity), their cost currencies,
    the (account, conid, currency) of income/expense postings that name a conid); Cash postings go to the book."""
    meta = entry.meta or {}
    legs: dict[tuple[str, str], list[Leg]] = defaultdict(list)
    currencies: dict[tuple[str, str], str] = {}
    income: set[tuple[str, str, str]] = set()
    for posting in entry.postings:
        parts = split_account(posting.account)
        if parts is None:
            continue
        account, role = parts
        if role == "Assets:Cash":
            book.cash_postings.append((entry, posting))
        elif role == "Assets:Positions":
            cost = posting.cost
            label = cost.label if cost is not None else None
            key = (account, posting.units.currency)
            ibkr_cost = (posting.meta or {}).get("ibkr_lot_cost")
            legs[key].append(Leg(posting.units.number, cost.number if cost else None,
                                 cost.date if cost else None, label, _opens(label, flex_id, kind),
                                 dec(ibkr_cost) if ibkr_cost is not None else None))
            if cost is not None and cost.currency:
                currencies[key] = cost.currency
        elif role in INCOME_KINDS:
            conid = (posting.meta or {}).get("conid") or meta.get("conid")
            if conid is not None:
                income.add((account, str(conid), posting.units.currency))
    return legs, currencies, income

def _opens(label: str | None, flex_id: str, kind: str) -> bool | None:
    """Does this posting open its lot? Its label is the opening row's flex_id (ledger-format), so: yes when the
    label is this transaction's own flex_id (or the transaction is an `opening` balance), no when the label
    names another row, unknown (judged by sign in lots.py) for hand-written postings without a label."""
    if label == flex_id or kind == "opening":
        return True
    if kind == "option_adjustment":  # lots move to the adjusted contract under their own labels: judge by sign
        return None
    return None if label is None else False


def _in_trade_currency(amount: Decimal, currency: str, trade_currency: str, rate: Decimal | None, book: Book,
                       date: datetime.date, base: str | None = None) -> Decimal:
    """A commission charged in another currency (often the base), in the trade currency at the trade's rate:
    2 CHF on a USD trade at 0.90 CHF/USD -> 2 / 0.90 = 2.22 USD."""
    if currency == trade_currency or not amount:
        return amount
    its_rate = book.rate(currency, date, base)
    if its_rate is None or not rate:
        return amount
    return amount * its_rate / rate


def _income_events(entry, account, conid, symbol, currency, book, common) -> list[Event]:
    """One event per income/expense role of the transaction for this (account, conid, currency)."""
    meta = entry.meta or {}
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for posting in entry.postings:
        parts = split_account(posting.account)
        if not parts or parts[0] != account or parts[1] not in INCOME_KINDS or posting.units.currency != currency:
            continue
        if str((posting.meta or {}).get("conid") or meta.get("conid")) != conid:
            continue
        sign = -1 if parts[1].startswith("Income") else 1
        amounts[INCOME_KINDS[parts[1]]] += sign * posting.units.number
    rate = dec(meta.get("fx_rate_to_base")) or book.rate(currency, entry.date, book.base_of(account))
    return [Event(kind=kind, account=account, conid=conid, symbol=symbol, currency=currency, amount=amount,
                  fx_rate=rate, **common) for kind, amount in amounts.items()]


def _read_price(book: Book, entry: data.Price, commodities: dict) -> None:
    """`price EUR 1.10 USD` is an FX rate when quoted in the base; `price AAPL 150 USD` is a mark.

    A commodity with a conid is an instrument (a mark only); anything else may be either (a hand-written ledger
    need not declare commodities), so it is kept as both: marks are looked up by instrument, rates by currency.
    """
    if "conid" not in (commodities.get(entry.currency) or {}):
        book.pairs[(entry.currency, entry.amount.currency)].append((entry.date, entry.amount.number))
        if entry.amount.currency == book.base_currency:
            book.rates[entry.currency].append((entry.date, entry.amount.number))
        elif entry.currency == book.base_currency and entry.amount.number:
            book.rates[entry.amount.currency].append((entry.date, 1 / entry.amount.number))
    book.prices.append(entry)


def _read_position(entry: data.Custom, commodities: dict) -> IbkrPosition:
    meta = entry.meta or {}
    symbol = str(entry.values[0].value) if entry.values else str(meta.get("symbol", ""))
    flex_src = str(meta.get("flex_src") or "")
    account = meta.get("account")
    if not account:
        account = flex_src_format.account_of(flex_src) or ""
    account = account_component(str(account))
    return IbkrPosition(entry.date, str(account), _conid(symbol, commodities, meta.get("conid")), symbol,
                        dec(meta.get("position")) or ZERO, dec(meta.get("mark_price")),
                        dec(meta.get("cost_basis_money")), dec(meta.get("fifo_pnl_unrealized")),
                        str(meta.get("currency") or ""), dec(meta.get("fx_rate_to_base")), flex_src, meta)
