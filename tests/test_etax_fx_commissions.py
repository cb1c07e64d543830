"""Why the eTax sample's two cash checks fail: IBKR took 9 FX commissions in USD that its Trade rows state in CHF.

The eTax statement (U9999999, base CHF, 2025) imports into a ledger whose CashReport checks fail by exactly
USD 21.821296002 too much and CHF 18.867786263 too little. The importer books every Trade row as the row says,
and everything but the commissions agrees with IBKR's own CashReport (to its float noise, < 2E-8). The commissions of 9
currency conversions traded 2025-02-25 .. 2025-05-14 (raw lines 406-412, 354, 355) say `ibCommissionCurrency="CHF"`,
but the CashReport counts them in USD:

    USD  1 × 0.2 bp × 291064.80 (line 406) + 8 × the 2.00 minimum      = 5.821296 + 16 = 21.821296
    CHF  5.198126263 + 1.78932 + 1.8065 + 1.76176 + 1.76182 + 1.62982
         + 1.6181 + 1.6181 + 1.68424                                    = 18.867786263

Their CHF figure is the USD fee times the day's USD rate to CHF, to the last digit (5.821296 × 0.89295 =
5.198126263; 2 × 0.89466 = 1.78932), which no other FX commission is (53 others; 45 of them have a USD rate that
day to compare with): the others were charged in CHF, as stated. The sums alone would also fit other sets of 8
minimum fees (many rows repeat the same CHF figure); this rate signature and the unbroken date run pick these 9.
Nothing else in those rows marks them, so the importer keeps the rows' CHF and the reconciliation shows two
ending-cash diffs whose breakdown differs only in commissions (reason `commission_in_other_currency`;
tests/fixtures/cash/README.md, "Cash and position checks that differ on the public samples").
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from beancount.core import data

from beanflex.importers.flex import adapter
from beanflex.importers.flex.mapper import build_ledger
from beanflex.engine.book import load_book
from beanflex.engine.reconcile import reconcile_book
from samples import sample

D = Decimal
NAME = "opensteuerauszug__eTax_report_anonymised_2025.xml"
#: transactionID -> USD that IBKR's CashReport took for the row's commission (the row says CHF).
CHARGED_IN_USD = {
    "31543870932": D("5.821296"),  # line 406 CHF.USD SELL 260000 -> 291064.80 USD; 0.00002 × 291064.80
    "31568441877": D(2), "31616729506": D(2), "31772153085": D(2), "31907874348": D(2),  # lines 407-410
    "32396481405": D(2), "32495373601": D(2), "32495404254": D(2), "32873249099": D(2),  # 411, 354, 355, 412
}
#: IBKR's CashReport sums carry binary-float noise in the 8th-9th decimal: USD netTradesPurchases
#: -3789998.146802991 for the rows' -3789998.14680298 (1.1E-8), and its own columns add up to endingCash only
#: within 1.1E-8 (USD -0.471480011 vs -0.47148). Far below a cent, and far below the gap explained here.
IBKR_ROUNDING = D("2E-8")


def _statement():
    path = sample(NAME)
    return path, adapter.parse(path.read_bytes(), source=path.name)


def _executions(statement):
    return [r for r in statement.rows("Trades") if r.tag == "Trade" and r.text("levelOfDetail") == "EXECUTION"]


def _report(statement) -> dict[str, adapter.FlexRecord]:
    return {r.text("currency"): r for r in statement.rows("CashReport", "CashReportCurrency")}


def _fx_commission_rows(statement):
    return [r for r in _executions(statement) if r.text("assetCategory") == "CASH" and r.decimal("ibCommission")]


def test_trade_money_is_ibkrs_own_per_currency_totals():
    """Net trades per currency = the Trade rows, e.g. CHF sales 741132.460909150 (CHF proceeds of the FX rows) +
    12318 (CHF.USD quantities bought) = 753450.46090915; CHF purchases -1499378.178273633 are printed
    -1499378.17827363 (8 decimals). Only the commissions differ by more than IBKR's rounding."""
    _, document = _statement()
    statement = document.statements[0]
    moved: dict[str, Decimal] = defaultdict(D)  # currency -> cash the Trade rows move, without commissions
    commissions: dict[str, Decimal] = defaultdict(D)
    for row in _executions(statement):
        commissions[row.text("ibCommissionCurrency")] += row.decimal("ibCommission")
        if row.text("assetCategory") == "CASH":
            base, quote = row.text("symbol").split(".")
            moved[base] += row.decimal("quantity")
            moved[quote] += row.decimal("proceeds")
        else:  # STK/OPT rows here all pay their commission in the trade currency (netCash includes it)
            assert row.text("ibCommissionCurrency") == row.text("currency")
            moved[row.text("currency")] += row.decimal("netCash") - row.decimal("ibCommission")
    for currency, report in _report(statement).items():
        if currency == "BASE_SUMMARY":
            continue
        net_trades = report.decimal("netTradesSales") + report.decimal("netTradesPurchases")
        assert abs(moved[currency] - net_trades) <= IBKR_ROUNDING, currency
    # USD: the rows' -1095.584298428 vs IBKR's -1117.40559443; CHF: -129.089063528 vs -110.22127726.
    report = _report(statement)
    assert commissions["USD"] - report["USD"].decimal("commissions") == D("21.821296002")
    assert commissions["CHF"] - report["CHF"].decimal("commissions") == D("-18.867786268")
    assert commissions["EUR"] == report["EUR"].decimal("commissions") == D("-790.1225")


def test_the_gap_is_nine_fx_commissions_ibkr_took_in_usd():
    _, document = _statement()
    statement = document.statements[0]
    rows = {r.text("transactionID"): r for r in _fx_commission_rows(statement)}
    assert all(rows[tx].text("ibCommissionCurrency") == "CHF" for tx in CHARGED_IN_USD)
    chf = sum((-rows[tx].decimal("ibCommission") for tx in CHARGED_IN_USD), D(0))
    usd = sum(CHARGED_IN_USD.values(), D(0))
    assert (usd, chf) == (D("21.821296"), D("18.867786263"))  # 5.821296 + 8 × 2; 5.198126263 + 13.66966

    # Rows' commissions with these 9 moved to USD are IBKR's per-currency commissions (to its 8 printed decimals):
    # USD -1095.584298428 - 21.821296 = -1117.405594428 (IBKR -1117.40559443);
    # CHF -129.089063528 + 18.867786263 = -110.221277265 (IBKR -110.22127726).
    report = _report(statement)
    by_currency: dict[str, Decimal] = defaultdict(D)
    for row in _executions(statement):
        by_currency[row.text("ibCommissionCurrency")] += row.decimal("ibCommission")
    assert abs(by_currency["USD"] - usd - report["USD"].decimal("commissions")) <= IBKR_ROUNDING
    assert abs(by_currency["CHF"] + chf - report["CHF"].decimal("commissions")) <= IBKR_ROUNDING


def test_only_those_rows_state_a_usd_fee_converted_at_the_days_rate():
    """ibCommission is the USD fee (2.00, IBKR's FX minimum, or 0.2 bp of the USD value) × that day's USD
    fxRateToBase, to IBKR's 9 decimals, on the 9 rows and on no other FX row that has a USD rate that day
    (line 406: 5.821296 × 0.89295 = 5.1981262632 -> 5.198126263; line 405: 2.374885144 ÷ 0.89718 = 2.64705...
    USD, not 0.2 bp of 132268.73541 = 2.64537...; line 413: 1.63414 ÷ 0.82405 = 1.98305... USD, not 2)."""
    _, document = _statement()
    statement = document.statements[0]
    usd_rate: dict[str, Decimal] = {}
    for row in _executions(statement):
        if row.text("currency") == "USD":
            usd_rate.setdefault(row.text("dateTime")[:10], row.decimal("fxRateToBase"))
    exact = set()
    for row in _fx_commission_rows(statement):
        rate = usd_rate.get(row.text("dateTime")[:10])
        if rate is None:  # 8 USD.CHF rows, June to November (lines 357-387): no USD trade that day
            continue
        base, quote = row.text("symbol").split(".")
        usd_value = abs(row.decimal("quantity")) if base == "USD" else abs(row.decimal("proceeds")) \
            if quote == "USD" else None
        fees = [D(2)] + ([usd_value * D("0.00002")] if usd_value is not None else [])
        if any((fee * rate).quantize(D("1E-9")) == -row.decimal("ibCommission") for fee in fees):
            exact.add(row.text("transactionID"))
    assert exact == set(CHARGED_IN_USD)


def test_the_ledger_is_off_by_exactly_those_commissions():
    """The ledger's cash against the CashReport's endingCash (`custom "ibkr-cash"`): CHF
    13519.472623975 + 18.867786263 = 13538.340410238 exactly; USD 21.349816002 - 21.821296 = -0.471479998 vs
    IBKR's -0.47148 (IBKR's own columns add up to -0.471480011: its rounding, not ours)."""
    path, document = _statement()
    result = build_ledger([(f"raw/U9999999/2025/{path.name}", document)])
    entries = [e for directives in result.files.values() for e in directives]
    cash = {}
    moved = defaultdict(D)  # CHF commission postings of the 9 rows, as booked
    for entry in entries:
        if isinstance(entry, data.Transaction):
            tx = entry.meta.get("flex_id", "").rsplit("/", 1)[-1]
            for posting in entry.postings:
                if posting.account.endswith(":Cash"):
                    cash[posting.units.currency] = cash.get(posting.units.currency, D(0)) + posting.units.number
                if tx in CHARGED_IN_USD and posting.account.endswith(":Commissions"):
                    moved[posting.units.currency] += posting.units.number
    checks = {e.values[0].value: e.meta["ending_cash"] for e in entries
              if isinstance(e, data.Custom) and e.type == "ibkr-cash"}
    assert dict(moved) == {"CHF": D("18.867786263")}
    assert cash["USD"] - checks["USD"] == D("21.821296002")  # the 2 reconciliation diffs
    assert checks["CHF"] - cash["CHF"] == D("18.867786263")
    assert cash["CHF"] + moved["CHF"] == checks["CHF"]
    assert abs(cash["USD"] - sum(CHARGED_IN_USD.values(), D(0)) - checks["USD"]) <= IBKR_ROUNDING
    assert cash["EUR"] == checks["EUR"] == 0


def test_the_reconciliation_names_the_commissions_as_the_cause():
    """What `beanflex check` shows: two ending-cash diffs whose breakdown differs only in commissions, with
    opposite signs in CHF and USD (reason commission_in_other_currency). CHF: IBKR -110.22127726, the ledger
    -110.22127726 - 18.867786263 = -129.089063523 (to IBKR's float noise); USD: IBKR -1117.40559443, the ledger
    -1117.40559443 + 21.821296 = -1095.58429843."""
    path, document = _statement()
    result = build_ledger([(f"raw/U9999999/2025/{path.name}", document)])
    entries = [e for directives in result.files.values() for e in directives]
    found = reconcile_book(load_book(entries, {"operating_currency": ["CHF"]}))
    diffs = {d.currency: d for d in found.beyond(found.cash_checks)}
    assert sorted(diffs) == ["CHF", "USD"]
    assert {d.reason for d in diffs.values()} == {"commission_in_other_currency"}
    kinds = {(d.currency, d.field): d for d in found.beyond([d for d in found.cash if d.field != "cash"])}
    assert sorted(kinds) == [("CHF", "cash.commissions"), ("USD", "cash.commissions")]
    assert abs(kinds[("CHF", "cash.commissions")].diff + D("18.867786263")) <= IBKR_ROUNDING
    assert abs(kinds[("USD", "cash.commissions")].diff - D("21.821296")) <= IBKR_ROUNDING
