"""What every section mapper needs while turning one statement's rows into directives.

A MapContext belongs to one (archived file, FlexStatement) pair. It builds the metadata every generated directive
carries (`flex_id`, `flex_src`, docs/ledger-format.md) and collects drift, so section mappers stay pure functions:
`map_<section>(statement, ctx) -> list[directive]`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from beancount.core import data

from beanflex.contract import flex_src

from .adapter import FlexRecord, FlexStatement
from .drift import DriftReport
from .names import Accounts, CommodityNamer


@dataclass
class ImportConfig:
    """User settings for the mapping (from the CLI or a beangulp import.py)."""

    transfers_account: str | None = None  # counter-account of deposits/withdrawals; default Equity:IBKR:<acct>:Transfers


@dataclass
class MapContext:
    statement: FlexStatement
    raw_path: str  # archived file relative to ledger/, e.g. "raw/U1234567/2024/20240101_20241231_123_ab12cd34ef56.xml"
    namer: CommodityNamer
    drift: DriftReport
    config: ImportConfig = field(default_factory=ImportConfig)
    _hash_ordinals: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.statement.account, self.config.transfers_account)

    @property
    def account_id(self) -> str:
        return self.accounts.id

    def src(self, *records: FlexRecord) -> str:
        """`flex_src` for one or more rows: "raw/…xml:57 raw/…xml:58"."""
        return flex_src.join(self.raw_path, (r.line for r in records))

    def flex_id(self, kind: str, record: FlexRecord, id_attr: str = "transactionID") -> str:
        """`<acct>/<kind>/<id>`; rows without the id get a content hash plus an ordinal, so twin rows stay two.

        The hash covers every attribute (sorted), never the file or line, so the same row in two overlapping
        statements gets the same id and is imported once.
        """
        row_id = record.text(id_attr)
        if row_id is None:
            digest = hashlib.sha256(repr(sorted(record.attrs.items())).encode()).hexdigest()[:12]
            key = (kind, digest)
            self._hash_ordinals[key] += 1
            row_id = f"h{digest}-{self._hash_ordinals[key]}"
        return f"{self.account_id}/{kind}/{row_id}"

    def commodity(self, record: FlexRecord) -> str | None:
        """The commodity of the instrument a row names: by `conid`; trimmed exports without one (the reds sample
        has only `symbol isin`) fall back to `isin:<ISIN>`, then `symbol:<SYMBOL>` as the identity. None when the
        row names no instrument."""
        key = record.text("conid") or (f"isin:{record.text('isin')}" if record.text("isin") else None) \
            or (f"symbol:{record.text('symbol')}" if record.text("symbol") else None)
        if key is None:
            return None
        return self.namer.name(key, record.text("symbol"), record.text("assetCategory"))

    def meta(self, event: str, flex_id: str, *records: FlexRecord, **extra) -> dict:
        """Directive metadata in the fixed key order of docs/ledger-format.md; None values are left out."""
        first = records[0] if records else None
        meta = data.new_metadata(self.raw_path, first.line if first else 0)
        meta["flex_id"] = flex_id
        meta["flex_src"] = self.src(*records)
        meta["event"] = event
        for key, value in extra.items():
            if value is not None:
                meta[key] = value
        return meta
