"""The raw archive: every Flex payload kept byte-exact, once, before anything is mapped (DESIGN §2).

Layout: `ledger/raw/<account>/<yyyy>/<fromDate>_<toDate>_<queryId>_<sha256[:12]>.xml`, e.g.
`raw/U1234567/2024/20240101_20241231_987654_3f2a9c0b1d4e.xml`; a Flex Query delivered as CSV keeps its bytes and
its extension, `….csv`, and is named the same way. The decisions behind the name:

- `<account>` is the statement's accountId made path-safe (as for `generated/<account>/`). A payload covering
  several accounts is stored once, under the first of them in sorted order, and `raw/index.tsv` lists every
  account it covers, so `archived_for(ledger, "U2222222")` finds it too.
- `<yyyy>` is the year of the payload's `toDate` (the latest over its statements): a fetch is filed under the
  year its period ends. `fromDate`/`toDate` are the earliest/latest over the statements, as `yyyymmdd`.
- `<queryId>` is the Flex Query id for `beanflex fetch`. A hand-downloaded file (`beanflex import FILE`) has
  no id in it, so its `queryName` is used, made path-safe (`"Annual Tax Report"` -> `Annual-Tax-Report`), or
  `manual` when that is empty.
- The same bytes are never stored twice: the sha256 is looked up in the index and in the file names first.

A payload that does not parse as a Flex statement (empty, HTML, an error envelope, truncated, unsafe XML) is
refused with FlexParseError and *not* stored: the archive holds statements only, so `rebuild` can trust every file
in it. The fetch path does not keep refused bodies elsewhere either (they are error pages, not data); the error
message names the HTTP status and content type instead.

`raw/index.tsv` is plain text, one line per file: sha256, relpath, accounts (comma-separated), fromDate, toDate,
queryId. It is rewritten atomically after each new file, from the files themselves. Files are the truth:
`list_archive` also finds files the index does not list (say a crash came between the two writes, or the index
was deleted) by parsing them, and the next `store` writes them into the index.

Call `store` while holding `fsutil.ledger_lock`.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from dataclasses import dataclass, replace as dc_replace
from pathlib import Path
from typing import Callable

from .adapter import FlexDocument, parse
from .errors import FlexError, FlexParseError
from .fsutil import atomic_write
from beanflex.contract import archive_names
from beanflex.contract.accounts import account_component

INDEX_NAME = "index.tsv"
_INDEX_HEADER = "# sha256\trelpath\taccounts\tfromDate\ttoDate\tqueryId\n"
_SAFE = re.compile(r"[^A-Za-z0-9-]+")
#: The payload formats the archive keeps, by file extension (a Flex Query delivered as XML or as CSV).
EXTENSIONS = ("xml", "csv")


@dataclass(frozen=True)
class ArchivedFile:
    """One archived payload. `relpath` is relative to `ledger/` and is what `flex_src` metadata cites."""

    path: Path  # absolute
    relpath: str  # e.g. "raw/U1234567/2024/20240101_20241231_987654_3f2a9c0b1d4e.xml"
    sha256: str
    accounts: tuple[str, ...]  # every accountId the payload covers, sorted
    from_date: datetime.date | None
    to_date: datetime.date | None
    query_id: str
    is_new: bool = False  # True only on the store() call that wrote it


def safe_query_id(text: str | None) -> str:
    """A path-safe query id: `"Annual Tax Report"` -> `Annual-Tax-Report`; empty -> `manual`."""
    cleaned = _SAFE.sub("-", (text or "").strip()).strip("-")[:40].strip("-")
    return cleaned or "manual"


def store(payload: bytes, ledger_dir: Path, query_id: str | None = None, *, source: str = "<payload>",
          replace: Callable[[str, str], None] = os.replace, document: FlexDocument | None = None) -> ArchivedFile:
    """Archive `payload` (if new) and return where it is. Nothing is written for a non-statement.

    Args:
      payload: the bytes exactly as IBKR served them (or as the user downloaded them).
      ledger_dir: the `ledger/` folder.
      query_id: the Flex Query id when fetched; None for a hand-downloaded file (queryName or "manual" is used).
      source: the name used in error messages (the user's file path, or "GetStatement reply").
      replace: the final rename, injectable to simulate a crash in tests.
      document: `payload` already parsed by the caller (saves parsing a large statement twice).
    """
    ledger_dir = Path(ledger_dir).absolute()
    if document is None:
        document = parse(payload, source=source)  # raises FlexParseError: refused, not archived
    sha = hashlib.sha256(payload).hexdigest()
    existing = _find_sha(ledger_dir, sha)
    if existing is not None:
        return existing
    archived = planned(document, sha, ledger_dir, query_id)
    target = archived.path
    if target.exists():  # same 12-hex prefix, different bytes: never overwrite an archived file
        raise FlexError("an archived file with this name already holds different bytes", file=str(target),
                        hint="this is a sha256 prefix collision; move that file aside and report it")
    known = list_archive(ledger_dir)  # before the write: the index heals itself from the files on each store
    atomic_write(target, payload, replace=replace)
    _write_index(ledger_dir, [*known, dc_replace(archived, is_new=False)])
    return archived


def store_file(path: Path, sha256: str, ledger_dir: Path, *, source: str, document: FlexDocument) -> ArchivedFile:
    """`store` for a payload still in its file (`beanflex import FILE`), parsed already: copied in chunks.

    The import archives a file once the whole ledger is mapped; reading a 250 MB statement whole on top of that
    set the import's peak memory. The copy is hashed as it is written: bytes that no longer hash to `sha256` (the
    file changed since it was parsed) are not archived, and the error says so.
    """
    ledger_dir = Path(ledger_dir).absolute()
    existing = _find_sha(ledger_dir, sha256)
    if existing is not None:
        return existing
    archived = planned(document, sha256, ledger_dir)
    if archived.path.exists():
        raise FlexError("an archived file with this name already holds different bytes", file=str(archived.path),
                        hint="this is a sha256 prefix collision; move that file aside and report it")
    known = list_archive(ledger_dir)
    with open(path, "rb") as handle:
        atomic_write(archived.path, _Hashed(handle, sha256, source))
    _write_index(ledger_dir, [*known, dc_replace(archived, is_new=False)])
    return archived


class _Hashed:
    """A reader that hashes what passes through and, at the end, refuses bytes that are not the expected ones."""

    def __init__(self, handle, sha256: str, source: str):
        self.handle, self.expected, self.source, self.digest = handle, sha256, source, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        if not chunk and self.digest.hexdigest() != self.expected:
            raise FlexError("the file changed while it was being imported", file=self.source,
                            hint="nothing was archived and ledger/generated/ is unchanged; import it again")
        return chunk


def list_archive(ledger_dir: Path) -> list[ArchivedFile]:
    """Every archived payload, sorted by (from_date, to_date, relpath); unindexed files are parsed and included."""
    ledger_dir = Path(ledger_dir).absolute()
    indexed = {a.relpath: a for a in _read_index(ledger_dir) if a.path.is_file()}
    raw = ledger_dir / "raw"
    if raw.is_dir():
        for path in (p for ext in EXTENSIONS for p in raw.rglob(f"*.{ext}")):
            relpath = path.relative_to(ledger_dir).as_posix()
            if relpath not in indexed:
                indexed[relpath] = _describe_file(ledger_dir, path)
    return sorted(indexed.values(), key=lambda a: (a.from_date or datetime.date.min,
                                                    a.to_date or datetime.date.min, a.relpath))


def archived_for(ledger_dir: Path, account: str) -> list[ArchivedFile]:
    """The archived payloads that cover one IBKR account (multi-account payloads included)."""
    return [a for a in list_archive(ledger_dir) if account in a.accounts]


def planned(document: FlexDocument, sha256: str, ledger_dir: Path, query_id: str | None = None) -> ArchivedFile:
    """Where `store` will put a payload (DESIGN §2 naming), without writing it: for mapping before archiving."""
    meta = _describe(document, query_id)
    relpath = _relpath(meta, sha256, document.format)
    return ArchivedFile(Path(ledger_dir) / relpath, relpath, sha256, meta["accounts"], meta["from"], meta["to"],
                        meta["query"], True)


def _describe(document: FlexDocument, query_id: str | None) -> dict:
    froms = [s.from_date for s in document.statements if s.from_date]
    tos = [s.to_date for s in document.statements if s.to_date]
    return {"accounts": tuple(sorted({s.account for s in document.statements if s.account} or {""})),
            "from": min(froms) if froms else None, "to": max(tos) if tos else None,
            "query": safe_query_id(query_id if query_id else document.query_name)}


def _relpath(meta: dict, sha: str, extension: str = "xml") -> str:
    account = account_component(meta["accounts"][0]) if meta["accounts"][0] else "UNKNOWN"
    year = meta["to"].strftime("%Y") if meta["to"] else "nodate"
    name = archive_names.file_name(meta["from"], meta["to"], meta["query"], sha, suffix=f".{extension}")
    return f"raw/{account}/{year}/{name}"


def _describe_file(ledger_dir: Path, path: Path) -> ArchivedFile:
    """An unindexed file's entry. One that does not parse is still listed (no accounts, no dates), so that
    whoever reads it next (`check`, `rebuild`) reports it by name instead of it silently vanishing."""
    payload = path.read_bytes()
    relpath = path.relative_to(ledger_dir).as_posix()
    name = archive_names.parse(path.name)
    sha = hashlib.sha256(payload).hexdigest()
    try:
        document = parse(payload, source=relpath)
    except FlexParseError:
        return ArchivedFile(path, relpath, sha, (), None, None, name.query_id if name else "manual")
    meta = _describe(document, name.query_id if name else None)
    return ArchivedFile(path, relpath, sha, meta["accounts"], meta["from"], meta["to"], meta["query"])


def _find_sha(ledger_dir: Path, sha: str) -> ArchivedFile | None:
    for archived in _read_index(ledger_dir):
        if archived.sha256 == sha and archived.path.is_file():
            return archived
    raw = ledger_dir / "raw"
    if raw.is_dir():  # not indexed (the index was lost, or a crash came between file and index)
        for path in (p for ext in EXTENSIONS for p in raw.rglob(f"*_{sha[:12]}.{ext}")):
            if hashlib.sha256(path.read_bytes()).hexdigest() == sha:
                found = _describe_file(ledger_dir, path)
                _write_index(ledger_dir, [*_read_index(ledger_dir), found])
                return found
    return None


def _read_index(ledger_dir: Path) -> list[ArchivedFile]:
    index = ledger_dir / "raw" / INDEX_NAME
    if not index.is_file():
        return []
    rows = []
    for number, line in enumerate(index.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 6:
            raise FlexError(f"expected 6 tab-separated fields, found {len(fields)}", file=str(index), line=number,
                            hint="delete raw/index.tsv; the next import or fetch writes it again from the files in raw/")
        sha, relpath, accounts, start, end, query = fields
        rows.append(ArchivedFile(ledger_dir / relpath, relpath, sha, tuple(a for a in accounts.split(",") if a),
                                 _iso(start), _iso(end), query))
    return rows


def _write_index(ledger_dir: Path, rows: list[ArchivedFile]) -> None:
    unique = {row.relpath: row for row in rows}
    lines = [_INDEX_HEADER] + [
        "\t".join([a.sha256, a.relpath, ",".join(a.accounts), a.from_date.isoformat() if a.from_date else "",
                   a.to_date.isoformat() if a.to_date else "", a.query_id]) + "\n"
        for a in sorted(unique.values(), key=lambda a: a.relpath)]
    atomic_write(ledger_dir / "raw" / INDEX_NAME, "".join(lines).encode("utf-8"))


def _iso(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None
