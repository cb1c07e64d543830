"""Prices, position and cash checks, opening cash and performance summaries: a hand-written statement with a golden
ledger (tests/fixtures/cash/rates_positions.xml), the real Beancount loader, and every public sample."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data

from beanflex.importers.flex import adapter, checks, prices
from beanflex.importers.flex.context import MapContext
from beanflex.importers.flex.drift import DriftReport
from beanflex.importers.flex.names import CommodityNamer
from cash_golden import CASH_DIR, golden, load_statement, map_all, render
from samples import public_samples

D = Decimal
DEC31, JAN1 = datetime.date(2024, 12, 31), datetime.date(2025, 1, 1)

#: What the trades half writes for these holdings (commodities with their conid, lots at IBKR's cost), so the
#: position checks can pass: AAPL 5 @ 120.1 = 600.5 USD; SAP 3 @ 200 + 2 @ 210 = 1020 EUR; 2 short calls at
#: 3.1 x 100 = 310 USD each (IBKR: cost -620, unrealized -2 x 1.25 x 100 + 620 = 370).
OPENING_LOTS = """
2024-12-01 commodity AAPL
  conid: "265598"
2024-12-01 commodity SAP
  conid: "14204"
2024-12-01 commodity AAPL-250117C200
  conid: "700000001"
  multiplier: 100

2024-12-01 * "opening lots, as the trades half writes them"
  Assets:IBKR:U1234567:Positions   5 AAPL {120.1 USD}
  Assets:IBKR:U1234567:Positions   3 SAP {200 EUR}
  Assets:IBKR:U1234567:Positions   2 SAP {210 EUR}
  Assets:IBKR:U1234567:Positions  -2 AAPL-250117C200 {310 USD}
  Equity:IBKR:U1234567:Opening
"""


def _mapped():
    statement, ctx = load_statement(CASH_DIR / "rates_positions.xml")
    entries = map_all(statement, ctx)
    return statement, ctx, entries


def test_golden():
    _, ctx, entries = _mapped()
    text = render(entries, ctx)
    assert text == golden("rates_positions.xml", text)


RECONCILE = 'plugin "beanflex.plugins.reconcile"\n'


def test_loads_without_errors_when_the_ledger_holds_what_ibkr_reports():
    """Positions and cash agree. The one diff left is IBKR's FIFO summary: its realized 347 comes from a sale in
    the statement's Trades, which this ledger of prices and checks alone does not hold (ours 0)."""
    _, ctx, entries = _mapped()
    _, errors, _ = loader.load_string(RECONCILE + render(entries, ctx, OPENING_LOTS))
    assert [e.message.split(";")[0] for e in errors] == [
        "summary.total_realized_pnl differs for AAPL (conid 265598) on 2024-12-31: ours 0 != IBKR 347 (-347 USD)"]


def test_a_position_mismatch_is_a_reconciliation_diff_naming_the_raw_row():
    _, ctx, entries = _mapped()
    wrong = OPENING_LOTS.replace("5 AAPL {120.1 USD}", "4 AAPL {120.1 USD}")
    _, core_errors, _ = loader.load_string(render(entries, ctx, wrong))
    assert core_errors == []  # IBKR's figures are records, not assertions: the core ledger loads
    _, errors, _ = loader.load_string(RECONCILE + render(entries, ctx, wrong))
    by_field = {e.message.split(" differs")[0]: e for e in errors if not e.message.startswith("summary.")}
    # 4 held against IBKR's 5; cost 4 x 120.1 = 480.4 against 600.5; unrealized 4 x 150 - 480.4 = 119.6
    # against IBKR's 149.5
    assert set(by_field) == {"Position quantity", "Cost basis", "Unrealized P&L"}
    assert "AAPL (conid 265598) on 2024-12-31: ours 4 != IBKR 5 (-1 USD)" in by_field["Position quantity"].message
    assert "ours 480.4 != IBKR 600.5" in by_field["Cost basis"].message
    assert by_field["Position quantity"].source["flex_src"] == "raw/U1234567/2024/rates_positions.xml:6"


def test_prices_from_marks_closes_and_rates():
    _, ctx, entries = _mapped()
    found = {(p.date, p.currency, p.amount.currency): (p.amount.number, p.meta["source"])
             for p in entries if isinstance(p, data.Price)}
    assert found == {
        # markPrice 150 wins over the same day's closePrice 150.2; the 12-30 close 148.5 stays.
        (DEC31, "AAPL", "USD"): (D("150"), "OpenPositions.markPrice"),
        (datetime.date(2024, 12, 30), "AAPL", "USD"): (D("148.5"), "Trade.closePrice"),
        (DEC31, "SAP", "EUR"): (D("236.30"), "OpenPositions.markPrice"),
        # an option's unit is one contract: 1.25 x 100 = 125.00 USD
        (DEC31, "AAPL-250117C200", "USD"): (D("125.00"), "OpenPositions.markPrice"),
        (datetime.date(2024, 12, 30), "EUR", "USD"): (D("1.0428"), "ConversionRates"),
        (DEC31, "EUR", "USD"): (D("1.0389"), "ConversionRates"),  # the SAP rows' fxRateToBase is not repeated
    }  # no EUR.USD close price (an FX trade is no instrument), no USD in USD, no HKD at -1
    [item] = ctx.drift.items
    assert (item.section, item.first_line) == ("ConversionRates", 21) and "rate=-1" in item.name


def test_fx_rate_to_base_fills_a_day_whose_conversion_rate_is_minus_one(tmp_path):
    text = (CASH_DIR / "rates_positions.xml").read_text().replace(
        'fromCurrency="EUR" toCurrency="USD" rate="1.0389"', 'fromCurrency="EUR" toCurrency="USD" rate="-1"')
    path = tmp_path / "minus_one.xml"
    path.write_text(text)
    statement, ctx = load_statement(path)
    eur = [p for p in prices.map_prices(statement, ctx) if p.currency == "EUR" and p.date == DEC31]
    assert [(p.amount.number, p.meta["source"]) for p in eur] == [(D("1.0389"), "fxRateToBase")]


def test_position_checks_use_summary_or_lots_never_both():
    _, _, entries = _mapped()
    positions = {c.values[0].value: c.meta for c in entries if isinstance(c, data.Custom) and c.type == "ibkr-position"}
    assert {c: meta["position"] for c, meta in positions.items()} == {
        "AAPL": D("5"),               # SUMMARY 5, its LOT twin 5 not added (would say 10)
        "SAP": D("5"),                # LOT rows only: 3 + 2
        "AAPL-250117C200": D("-2"),   # contracts, short
    }
    assert positions["SAP"]["cost_basis_money"] == D("1020")           # 600 + 420
    assert positions["SAP"]["fifo_pnl_unrealized"] == D("161.5")       # 108.9 + 52.6
    assert "cost_basis_price" not in positions["SAP"]                  # two lots: no single price
    assert positions["AAPL"]["cost_basis_price"] == D("120.1")
    assert positions["AAPL-250117C200"]["side"] == "Short"
    assert positions["AAPL-250117C200"]["multiplier"] == D("100")


def test_summaries_keep_every_figure_in_snake_case():
    _, _, entries = _mapped()
    [summary] = [c for c in entries if isinstance(c, data.Custom) and c.type == "ibkr-summary"]
    assert summary.values[0].value == "FIFOPerformanceSummaryInBase"
    assert summary.meta["conid"] == "265598"  # an identifier stays text
    assert (summary.meta["realized_st_profit"], summary.meta["total_fifo_pnl"]) == (D("347"), D("496.5"))
    assert checks.snake_case("realizedSTProfit") == "realized_st_profit"


def test_opening_cash_is_one_transaction_per_currency():
    statement, ctx = load_statement(CASH_DIR / "interest_fees_transfers.xml")
    [eur] = checks.opening_cash(statement, ctx)  # USD startingCash is 0: nothing to open
    assert eur.meta["flex_id"] == "U7654321/opening/cash/EUR"
    assert eur.date == datetime.date(2024, 1, 1)
    assert [(p.account, p.units.number) for p in eur.postings] == [
        ("Assets:IBKR:U7654321:Cash", D("50.00")), ("Equity:IBKR:U7654321:Opening", D("-50.00"))]


#: Per public sample (per statement): directives written (price, ibkr-position for a listed position, ibkr-position
#: 0 for an instrument traded but not listed, ibkr-cash, opening cash, ibkr-summary). eTax: 2 listed + 41 flat,
#: optfut 11 + 11, fxmix 0 + 3.
EXPECTED = {
    "ib-flex-reader__kmi.xml": [(3, 0, 0, 0, 0, 0)],
    "opensteuerauszug__eTax_report_anonymised_2025.xml": [(183, 2, 41, 3, 2, 0)],
    "opensteuerauszug__minimal_short_options_repro_2025.xml": [(13, 3, 0, 1, 1, 0)],
    "opensteuerauszug__options_future_2025.xml": [(43, 11, 11, 0, 0, 0)],
    "opensteuerauszug__vtandchill_2025.xml": [(11, 1, 0, 2, 2, 0)],
    "portfolio__testIBFlexStatementFile01.xml": [(5, 0, 0, 0, 0, 0)],
    "portfolio__testIBFlexStatementFile02.xml": [(14, 0, 0, 0, 0, 0)],
    "portfolio__testIBFlexStatementFile09.xml": [(1, 0, 0, 0, 0, 0)],
    "portfolio__testIBFlexStatementFile14.xml": [(726, 0, 0, 2, 2, 0)],
    "portfolio__testIBFlexStatementFile20.xml": [(5, 0, 0, 4, 4, 0)],
    "portfolio__testIBFlexStatementFile21.xml": [(4, 0, 0, 3, 1, 0)],
    "portfolio__testIBFlexStatementFile26.xml": [(2, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0)],
    "portfolio__testIBFlexStatementFile28.xml": [(1, 0, 0, 0, 0, 0)],
    "portfolio__testIBFlexStatementFile29.xml": [(4, 0, 0, 0, 0, 0), (3, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0)],
    "uabean__beancount.xml": [(5, 0, 0, 1, 0, 0)],
    "beancount_reds_importers__dividend+tax.xml": [(0, 1, 0, 2, 2, 0)],
    "alens-importers__forex-mix.xml": [(0, 0, 3, 0, 0, 0)],
    "ibkr-flexquery-client-lib__report.xml": [(0, 0, 0, 0, 0, 2), (0, 0, 0, 0, 0, 12)],
}


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_public_samples_map_without_crash_and_parse(path):
    document = adapter.parse(path.read_bytes(), path.name)
    counts = []
    for statement in document.statements:
        ctx = MapContext(statement, f"raw/{path.name}", CommodityNamer(), DriftReport())
        entries = map_all(statement, ctx)
        kinds = (
            sum(isinstance(e, data.Price) for e in entries),
            sum(isinstance(e, data.Custom) and e.type == "ibkr-position" and e.meta["position"] != 0 for e in entries),
            sum(isinstance(e, data.Custom) and e.type == "ibkr-position" and e.meta["position"] == 0 for e in entries),
            sum(isinstance(e, data.Custom) and e.type == "ibkr-cash" for e in entries),
            sum(isinstance(e, data.Transaction) and e.meta["event"] == "opening" for e in entries),
            sum(isinstance(e, data.Custom) and e.type == "ibkr-summary" for e in entries),
        )
        counts.append(kinds)
        # Even without the trades half the directives load cleanly: IBKR's figures are records, not assertions.
        _, errors, _ = loader.load_string(render(entries, ctx))
        assert errors == []
    assert counts == EXPECTED.get(path.name, [(0, 0, 0, 0, 0, 0)] * len(document.statements))


def test_an_instrument_traded_but_not_listed_must_be_flat(tmp_path):
    """OpenPositions is in the query and does not list MSFT, which traded this month: IBKR says none are held, so
    the ledger must hold 0 MSFT; a lot the ledger failed to close shows up as a quantity diff."""
    text = (CASH_DIR / "rates_positions.xml").read_text().replace("</Trades>", (
        '<Trade accountId="U1234567" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="MSFT" '
        'conid="272093" multiplier="1" dateTime="20241210;100000" quantity="-3" tradePrice="440" '
        'closePrice="441" transactionID="T12" levelOfDetail="EXECUTION" />\n</Trades>'))
    path = tmp_path / "sold_out.xml"
    path.write_text(text)
    statement, ctx = load_statement(path)
    entries = checks.map_position_checks(statement, ctx)
    [flat] = [c for c in entries if isinstance(c, data.Custom) and c.values[0].value == "MSFT"]
    assert (flat.type, flat.date, flat.meta["position"], flat.meta["source"]) == (
        "ibkr-position", DEC31, D("0"), "OpenPositions (not listed)")
    held_3 = OPENING_LOTS.replace("  Equity:", "  Assets:IBKR:U1234567:Positions   3 MSFT {400 USD}\n  Equity:")
    held_3 = '2024-12-01 commodity MSFT\n  conid: "272093"\n' + held_3
    _, errors, _ = loader.load_string(RECONCILE + render(map_all(statement, ctx), ctx, held_3))
    [error] = [e for e in errors if "MSFT" in e.message]
    assert error.message.startswith("Position quantity differs for MSFT (conid 272093) on 2024-12-31: ours 3 != IBKR 0")


SUMMARY_ROWS = b"""<FlexQueryResponse queryName="q" type="AF"><FlexStatements count="1">
<FlexStatement accountId="U555" fromDate="20220103" toDate="20220221" period="YearToDate" whenGenerated="20220222;212323">
<FIFOPerformanceSummaryInBase>
<FIFOPerformanceSummaryUnderlying accountId="U5556666" assetCategory="STK" symbol="AAPL" conid="265598" reportDate="20220221" realizedSTProfit="10" totalRealizedPnl="10" />
<FIFOPerformanceSummaryUnderlying accountId="U5556666" assetCategory="STK" symbol="MSFT" conid="272093" reportDate="20220221" realizedSTProfit="0" totalRealizedPnl="0" />
<FIFOPerformanceSummaryUnderlying accountId="U5556677" assetCategory="STK" symbol="AAPL" conid="265598" reportDate="20220221" realizedSTProfit="0" totalRealizedPnl="0" />
<FIFOPerformanceSummaryUnderlying accountId="U5556666" assetCategory="" symbol="" conid="" description="Total (All Assets)" reportDate="20220221" realizedSTProfit="10" totalRealizedPnl="10" />
</FIFOPerformanceSummaryInBase></FlexStatement></FlexStatements></FlexQueryResponse>
"""


def test_summary_and_position_records_are_told_apart_by_their_text():
    """Custom records have no flex_id and the writer de-duplicates them by their text without metadata, so the text
    itself must tell rows apart: summary rows share a day (the fifosum sample has 12 on 2022-02-21), the same conid
    appears under two accounts, and the total row has no symbol; two accounts may hold the same commodity."""
    from beanflex.importers.flex.writer import dedup_key

    statement = adapter.parse(SUMMARY_ROWS, "summaries.xml").statements[0]
    ctx = MapContext(statement, "raw/summaries.xml", CommodityNamer(), DriftReport())
    summaries = checks.map_summaries(statement, ctx)
    assert len({dedup_key(c) for c in summaries}) == len(summaries) == 4
    assert [v.value for v in summaries[0].values] == ["FIFOPerformanceSummaryInBase", "U5556666/265598"]
    _, _, entries = _mapped()
    [aapl] = [c for c in entries if isinstance(c, data.Custom) and c.values[0].value == "AAPL"]
    assert [v.value for v in aapl.values] == ["AAPL", "U1234567"]


def test_unit_price_per_contract_and_per_bond_face_unit():
    from beanflex.importers.flex.adapter import FlexRecord

    def row(**attrs):
        return FlexRecord("OpenPositions", "OpenPosition", "U1", 1, attrs)

    assert prices.unit_price(row(assetCategory="OPT", multiplier="100"), D("1.25")) == (D("125.00"), D("100"))
    assert prices.unit_price(row(assetCategory="STK", multiplier="1"), D("150")) == (D("150"), D("1"))
    assert prices.unit_price(row(assetCategory="STK"), D("150")) == (D("150"), D("1"))
    # a bond marked 99.5 (percent of face): one face unit is worth 0.995
    assert prices.unit_price(row(assetCategory="BOND", multiplier="1"), D("99.5")) == (D("0.995"), D("0.01"))
