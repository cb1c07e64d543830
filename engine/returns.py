"""Time- and money-weighted returns of an Entity over a period (DESIGN §10).

- TWR: one sub-period per day, linked: r_d = (V_d + out_d) / (V_{d-1} + in_d) - 1 with money in at the start of
  its day and money out at its end (flows.py); TWR = prod(1 + r_d) - 1. A flow splits the chain exactly where
  it happens, so this is the "split at every external flow" TWR with daily valuations. A day that starts with
  nothing and ends with nothing is skipped; one that starts with nothing and ends with something (a short sale)
  has no return and is named in `undefined_days`.
- Modified Dietz: (V_end - V_start - sum F) / (V_start + sum w_i F_i), w_i = (to - d_i) / (to - from) in days.
- MWR: the XIRR of -V_start at `from`, -F_i at d_i and +V_end at `to`, actual/365, annualized, and the same rate
  over the period: (1 + r)^((to - from) / 365) - 1. Solved in Decimal (28 digits): Newton's method from the
  Modified Dietz guess, at most XIRR_NEWTON steps, then bisection on (-1, XIRR_MAX] for at most XIRR_BISECT
  steps; no root in that range (all flows one way) gives None, never a made-up rate.

Worked example (DESIGN §10): deposits 10,000 on 2024-01-02 and 11,000 on 2024-02-01, ending 19,800 on
2024-02-29: TWR = 1.10 x 0.90 - 1 = -1.00 %; Modified Dietz = -1,200 / (10,000 + 11,000 x 28/58) = -7.84 %;
XIRR = -39.94 % a year, (1 - 0.3994)^(58/365) - 1 = -7.78 % over the 58 days.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from .book import ZERO
from .flows import Entity, Flow
from .valuation import ONE_DAY, DayValue, Prices, value_days

ONE = Decimal(1)
DAYS_PER_YEAR = Decimal(365)
XIRR_NEWTON = 50
XIRR_BISECT = 200
XIRR_MAX = Decimal(1000)  # +100,000 % a year: beyond it the answer is "no rate"
XIRR_TOLERANCE = Decimal("1e-20")


@dataclass
class Series:
    """An entity's daily values over a range, computed once and sliced for each period inside it."""

    first: datetime.date | None = None
    values: list[DayValue] = field(default_factory=list)
    gaps: dict = field(default_factory=dict)  # gap_runs of the values (which carry no gaps themselves)

    def days(self, start: datetime.date, end: datetime.date) -> list[DayValue] | None:
        if self.first is None or start < self.first or (end - self.first).days >= len(self.values):
            return None
        return self.values[(start - self.first).days:(end - self.first).days + 1]


def entity_series(prices: Prices, entity: Entity, end: datetime.date) -> Series:
    """Daily values from the day before the entity's inception to `end` (empty when it has none by then)."""
    inception = entity.inception()
    if inception is None or inception > end:
        return Series()
    runs: dict = {}
    values = value_days(prices, entity.holdings, inception - ONE_DAY, end, runs=runs)
    return Series(inception - ONE_DAY, values, runs)


@dataclass
class PeriodResult:
    """One entity over one period; every figure in base currency, returns as fractions (-0.01 = -1.00 %)."""

    period: str
    start: datetime.date | None  # the first day of the period (clipped to inception)
    end: datetime.date | None
    status: str = "ok"  # ok | partial (clipped, or some days undefined) | incomplete (a gap) | no_data
    notes: list[str] = field(default_factory=list)
    start_value: Decimal | None = None  # end of the day before `start`
    end_value: Decimal | None = None
    inflows: Decimal = ZERO
    outflows: Decimal = ZERO  # positive amount out
    gain: Decimal | None = None
    twr: Decimal | None = None
    md: Decimal | None = None
    md_capital: Decimal | None = None  # Modified Dietz denominator (average capital)
    mwr: Decimal | None = None  # annualized
    mwr_period: Decimal | None = None
    undefined_days: list[datetime.date] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    days: list[DayValue] = field(default_factory=list)
    cumulative: list[tuple[datetime.date, Decimal | None]] = field(default_factory=list)

    @property
    def net_flows(self) -> Decimal:
        return self.inflows - self.outflows


def daily_returns(days: list[DayValue], flows: list[Flow], before: Decimal) -> tuple[list, list]:
    """[(day, r_d or None)], undefined days. `before` is the value at the end of the day before the first.
    A day that starts with negative capital (a short position, or money spent that the ledger never saw come in)
    has no meaningful return: None, so the TWR is not computed, and the day is listed as undefined."""
    ins, outs = _by_day(flows)
    result, undefined = [], []
    prev: Decimal | None = before
    for day in days:
        start = None if prev is None else prev + ins.get(day.date, ZERO)
        end = None if day.value is None else day.value + outs.get(day.date, ZERO)
        if start is None or end is None:
            result.append((day.date, None))
        elif not start:
            if end:
                undefined.append(day.date)
            result.append((day.date, ZERO))
        elif start < 0:
            undefined.append(day.date)
            result.append((day.date, None))
        else:
            result.append((day.date, end / start - ONE))
        prev = day.value
    return result, undefined


def _by_day(flows: list[Flow]) -> tuple[dict, dict]:
    ins: dict = {}
    outs: dict = {}
    for flow in flows:
        if flow.amount is None:
            continue
        target = ins if flow.side == "in" else outs
        sign = 1 if flow.side == "in" else -1
        target[flow.date] = target.get(flow.date, ZERO) + sign * flow.amount
    return ins, outs


def link(daily: list, with_path: bool = True) -> tuple[Decimal | None, list]:
    """TWR and (with_path) the cumulative TWR after each day: (1.10 x 0.90) - 1 = -0.01. None once a day is
    unknown."""
    growth: Decimal | None = ONE
    path = []
    for day, r in daily:
        if growth is not None:
            growth = None if r is None else growth * (ONE + r) if r else growth
        if with_path:
            path.append((day, None if growth is None else growth - ONE))
    return (None if growth is None else growth - ONE), path


def modified_dietz(start_value: Decimal, end_value: Decimal, flows: list[tuple[datetime.date, Decimal]],
                   start: datetime.date, end: datetime.date) -> tuple[Decimal | None, Decimal | None]:
    """(return, average capital); None when the capital is not positive. Flows dated `d` weigh (end-d)/(end-start)."""
    span = Decimal((end - start).days)
    net = sum((a for _, a in flows), ZERO)
    if span:
        capital = start_value + sum((a * Decimal((end - d).days) / span for d, a in flows), ZERO)
    else:
        capital = start_value + net
    if capital <= 0:
        return None, capital
    return (end_value - start_value - net) / capital, capital


def xirr(cashflows: list[tuple[datetime.date, Decimal]], guess: Decimal | None = None,
         year: Decimal = DAYS_PER_YEAR) -> Decimal | None:
    """The rate r per `year` days with sum a_i (1 + r)^(-(d_i - d_0)/year) = 0 (investor's signs: money put in
    < 0). With `year` = the period's own length in days, r is the rate over the period."""
    by_day: dict[datetime.date, Decimal] = {}
    for d, a in cashflows:  # one term per day: a day's flows share their discount factor
        by_day[d] = by_day.get(d, ZERO) + a
    flows = [(Decimal((d - cashflows[0][0]).days) / year, a) for d, a in sorted(by_day.items()) if a]
    if not flows or all(a > 0 for _, a in flows) or all(a < 0 for _, a in flows):
        return None
    with localcontext() as ctx:
        ctx.prec = 28
        rate = guess if guess is not None and guess > -1 else Decimal("0.1")
        for _ in range(XIRR_NEWTON):
            value, slope = _npv(flows, rate)
            if abs(value) < XIRR_TOLERANCE:
                return rate
            if not slope:
                break
            step = rate - value / slope
            if step <= -1 or step > XIRR_MAX:
                break
            if abs(step - rate) < XIRR_TOLERANCE:
                return step
            rate = step
        return _bisect(flows)


def _npv(flows, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net present value at `rate` and its derivative; (1 + r)^-t as exp(-t ln(1 + r)), one logarithm a call."""
    base = ONE + rate
    log = base.ln()
    value = slope = ZERO
    for t, a in flows:
        factor = (-t * log).exp() if t else ONE
        value += a * factor
        slope -= t * a * factor / base
    return value, slope


def _bisect(flows) -> Decimal | None:
    low, high = Decimal("-0.999999999"), XIRR_MAX
    f_low, f_high = _npv(flows, low)[0], _npv(flows, high)[0]
    if f_low * f_high > 0:
        return None
    for _ in range(XIRR_BISECT):
        mid = (low + high) / 2
        f_mid = _npv(flows, mid)[0]
        if abs(f_mid) < XIRR_TOLERANCE:
            return mid
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2


def period_result(prices: Prices, entity: Entity, period: str, start: datetime.date | None,
                  end: datetime.date, keep_days: bool = False, series: Series | None = None) -> PeriodResult:
    """Every return of `entity` from the start of `start` to the end of `end`; `start` None means inception.
    `series` (entity_series) serves the daily values when it covers the period, so periods share one pass."""
    inception = entity.inception()
    result = PeriodResult(period, start, end)
    if inception is None or inception > end:
        result.status = "no_data"
        result.notes.append(f"no holdings or flows on or before {end}" if inception is None or start is None
                            else f"no data before {inception} (first holding or flow)")
        return result
    if start is None or start < inception:
        if start is not None:
            result.notes.append(f"starts at inception {inception} (no data before), not {start}")
            result.status = "partial"
        start = inception
    result.start = start
    days = (series or Series()).days(start - ONE_DAY, end)
    runs = series.gaps if days else None
    days = days or value_days(prices, entity.holdings, start - ONE_DAY, end)
    later = _from_known_values(prices, entity, result, days, keep_days, series, runs)
    if later is not None:
        return later
    before, days = days[0], days[1:]
    flows = [f for f in entity.flows if start <= f.date <= end]
    result.flows, result.start_value, result.end_value = flows, before.value, days[-1].value
    result.gaps = summarise_gaps([before] + days, runs)
    result.days = days if keep_days else []
    _add_flows(result, flows)
    daily, result.undefined_days = daily_returns(days, flows, before.value)
    result.twr, result.cumulative = link(daily, keep_days)
    if _say_what_is_missing(result):
        _money_weighted(result, flows, start, end)
    return result


def _from_known_values(prices, entity, result: PeriodResult, days: list[DayValue], keep_days: bool,
                       series, runs: dict | None) -> PeriodResult | None:
    """When the first days have no value (a missing price or rate) but later ones do: the period measured from
    the day after the first known value (so its start value is known), saying so; None otherwise. `runs` are
    the gap runs of the series the days come from (None: the days carry their gaps)."""
    unknown = [d.date for d in days if d.value is None]
    start, end = result.start, result.end
    if not unknown or not start < unknown[-1] + 2 * ONE_DAY <= end:
        return None
    later = period_result(prices, entity, result.period, unknown[-1] + 2 * ONE_DAY, end, keep_days, series)
    later.notes[:0] = result.notes + [f"starts at {later.start}: before it a price or rate is missing (last on "
                                      f"{unknown[-1]}, see gaps), not {start}"]
    later.status = "partial" if later.status == "ok" else later.status
    before_gaps = [g for g in _in_order(summarise_gaps(days, runs)) if g["kind"] in ("no_price", "no_rate",
                                                                                     "cost_price")
                   and g["from"] < later.start.isoformat()]
    later.gaps = before_gaps + [g for g in later.gaps if g not in before_gaps]
    return later


def _in_order(gaps: list[dict]) -> list[dict]:
    """Gaps in the order gap_runs of just these days gives: by first day inside them, then kind, account, what
    (a longer series' runs list them by their first day in the whole series)."""
    return sorted(gaps, key=lambda g: (g["from"], g["kind"], g["account"], g["what"]))


def _add_flows(result: PeriodResult, flows: list[Flow]) -> None:
    """Inflows and outflows of the period; a flow without a value (no price or rate that day) is a gap."""
    for flow in flows:
        if flow.amount is None:
            result.gaps.append({"kind": "no_value", "account": flow.account, "what": flow.symbol,
                                "from": flow.date.isoformat(), "to": flow.date.isoformat(), "days": 1,
                                "detail": f"flow {flow.flex_id} has no price or rate on {flow.date}"})
        elif flow.amount > 0:
            result.inflows += flow.amount
        else:
            result.outflows -= flow.amount


def _say_what_is_missing(result: PeriodResult) -> bool:
    """Status and notes from the undefined days and gaps; False when a value the money-weighted figures need is
    missing (the row is then `incomplete`)."""
    if result.undefined_days:
        result.notes.append(f"{len(result.undefined_days)} day(s) start with no or negative capital (a short "
                            f"position, or money spent that the ledger never saw come in: a missing deposit or "
                            f"opening balance?), from {result.undefined_days[0]}: no daily return for them")
        result.status = "partial"
    costed = sorted({g["what"] for g in result.gaps if g["kind"] == "cost_price"})
    if costed:
        result.notes.append(f"valued at their opening cost until IBKR first prices them: {', '.join(costed)}; the "
                            f"gain since they were bought shows when the first price arrives")
        result.status = "partial" if result.status == "ok" else result.status
    if any(g["kind"] in ("no_price", "no_rate", "no_value") for g in result.gaps) or result.end_value is None \
            or result.start_value is None:
        result.status = "incomplete"
        result.notes.append("a price or rate is missing (see gaps): the returns that need it are not computed")
        return False
    return True


def _money_weighted(result: PeriodResult, flows: list[Flow], start: datetime.date, end: datetime.date) -> None:
    """Modified Dietz, and the XIRR solved over the period's own length (so a few days' trading still has a rate),
    then annualized: (1 + r_period)^(365 / days) - 1."""
    dated = [(f.date, f.amount) for f in flows if f.amount is not None]
    result.gain = result.end_value - result.start_value - result.net_flows
    result.md, result.md_capital = modified_dietz(result.start_value, result.end_value, dated, start, end)
    if result.md is None:
        result.notes.append(f"no Modified Dietz return: the average capital is {result.md_capital} (not positive)")
    cashflows = [(start, -result.start_value)] + [(d, -a) for d, a in dated] + [(end, result.end_value)]
    span = Decimal((end - start).days)
    if not span:
        result.notes.append("a one-day period: no money-weighted rate")
        return
    result.mwr_period = xirr(sorted(cashflows, key=lambda c: c[0]), result.md, span)
    if result.mwr_period is None:
        result.notes.append("no money-weighted rate: the money never changes direction (nothing to solve)")
        return
    with localcontext() as ctx:
        ctx.prec = 28
        annual = (ONE + result.mwr_period) ** (DAYS_PER_YEAR / span) - ONE
    if annual > XIRR_MAX:
        result.notes.append(f"the money-weighted rate is not annualized: over {span} days it would exceed "
                            f"{XIRR_MAX * 100:,.0f} % a year")
    else:
        result.mwr = annual


def gap_runs(days: list[DayValue]) -> dict[tuple, list]:
    """Each gap's runs of consecutive days: {(kind, account, what): [[first, last, detail], ...]}; one pass."""
    runs: dict[tuple, list] = {}
    for day in days:
        for gap in day.gaps:
            key = (gap.kind, gap.account, gap.what)
            spans = runs.setdefault(key, [])
            if spans and spans[-1][1] == day.date - ONE_DAY:
                spans[-1][1] = day.date
            else:
                spans.append([day.date, day.date, gap.detail])
    return runs


def summarise_gaps(days: list[DayValue], runs: dict | None = None) -> list[dict]:
    """Gaps per (kind, account, what) inside the days: first and last day and how many days, e.g. AAPL stale
    2024-03-09..12 (4 days). `runs` (gap_runs of a longer series) avoids walking the days again."""
    if not days:
        return []
    first, last = days[0].date, days[-1].date
    found = []
    for (kind, account, what), spans in (runs if runs is not None else gap_runs(days)).items():
        inside = [(max(a, first), min(b, last), detail) for a, b, detail in spans if a <= last and b >= first]
        if inside:
            found.append({"kind": kind, "account": account, "what": what, "from": inside[0][0].isoformat(),
                          "to": inside[-1][1].isoformat(), "days": sum((b - a).days + 1 for a, b, _ in inside),
                          "detail": inside[0][2]})
    return found
