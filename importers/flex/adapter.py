"""Flex XML bytes -> raw records: every attribute kept as given, with its section and source line.

The adapter interprets nothing. It finds the statements and their rows and offers typed accessors that
understand IBKR's formats (several date styles, `MULTI`, empty markers), so the mapper never parses text itself.
Parsing is safe by construction: no DTD, no entity expansion, no network, no huge trees.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterator, Mapping

from lxml import etree

from .errors import FlexParseError

#: Values IBKR writes where a field has no value.
EMPTY_MARKERS = frozenset({"", "-", "--", "N/A"})
#: IBKR's marker for "several values" in summary rows; treated as no single value.
MULTI = "MULTI"
#: Numbers a statement can hold: |x| < 1E16 (a quadrillion in any currency, 16 digits) and, unless 0, |x| >= 1E-20
#: (FX rates and per-unit costs have ~10 decimals). `NaN`, `Infinity` or `1e400` would break every sum later.
MAX_MAGNITUDE, MIN_MAGNITUDE = 15, -20
_NO_VALUE = EMPTY_MARKERS | {MULTI}  # text() is called ~800k times for a 10k-trade statement: one lookup

_DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%d-%b-%y")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_DATETIME_SPLIT = re.compile(r"^(?P<date>[^;,T ]+)(?:[;,T ]\s*(?P<time>\d{1,2}:?\d{2}(?::?\d{2})?))?(?:\s+[A-Z]{2,5})?$")


@dataclass(frozen=True, slots=True)
class FlexRecord:
    """One data element of a statement, e.g. a `<Trade>` inside `<Trades>`.

    Slotted: a 100k-trade statement holds ~250k of these, and a per-instance `__dict__` cost ~100 bytes each.

    `section` is the container (`Trades`), `tag` the element (`Trade`, `Lot`, `Order`); top-level data elements
    such as `<AccountInformation>` have section == tag. `line` is the element's line in the source bytes.
    """

    section: str
    tag: str
    account: str  # the enclosing FlexStatement's accountId (rows may carry "-" on SUMMARY twins)
    line: int
    attrs: Mapping[str, str]
    source: str = ""  # file name as given to parse(), for messages

    def raw(self, name: str) -> str | None:
        """The attribute exactly as given, or None when absent."""
        return self.attrs.get(name)

    def text(self, name: str) -> str | None:
        """The attribute with IBKR's empty markers (`""`, `-`, `--`, `N/A`) and `MULTI` read as None."""
        value = self.attrs.get(name)
        if value is None:
            return None
        value = value.strip()
        return None if value in _NO_VALUE else value

    def decimal(self, name: str) -> Decimal | None:
        """The attribute as a Decimal (exactly as written, thousands separators removed), or None if empty."""
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise FlexParseError(f"{value!r} is not a number", file=self.source, section=self.section,
                                 line=self.line, attribute=name,
                                 hint="check the Flex Query's number format") from None
        if not number.is_finite() or (number and not MIN_MAGNITUDE <= number.adjusted() <= MAX_MAGNITUDE):
            raise FlexParseError(f"{value!r} is not a number IBKR writes (NaN, infinite, or beyond "
                                 f"1E{MAX_MAGNITUDE + 1} or below 1E{MIN_MAGNITUDE})", file=self.source,
                                 section=self.section, line=self.line, attribute=name,
                                 hint="the statement is damaged or was edited; fetch it again from IBKR")
        return number

    def date(self, name: str) -> datetime.date | None:
        """The date part of a date or date-time attribute, in IBKR's meaning (no time-zone shift)."""
        value = self.datetime(name)
        return value.date() if value is not None else None

    def datetime(self, name: str) -> datetime.datetime | None:
        """The attribute as a naive date-time (midnight when only a date is given), or None if empty."""
        value = self.text(name)
        if value is None:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            raise FlexParseError(f"{value!r} is not a date IBKR is known to write", file=self.source,
                                 section=self.section, line=self.line, attribute=name,
                                 hint="set the Flex Query's date format to yyyyMMdd and time to HHmmss")
        return parsed


def parse_date(text: str) -> datetime.date | None:
    """Parse one of IBKR's date formats, e.g. `20240105`, `2024-01-05`, `01/05/2024`, `05-Jan-24`."""
    if text.isdigit() and len(text) != 8:  # strptime would read "2024015" as 2024-01-05
        return None
    if len(text) == 8 and text.isascii() and text.isdigit():
        # yyyyMMdd, the format beanflex asks for: what strptime("%Y%m%d") reads, at 1/20th of its cost (strptime
        # was 0.1 s of a 10k-trade import). 8 ASCII digits leave strptime just this split; no other format fits.
        try:
            return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    slash = _SLASH_DATE.match(text)
    if slash:
        return _slash_date(*slash.groups())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _slash_date(first: str, second: str, year: str) -> datetime.date | None:
    """A slash date, read only when it cannot be misread.

    IBKR offers both MM/dd/yyyy and dd/MM/yyyy, and a single value does not say which: 02/01/2025 is
    1 February or 2 January. A day above 12 settles it (13/01/2025, 01/13/2025); two equal parts read the same
    either way. Anything else is refused (None), so the caller's error asks for the yyyyMMdd format rather than
    a silently wrong date.
    """
    a, b = int(first), int(second)
    full_year = int(year) if len(year) == 4 else 2000 + int(year)
    if a == b or b > 12:
        month, day = a, b
    elif a > 12:
        month, day = b, a
    else:
        return None
    try:
        return datetime.date(full_year, month, day)
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def parse_datetime(text: str) -> datetime.datetime | None:
    """Parse IBKR's date-times: `20240105;093000`, `2024-01-05, 09:30:00`, `20240105 093000`, `… AEST`.

    Cached: a statement repeats the same few thousand dates and times on tens of thousands of rows.
    """
    match = _DATETIME_SPLIT.match(text.strip())
    if not match:
        return None
    day = parse_date(match["date"])
    if day is None:
        return None
    time_text = match["time"]
    if not time_text:
        return datetime.datetime.combine(day, datetime.time())
    # Pick the format by shape: strptime alone would read "0930" with %H%M%S as 09:03:00.
    fmt = {6: "%H%M%S", 4: "%H%M"}.get(len(time_text)) if time_text.isdigit() else \
        ("%H:%M:%S" if time_text.count(":") == 2 else "%H:%M")
    if fmt is None:
        return None
    try:
        if len(time_text) == 6 and time_text.isascii():  # HHmmss, as beanflex asks: strptime's only 6-digit split
            return datetime.datetime.combine(day, datetime.time(int(time_text[:2]), int(time_text[2:4]),
                                                                int(time_text[4:])))
        return datetime.datetime.combine(day, datetime.datetime.strptime(time_text, fmt).time())
    except ValueError:
        return None


@dataclass
class FlexStatement:
    """One `<FlexStatement>`: one account over one period, with its rows in document order."""

    account: str
    from_date: datetime.date | None
    to_date: datetime.date | None
    when_generated: datetime.datetime | None
    line: int
    attrs: Mapping[str, str]
    records: list[FlexRecord] = field(default_factory=list)
    sections: dict[str, int] = field(default_factory=dict)  # section name -> rows (0 = present but empty)
    _index: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def base_currency(self) -> str | None:
        """The account's base currency from `AccountInformation`, when the query includes it."""
        for record in self.records:
            if record.tag == "AccountInformation":
                return record.text("currency")
        return None

    def rows(self, section: str, tag: str | None = None) -> Iterator[FlexRecord]:
        """The rows of one section (optionally only elements named `tag`).

        Served from a per-section index built once (and rebuilt when `records` grows or is replaced): the
        mappers ask for ~15 sections, and walking all 25k records of a 10k-trade statement each time cost 0.2 s.
        """
        index = self._index
        if index is None or index[0] is not self.records or index[1] != len(self.records):
            by_section: dict[str, list[FlexRecord]] = {}
            for record in self.records:
                by_section.setdefault(record.section, []).append(record)
            index = self._index = (self.records, len(self.records), by_section)
        found = index[2].get(section, ())
        return iter(found) if tag is None else (r for r in found if r.tag == tag)


@dataclass
class FlexDocument:
    """A whole `FlexQueryResponse`: query name, type (`AF` activity, `TCF` trade confirmations), statements."""

    query_name: str
    type: str
    statements: list[FlexStatement]
    source: str
    format: str = "xml"  # "csv" for a Flex Query delivered as CSV (csv_reader); the archive keeps the extension

    @property
    def accounts(self) -> list[str]:
        return sorted({s.account for s in self.statements})


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def parse(data: bytes, source: str = "<bytes>") -> FlexDocument:
    """Parse Flex XML (or Flex CSV) bytes; raise FlexParseError with file and line for anything that is not a Flex statement.

    Args:
      data: the payload exactly as IBKR served it (the archived bytes).
      source: the file name used in messages, e.g. `raw/U1234567/2024/…xml`.
    """
    if not data.strip():
        raise FlexParseError("the file is empty", file=source,
                             hint="fetch the statement again; IBKR sometimes serves an empty body")
    from . import csv_reader  # the same records from a Flex Query delivered as CSV

    if csv_reader.looks_like_csv(data[:4096]):
        return csv_reader.parse(data, source)
    if (sniff_root(data[:4096]) or "").lower() == "html":
        raise FlexParseError("this is an HTML page (a login or error page?), not a Flex statement", file=source,
                             hint="download the statement as XML from Client Portal, or use 'beanflex fetch'")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise FlexParseError("the file declares a DTD or entities, which Flex statements never do; refusing "
                             "to parse it", file=source, hint="this is not an IBKR Flex statement")
    from .xmlrows import stream  # the fast reading; it builds on this module's classes

    document = stream(data, source)
    if document is not None:
        return document
    return _parse_tree(data, source)


def _parse_tree(data: bytes, source: str) -> FlexDocument:
    """The whole-tree parse: the reference reading, and the one that words every error (see `xmlrows.stream`)."""
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise FlexParseError(f"not well-formed XML: {exc.msg}", file=source, line=line,
                             hint="the download may be truncated; fetch it again") from None
    if root.tag == "FlexStatementResponse":
        status = (root.findtext("Status") or "").strip()
        code = (root.findtext("ErrorCode") or "").strip()
        message = (root.findtext("ErrorMessage") or "").strip()
        raise FlexParseError(f"this is a Flex Web Service status reply (Status {status}, ErrorCode {code}: "
                             f"{message}), not a statement", file=source,
                             hint="fetch the statement again once IBKR has generated it")
    if root.tag != "FlexQueryResponse":
        raise FlexParseError(f"root element is <{root.tag}>, expected <FlexQueryResponse>", file=source,
                             line=root.sourceline, hint="is this an IBKR Flex Query XML export?")
    lines = _StartLines(data)
    statements = [_read_statement(el, source, lines) for el in root.iter("FlexStatement")]
    if not statements:
        raise FlexParseError("no <FlexStatement> inside <FlexQueryResponse>", file=source,
                             hint="the Flex Query returned nothing; check its period and accounts")
    return FlexDocument(query_name=root.get("queryName", ""), type=root.get("type", ""),
                        statements=statements, source=source)


class _StartLines:
    """The line where an element's start tag begins.

    libxml2 gives the line where the start tag *ends*; a pretty-printed row whose attributes span lines 5-34
    would be cited as line 34. `flex_src` must point at the row's first line, so look back for `<Tag`
    (attribute values cannot contain `<`, so the nearest one is the row's own). From line 65,535 on, libxml2's
    line runs one late (seen on a 100k-trade statement), so this reading cites the next row there; ordinary
    statements take `xmlrows.stream`, which counts lines in the bytes.
    """

    def __init__(self, data: bytes):
        self._data = data
        self._newlines = [m.start() for m in re.finditer(rb"\n", data)]

    def __call__(self, element: etree._Element) -> int:
        line = element.sourceline
        end = self._newlines[line - 1] if line - 1 < len(self._newlines) else len(self._data)
        start = self._data.rfind(b"<" + element.tag.encode(), 0, end)
        return bisect.bisect_left(self._newlines, start) + 1 if start >= 0 else line


def _read_statement(element: etree._Element, source: str, start_line: _StartLines) -> FlexStatement:
    attrs = dict(element.attrib)
    holder = FlexRecord("FlexStatement", "FlexStatement", attrs.get("accountId", ""), start_line(element),
                        attrs, source)
    statement = FlexStatement(account=attrs.get("accountId", ""), from_date=holder.date("fromDate"),
                              to_date=holder.date("toDate"), when_generated=holder.datetime("whenGenerated"),
                              line=start_line(element), attrs=attrs)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if len(child) == 0 and child.attrib:
            # A data element directly under the statement, e.g. <AccountInformation …/>.
            statement.sections[child.tag] = statement.sections.get(child.tag, 0) + 1
            statement.records.append(FlexRecord(child.tag, child.tag, statement.account, start_line(child),
                                                dict(child.attrib), source))
            continue
        rows = [row for row in child if isinstance(row.tag, str)]
        statement.sections[child.tag] = statement.sections.get(child.tag, 0) + len(rows)
        for row in rows:
            statement.records.append(FlexRecord(child.tag, row.tag, statement.account, start_line(row),
                                                dict(row.attrib), source))
    return statement


def sniff_root(head: bytes) -> str | None:
    """The root element's name from the first bytes of a file, without parsing it all (for identify())."""
    match = re.search(rb"<([A-Za-z_][\w.-]*)[\s>/]", re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", head, flags=re.S))
    return match.group(1).decode() if match else None
