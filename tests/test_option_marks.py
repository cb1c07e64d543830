"""An option is valued per contract whichever mark the report uses.

The ledger holds options in contracts. A price directive is per unit of the commodity, so an option's is per
contract (IBKR's 1.70 × 100 = `price OPTX 170.00 USD`, with `close_price: 1.70`, `multiplier: 100`); IBKR's
position row marks per share (mark_price 1.25). Both must give the same kind of market value: 2 contracts at a
close of 1.70 are worth 2 × 170.00 = 340.00, not 2 × 170.00 × 100 = 34000.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beancount import loader

from beanflex.engine import pnl
from beanflex.engine.book import load_book

D = Decimal

LEDGER = """option "operating_currency" "USD"
2024-01-01 open Assets:IBKR:U1:Cash
2024-01-01 open Assets:IBKR:U1:Positions
2024-01-01 commodity OPTX
  conid: "700000009"
  multiplier: 100

2024-01-02 * "BUY 2 OPTX @ 1.50"
  flex_id: "U1/trade/T1"
  event: "trade"
  Assets:IBKR:U1:Positions   2 OPTX {150.00 USD, 2024-01-02, "U1/trade/T1"}
  Assets:IBKR:U1:Cash     -300.00 USD

2024-01-05 price OPTX 170.00 USD
  source: "Trade.closePrice"
  close_price: 1.70
  multiplier: 100

2024-01-31 custom "ibkr-position" "OPTX" "U1"
  account: "U1"
  conid: "700000009"
  position: 2
  mark_price: 1.25
  cost_basis_money: 300.00
  fifo_pnl_unrealized: -50.00
  currency: "USD"
  multiplier: 100
"""


def _row(end: datetime.date):
    entries, errors, options = loader.load_string(LEDGER)
    assert errors == []
    book = load_book(entries, options)
    inst = next(iter(book.instruments.values()))
    return pnl.instrument_pnl(book, inst, pnl.Options(end=end))


def test_a_close_price_directive_values_an_option_per_contract():
    row = _row(datetime.date(2024, 1, 10))
    assert (row.mark.price, row.mark.source) == (D("1.70"), "Trade.closePrice")  # IBKR's quote, as it shows it
    assert row.value("market_value") == D("340.00")  # 2 × 170.00
    assert row.value("unrealized") == D("40.00")  # 340.00 - 300.00


def test_ibkrs_position_mark_values_an_option_per_contract():
    row = _row(datetime.date(2024, 1, 31))
    assert (row.mark.price, row.mark.source) == (D("1.25"), "ibkr-position")
    assert row.value("market_value") == D("250.00")  # 2 × 1.25 × 100
    assert row.value("unrealized") == D("-50.00")  # IBKR's fifoPnlUnrealized
