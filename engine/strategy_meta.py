"""What strategy detection reads from one ledger event: the only place that knows the metadata names.

Detection (strategy_detect.py) never reads `event.meta` or commodity meta itself; it reads a `LegFacts` built here.
So when the importer adds metadata (an IBKR order id on every leg, a second link kind), only this adapter changes.
Today's ledger (docs/ledger-format.md) gives: the commodity's `underlying_conid`, `put_call`, `strike`, `expiry`
and `asset_category`; per trade `trade_datetime` ("20240102;100000"), `open_close`, `event` (trade, expiry,
assignment, exercise, …) and the `^eae-…` link joining an assigned option and the stock it delivered.

The order key: legs of one IBKR order share its order id (`order_id` / `ib_order_id` meta, when present); without
one, legs executed in the same second on the same underlying are taken as one order (a combo's legs fill together).
`rows_of` gathers a book's events into rows (one per flex_id, a row may touch several instruments), oldest first.

E.g. a put sold at `20240102;100000` on XYZ (underlying conid 900000) -> LegFacts(underlying="900000",
order="time:20240102;100000", option=True, right="P", strike=50, expiry=2024-03-15).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from .book import Book, Event, Instrument
from .marks import dec

#: Order-id metadata names, first found wins (the options lifecycle may add any of them).
ORDER_KEYS = ("order_id", "ib_order_id", "ibkr_order_id", "order")
#: Link prefixes that tie an option's close to the underlying trade it caused.
DELIVERY_LINKS = ("eae-",)
#: Event kinds of income rows: they follow the holder, they open nothing.
INCOME = frozenset({"dividend", "withholding", "fee"})


@dataclass(frozen=True)
class LegFacts:
    """One event as detection sees it."""

    account: str
    conid: str
    symbol: str
    underlying: str  # the underlying's conid (an option's), else the instrument's own conid
    underlying_symbol: str
    option: bool
    right: str | None  # "C" | "P"
    strike: Decimal | None
    expiry: datetime.date | None
    category: str  # STK, OPT, FUT, …
    when: str  # sortable time within the day: IBKR's trade_datetime, else ""
    order: str | None  # the order key (see module doc); None when nothing says which order
    kind: str  # ledger `event`
    delivery_links: frozenset[str]
    delivered_by: frozenset[str]  # a delivered trade's `option_flex_id`: the option close(s) that caused it
    ex_date: datetime.date | None  # income rows: the day that decides who held the shares


def instrument_facts(inst: Instrument, stock_conids: dict[tuple[str, str], str] | None = None) -> dict:
    """The instrument part of LegFacts from its commodity meta (the same for every event of the instrument).

    IBKR's `put_call`, `strike`, `expiry`, `underlying_conid` win; a trimmed export without them falls back on the
    OCC symbol (`ASML  260130P00930000` -> ASML, 2026-01-30, P, 930) or IBKR's description (`WY 17JUL26 20 C`),
    and on `stock_conids` ((account, symbol) -> conid) to find the underlying's conid from the option's root.
    """
    meta = inst.meta or {}
    parsed = parse_option(str(meta.get("symbol") or ""), str(meta.get("name") or ""))
    right = meta.get("put_call") or parsed.get("right")
    option = right is not None or str(meta.get("asset_category") or "") in ("OPT", "FOP", "FSFOP")
    root = meta.get("underlying_symbol") or parsed.get("root")
    underlying = meta.get("underlying_conid") or (stock_conids or {}).get((inst.account, str(root))) or root
    if option and not underlying:
        underlying = inst.symbol.split("-")[0]
    expiry = meta.get("expiry")
    expiry = expiry if isinstance(expiry, datetime.date) else _date(expiry) or parsed.get("expiry")
    return {
        "account": inst.account, "conid": inst.conid, "symbol": inst.symbol,
        "underlying": str(underlying) if option else inst.conid,
        "underlying_symbol": str(root or underlying) if option else inst.symbol,
        "option": option, "right": str(right).upper()[:1] if right else None,
        "strike": dec(meta.get("strike")) if meta.get("strike") is not None else parsed.get("strike"),
        "expiry": expiry, "category": str(meta.get("asset_category") or ("OPT" if option else "STK")),
    }


_OCC = re.compile(r"^([A-Z0-9.]{1,6})\s*(\d{6})([CP])(\d{8})$")
_DESCRIPTION = re.compile(r"^(\S+) (\d{2}[A-Z]{3}\d{2}) ([\d.]+) ([CP])$")


def parse_option(symbol: str, description: str) -> dict:
    """Root, expiry, right and strike from an OCC symbol (`XYZ   240315P00050000`: strike 50000 / 1000) or an
    IBKR option description (`XYZ 15MAR24 50 P`); {} when neither reads as an option."""
    match = _OCC.match(symbol.strip())
    if match:
        expiry = _date(f"20{match[2][:2]}-{match[2][2:4]}-{match[2][4:]}")
        return {"root": match[1], "expiry": expiry, "right": match[3], "strike": Decimal(match[4]) / 1000}
    match = _DESCRIPTION.match(description.strip())
    if match:
        try:
            expiry = datetime.datetime.strptime(match[2].title(), "%d%b%y").date()
        except ValueError:
            return {}
        return {"root": match[1], "expiry": expiry, "right": match[4], "strike": Decimal(match[3])}
    return {}


def leg_facts(event: Event, common: dict, links: frozenset[str] = frozenset()) -> LegFacts:
    """LegFacts of one event, `common` being instrument_facts() of its instrument and `links` its transaction's
    links (transaction_links())."""
    meta = event.meta or {}
    when = str(meta.get("trade_datetime") or "")
    order_id = next((str(meta[k]) for k in ORDER_KEYS if meta.get(k) not in (None, "")), None)
    order = f"order:{order_id}" if order_id else (f"time:{when}" if when else None)
    links = frozenset(link for link in links if str(link).startswith(DELIVERY_LINKS))
    ex_date = meta.get("ex_date")
    delivered_by = frozenset(str(meta.get("option_flex_id") or "").split())
    return LegFacts(**common, when=when, order=order, kind=event.kind, delivery_links=links, delivered_by=delivered_by,
                    ex_date=ex_date if isinstance(ex_date, datetime.date) else None)


def transaction_links(entries) -> dict[str, frozenset[str]]:
    """flex_id -> the transaction's links (Beancount keeps them on the entry, not in meta)."""
    from beancount.core import data

    found = {}
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.links and (entry.meta or {}).get("flex_id"):
            found[str(entry.meta["flex_id"])] = frozenset(entry.links)
    return found


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class Row:
    flex_id: str
    date: datetime.date
    when: str
    events: list[tuple[Event, LegFacts]]

    @property
    def facts(self) -> LegFacts:
        return self.events[0][1]

    @property
    def income(self) -> bool:
        return all(event.kind in INCOME and not event.legs for event, _ in self.events)


def rows_of(book: Book, links: dict[str, frozenset[str]] | None = None) -> list[Row]:
    """Every instrument event of the book as rows (one per flex_id), oldest first; income on its ex-date first."""
    links = links or {}
    by_id: dict[str, Row] = {}
    stock_conids = {}  # (account, symbol) -> conid of the non-option instruments, for options without underlyingConid
    for inst in book.instruments.values():
        if not inst.meta.get("put_call") and str(inst.meta.get("asset_category") or "STK") not in ("OPT", "FOP"):
            for name in (inst.symbol, inst.meta.get("symbol")):
                if name:
                    stock_conids.setdefault((inst.account, str(name)), inst.conid)
    for inst in book.instruments.values():
        common = instrument_facts(inst, stock_conids)
        for event in inst.events:
            facts = leg_facts(event, common, links.get(event.flex_id, frozenset()))
            row = by_id.get(event.flex_id)
            if row is None:
                row = by_id[event.flex_id] = Row(event.flex_id, event.date, facts.when, [])
            row.events.append((event, facts))
    return sorted(by_id.values(), key=_row_key)


def _row_key(row: Row):
    effective = (row.facts.ex_date or row.date) if row.income else row.date
    return (effective, 0 if row.income else 1, row.when, row.flex_id)
