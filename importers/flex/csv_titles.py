"""Flex CSV's vocabulary: section codes and IBKR's column titles, each mapped to the XML name the mapper reads.

A Flex Query delivered as CSV carries the same fields as its XML, under other names. Sections are four-letter
codes (`"BOS","TRNT","Trades; trade date basis"`), and columns carry IBKR's display titles. Most titles are the XML
attribute with its first letters in capitals (`TradePrice` = `tradePrice`, `IBCommission` = `ibCommission`,
`FXRateToBase` = `fxRateToBase`, `Buy/Sell` = `buySell`), so `attribute_for` matches a title against the section's
known attributes, ignoring case and `/`. The exceptions, where IBKR's title is another word, are in TITLES.
A title that matches nothing becomes its lower-camel-case spelling (`NewField` = `newField`) and reaches the
schema-drift report as an unknown attribute, exactly as a new XML attribute would.

Facts from IBKR's Reporting Reference and public Flex CSV samples (column lists of Trades, Open Positions, Cash
Transactions, Cash Report), not copied text.
"""

from __future__ import annotations

import functools
import re

from .schema_known import KNOWN_ATTRIBUTES, KNOWN_SECTIONS

#: Section code -> the XML section (container) name.
SECTION_CODES: dict[str, str] = {
    "ACCT": "AccountInformation",
    "TRNT": "Trades",
    "POST": "OpenPositions",
    "CTRN": "CashTransactions",
    "CORP": "CorporateActions",
    "RATE": "ConversionRates",
    "EQUT": "EquitySummaryInBase",
    "CRTT": "CashReport",
    "TRFR": "Transfers",
    "SECU": "SecuritiesInfo",
    "OPTT": "OptionEAE",
    "STFU": "StmtFunds",
    "FIFO": "FIFOPerformanceSummaryInBase",
    "MTMP": "MTMPerformanceSummaryInBase",
    "CDIV": "ChangeInDividendAccruals",
    "ODIV": "OpenDividendAccruals",
    "INTR": "InterestAccruals",
    "FXTR": "FxTransactions",
    "TCNF": "TradeConfirms",
    "NSPS": "NetStockPositionSummary",
    "UNBC": "UnbundledCommissionDetails",
}

#: Titles that are not the attribute's name capitalised: (section or "*", title) -> XML attribute.
TITLES: dict[tuple[str, str], str] = {
    ("*", "ClientAccountID"): "accountId",
    ("*", "AccountAlias"): "acctAlias",
    ("*", "CurrencyPrimary"): "currency",
    ("*", "AssetClass"): "assetCategory",
    ("*", "Notes/Codes"): "notes",
    ("*", "Date/Time"): "dateTime",
    ("Trades", "CostBasis"): "cost",  # Trades' `cost`; CorporateActions' `CostBasis` is `costBasis`
    ("OpenPositions", "Quantity"): "position",
}

#: The row element of each section; Trades rows are told apart by their level of detail (TRADE_TAGS).
_ROW_TAGS = {section: next(iter(tags)) for section, tags in KNOWN_SECTIONS.items() if len(tags) == 1}
TRADE_TAGS = {"EXECUTION": "Trade", "CLOSED_LOT": "Lot", "ORDER": "Order", "SYMBOL_SUMMARY": "SymbolSummary",
              "ASSET_SUMMARY": "AssetSummary"}

_FOLD = re.compile(r"[^a-z0-9]")


def fold(title: str) -> str:
    """A title or attribute name with case and punctuation dropped: `Buy/Sell` and `buySell` -> `buysell`."""
    return _FOLD.sub("", title.lower())


@functools.lru_cache(maxsize=None)
def _known(section: str) -> dict[str, str]:
    """fold(attribute) -> attribute, over every row element of `section` (all sections for an unknown one)."""
    found: dict[str, str] = {}
    for (name, _tag), attributes in sorted(KNOWN_ATTRIBUTES.items()):
        if name == section:
            found.update({fold(a): a for a in sorted(attributes)})
    if not found:
        for attributes in KNOWN_ATTRIBUTES.values():
            for a in sorted(attributes):
                found.setdefault(fold(a), a)
    return found


def attribute_for(section: str, title: str) -> str:
    """The XML attribute a CSV column title stands for in `section`.

    `("Trades", "IBCommission")` -> `ibCommission`; `("Trades", "CostBasis")` -> `cost`;
    `("CorporateActions", "CostBasis")` -> `costBasis`; `("OpenPositions", "Quantity")` -> `position`;
    `("Trades", "BrandNewField")` -> `brandNewField` (unknown: reported as drift).
    """
    title = title.strip()
    exact = TITLES.get((section, title)) or TITLES.get(("*", title))
    if exact:
        return exact
    known = _known(section).get(fold(title))
    if known:
        return known
    letters = title.replace("/", "").replace(" ", "")
    lead = re.match(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]+$|[A-Z]", letters)
    return (lead.group(0).lower() + letters[lead.end():]) if lead else letters


def title_for(section: str, attribute: str) -> str:
    """The CSV column title of an XML attribute, for messages: `quantity` -> `Quantity`, `currency` ->
    `CurrencyPrimary`, OpenPositions `position` -> `Quantity`."""
    for (where, title), name in TITLES.items():
        if name == attribute and where in (section, "*") and TITLES.get((section, title), name) == name:
            return title
    return attribute[:1].upper() + attribute[1:]


def is_known_title(title: str) -> bool:
    """True for a title of some section: `Buy/Sell`, `ClientAccountID`, `TradePrice` (not `USD`, `Test User`)."""
    return any(t == title for _, t in TITLES) or fold(title) in _known("")


def row_tag(section: str, attrs: dict[str, str]) -> str:
    """The XML element of a row: `Trade`, `Lot`, `Order`… for Trades (by level of detail), else the section's one."""
    if section == "Trades":
        return TRADE_TAGS.get((attrs.get("levelOfDetail") or "").strip(), "Trade")
    if section == "TradeConfirms":
        return "TradeConfirm"
    return _ROW_TAGS.get(section, section)


def guess_section(titles: list[str]) -> str | None:
    """The section a header row (without a section code) belongs to: the one knowing most of its columns.

    None when two sections tie: the file must then say (tick "Include section code and line descriptor").
    E.g. columns ClientAccountID, Buy/Sell, TradePrice, Quantity -> Trades (OpenPositions knows neither
    Buy/Sell nor TradePrice).
    """
    scores = []
    for section in sorted(KNOWN_SECTIONS):
        known = set(_known(section).values()) if any(s == section for s, _ in KNOWN_ATTRIBUTES) else set()
        columns = [attribute_for(section, title) for title in titles]
        scores.append((sum(c in known for c in columns), section))
    scores.sort(reverse=True)
    if not scores or scores[0][0] == 0 or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return None
    return scores[0][1]
