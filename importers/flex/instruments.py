"""Instruments: one Beancount commodity per IBKR `conid`, with the metadata the plugins and reports need.

Identity is the conid (DESIGN §3), never the ticker: a ticker change keeps the commodity, and two instruments
that share a ticker get two commodities. Names come from `names.CommodityNamer`, fed here in one deterministic
order (first date the instrument is seen, then its key), so every rebuild names everything the same way no
matter which statement mentions an instrument first in file order.

Metadata is merged over every row that names the instrument (Trades, OpenPositions, SecuritiesInfo,
CashTransactions, CorporateActions, OptionEAE): the first non-empty value wins, so later statements only fill
gaps. Options get `underlying_conid`, `underlying_symbol`, `expiry`, `put_call` and `strike`; trimmed exports
without `putCall` carry the right in `subCategory` (`C`/`P`). IBKR's fields win; the OCC symbol
(`ORCL  170915P00050000`) fills what they leave out and cross-checks the rest: a row whose fields disagree with its
own symbol is a `value_mismatch` drift item naming the row and field. An adjusted contract (OCC root `XYZ1`, or a
delivery that is not `multiplier` units per contract, e.g. 150 shares for 1 contract of multiplier 100) is
marked `adjusted: TRUE`, with `deliverable_units` read from IBKR's delivered rows (option_deliveries.py).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data

from .adapter import FlexRecord, FlexStatement
from .names import CommodityNamer, OccSymbol, parse_occ

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
    deliverable_units: Decimal | None = None  # underlying units per contract, when a delivery shows another number

    @property
    def occ(self) -> OccSymbol | None:
        if (self.asset_category or "") not in OPTION_CATEGORIES:
            return None
        return parse_occ(self.attrs.get("symbol") or self.symbol)

    @property
    def adjusted(self) -> bool:
        occ = self.occ
        return bool(occ and occ.adjusted) or self.deliverable_units is not None

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
            occ = self.occ
            meta["underlying_conid"] = attrs.get("underlyingConid")
            meta["underlying_symbol"] = attrs.get("underlyingSymbol") or (occ.root if occ else None)
            expiry = attrs.get("expiry")
            meta["expiry"] = _parse_date(expiry) or (occ.expiry if occ else None)
            put_call = attrs.get("putCall") or (attrs.get("subCategory") if attrs.get("subCategory") in ("C", "P")
                                                else None)
            meta["put_call"] = put_call or (occ.right if occ else None)
            strike = attrs.get("strike")
            meta["strike"] = Decimal(strike) if strike else (occ.strike if occ else None)
            if self.adjusted:
                meta["adjusted"] = True
                meta["deliverable_units"] = self.deliverable_units
        if self.symbol and self.symbol != self.name:
            meta["symbol"] = self.symbol
        return {key: value for key, value in meta.items() if value is not None}


def check_occ(record: FlexRecord, section: str, drift, raw_path: str) -> list[str]:
    """IBKR's expiry, putCall and strike against the row's own OCC symbol; each disagreement is a drift item.

    `MSTR  251017C00290000` with strike="295" -> ["strike 295 != OCC 290"]. Returns the disagreements.
    """
    occ = parse_occ(record.text("symbol"))
    if occ is None:
        return []
    found = []
    expiry = _parse_date(record.text("expiry"))
    if expiry is not None and expiry != occ.expiry:
        found.append(f"expiry {expiry} != OCC {occ.expiry}")
    if record.text("putCall") and record.text("putCall") != occ.right:
        found.append(f"putCall {record.text('putCall')} != OCC {occ.right}")
    strike = record.decimal("strike")
    if strike is not None and strike != occ.strike:
        found.append(f"strike {strike} != OCC {occ.strike}")
    for what in found:
        drift.add("value_mismatch", section, record.tag, f"{what} in {record.text('symbol')!r} (IBKR's field is used)",
                  raw_path, record.line)
    return found


def _parse_date(text: str | None) -> datetime.date | None:
    from .adapter import parse_date
    return parse_date(text) if text else None


class Instruments:
    """Every instrument of every statement in one build, named once (see module docstring)."""

    def __init__(self, namer: CommodityNamer):
        self.namer = namer
        self.by_key: dict[str, Instrument] = {}

    def collect(self, statement: FlexStatement, drift=None, raw_path: str = "") -> None:
        """Merge the instruments of one statement (call for every statement before `assign_names`); option rows
        whose fields disagree with their OCC symbol go to `drift` (a DriftReport) as `value_mismatch`."""
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
                if drift is not None and (record.text("assetCategory") or "") in OPTION_CATEGORIES:
                    check_occ(record, section, drift, raw_path)
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
