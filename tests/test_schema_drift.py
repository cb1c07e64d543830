"""Schema drift: the report for every public sample, unknowns as warnings, a missing required field as a stop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.cmd_init import create_skeleton
from beanflex.importers.flex import archive, schema
from beanflex.importers.flex.adapter import parse
from beanflex.importers.flex.errors import SchemaDriftError
from samples import public_samples

SMALL = (Path(__file__).parent / "fixtures" / "foundation" / "small.xml").read_bytes()
BEANFLEX = str(Path(sys.executable).parent / "beanflex")

#: The drift report of each public sample. The KNOWN tables were built from these samples, so each is empty:
#: a new line here means IBKR (or a new sample) brought something beanflex does not know yet.
EXPECTED_DRIFT: dict[str, list[str]] = {
    "bankroll__ibkr_activity.xml": [], "bankroll__ibkr_trades.xml": [],
    "ib-flex-reader__StatementOfFunds.xml": [], "ib-flex-reader__kmi.xml": [],
    "ib-flex__activity_complex_corporate_actions.xml": [], "ibflex__crypto_transfer.xml": [],
    "opensteuerauszug__eTax_report_anonymised_2025.xml": [],
    "opensteuerauszug__minimal_short_options_repro_2025.xml": [],
    "opensteuerauszug__options_future_2025.xml": [], "opensteuerauszug__vtandchill_2025.xml": [],
    "portfolio__testIBFlexStatementFile01.xml": [], "portfolio__testIBFlexStatementFile02.xml": [],
    "portfolio__testIBFlexStatementFile09.xml": [], "portfolio__testIBFlexStatementFile12.xml": [],
    "portfolio__testIBFlexStatementFile14.xml": [], "portfolio__testIBFlexStatementFile20.xml": [],
    "portfolio__testIBFlexStatementFile21.xml": [], "portfolio__testIBFlexStatementFile24.xml": [],
    "portfolio__testIBFlexStatementFile26.xml": [], "portfolio__testIBFlexStatementFile28.xml": [],
    "portfolio__testIBFlexStatementFile29.xml": [], "uabean__beancount.xml": [],
    "alens-importers__forex-mix.xml": [], "beancount_reds_importers__dividend+tax.xml": [],
    "ibkr-flexquery-client-lib__report.xml": [],
}


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_drift_report_of_each_public_sample(path):
    doc = parse(path.read_bytes(), path.name)
    lines = [line for st in doc.statements for line in schema.check_statement(st, path.name).lines()]
    assert lines == EXPECTED_DRIFT[path.name]


def drifted(text: bytes) -> list[str]:
    (statement,) = parse(text, "drift.xml").statements
    return schema.check_statement(statement, "drift.xml").lines()


def test_unknowns_are_counted_warnings_never_errors():
    text = SMALL.replace(b'transactionID="1001"', b'transactionID="1001" fooBar="1"') \
        .replace(b'notes=""', b'notes="P;Zz"').replace(b'assetCategory="STK"', b'assetCategory="SPACESHIP"') \
        .replace(b"</FlexStatement>", b"<NewThings><NewThing a=\"1\" /><NewThing a=\"2\" /></NewThings>\n"
                                      b"</FlexStatement>") \
        .replace(b'type="Deposits/Withdrawals"', b'type="Deposits &amp; Transfers"')
    assert drifted(text) == [
        "drift.xml:7: Trades: unknown attribute 'fooBar' on <Trade> (1 row)",
        "drift.xml:7: Trades: unknown value assetCategory=SPACESHIP on <Trade> (1 row)",
        "drift.xml:7: Trades: unknown value notes=Zz on <Trade> (1 row)",
        "drift.xml:10: CashTransactions: unknown value type=Deposits & Transfers on <CashTransaction> (1 row)",
        "drift.xml:12: NewThings: unknown section <NewThings> (2 rows)",
    ]
    known_section_new_row = SMALL.replace(b"</Trades>", b'<WashSale a="1" />\n</Trades>')
    assert drifted(known_section_new_row) == ["drift.xml:8: Trades: unknown element <WashSale> (1 row)"]
    empty_new_section = SMALL.replace(b"</FlexStatement>", b"<Nothing />\n</FlexStatement>")
    assert drifted(empty_new_section) == ["drift.xml:4: Nothing: unknown section <Nothing> (1 row)"]


def test_missing_required_attribute_names_file_section_line_attribute_and_fix():
    text = SMALL.replace(b' quantity="10"', b"")
    (statement,) = parse(text, "x.xml").statements
    with pytest.raises(SchemaDriftError) as err:
        schema.check_statement(statement, "raw/U1234567/2024/x.xml")
    assert (err.value.file, err.value.section, err.value.line, err.value.attribute) == (
        "raw/U1234567/2024/x.xml", "Trades", 7, "quantity")
    assert str(err.value) == (
        "raw/U1234567/2024/x.xml:7, section Trades, attribute quantity: <Trade> row has no quantity, which beanflex "
        "needs to map it (the Flex Query does not include it: enable Trades → Quantity in the Flex Query "
        "(Performance & Reports → Flex Queries), then fetch or export the statement again)")


def test_a_rename_is_suggested_when_an_unknown_attribute_sits_on_the_same_rows():
    text = SMALL.replace(b' dateTime="20240105;093000" tradeDate="20240105"', b' tradeDateTime="20240105;093000"')
    (statement,) = parse(text, "x.xml").statements
    with pytest.raises(SchemaDriftError) as err:
        schema.check_statement(statement, "x.xml")
    assert err.value.attribute == "dateTime or tradeDate"
    assert "IBKR may have renamed dateTime or tradeDate: unknown attribute tradeDateTime seen on the same rows" \
        in str(err.value)


def test_missing_required_section_rule_says_which_query_setting_to_enable():
    closing = SMALL.replace(b'openCloseIndicator="O"', b'openCloseIndicator="C"')
    rule = schema.SectionRule(
        "Trades/Lot", lambda st: any(r.text("openCloseIndicator") == "C" for r in st.rows("Trades", "Trade")),
        "it has closing trades, whose lots beanflex closes exactly as IBKR did",
        "enable Trades → Closed Lots in the Flex Query")
    (statement,) = parse(closing, "x.xml").statements
    with pytest.raises(SchemaDriftError) as err:
        schema.check_statement(statement, "x.xml", required_sections=[rule])
    assert str(err.value).startswith("x.xml:4, section Trades: the statement for U1234567 has no Trades/Lot")
    assert "enable Trades → Closed Lots in the Flex Query" in str(err.value)
    (opening_only,) = parse(SMALL, "x.xml").statements
    assert not schema.check_statement(opening_only, "x.xml", required_sections=[rule])


def test_trimmed_exports_still_pass():
    """pp12 lacks tradePrice/proceeds/IDs; pp01 has tradeDate+tradeTime; optfut lacks cost: none is required."""
    for name in ("portfolio__testIBFlexStatementFile12.xml", "portfolio__testIBFlexStatementFile01.xml",
                 "opensteuerauszug__options_future_2025.xml"):
        path = next(p for p in public_samples() if p.name == name)
        for statement in parse(path.read_bytes(), name).statements:
            schema.check_statement(statement, name)


def test_import_stops_with_exit_1_and_generated_unchanged(tmp_path):
    create_skeleton(tmp_path)
    bad = tmp_path / "statement.xml"
    bad.write_bytes(SMALL.replace(b' currency="USD" fxRateToBase="1" assetCategory="STK"', b' assetCategory="STK"'))
    before = sorted(p.read_bytes() for p in (tmp_path / "ledger" / "generated").rglob("*") if p.is_file())
    proc = subprocess.run([BEANFLEX, "--ledger", str(tmp_path / "ledger" / "main.beancount"), "import", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert f"{bad}:7, section Trades, attribute currency: <Trade> row has no currency" in proc.stderr
    after = sorted(p.read_bytes() for p in (tmp_path / "ledger" / "generated").rglob("*") if p.is_file())
    assert after == before


def test_check_shows_drift_and_strict_exits_3(tmp_path):
    create_skeleton(tmp_path)
    ledger = tmp_path / "ledger"
    archive.store(SMALL.replace(b'transactionID="1001"', b'transactionID="1001" fooBar="1"'), ledger, "1")
    args = ["--ledger", str(ledger / "main.beancount"), "check"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "raw archive: 1 file(s), 1 drift item(s), 0 error(s)" in result.output
    assert "unknown attribute 'fooBar' on <Trade> (1 row)" in result.output
    strict = CliRunner().invoke(cli, [*args, "--strict"])
    assert strict.exit_code == 3, strict.output


def test_unknown_statement_attribute_is_drift():
    text = SMALL.replace(b'period="LastYear"', b'period="LastYear" timezone="EST"')
    assert drifted(text) == ["drift.xml:4: FlexStatement: unknown attribute 'timezone' on <FlexStatement> (1 row)"]
