"""Flex CSV: the same query as CSV maps to the same ledger as its XML, except `flex_src`, which cites the CSV line.

Fixtures (tests/fixtures/csv/): `activity.xml`, two accounts (a split-off, dividends with withholding, closed
lots, a EUR trade, a description with commas), and its twins written by tests/flex_csv.py, which has its own
table of IBKR's column titles: `activity.csv` with BOF/BOA/BOS/HEADER/DATA/EOS/EOA/EOF records, `activity_plain.csv`
with title rows and data rows only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.importers.flex import adapter, archive, csv_titles, writer
from beanflex.importers.flex.errors import FlexParseError
from beanflex.importers.flex.mapper import build_ledger
from beanflex.reports import raw_rows

import flex_csv
from samples import public_samples

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
TWINS = ("activity.csv", "activity_plain.csv")
_SRC = re.compile(r'^\s+flex_src: ".*"\n', re.M)


def rendered(name: str) -> dict[str, str]:
    document = adapter.parse((FIXTURES / name).read_bytes(), source=name)
    result = build_ledger([(f"raw/U1/2024/{name}", document)])
    return {path: writer.render(entries) for path, entries in sorted(result.files.items())}


def test_the_committed_twins_are_what_the_writer_makes():
    xml = (FIXTURES / "activity.xml").read_bytes()
    assert (FIXTURES / "activity.csv").read_text() == flex_csv.to_csv(xml, records=True)
    assert (FIXTURES / "activity_plain.csv").read_text() == flex_csv.to_csv(xml, records=False)


@pytest.mark.parametrize("name", TWINS)
def test_csv_maps_to_the_xml_twins_entries_except_flex_src(name):
    xml, csv = rendered("activity.xml"), rendered(name)
    assert sorted(csv) == sorted(xml) == [f"generated/{a}/{f}.beancount" for a in ("U1234567", "U2222222")
                                          for f in ("2024", "accounts")]
    for path in xml:
        assert _SRC.sub("", csv[path]) == _SRC.sub("", xml[path]), path
    assert "flex_src" in csv["generated/U1234567/2024.beancount"]
    assert ".csv:" in csv["generated/U1234567/2024.beancount"] and ".xml:" not in csv["generated/U1234567/2024.beancount"]


@pytest.mark.parametrize("name", TWINS)
def test_flex_src_cites_the_csv_line_of_the_row(name):
    text = (FIXTURES / name).read_text().split("\n")
    ledger = rendered(name)["generated/U1234567/2024.beancount"]
    # The sale of 15 AAPL (transactionID 1004) cites its own row and its two closed lots (transactionIDs 1001, 1003).
    block = ledger[ledger.index('flex_id: "U1234567/trade/1004"'):]
    cited = [int(n) for n in re.findall(rf"{re.escape(name)}:(\d+)", block.split("\n")[1])]
    assert len(cited) == 3
    assert '"1004"' in text[cited[0] - 1] and '"SELL"' in text[cited[0] - 1]
    assert all('"CLOSED_LOT"' in text[n - 1] for n in cited[1:])


def test_quoted_fields_with_commas_and_several_accounts():
    document = adapter.parse((FIXTURES / "activity.csv").read_bytes(), source="activity.csv")
    assert document.format == "csv" and [s.account for s in document.statements] == ["U1234567", "U2222222"]
    second = document.statements[1]
    assert next(second.rows("AccountInformation")).raw("name") == "Test User, Jr."
    spin = next(document.statements[0].rows("CorporateActions"))
    assert spin.raw("description") == "AAPL(US0378331005) SPINOFF 1 FOR 10 (APSPIN, APPLE SPINCO, US0000000001)"
    assert (second.from_date.isoformat(), second.to_date.isoformat()) == ("2024-01-02", "2024-12-31")


def test_column_titles_map_to_the_xml_names():
    assert csv_titles.attribute_for("Trades", "IBCommission") == "ibCommission"
    assert csv_titles.attribute_for("Trades", "Buy/Sell") == "buySell"
    assert csv_titles.attribute_for("Trades", "Open/CloseIndicator") == "openCloseIndicator"
    assert csv_titles.attribute_for("Trades", "Notes/Codes") == "notes"
    assert csv_titles.attribute_for("Trades", "FXRateToBase") == "fxRateToBase"
    assert csv_titles.attribute_for("Trades", "CostBasis") == "cost"
    assert csv_titles.attribute_for("CorporateActions", "CostBasis") == "costBasis"
    assert csv_titles.attribute_for("OpenPositions", "Quantity") == "position"
    assert csv_titles.attribute_for("CashTransactions", "Date/Time") == "dateTime"
    assert csv_titles.attribute_for("Trades", "ClientAccountID") == "accountId"
    assert csv_titles.attribute_for("Trades", "BrandNewField") == "brandNewField"  # unknown: drift, not a crash
    assert csv_titles.title_for("OpenPositions", "position") == "Quantity"
    assert csv_titles.title_for("Trades", "currency") == "CurrencyPrimary"
    assert csv_titles.title_for("Trades", "quantity") == "Quantity"
    assert csv_titles.guess_section(["ClientAccountID", "Buy/Sell", "TradePrice", "Quantity"]) == "Trades"
    assert csv_titles.guess_section(["ReportDate", "FromCurrency", "ToCurrency", "Rate"]) == "ConversionRates"


def workspace(root: Path) -> Path:
    run = CliRunner().invoke(cli, ["init", str(root)])
    assert run.exit_code == 0, run.output
    return root / "ledger" / "main.beancount"


def beanflex(main: Path, *args: str):
    return CliRunner().invoke(cli, ["--ledger", str(main), *args])


def test_import_archives_the_csv_byte_exact_and_the_ledger_matches_the_xml_import(tmp_path):
    xml_main, csv_main = workspace(tmp_path / "x"), workspace(tmp_path / "c")
    assert beanflex(xml_main, "import", str(FIXTURES / "activity.xml")).exit_code == 0
    run = beanflex(csv_main, "import", str(FIXTURES / "activity.csv"))
    assert run.exit_code == 0, run.output
    [stored] = archive.list_archive(csv_main.parent)
    assert re.fullmatch(r"raw/U1234567/2024/20240102_20241231_beanflex-fava-test_[0-9a-f]{12}\.csv", stored.relpath)
    assert stored.path.read_bytes() == (FIXTURES / "activity.csv").read_bytes()
    assert stored.accounts == ("U1234567", "U2222222")
    for path in sorted((xml_main.parent / "generated").rglob("*.beancount")):
        twin = csv_main.parent / "generated" / path.relative_to(xml_main.parent / "generated")
        assert _SRC.sub("", twin.read_text()) == _SRC.sub("", path.read_text())
    # The fixture keeps the Fava fixture's deliberate diff (IBKR says 97.5 for the SAP sale, the lots give 98)
    # and a spin-off whose cost allocation IBKR's rows do not give (flagged '!', which the reconcile plugin
    # reports too): the same two errors from both, the CSV ones citing CSV lines.
    errors = [loader.load_file(str(main))[1] for main in (xml_main, csv_main)]
    assert [[type(e).__name__ for e in found] for found in errors] == [["ReconcileError", "ReconcileError"]] * 2
    assert "ours 98.0 != IBKR 97.5" in errors[1][0].message and ".csv:" in errors[1][0].message
    assert beanflex(csv_main, "rebuild").output.count("0 written") == 1  # byte-identical from the CSV archive
    assert "already archived" in beanflex(csv_main, "import", str(FIXTURES / "activity.csv")).output


def test_raw_row_drilldown_shows_the_csv_line_with_its_titles(tmp_path):
    main = workspace(tmp_path)
    assert beanflex(main, "import", str(FIXTURES / "activity.csv")).exit_code == 0
    ledger = (main.parent / "generated" / "U1234567" / "2024.beancount").read_text()
    src = re.search(r'flex_id: "U1234567/trade/1004"\n\s+flex_src: "(\S+)', ledger).group(1)
    row = raw_rows.read_row(main.parent, src)
    assert row["xml"].startswith('"DATA","TRNT","U1234567","USD"') and '"1004"' in row["xml"]
    pairs = dict(row["attributes"])
    assert pairs["Buy/Sell"] == "SELL" and pairs["FifoPnlRealized"] == "347" and pairs["CostBasis"] == "-1601.5"
    explain = beanflex(main, "explain", "AAPL", "realized", "--format", "json")
    assert explain.exit_code == 0, explain.output
    assert '\\"1004\\"' in explain.output or '"1004"' in explain.output


def bad(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


HEAD = '"BOF","U1","q","1","20240101","20241231","20250101;000000","",""\n"BOA","U1"\n"BOS","TRNT","Trades"\n'
TITLES = ('"HEADER","TRNT","ClientAccountID","CurrencyPrimary","Symbol","Conid","DateTime","Quantity","TransactionID",'
          '"LevelOfDetail"\n')
ROW = '"DATA","TRNT","U1","USD","AAPL","265598","20240102;100000","10","9","EXECUTION"\n'
TAIL = '"EOS","TRNT","1",""\n"EOA","U1"\n"EOF","1"\n'


@pytest.mark.parametrize("text, words", [
    (HEAD + TITLES + ROW, ["BOF record but has no EOF", "truncated"]),
    (HEAD + TITLES + ROW.replace(',"9"', "") + TAIL, ["bad.csv:5", "section Trades", "has 7 fields", "line 4) has 8"]),
    (HEAD + TITLES.replace(',"LevelOfDetail"', "") + ROW.replace(',"EXECUTION"', "") + TAIL,
     ["bad.csv:5", "section Trades", "no LevelOfDetail column", "Level of Detail"]),
    (HEAD + ROW + TAIL, ["bad.csv:4", "DATA row of section TRNT before its HEADER"]),
    (HEAD + TITLES + ROW + TAIL.replace('"1",""', '"2",""'), ["bad.csv:6", "trailer says 2 rows", "holds 1"]),
    ('"ClientAccountID","Symbol"\n"U1","AAPL"\n', ["bad.csv:1", "cannot tell which section", "section code"]),
    ('"Foo","Bar"\n"1","2"\n', ["bad.csv:1", "data row before any row of column titles"]),
    (HEAD + TITLES + ROW.replace('"AAPL"', '"AAPL') + TAIL, ["not valid CSV", "truncated"]),
])
def test_bad_csv_is_refused_naming_file_section_and_line(tmp_path, text, words):
    path = bad(tmp_path, text)
    with pytest.raises(FlexParseError) as caught:
        adapter.parse(path.read_bytes(), source=str(path))
    for word in words:
        assert word in str(caught.value)


def test_missing_column_stops_the_import_and_nothing_is_written(tmp_path):
    main = workspace(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and p.name not in ("runs.log", ".beanflex.lock"))
    text = (HEAD + TITLES + ROW + TAIL).replace(',"Quantity"', "").replace(',"10"', "")
    run = beanflex(main, "import", str(bad(tmp_path, text)))
    assert run.exit_code == 1
    for word in ("bad.csv:5", "section Trades", "attribute Quantity (quantity)", "has no column Quantity"):
        assert word in str(run.exception)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                   if p.is_file() and p.name not in ("runs.log", "bad.csv", ".beanflex.lock"))
    assert after == before and not list((main.parent / "raw").rglob("*.csv"))


def test_fetch_archives_a_query_delivered_as_csv_and_sync_maps_it(tmp_path):
    from fake_flex_service import serve_flex

    main = workspace(tmp_path)
    payload = (FIXTURES / "activity.csv").read_bytes()
    with serve_flex(payload) as flex:
        fetched = CliRunner().invoke(cli, ["--ledger", str(main), "fetch"], env=flex.env())
    assert fetched.exit_code == 0, fetched.output
    archived = Path(fetched.stdout.strip().splitlines()[-1])
    assert archived.suffix == ".csv" and archived.read_bytes() == payload
    assert beanflex(main, "rebuild").exit_code == 0
    ledger = (main.parent / "generated" / "U2222222" / "2024.beancount").read_text()
    assert 'flex_id: "U2222222/trade/7001"' in ledger and f"{archived.name}:" in ledger


def test_the_beangulp_importer_takes_csv_too(tmp_path):
    from beanflex.importers.flex.importer import FlexImporter

    importer = FlexImporter()
    csv_path, xml_path = FIXTURES / "activity.csv", FIXTURES / "activity.xml"
    assert importer.identify(str(csv_path)) and importer.identify(str(FIXTURES / "activity_plain.csv"))
    other = tmp_path / "bank.csv"
    other.write_text("Date,Amount\n2024-01-02,10\n")
    assert not importer.identify(str(other))
    assert importer.filename(str(csv_path)).endswith(".csv")
    ids = lambda path: sorted(e.meta.get("flex_id") or "" for e in importer.extract(str(path), []))  # noqa: E731
    assert ids(csv_path) == ids(xml_path) and "U2222222/trade/7001" in ids(csv_path)


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.stem[:40])
def test_every_public_sample_read_as_csv_gives_the_xml_records(path):
    """Each public statement written as IBKR's CSV (sections beanflex has a code for, header and trailer records)
    reads back into exactly the XML's records. A sample whose Trades lack levelOfDetail cannot be told apart in
    CSV: that is refused with what to tick, never misread."""
    codes = {name: code for code, name in csv_titles.SECTION_CODES.items()}
    xml = flex_csv.uniform(path.read_bytes(), codes)
    expected = [(r.section, r.tag, r.account, dict(r.attrs)) for s in adapter.parse(xml).statements for r in s.records]
    text = flex_csv.to_csv(xml, records=True, codes=codes)
    try:
        got = adapter.parse(text.encode(), source="twin.csv")
    except FlexParseError as exc:
        assert "no LevelOfDetail column" in str(exc)
        assert any(r[0] == "Trades" and "levelOfDetail" not in r[3] for r in expected)
        return
    assert [(r.section, r.tag, r.account, dict(r.attrs)) for s in got.statements for r in s.records] == expected


def test_crlf_line_ends_and_a_byte_order_mark_read_the_same():
    text = (FIXTURES / "activity.csv").read_bytes()
    plain = adapter.parse(text, source="a.csv")
    windows = adapter.parse(b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n"), source="a.csv")
    rows = lambda d: [(r.section, r.tag, r.line, dict(r.attrs)) for s in d.statements for r in s.records]  # noqa: E731
    assert rows(windows) == rows(plain)
