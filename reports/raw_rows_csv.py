"""One row of an archived Flex CSV statement, with the column titles it sits under.

A `flex_src` into a CSV statement cites the row's line, e.g. `raw/U1234567/2024/…_ab12cd34ef56.csv:14`. The row
alone is a list of values; its meaning comes from the section's title row above it (`"HEADER","TRNT",titles…`
with line descriptors, else the nearest plain title row). This module finds both, so the drilldown shows
`Buy/Sell = SELL` next to the raw line, as it shows `buySell="SELL"` for XML.
"""

from __future__ import annotations

import csv
import io

_CONTROL = frozenset({"BOF", "BOA", "BOS", "EOS", "EOA", "EOF", "MSG"})


def records(text: str) -> list[tuple[int, int, list[str]]]:
    """Every CSV record as (first line, last line, fields), 1-based; quoted fields may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    found, line = [], 1
    try:
        for fields in reader:
            found.append((line, reader.line_num, fields))
            line = reader.line_num + 1
    except csv.Error:  # a damaged tail: what was read stays usable
        pass
    return found


def row_at(text: str, line: int) -> tuple[str, list[tuple[str, str]]] | None:
    """The record starting on `line` as (its raw text, [(title, value), …]); None when no record starts there.

    `"DATA","TRNT","U1","SELL"` under `"HEADER","TRNT","ClientAccountID","Buy/Sell"` ->
    ('"DATA","TRNT","U1","SELL"', [("ClientAccountID", "U1"), ("Buy/Sell", "SELL")]).
    """
    lines = text.split("\n")
    headers: dict[str, list[str]] = {}
    plain: list[str] | None = None
    in_section = False  # inside BOS … EOS, where the first plain row is the title row
    for first, last, fields in records(text):
        kind = fields[0].strip() if fields else ""
        titles: list[str] | None = None
        values = fields
        if kind == "HEADER" and len(fields) > 1:
            headers[fields[1].strip()] = fields[2:]
        elif kind == "DATA" and len(fields) > 1:
            titles, values = headers.get(fields[1].strip()), fields[2:]
        elif kind in _CONTROL:
            in_section = kind == "BOS"
            plain = None if kind in ("BOS", "EOS") else plain
        elif fields and (plain is None or (not in_section and _titles_like(fields))):
            plain = fields
        else:
            titles = plain
        if first == line:
            raw = "\n".join(lines[first - 1:last]).rstrip("\r")
            pairs = list(zip(titles, values)) if titles and len(titles) == len(values) else \
                [(str(n), v) for n, v in enumerate(values, 1)]
            return raw, pairs
        if first > line:
            return None
    return None


def _titles_like(fields: list[str]) -> bool:
    """A title row among data rows (no section codes): `ClientAccountID`, `Buy/Sell`, `ISIN`, never `U1234567`.

    Every field is a CamelCase title or a short all-capitals one, and at least one is CamelCase; data rows have
    ids, amounts and dates among their fields.
    """
    def camel(f: str) -> bool:
        word = f.replace("/", "")
        return word.isalnum() and f[:1].isupper() and any(c.islower() for c in f)

    def caps(f: str) -> bool:
        return f.isalpha() and f.isupper() and len(f) <= 5

    return bool(fields) and all(camel(f) or caps(f) for f in fields) and any(camel(f) for f in fields)
