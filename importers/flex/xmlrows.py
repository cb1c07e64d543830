"""The fast reading of a Flex statement: rows straight from lxml's parser events, no element tree.

`adapter.parse` tries this first and falls back to its whole-tree reading (`adapter._parse_tree`), which stays the
reference and the one that words every error. Both give the same FlexDocument, record for record; this one cites
a row's start line from the bytes themselves, where the tree reading relies on libxml2's line numbers, which run
one line late from line 65,535 on (a 100k-trade statement has 200k lines).
"""

from __future__ import annotations

import sys

from lxml import etree

from .adapter import FlexDocument, FlexRecord, FlexStatement
from .errors import FlexParseError


class _RowCollector:
    """An lxml parser target that builds FlexStatements straight from the start-tag events, with no tree.

    Reads exactly what `adapter._read_statement` reads from a tree: for every <FlexStatement>, each child that is a
    data element (no children, some attributes) is a row of its own; each other child is a section whose
    element children are its rows. On a 10k-trade statement (25 MB) this takes 0.25 s and no tree, where
    `fromstring` plus copying every attrib took 0.9 s and held a ~300 MB tree at the peak.
    """

    def __init__(self, source: str, lines: list[int]):
        self.source, self.lines = source, lines
        self.root_tag: str | None = None
        self.query: tuple[str, str] = ("", "")
        self.statements: list[FlexStatement] = []
        self.started = 0  # start tags seen, the index into `lines`
        self.depth = 0
        self.statement: FlexStatement | None = None
        self.statement_depth = 0
        self.child: tuple[str, dict, int] | None = None  # the statement's current child: (tag, attrib, line)
        self.child_rows = 0
        self.nested = False  # a FlexStatement inside another: leave such odd files to the tree reading
        self.names: dict[str, tuple[str, ...]] = {}  # element -> attribute names of its last row (see shared)
        self.values: dict[str, str] = {}  # every distinct attribute value, to share equal ones (see shared)

    def start(self, tag, attrib):
        line = self.lines[self.started] if self.started < len(self.lines) else 0
        self.started += 1
        self.depth += 1
        depth = self.depth
        if self.root_tag is None:
            self.root_tag = tag
            self.query = (attrib.get("queryName", ""), attrib.get("type", ""))
        statement = self.statement
        if tag == "FlexStatement":
            if statement is not None:
                self.nested = True
                return
            self.statement = _new_statement(dict(attrib), self.source, line)
            self.statement_depth = depth
        elif statement is None:
            return
        elif depth == self.statement_depth + 1:
            self.child, self.child_rows = (tag, attrib, line), 0
            statement.sections[tag] = statement.sections.get(tag, 0)
        elif depth == self.statement_depth + 2:
            section = self.child[0]
            self.child_rows += 1
            statement.sections[section] += 1
            statement.records.append(FlexRecord(section, tag, statement.account, line, self.shared(tag, attrib),
                                                self.source))

    def shared(self, tag: str, attrib: dict) -> dict:
        """`attrib` with its names shared by every row of the same element and shape, and equal values shared.

        lxml hands each row fresh strings: for a 10k-trade statement, 1.3M names (78 MB of the rows' 154 MB)
        and 1.3M values of which 160k differ (currencies, dates, codes repeat). Rows of one element nearly always
        list the same names in the same order, so the names are compared (in C) to the previous row's and reused;
        values go through a dict of the ones seen. Together ~0.1 s for 100 MB (the rows then take 50 MB).
        """
        names = self.names.get(tag)
        if names is None or len(names) != len(attrib) or not all(map(str.__eq__, names, attrib)):
            names = self.names[tag] = tuple(sys.intern(name) for name in attrib)
        seen = self.values
        return dict(zip(names, [seen.setdefault(value, value) for value in attrib.values()]))

    def end(self, tag):
        statement = self.statement
        if statement is not None:
            if self.depth == self.statement_depth:
                self.statements.append(statement)
                self.statement = None
            elif self.depth == self.statement_depth + 1 and self.child_rows == 0 and self.child[1]:
                tag, attrib, line = self.child  # a data element directly under the statement
                statement.sections[tag] += 1
                statement.records.append(FlexRecord(tag, tag, statement.account, line, self.shared(tag, attrib),
                                                    self.source))
        self.depth -= 1

    def close(self):
        return None


def _start_tag_lines(data: bytes) -> list[int]:
    """The line of every start tag, in document order (comments, CDATA and processing instructions skipped).

    In well-formed XML a `<` is markup everywhere except inside comments, CDATA and PIs, so stepping from `<` to
    `<` finds exactly the elements the parser reports, in the same order (`stream` checks the count).
    """
    lines: list[int] = []
    find, count = data.find, data.count
    pos, line, counted = data.find(b"<"), 1, 0
    while pos >= 0:
        nxt = data[pos + 1:pos + 2]
        if nxt == b"/":
            pos = find(b"<", pos + 2)
            continue
        if nxt == b"!" or nxt == b"?":
            closer = b"-->" if data.startswith(b"<!--", pos) else \
                b"]]>" if data.startswith(b"<![CDATA[", pos) else b"?>" if nxt == b"?" else b">"
            end = find(closer, pos + 2)
            if end < 0:
                break
            pos = find(b"<", end + len(closer))
            continue
        line += count(b"\n", counted, pos)
        counted = pos
        lines.append(line)
        pos = find(b"<", pos + 1)
    return lines


def stream(data: bytes, source: str) -> FlexDocument | None:
    """The fast reading of a well-formed Flex statement, or None to leave the file to `_parse_tree`.

    None for anything unusual (not well-formed, not a FlexQueryResponse, no statement, nested statements, a
    start-tag count that disagrees with the parser's): the tree reading then parses it again and words the
    error exactly as before, so only ordinary statements take this path.
    """
    lines = _start_tag_lines(data)
    collector = _RowCollector(source, lines)
    # resolve_entities=True only makes lxml hand a target `&` for `&amp;` (it passes "&#38;" otherwise); parse()
    # has already refused any DTD or entity declaration, so only XML's predefined entities exist to resolve.
    parser = etree.XMLParser(target=collector, resolve_entities=True, no_network=True, huge_tree=False,
                             load_dtd=False, dtd_validation=False, remove_comments=True, remove_pis=True)
    try:
        etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, FlexParseError):
        return None
    if collector.root_tag != "FlexQueryResponse" or not collector.statements or collector.nested \
            or collector.started != len(lines):
        return None
    query_name, kind = collector.query
    return FlexDocument(query_name=query_name, type=kind, statements=collector.statements, source=source)


def _new_statement(attrs: dict, source: str, line: int) -> FlexStatement:
    holder = FlexRecord("FlexStatement", "FlexStatement", attrs.get("accountId", ""), line, attrs, source)
    return FlexStatement(account=attrs.get("accountId", ""), from_date=holder.date("fromDate"),
                         to_date=holder.date("toDate"), when_generated=holder.datetime("whenGenerated"),
                         line=line, attrs=attrs)
