"""DESIGN §4's worked examples and hand-computed cases, through the real loader, book, lot engine and P&L.

Every expected number is worked out in a comment beside it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from beanflex.engine import lots
from beanflex.engine import pnl
from ledger_text import cash, commodity, header, load, position, trade

AAPL = "265598"

DESIGN_AAPL = (
    header() + commodity("AAPL", AAPL)
    # lot T1: (10 x 100 + 1) / 10 = 100.1 per share; lot T2: (10 x 120 + 1) / 10 = 120.1
    + trade("2024-01-02", "T1", "BUY 10 AAPL @ 100", AAPL, [("10", "AAPL", "100.1", "2024-01-02", "T1")],
            "-1001", "-1", line=5)
    + trade("2024-02-01", "T2", "BUY 10 AAPL @ 120", AAPL, [("10", "AAPL", "120.1", "2024-02-01", "T2")],
            "-1201", "-1", line=6)
    # 15 x 130 - 1.5 = 1948.5; IBKR closes T1 and 5 of T2: 1948.5 - (1001 + 600.5) = 347
    + trade("2024-03-01", "T3", "SELL 15 AAPL @ 130", AAPL, [("-10", "AAPL", "100.1", "2024-01-02", "T1"),
                                                          ("-5", "AAPL", "120.1", "2024-02-01", "T2")],
            "1948.5", "-1.5", fifo="347", line=7)
    + cash("2024-05-15", "C1", "AAPL CASH DIVIDEND", AAPL, "dividend", "Income:IBKR:U1:Dividends", "-1.20", line=9)
    + cash("2024-05-15", "C2", "AAPL US TAX", AAPL, "withholding", "Expenses:IBKR:U1:WithholdingTax", "0.18",
           line=10)
    + position("2024-12-31", "AAPL", AAPL, "5", "150", "600.5", "149.5", line=12)
)


def row(text: str, symbol: str, mode: str = "ibkr", method: str = "fifo", **kw) -> pnl.InstrumentPnl:
    *_, book = load(text)
    rows = [r for r in pnl.book_pnl(book, pnl.Options(mode, method, **kw)) if r.instrument.symbol == symbol]
    assert len(rows) == 1
    return rows[0]


def values(r: pnl.InstrumentPnl) -> dict:
    return {name: r.value(name) for name in pnl.LOCAL_FIELDS + pnl.BASE_FIELDS}


@pytest.mark.parametrize("mode,method", [("ibkr", "fifo"), ("economic", "fifo")])
def test_design_example_fifo(mode, method):
    r = row(DESIGN_AAPL, "AAPL", mode, method)
    v = values(r)
    assert v["realized"] == D("347.00")
    assert v["quantity"] == 5  # 20 - 15
    assert r.average_cost == D("120.10")  # 600.50 / 5
    assert v["cost_basis"] == D("600.50")  # 5 left of lot T2 at 120.1
    assert (r.mark.price, r.mark.date, r.mark.source) == (D(150), datetime.date(2024, 12, 31), "ibkr-position")
    assert v["market_value"] == D("750")  # 5 x 150
    assert v["unrealized"] == D("149.50")  # 750 - 600.50
    assert v["commissions"] == D("3.50")  # 1 + 1 + 1.5
    assert (v["dividends"], v["withholding"], v["fees"]) == (D("1.20"), D("0.18"), 0)
    assert v["total"] == D("497.52")  # 347 + 149.50 + 1.20 - 0.18
    # USD stock in a USD account: base = local, no FX part
    assert (v["base.realized"], v["base.unrealized"], v["base.fx"], v["base.total"]) == (
        D("347"), D("149.5"), 0, D("497.52"))


def test_design_example_average():
    r = row(DESIGN_AAPL, "AAPL", "economic", "average")
    v = values(r)
    # pool: 20 shares, basis 1001 + 1201 = 2202 (110.10 each); 15 sold: 1948.5 - 15 x 110.1 = 1948.5 - 1651.5
    assert v["realized"] == D("297.00")
    assert r.average_cost == D("110.10")
    assert v["cost_basis"] == D("550.50")  # 5 x 110.1
    assert v["unrealized"] == D("199.50")  # 750 - 550.50
    assert v["commissions"] == D("3.50")
    assert v["total"] == D("497.52")  # 297 + 199.50 + 1.20 - 0.18: the same economic total


EUR_STOCK = (
    header() + commodity("SAP", "14204")
    # buy 10 @ 50 EUR + 1 EUR: lot 10 @ 50.1 EUR, net cash -501 EUR at 1.20 USD/EUR
    + trade("2024-01-02", "E1", "BUY 10 SAP @ 50", "14204", [("10", "SAP", "50.1", "2024-01-02", "E1")],
            "-501", "-1", rate="1.20", ccy="EUR")
    # sell 10 @ 60 EUR - 1 EUR = 599 EUR at 1.10; realized 599 - 501 = 98 EUR
    + trade("2024-06-03", "E2", "SELL 10 SAP @ 60", "14204", [("-10", "SAP", "50.1", "2024-01-02", "E1")],
            "599", "-1", fifo="98", rate="1.10", ccy="EUR")
)


@pytest.mark.parametrize("mode,method", [("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")])
def test_eur_stock_in_usd_account(mode, method):
    r = row(EUR_STOCK, "SAP", mode, method)
    v = values(r)
    assert r.instrument.currency == "EUR"
    assert v["realized"] == D("98.00")
    assert v["base.realized"] == D("57.70")  # 599 x 1.10 - 501 x 1.20 = 658.90 - 601.20
    assert v["base.fx"] == D("-50.10")  # 57.70 - 98 x 1.10 = 57.70 - 107.80
    assert v["quantity"] == 0 and v["cost_basis"] == 0
    assert v["commissions"] == D("2")  # 1 + 1 EUR


SHORT = (
    header() + commodity("XYZ", "777")
    # sell short 5 @ 130 - 1 = 649 received: lot -5 @ 129.8 (basis -649)
    + trade("2024-02-01", "S1", "SELL 5 XYZ @ 130", "777", [("-5", "XYZ", "129.8", "2024-02-01", "S1")],
            "649", "-1")
    # cover: buy 5 @ 140 + 1 = -701 paid; realized -701 - (-649) = -52
    + trade("2024-03-01", "S2", "BUY 5 XYZ @ 140", "777", [("5", "XYZ", "129.8", "2024-02-01", "S1")],
            "-701", "-1", fifo="-52")
)


@pytest.mark.parametrize("mode,method", [("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")])
def test_short_sale_covered_at_a_loss(mode, method):
    v = values(row(SHORT, "XYZ", mode, method))
    assert v["realized"] == D("-52")
    assert v["commissions"] == D("2")  # 1 + 1
    assert v["quantity"] == 0 and v["total"] == D("-52")


SPLIT = (
    header() + commodity("NVDA", "4815747")
    # 10 @ 100 + 1: lot 10 @ 100.1 (basis 1001)
    + trade("2024-01-02", "N1", "BUY 10 NVDA @ 100", "4815747", [("10", "NVDA", "100.1", "2024-01-02", "N1")],
            "-1001", "-1")
    # 2-for-1: the lot is reduced and re-added with the same label, 20 @ 50.05 (basis still 1001)
    + trade("2024-06-10", "SPLIT1", "NVDA SPLIT 2 FOR 1", "4815747",
            [("-10", "NVDA", "100.1", "2024-01-02", "N1"), ("20", "NVDA", "50.05", "2024-01-02", "N1")],
            "0", event="split")
    # sell 20 @ 60 - 1 = 1199; realized 1199 - 1001 = 198
    + trade("2024-07-01", "N2", "SELL 20 NVDA @ 60", "4815747", [("-20", "NVDA", "50.05", "2024-01-02", "N1")],
            "1199", "-1", fifo="198")
)


@pytest.mark.parametrize("mode,method", [("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")])
def test_two_for_one_split_between_buy_and_sell(mode, method):
    r = row(SPLIT, "NVDA", mode, method)
    assert r.value("realized") == D("198")
    assert r.closings[0].closed[0].units == 20  # the pre-split 10 shares, doubled
    assert r.value("quantity") == 0
    # before the sale: 20 shares at basis 1001 (average cost 50.05)
    before = row(SPLIT, "NVDA", mode, method, end=datetime.date(2024, 6, 30))
    assert (before.value("quantity"), before.value("cost_basis"), before.average_cost) == (20, 1001, D("50.05"))


THREE_LOTS = (
    header() + commodity("MSFT", "272093")
    + trade("2024-01-02", "M1", "BUY 10 MSFT @ 100", "272093", [("10", "MSFT", "100.1", "2024-01-02", "M1")],
            "-1001", "-1")
    + trade("2024-01-03", "M2", "BUY 10 MSFT @ 110", "272093", [("10", "MSFT", "110.1", "2024-01-03", "M2")],
            "-1101", "-1")
    + trade("2024-01-04", "M3", "BUY 10 MSFT @ 120", "272093", [("10", "MSFT", "120.1", "2024-01-04", "M3")],
            "-1201", "-1")
    # sell 15 @ 130 - 1.5 = 1948.5; IBKR (specific lots) closes the middle lot M2 first, then 5 of M1:
    # 1948.5 - (1101 + 500.5) = 347
    + trade("2024-03-01", "M4", "SELL 15 MSFT @ 130", "272093", [("-10", "MSFT", "110.1", "2024-01-03", "M2"),
                                                              ("-5", "MSFT", "100.1", "2024-01-02", "M1")],
            "1948.5", "-1.5", fifo="347")
    + position("2024-12-31", "MSFT", "272093", "15", "150", "1701.5", "548.5")
)


def test_partial_sale_across_three_lots_ibkr_vs_fifo():
    ibkr = row(THREE_LOTS, "MSFT", "ibkr")
    fifo = row(THREE_LOTS, "MSFT", "economic", "fifo")
    average = row(THREE_LOTS, "MSFT", "economic", "average")
    # ibkr: closes M2 (1101) + 5 of M1 (500.5) -> realized 347; left 5 M1 (500.5) + 10 M3 (1201) = 1701.5
    assert ibkr.value("realized") == D("347")
    assert [(lot.label, lot.units) for lot in ibkr.closings[0].closed] == [("U1/trade/M2", 10), ("U1/trade/M1", 5)]
    assert ibkr.value("cost_basis") == D("1701.5")
    assert ibkr.value("unrealized") == D("548.5")  # 15 x 150 - 1701.5 = 2250 - 1701.5
    # fifo: closes M1 (1001) + 5 of M2 (550.5) = 1551.5 -> realized 397; left 550.5 + 1201 = 1751.5
    assert fifo.value("realized") == D("397")
    assert fifo.value("cost_basis") == D("1751.5")
    assert fifo.value("unrealized") == D("498.5")  # 2250 - 1751.5
    # average: 30 for 3303 (110.1 each); 15 closed: 1948.5 - 1651.5 = 297; left 1651.5, unrealized 598.5
    assert (average.value("realized"), average.value("unrealized")) == (D("297"), D("598.5"))
    # the economic total is the same whichever lots are matched: 347 + 548.5 = 397 + 498.5 = 297 + 598.5 = 895.5
    assert {r.value("total") for r in (ibkr, fifo, average)} == {D("895.5")}


OPTIONS = (
    header()
    + commodity("AAPL_C200", "5001", "OPT", 100) + commodity("KO_P50", "5002", "OPT", 100) + commodity("KO", "8894")
    # buy 1 call @ 2.50 x 100 + 0.65 = 250.65: lot 1 @ 250.65 per contract
    + trade("2024-01-05", "O1", "BUY 1 AAPL_C200 @ 2.50", "5001", [("1", "AAPL_C200", "250.65", "2024-01-05", "O1")],
            "-250.65", "-0.65")
    # expires worthless: BookTrade at 0, realized 0 - 250.65 = -250.65
    + trade("2024-03-15", "O2", "AAPL_C200 expired", "5001", [("-1", "AAPL_C200", "250.65", "2024-01-05", "O1")],
            "0", fifo="-250.65", event="expiry")
    # sell 1 put @ 3 x 100 - 0.65 = 299.35 received: lot -1 @ 299.35 (basis -299.35)
    + trade("2024-02-01", "O3", "SELL 1 KO_P50 @ 3", "5002", [("-1", "KO_P50", "299.35", "2024-02-01", "O3")],
            "299.35", "-0.65")
    # assigned: the put closes at 0 (ours: 0 - (-299.35) = +299.35; IBKR folds it into the stock, says 0)
    + trade("2024-03-15", "O4", "KO_P50 assigned", "5002", [("1", "KO_P50", "299.35", "2024-02-01", "O3")],
            "0", fifo="0", event="assignment")
    # and 100 KO are delivered at the 50 strike: basis 5000
    + trade("2024-03-15", "O5", "BUY 100 KO @ 50 (assignment)", "8894", [("100", "KO", "50", "2024-03-15", "O5")],
            "-5000", event="assignment")
    + position("2024-12-31", "KO", "8894", "100", "48", "4700.65", "99.35")
)


def test_option_expiring_worthless():
    for mode, method in (("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")):
        r = row(OPTIONS, "AAPL_C200", mode, method)
        assert r.value("realized") == D("-250.65")  # the whole premium paid, incl. commission
        assert r.value("quantity") == 0 and r.value("commissions") == D("0.65")


def test_option_assigned():
    put = row(OPTIONS, "KO_P50", "ibkr")
    stock = row(OPTIONS, "KO", "ibkr")
    assert put.value("realized") == D("299.35")  # premium kept, booked on the option
    # stock: 100 x 48 - 5000 = -200 unrealized; IBKR shows 4700.65 basis and +99.35 (premium folded in);
    # together the same: 299.35 - 200 = 99.35
    assert (stock.value("cost_basis"), stock.value("unrealized")) == (D("5000"), D("-200"))
    assert put.value("total") + stock.value("total") == D("99.35")
    assert stock.instrument.multiplier == 1 and put.instrument.multiplier == 100


def test_lot_engine_method_table_is_open_for_one_more_method():
    assert set(lots.METHODS) >= {"ibkr", "fifo", "lifo", "average"}
    lifo = row(THREE_LOTS, "MSFT", "economic", "lifo")
    # lifo: closes M3 (1201) + 5 of M2 (550.5) = 1751.5 -> 1948.5 - 1751.5 = 197
    assert lifo.value("realized") == D("197")


def test_date_range_counts_realized_and_income_inside_and_positions_at_the_end():
    # only the dividend and tax fall in May; the sale (March) does not; positions as of 2024-05-31: 5 shares,
    # marked with no price before then -> no mark, flagged
    r = row(DESIGN_AAPL, "AAPL", start=datetime.date(2024, 5, 1), end=datetime.date(2024, 5, 31))
    assert (r.value("realized"), r.value("dividends"), r.value("withholding")) == (0, D("1.20"), D("0.18"))
    assert r.value("quantity") == 5 and r.value("commissions") == 0
    assert r.mark is None and r.value("unrealized") is None and "no_mark" in r.flags


def test_commission_charged_in_the_base_currency_is_reported_in_the_trade_currency():
    text = (header() + commodity("SAP", "14204")
            # 1.20 USD commission on a EUR trade at 1.20 USD/EUR: 1.20 / 1.20 = 1 EUR
            + trade("2024-01-02", "E1", "BUY 10 SAP @ 50", "14204", [("10", "SAP", "50.1", "2024-01-02", "E1")],
                    "-500", "-1.20", rate="1.20", ccy="EUR", extra='  commission_currency: "USD"'))
    assert row(text, "SAP").value("commissions") == D("1")


def test_undeclared_base_currency_is_inferred_and_flagged():
    # no operating_currency: the EUR trades are converted at 1.20 / 1.10, so nothing says EUR is the base;
    # the AAPL rows say fx_rate_to_base 1 in USD -> USD, and every row says the base was assumed
    text = DESIGN_AAPL.replace('option "operating_currency" "USD"\n', "").replace(
        'event: "trade"\n', 'event: "trade"\n  fx_rate_to_base: 1\n', 1)
    r = row(text, "AAPL")
    assert "base_currency_assumed" in r.flags and r.value("base.total") == D("497.52")


FLIP = (
    header() + commodity("TSLA", "76792991")
    # long 10 @ 100 + 1: lot 10 @ 100.1
    + trade("2024-01-02", "F1", "BUY 10 TSLA @ 100", "76792991", [("10", "TSLA", "100.1", "2024-01-02", "F1")],
            "-1001", "-1")
    # C;O: sell 15 @ 110 - 1.5 = 1648.5; closes the 10 (their share 1100 - 1 = 1099, realized 1099 - 1001 = 98)
    # and opens a short 5 at (550 - 0.5) / 5 = 109.9 (basis -549.5): 1648.5 - 1001 - 549.5 = 98
    + trade("2024-02-01", "F2", "SELL 15 TSLA @ 110", "76792991", [("-10", "TSLA", "100.1", "2024-01-02", "F1"),
                                                                ("-5", "TSLA", "109.9", "2024-02-01", "F2")],
            "1648.5", "-1.5", fifo="98")
    # cover 5 @ 100 + 0.5 = -500.5: -500.5 - (-549.5) = 49
    + trade("2024-03-01", "F3", "BUY 5 TSLA @ 100", "76792991", [("5", "TSLA", "109.9", "2024-02-01", "F2")],
            "-500.5", "-0.5", fifo="49")
)


@pytest.mark.parametrize("mode,method", [("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")])
def test_flip_from_long_to_short(mode, method):
    r = row(FLIP, "TSLA", mode, method)
    assert [c.realized for c in r.closings] == [D("98"), D("49")]
    assert r.value("realized") == D("147") and r.value("commissions") == D("3")  # 98 + 49; 1 + 1.5 + 0.5
    between = row(FLIP, "TSLA", mode, method, end=datetime.date(2024, 2, 15))
    assert (between.value("quantity"), between.value("cost_basis")) == (-5, D("-549.5"))


def test_hand_written_trades_without_labels_or_metadata():
    # a manual fix as a user writes it: no flex_id, no net_cash, no lot labels; net cash comes from the Cash
    # postings and a posting without a label opens or closes by its sign. 1299 - 1001 = 298
    text = header() + commodity("AAPL", "265598") + '''
2024-01-02 * "bought by hand"
  Assets:IBKR:U1:Positions  10 AAPL {100.1 USD}
  Assets:IBKR:U1:Cash  -1001 USD
2024-02-01 * "sold by hand"
  Assets:IBKR:U1:Positions  -10 AAPL {}
  Assets:IBKR:U1:Cash  1299 USD
  Income:IBKR:U1:PnL
'''
    for mode, method in (("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")):
        r = row(text, "AAPL", mode, method)
        assert (r.value("realized"), r.value("quantity")) == (D("298"), 0)


def test_an_unknown_unrealized_is_never_counted_as_zero_in_totals():
    from beanflex.reports import reports

    # to 2024-06-30: AAPL still holds 5 shares but has no mark yet (IBKR's is 2024-12-31), SAP is sold
    *_, book = load(DESIGN_AAPL + EUR_STOCK.replace(header(), "", 1))
    report = reports.pnl_report(book, pnl.Options(end=datetime.date(2024, 6, 30)))
    aapl, sap = report["instruments"]
    # AAPL: realized 347 and income are known, unrealized is not, so neither is the total (it used to be
    # 347 + 0 + 1.20 - 0.18 = 348.02, the missing unrealized counted as 0)
    assert (aapl["realized"], aapl["unrealized"], aapl["market_value"], aapl["total"]) == ("347.00", None, None, None)
    assert aapl["base"] == {"currency": "USD", "cost_basis": "600.50", "realized": "347.00", "unrealized": None,
                            "fx": None, "total": None}
    assert "no_mark" in aapl["flags"]
    # totals: cost basis 600.50 + 0, realized 347 + 57.70 = 404.70; unrealized, fx and total are SAP's alone
    # (0, 98 x 1.10 - 57.70 = -50.10, 57.70) and say that AAPL is left out
    assert report["totals"]["base"] == {"currency": "USD", "cost_basis": "600.50", "realized": "404.70",
                                        "unrealized": "0.00", "fx": "-50.10", "total": "57.70"}
    assert [(e["symbol"], e["fields"]) for e in report["totals"]["excluded"]] == [
        ("AAPL", ["unrealized", "fx", "total"])]
    assert report["totals"]["note"].endswith("exclude 1 instrument(s) without a mark (unrealized unknown): AAPL")
