"""IBKR's NAV rows against the ledger (engine/reconcile_nav.py) on DESIGN §10's worked example, hand-written.

The example's account is worth 10,000 from 2024-01-02 (100 AAPL at the 01-02 trade price 100), 11,000 on 01-31
(mark 110), 22,000 on 02-01 and 19,800 on 02-29 (mark 99); its TWR over 01-02..02-29 is -1.00 %.
"""

from __future__ import annotations

from decimal import Decimal as D

from beanflex.engine.reconcile import REASONS, reconcile_book
from ledger_text import load
from test_returns_examples import DESIGN_10


def nav(date: str, total: str, **extra: str) -> str:
    more = "".join(f"\n  {k}: {v}" for k, v in extra.items())
    return f'''{date} custom "ibkr-summary" "EquitySummaryInBase" "U1/{date}"
  account: "U1"
  total: {total}{more}
  flex_src: "raw/U1/2024/nav.xml:9"
'''


def change(start: str, end: str, twr: str) -> str:
    return f'''{end} custom "ibkr-summary" "ChangeInNAV" "U1/{start}..{end}"
  account: "U1"
  statement_from: {start}
  statement_to: {end}
  twr: {twr}
  flex_src: "raw/U1/2024/nav.xml:12"
'''


def checks(text: str) -> dict:
    *_, book = load(DESIGN_10 + text)
    found = reconcile_book(book)
    return {(d.date.isoformat(), d.field): d for d in found.summaries if d.field.startswith("nav.")}


def test_nav_and_twr_agree():
    found = checks(nav("2024-01-31", "11000") + nav("2024-02-29", "19800") + change("2024-01-02", "2024-02-29",
                                                                                    "-1.00"))
    assert found[("2024-01-31", "nav.total")].diff == 0
    assert found[("2024-02-29", "nav.total")].ours == D(19800)
    twr = found[("2024-02-29", "nav.twr")]
    assert (twr.ours, twr.ibkr, twr.currency) == (D("-1.00"), D("-1.00"), "%")  # 1.10 x 0.90 - 1, in percent


def test_reasons_from_evidence():
    found = checks(
        nav("2023-12-29", "500")  # before the ledger's first day: ours 0
        + nav("2024-01-20", "10500")  # AAPL still at its 01-02 trade price, 18 days old: stale
        + nav("2024-02-29", "19800.40", dividend_accruals="0.40")  # IBKR counts an accrued dividend
        + change("2023-12-01", "2024-02-29", "-0.95"))  # a period starting before the ledger's data
    assert found[("2023-12-29", "nav.total")].reason == "missing_history"
    stale = found[("2024-01-20", "nav.total")]
    assert (stale.ours, stale.reason) == (D(10000), "nav_price_gap")
    accrued = found[("2024-02-29", "nav.total")]
    assert (accrued.diff, accrued.reason) == (D("-0.40"), "nav_accruals")
    assert found[("2024-02-29", "nav.twr")].reason == "missing_history"
    assert {"nav_accruals", "nav_price_gap"} <= set(REASONS)
