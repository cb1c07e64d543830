"""The reconcile plugin: closing trades whose realized P&L differs from IBKR's become ReconcileErrors."""

from __future__ import annotations

from beancount import loader

from beanflex.plugins import reconcile

AAPL = """
option "operating_currency" "USD"
plugin "beanflex.plugins.reconcile" "{'tolerance': '0.01'}"
2024-01-01 open Assets:IBKR:U1:Positions
2024-01-01 open Assets:IBKR:U1:Cash
2024-01-01 open Income:IBKR:U1:PnL
2024-01-01 commodity AAPL
  conid: "265598"
  multiplier: 1
2024-01-02 * "BUY 10 AAPL @ 100"
  flex_id: "U1/trade/T1"
  event: "trade"
  conid: "265598"
  net_cash: -1001
  Assets:IBKR:U1:Positions   10 AAPL {100.1 USD, 2024-01-02, "U1/trade/T1"}
  Assets:IBKR:U1:Cash     -1001 USD
2024-02-01 * "BUY 10 AAPL @ 120"
  flex_id: "U1/trade/T2"
  event: "trade"
  conid: "265598"
  net_cash: -1201
  Assets:IBKR:U1:Positions   10 AAPL {120.1 USD, 2024-02-01, "U1/trade/T2"}
  Assets:IBKR:U1:Cash     -1201 USD
2024-03-01 * "SELL 15 AAPL @ 130"
  flex_id: "U1/trade/T3"
  flex_src: "raw/U1/2024/a.xml:57"
  event: "trade"
  conid: "265598"
  net_cash: 1948.5
  fifo_pnl_realized: {ibkr}
  Assets:IBKR:U1:Positions  -10 AAPL {{100.1 USD, 2024-01-02, "U1/trade/T1"}}
  Assets:IBKR:U1:Positions   -5 AAPL {{120.1 USD, 2024-02-01, "U1/trade/T2"}}
  Assets:IBKR:U1:Cash      1948.5 USD
  Income:IBKR:U1:PnL       -347.0 USD
"""


def load(ibkr: str):
    return loader.load_string(AAPL.replace("{ibkr}", ibkr).replace("{{", "{").replace("}}", "}"))


def test_diff_above_tolerance_is_an_error_naming_ours_ibkr_and_raw_row():
    # ours: 1948.5 - (10 x 100.1 + 5 x 120.1) = 1948.5 - 1601.5 = 347.0; IBKR says 346.50
    _, errors, _ = load("346.50")
    assert [type(e) for e in errors] == [reconcile.ReconcileError]
    assert "ours 347.0 != IBKR 346.50" in errors[0].message
    assert "raw/U1/2024/a.xml:57" in errors[0].message
    assert errors[0].entry.meta["flex_id"] == "U1/trade/T3"


def test_within_tolerance_is_no_error():
    # 347.0 - 346.995 = 0.005 <= 0.01
    _, errors, _ = load("346.995")
    assert errors == []


def test_config_is_parsed_with_literal_eval():
    assert reconcile.parse_config("{'tolerance': '0.5'}")["tolerance"] == reconcile.Decimal("0.5")
    assert reconcile.parse_config(None)["tolerance"] == reconcile.Decimal("0.01")
