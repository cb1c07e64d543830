"""Daily values of many days, incrementally: the same figures as valuation._value_day, day after day, at the
cost of what changed that day rather than of everything held.

Per currency it keeps the local value of the holdings (units x latest price) and of the cash; a day's value is
sum over currencies of local x that day's rate. A holding is recomputed only on a day that changes its units,
brings a new price for it, or makes its price stale (STALE_DAYS old). E.g. 5 AAPL at 150 and 10 SAP at 90 EUR:
USD 750, EUR 900; at 1.10 USD/EUR the day is worth 750 + 990 = 1,740; a new SAP price of 92 changes EUR to 920
and nothing else: 750 + 1,012 = 1,762.

With `runs` the walk records each gap's runs of days (returns.gap_runs's form) instead of giving every day its
sorted tuple of gaps: a gap opens on the day a holding or a rate starts to lack and closes the day before it
stops, so 700 holdings with a stale price each over 1,800 days cost their 700 x a few changes, not 1.3 million
gap entries.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from .book import ZERO
from .valuation import ONE_DAY, STALE_DAYS, DayValue, Gap, PricePoint, Prices, price_gaps

_STALE = datetime.timedelta(days=STALE_DAYS + 1)


class Walker:
    """The state between two days: units, cash, latest prices, each holding's local value and gaps."""

    def __init__(self, prices: Prices, units: dict, cash: dict, current: dict[str, PricePoint],
                 runs: bool = False) -> None:
        self.prices, self.units, self.current = prices, units, current
        self.runs = runs  # True: record gap runs (Runs) instead of a gaps tuple per day
        self.count: dict[Gap, int] = {}  # runs: each holding gap -> how many holdings have it
        self.moved: set[Gap] = set()  # runs: gaps whose count left or reached 0 since the last day
        self.open_runs = Runs()
        self.last_rate_set: set[Gap] = set()
        self.local: dict[str, Decimal] = defaultdict(Decimal)  # currency -> units x price of the holdings in it
        self.cash: dict[str, Decimal] = defaultdict(Decimal)  # currency -> cash, all accounts
        self.cash_accounts: dict[str, set] = defaultdict(set)  # currency -> accounts holding some
        self.cash_keys = dict(cash)
        self.value_of: dict[tuple, Decimal | None] = {}  # (account, symbol) -> local value (None: no price)
        self.gaps_of: dict[tuple, tuple[Gap, ...]] = {}
        self.held: dict[str, set] = defaultdict(set)  # symbol -> (account, symbol) keys held
        self.stale_on: dict[datetime.date, set] = defaultdict(set)
        self.priced_in: dict[str, set] = defaultdict(set)  # currency -> keys with a value (they need its rate)
        self.no_price = 0  # holdings without any price: the day's value is unknown
        self.gaps_changed = True
        self.last_gaps: tuple[Gap, ...] = ()
        self.last_rate_gaps = False
        self.currencies: list[str] | None = None  # the currencies to price today; None: work them out again
        for (account, currency), amount in cash.items():
            self.cash[currency] += amount
            self.cash_accounts[currency].add(account)
        for key in units:
            self.held[key[1]].add(key)
        for symbol, point in current.items():
            self.stale_on[point.date + _STALE].add(symbol)

    def day(self, day: datetime.date, changes, new_prices) -> DayValue:
        dirty: set = set()
        for kind, key, amount in changes:
            if kind == "cash":
                self._cash(key, amount)
                continue
            self.units[key] = self.units.get(key, ZERO) + amount
            if not self.units[key]:
                del self.units[key]
                self.held[key[1]].discard(key)
            else:
                self.held[key[1]].add(key)
            dirty.add(key)
        for symbol, point in new_prices:
            self.current[symbol] = point
            self.stale_on[point.date + _STALE].add(symbol)
            dirty |= self.held.get(symbol, set())
        for symbol in self.stale_on.pop(day, ()):
            dirty |= self.held.get(symbol, set())
        if dirty or changes:
            self.currencies = None
        for key in dirty:
            self._holding(key, day)
        return self._total(day)

    def _cash(self, key: tuple, amount: Decimal) -> None:
        account, currency = key
        self.cash_keys[key] = self.cash_keys.get(key, ZERO) + amount
        self.cash[currency] += amount
        if self.cash_keys[key]:
            self.cash_accounts[currency].add(account)
        else:
            self.cash_accounts[currency].discard(account)

    def _holding(self, key: tuple, day: datetime.date) -> None:
        """Recompute one holding: take its old local value out of its currency, put the new one in."""
        account, symbol = key
        currency = self.prices.currency.get(symbol, "")
        had = key in self.value_of
        old = self.value_of.pop(key, None)
        if old is not None:
            self.local[currency] -= old
            self.priced_in[currency].discard(key)
        elif had:
            self.no_price -= 1
        old_gaps = self.gaps_of.pop(key, ())
        self._update(key, currency, day)
        new_gaps = self.gaps_of.get(key, ())
        if new_gaps != old_gaps:
            self.gaps_changed = True
            if self.runs:
                self._count(old_gaps, -1)
                self._count(new_gaps, 1)

    def _count(self, gaps: tuple[Gap, ...], step: int) -> None:
        for gap in gaps:
            count = self.count.get(gap, 0) + step
            if count:
                self.count[gap] = count
            else:
                del self.count[gap]
            if count in (0, 1):
                self.moved.add(gap)

    def _update(self, key: tuple, currency: str, day: datetime.date) -> None:
        account, symbol = key
        quantity = self.units.get(key)
        if not quantity:
            return
        point = self.current.get(symbol)
        gaps = price_gaps(account, symbol, point, day)
        value = quantity * point.unit_price if point is not None else None
        self.value_of[key] = value
        if value is not None:
            self.local[currency] += value
            self.priced_in[currency].add(key)
        else:
            self.no_price += 1
        if gaps:
            self.gaps_of[key] = tuple(gaps)

    def _total(self, day: datetime.date) -> DayValue:
        total: Decimal | None = None if self.no_price else ZERO
        rate_gaps = []
        if self.currencies is None:
            self.currencies = sorted({c for c, keys in self.priced_in.items() if keys}
                                     | {c for c, accounts in self.cash_accounts.items() if accounts})
        for currency in self.currencies:
            rate = self.prices.rate(currency, day) if currency else None
            if rate is None:
                for account, symbol in sorted(self.priced_in.get(currency, ())):
                    rate_gaps.append(Gap("no_rate", account, currency or symbol,
                                         f"no {currency} rate on or before this day"))
                for account in sorted(self.cash_accounts.get(currency, ())):
                    rate_gaps.append(Gap("no_rate", account, currency, f"no {currency} rate on or before this day"))
                total = None
            elif total is not None:
                total += (self.local.get(currency, ZERO) + self.cash.get(currency, ZERO)) * rate
        if self.runs:
            self._mark_runs(day, set(rate_gaps))
            return DayValue(day, total, [], ())
        if self.gaps_changed or rate_gaps or self.last_rate_gaps:
            found = {g for gaps in self.gaps_of.values() for g in gaps} | set(rate_gaps)
            self.last_gaps = tuple(sorted(found, key=lambda g: (g.kind, g.account, g.what)))
            self.gaps_changed, self.last_rate_gaps = False, bool(rate_gaps)
        return DayValue(day, total, [], self.last_gaps)

    def _mark_runs(self, day: datetime.date, rate_set: set[Gap]) -> None:
        """Open a run for each gap that starts today, close the run of each that stopped yesterday."""
        for gap in self.moved | rate_set | self.last_rate_set:
            if gap in self.count or gap in rate_set:
                self.open_runs.start(gap, day)
            else:
                self.open_runs.stop(gap, day - ONE_DAY)
        self.moved.clear()
        self.last_rate_set = rate_set


class Runs:
    """Gap runs as they open and close; `result` gives {(kind, account, what): [[first, last, detail], ...]}
    in gap_runs's order: by first day, then kind, account, what (a day's gaps are sorted that way)."""

    def __init__(self) -> None:
        self.opened: dict[Gap, datetime.date] = {}
        self.closed: list[tuple[datetime.date, datetime.date, Gap]] = []

    def start(self, gap: Gap, day: datetime.date) -> None:
        self.opened.setdefault(gap, day)

    def stop(self, gap: Gap, last: datetime.date) -> None:
        first = self.opened.pop(gap, None)
        if first is not None:
            self.closed.append((first, last, gap))

    def result(self, end: datetime.date) -> dict[tuple, list]:
        for gap in list(self.opened):
            self.stop(gap, end)
        found: dict[tuple, list] = {}
        for first, last, gap in sorted(self.closed, key=lambda r: (r[0], r[2].kind, r[2].account, r[2].what)):
            found.setdefault((gap.kind, gap.account, gap.what), []).append([first, last, gap.detail])
        return found


def walk_days(prices: Prices, units: dict, cash: dict, current: dict, start: datetime.date, end: datetime.date,
              changes: dict, new_prices: dict, runs: dict | None = None) -> list[DayValue]:
    """DayValues for start..end; `changes` and `new_prices` by day as valuation.value_days gathers them. With
    `runs` (a dict, filled here) the days carry no gaps and `runs` gets their runs instead."""
    walker = Walker(prices, dict(units), cash, dict(current), runs is not None)
    for key in list(units):
        walker._holding(key, start)  # noqa: SLF001 - the first day values everything held
    days, previous, day = [], (), start
    while day <= end:
        value = walker.day(day, changes.get(day, ()), new_prices.get(day, ()))
        if value.gaps == previous:
            value.gaps = previous  # shared: the same gaps as the day before
        previous = value.gaps
        days.append(value)
        day += ONE_DAY
    if runs is not None:
        runs.update(walker.open_runs.result(end))
    return days
