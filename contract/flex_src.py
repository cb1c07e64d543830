"""`flex_src`: where a directive's raw rows live, e.g. `raw/U1234567/2024/20240101_20241231_42_ab12cd34ef56.xml:57`.

The path is relative to `ledger/`, the number is the line of the row's element; a directive built from several
rows lists them space-separated (DESIGN §3). The importer writes it, the engine and reports read it back: both use
these functions, so the format is written down once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

#: The raw archive's file endings: Flex XML, and Flex CSV.
RAW_SUFFIXES = (".xml", ".csv")
_ITEM = re.compile(r"^(?P<path>[^:\s\x00-\x1f]+\.(?:xml|csv)):(?P<line>[1-9][0-9]{0,8})$")
_ACCOUNT = re.compile(r"^raw/([^/]+)/")


@dataclass(frozen=True)
class RawRef:
    """One `flex_src` item: `raw/U1/2024/x.xml:57` -> path `raw/U1/2024/x.xml`, line 57."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def join(relpath: str, lines) -> str:
    """`flex_src` for rows of one archived file: ("raw/U1/2024/a.xml", [57, 60]) -> "raw/…a.xml:57 raw/…a.xml:60"."""
    return " ".join(f"{relpath}:{line}" for line in lines)


def refs(flex_src: str | None) -> list[str]:
    """`"raw/U1/2024/a.xml:57 raw/U1/2024/a.xml:60"` -> the two items (no check of their shape)."""
    return (flex_src or "").split()


def lines(flex_src: str | None) -> list[tuple[str, int]]:
    """The (path, line) pairs of the items that end in a line number; others are left out."""
    found = []
    for item in refs(flex_src):
        path, _, line = item.rpartition(":")
        if line.isdigit():
            found.append((path, int(line)))
    return found


def parse_ref(item: str) -> RawRef:
    """One item, checked for shape only (no file is touched); ValueError says what is wrong.

    `raw/U1/2024/a.xml:57` -> RawRef("raw/U1/2024/a.xml", 57); `/etc/passwd.xml:1`, `raw/../x.xml:1`,
    `raw/a.txt:3` and `raw/a.xml` raise ValueError.
    """
    match = _ITEM.match(item or "")
    if not match:
        raise ValueError(f"not a raw row reference (want 'raw/…/file.xml:LINE'): {item!r}")
    path = match["path"]
    parts = PurePosixPath(path).parts
    if path.startswith(("/", "\\")) or "\\" in path or ".." in parts or not parts or parts[0] != "raw":
        raise ValueError(f"raw row path must be relative and under raw/: {path!r}")
    return RawRef(path, int(match["line"]))


def account_of(flex_src: str | None) -> str | None:
    """The IBKR account folder of the first item: `raw/U1/2024/a.xml:57` -> "U1"."""
    match = _ACCOUNT.match(flex_src or "")
    return match.group(1) if match else None
