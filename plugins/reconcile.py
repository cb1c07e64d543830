"""A plugin that checks each closing trade's realized P&L and each open position against IBKR's own figures.

`plugin "beanflex.plugins.reconcile" "{'tolerance': '0.01'}"` returns the entries unchanged and adds one
ReconcileError per difference above the tolerance: a closing trade whose realized P&L (proceeds minus the basis
of the lots the ledger closed, e.g. 1948.50 - 1601.50 = 347.00) differs from IBKR's `fifo_pnl_realized`, or an
open position whose quantity, cost basis or unrealized P&L differs from IBKR's `custom "ibkr-position"`.
`reconcile(book, tolerance)` is the same comparison as data, for `report reconcile`. Diffs are never netted:
each one is listed, with a `reason` when a known cause applies (REASONS).
"""

from __future__ import annotations

import ast
import collections
import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from . import lots as lots_mod
from .book import ZERO, Book, Event, IbkrPosition, Instrument, account_component, load_book, raw_refs

__plugins__ = ("reconcile",)

ReconcileError = collections.namedtuple("ReconcileError", "source message entry")

DEFAULT_TOLERANCE = Decimal("0.01")

REASONS = {
    "flagged_corporate_action": "an unsupported corporate action for this instrument is flagged '!' in the ledger",
    "missing_history": "a lot was opened before the first imported statement (opening balance) or is missing",
    "wash_sale": "IBKR adjusted this trade for a wash sale (notes W)",
    "assignment_premium_in_stock_leg": "IBKR folds an assigned/exercised option's premium into the stock leg "
                                       "(flex-schema §2); ours books it on the option",
    "commission_in_other_currency": "the commission is charged in another currency than the trade",
}


def parse_config(config_str: str | None) -> dict:
    """The plugin's config string as a dict, e.g. "{'tolerance': '0.01'}" -> {'tolerance': Decimal('0.01')}."""
    value = ast.literal_eval(config_str) if config_str and config_str.strip() else {}
    if not isinstance(value, dict):
        raise ValueError(f"beanflex.plugins.reconcile: config must be a dict like {{'tolerance': '0.01'}}, "
                         f"got {config_str!r}")
    tolerance = value.get("tolerance", DEFAULT_TOLERANCE)
    try:
        value["tolerance"] = Decimal(str(tolerance))
    except InvalidOperation as exc:
        raise ValueError(f"beanflex.plugins.reconcile: tolerance {tolerance!r} is not a number") from exc
    return value


@dataclass(frozen=True)
class Diff:
    """One comparison of ours against IBKR's figure (a closing trade, or one field of an open position)."""

    date: datetime.date
    account: str
    conid: str
    symbol: str
    currency: str
    flex_id: str
    field: str  # realized | quantity | cost_basis | unrealized | summary.<attribute>
    ours: Decimal
    ibkr: Decimal
    raw: tuple[str, ...]
    reason: str | None = None
    meta: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def diff(self) -> Decimal:
        return self.ours - self.ibkr


@dataclass
class Reconciliation:
    tolerance: Decimal
    trades: list[Diff]  # every closing trade with an IBKR figure, matched or not
    positions: list[Diff]  # every compared field of every ibkr-position
    summaries: list[Diff]  # ibkr-summary rows we can compare

    def beyond(self, diffs: list[Diff]) -> list[Diff]:
        return [d for d in diffs if abs(d.diff) > self.tolerance]

    @property
    def diffs(self) -> list[Diff]:
        return self.beyond(self.trades) + self.beyond(self.positions) + self.beyond(self.summaries)


def reconcile_book(book: Book, tolerance: Decimal = DEFAULT_TOLERANCE, accounts=()) -> Reconciliation:
    """Compare every closing trade and open position of the book with IBKR's figures (the `ibkr` lot method)."""
    result = Reconciliation(tolerance, [], [], [])
    for (account, _conid), inst in sorted(book.instruments.items(), key=lambda kv: (kv[0][0], kv[1].symbol)):
        if accounts and account not in accounts:
            continue
        run = lots_mod.run(inst.events, "ibkr", checkpoints=[p.date for p in inst.positions])
        result.trades.extend(_trade_checks(inst, run))
        for pos in inst.positions:
            result.positions.extend(_position_checks(inst, pos, run.snapshots.get(pos.date, run.lots)))
    _name_assignment_reasons(book, result, tolerance)
    result.summaries.extend(_summary_checks(book, result))
    return result


def _trade_checks(inst: Instrument, run: lots_mod.LotRun) -> list[Diff]:
    by_event = {id(c.event): c for c in run.closings}
    checks = []
    for event in inst.events:
        closing = by_event.get(id(event))
        if event.fifo_pnl_realized is None or (closing is None and not event.fifo_pnl_realized):
            continue
        ours = closing.realized if closing is not None else ZERO
        reason = _trade_reason(inst, event, closing)
        checks.append(Diff(event.date, inst.account, inst.conid, inst.symbol, event.currency, event.flex_id,
                           "realized", ours, event.fifo_pnl_realized, tuple(raw_refs(event.flex_src)), reason,
                           event.meta))
    return checks


def _trade_reason(inst: Instrument, event: Event, closing: lots_mod.Closing | None) -> str | None:
    if any(e.flag == "!" and e.date <= event.date for e in inst.events):
        return "flagged_corporate_action"
    if closing is None or closing.unmatched or any("/opening/" in i for lot in closing.closed for i in lot.ids):
        return "missing_history"
    if "W" in str(event.meta.get("notes") or "").split(";"):
        return "wash_sale"
    ccy = event.meta.get("commission_currency")
    if ccy and ccy != event.currency and event.commission:
        return "commission_in_other_currency"
    return None


def _position_checks(inst: Instrument, pos: IbkrPosition, lots: list[lots_mod.Lot]) -> list[Diff]:
    """Quantity, cost basis and unrealized (at IBKR's own mark, so only the lots differ) of one position."""
    quantity = sum((lot.units for lot in lots), ZERO)
    basis = sum((lot.basis for lot in lots), ZERO)
    reason = None
    if any(e.flag == "!" and e.date <= pos.date for e in inst.events):
        reason = "flagged_corporate_action"
    elif any("/opening/" in i for lot in lots for i in lot.ids):
        reason = "missing_history"
    pairs = [("quantity", quantity, pos.position), ("cost_basis", basis, pos.cost_basis_money)]
    if pos.mark_price is not None:
        multiplier = pos.meta.get("multiplier") or inst.multiplier
        ours_unrealized = quantity * pos.mark_price * Decimal(str(multiplier)) - basis
        pairs.append(("unrealized", ours_unrealized, pos.fifo_pnl_unrealized))
    currency = pos.currency or inst.currency
    return [Diff(pos.date, inst.account, inst.conid, inst.symbol, currency, "", name, ours, ibkr,
                 tuple(raw_refs(pos.flex_src)), reason, pos.meta)
            for name, ours, ibkr in pairs if ibkr is not None]


def _name_assignment_reasons(book: Book, result: Reconciliation, tolerance: Decimal) -> None:
    """An assigned option's premium: IBKR says 0 on the option and moves it into the stock leg (or the stock's
    basis). When the option's diff and the stock's diffs on that day offset, both get the reason."""
    option_diffs = collections.defaultdict(list)  # (account, underlying conid) -> option diffs
    for i, d in enumerate(result.trades):
        inst = book.instruments[(d.account, d.conid)]
        event_kind = d.meta.get("event")
        underlying = inst.meta.get("underlying_conid")
        if event_kind in ("assignment", "exercise") and not d.ibkr and underlying and abs(d.diff) > tolerance:
            option_diffs[(d.account, str(underlying))].append(i)
    for (account, underlying), indexes in option_diffs.items():
        premium = sum((result.trades[i].diff for i in indexes), ZERO)
        dates = {result.trades[i].date for i in indexes}
        stock = [j for j, d in enumerate(result.trades) if d.account == account and d.conid == underlying
                 and d.date in dates and abs(d.diff) > tolerance]
        positions = [j for j, d in enumerate(result.positions) if d.account == account and d.conid == underlying
                     and d.field in ("cost_basis", "unrealized") and abs(d.diff) > tolerance]
        offset = stock and abs(premium + sum((result.trades[j].diff for j in stock), ZERO)) <= tolerance
        held = positions and all(abs(abs(result.positions[j].diff) - abs(premium)) <= tolerance for j in positions)
        if not (offset or held):
            continue
        for j in indexes + stock:
            result.trades[j] = _with_reason(result.trades[j], "assignment_premium_in_stock_leg")
        for j in positions:
            result.positions[j] = _with_reason(result.positions[j], "assignment_premium_in_stock_leg")


def _with_reason(diff: Diff, reason: str) -> Diff:
    return diff if diff.reason else Diff(**{**diff.__dict__, "reason": reason})


def _summary_checks(book: Book, result: Reconciliation) -> list[Diff]:
    """FIFO performance summary rows per conid: IBKR's realized for the statement period vs the sum of our
    closing trades' realized on or before the summary date in that calendar year (base currency where IBKR's
    summary is in base)."""
    checks = []
    for entry in book.summaries:
        meta = entry.meta
        conid, account = str(meta.get("conid") or ""), str(meta.get("account") or "")
        if not conid or "total_realized_pnl" not in meta or "FIFO" not in str(entry.values[0].value):
            continue
        inst = book.instruments.get((account_component(account), conid))
        ours = sum((d.ours for d in result.trades
                    if inst is not None and (d.account, d.conid) == (inst.account, inst.conid)
                    and d.date.year == entry.date.year and d.date <= entry.date), ZERO)
        checks.append(Diff(entry.date, account, conid, str(meta.get("symbol") or ""), book.base_currency, "",
                           "summary.total_realized_pnl", ours, Decimal(str(meta["total_realized_pnl"])),
                           tuple(raw_refs(meta.get("flex_src"))), None, meta))
    return checks


def mismatch_message(d: Diff) -> str:
    what = {"realized": "Realized P&L", "quantity": "Position quantity", "cost_basis": "Cost basis",
            "unrealized": "Unrealized P&L"}.get(d.field, d.field)
    where = f"'{d.flex_id}'" if d.flex_id else f"{d.symbol} (conid {d.conid}) on {d.date}"
    reason = f"; reason: {d.reason}" if d.reason else ""
    return (f"{what} differs for {where}: ours {d.ours} != IBKR {d.ibkr} ({d.diff:+} {d.currency})"
            f"{reason}; raw row {' '.join(d.raw) or '?'}")


def plugin_errors(entries, options_map, tolerance: Decimal) -> list:
    """One ReconcileError per trade or position diff above the tolerance, located at the entry behind it."""
    by_meta = {id(getattr(e, "meta", None)): e for e in entries}
    found = reconcile_book(load_book(entries, options_map), tolerance)
    errors = []
    for d in found.beyond(found.trades) + found.beyond(found.positions):
        errors.append(ReconcileError(d.meta or {"filename": "<beanflex.plugins.reconcile>", "lineno": 0},
                                     mismatch_message(d), by_meta.get(id(d.meta))))
    return errors


def reconcile(entries, options_map, config_str=None):
    """Beancount plugin entry point: (entries, options_map, config) -> (entries unchanged, ReconcileErrors)."""
    try:
        config = parse_config(config_str)
    except (ValueError, SyntaxError) as exc:
        return entries, [ReconcileError({"filename": "<beanflex.plugins.reconcile>", "lineno": 0}, str(exc), None)]
    return entries, plugin_errors(entries, options_map, config["tolerance"])
