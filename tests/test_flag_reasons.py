"""A `!` entry says which kind of hand fix it waits for: a corporate action, or a stand-in cost.

Two instruments in a hand-written ledger of the importer's shape: XYZ's opening lot is flagged because IBKR's rows
gave no cost (a stand-in of 10 × 50 = 500), ABC has a flagged merger. Selling XYZ at 60 realizes
10 × 60 - 500 = 100 against IBKR's 150: the diff is named `flagged_entry`, not a corporate action.
"""

from __future__ import annotations

from decimal import Decimal

from beancount import loader

from beanflex.engine import pnl
from beanflex.engine.book import load_book
from beanflex.engine.reconcile import reconcile_book

LEDGER = """option "operating_currency" "USD"
2024-01-01 open Assets:IBKR:U1:Cash
2024-01-01 open Assets:IBKR:U1:Positions
2024-01-01 open Equity:IBKR:U1:Opening
2024-01-01 open Equity:IBKR:U1:CorporateActions
2024-01-01 open Income:IBKR:U1:PnL
2024-01-01 commodity XYZ
  conid: "1"
2024-01-01 commodity ABC
  conid: "2"

2024-01-01 ! "Opening lot XYZ (stand-in cost)"
  flex_id: "U1/opening/1/2024-01-01"
  event: "opening"
  cost_source: "markPrice: no costBasisMoney or costBasisPrice in the statement"
  Assets:IBKR:U1:Positions   10 XYZ {50 USD, 2024-01-01, "U1/opening/1/2024-01-01"}
  Equity:IBKR:U1:Opening   -500 USD

2024-01-01 * "BUY 5 ABC"
  flex_id: "U1/trade/A1"
  event: "trade"
  Assets:IBKR:U1:Positions   5 ABC {20 USD, 2024-01-01, "U1/trade/A1"}
  Assets:IBKR:U1:Cash     -100 USD

2024-01-10 ! "ABC merger (unsupported)"
  flex_id: "U1/ca/C1"
  event: "corporate_action"
  Assets:IBKR:U1:Positions   -5 ABC {20 USD, 2024-01-01, "U1/trade/A1"}
  Equity:IBKR:U1:CorporateActions  100 USD

2024-02-01 * "SELL 10 XYZ @ 60"
  flex_id: "U1/trade/X2"
  event: "trade"
  net_cash: 600
  fifo_pnl_realized: 150
  Assets:IBKR:U1:Positions  -10 XYZ {50 USD, 2024-01-01, "U1/opening/1/2024-01-01"}
  Assets:IBKR:U1:Cash        600 USD
  Income:IBKR:U1:PnL        -100 USD
"""


def _book():
    entries, errors, options = loader.load_string(LEDGER)
    assert errors == []
    return load_book(entries, options)


def test_pnl_flags_name_the_kind_of_flagged_entry():
    book = _book()
    flags = {inst.symbol: pnl.instrument_pnl(book, inst, pnl.Options()).flags for inst in book.instruments.values()}
    assert "flagged_entry" in flags["XYZ"] and "flagged_corporate_action" not in flags["XYZ"]
    assert "flagged_corporate_action" in flags["ABC"]


def test_a_realized_diff_after_a_stand_in_cost_is_flagged_entry():
    found = reconcile_book(_book())
    [diff] = found.beyond(found.trades)
    assert (diff.flex_id, diff.ours, diff.ibkr, diff.reason) == ("U1/trade/X2", Decimal(100), Decimal(150),
                                                                 "flagged_entry")
