"""Instruments: one Beancount commodity per IBKR `conid`, with the metadata the plugins and reports need.

Identity is the conid (DESIGN §3), never the ticker: a ticker change keeps the commodity, and two instruments
that share a ticker get two commodities. Names come from `names.CommodityNamer`, fed here in one deterministic
order (first date the instrument is seen, then its key), so every rebuild names everything the same way no
matter which statement mentions an instrument first in file order.

Metadata is merged over every row that names the instrument (Trades, OpenPositions, SecuritiesInfo,
CashTransactions, CorporateActions, OptionEAE): the first non-empty value wins, so later statements only fill
gaps. Options get `underlying_conid`, `underlying_symbol`, `expiry`, `put_call` and `strike`; trimmed exports
without `putCall` carry the right in `subCategory` (`C`/`P`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data

from .adapter import FlexRecord, FlexStatement
from .names import CommodityNamer

#: Sections whose rows name instruments, in the order their metadata is trusted (reference data first).
SECTIONS = ("SecuritiesInfo", "Trades", "OpenPositions", "OptionEAE", "CorporateActions", "CashTransactions",
            "Transfers")
#: Rows that are money, not instruments, even though they carry a conid (FX pairs such as USD.CHF).
NOT_INSTRUMENTS = frozenset({"CASH"})
OPTION_CATEGORIES = frozenset({"OPT", "FOP", "FSOPT", "FSFOP", "IOPT", "WAR"})
_FX_PAIR = re.compile(r"^[A-Z]{3}\.[A-Z]{3}$")  # USD.CHF in exports without assetCategory
_DATE_ATTRS = ("dateTime", "tradeDate", "reportDate", "date", "openDateTime")


def instrument_key(record: FlexRecord) -> str | None:
    """The identity of the instrument a row names: its conid, else `isin:…`, else `symbol:…` (trimmed exports).

    Same rule as `MapContext.commodity`, so both hand out the same name for a row.
    """
    category = record.text("assetCategory")
    if category in NOT_INSTRUMENTS or (category is None and _FX_PAIR.match(record.text("symbol") or "")):
        return None
    conid = record.text("conid")
    if conid:
        return conid
    if record.text("isin"):
        return f"isin:{record.text('isin')}"
    if record.text("symbol"):
        return f"symbol:{record.text('symbol')}"
    return None


def row_date(record: FlexRecord) -> datetime.date | None:
    """The first date a row carries (trade, report, EAE date); None for undated reference rows."""
    for name in _DATE_ATTRS:
        try:
            value = record.date(name)
        except Exception:  # a malformed date is the section mapper's error to report, not ours
            value = None
        if value is not None:
            return value
    return None


@dataclass
class Instrument:
    key: str  # conid (or isin:/symbol: fallback)
    first_date: datetime.date
    symbol: str | None
    asset_category: str | None
    attrs: dict[str, str] = field(default_factory=dict)  # merged raw attributes, first non-empty wins
    name: str = ""  # the commodity, set by Instruments.assign_names

    @property
    def multiplier(self) -> Decimal:
        value = self.attrs.get("multiplier")
        try:
            return Decimal(value) if value else Decimal(1)
        except ArithmeticError:
            return Decimal(1)

    def commodity_meta(self) -> dict:
        """Commodity directive metadata in docs/ledger-format.md order; None values left out."""
        attrs = self.attrs
        meta: dict = {"conid": attrs.get("conid") or self.key}
        meta["isin"] = attrs.get("isin")
        meta["name"] = attrs.get("description")
        meta["asset_category"] = self.asset_category
        meta["multiplier"] = self.multiplier
        if (self.asset_category or "") in OPTION_CATEGORIES:
            meta["underlying_conid"] = attrs.get("underlyingConid")
            meta["underlying_symbol"] = attrs.get("underlyingSymbol")
            expiry = attrs.get("expiry")
            meta["expiry"] = _parse_date(expiry)
            put_call = attrs.get("putCall") or (attrs.get("subCategory") if attrs.get("subCategory") in ("C", "P")
                                                else None)
            meta["put_call"] = put_call
            strike = attrs.get("strike")
            meta["strike"] = Decimal(strike) if strike else None
        if self.symbol and self.symbol != self.name:
            meta["symbol"] = self.symbol
        return {key: value for key, value in meta.items() if value is not None}


def _parse_date(text: str | None) -> datetime.date | None:
    from .adapter import parse_date
    return parse_date(text) if text else None


class Instruments:
    """Every instrument of every statement in one build, named once (see module docstring)."""

    def __init__(self, namer: CommodityNamer):
        self.namer = namer
        self.by_key: dict[str, Instrument] = {}

    def collect(self, statement: FlexStatement) -> None:
        """Merge the instruments of one statement (call for every statement before `assign_names`)."""
        fallback = statement.from_date or statement.to_date or datetime.date(1970, 1, 1)
        for section in SECTIONS:
            for record in statement.rows(section):
                key = instrument_key(record)
                if key is None:
                    continue
                day = row_date(record) or fallback
                found = self.by_key.get(key)
                if found is None:
                    found = self.by_key[key] = Instrument(key, day, record.text("symbol"),
                                                          record.text("assetCategory"))
                elif day < found.first_date:
                    # An earlier row decides the name: the first symbol IBKR used for this conid.
                    found.first_date = day
                    found.symbol = record.text("symbol") or found.symbol
                found.asset_category = found.asset_category or record.text("assetCategory")
                known = found.attrs
                for name, value in record.attrs.items():
                    if name in known:  # checked first: after an instrument's first row almost every name is
                        continue  # known, and this loop sees every attribute of every row (0.1 s for 10k trades)
                    value = value.strip()
                    if value and value not in ("-", "--", "N/A", "MULTI"):
                        known[name] = value

    def assign_names(self) -> None:
        """Name every instrument, in (first date, key) order, so names do not depend on file order."""
        for inst in sorted(self.by_key.values(), key=lambda i: (i.first_date, i.key)):
            inst.name = self.namer.name(inst.key, inst.symbol, inst.asset_category)

    def get(self, record: FlexRecord) -> Instrument | None:
        key = instrument_key(record)
        return self.by_key.get(key) if key else None

    def commodity_directive(self, inst: Instrument, date: datetime.date) -> data.Commodity:
        meta = data.new_metadata("<beanflex>", 0)
        meta.update(inst.commodity_meta())
        return data.Commodity(meta, date, inst.name)
