"""DESIGN §10's worked example and the return formulas on hand-written ledgers (real loader, book, engine).

Every expected number is worked out beside it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from beanflex.engine import flows, periods, returns, valuation
from ledger_text import commodity, header, load, trade

AAPL = "265598"
PCT = D("0.0001")  # the DESIGN figures are given to 2 decimals of a percent


def deposit(date: str, cid: str, amount: str) -> str:
    return f'''{date} * "Deposit"
  flex_id: "U1/cash/{cid}"
  flex_src: "raw/U1/2024/s.xml:3"
  event: "transfer"
  Assets:IBKR:U1:Cash  {amount} USD
  Equity:IBKR:U1:Transfers
'''


DESIGN_10 = (
    header() + "2020-01-01 open Equity:IBKR:U1:Transfers\n" + commodity("AAPL", AAPL)
    + deposit("2024-01-02", "D1", "10000")
    + trade("2024-01-02", "T1", "BUY 100 AAPL @ 100", AAPL, [("100", "AAPL", "100", "2024-01-02", "T1")], "-10000",
            extra="  trade_price: 100")
    + "2024-01-31 price AAPL 110 USD\n"
    + deposit("2024-02-01", "D2", "11000")
    + trade("2024-02-01", "T2", "BUY 100 AAPL @ 110", AAPL, [("100", "AAPL", "110", "2024-02-01", "T2")], "-11000",
            extra="  trade_price: 110")
    + "2024-02-29 price AAPL 99 USD\n"
)
END = datetime.date(2024, 2, 29)


def measure(text: str, kind: str = "account", start=None, end=END) -> returns.PeriodResult:
    *_, book = load(text)
    prices = valuation.Prices(book)
    if kind == "account":
        entity = flows.account_entity(book, prices, ["U1"])
    else:
        entity = flows.instruments_entity(book, prices, "instrument", AAPL, {("U1", AAPL): D(1)})
    return returns.period_result(prices, entity, "test", start, end, keep_days=True)


@pytest.mark.parametrize("kind", ["account", "instrument"])
def test_design_example(kind):
    r = measure(DESIGN_10, kind)
    assert (r.status, r.start, r.start_value, r.end_value) == ("ok", datetime.date(2024, 1, 2), 0, D(19800))
    # TWR: 01-02 10,000 in, worth 100 x 100 = 10,000 (r = 0); 01-31 mark 110: 11,000 (+10 %); 02-01 11,000 in,
    # 200 x 110 = 22,000 (r = 0); 02-29 mark 99: 19,800 (-10 %). 1.10 x 0.90 - 1 = -0.01
    assert r.twr == D("-0.01")
    # Modified Dietz: gain 19,800 - 21,000 = -1,200; capital 10,000 x 58/58 + 11,000 x 28/58 = 15,310.34...
    assert r.gain == D(-1200)
    assert r.md == D(-1200) / (D(10000) + D(11000) * D(28) / D(58))
    assert r.md.quantize(PCT) == D("-0.0784")
    # XIRR: -10,000 at day 0, -11,000 at day 30, +19,800 at day 58 -> -39.94 % a year; over the 58 days
    # (1 - 0.3994)^(58/365) - 1 = -7.78 %
    assert r.mwr.quantize(PCT) == D("-0.3994")
    assert r.mwr_period.quantize(PCT) == D("-0.0778")
    # the rate really solves the equation: the net present value at r is ~0
    npv = sum(a * (1 + r.mwr) ** (-D(t) / 365) for t, a in ((0, -10000), (30, -11000), (58, 19800)))
    assert abs(npv) < D("1e-15")


def test_cumulative_twr_path_and_values():
    r = measure(DESIGN_10)
    values = {d.date: d.value for d in r.days}
    assert values[datetime.date(2024, 1, 30)] == D(10000)  # 100 x 100 (the 01-02 trade price, carried forward)
    assert values[datetime.date(2024, 1, 31)] == D(11000)  # mark 110
    path = dict(r.cumulative)
    assert path[datetime.date(2024, 2, 1)] == D("0.1")  # +10 % after January; the 02-01 deposit adds no return
    # a price carried over more than a week is named, not hidden: the 01-02 trade price until the 01-31 mark
    stale = [g for g in r.gaps if g["kind"] == "stale_price"]
    assert stale and stale[0]["what"] == "AAPL" and stale[0]["from"] == "2024-01-10"


def test_withdrawal_leaves_at_the_end_of_its_day():
    # 10,000 in on 01-02 (cash only); AAPL bought 01-02 @ 100; on 01-31 (mark 110) 5,000 withdrawn from the cash
    text = DESIGN_10.split("2024-02-01 *")[0].replace(
        '2024-01-31 price AAPL 110 USD\n',
        '2024-01-31 price AAPL 110 USD\n' + deposit("2024-01-31", "W1", "-5000"))
    text = text.replace("10000 USD\n  Equity", "15000 USD\n  Equity", 1)  # deposit 15,000 instead
    r = measure(text, end=datetime.date(2024, 1, 31))
    # start 15,000 (01-02: 100 AAPL @ 100 + 5,000 cash); 01-31: 11,000 + 5,000 - 5,000 = 11,000 left; the day's
    # return counts the withdrawn 5,000 as still there: (11,000 + 5,000) / 15,000 - 1 = 6.67 %
    assert r.end_value == D(11000)
    assert r.twr == D(16000) / D(15000) - 1
    # Modified Dietz: gain 11,000 - (15,000 - 5,000) = 1,000; the withdrawal on the last day weighs 0/29:
    # capital 15,000 -> 6.67 %
    assert r.md == D(1000) / D(15000)


def test_no_data_and_missing_price_are_said():
    r = measure(DESIGN_10, start=datetime.date(2023, 1, 1), end=datetime.date(2023, 12, 31))
    assert r.status == "no_data" and r.twr is None and "no data before 2024-01-02" in r.notes[0]
    # a holding with no price at all: the value is unknown and the period incomplete, never valued at 0
    text = DESIGN_10.replace('  trade_price: 100\n', '').replace("2024-01-31 price AAPL 110 USD\n", "")
    r = measure(text, end=datetime.date(2024, 1, 31))
    assert r.status == "incomplete" and r.twr is None and r.md is None
    assert {"kind": "no_price", "what": "AAPL", "from": "2024-01-02", "to": "2024-01-31"}.items() <= r.gaps[0].items()


def test_xirr_bounded_and_signless():
    day = datetime.date(2024, 1, 1)
    assert returns.xirr([(day, D(-100)), (day + datetime.timedelta(days=365), D(110))]) == D("0.1")
    assert returns.xirr([(day, D(100)), (day + datetime.timedelta(days=365), D(110))]) is None  # all money one way


def test_periods():
    as_of = datetime.date(2024, 5, 15)
    assert periods.resolve("MTD", as_of) == (datetime.date(2024, 5, 1), as_of)
    assert periods.resolve("qtd", as_of) == (datetime.date(2024, 4, 1), as_of)
    assert periods.resolve("YTD", as_of) == (datetime.date(2024, 1, 1), as_of)
    assert periods.resolve("1Y", as_of) == (datetime.date(2023, 5, 16), as_of)
    assert periods.resolve("ITD", as_of) == (None, as_of)
    assert periods.resolve("2023", as_of) == (datetime.date(2023, 1, 1), datetime.date(2023, 12, 31))
    assert periods.calendar_years(datetime.date(2023, 3, 5), as_of) == ["2023", "2024"]
    with pytest.raises(periods.PeriodError, match="MTD, QTD, YTD, 1Y, ITD"):
        periods.resolve("last week", as_of)


def test_period_starts_where_values_become_known():
    # without the 01-02 trade price AAPL has no price until the 01-31 mark: 01-02..01-30 are unknown, so the
    # period is measured from 02-01 (its start value, the end of 01-31, is known: 100 x 110 = 11,000) and says so
    text = DESIGN_10.replace('  trade_price: 100\n', '', 1)
    r = measure(text)
    assert (r.status, r.start, r.start_value) == ("partial", datetime.date(2024, 2, 1), D(11000))
    assert "starts at 2024-02-01" in r.notes[0]
    assert {"kind": "no_price", "what": "AAPL", "from": "2024-01-02", "to": "2024-01-30"}.items() <= r.gaps[0].items()
    # 02-01: 11,000 in, 22,000 at the end (r = 0); 02-29: 19,800 -> TWR -10 %;
    # Modified Dietz (19,800 - 11,000 - 11,000) / (11,000 + 11,000 x 28/28) = -2,200 / 22,000 = -10 %
    assert r.twr == D("-0.1") and r.md == D("-0.1")


@pytest.mark.parametrize("text", [
    DESIGN_10.replace('  trade_price: 100\n', '', 1),  # no price until 01-31: measured from 02-01
    DESIGN_10.replace('  trade_price: 100\n', '').replace("2024-01-31 price AAPL 110 USD\n", ""),  # never priced
    DESIGN_10.replace("2024-01-31 price AAPL 110 USD\n", ""),  # the 01-02 trade price goes stale
])
def test_series_gives_the_same_result_as_a_walk_per_period(text):
    # report returns walks each entity's days once (entity_series, with gap runs instead of gaps per day) and
    # slices every period from it: each period's result must be the one a walk of just its days gives
    *_, book = load(text)
    prices = valuation.Prices(book)
    entity = flows.account_entity(book, prices, ["U1"])
    series = returns.entity_series(prices, entity, END)
    for start in (None, datetime.date(2024, 1, 15), datetime.date(2024, 2, 1)):
        alone = returns.period_result(prices, entity, "p", start, END)
        shared = returns.period_result(prices, entity, "p", start, END, series=series)
        assert (shared.status, shared.start, shared.notes, shared.gaps, shared.twr, shared.md, shared.mwr) == \
            (alone.status, alone.start, alone.notes, alone.gaps, alone.twr, alone.md, alone.mwr)
        assert shared.gaps or start == datetime.date(2024, 2, 1)  # each text has a gap before February


def test_negative_capital_has_no_twr():
    # shares bought with money the ledger never saw come in: the account is worth less than nothing
    # 1,000 deposited, 10,000 spent (cash -9,000); a mark of 5 on 01-30 makes it 500 - 9,000 = -8,500, so 01-31
    # starts with negative capital
    text = DESIGN_10.split("2024-02-01 *")[0].replace("10000 USD\n  Equity", "1000 USD\n  Equity", 1)
    text += "2024-01-30 price AAPL 5 USD\n"
    r = measure(text, end=datetime.date(2024, 1, 31))
    assert r.undefined_days == [datetime.date(2024, 1, 31)]
    assert r.twr is None and r.undefined_days and "negative capital" in r.notes[0]
