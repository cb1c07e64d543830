"""IBKR's `MTMPerformanceSummaryInBase` rows against the ledger (plugins/reconcile_mtm.py).

tests/fixtures/mtm holds two one-day statements of account U7000001 (base USD), imported with the real
`beanflex import` and reconciled with `reconcile_book`:

- day1.xml (2024-03-04): BUY 100 ACME @ 50 (commission 1, close 51); BUY 10 SAPX @ 200 EUR (commission 2 EUR,
  close 202, 1.10 USD/EUR); ZETA 50 held from before the statement (mark 11; IBKR's previous close 10).
  IBKR's rows: ACME transaction 100 × (51 − 50) = 100, commissions −1, total 99; SAPX transaction
  10 × (202 − 200) × 1.10 = 22.00, commissions −2 × 1.10 = −2.20, total 19.80; ZETA prior open 50 × (11 − 10)
  = 50; Total (All Assets) transaction 122, prior open 50, commissions −3.20, total 168.80.
- day2.xml (2024-03-05): ACME SELL 40 @ 53 and BUY 20 @ 52 (commission 1 each, close 52.50); SAPX SELL 4 @ 205
  (commission 2 EUR, close 204, 1.12 USD/EUR); ZETA close 12. IBKR's rows: ACME transaction −40 × (52.5 − 53) +
  20 × (52.5 − 52) = 20 + 10 = 30, prior open 100 × (52.5 − 51) = 150, commissions −2, total 178; SAPX
  transaction −4 × (204 − 205) × 1.12 = 4.48, prior open 10 × (204 − 202) × 1.12 = 22.40, commissions −2.24,
  total 24.64; ZETA prior open 50 × (12 − 11) = 50; Total transaction 30 + 4.48 = 34.48, prior open
  150 + 22.40 + 50 = 222.40, commissions −4.24, total 178 + 24.64 + 50 = 252.64.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal as D
from pathlib import Path

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine.book import load_book
from beanflex.engine.reconcile import reconcile_book
from beanflex.engine.reconcile_mtm import REASONS_MTM
from ledger_text import commodity, header, load, trade

FIXTURES = Path(__file__).parent / "fixtures" / "mtm"
DAY1, DAY2 = datetime.date(2024, 3, 4), datetime.date(2024, 3, 5)


def import_ledger(tmp_path, day1: str | None = None, day2: str | None = None) -> Path:
    """Both statements (optionally edited copies) through `beanflex import` into a fresh USD ledger."""
    main = tmp_path / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text('option "operating_currency" "USD"\ninclude "generated/index.beancount"\n')
    paths = []
    for name, text in (("day1.xml", day1), ("day2.xml", day2)):
        path = tmp_path / name
        path.write_text(text if text is not None else (FIXTURES / name).read_text())
        paths.append(str(path))
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", *paths])
    assert result.exit_code == 0, result.output
    return main


def reconcile(main: Path):
    entries, errors, options = loader.load_file(str(main))
    assert not errors, [e.message for e in errors]
    return reconcile_book(load_book(entries, options))


def mtm(found) -> dict:
    return {(d.date, d.symbol, d.field.removeprefix("summary.")): (d.ours, d.ibkr) for d in found.summaries}


def test_two_statements_match_ibkr_to_the_cent(tmp_path):
    found = reconcile(import_ledger(tmp_path))
    got = mtm(found)
    expected = {
        # day 1: nothing held before (start quantity 0), so no start mark is needed
        (DAY1, "ACME", "prev_close_quantity"): 0, (DAY1, "ACME", "close_quantity"): 100,
        (DAY1, "ACME", "close_price"): 51,  # IBKR's closePrice vs our end mark (OpenPositions.markPrice)
        (DAY1, "ACME", "transaction_mtm"): 100,  # 100 x (51 - 50)
        (DAY1, "ACME", "prior_open_mtm"): 0, (DAY1, "ACME", "commissions"): -1, (DAY1, "ACME", "total"): 99,
        (DAY1, "SAPX", "prev_close_quantity"): 0, (DAY1, "SAPX", "close_quantity"): 10,
        (DAY1, "SAPX", "close_price"): 202,
        (DAY1, "SAPX", "transaction_mtm"): D("22.00"),  # 10 x (202 - 200) x 1.10
        (DAY1, "SAPX", "prior_open_mtm"): 0, (DAY1, "SAPX", "commissions"): D("-2.20"),  # -2 EUR x 1.10
        (DAY1, "SAPX", "total"): D("19.80"),  # 22.00 - 2.20
        # ZETA was held before the ledger's first mark: quantities and the trades' figures only (see below)
        (DAY1, "ZETA", "prev_close_quantity"): 50, (DAY1, "ZETA", "close_quantity"): 50,
        (DAY1, "ZETA", "close_price"): 11,
        (DAY1, "ZETA", "transaction_mtm"): 0, (DAY1, "ZETA", "commissions"): 0,
        (DAY1, "TOTAL", "transaction_mtm"): 122, (DAY1, "TOTAL", "commissions"): D("-3.20"),  # 100 + 22; -1 - 2.20
        # day 2: start marks from day 1's OpenPositions (ACME 51, SAPX 202, ZETA 11)
        (DAY2, "ACME", "prev_close_quantity"): 100, (DAY2, "ACME", "close_quantity"): 80,  # 100 - 40 + 20
        (DAY2, "ACME", "prev_close_price"): 51, (DAY2, "ACME", "close_price"): D("52.5"),
        (DAY2, "ACME", "transaction_mtm"): 30,  # -40 x (52.5 - 53) + 20 x (52.5 - 52) = 20 + 10
        (DAY2, "ACME", "prior_open_mtm"): 150,  # 100 x (52.5 - 51)
        (DAY2, "ACME", "commissions"): -2, (DAY2, "ACME", "total"): 178,  # 30 + 150 - 2
        (DAY2, "SAPX", "prev_close_quantity"): 10, (DAY2, "SAPX", "close_quantity"): 6,
        (DAY2, "SAPX", "prev_close_price"): 202, (DAY2, "SAPX", "close_price"): 204,
        (DAY2, "SAPX", "transaction_mtm"): D("4.48"),  # -4 x (204 - 205) x 1.12
        (DAY2, "SAPX", "prior_open_mtm"): D("22.40"),  # 10 x (204 - 202) x 1.12
        (DAY2, "SAPX", "commissions"): D("-2.24"),  # -2 EUR x 1.12
        (DAY2, "SAPX", "total"): D("24.64"),  # 4.48 + 22.40 - 2.24
        (DAY2, "ZETA", "prev_close_quantity"): 50, (DAY2, "ZETA", "close_quantity"): 50,
        (DAY2, "ZETA", "prev_close_price"): 11, (DAY2, "ZETA", "close_price"): 12,
        (DAY2, "ZETA", "transaction_mtm"): 0, (DAY2, "ZETA", "prior_open_mtm"): 50,  # 50 x (12 - 11)
        (DAY2, "ZETA", "commissions"): 0, (DAY2, "ZETA", "total"): 50,
        (DAY2, "TOTAL", "transaction_mtm"): D("34.48"), (DAY2, "TOTAL", "prior_open_mtm"): D("222.40"),
        (DAY2, "TOTAL", "commissions"): D("-4.24"), (DAY2, "TOTAL", "total"): D("252.64"),
    }
    assert {key: ours for key, (ours, _) in got.items()} == expected
    assert all(ours == ibkr for ours, ibkr in got.values())
    assert found.diffs == []
    # MTM figures in base; quantities and prices in the instrument's currency (SAPX: EUR)
    assert {(d.symbol, d.currency) for d in found.summaries if not d.field.endswith(("price", "quantity"))} == {
        ("ACME", "USD"), ("SAPX", "USD"), ("ZETA", "USD"), ("TOTAL", "USD")}
    assert {d.currency for d in found.summaries if d.symbol == "SAPX" and d.field.endswith("price")} == {"EUR"}


def test_first_statement_skips_prior_open_mtm_without_an_earlier_mark(tmp_path):
    """ZETA's 50 shares come from day 1's OpenPositions (an opening lot dated 2024-03-03); the ledger has no mark
    before 2024-03-04, so its prior open MTM (IBKR 50 x (11 - 10) = 50, IBKR's 10 being a close we never saw)
    and total are not compared, nor are those of day 1's Total row, which contains it. Its quantities are, and
    a diff there names missing_history (held at the start with no earlier mark)."""
    got = mtm(reconcile(import_ledger(tmp_path)))
    assert {field for (day, symbol, field) in got if (day, symbol) == (DAY1, "ZETA")} == {
        "prev_close_quantity", "close_quantity", "close_price", "transaction_mtm", "commissions"}
    assert {field for (day, symbol, field) in got if (day, symbol) == (DAY1, "TOTAL")} == {
        "transaction_mtm", "commissions"}
    day1 = (FIXTURES / "day1.xml").read_text().replace(
        'symbol="ZETA" description="ZETA INC" conid="3333" listingExchange="NYSE" multiplier="1" '
        'reportDate="20240304" prevCloseQuantity="50"',
        'symbol="ZETA" description="ZETA INC" conid="3333" listingExchange="NYSE" multiplier="1" '
        'reportDate="20240304" prevCloseQuantity="60"')
    [d] = reconcile(import_ledger(tmp_path / "edited", day1=day1)).diffs
    # ours 50 (the opening lot) - IBKR 60 = -10
    assert (d.date, d.symbol, d.field, d.diff, d.reason) == (DAY1, "ZETA", "summary.prev_close_quantity", -10,
                                                             "missing_history")


def test_a_wrong_ibkr_figure_is_a_diff_left_unexplained(tmp_path):
    """IBKR's ACME transaction MTM edited from 30 to 31: ours 30 - 31 = -1, no known cause (reason None), and the
    raw reference is the MTM row (day2.xml line 20)."""
    day2 = (FIXTURES / "day2.xml").read_text().replace('transactionMtm="30"', 'transactionMtm="31"')
    [d] = reconcile(import_ledger(tmp_path, day2=day2)).diffs
    assert (d.date, d.symbol, d.field, d.ours, d.ibkr, d.diff, d.reason) == (
        DAY2, "ACME", "summary.transaction_mtm", 30, 31, -1, None)
    [ref] = d.raw
    assert ref.startswith("raw/U7000001/2024/20240305_20240305_") and ref.endswith(".xml:20")


def test_an_instrument_the_ledger_never_saw_is_missing_history(tmp_path):
    """A row for conid 4444 that no trade or position of the statements names: ours are all 0, so IBKR's 10
    shares (prev and close) and its prior open -30 (10 x (17 - 20)) and total -30 are diffs, missing_history."""
    row = ('<MTMPerformanceSummaryUnderlying accountId="U7000001" assetCategory="STK" symbol="GONE" '
           'description="GONE CORP" conid="4444" reportDate="20240305" prevCloseQuantity="10" prevClosePrice="20" '
           'closeQuantity="10" closePrice="17" transactionMtm="0" priorOpenMtm="-30" commissions="0" other="0" '
           'total="-30" code="" />\n')
    day2 = (FIXTURES / "day2.xml").read_text().replace("</MTMPerformanceSummaryInBase>",
                                                      row + "</MTMPerformanceSummaryInBase>")
    found = reconcile(import_ledger(tmp_path, day2=day2))
    assert {(d.symbol, d.field, d.diff, d.reason) for d in found.diffs} == {
        ("GONE", "summary.prev_close_quantity", -10, "missing_history"),
        ("GONE", "summary.close_quantity", -10, "missing_history"),
        ("GONE", "summary.prior_open_mtm", 30, "missing_history"),  # 0 - (-30)
        ("GONE", "summary.total", 30, "missing_history")}


def test_report_reconcile_json_lists_the_mtm_rows(tmp_path):
    main = import_ledger(tmp_path)
    result = CliRunner().invoke(cli, ["--ledger", str(main), "report", "reconcile", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "ok"
    rows = {(s["date"], s["symbol"], s["field"]): s for s in report["summaries"]}
    # 21 day-1 comparisons (ACME 7 and SAPX 7: no prev_close_price, nothing was held; ZETA 5; Total 2)
    # + 28 day-2 ones (3 instruments x 8 + Total 4)
    assert len(rows) == 49
    acme = rows[("2024-03-05", "ACME", "summary.prior_open_mtm")]
    assert (acme["ours"], acme["ibkr"], acme["diff"], acme["status"], acme["currency"]) == (
        "150.00", "150.00", "0.00", "ok", "USD")
    assert rows[("2024-03-05", "TOTAL", "summary.total")]["ours"] == "252.64"


OPTION_WEEK = header() + commodity("OPTX", "5555", category="OPT", multiplier=100) + (
    trade("2024-05-01", "T0", "BUY 2 OPTX @ 1.50", "5555", [("2", "OPTX", "150.5", "2024-05-01", "T0")], "-301",
          commission="-1", extra="  trade_price: 1.50\n  multiplier: 100")
    + '''2024-05-31 custom "ibkr-position" "OPTX"
  conid: "5555"
  position: 2
  mark_price: 1.50
  currency: "USD"
  fx_rate_to_base: 1
  flex_src: "raw/U1/2024/s.xml:5"
'''
    + trade("2024-06-04", "T1", "BUY 1 OPTX @ 1.60", "5555", [("1", "OPTX", "161", "2024-06-04", "T1")], "-161",
            commission="-1", extra="  trade_price: 1.60\n  multiplier: 100")
    + '2024-06-04 price OPTX 170 USD\n  source: "Trade.closePrice"\n'
    + trade("2024-06-06", "T2", "SELL 3 OPTX @ 1.80", "5555", [("-2", "OPTX", "150.5", "2024-05-01", "T0"),
                                                              ("-1", "OPTX", "161", "2024-06-04", "T1")], "538.5",
            commission="-1.5", extra="  trade_price: 1.80\n  multiplier: 100")
    + '2024-06-06 price OPTX 175 USD\n  source: "Trade.closePrice"\n'
    + '''2024-06-07 custom "ibkr-summary" "MTMPerformanceSummaryInBase" "U1/5555"
  account: "U1"
  conid: "5555"
  symbol: "OPTX"
  statement_from: 2024-06-03
  statement_to: 2024-06-07
  prev_close_quantity: 2
  prev_close_price: 1.50
  close_quantity: 0
  transaction_mtm: 25
  prior_open_mtm: 55
  commissions: -2.5
  other: 0
  total: 77.5
  flex_src: "raw/U1/2024/w.xml:40"
''')


def test_a_week_is_settled_day_by_day_as_ibkr_does():
    """A weekly statement (2024-06-03..07) of an option (multiplier 100): 2 contracts held at 1.50 (IBKR's
    position mark, per share: 150 a contract), BUY 1 @ 1.60 on Tuesday (close 1.70: `price OPTX 170`),
    SELL 3 @ 1.80 on Thursday (close 1.75), flat by Friday, so no Friday close is needed.

    transaction: each trade at its own day's close: 1 x (170 - 160) + (-3) x (175 - 180) = 10 + 15 = 25.
    prior open: 2 held into Tuesday: 2 x (170 - 150) = 40; 3 held into Thursday: 3 x (175 - 170) = 15; 55.
    Check: cash in 540 - 160, start value 2 x 150 = 300, end value 0: 540 - 160 - 300 = 80 = 25 + 55.
    commissions -1 - 1.5 = -2.5; total 25 + 55 - 2.5 = 77.5. (Marking the trades at the week's close instead
    would move Tuesday's 1 x (175 - 170) = 5 from prior open to transaction.)"""
    *_, book = load(OPTION_WEEK)
    found = reconcile_book(book)
    assert {d.field: d.ours for d in found.summaries} == {
        "summary.prev_close_quantity": 2, "summary.close_quantity": 0, "summary.prev_close_price": D("1.50"),
        "summary.transaction_mtm": 25,
        "summary.prior_open_mtm": 55, "summary.commissions": D("-2.5"), "summary.total": D("77.5")}
    assert found.diffs == []


def test_a_split_in_the_period_leaves_prior_open_mtm_uncompared():
    """A 2-for-1 split on Wednesday re-bases the marks (IBKR's corpActionMtm): prior open MTM and total are not
    compared; quantities (2 before, 4 after) and the trades' figures still are."""
    split = '''2024-06-05 * "OPTX SPLIT 2 FOR 1"
  flex_id: "U1/ca/S1"
  flex_src: "raw/U1/2024/s.xml:9"
  event: "split"
  conid: "5555"
  Assets:IBKR:U1:Positions  -2 OPTX {150.5 USD, 2024-05-01, "U1/trade/T0"}
  Assets:IBKR:U1:Positions  4 OPTX {75.25 USD, 2024-05-01, "U1/trade/T0"}
'''
    text = OPTION_WEEK.split('2024-06-04 * ', 1)[0]  # the holding and the position mark, no trades
    row = OPTION_WEEK[OPTION_WEEK.index('2024-06-07 custom'):]
    for old, new in (("close_quantity: 0", "close_quantity: 4"), ("transaction_mtm: 25", "transaction_mtm: 0"),
                     ("commissions: -2.5", "commissions: 0")):
        row = row.replace(old, new)
    text += split + row
    *_, book = load(text)
    fields = {d.field: (d.ours, d.ibkr) for d in reconcile_book(book).summaries}
    assert set(fields) == {"summary.prev_close_quantity", "summary.close_quantity", "summary.prev_close_price",
                           "summary.transaction_mtm", "summary.commissions"}
    assert fields["summary.close_quantity"] == (4, 4) and fields["summary.transaction_mtm"] == (0, 0)


def test_a_stale_start_mark_that_is_not_ibkrs_previous_close_names_a_statement_gap():
    """The ledger's last OPTX mark before the week is from 2024-05-24 (1.50; the statement of 2024-05-31 is not
    imported) while IBKR's previous close is 1.60. Ours: prev close 1.50 (diff -0.10), prior open
    2 x (170 - 150) + 15 = 55 against IBKR's 2 x (170 - 160) + 15 = 35 (diff +20), total 77.5 against 57.5 (+20),
    each with reason statement_gap (REASONS_MTM): the mark is older than the day before the period and differs
    from IBKR's. Quantities and the trades' figures still match."""
    ibkr_says_160 = OPTION_WEEK
    for old, new in (("prev_close_price: 1.50", "prev_close_price: 1.60"),
                     ("prior_open_mtm: 55", "prior_open_mtm: 35"), ("total: 77.5", "total: 57.5")):
        ibkr_says_160 = ibkr_says_160.replace(old, new)
    *_, book = load(ibkr_says_160.replace('2024-05-31 custom "ibkr-position"', '2024-05-24 custom "ibkr-position"'))
    assert {(d.field, d.diff, d.reason) for d in reconcile_book(book).diffs} == {
        ("summary.prev_close_price", D("-0.10"), "statement_gap"), ("summary.prior_open_mtm", 20, "statement_gap"),
        ("summary.total", 20, "statement_gap")}
    assert "statement_gap" in REASONS_MTM
    # the same figures with the mark of Friday 2024-05-31: only a weekend before the Monday period, so no gap is
    # evidenced and the diffs stay unexplained
    *_, book = load(ibkr_says_160)
    assert {(d.field, d.reason) for d in reconcile_book(book).diffs} == {
        ("summary.prev_close_price", None), ("summary.prior_open_mtm", None), ("summary.total", None)}
