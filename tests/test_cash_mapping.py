"""CashTransactions -> transactions: hand-written statements in tests/fixtures/cash with golden ledgers, loaded with
the real Beancount loader, plus every public sample (no crash, counts recorded)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data

from beanflex.importers.flex import adapter, cash
from beanflex.importers.flex.context import ImportConfig, MapContext
from beanflex.importers.flex.drift import DriftReport
from beanflex.importers.flex.names import CommodityNamer
from cash_golden import CASH_DIR, golden, load_statement, map_all, render
from samples import public_samples

D = Decimal


def _ledger(name: str):
    statement, ctx = load_statement(CASH_DIR / name)
    entries = map_all(statement, ctx)
    text = render(entries, ctx)
    return statement, ctx, entries, text


def _txns(entries):
    return [e for e in entries if isinstance(e, data.Transaction) and e.meta["event"] != "opening"]


def _cash_total(entries, account, currency):
    return sum((p.units.number for e in entries if isinstance(e, data.Transaction) for p in e.postings
                if p.account == account and p.units.currency == currency), D(0))


@pytest.mark.parametrize("name", ["dividend.xml", "withholding_reversal.xml", "interest_fees_transfers.xml",
                                  "unknown_type.xml", "gbx_dividend.xml", "wrong_ending_cash.xml"])
def test_golden(name):
    _, _, _, text = _ledger(name)
    assert text == golden(name, text)


@pytest.mark.parametrize("name", ["dividend.xml", "withholding_reversal.xml", "interest_fees_transfers.xml",
                                  "unknown_type.xml", "gbx_dividend.xml"])
def test_consistent_statements_load_without_errors(name):
    _, _, _, text = _ledger(name)
    _, errors, _ = loader.load_string(text)
    assert errors == []


def test_dividend_and_withholding_linked_and_summary_twins_counted_once():
    statement, ctx, entries, _ = _ledger("dividend.xml")
    rows, skipped = cash.select_cash_rows(statement)
    assert (len(rows), len(skipped)) == (4, 4)  # 4 DETAIL rows booked, their 4 SUMMARY twins (accountId="-") not
    txns = _txns(entries)
    assert [t.meta["event"] for t in txns] == ["dividend", "withholding", "dividend", "withholding"]
    # DESIGN §4: dividend 1.20, withholding 0.18, both under actionID 777 -> one link, net 1.20 - 0.18 = 1.02.
    aapl = [t for t in txns if t.links == {"div-U1234567-777"}]
    assert len(aapl) == 2
    assert sum(t.meta["amount"] for t in aapl) == D("1.02")
    assert _cash_total(aapl, "Expenses:IBKR:U1234567:WithholdingTax", "USD") == D("0.18")
    # No actionID on the MSFT payment in lieu: paired by conid + date.
    assert {frozenset(t.links) for t in txns[2:]} == {frozenset({"div-U1234567-272093-2024-06-13"})}
    # Ending cash 100.00 + 1.20 - 0.18 + 0.50 - 0.15 = 101.37, as the CashReport says (twins would give 102.74).
    assert _cash_total(entries, "Assets:IBKR:U1234567:Cash", "USD") == D("101.37")
    assert not ctx.drift  # SUMMARY totals equal DETAIL totals per (type, currency)


def test_summary_total_that_differs_from_detail_is_drift_not_booked(tmp_path):
    text = (CASH_DIR / "dividend.xml").read_text().replace(
        'amount="0.50" type="Payment In Lieu Of Dividends" transactionID=""',
        'amount="0.70" type="Payment In Lieu Of Dividends" transactionID=""')
    path = tmp_path / "dividend_summary_differs.xml"
    path.write_text(text)
    statement, ctx = load_statement(path)
    entries = cash.map_cash_transactions(statement, ctx)
    assert len(entries) == 4
    [item] = ctx.drift.items
    assert item.kind == "unmapped_row" and "total 0.70 but DETAIL rows 0.50" in item.name


def test_withholding_reversal_and_recharge_are_their_own_linked_transactions():
    _, _, entries, _ = _ledger("withholding_reversal.xml")
    txns = _txns(entries)
    action = [t for t in txns if t.links == {"div-U1110000-A2025"}]
    # charge -0.08, reversal +0.08, re-charge -0.078: three withholding transactions, none dropped or netted.
    assert [t.meta["amount"] for t in action] == [D("0.52"), D("-0.08"), D("0.08"), D("-0.078")]
    assert _cash_total(action, "Expenses:IBKR:U1110000:WithholdingTax", "USD") == D("0.078")  # 0.08 - 0.08 + 0.078
    # The reversal of a 2024 charge, reported 2025-01-20 in this 2025 statement, is booked when it was reported.
    late = next(t for t in txns if t.links == {"div-U1110000-A2024"})
    assert late.date == datetime.date(2025, 1, 20)
    assert late.meta["date_time"] == "2024-11-15;20:20:00"
    # 10.00 + 0.08 + 0.52 - 0.08 + 0.08 - 0.078 = 10.522 = CashReport endingCash.
    assert _cash_total(entries, "Assets:IBKR:U1110000:Cash", "USD") == D("10.522")


def test_interest_fees_and_transfers_go_to_their_accounts():
    _, ctx, entries, _ = _ledger("interest_fees_transfers.xml")
    by_id = {t.meta["flex_id"].rsplit("/", 1)[1]: t for t in _txns(entries)}
    counter = {key: t.postings[1].account.rsplit(":", 1)[1] for key, t in by_id.items()}
    assert counter == {"101": "Transfers", "102": "Transfers",  # both spellings of Deposits/Withdrawals
                       "103": "Interest", "104": "Interest", "109": "Interest", "110": "Interest",
                       "105": "Fees", "106": "Fees", "107": "Fees", "108": "Fees"}
    assert by_id["103"].postings[1].account.startswith("Income:")
    assert by_id["104"].postings[1].account.startswith("Expenses:")
    assert by_id["106"].postings[1].units.number == D("-10.00")  # the refund is a negative fee
    assert {t.meta["event"] for t in by_id.values()} == {"transfer", "interest", "fee"}
    # USD: 5000 - 1000 + 3.21 - 10.00 + 10.00 - 5.00 - 1.01 - 12.00 + 37.00 = 4022.20; EUR: 50.00 - 12.34 = 37.66.
    assert _cash_total(entries, ctx.accounts.cash, "USD") == D("4022.20")
    assert _cash_total(entries, ctx.accounts.cash, "EUR") == D("37.66")


def test_transfers_counter_account_is_configurable():
    path = CASH_DIR / "interest_fees_transfers.xml"
    statement = adapter.parse(path.read_bytes(), path.name).statements[0]
    ctx = MapContext(statement, "raw/x.xml", CommodityNamer(), DriftReport(),
                     ImportConfig(transfers_account="Assets:Bank:Checking"))
    transfers = [t for t in cash.map_cash_transactions(statement, ctx) if t.meta["event"] == "transfer"]
    assert [t.postings[1].account for t in transfers] == ["Assets:Bank:Checking"] * 2


def test_unknown_type_is_unclassified_and_drift():
    _, ctx, entries, _ = _ledger("unknown_type.xml")
    [txn] = _txns(entries)
    assert txn.meta["event"] == "unclassified"
    assert txn.postings[1].account == "Income:IBKR:U7654321:Unclassified"
    [item] = ctx.drift.items
    assert (item.kind, item.section, item.first_line) == ("unknown_value", "CashTransactions", 9)
    assert "Securities Lending Income" in item.name


def test_gbx_dividend_keeps_pence_and_its_rate():
    _, _, entries, _ = _ledger("gbx_dividend.xml")
    gbx = next(t for t in _txns(entries) if t.meta["currency"] == "GBX")
    assert gbx.postings[0].units.number == D("138.00") and gbx.meta["fx_rate_to_base"] == D("0.01")
    assert gbx.date == datetime.date(2025, 3, 26)  # no dateTime in this export: reportDate
    prices = {(p.currency, p.amount.currency): (p.amount.number, p.meta["source"])
              for p in entries if isinstance(p, data.Price)}
    # 138.00 GBX x 0.01 = 1.38 GBP; the USD row's fxRateToBase 0.77654 loses to the ConversionRate 0.7722.
    assert prices == {("GBX", "GBP"): (D("0.01"), "fxRateToBase"), ("USD", "GBP"): (D("0.7722"), "ConversionRates")}


def test_wrong_ending_cash_is_shown_as_a_reconciliation_diff_naming_the_raw_row():
    """The core ledger loads; the reconcile plugin shows the mismatch with IBKR's row, never adjusts it."""
    _, _, _, text = _ledger("wrong_ending_cash.xml")
    _, core_errors, _ = loader.load_string(text)
    assert core_errors == []
    _, errors, _ = loader.load_string('plugin "beanflex.plugins.reconcile"\n' + text)
    [error] = errors
    assert type(error).__name__ == "ReconcileError"
    # opening 20.00 + deposit 100 = 120.00 held, IBKR says 150.00: 30.00 too little.
    assert "Ending cash differs for USD in U7654321 on 2024-03-31: ours 120.00 != IBKR 150.00 (-30.00 USD)" \
        in error.message
    # The row gives no figures between starting and ending cash, so IBKR's remainder 150.00 - 20.00 = 130.00 is
    # `other`, and the ledger's deposit of 100 has no IBKR figure to match: the row does not add up by itself.
    assert "differing kinds: deposits_withdrawals ours 100 IBKR 0; other ours 0 IBKR 130.00;" in error.message
    assert "reason: statement_rows_incomplete" in error.message
    assert error.source["flex_src"] == "raw/U7654321/2024/wrong_ending_cash.xml:6"


def test_only_first_statement_gets_opening_cash():
    statement, ctx = load_statement(CASH_DIR / "dividend.xml")
    later = map_all(statement, ctx, first_statement=False)
    assert not any(isinstance(e, data.Transaction) and e.meta["event"] == "opening" for e in later)


#: Per public sample and statement: (cash rows read, rows booked, SUMMARY twins left out, booked unclassified).
EXPECTED_COUNTS = {
    "ib-flex-reader__kmi.xml": [(10, 10, 0, 0)],
    "opensteuerauszug__eTax_report_anonymised_2025.xml": [(119, 60, 59, 0)],
    "opensteuerauszug__minimal_short_options_repro_2025.xml": [(3, 3, 0, 0)],  # SUMMARY rows only: booked
    "opensteuerauszug__options_future_2025.xml": [(52, 52, 0, 0)],
    "opensteuerauszug__vtandchill_2025.xml": [(10, 10, 0, 0)],
    "portfolio__testIBFlexStatementFile01.xml": [(7, 7, 0, 0)],
    "portfolio__testIBFlexStatementFile02.xml": [(4, 4, 0, 0)],
    "portfolio__testIBFlexStatementFile12.xml": [(14, 14, 0, 0)],
    "portfolio__testIBFlexStatementFile14.xml": [(2, 2, 0, 0)],
    "portfolio__testIBFlexStatementFile20.xml": [(2, 2, 0, 0)],
    "portfolio__testIBFlexStatementFile21.xml": [(1, 1, 0, 0)],
    "portfolio__testIBFlexStatementFile24.xml": [(10, 10, 0, 0)],
    "portfolio__testIBFlexStatementFile26.xml": [(1, 1, 0, 0), (2, 2, 0, 0)],
    "portfolio__testIBFlexStatementFile29.xml": [(2, 2, 0, 0), (2, 2, 0, 0), (1, 1, 0, 0)],
    "uabean__beancount.xml": [(5, 5, 0, 0)],
    "beancount_reds_importers__dividend+tax.xml": [(8, 8, 0, 0)],
}


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_public_samples_map_without_crash(path):
    document = adapter.parse(path.read_bytes(), path.name)
    counts = []
    for statement in document.statements:
        ctx = MapContext(statement, f"raw/{path.name}", CommodityNamer(), DriftReport())
        entries = cash.map_cash_transactions(statement, ctx)
        rows, skipped = cash.select_cash_rows(statement)
        unclassified = sum(1 for e in entries if e.meta["event"] == "unclassified")
        counts.append((len(rows) + len(skipped), len(entries), len(skipped), unclassified))
        assert ctx.drift.count("unmapped_row") == 0, ctx.drift.lines()
        _, errors, _ = loader.load_string(render(entries, ctx))
        assert errors == []
    expected = EXPECTED_COUNTS.get(path.name, [(0, 0, 0, 0)] * len(document.statements))
    assert counts == expected


#: CashReport columns that add up the CashTransactions of one event kind (per currency).
REPORT_COLUMNS = {"dividend": ("dividends", "paymentInLieu"), "withholding": ("withholdingTax", "withholding871m"),
                  "interest": ("brokerInterest", "bondInterest"), "fee": ("otherFees", "advisorFees"),
                  "transfer": ("depositWithdrawals",)}


@pytest.mark.parametrize("name", ["opensteuerauszug__eTax_report_anonymised_2025.xml",
                                  "opensteuerauszug__minimal_short_options_repro_2025.xml",
                                  "portfolio__testIBFlexStatementFile14.xml"])
def test_booked_rows_add_up_to_ibkrs_cash_report(name):
    """On the untrimmed samples the booked rows reproduce IBKR's own per-currency totals to the last digit, e.g.
    eTax USD: dividends + payments in lieu 1133.15 + 7346.04 = 8479.19, withholding -1271.89, interest 191.86;
    booking the SUMMARY twins too would double each of them."""
    path = next(p for p in public_samples() if p.name == name)
    statement = adapter.parse(path.read_bytes(), path.name).statements[0]
    ctx = MapContext(statement, f"raw/{name}", CommodityNamer(), DriftReport())
    ours: dict[tuple[str, str], Decimal] = {}
    for txn in cash.map_cash_transactions(statement, ctx):
        key = (txn.meta["currency"], txn.meta["event"])
        ours[key] = ours.get(key, D(0)) + txn.meta["amount"]
    compared = 0
    for row in statement.rows("CashReport", "CashReportCurrency"):
        currency = row.text("currency")
        if currency == "BASE_SUMMARY":
            continue
        for event, columns in REPORT_COLUMNS.items():
            reported = sum((row.decimal(c) or D(0) for c in columns), D(0))
            assert ours.get((currency, event), D(0)) == reported, (currency, event)
            compared += 1
    assert compared >= 5


def test_rows_missing_what_a_booking_needs_are_drift_not_crashes(tmp_path):
    path = tmp_path / "holes.xml"
    path.write_text(
        '<FlexQueryResponse queryName="q" type="AF"><FlexStatements count="1">\n'
        '<FlexStatement accountId="U1" fromDate="20240101" toDate="20240131" period="x" whenGenerated="20240201">\n'
        '<CashReport>\n<CashReportCurrency currency="USD" startingCash="" endingCash="" />\n</CashReport>\n'
        '<CashTransactions>\n'
        '<CashTransaction currency="USD" dateTime="20240105" type="Dividends" />\n'
        '<CashTransaction amount="1" dateTime="20240105" type="Dividends" />\n'
        '<CashTransaction currency="USD" amount="1" type="Other Fees" />\n'
        '<CashTransaction currency="USD" amount="2" dateTime="20240106" />\n'
        '</CashTransactions>\n<OpenPositions>\n<OpenPosition symbol="X" />\n</OpenPositions>\n'
        '</FlexStatement></FlexStatements></FlexQueryResponse>\n')
    statement, ctx = load_statement(path)
    entries = map_all(statement, ctx)
    # The only booking: the row with amount, currency and date but no type -> Unclassified.
    [txn] = [e for e in entries if isinstance(e, data.Transaction)]
    assert txn.meta["event"] == "unclassified" and txn.postings[0].units.number == D("2")
    reasons = sorted(item.name for item in ctx.drift.items)
    assert reasons == sorted([
        "no amount; the row cannot be booked", "no currency; the row cannot be booked",
        "no dateTime/reportDate; the row cannot be booked", "type=None (booked to Income:IBKR:U1:Unclassified)",
        "no endingCash or toDate; no cash check written",
        "no instrument, report date or position; no position check written"])
