"""Ending cash per currency against IBKR's CashReport (`custom "ibkr-cash"`), with the kinds of money behind a diff.

The check: the ledger's `Assets:IBKR:<acct>:Cash` balance in one currency at the end of the CashReport's toDate
(every posting dated on or before it) against IBKR's `ending_cash`. One Diff per ibkr-cash record, field `cash`.

The breakdown, which says where a diff comes from: IBKR's CashReport splits the period's change of cash into
figures (commissions, dividends, net trades, ...). GROUPS gathers them into the kinds the ledger can tell apart by
a transaction's `event`, and the ledger's cash postings of the period (from_date..to_date) are added up per kind.
Example, eTax CHF: IBKR's commissions -110.22127726 against the ledger's -91.353490997, because IBKR charged 9 FX
commissions in USD that their rows state in CHF (tests/test_etax_fx_commissions.py). The breakdown rows are
fields `cash.<kind>`: evidence shown next to the check, not checks of their own (IBKR's grouping of a few rows,
e.g. commission adjustments, is not the ledger's, and a matched ending cash needs no explaining).
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from decimal import Decimal

from beanflex.contract import flex_src
from beanflex.contract.accounts import account_component, split_account

from .book import ZERO, Book, dec
from .diffs import Diff

#: kind -> IBKR CashReport figures (snake_case meta of `custom "ibkr-cash"`) that make it up. `deposit_withdrawals`
#: is IBKR's own sum of `deposits` and `withdrawals`, so those two are not listed again.
GROUPS = {
    "starting_cash": ("starting_cash",),
    "trades": ("net_trades_sales", "net_trades_purchases"),
    "commissions": ("commissions",),
    "dividends": ("dividends", "payment_in_lieu"),
    "withholding": ("withholding_tax", "withholding871m"),
    "interest": ("broker_interest", "bond_interest", "insured_deposit_interest"),
    "fees": ("other_fees", "advisor_fees", "client_fees", "broker_fees"),
    "deposits_withdrawals": ("deposit_withdrawals", "internal_transfers", "account_transfers"),
}
#: The ledger's `event` -> kind; a trade's commission is split off by its `commission` meta. Any other event
#: (corporate actions, unclassified rows) is `other`, as is IBKR's remainder: ending - starting - the groups.
EVENT_KIND = {"trade": "trades", "fx": "trades", "expiry": "trades", "assignment": "trades", "exercise": "trades",
              "dividend": "dividends", "withholding": "withholding", "interest": "interest", "fee": "fees",
              "transfer": "deposits_withdrawals", "opening": "starting_cash"}
TRADE_KINDS = {"trade", "fx", "expiry", "assignment", "exercise"}


def cash_checks(book: Book, tolerance: Decimal) -> list[Diff]:
    """Per `custom "ibkr-cash"`: the ending-cash Diff (field `cash`), then, when it differs by more than the
    tolerance, one `cash.<kind>` Diff per kind where either side is not zero. Reasons are named on the ending-cash
    Diff only, from the breakdown (see `_reason`)."""
    balances = _Balances(book)
    found: list[tuple[Diff, list[Diff]]] = []
    for entry in sorted(book.cash_reports, key=lambda e: e.date):
        meta = entry.meta or {}
        account = account_component(str(meta.get("account") or ""))
        currency = str(meta.get("currency") or (entry.values[0].value if entry.values else ""))
        start = meta.get("from_date") if isinstance(meta.get("from_date"), datetime.date) else entry.date
        ibkr_ending = dec(meta.get("ending_cash")) or ZERO
        ours = balances.at(account, currency, entry.date)
        common = dict(date=entry.date, account=account, conid="", symbol=currency, currency=currency, flex_id="",
                      raw=tuple(flex_src.refs(meta.get("flex_src"))), meta=meta)
        ending = Diff(field="cash", ours=ours, ibkr=ibkr_ending, **common)
        if abs(ending.diff) <= tolerance:
            found.append((ending, []))  # matched: nothing to explain
            continue
        ours_kinds = balances.by_kind(account, currency, start, entry.date)
        ours_kinds["starting_cash"] += balances.at(account, currency, start - datetime.timedelta(days=1))
        ibkr_kinds = _ibkr_kinds(meta, ibkr_ending)
        groups = [Diff(field=f"cash.{kind}", ours=ours_kinds.get(kind, ZERO), ibkr=ibkr_kinds.get(kind, ZERO),
                       **common)
                  for kind in (*GROUPS, "other") if ours_kinds.get(kind) or ibkr_kinds.get(kind)]
        found.append((ending, groups))
    result = []
    for ending, groups in found:
        reason = _reason(ending, groups, found, tolerance) if abs(ending.diff) > tolerance else None
        result.append(Diff(**{**ending.__dict__, "reason": reason}))
        result.extend(groups)
    return result


def _ibkr_kinds(meta: dict, ending: Decimal) -> dict[str, Decimal]:
    kinds = {kind: sum((dec(meta.get(name)) or ZERO for name in names), ZERO) for kind, names in GROUPS.items()}
    kinds["other"] = ending - sum(kinds.values(), ZERO)
    return kinds


def _reason(ending: Diff, groups: list[Diff], found: list[tuple[Diff, list[Diff]]],
            tolerance: Decimal) -> str | None:
    """The known cause of an ending-cash diff, from the kinds that differ:

    - `earlier_cash_diff`: the ledger's cash before the period already differs from IBKR's startingCash;
    - `commission_in_other_currency`: only the commissions differ, and another currency of the same account and
      period has a commissions diff of the opposite sign (eTax: CHF -18.87, USD +21.82);
    - `statement_rows_incomplete`: the statement's rows of a kind do not add up to IBKR's own figure for it (a
      trimmed or edited export; the breakdown names the kind).
    """
    differing = {d.field.removeprefix("cash."): d for d in groups if abs(d.diff) > tolerance}
    if not differing:
        return None
    if "starting_cash" in differing:
        return "earlier_cash_diff"
    if set(differing) == {"commissions"}:
        mine = differing["commissions"].diff
        for other, other_groups in found:
            if (other.account, other.date, other.meta.get("from_date")) != (ending.account, ending.date,
                                                                             ending.meta.get("from_date")):
                continue
            if other.currency != ending.currency and any(
                    g.field == "cash.commissions" and abs(g.diff) > tolerance and (g.diff > 0) != (mine > 0)
                    for g in other_groups):
                return "commission_in_other_currency"
    return "statement_rows_incomplete"


def breakdown_text(groups: list[Diff], tolerance: Decimal) -> str:
    """`commissions ours -91.35 IBKR -110.22` for the kinds that differ, for error messages."""
    return "; ".join(f"{d.field.removeprefix('cash.')} ours {d.ours} IBKR {d.ibkr}" for d in groups
                     if abs(d.diff) > tolerance)


class _Balances:
    """The ledger's cash postings per (account, currency), in date order: running balances for the check, and
    the per-kind sums of a period, worked out only for the reports that differ (classifying every posting of a
    large ledger would cost more than the rest of the plugin)."""

    def __init__(self, book: Book):
        self.postings: dict[tuple[str, str], list[tuple[datetime.date, Decimal, object, object]]] = defaultdict(list)
        for entry, posting in book.cash_postings:
            account = (split_account(posting.account) or ("", ""))[0]
            self.postings[(account, posting.units.currency)].append((entry.date, posting.units.number, entry,
                                                                     posting))
        self.running: dict[tuple[str, str], list[Decimal]] = {}
        self.days: dict[tuple[str, str], list[datetime.date]] = {}
        for key, moves in self.postings.items():
            moves.sort(key=lambda m: m[0])
            self.days[key] = [m[0] for m in moves]
            total, running = ZERO, []
            for move in moves:
                total += move[1]
                running.append(total)
            self.running[key] = running

    def at(self, account: str, currency: str, day: datetime.date) -> Decimal:
        """The balance at the end of `day`."""
        i = bisect.bisect_right(self.days.get((account, currency), []), day)
        return self.running[(account, currency)][i - 1] if i else ZERO

    def by_kind(self, account: str, currency: str, start: datetime.date, end: datetime.date) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        days = self.days.get((account, currency), [])
        moves = self.postings.get((account, currency), [])
        for _day, _amount, entry, posting in moves[bisect.bisect_left(days, start):bisect.bisect_right(days, end)]:
            for kind, amount in _kinds_of(entry, posting):
                sums[kind] += amount
        return sums


def _kinds_of(entry, posting) -> list[tuple[str, Decimal]]:
    """One cash posting as (kind, amount) parts: a trade's commission in this currency is `commissions`, the
    rest `trades` (SELL netCash 1948.50 with commission -1.00 -> trades 1949.50, commissions -1.00). An FX
    conversion books its commission as a `Cash` posting of its own against `Expenses:…:Commissions`."""
    meta = entry.meta or {}
    event = str(meta.get("event") or "trade")
    amount = posting.units.number
    kind = EVENT_KIND.get(event, "other")
    if event not in TRADE_KINDS:
        return [(kind, amount)]
    commission = dec(meta.get("commission")) or ZERO
    own_posting = [p for p in entry.postings if (split_account(p.account) or ("", ""))[1] == "Expenses:Commissions"]
    if own_posting:
        is_it = any(p.units.currency == posting.units.currency and p.units.number == -amount for p in own_posting)
        return [("commissions" if is_it else kind, amount)]
    if commission and str(meta.get("commission_currency") or posting.units.currency) == posting.units.currency:
        return [("commissions", commission), (kind, amount - commission)]
    return [(kind, amount)]
