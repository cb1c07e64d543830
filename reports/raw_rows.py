"""Read one raw Flex row back from the ledger's archive, and nothing outside it.

A directive's `flex_src` says where its rows live, e.g. `raw/U1234567/2024/20240101_20241231_42_ab12cd34ef56.xml:57`
(path relative to `ledger/`, line of the element). The Fava pages show that element with a few lines around it.
A CSV statement's row is its line(s), with the column titles of its section (raw_rows_csv.py).
The path comes from a URL, so it is checked before anything is opened: relative, no `..`, ending in `.xml`
(or `.csv`),
and after resolving symlinks still inside `ledger/raw/`. A refused path raises `RawRowRefused` with the HTTP
status to answer (400 malformed, 404 absent or outside the archive).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from beanflex.contract import flex_src
from beanflex.contract.flex_src import RawRef

from . import raw_rows_csv

#: Lines shown before and after the row.
CONTEXT_LINES = 3
#: A row element's text is cut here: Flex rows are one line of a few kB; a bigger "row" is not a row.
MAX_ROW_CHARS = 200_000


class RawRowRefused(Exception):
    """A raw-row request that is refused; `status` is 400 (malformed) or 404 (absent or outside raw/)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_src(src: str) -> RawRef:
    """One `path.xml:line` item, checked for shape only (contract/flex_src.py); RawRowRefused(400) if malformed."""
    try:
        return flex_src.parse_ref(src)
    except ValueError as exc:
        raise RawRowRefused(400, str(exc)) from None


def resolve(ledger_dir: Path, ref: RawRef) -> Path:
    """The archive file a reference names, after symlinks; RawRowRefused(404) if absent or outside raw/."""
    raw_root = (Path(ledger_dir) / "raw").resolve()
    try:
        target = (Path(ledger_dir) / ref.path).resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as exc:  # ValueError: an embedded NUL byte
        raise RawRowRefused(404, f"no such raw file: {ref.path}") from exc
    if raw_root not in target.parents or target.suffix not in flex_src.RAW_SUFFIXES or not target.is_file():
        raise RawRowRefused(404, f"no such raw file: {ref.path}")
    return target


_START_TAG = re.compile(r"<(?P<tag>[A-Za-z_][\w.:-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?P<close>/?)>")


def element_text(lines: list[str], index: int) -> str:
    """The XML element that starts on `lines[index]` (0-based): a `<Trade … />` row, or a start tag through
    its closing tag when the element has children (cut at MAX_ROW_CHARS).

    `<Trade a="1" />` -> itself; `<Lots a="1">`, `<Lot …/>`, `</Lots>` on three lines -> those three lines.
    """
    first = lines[index]
    start = max(first.find("<"), 0)
    text = "\n".join(lines[index:index + 5000])[start:start + MAX_ROW_CHARS] if index < len(lines) else ""
    match = _START_TAG.match(text)
    if match is None:
        return first.strip()
    if match["close"]:
        return match.group(0)
    closing = f"</{match['tag']}>"
    end = text.find(closing, match.end())
    return text[: end + len(closing)] if end >= 0 else match.group(0)


def read_row(ledger_dir: Path, src: str, context: int = CONTEXT_LINES) -> dict:
    """The row `src` names: `{"file", "line", "xml", "context": [{"line", "text", "row"}], "attributes"}`.

    `file` is the path relative to `ledger/` as `flex_src` wrote it; `context` holds the lines around the row,
    with `row` true on the row's own line(s). Raises RawRowRefused before opening anything doubtful.
    """
    ref = parse_src(src)
    path = resolve(ledger_dir, ref)
    lines = _archive_lines(path)
    if ref.line > len(lines):
        raise RawRowRefused(404, f"{ref.path} has {len(lines)} lines, not {ref.line}")
    index = ref.line - 1
    if path.suffix == ".csv":
        return _csv_row(ref, lines, context)
    xml = element_text(lines, index)
    last = index + xml.count("\n")
    around = [{"line": n + 1, "text": lines[n], "row": index <= n <= last}
              for n in range(max(0, index - context), min(len(lines), last + context + 1))]
    return {"file": ref.path, "line": ref.line, "xml": xml, "context": around, "attributes": attributes(xml)}


def _csv_row(ref: RawRef, lines: list[str], context: int) -> dict:
    """A CSV statement's row: its line(s) as `xml` (the raw text), and (title, value) pairs from its title row."""
    lines = [line.rstrip("\r") for line in lines]  # CRLF files show as they read
    found = raw_rows_csv.row_at("\n".join(lines), ref.line)
    if found is None:
        raise RawRowRefused(404, f"no CSV row starts on line {ref.line} of {ref.path}")
    text, pairs = found
    index, last = ref.line - 1, ref.line - 1 + text.count("\n")
    around = [{"line": n + 1, "text": lines[n], "row": index <= n <= last}
              for n in range(max(0, index - context), min(len(lines), last + context + 1))]
    return {"file": ref.path, "line": ref.line, "xml": text, "context": around, "attributes": pairs}


_ATTRIBUTE = re.compile(r'([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def attributes(xml: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of the element's start tag, in file order, as written (entities unexpanded).

    `<Trade symbol="AAPL" quantity="-15" />` -> [("symbol", "AAPL"), ("quantity", "-15")].
    """
    match = _START_TAG.match(xml)
    tag = match.group(0) if match else xml
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)) for m in _ATTRIBUTE.finditer(tag)]


def _archive_lines(path: Path) -> list[str]:
    """An archive file's lines, read once per version of the file (explain asks for many rows of one file)."""
    stat = path.stat()
    return _lines_of(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _lines_of(path: str, mtime_ns: int, size: int) -> list[str]:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return handle.read().split("\n")


def element_rows(ledger_dir: Path | None, value: str | None) -> list[dict]:
    """Every row a `flex_src` value names as {"file", "line", "xml"}: the element's text, or None when the
    reference is malformed, points outside raw/ or past the file's end (explain still lists the row)."""
    rows = []
    for item in flex_src.refs(value):
        path, _, line = item.rpartition(":")
        if not line.isdigit():
            path, line = item, "0"
        rows.append({"file": path, "line": int(line), "xml": _element_or_none(ledger_dir, item)})
    return rows


def _element_or_none(ledger_dir: Path | None, item: str) -> str | None:
    if ledger_dir is None:
        return None
    try:
        ref = parse_src(item)
        path = resolve(ledger_dir, ref)
        lines = _archive_lines(path)
    except (RawRowRefused, OSError):
        return None
    if ref.line > len(lines):
        return None
    if path.suffix == ".csv":  # a Flex CSV row: its line, and the next ones while a quoted field is open
        found = raw_rows_csv.row_at("\n".join(line.rstrip("\r") for line in lines), ref.line)
        return found[0] if found else None
    return element_text(lines, ref.line - 1)
