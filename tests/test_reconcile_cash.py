"""Ending cash against IBKR's CashReport (`custom "ibkr-cash"`), with the breakdown by kind of money.

A hand-written ledger in the importer's shape (docs/ledger-format.md), loaded by the real Beancount loader with the
reconcile plugin. USD in January 2024, every figure hand-added:

    opening (startingCash)                      1000.00
    BUY 10 AAPL @ 100, commission -1.00        -1001.00   trades -1000.00, commissions -1.00
    SELL 5 AAPL @ 110, commission -1.00          549.00   trades   550.00, commissions -1.00
    FX: sell 100 USD for 90 EUR, fee 2 USD       -100.00   trades  -100.00 (USD), +90.00 (EUR)
                                                   -2.00   commissions -2.00 (its own posting)
    dividend AAPL                                   5.00   dividends 5.00
    withholding                                    -0.75   withholding -0.75
    other fee                                      -3.00   fees -3.00
    deposit                                       500.00   deposits_withdrawals 500.00
    ending                                         947.25
    (EUR: 90.00)

IBKR's CashReport row for USD gives exactly these figures: net trades -1000 + 550 - 100 = -550, commissions -4.
"""

from __future__ import annotations

import json
from decimal import Decimal

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine import reconcile_cash
from beanflex.engine.book import load_book
from beanflex.engine.reconcile import reconcile_book

D = Decimal

LEDGER = """option "operating_currency" "USD"
plugin "beanflex.plugins.reconcile"

2024-01-01 open Assets:IBKR:U1:Cash
2024-01-01 open Assets:IBKR:U1:Positions
2024-01-01 open Equity:IBKR:U1:Opening
2024-01-01 open Equity:IBKR:U1:Transfers
2024-01-01 open Income:IBKR:U1:PnL
2024-01-01 open Income:IBKR:U1:Dividends
2024-01-01 open Expenses:IBKR:U1:WithholdingTax
2024-01-01 open Expenses:IBKR:U1:Fees
2024-01-01 open Expenses:IBKR:U1:Commissions
2024-01-01 commodity AAPL
  conid: "265598"

2024-01-01 * "Opening cash balance USD"
  flex_id: "U1/opening/cash/USD"
  event: "opening"
  Assets:IBKR:U1:Cash       1000.00 USD
  Equity:IBKR:U1:Opening   -1000.00 USD

2024-01-03 * "BUY 10 AAPL @ 100"
  flex_id: "U1/trade/T1"
  event: "trade"
  commission: -1.00
  commission_currency: "USD"
  net_cash: -1001.00
  Assets:IBKR:U1:Positions   10 AAPL {100.10 USD, 2024-01-03, "U1/trade/T1"}
  Assets:IBKR:U1:Cash      -1001.00 USD

2024-01-10 * "SELL 5 AAPL @ 110"
  flex_id: "U1/trade/T2"
  event: "trade"
  commission: -1.00
  commission_currency: "USD"
  net_cash: 549.00
  fifo_pnl_realized: 48.50
  Assets:IBKR:U1:Positions   -5 AAPL {100.10 USD, 2024-01-03, "U1/trade/T1"}
  Assets:IBKR:U1:Cash       549.00 USD
  Income:IBKR:U1:PnL        -48.50 USD

2024-01-11 * "SELL 100 USD.EUR"
  flex_id: "U1/trade/F1"
  event: "fx"
  commission: -2
  commission_currency: "USD"
  Assets:IBKR:U1:Cash        90.00 EUR @@ 100.00 USD
  Assets:IBKR:U1:Cash      -100.00 USD
  Assets:IBKR:U1:Cash        -2 USD
  Expenses:IBKR:U1:Commissions  2 USD

2024-01-15 * "AAPL dividend"
  flex_id: "U1/cash/C1"
  event: "dividend"
  Assets:IBKR:U1:Cash          5.00 USD
  Income:IBKR:U1:Dividends    -5.00 USD
    conid: "265598"

2024-01-15 * "AAPL withholding"
  flex_id: "U1/cash/C2"
  event: "withholding"
  Assets:IBKR:U1:Cash               -0.75 USD
  Expenses:IBKR:U1:WithholdingTax    0.75 USD
    conid: "265598"

2024-01-20 * "Other fee"
  flex_id: "U1/cash/C3"
  event: "fee"
  Assets:IBKR:U1:Cash        -3.00 USD
  Expenses:IBKR:U1:Fees       3.00 USD

2024-01-25 * "Deposit"
  flex_id: "U1/cash/C4"
  event: "transfer"
  Assets:IBKR:U1:Cash        500.00 USD
  Equity:IBKR:U1:Transfers  -500.00 USD

2024-01-31 custom "ibkr-cash" "USD" "U1"
  account: "U1"
  currency: "USD"
  from_date: 2024-01-01
  starting_cash: 1000.00
  commissions: -4.00
  net_trades_sales: 550.00
  net_trades_purchases: -1100.00
  dividends: 5.00
  withholding_tax: -0.75
  other_fees: -3.00
  deposit_withdrawals: 500.00
  deposits: 500.00
  ending_cash: 947.25
  flex_src: "raw/U1/2024/jan.xml:7"

2024-01-31 custom "ibkr-cash" "EUR" "U1"
  account: "U1"
  currency: "EUR"
  from_date: 2024-01-01
  starting_cash: 0
  net_trades_sales: 90.00
  ending_cash: 90.00
  flex_src: "raw/U1/2024/jan.xml:8"
"""


def _reconcile(text: str):
    entries, errors, options = loader.load_string(text)
    return reconcile_book(load_book(entries, options)), errors


def _kinds(found, currency):
    return {d.field.removeprefix("cash."): (d.ours, d.ibkr) for d in found.cash
            if d.currency == currency and d.field != "cash"}


def test_every_kind_of_money_matches_ibkrs_figures():
    found, errors = _reconcile(LEDGER)
    assert errors == []
    assert [(d.currency, d.ours, d.ibkr, d.reason) for d in found.cash_checks] == [
        ("USD", D("947.25"), D("947.25"), None), ("EUR", D("90.00"), D("90.00"), None)]
    assert [d for d in found.cash if d.field != "cash"] == []  # a matched ending needs no breakdown
    # The breakdown itself, asked for every currency (a negative tolerance treats every ending as differing):
    entries, _, options = loader.load_string(LEDGER)
    found.cash = reconcile_cash.cash_checks(load_book(entries, options), D(-1))
    assert _kinds(found, "USD") == {
        "starting_cash": (D("1000.00"), D("1000.00")),
        "trades": (D("-550.00"), D("-550.00")),       # -1000 + 550 - 100 (commissions split off)
        "commissions": (D("-4.00"), D("-4.00")),      # -1 - 1 on the stock trades, -2 on the FX conversion
        "dividends": (D("5.00"), D("5.00")),
        "withholding": (D("-0.75"), D("-0.75")),
        "fees": (D("-3.00"), D("-3.00")),
        "deposits_withdrawals": (D("500.00"), D("500.00")),
    }  # IBKR's remainder `other` is 947.25 - 1000 - (-550 - 4 + 5 - 0.75 - 3 + 500) = 0: not listed


def test_a_commission_charged_in_another_currency_is_named():
    """IBKR took the FX fee as 1.80 EUR, not 2 USD: USD ends 2.00 higher, EUR 1.80 lower, and only the
    commissions differ, with opposite signs: commission_in_other_currency."""
    text = (LEDGER.replace("  commissions: -4.00\n", "  commissions: -2.00\n")
            .replace("ending_cash: 947.25", "ending_cash: 949.25")
            .replace("  net_trades_sales: 90.00\n  ending_cash: 90.00",
                     "  net_trades_sales: 90.00\n  commissions: -1.80\n  ending_cash: 88.20"))
    found, errors = _reconcile(text)
    assert [(d.currency, d.diff, d.reason) for d in found.beyond(found.cash_checks)] == [
        ("USD", D("-2.00"), "commission_in_other_currency"), ("EUR", D("1.80"), "commission_in_other_currency")]
    assert [e.message.split(";")[0] for e in errors] == [
        "Ending cash differs for USD in U1 on 2024-01-31: ours 947.25 != IBKR 949.25 (-2.00 USD)",
        "Ending cash differs for EUR in U1 on 2024-01-31: ours 90.00 != IBKR 88.20 (+1.80 EUR)"]
    assert "differing kinds: commissions ours -4.00 IBKR -2.00" in errors[0].message
    assert errors[0].source["flex_src"] == "raw/U1/2024/jan.xml:7"


def test_a_missing_dividend_row_is_statement_rows_incomplete():
    """IBKR counted 12.00 of dividends, the statement lists 5.00: ending cash 7.00 apart, dividends named."""
    text = LEDGER.replace("  dividends: 5.00\n", "  dividends: 12.00\n").replace("ending_cash: 947.25",
                                                                              "ending_cash: 954.25")
    found, _ = _reconcile(text)
    [diff] = found.beyond(found.cash_checks)
    assert (diff.currency, diff.diff, diff.reason) == ("USD", D("-7.00"), "statement_rows_incomplete")
    assert [k for k, (ours, ibkr) in _kinds(found, "USD").items() if ours != ibkr] == ["dividends"]


def test_a_start_that_already_differs_is_an_earlier_cash_diff():
    """IBKR started the month with 1010.00 (a statement before this one is missing): every kind of the month
    matches, the start does not."""
    text = (LEDGER.replace("  starting_cash: 1000.00\n", "  starting_cash: 1010.00\n")
            .replace("ending_cash: 947.25", "ending_cash: 957.25"))
    found, _ = _reconcile(text)
    [diff] = found.beyond(found.cash_checks)
    assert (diff.diff, diff.reason) == (D("-10.00"), "earlier_cash_diff")


def test_report_reconcile_lists_cash_with_its_kinds(tmp_path):
    text = LEDGER.replace("  dividends: 5.00\n", "  dividends: 12.00\n").replace("ending_cash: 947.25",
                                                                              "ending_cash: 954.25")
    main = tmp_path / "main.beancount"
    main.write_text(text)
    run = CliRunner().invoke(cli, ["--ledger", str(main), "report", "reconcile", "--format", "json"])
    report = json.loads(run.stdout)  # stderr says the ledger's errors (the cash diff)
    usd = next(c for c in report["cash"] if c["currency"] == "USD")
    assert (usd["ours"], usd["ibkr"], usd["diff"], usd["status"], usd["reason"]) == (
        "947.25", "954.25", "-7.00", "diff", "statement_rows_incomplete")
    assert [k["kind"] for k in usd["kinds"] if k["status"] == "diff"] == ["dividends"]
    assert [d["field"] for d in report["diffs"]] == ["cash"] and report["status"] == "diff"
    csv_run = CliRunner().invoke(cli, ["--ledger", str(main), "report", "reconcile", "--format", "csv"])
    cash_lines = [line for line in csv_run.output.splitlines() if line.startswith("cash,")]
    assert any(",cash.dividends,USD,5.00,12.00,-7.00,diff" in line for line in cash_lines), cash_lines
