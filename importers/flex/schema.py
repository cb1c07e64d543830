"""Schema drift: stop on a missing field the mapper cannot do without; report everything unknown (DESIGN §7).

Two tables drive it. REQUIRED (here) lists, per (section, element), the attributes without which a row cannot be
mapped at all: e.g. a `<Trade>` needs an instrument (`conid` or `symbol`), `quantity`, `currency` and a date
(`dateTime`, or `tradeDate` in old exports like pp01). It is minimal on purpose: every public sample passes, and
trimmed queries (pp12 has no tradePrice, optfut no cost) are the mapper's business, not a stop. The mapper's
owner adds entries as mapping needs grow. REQUIRED_SECTIONS lists sections that must be present when a condition
holds (e.g. closed lots when the mapper is told to follow IBKR's lots); it starts empty.

The KNOWN tables (`schema_known`) list the sections, attributes and enum values beanflex has seen or IBKR
documents. Anything else is a DriftReport warning: `unknown_section`, `unknown_attribute`, `unknown_value`.

A missing required attribute raises SchemaDriftError naming file, section, line and attribute, the number of rows
affected, and the likely cause and fix: a field not enabled in the Flex Query, or a rename by IBKR when the same
rows carry an attribute beanflex does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import consistency
from .adapter import EMPTY_MARKERS, FlexRecord, FlexStatement
from .csv_titles import title_for
from .drift import DriftReport
from .errors import SchemaDriftError
from .schema_known import KNOWN_ATTRIBUTES, KNOWN_SECTIONS, KNOWN_VALUES, STATEMENT_ATTRIBUTES, known_values


@dataclass(frozen=True)
class Need:
    """One required field: any of `names` must be present, e.g. Need(("dateTime", "tradeDate"), "Date/Time")."""

    names: tuple[str, ...]
    label: str  # the field's name in IBKR's Flex Query editor, for the hint

    def met_by(self, record: FlexRecord) -> bool:
        return not record.attrs.keys().isdisjoint(self.names)


def need(*names: str, label: str | None = None) -> Need:
    return Need(names, label or names[0])


_INSTRUMENT = need("conid", "symbol", label="Conid or Symbol")

#: (section, element) -> fields a row cannot be mapped without. Keep it minimal: every public sample must pass.
REQUIRED: dict[tuple[str, str], tuple[Need, ...]] = {
    ("Trades", "Trade"): (_INSTRUMENT, need("quantity", label="Quantity"), need("currency", label="Currency"),
                          need("dateTime", "tradeDate", label="Date/Time")),
    ("Trades", "Lot"): (_INSTRUMENT, need("quantity", label="Quantity")),
    ("TradeConfirms", "TradeConfirm"): (_INSTRUMENT, need("quantity", label="Quantity"),
                                        need("currency", label="Currency"),
                                        need("dateTime", "tradeDate", label="Date/Time")),
    ("CashTransactions", "CashTransaction"): (need("type", label="Type"), need("amount", label="Amount"),
                                              need("currency", label="Currency"),
                                              need("dateTime", "settleDate", "reportDate", label="Date/Time")),
    ("OpenPositions", "OpenPosition"): (_INSTRUMENT, need("position", label="Quantity")),
    ("CorporateActions", "CorporateAction"): (_INSTRUMENT, need("quantity", label="Quantity"),
                                              need("dateTime", "reportDate", label="Date/Time")),
    ("ConversionRates", "ConversionRate"): (need("reportDate", label="Report Date"),
                                            need("fromCurrency", label="From Currency"),
                                            need("toCurrency", label="To Currency"), need("rate", label="Rate")),
    ("OptionEAE", "OptionEAE"): (_INSTRUMENT, need("transactionType", label="Transaction Type"),
                                 need("quantity", label="Quantity"), need("date", "dateTime", label="Date")),
    ("Transfers", "Transfer"): (_INSTRUMENT, need("quantity", label="Quantity"),
                                need("date", "dateTime", "reportDate", label="Date")),
}


@dataclass(frozen=True)
class SectionRule:
    """A section that must be present when `when(statement)` holds, with the Flex Query setting that adds it."""

    section: str
    when: Callable[[FlexStatement], bool]
    reason: str  # e.g. "closing trades need their closed lots"
    fix: str  # e.g. "enable Trades → Closed Lots in the Flex Query"


#: Conditional section requirements; the mapper's owner adds rules, e.g.
#: SectionRule("Trades/Lot", has_closing_trades, "…", "enable Trades → Closed Lots in the Flex Query").
REQUIRED_SECTIONS: list[SectionRule] = []

#: Where a section lives in IBKR's Flex Query editor (Performance & Reports → Flex Queries → edit query).
QUERY_SECTION = {
    "Trades": "Trades", "TradeConfirms": "Trade Confirmations", "CashTransactions": "Cash Transactions",
    "OpenPositions": "Open Positions", "CorporateActions": "Corporate Actions", "ConversionRates": "Conversion Rates",
    "OptionEAE": "Option Exercises, Assignments and Expirations", "Transfers": "Transfers",
    "AccountInformation": "Account Information",
}


def check_statement(statement: FlexStatement, source: str, *,
                    required: dict[tuple[str, str], tuple[Need, ...]] | None = None,
                    required_sections: list[SectionRule] | None = None) -> DriftReport:
    """Check one statement against the tables; return its drift report or raise SchemaDriftError.

    Args:
      statement: a parsed FlexStatement (adapter.parse(...).statements[i]).
      source: the file named in messages, e.g. "raw/U1234567/2024/…xml".
      required, required_sections: override the module tables (tests, or a mapper with stricter needs).
    """
    required = REQUIRED if required is None else required
    rules = REQUIRED_SECTIONS if required_sections is None else required_sections
    report = DriftReport()
    for name in statement.attrs:
        if name not in STATEMENT_ATTRIBUTES:
            report.add("unknown_attribute", "FlexStatement", "FlexStatement", name, source, statement.line)
    for section, rows in statement.sections.items():
        if section not in KNOWN_SECTIONS and rows == 0:  # empty: no row to point at
            report.add("unknown_section", section, section, section, source, statement.line)
    missing: dict[tuple[str, str, Need], list[FlexRecord]] = {}
    for record in statement.records:
        known = KNOWN_ATTRIBUTES.get((record.section, record.tag))
        if record.section not in KNOWN_SECTIONS:  # one counted item per unknown section, not per attribute
            report.add("unknown_section", record.section, record.section, record.section, source, record.line)
        elif known is None:
            if record.tag not in KNOWN_SECTIONS[record.section]:
                report.add("unknown_element", record.section, record.tag, record.tag, source, record.line)
        elif not known.issuperset(record.attrs):
            for name in record.attrs:
                if name not in known:
                    report.add("unknown_attribute", record.section, record.tag, name, source, record.line)
        if _has_unknown_value(record):
            _check_values(record, report, source)
        for item in required.get((record.section, record.tag), ()):
            if not item.met_by(record):
                missing.setdefault((record.section, record.tag, item), []).append(record)
    if missing:
        (section, tag, item), rows = min(missing.items(), key=lambda kv: kv[1][0].line)
        raise _missing_attribute(section, tag, item, rows, source, len(missing))
    for rule in rules:
        section, _, tag = rule.section.partition("/")
        present = any(r.section == section and (not tag or r.tag == tag) for r in statement.records) \
            if tag else section in statement.sections
        if not present and rule.when(statement):
            raise SchemaDriftError(f"the statement for {statement.account} has no {rule.section} but {rule.reason}",
                                   file=source, section=section, line=statement.line,
                                   hint=f"{rule.fix}, then fetch or export the statement again")
    consistency.check_statement(statement, source)  # rows that contradict themselves or the calendar
    return report


#: element tag -> ((attribute, known values), ...): the enum attributes to check on that element, from KNOWN_VALUES.
_VALUE_CHECKS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {}


def _has_unknown_value(record: FlexRecord) -> bool:
    """Whether `_check_values` would report anything for this row: it asks only about the handful of enum
    attributes the row's element has, where `_check_values` looks up all ~50 attributes of every row in
    KNOWN_VALUES twice (0.3 s of 0.6 s for a 10k-trade statement). Rows it flags are reported by `_check_values`,
    so the report and its order stay the same."""
    checks = _VALUE_CHECKS.get(record.tag)
    if checks is None:
        names = dict.fromkeys(name for tag, name in KNOWN_VALUES if tag in ("*", record.tag))
        checks = _VALUE_CHECKS[record.tag] = tuple(
            (name, known_values(record.tag, name)) for name in names)
    attrs = record.attrs
    for name, known in checks:
        value = attrs.get(name)
        if value is None or known is None:
            continue
        value = value.strip()
        if value in known or value in EMPTY_MARKERS:
            continue
        if name not in ("notes", "code"):
            return True
        if any(part.strip() not in known and part.strip() not in EMPTY_MARKERS for part in value.split(";")):
            return True
    return False


def _check_values(record: FlexRecord, report: DriftReport, source: str) -> None:
    for name, value in record.attrs.items():
        known = known_values(record.tag, name)
        if known is None:
            continue
        value = value.strip()
        parts = [p.strip() for p in value.split(";")] if name in ("notes", "code") else [value]
        for part in parts:
            if part not in EMPTY_MARKERS and part not in known:
                report.add("unknown_value", record.section, record.tag, f"{name}={part}", source, record.line)


def _missing_attribute(section: str, tag: str, item: Need, rows: list[FlexRecord], source: str,
                       kinds: int) -> SchemaDriftError:
    first = rows[0]
    known = KNOWN_ATTRIBUTES.get((section, tag), frozenset())
    strangers = sorted({name for row in rows for name in row.attrs if name not in known})
    wanted = " or ".join(item.names)
    more = f"; {len(rows) - 1} more <{tag}> rows lack it too" if len(rows) > 1 else ""
    other = f"; {kinds - 1} other required field(s) are missing as well" if kinds > 1 else ""
    query_section = QUERY_SECTION.get(section, section)
    if strangers:
        hint = (f"IBKR may have renamed {wanted}: unknown attribute{'s' * (len(strangers) > 1)} "
                f"{', '.join(strangers[:5])} seen on the same rows; if so, beanflex needs updating (report it). "
                f"Otherwise enable {query_section} → {item.label} in the Flex Query")
    else:
        hint = (f"the Flex Query does not include it: enable {query_section} → {item.label} in the Flex Query "
                "(Performance & Reports → Flex Queries), then fetch or export the statement again")
    if source.lower().endswith(".csv"):  # a CSV statement: name IBKR's column title, as the file shows it
        titles = " or ".join(title_for(section, name) for name in item.names)
        return SchemaDriftError(f"this {tag} row (and its header) has no column {titles}, which beanflex needs "
                                f"to map it{more}{other}", file=source, section=section, line=first.line,
                                attribute=f"{titles} ({wanted})", hint=hint)
    return SchemaDriftError(f"<{tag}> row has no {wanted}, which beanflex needs to map it{more}{other}",
                            file=source, section=section, line=first.line, attribute=wanted, hint=hint)
