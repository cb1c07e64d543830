"""Write a Flex XML statement as IBKR writes the same query as CSV: the test fixtures' CSV twins.

Its own table of IBKR's column titles (independent of importers/flex/csv_titles.py, so a wrong entry there
shows as a mismatch instead of cancelling out). Every field is quoted, as IBKR does. Two shapes:
`records=True` with BOF/BOA/BOS/HEADER/DATA/EOS/EOA/EOF records, `records=False` with only title rows and data
rows, one block per section and account.

Run `python tests/flex_csv.py IN.xml OUT.csv [--plain]` to write a fixture; the fixtures are committed, and
tests/test_csv_statements.py checks they map to their XML twin's entries.
"""

from __future__ import annotations

import csv
import io
import sys

from lxml import etree

CODES = {"AccountInformation": "ACCT", "Trades": "TRNT", "OpenPositions": "POST", "CashTransactions": "CTRN",
         "CorporateActions": "CORP", "ConversionRates": "RATE", "EquitySummaryInBase": "EQUT"}
LABELS = {"Trades": "Trades; trade date basis", "OpenPositions": "Open Positions; summary",
          "CashTransactions": "Cash Transactions", "CorporateActions": "Corporate Actions",
          "ConversionRates": "Conversion Rates", "AccountInformation": "Account Information"}
TITLES = {"accountId": "ClientAccountID", "acctAlias": "AccountAlias", "currency": "CurrencyPrimary",
          "assetCategory": "AssetClass", "fxRateToBase": "FXRateToBase", "isin": "ISIN", "cusip": "CUSIP",
          "figi": "FIGI", "buySell": "Buy/Sell", "putCall": "Put/Call", "openCloseIndicator": "Open/CloseIndicator",
          "notes": "Notes/Codes", "ibCommission": "IBCommission", "ibCommissionCurrency": "IBCommissionCurrency",
          "ibOrderID": "IBOrderID", "ibExecID": "IBExecID", "transactionID": "TransactionID"}
SECTION_TITLES = {("Trades", "cost"): "CostBasis", ("OpenPositions", "position"): "Quantity",
                  ("CashTransactions", "dateTime"): "Date/Time"}


def title(section: str, name: str) -> str:
    return SECTION_TITLES.get((section, name)) or TITLES.get(name) or name[:1].upper() + name[1:]


def sections(statement) -> list[tuple[str, list]]:
    """(section, rows) in document order; a lone data element (AccountInformation) is its own section."""
    found = []
    for child in statement:
        if not isinstance(child.tag, str):
            continue
        if len(child) == 0 and child.attrib:
            found.append((child.tag, [child]))
        else:
            found.append((child.tag, [row for row in child if isinstance(row.tag, str)]))
    return found


def uniform(xml: bytes, codes: dict[str, str]) -> bytes:
    """`xml` as IBKR would write it for a CSV twin: only sections with a code, and every row of a section
    carrying every attribute of the section (empty where it had none), as CSV's one header per section does."""
    root = etree.fromstring(xml, etree.XMLParser(remove_comments=True, remove_pis=True))
    for statement in root.iter("FlexStatement"):
        for child in list(statement):
            if child.tag not in codes:
                statement.remove(child)
        for _section, rows in sections(statement):
            names = list(dict.fromkeys(name for row in rows for name in row.attrib))
            for row in rows:
                old = dict(row.attrib)
                row.attrib.clear()
                for name in names:
                    row.set(name, old.get(name, ""))
    return etree.tostring(root)


def to_csv(xml: bytes, records: bool = True, codes: dict[str, str] | None = None) -> str:
    root = etree.fromstring(xml)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    statements = list(root.iter("FlexStatement"))
    first = statements[0]
    if records:
        writer.writerow(["BOF", first.get("accountId"), root.get("queryName"), "1", first.get("fromDate"),
                         first.get("toDate"), first.get("whenGenerated"), "", ""])
    for statement in statements:
        if records:
            writer.writerow(["BOA", statement.get("accountId")])
        for section, rows in sections(statement):
            code = (codes or CODES)[section]
            names = list(rows[0].attrib) if rows else []
            titles = [title(section, n) for n in names]
            if records:
                writer.writerow(["BOS", code, LABELS.get(section, section)])
                writer.writerow(["HEADER", code, *titles])
            elif rows:
                writer.writerow(titles)
            for row in rows:
                values = [row.get(n, "") for n in names]
                writer.writerow(["DATA", code, *values] if records else values)
            if records:
                writer.writerow(["EOS", code, str(len(rows)), ""])
        if records:
            writer.writerow(["EOA", statement.get("accountId")])
    if records:
        writer.writerow(["EOF", str(len(statements))])
    return out.getvalue()


if __name__ == "__main__":
    source, target = sys.argv[1], sys.argv[2]
    with open(source, "rb") as handle:
        text = to_csv(handle.read(), records="--plain" not in sys.argv)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
