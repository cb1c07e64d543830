"""What something held was worth on each day, in base currency (DESIGN §10 "Valuation on a date").

A `Holdings` is units per (account, commodity) and cash per (account, currency), each as dated changes; an IBKR
account holds everything its postings say, a label or an instrument only the units of its events (flows.py builds
them). `value_days(book, holdings, start, end)` walks the days once and values each end of day:

- units x the latest known price on or before the day: IBKR's marks (`OpenPositions` rows and `price`
  directives) first, else the price of a trade in it that day (`trade_price` x multiplier), else, for a lot that
  came in by an `opening` or `transfer` row and has not been priced since, its cost per unit (said so);
- cash in every currency; both converted to base at the latest rate on or before the day (book.rate).

Gaps are stated, never filled: a holding without any price, or a currency without a rate, leaves that day's value
unknown (None) and names the gap; a price older than STALE_DAYS is used (it is the latest known) and named too.

Worked example (DESIGN §10): 100 AAPL bought 2024-01-02 @ 100 and 10,000 deposited, so the end of 2024-01-02 is
worth 100 x 100 (that day's trade price) + 0 cash = 10,000; on 2024-01-31 the mark 110 makes it 11,000.
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .book import ZERO, Book
from .marks import dec

ONE_DAY = datetime.timedelta(days=1)
#: A price carried forward longer than this many days is named in the gaps (weekends and holidays are shorter).
STALE_DAYS = 7
#: Same-day preference between price sources: IBKR's position mark, a price directive, a trade, a lot's cost.
_RANK = {"ibkr-position": 3, "price": 2, "trade": 1, "cost": 0}


@dataclass(frozen=True)
class PricePoint:
    date: datetime.date
    rank: int
    unit_price: Decimal  # per unit of the commodity (per contract for an option)
    source: str  # OpenPositions.markPrice, Trade.closePrice, trade, cost, ...
    flex_src: str = ""


@dataclass(frozen=True)
class Gap:
    """Why a value is unknown or weak: `no_price`, `no_rate` (value unknown) or `stale_price` (used)."""

    kind: str
    account: str
    what: str  # the commodity or currency
    detail: str = ""


@dataclass(frozen=True)
class Line:
    """One holding valued on one day: units x unit_price in `currency`, x rate = base (None when unknown)."""

    account: str
    symbol: str
    currency: str
    units: Decimal
    unit_price: Decimal | None
    price_date: datetime.date | None
    price_source: str
    rate: Decimal | None
    base: Decimal | None
    flex_src: str = ""


@dataclass
class DayValue:
    date: datetime.date
    value: Decimal | None  # base currency; None when a line is unknown
    lines: list[Line] = field(default_factory=list)
    gaps: tuple[Gap, ...] = ()


class Prices:
    """Every price the ledger knows per commodity, for "the latest on or before a day" by bisection."""

    def __init__(self, book: Book) -> None:
        self.book = book
        series: dict[str, list[PricePoint]] = defaultdict(list)
        for symbol, marks in book.marks.items():
            for mark in marks:
                source = "ibkr-position" if mark.source == "ibkr-position" else "price"
                series[symbol].append(PricePoint(mark.date, _RANK[source], mark.unit_price, mark.source,
                                                 mark.flex_src))
        self.currency: dict[str, str] = {}
        for inst in book.instruments.values():
            self.currency.setdefault(inst.symbol, inst.currency)
            for event in inst.events:
                price = dec(event.meta.get("trade_price"))  # trades, and assignments, exercises, expiries
                if price is not None and event.legs:
                    series[inst.symbol].append(PricePoint(event.date, _RANK["trade"], price * inst.multiplier,
                                                          "trade", event.flex_src))
                elif event.kind in ("opening", "transfer"):
                    for leg in event.legs:
                        if leg.cost is not None and leg.units:
                            series[inst.symbol].append(PricePoint(event.date, _RANK["cost"], leg.cost, "cost",
                                                                  event.flex_src))
        self.series = {symbol: sorted(points, key=lambda p: (p.date, p.rank)) for symbol, points in series.items()}
        self._keys = {symbol: [(p.date, p.rank) for p in points] for symbol, points in self.series.items()}

    def on(self, symbol: str, day: datetime.date) -> PricePoint | None:
        """The latest price on or before `day`; on the same day the better-ranked source."""
        keys = self._keys.get(symbol)
        if not keys:
            return None
        i = bisect.bisect_right(keys, (day, 99))
        return self.series[symbol][i - 1] if i else None

    def by_day(self, start: datetime.date, end: datetime.date, symbols) -> dict[datetime.date, list]:
        """{day: [(symbol, the day's best point)]} for start..end and the given commodities: what changes the
        latest price on each day."""
        found: dict[datetime.date, dict] = defaultdict(dict)
        for symbol in symbols:
            points, keys = self.series.get(symbol, ()), self._keys.get(symbol, ())
            for point in points[bisect.bisect_left(keys, (start, -1)):]:  # by (date, rank): the best comes last
                if point.date > end:
                    break
                found[point.date][symbol] = point
        return {day: list(best.items()) for day, best in found.items()}

    def rate(self, currency: str, day: datetime.date) -> Decimal | None:
        return self.book.rate(currency, day)


@dataclass
class Holdings:
    """Dated changes of units and cash, weights already applied (a label holding half of TSLA holds 0.5 x)."""

    units: dict[tuple[str, str], dict[datetime.date, Decimal]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))  # (account, symbol) -> date -> change
    cash: dict[tuple[str, str], dict[datetime.date, Decimal]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))  # (account, currency) -> date -> change

    def add_units(self, account: str, symbol: str, day: datetime.date, units: Decimal) -> None:
        self.units[(account, symbol)][day] += units

    def add_cash(self, account: str, currency: str, day: datetime.date, amount: Decimal) -> None:
        self.cash[(account, currency)][day] += amount

    def first_date(self) -> datetime.date | None:
        days = [d for series in (*self.units.values(), *self.cash.values()) for d in series]
        return min(days) if days else None

    def balances(self, day: datetime.date) -> tuple[dict, dict]:
        """Units and cash held at the end of `day`."""
        units = {k: sum((v for d, v in s.items() if d <= day), ZERO) for k, s in self.units.items()}
        cash = {k: sum((v for d, v in s.items() if d <= day), ZERO) for k, s in self.cash.items()}
        return units, cash


def price_gaps(account: str, symbol: str, point, day: datetime.date) -> list["Gap"]:
    """Why a holding's value on `day` is not a fresh market price: none at all, its opening cost, or a price
    older than STALE_DAYS (e.g. a mark from 10 days before); [] when the price is fine."""
    if point is None:
        return [Gap("no_price", account, symbol, f"no price for {symbol} on or before this day")]
    if point.source == "cost":
        return [Gap("cost_price", account, symbol, f"{symbol} valued at its opening cost")]
    if (day - point.date).days > STALE_DAYS:
        return [Gap("stale_price", account, symbol, f"{symbol} valued at a price older than {STALE_DAYS} days "
                                                    f"(the latest known)")]
    return []


def value_days(prices: Prices, holdings: Holdings, start: datetime.date, end: datetime.date,
               detail: bool = False, runs: dict | None = None) -> list[DayValue]:
    """The value at the end of every day from `start` to `end` (inclusive). `detail` keeps each day's lines
    (the drill-down of one day) and values every holding each day; without it valuation_walk.py gives the same
    values incrementally (only what changed that day), so years of daily values of hundreds of holdings take
    seconds. Days whose gaps are the same share one tuple (returns.gap_runs counts runs); with `runs` (a dict,
    not with `detail`) the days carry no gaps and the walk fills `runs` with gap_runs's answer instead."""
    units, cash = holdings.balances(start - ONE_DAY)
    units = {k: v for k, v in units.items() if v}
    cash = {k: v for k, v in cash.items() if v}
    changes: dict[datetime.date, list] = defaultdict(list)
    for kind, source in (("units", holdings.units), ("cash", holdings.cash)):
        for key, series in source.items():
            for day, amount in series.items():
                if start <= day <= end:
                    changes[day].append((kind, key, amount))
    symbols = {symbol for _, symbol in holdings.units}  # only what this entity ever holds
    current: dict[str, PricePoint] = {symbol: p for symbol in symbols if (p := prices.on(symbol, start)) is not None}
    new_prices = prices.by_day(start + ONE_DAY, end, symbols)
    if not detail:
        from .valuation_walk import walk_days  # it builds on this module's types

        return walk_days(prices, units, cash, current, start, end, changes, new_prices, runs)
    days: list[DayValue] = []
    previous: tuple[Gap, ...] = ()
    day = start
    while day <= end:
        for kind, key, amount in changes.get(day, ()):
            target = units if kind == "units" else cash
            target[key] = target.get(key, ZERO) + amount
            if not target[key]:
                del target[key]
        current.update(new_prices.get(day, ()))
        value = _value_day(prices, units, cash, day, current, detail)
        if value.gaps == previous:
            value.gaps = previous  # shared: the same gaps as the day before
        previous = value.gaps
        days.append(value)
        day += ONE_DAY
    return days


def _value_day(prices: Prices, units: dict, cash: dict, day: datetime.date, current: dict,
               detail: bool) -> DayValue:
    """Value one day's holdings: 5 AAPL at 150 USD (rate 1) + 100 EUR at 1.10 = 750 + 110 = 860 USD."""
    result = DayValue(day, ZERO)
    total: Decimal | None = ZERO
    rates: dict[str, Decimal | None] = {}
    gaps: list[Gap] = []
    lines: list[Line] = []
    for (account, symbol), quantity in (sorted(units.items()) if detail else units.items()):
        currency = prices.currency.get(symbol, "")
        point = current.get(symbol)
        if currency not in rates:
            rates[currency] = prices.rate(currency, day) if currency else None
        rate = rates[currency]
        gaps.extend(price_gaps(account, symbol, point, day))
        if rate is None and point is not None:
            gaps.append(Gap("no_rate", account, currency or symbol, f"no {currency} rate on or before this day"))
        base = quantity * point.unit_price * rate if point is not None and rate is not None else None
        total = None if base is None or total is None else total + base
        if detail:
            lines.append(Line(account, symbol, currency, quantity, point.unit_price if point else None,
                              point.date if point else None, point.source if point else "", rate, base,
                              point.flex_src if point else ""))
    for (account, currency), amount in (sorted(cash.items()) if detail else cash.items()):
        if currency not in rates:
            rates[currency] = prices.rate(currency, day)
        rate = rates[currency]
        if rate is None:
            gaps.append(Gap("no_rate", account, currency, f"no {currency} rate on or before this day"))
        base = amount * rate if rate is not None else None
        total = None if base is None or total is None else total + base
        if detail:
            lines.append(Line(account, currency, currency, amount, Decimal(1), None, "cash", rate, base))
    result.value, result.gaps, result.lines = total, tuple(sorted(gaps, key=_gap_key)), lines
    return result


def _gap_key(gap: Gap) -> tuple:
    return gap.kind, gap.account, gap.what
