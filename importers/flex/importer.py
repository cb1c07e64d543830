"""The beangulp `Importer` for Flex statements: a thin wrapper around the same mapping `beanflex import` uses.

Use it from your own `import.py` or Fava's import page:

    from beanflex.importers.flex.importer import FlexImporter
    importers = [FlexImporter()]

`extract` parses the file and maps it with mapper.build_ledger (no network, ever). `deduplicate` matches on
`flex_id` (and, for directives without one, on their text without metadata), never beangulp's fuzzy date/amount
comparator: two identical fills with different ids are two trades. Statements larger than beangulp's size limit
still import through `beanflex import FILE`, which does not go through beangulp.
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import beangulp
from beancount.core import data

from . import adapter, archive, csv_reader
from .context import ImportConfig
from .mapper import build_ledger
from .names import Accounts
from .writer import dedup_key

DUPLICATE = "__duplicate__"  # beangulp's marker in entry metadata


class FlexImporter(beangulp.Importer):
    """IBKR Flex Query XML or CSV (Activity statements) -> Beancount directives."""

    def __init__(self, config: ImportConfig | None = None):
        self.config = config or ImportConfig()

    @property
    def name(self) -> str:
        return "beanflex.flex"

    def identify(self, filepath: str) -> bool:
        suffix = str(filepath).lower().rsplit(".", 1)[-1]
        if suffix not in ("xml", "csv"):
            return False
        with open(filepath, "rb") as handle:
            head = handle.read(4096)
        if suffix == "csv":  # a Flex CSV names IBKR's control records or its account column up front
            return csv_reader.looks_like_csv(head) and (b'"BOF"' in head[:200] or b"ClientAccountID" in head)
        return adapter.sniff_root(head) == "FlexQueryResponse"

    def _document(self, filepath: str) -> adapter.FlexDocument:
        return adapter.parse(Path(filepath).read_bytes(), source=Path(filepath).name)

    def account(self, filepath: str) -> str:
        accounts = self._document(filepath).accounts
        return Accounts(accounts[0] if accounts else "UNKNOWN").cash.rsplit(":", 1)[0]

    def date(self, filepath: str) -> datetime.date | None:
        ends = [s.to_date for s in self._document(filepath).statements if s.to_date]
        return max(ends) if ends else None

    def filename(self, filepath: str) -> str:
        """The name `beanflex import` archives this file under: `<from>_<to>_<queryId>_<sha12>.xml`.

        So `beangulp archive` and the raw archive (DESIGN §2) name a statement alike, e.g. a 2024 statement of
        query "Annual Tax Report" whose bytes hash to 3f2a9c0b1d4e… -> `20240101_20241231_Annual-Tax-Report_3f2a9c0b1d4e.xml`
        (the earliest fromDate and latest toDate of its statements; no query id in a hand download: its queryName).
        """
        payload = Path(filepath).read_bytes()
        document = adapter.parse(payload, source=Path(filepath).name)
        sha = hashlib.sha256(payload).hexdigest()
        return Path(archive.planned(document, sha, Path(".")).relpath).name  # the archive's own naming

    def extract(self, filepath: str, existing: data.Entries) -> data.Entries:
        document = self._document(filepath)
        result = build_ledger([(Path(filepath).name, document)], self.config)
        entries = [entry for path in sorted(result.files) for entry in result.files[path]]
        entries.sort(key=data.entry_sortkey)
        return entries

    def deduplicate(self, entries: data.Entries, existing: data.Entries) -> None:
        """Mark an extracted directive as a duplicate when the ledger already has its flex_id (or its text)."""
        known_ids = {e.meta.get("flex_id"): e for e in existing if e.meta and e.meta.get("flex_id")}
        known_other = {}
        for entry in existing:
            if isinstance(entry, data.Open):
                known_other[("open", entry.account)] = entry
            elif isinstance(entry, data.Commodity):
                known_other[("commodity", entry.currency)] = entry
            elif not (entry.meta or {}).get("flex_id"):
                try:
                    known_other[dedup_key(entry)] = entry
                except TypeError:  # a directive kind the generated ledger never writes
                    continue
        for entry in entries:
            flex_id = (entry.meta or {}).get("flex_id")
            if flex_id:
                twin = known_ids.get(flex_id)
            elif isinstance(entry, data.Open):
                twin = known_other.get(("open", entry.account))
            elif isinstance(entry, data.Commodity):
                twin = known_other.get(("commodity", entry.currency))
            else:
                twin = known_other.get(dedup_key(entry))
            if twin is not None:
                entry.meta[DUPLICATE] = twin
