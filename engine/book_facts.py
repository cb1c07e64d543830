"""What the book reads off a ledger besides events: why an instrument's numbers are flagged, the base currency a
ledger without `operating_currency` most likely has, who gives and who receives in a corporate action, and the
latest of a series of rates. Kept apart from book.py (the event reader) so each stays one screenful per job.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from beancount.core import data

from .marks import dec

ZERO = Decimal(0)


def _latest(series: list, date: datetime.date) -> Decimal | None:
    found = [rate for day, rate in series if day <= date]
    return found[-1] if found else None


def flag_reason(events, until: datetime.date | None = None) -> str | None:
    """Why numbers built on these events are not IBKR's, from the first event flagged `!` on or before `until`:
    the entry's own `flag_reason` meta when it names one (a corporate action IBKR's rows cannot settle says why:
    `ca_basis_unknown`, `ca_type_unsupported`, …), else `flagged_corporate_action` for a corporate action and
    `flagged_entry` for any other `!` entry (a stand-in cost: an opening lot or a transfer whose basis IBKR's rows
    do not give). None when nothing is flagged."""
    flagged = [e for e in events if e.flag == "!" and (until is None or e.date <= until)]
    if not flagged:
        return None
    first = min(flagged, key=lambda e: e.date)
    named = first.meta.get("flag_reason")
    if named:
        return str(named)
    return "flagged_corporate_action" if first.kind == "corporate_action" else "flagged_entry"


def infer_base_currency(entries) -> str:
    """A guess at the base when main.beancount does not declare `operating_currency` (every P&L row is then
    flagged `base_currency_assumed`): the currency whose rows IBKR converts at `fx_rate_to_base: 1` most often (cash rows by their `currency`, trades by their cost currency; FX
    conversions say nothing), else USD."""
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        meta = getattr(entry, "meta", None) or {}
        if not isinstance(entry, data.Transaction) or dec(meta.get("fx_rate_to_base")) != 1:
            continue
        currency = meta.get("currency") or next((p.cost.currency for p in entry.postings if p.cost is not None
                                                 and p.cost.currency), None)
        if currency and meta.get("event") != "fx":
            counts[str(currency)] += 1
    return max(sorted(counts), key=counts.__getitem__) if counts else "USD"


def carry_moves(entry: data.Transaction, legs: dict, currencies: dict, split_account) -> dict:
    """Who gives and who receives in a corporate action over several instruments, from the postings alone:
    {(account, commodity): (net cash, basis carried out, sources)}. An instrument whose legs remove basis (value
    at cost < 0; by units when the cost is 0) gives: its net cash is its share of the cash and of the basis the
    receivers' lots are written at, so its realized = cash + carried - closed basis (LVGO -> TDOC: 10.622048 +
    126.00 - 126.00 = 10.622048, IBKR's figure; a split into a new conid: 0 + 3256.20 - 3256.20 = 0).
    A receiver gets no cash; its lots come at their posted cost from the givers (`sources`)."""
    value = {key: sum((leg.units * (leg.cost or ZERO) for leg in its_legs), ZERO) for key, its_legs in legs.items()}
    units = {key: sum((leg.units for leg in its_legs), ZERO) for key, its_legs in legs.items()}
    gives = [key for key in legs if value[key] < 0 or (value[key] == 0 and units[key] < 0)]
    gets = [key for key in legs if key not in gives]
    out: dict = {}
    for key in gets:
        out[key] = (None, ZERO, tuple(gives))
    weights = {key: abs(value[key]) for key in gives}
    total = sum(weights.values(), ZERO)
    for key in gives:
        share = weights[key] / total if total else Decimal(1) / len(gives)
        currency = currencies.get(key)
        cash = sum((p.units.number for p in entry.postings if p.units.currency == currency
                    and (split_account(p.account) or ("", ""))[1] == "Assets:Cash"), ZERO)
        carried = sum((value[k] for k in gets if currencies.get(k) == currency), ZERO)
        out[key] = ((cash + carried) * share, carried * share, ())
    return out


def _realized_of(meta: dict, conid: str, instruments: int) -> Decimal | None:
    """IBKR's realized for this instrument: `fifo_pnl_realized`, on a corporate action over several instruments
    only for the conid the meta names (the leg that removed shares)."""
    if instruments > 1 and str(meta.get("conid")) != conid:
        return None
    return dec(meta.get("fifo_pnl_realized"))
