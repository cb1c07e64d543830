"""What strategy detection reads from one ledger event: the only place that knows the metadata names.

Detection (strategy_detect.py) never reads `event.meta` or commodity meta itself; it reads a `LegFacts` built here.
So when the importer adds metadata (an IBKR order id on every leg, a second link kind), only this adapter changes.
Today's ledger (docs/ledger-format.md) gives: the commodity's `underlying_conid`, `put_call`, `strike`, `expiry`
and `asset_category`; per trade `trade_datetime` ("20240102;100000"), `open_close`, `event` (trade, expiry,
assignment, exercise, …) and the `^eae-…` link joining an assigned option and the stock it delivered.

The order key: legs of one IBKR order share its order id (`order_id` / `ib_order_id` meta, when present); without
one, legs executed in the same second on the same underlying are taken as one order (a combo's legs fill together).
E.g. a put sold at `20240102;100000` on XYZ (underlying conid 900000) -> LegFacts(underlying="900000",
order="time:20240102;100000", option=True, right="P", strike=50, expiry=2024-03-15).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from .book import Event, Instrument
from .marks import dec

#: Order-id metadata names, first found wins (the options lifecycle may add any of them).
ORDER_KEYS = ("order_id", "ib_order_id", "ibkr_order_id", "order")
#: Link prefixes that tie an option's close to the underlying trade it caused.
DELIVERY_LINKS = ("eae-",)


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
    ex_date: datetime.date | None  # income rows: the day that decides who held the shares


def instrument_facts(inst: Instrument) -> dict:
    """The instrument part of LegFacts from its commodity meta (the same for every event of the instrument)."""
    meta = inst.meta or {}
    right = meta.get("put_call")
    underlying = meta.get("underlying_conid") or meta.get("underlying_symbol")
    option = right is not None or str(meta.get("asset_category") or "") in ("OPT", "FOP", "FSFOP")
    if not underlying and option:
        underlying = str(meta.get("symbol") or inst.symbol).split(" ")[0].split("-")[0]  # OCC root: "XYZ   24…"
    expiry = meta.get("expiry")
    return {
        "account": inst.account, "conid": inst.conid, "symbol": inst.symbol,
        "underlying": str(underlying) if option else inst.conid,
        "underlying_symbol": str(meta.get("underlying_symbol") or underlying or inst.symbol) if option
        else inst.symbol,
        "option": option, "right": str(right).upper()[:1] if right else None, "strike": dec(meta.get("strike")),
        "expiry": expiry if isinstance(expiry, datetime.date) else _date(expiry),
        "category": str(meta.get("asset_category") or ("OPT" if option else "STK")),
    }


def leg_facts(event: Event, common: dict, links: frozenset[str] = frozenset()) -> LegFacts:
    """LegFacts of one event, `common` being instrument_facts() of its instrument and `links` its transaction's
    links (transaction_links())."""
    meta = event.meta or {}
    when = str(meta.get("trade_datetime") or "")
    order_id = next((str(meta[k]) for k in ORDER_KEYS if meta.get(k) not in (None, "")), None)
    order = f"order:{order_id}" if order_id else (f"time:{when}" if when else None)
    links = frozenset(link for link in links if str(link).startswith(DELIVERY_LINKS))
    ex_date = meta.get("ex_date")
    return LegFacts(**common, when=when, order=order, kind=event.kind, delivery_links=links,
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
