"""Flex CSV bytes -> the same raw records as the XML: every field kept as given, with its section and line.

IBKR delivers a Flex Query as CSV in two shapes, and this reads both:

- with header and trailer records: `BOF` (account, query name, type, fromDate, toDate, whenGenerated), `BOA`
  (one account), `BOS` (a section code and its title), the section's rows, `EOS` (code, row count), `EOA`, `EOF`;
  rows may also carry a line descriptor and section code, `"HEADER","TRNT",titles…` and `"DATA","TRNT",values…`;
- without them: a header row of column titles, then data rows, repeated for every section. The section is then
  told by its columns (`csv_titles.guess_section`), the account by the `ClientAccountID` column, and the period,
  which only `BOF` states, is the first to the last date among the rows (`reportDate`, `dateTime`, `tradeDate`,
  `date`). Tick "Include header and trailer records" in the Flex Query to keep IBKR's own period.

Each row becomes a FlexRecord whose attribute names are the XML ones (`csv_titles.attribute_for`), so the mapper
cannot tell a CSV statement from an XML one; only `line` (and so `flex_src`) cites the CSV line. A row whose field
count differs from its header's, a data row before any header, an `EOS` whose count disagrees with the rows read,
or a `BOF` without `EOF` (a truncated download) stops the import naming file, section and line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from .adapter import EMPTY_MARKERS, FlexDocument, FlexRecord, FlexStatement, parse_date, parse_datetime
from .csv_titles import SECTION_CODES, attribute_for, guess_section, is_known_title, row_tag
from .errors import FlexParseError

CONTROL = frozenset({"BOF", "BOA", "BOS", "HEADER", "DATA", "EOS", "EOA", "EOF", "MSG"})
_PERIOD_FIELDS = ("reportDate", "dateTime", "tradeDate", "date")


def looks_like_csv(head: bytes) -> bool:
    """True when a payload starts like a Flex CSV (a quoted field, a control record, or a title row)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text or text[:1] == b"<":
        return False
    first = text.split(b"\n", 1)[0]
    return text[:1] == b'"' or (b"," in first and first.split(b",", 1)[0].strip().isalpha())


@dataclass
class _Section:
    name: str
    code: str | None
    line: int
    titles: list[str] | None = None
    names: list[str] | None = None  # the XML attribute of each column
    rows: int = 0


@dataclass
class _Reader:
    """The state while walking the records: the current account, section and column headers."""

    source: str
    query_name: str = ""
    kind: str = "AF"
    bof: list[str] | None = None
    eof: bool = False
    account: str | None = None  # from BOA
    section: _Section | None = None
    headers: dict[str, _Section] = field(default_factory=dict)  # section code -> its HEADER (line descriptors)
    statements: dict[str, FlexStatement] = field(default_factory=dict)
    last: FlexStatement | None = None
    orphans: list[FlexRecord] = field(default_factory=list)  # rows without an account before any statement

    def error(self, message: str, line: int, hint: str | None = None, section: str | None = None):
        return FlexParseError(message, file=self.source, line=line, hint=hint,
                              section=section or (self.section.name if self.section else None))


def parse(data: bytes, source: str = "<bytes>") -> FlexDocument:
    """Parse Flex CSV bytes into a FlexDocument (format "csv"); FlexParseError names file, section and line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FlexParseError("the file is not UTF-8 text", file=source, line=line,
                             hint="download the statement again as CSV or XML from IBKR") from None
    reader = _Reader(source)
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for cells in rows:
            start, line = line, rows.line_num + 1
            if cells and any(c.strip() for c in cells):
                _record(reader, cells, start)
    except csv.Error as exc:
        raise reader.error(f"not valid CSV: {exc}", rows.line_num,
                           "the download may be truncated; fetch or download it again") from None
    return _document(reader, line)


def _record(reader: _Reader, cells: list[str], line: int) -> None:
    kind = cells[0].strip()
    if kind not in CONTROL:
        _plain_row(reader, cells, line)
        return
    if kind == "BOF":
        reader.bof = cells
        reader.query_name = cells[2] if len(cells) > 2 else ""
    elif kind == "BOA":
        reader.account = cells[1].strip() if len(cells) > 1 else ""
        _statement(reader, reader.account, line)
    elif kind == "BOS":
        code = cells[1].strip() if len(cells) > 1 else ""
        reader.section = _Section(SECTION_CODES.get(code, code), code, line)
        if reader.account is not None:
            statement = _statement(reader, reader.account, line)
            statement.sections.setdefault(reader.section.name, 0)
    elif kind == "HEADER":
        code = cells[1].strip() if len(cells) > 1 else ""
        section = _Section(SECTION_CODES.get(code, code), code, line)
        _set_titles(reader, section, cells[2:], line)
        reader.headers[code] = section
        if reader.section is None or reader.section.code != code:
            reader.section = section
        else:
            _set_titles(reader, reader.section, cells[2:], line)
    elif kind == "DATA":
        code = cells[1].strip() if len(cells) > 1 else ""
        section = reader.section if reader.section and reader.section.code == code and reader.section.names \
            else reader.headers.get(code)
        if section is None:
            raise reader.error(f"a DATA row of section {code} before its HEADER row", line,
                               "the file is cut or edited; download it again", SECTION_CODES.get(code, code))
        _data_row(reader, section, cells[2:], line)
    elif kind == "EOS":
        _end_section(reader, cells, line)
    elif kind == "EOA":
        reader.account = None
    elif kind == "EOF":
        reader.eof = True


def _set_titles(_reader: _Reader, section: _Section, titles: list[str], line: int) -> None:
    section.titles = [t.strip() for t in titles]
    section.names = [attribute_for(section.name, t) for t in section.titles]
    section.line = line


def _plain_row(reader: _Reader, cells: list[str], line: int) -> None:
    """A row without a line descriptor: the header row of a section, or one of its data rows."""
    section = reader.section
    if section is not None and section.code is not None:  # inside BOS … EOS
        if section.names is None:
            _set_titles(reader, section, cells, line)
        else:
            _data_row(reader, section, cells, line)
        return
    if _is_header(cells):
        name = guess_section([c.strip() for c in cells])
        if name is None:
            raise reader.error("cannot tell which section these columns belong to", line,
                               "tick 'Include section code and line descriptor' in the Flex Query's delivery "
                               "settings, or download the statement as XML")
        reader.section = _Section(name, None, line)
        _set_titles(reader, reader.section, cells, line)
        return
    if section is None or section.names is None:
        raise reader.error("a data row before any row of column titles", line,
                           "tick 'Include column headers' in the Flex Query's delivery settings")
    _data_row(reader, section, cells, line)


def _is_header(cells: list[str]) -> bool:
    """A row of column titles: no empty field, and most fields titles beanflex knows (`Symbol`, `Buy/Sell`).

    A data row has amounts, dates and ids, which no title matches (`"U1234567","USD","Test User"` is data).
    """
    names = [c.strip() for c in cells]
    if len(names) < 2 or not all(names):
        return False
    return sum(is_known_title(n) for n in names) * 5 >= len(names) * 3


def _data_row(reader: _Reader, section: _Section, values: list[str], line: int) -> None:
    if len(values) != len(section.names):
        raise reader.error(f"this row has {len(values)} fields, its header (line {section.line}) has "
                           f"{len(section.names)}", line, "the file is cut or edited; download it again",
                           section.name)
    if section.name == "Trades" and "levelOfDetail" not in section.names:
        # XML names each row (<Trade>, <Lot>, <Order>); CSV rows say it only in this column, and counting a
        # closed lot as a trade would book it twice.
        raise reader.error("the Trades section has no LevelOfDetail column: beanflex cannot tell executions "
                           "from closed lots and orders without it", line,
                           "tick Trades → Level of Detail in the Flex Query's fields, or download it as XML",
                           "Trades")
    attrs = dict(zip(section.names, values))
    account = reader.account
    if account is None:
        given = (attrs.get("accountId") or "").strip()
        account = given if given not in EMPTY_MARKERS else None
    if account is None and reader.last is not None:
        account = reader.last.account
    section.rows += 1
    record_account = account if account is not None else ""
    record = FlexRecord(section.name, row_tag(section.name, attrs), record_account, line, attrs, reader.source)
    if account is None:
        reader.orphans.append(record)
        return
    statement = _statement(reader, account, line)
    statement.records.append(record)
    statement.sections[section.name] = statement.sections.get(section.name, 0) + 1


def _end_section(reader: _Reader, cells: list[str], line: int) -> None:
    section = reader.section
    code = cells[1].strip() if len(cells) > 1 else ""
    if section is None or section.code != code:
        raise reader.error(f"EOS of section {code} without its BOS", line, "the file is cut or edited; download "
                           "it again", SECTION_CODES.get(code, code))
    declared = cells[2].strip() if len(cells) > 2 else ""
    if declared.isdigit() and int(declared) != section.rows:
        raise reader.error(f"the section's trailer says {declared} rows, the file holds {section.rows}", line,
                           "the file is cut or edited; download it again")
    reader.section = None


def _statement(reader: _Reader, account: str, line: int) -> FlexStatement:
    statement = reader.statements.get(account)
    if statement is None:
        attrs = {"accountId": account}
        if reader.bof is not None:
            attrs.update(_bof_period(reader.bof))
        statement = reader.statements[account] = FlexStatement(
            account=account, from_date=None, to_date=None, when_generated=None, line=line, attrs=attrs)
    reader.last = statement
    return statement


def _bof_period(bof: list[str]) -> dict[str, str]:
    """fromDate, toDate, whenGenerated from a BOF record: `BOF, account, query, type, from, to, generated, …`."""
    found = {}
    for name, index in (("fromDate", 4), ("toDate", 5), ("whenGenerated", 6)):
        value = bof[index].strip() if len(bof) > index else ""
        if value and parse_datetime(value) is not None:
            found[name] = value
    return found


def _document(reader: _Reader, lines: int) -> FlexDocument:
    if reader.bof is not None and not reader.eof:
        raise FlexParseError("the file starts with a BOF record but has no EOF record", file=reader.source,
                             line=lines, hint="the download is truncated; download it again")
    if reader.section is not None and reader.section.code is not None and reader.bof is not None:
        raise reader.error("a section has no EOS record", reader.section.line, "the download is truncated")
    statements = list(reader.statements.values())
    if not statements:
        raise FlexParseError("no account's rows in this CSV file", file=reader.source,
                             hint="is this an IBKR Flex Query CSV? it needs the ClientAccountID column or "
                                  "header and trailer records")
    if reader.orphans:  # rows without an account column (ConversionRates) before the first account's rows
        statements[0].records[:0] = reader.orphans
        for record in reader.orphans:
            statements[0].sections[record.section] = statements[0].sections.get(record.section, 0) + 1
    for statement in statements:
        _dates(statement)
    return FlexDocument(query_name=reader.query_name, type=reader.kind, statements=statements,
                        source=reader.source, format="csv")


def _dates(statement: FlexStatement) -> None:
    """The statement's period: BOF's, else the first and last date among its rows (see the module docstring)."""
    if "fromDate" not in statement.attrs or "toDate" not in statement.attrs:
        days = [d for r in statement.records for d in (_day(r.attrs.get(n)) for n in _PERIOD_FIELDS) if d]
        if days:
            statement.attrs.setdefault("fromDate", min(days).strftime("%Y%m%d"))
            statement.attrs.setdefault("toDate", max(days).strftime("%Y%m%d"))
    holder = FlexRecord("FlexStatement", "FlexStatement", statement.account, statement.line, statement.attrs,
                        statement.records[0].source if statement.records else "")
    statement.from_date = holder.date("fromDate")
    statement.to_date = holder.date("toDate")
    statement.when_generated = holder.datetime("whenGenerated")


def _day(value: str | None):
    if not value or value.strip() in EMPTY_MARKERS:
        return None
    parsed = parse_datetime(value.strip())
    return parsed.date() if parsed else parse_date(value.strip())
