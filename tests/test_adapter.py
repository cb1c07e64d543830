"""The Flex XML adapter: IBKR's date/time formats, empty markers, MULTI, line numbers, every public sample."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest

from beanflex.importers.flex import adapter
from beanflex.importers.flex.adapter import FlexRecord, parse, parse_date, parse_datetime, sniff_root
from beanflex.importers.flex.errors import FlexParseError
from samples import public_samples, sample

D = datetime.datetime


@pytest.mark.parametrize("text, expected", [
    ("20240105", D(2024, 1, 5)),
    ("2024-01-05", D(2024, 1, 5)),
    ("01/13/2024", D(2024, 1, 13)),  # MM/dd/yyyy: 13 can only be the day
    ("13/01/2024", D(2024, 1, 13)),  # dd/MM/yyyy
    ("05/05/24", D(2024, 5, 5)),  # equal parts read the same either way
    ("05-Jan-24", D(2024, 1, 5)),
    ("20240105;093000", D(2024, 1, 5, 9, 30)),  # the default yyyyMMdd;HHmmss
    ("20240105;0930", D(2024, 1, 5, 9, 30)),  # HHmm: not 09:03 (strptime's lenient reading)
    ("2024-01-05;09:30:00", D(2024, 1, 5, 9, 30)),  # eTax, shortopt
    ("2024-01-05;093000", D(2024, 1, 5, 9, 30)),  # vtchill
    ("20240105 093000", D(2024, 1, 5, 9, 30)),  # optfut
    ("2024-01-05 09:30:00", D(2024, 1, 5, 9, 30)),  # fxmix
    ("2024-01-05, 09:30:00", D(2024, 1, 5, 9, 30)),  # pp01 CorporateActions
    ("20130102 01:25:14", D(2013, 1, 2, 1, 25, 14)),  # pp01 whenGenerated
    ("2024-02-16 12:20:00 AEST", D(2024, 2, 16, 12, 20)),  # reds: zone suffix, IBKR's wall time kept
    ("2024-01-05T09:30:00", D(2024, 1, 5, 9, 30)),
])
def test_date_time_formats(text, expected):
    assert parse_datetime(text) == expected
    assert parse_date(text.split(";")[0].split(" ")[0].split(",")[0].split("T")[0]) == expected.date()


@pytest.mark.parametrize("text", ["2024-13-01", "20240132", "2024015", "20240105;253000", "20240105;93000",
                                  "yesterday", "2024/01/05 9", "13/13/2024",
                                  # ambiguous: 5 January in MM/dd/yyyy, 1 May in dd/MM/yyyy; refused, not guessed
                                  "01/05/2024", "02/01/25;093000"])
def test_not_dates(text):
    assert parse_datetime(text) is None


def record(**attrs: str) -> FlexRecord:
    return FlexRecord("Trades", "Trade", "U1", 7, attrs, "f.xml")


@pytest.mark.parametrize("marker", ["", "-", "--", "N/A", " N/A ", "MULTI"])
def test_empty_markers_and_multi_read_as_none(marker):
    r = record(exchange=marker, reportDate=marker, quantity=marker)
    assert r.raw("exchange") == marker  # the raw value is kept exactly
    assert r.text("exchange") is None and r.date("reportDate") is None and r.decimal("quantity") is None
    assert r.text("absent") is None and r.raw("absent") is None


def test_decimals_are_exact():
    r = record(quantity="-1143.28313142", costBasis="21,792.73", tradePrice="0.000000001")
    assert r.decimal("quantity") == Decimal("-1143.28313142")
    assert r.decimal("costBasis") == Decimal("21792.73")  # thousands separator, as old exports wrote
    assert str(r.decimal("tradePrice")) == "1E-9" and r.decimal("tradePrice") == Decimal("0.000000001")


def test_bad_number_and_date_name_file_line_attribute():
    r = record(weight="2.0 ()", dateTime="someday")
    with pytest.raises(FlexParseError) as err:
        r.decimal("weight")
    assert str(err.value).startswith("f.xml:7, section Trades, attribute weight: '2.0 ()' is not a number")
    with pytest.raises(FlexParseError) as err:
        r.date("dateTime")
    assert "f.xml:7" in str(err.value) and "attribute dateTime" in str(err.value)


MINI = b"""<?xml version="1.0" encoding="UTF-8"?>
<FlexQueryResponse queryName="q" type="AF">
<FlexStatements count="1">
<FlexStatement accountId="U7" fromDate="20240101" toDate="20240131" period="" whenGenerated="20240201;010203">
<AccountInformation accountId="U7" currency="EUR" />
<Trades>
<Trade accountId="U7" symbol="X" quantity="1" />
<Lot accountId="U7" symbol="X" quantity="-1" />
</Trades>
<OpenPositions />
</FlexStatement>
</FlexStatements>
</FlexQueryResponse>
"""


def test_records_keep_section_tag_line_and_every_attribute():
    doc = parse(MINI, "mini.xml")
    (st,) = doc.statements
    assert (doc.query_name, doc.type, doc.accounts) == ("q", "AF", ["U7"])
    assert (st.account, st.from_date, st.to_date) == ("U7", datetime.date(2024, 1, 1), datetime.date(2024, 1, 31))
    assert st.when_generated == D(2024, 2, 1, 1, 2, 3) and st.base_currency == "EUR"
    assert [(r.section, r.tag, r.line) for r in st.records] == [
        ("AccountInformation", "AccountInformation", 5), ("Trades", "Trade", 7), ("Trades", "Lot", 8)]
    assert st.sections == {"AccountInformation": 1, "Trades": 2, "OpenPositions": 0}  # present but empty
    assert dict(st.records[1].attrs) == {"accountId": "U7", "symbol": "X", "quantity": "1"}
    assert [r.tag for r in st.rows("Trades", "Lot")] == ["Lot"]


def test_sniff_root():
    assert sniff_root(b'<?xml version="1.0"?>\n<!-- hi --><FlexQueryResponse queryName="x">') == "FlexQueryResponse"
    assert sniff_root(b"<FlexStatementResponse>") == "FlexStatementResponse"
    assert sniff_root(b"garbage") is None


#: (statements, rows) per public sample, counted once by hand-checked script and kept here as the record.
EXPECTED_SHAPES = {
    "bankroll__ibkr_activity.xml": (1, 9), "bankroll__ibkr_trades.xml": (1, 11),
    "ib-flex-reader__StatementOfFunds.xml": (1, 47), "ib-flex-reader__kmi.xml": (1, 16),
    "ib-flex__activity_complex_corporate_actions.xml": (1, 10), "ibflex__crypto_transfer.xml": (1, 1),
    "opensteuerauszug__eTax_report_anonymised_2025.xml": (1, 912),
    "opensteuerauszug__minimal_short_options_repro_2025.xml": (1, 16),
    "opensteuerauszug__options_future_2025.xml": (1, 160), "opensteuerauszug__vtandchill_2025.xml": (1, 39),
    "portfolio__testIBFlexStatementFile01.xml": (1, 41), "portfolio__testIBFlexStatementFile02.xml": (1, 14),
    "portfolio__testIBFlexStatementFile09.xml": (1, 2), "portfolio__testIBFlexStatementFile12.xml": (1, 18),
    "portfolio__testIBFlexStatementFile14.xml": (1, 733), "portfolio__testIBFlexStatementFile20.xml": (1, 18),
    "portfolio__testIBFlexStatementFile21.xml": (1, 11), "portfolio__testIBFlexStatementFile24.xml": (1, 11),
    "portfolio__testIBFlexStatementFile26.xml": (2, 6), "portfolio__testIBFlexStatementFile28.xml": (1, 4),
    "portfolio__testIBFlexStatementFile29.xml": (3, 11), "uabean__beancount.xml": (1, 24),
    "alens-importers__forex-mix.xml": (1, 7), "beancount_reds_importers__dividend+tax.xml": (1, 13),
    "ibkr-flexquery-client-lib__report.xml": (2, 14),
}


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_every_public_sample_parses_and_every_typed_value_reads(path):
    doc = parse(path.read_bytes(), path.name)
    shape = (len(doc.statements), sum(len(s.records) for s in doc.statements))
    assert shape == EXPECTED_SHAPES[path.name]
    for st in doc.statements:
        for r in st.records:
            for name, value in r.attrs.items():
                if name in ("dateTime", "tradeDate", "reportDate", "settleDate", "exDate", "payDate", "expiry",
                            "openDateTime", "holdingPeriodDateTime", "date"):
                    r.datetime(name)  # every date the samples hold is in a format the adapter knows
                if name in ("quantity", "tradePrice", "proceeds", "amount", "fifoPnlRealized", "cost", "position",
                            "markPrice", "costBasisMoney", "fxRateToBase", "ibCommission", "netCash"):
                    r.decimal(name)


def test_public_samples_are_all_here():
    assert len(public_samples()) >= 22  # the copied ones; 25 with ../shared beside the repo


def test_largest_sample_parses_fast():
    """eTax: 1,342,700 bytes, 912 rows; parsing measured at ~30-50 ms here. The bound is loose for slow CI."""
    data = sample("opensteuerauszug__eTax_report_anonymised_2025.xml").read_bytes()
    assert len(data) == 1_342_700
    started = time.perf_counter()
    doc = parse(data, "eTax")
    elapsed = time.perf_counter() - started
    assert sum(len(s.records) for s in doc.statements) == 912
    assert elapsed < 2.0, elapsed



def test_a_row_spread_over_several_lines_is_cited_at_its_first_line():
    """libxml2 reports the line where a start tag ends; flex_src must point where the row begins."""
    payload = (b'<FlexQueryResponse queryName="q" type="AF">\n<FlexStatements count="1">\n'
               b'<FlexStatement accountId="U1" fromDate="20240101" toDate="20240131" whenGenerated="20240201;010101">\n'
               b'<Trades>\n'
               b'<Trade accountId="U1"\n'          # line 5: the row starts here ...
               b'       conid="1"\n'
               b'       quantity="2" />\n'         # ... and its start tag ends on line 7
               b'<Trade accountId="U1" conid="2" quantity="3" />\n'  # line 8
               b'</Trades>\n</FlexStatement>\n</FlexStatements>\n</FlexQueryResponse>\n')
    statement = adapter.parse(payload, "multi-line.xml").statements[0]
    assert [record.line for record in statement.records] == [5, 8]
    assert statement.line == 3


def test_an_ambiguous_slash_date_is_an_error_that_asks_for_yyyymmdd():
    with pytest.raises(FlexParseError) as caught:
        record(dateTime="02/01/2025;081500").date("dateTime")
    message = str(caught.value)
    assert "f.xml:7" in message and "dateTime" in message and "yyyyMMdd" in message


def test_rows_past_line_65535_are_cited_at_their_own_line():
    """libxml2's line numbers run one late from line 65,535 on; flex_src must still name the row's own line."""
    padding = b"\n" * 70_000
    payload = (b'<FlexQueryResponse queryName="q" type="AF">\n<FlexStatements count="1">\n'
               b'<FlexStatement accountId="U1" fromDate="20240101" toDate="20240131" whenGenerated="20240201;010101">\n'
               b'<Trades>' + padding + b'<Trade accountId="U1" conid="1" quantity="2" />\n'
               b'</Trades>\n</FlexStatement>\n</FlexStatements>\n</FlexQueryResponse>\n')
    [row] = adapter.parse(payload, "long.xml").statements[0].records
    assert row.line == 4 + 70_000  # <Trades> is on line 4, then 70,000 newlines
