"""Is the Flex Query set up the way docs/flex-query-setup.md says? Findings for `beanflex check` and `sync`.

A statement only holds the sections its query selects, and an empty section is still written as an empty element
(`<CorporateActions />`), so a section that is *absent* means "not selected in the query", never "no activity".
Each finding names the statement, the missing piece, and the box to tick in Client Portal, e.g.

    raw/U1/2024/…xml: section <Transfers> is missing: select "Transfers" in the Flex Query
    (Performance & Reports → Flex Queries → edit the Activity Flex Query); without it positions moved in or out
    are missing

Findings are warnings, not errors: the import works with what is there, and reports what it could not map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beanflex.importers.flex import archive
from beanflex.importers.flex.adapter import FlexDocument, FlexStatement, parse
from beanflex.importers.flex.errors import FlexError

WHERE = "in the Flex Query (Performance & Reports → Flex Queries → edit the Activity Flex Query)"


@dataclass(frozen=True)
class Expected:
    """One section the guide asks for: its XML name, its name in Client Portal, what is lost without it."""

    section: str  # the XML container, e.g. "Trades"
    portal: str  # what Client Portal calls it, e.g. "Trades"
    lost: str  # what beanflex cannot do without it
    action: str = ""  # what to do, when it is not selecting a section

    def instruction(self) -> str:
        return self.action or f'select "{self.portal}"'


EXPECTED = (
    Expected("AccountInformation", "Account Information", "the base currency is unknown"),
    Expected("Trades", "Trades (options Execution and Closed Lots)", "no trade is imported"),
    Expected("OpenPositions", "Open Positions", "marks and IBKR's cost basis are missing, so nothing reconciles"),
    Expected("CashTransactions", "Cash Transactions", "dividends, interest, fees and deposits are missing"),
    Expected("CorporateActions", "Corporate Actions", "splits and mergers are missing and lots go wrong"),
    Expected("OptionEAE", "Option Exercises, Assignments and Expirations", "how options ended is unknown"),
    Expected("CashReport", "Cash Report", "ending cash per currency is not checked"),
    Expected("ConversionRates", "Conversion Rates", "FX rates to the base currency are missing",
             action='set "Include Currency Rates" to Yes'),
    Expected("SecuritiesInfo", "Financial Instrument Information", "ISINs and multipliers come only from trades"),
    Expected("Transfers", "Transfers", "positions moved in or out are missing"),
)


def statement_findings(statement: FlexStatement, source: str) -> list[str]:
    """What the guide asks for and this statement lacks, e.g. a missing section or closed lots."""
    findings = []
    for expected in EXPECTED:
        if expected.section not in statement.sections:
            findings.append(f"{source}: section <{expected.section}> is missing: {expected.instruction()} "
                            f"{WHERE}; without it {expected.lost}")
    trades = list(statement.rows("Trades"))
    closing = [r for r in trades if r.tag == "Trade" and "C" in (r.text("openCloseIndicator") or "").split(";")]
    if closing and not any(r.tag == "Lot" for r in trades):
        findings.append(f"{source}:{closing[0].line}: closing trades but no <Lot> rows: select Trades → "
                        f"Closed Lots {WHERE}; without them sales close lots by FIFO, not by IBKR's choice")
    cash = list(statement.rows("CashTransactions", "CashTransaction"))
    if cash and not any((r.text("levelOfDetail") or "").upper() == "DETAIL" for r in cash):
        findings.append(f"{source}:{cash[0].line}: Cash Transactions has summary rows only: select its Detail "
                        f"option {WHERE}; summary rows have no transaction ids to de-duplicate on")
    return findings


def document_findings(document: FlexDocument) -> list[str]:
    """Findings for every statement of one payload; a Trade Confirmation query gets one finding only."""
    if document.type and document.type != "AF":
        return [f"{document.source}: this is a {document.type!r} Flex Query, not an Activity Flex Query (type "
                f"'AF'): create an Activity Flex Query and use its Query ID"]
    findings: list[str] = []
    for statement in document.statements:
        for finding in statement_findings(statement, document.source):
            if finding not in findings:
                findings.append(finding)
    return findings


def newest_findings(ledger_dir: Path) -> list[str]:
    """Findings for the newest archived statement (by toDate): what the query produces now; [] if none."""
    files = archive.list_archive(ledger_dir)
    if not files:
        return []
    newest = max(files, key=lambda a: (a.to_date is not None, a.to_date, a.relpath))
    try:
        return document_findings(parse(newest.path.read_bytes(), source=newest.relpath))
    except FlexError as exc:
        return [str(exc)]
