"""External flows and holdings of what a return is measured on (DESIGN §10 "External flows").

An Entity is an IBKR account, the whole portfolio, a label, a strategy group or one instrument:

- account / portfolio: every position and all cash; its flows are deposits and withdrawals (`event: "transfer"`
  cash), positions transferred in or out at their value that day, and `opening` balances (history from before the
  first statement arrives like a deposit). Interest, fees, dividends stay inside: they are return, not flows.
- label / strategy / instrument: only the units of its events (a label's members times their weight); its flows
  are the money into the positions (a buy, commission included: -net_cash) and out of them (a sale net of
  commission, dividends net of withholding, instrument fees). Positions it receives by `opening` or `transfer`
  flow in at their value that day.

Every flow is in base currency at that day's rate (the row's `fx_rate_to_base`, else the ledger's rate), signed as
seen by the entity (+ money in), and keeps its flex_id and raw rows. `side` says when it happens: money in at the
start of its day, money out at its end (a sale's cash leaves after the day's trading; taking it out of yesterday's
value instead would divide by ~0 on the day a position is closed). E.g. DESIGN §4's AAPL: buys of 1001 and 1201
USD flow in (+1001, +1201), the sale 1948.50 and the net dividend 1.20 - 0.18 = 1.02 flow out (-1948.50, -1.02).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from beanflex.contract.accounts import split_account

from .book import ZERO, Book, Event
from .valuation import Holdings, Prices

#: Instrument events that move units without money (their value change is return): splits, expiries, CAs.
TRANSFER_KINDS = ("transfer", "opening")
INCOME_SIGN = {"dividend": -1, "withholding": 1, "fee": 1}  # flow sign: a dividend paid out leaves the position


@dataclass(frozen=True)
class Flow:
    date: datetime.date
    kind: str  # deposit, withdrawal, opening, transfer_in, transfer_out, buy, sell, income
    amount: Decimal | None  # base currency, + into the entity; None when a price or rate is missing
    side: str  # "in": start of the day; "out": end of the day
    local: Decimal  # in `currency`
    currency: str
    rate: Decimal | None
    flex_id: str
    flex_src: str
    description: str
    account: str = ""
    symbol: str = ""


@dataclass
class Entity:
    kind: str  # account | portfolio | label | strategy | instrument
    key: str
    name: str
    holdings: Holdings = field(default_factory=Holdings)
    flows: list[Flow] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)  # account, conid, symbol, weight
    accounts: tuple[str, ...] = ()  # an account's or the portfolio's IBKR accounts

    def inception(self) -> datetime.date | None:
        days = [f.date for f in self.flows]
        first = self.holdings.first_date()
        if first is not None:
            days.append(first)
        return min(days) if days else None


def account_entity(book: Book, prices: Prices, accounts: list[str], kind: str = "account",
                   name: str | None = None) -> Entity:
    """One IBKR account (or several together as the portfolio): all units, all cash, external flows only."""
    key = accounts[0] if kind == "account" else "portfolio"
    entity = Entity(kind, key, name or key, accounts=tuple(accounts))
    wanted = set(accounts)
    for (account, conid), inst in book.instruments.items():
        if account not in wanted:
            continue
        for event in inst.events:
            for leg in event.legs:
                entity.holdings.add_units(account, inst.symbol, event.date, leg.units)
            if event.kind in TRANSFER_KINDS and event.legs:
                entity.flows.append(_position_flow(prices, event, inst.symbol, Decimal(1)))
    for entry, posting in book.cash_postings:
        account = split_account(posting.account)[0]
        if account not in wanted:
            continue
        currency, amount = posting.units.currency, posting.units.number
        entity.holdings.add_cash(account, currency, entry.date, amount)
        event = (entry.meta or {}).get("event")
        if event in TRANSFER_KINDS:
            entity.flows.append(_cash_flow(book, entry, account, currency, amount, event))
    entity.flows.sort(key=lambda f: (f.date, f.flex_id))
    return entity


def _cash_flow(book: Book, entry, account: str, currency: str, amount: Decimal, event: str) -> Flow:
    meta = entry.meta or {}
    rate = book.rate(currency, entry.date)
    if rate is None and meta.get("currency") == currency and meta.get("fx_rate_to_base") is not None:
        rate = Decimal(str(meta["fx_rate_to_base"]))
    kind = "opening" if event == "opening" else "deposit" if amount > 0 else "withdrawal"
    return Flow(entry.date, kind, amount * rate if rate is not None else None, "in" if amount > 0 else "out",
                amount, currency, rate, str(meta.get("flex_id") or ""), str(meta.get("flex_src") or ""),
                entry.narration or "", account, currency)


def _position_flow(prices: Prices, event: Event, symbol: str, weight: Decimal) -> Flow:
    """Units arriving or leaving without money, at their value that day (that day's price x rate)."""
    units = sum((leg.units for leg in event.legs), ZERO) * weight
    point = prices.on(symbol, event.date)
    currency = prices.currency.get(symbol, event.currency)
    rate = prices.rate(currency, event.date)
    local = units * point.unit_price if point is not None else ZERO
    amount = local * rate if point is not None and rate is not None else None
    kind = "opening" if event.kind == "opening" else "transfer_in" if units > 0 else "transfer_out"
    return Flow(event.date, kind, amount, "in" if units > 0 else "out", local, currency, rate, event.flex_id,
                event.flex_src, event.description, event.account, symbol)


def instruments_entity(book: Book, prices: Prices, kind: str, key: str, members: dict[tuple[str, str], Decimal],
                       flex_ids: set[str] | None = None, name: str | None = None) -> Entity:
    """A label (members with weights), an instrument (one member, weight 1) or a strategy group (only the events
    whose flex_id is in `flex_ids`)."""
    entity = Entity(kind, key, name or key)
    for (account, conid), weight in sorted(members.items()):
        inst = book.instruments.get((account, conid))
        if inst is None or not weight:
            continue
        entity.members.append({"account": account, "conid": conid, "symbol": inst.symbol, "weight": weight})
        for event in inst.events:
            if flex_ids is not None and event.flex_id not in flex_ids:
                continue
            for leg in event.legs:
                entity.holdings.add_units(account, inst.symbol, event.date, leg.units * weight)
            flow = _instrument_flow(book, prices, event, inst.symbol, weight)
            if flow is not None:
                entity.flows.append(flow)
    entity.flows.sort(key=lambda f: (f.date, f.flex_id))
    return entity


def _instrument_flow(book: Book, prices: Prices, event: Event, symbol: str, weight: Decimal) -> Flow | None:
    """Money into or out of one instrument's positions for one event (None: the event moves no money)."""
    if event.kind in TRANSFER_KINDS and event.legs:
        return _position_flow(prices, event, symbol, weight)
    rate = event.fx_rate if event.fx_rate is not None else book.rate(event.currency, event.date)
    if event.legs:
        if not event.net_cash:
            return None  # a split, an expiry at 0, an assignment's option leg: value moves, money does not
        local = -event.net_cash * weight
        kind, side = ("buy", "in") if local > 0 else ("sell", "out")
    elif event.kind in INCOME_SIGN and event.amount:
        local = INCOME_SIGN[event.kind] * event.amount * weight
        kind, side = "income", "out"
    else:
        return None
    return Flow(event.date, kind, local * rate if rate is not None else None, side, local, event.currency, rate,
                event.flex_id, event.flex_src, event.description, event.account, symbol)
