"""The Flex Query setup check (beanflex/query_setup.py) against docs/flex-query-setup.md, and its place in
`beanflex check`: which section is missing and which box to tick."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from beanflex.importers.flex import archive
from beanflex.importers.flex.adapter import parse
from beanflex.query_setup import EXPECTED, document_findings, newest_findings

ROOT = Path(__file__).resolve().parent.parent
FEB = (ROOT / "tests" / "fixtures" / "sync" / "sync_2024-02.xml").read_bytes()
BEANFLEX = str(Path(sys.executable).parent / "beanflex")


def _without(data: bytes, *sections: str) -> bytes:
    """The statement with whole sections cut out, as if the query did not select them."""
    text = data.decode()
    for section in sections:
        text, count = re.subn(rf"<{section}>.*?</{section}>\n|<{section} />\n", "", text, flags=re.S)
        assert count == 1, section
    return text.encode()


def test_the_guide_lists_every_expected_section():
    guide = (ROOT / "docs" / "flex-query-setup.md").read_text()
    for expected in EXPECTED:
        assert f"`{expected.section}`" in guide, expected.section
        name = expected.action.split('"')[1] if expected.action else expected.portal.split(" (")[0]
        assert name in guide, name


def test_a_statement_set_up_as_the_guide_says_has_no_findings():
    for path in (ROOT / "tests" / "fixtures" / "sync").glob("*.xml"):
        assert document_findings(parse(path.read_bytes(), path.name)) == []
    demo = ROOT / "beanflex" / "demo" / "demo_2024.xml"
    assert document_findings(parse(demo.read_bytes(), demo.name)) == []


def test_missing_sections_are_named_with_what_to_tick():
    findings = document_findings(parse(_without(FEB, "Transfers", "SecuritiesInfo", "ConversionRates"), "feb.xml"))
    assert findings == [
        'feb.xml: section <ConversionRates> is missing: set "Include Currency Rates" to Yes in the Flex Query '
        "(Performance & Reports → Flex Queries → edit the Activity Flex Query); without it FX rates to the base "
        "currency are missing",
        'feb.xml: section <SecuritiesInfo> is missing: select "Financial Instrument Information" in the Flex Query '
        "(Performance & Reports → Flex Queries → edit the Activity Flex Query); without it ISINs and multipliers "
        "come only from trades",
        'feb.xml: section <Transfers> is missing: select "Transfers" in the Flex Query (Performance & Reports → '
        "Flex Queries → edit the Activity Flex Query); without it positions moved in or out are missing",
    ]


def test_an_empty_section_is_present_not_missing():
    # January has `<CorporateActions />`, `<OptionEAE />`, `<ConversionRates />`, `<Transfers />`: all selected.
    jan = ROOT / "tests" / "fixtures" / "sync" / "sync_2024-01.xml"
    statement = parse(jan.read_bytes(), jan.name).statements[0]
    assert statement.sections["Transfers"] == 0
    assert document_findings(parse(jan.read_bytes(), jan.name)) == []


def test_closing_trades_without_closed_lots():
    no_lots = re.sub(rb"<Lot [^>]*/>\n", b"", FEB)
    assert no_lots.count(b"<Lot ") == 0
    findings = document_findings(parse(no_lots, "feb.xml"))
    # The MSFT sale (openCloseIndicator="C") is the first closing trade: line 15 (its Lot row was line 16).
    assert findings == ["feb.xml:15: closing trades but no <Lot> rows: select Trades → Closed Lots in the Flex "
                        "Query (Performance & Reports → Flex Queries → edit the Activity Flex Query); without "
                        "them sales close lots by FIFO, not by IBKR's choice"]


def test_summary_only_cash_transactions():
    summary = FEB.replace(b'levelOfDetail="DETAIL"', b'levelOfDetail="SUMMARY"')
    findings = document_findings(parse(summary, "feb.xml"))
    assert len(findings) == 1 and "Cash Transactions has summary rows only: select its Detail option" in findings[0]


def test_a_trade_confirmation_query_is_one_finding():
    tcf = ROOT / "tests" / "fixtures" / "flex-public" / "bankroll__ibkr_trades.xml"
    findings = document_findings(parse(tcf.read_bytes(), tcf.name))
    assert findings == [f"{tcf.name}: this is a 'TCF' Flex Query, not an Activity Flex Query (type 'AF'): create "
                        "an Activity Flex Query and use its Query ID"]


def test_newest_archived_statement_is_the_one_checked(tmp_path):
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    assert newest_findings(ledger) == []
    jan = (ROOT / "tests" / "fixtures" / "sync" / "sync_2024-01.xml").read_bytes()
    archive.store(_without(jan, "Transfers"), ledger, "1")  # older, and lacking Transfers
    archive.store(FEB, ledger, "1")
    assert newest_findings(ledger) == []
    archive.store(_without(FEB, "OptionEAE").replace(b'toDate="20240229"', b'toDate="20240301"'), ledger, "1")
    findings = newest_findings(ledger)
    assert len(findings) == 1 and "section <OptionEAE> is missing" in findings[0]
    assert findings[0].startswith("raw/U7654321/2024/20240129_20240301_1_")


def _checked_ledger(tmp_path: Path, statement: bytes) -> list[str]:
    home = tmp_path / "money"
    subprocess.run([BEANFLEX, "init", str(home)], check=True, capture_output=True)
    path = tmp_path / "statement.xml"
    path.write_bytes(statement)
    ledger = ["--ledger", str(home / "ledger" / "main.beancount")]
    subprocess.run([BEANFLEX, *ledger, "import", str(path)], check=True, capture_output=True)
    return ledger


def test_beanflex_check_prints_the_setup_findings_and_strict_exits_3(tmp_path):
    jan = (ROOT / "tests" / "fixtures" / "sync" / "sync_2024-01.xml").read_bytes()
    ledger = _checked_ledger(tmp_path, _without(jan, "Transfers"))
    proc = subprocess.run([BEANFLEX, *ledger, "check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    setup = [line for line in proc.stdout.splitlines() if line.startswith("  setup: ")]
    assert len(setup) == 1, proc.stdout
    assert "section <Transfers> is missing: select \"Transfers\" in the Flex Query" in setup[0]
    strict = subprocess.run([BEANFLEX, *ledger, "check", "--strict"], capture_output=True, text=True)
    assert strict.returncode == 3, strict.stdout


def test_beanflex_check_strict_passes_a_query_set_up_as_the_guide_says(tmp_path):
    jan = (ROOT / "tests" / "fixtures" / "sync" / "sync_2024-01.xml").read_bytes()
    ledger = _checked_ledger(tmp_path, jan)
    proc = subprocess.run([BEANFLEX, *ledger, "check", "--strict"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "query setup: as the guide says" in proc.stdout
