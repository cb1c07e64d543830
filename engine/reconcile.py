"""Our figures against IBKR's own: each closing trade's realized P&L, each open position, ending cash, summaries.

`reconcile_book(book, tolerance)` lists one Diff per comparison: a closing trade whose realized P&L (proceeds minus the basis
of the lots the ledger closed, e.g. 1948.50 - 1601.50 = 347.00) differs from IBKR's `fifo_pnl_realized`, an
open position whose quantity, cost basis or unrealized P&L differs from IBKR's `custom "ibkr-position"`, or an
ending cash balance that differs from IBKR's CashReport (`custom "ibkr-cash"`, reconcile_cash.py). The plugin
(plugins/reconcile.py) turns the diffs above the tolerance into Beancount errors; `report reconcile` and Fava show
them all. Diffs are never netted: each one is listed, with a `reason` when a known cause applies (REASONS).
"""

from __future__ import annotations

import ast
import collections
import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from . import carry
from . import lots as lots_mod
from . import premium, reconcile_cash, reconcile_summaries
from beanflex.contract import flex_src

from .book import ZERO, Book, Event, IbkrPosition, Instrument, flag_reason
from .diffs import Diff
from .reconcile_mtm import REASONS_MTM
from .reconcile_nav import REASONS_NAV

DEFAULT_TOLERANCE = Decimal("0.01")

REASONS = {
    "flagged_corporate_action": "an unsupported corporate action for this instrument is flagged '!' in the ledger",
    "flagged_entry": "an entry for this instrument is flagged '!': its cost is a stand-in because IBKR's rows do "
                     "not give it (an opening lot or a transfer); fix it in manual.beancount",
    "ca_type_unsupported": "a corporate action of a type beanflex does not book from IBKR's rows is flagged '!'",
    "ca_basis_unknown": "a corporate action is flagged '!': it moves shares held before the first imported "
                        "statement and IBKR's row gives no cost basis",
    "ca_allocation_unknown": "a corporate action is flagged '!': IBKR's rows do not say how the basis is shared "
                             "between the new instruments (or a spin-off's parent is not in the ledger)",
    "ca_realized_unknown": "a corporate action is flagged '!': cash and shares were received without IBKR's "
                           "fifoPnlRealized to tell the carried basis from the gain",
    "ca_unsupported_shape": "a corporate action is flagged '!': its legs (several currencies, a short, a leg "
                            "without an instrument) are not a shape beanflex books from IBKR's rows",
    "missing_history": "a lot was opened before the first imported statement (opening balance) or is missing",
    "futures_daily_variation": "IBKR settles this future's P&L as daily variation (the row's netCash is the day's "
                               "mark-to-market, not its proceeds) and reports fifoPnlRealized 0; ours is the sum of "
                               "that cash, the trade's P&L",
    "wash_sale": "IBKR adjusted this trade for a wash sale (notes W)",
    "assignment_premium_in_stock_leg": "IBKR folds an assigned/exercised option's premium into the stock leg "
                                       "(flex-schema §2); ours books it on the option",
    "commission_in_other_currency": "the commission is charged in another currency than the trade",
    "earlier_cash_diff": "the ledger's cash before the CashReport's period already differs from IBKR's "
                         "startingCash (an earlier statement's diff, or a gap between statements)",
    "statement_rows_incomplete": "the statement's rows of one kind (trades, commissions, dividends, ...) do not add "
                                 "up to IBKR's own CashReport figure for it: a trimmed or edited export",
    "ibkr_rows_disagree": "IBKR's figure disagrees with IBKR's own opening rows, which the ledger follows: the "
                          "closing row's cost (IBKR's closed-lot basis) differs from the opening rows' cost by the "
                          "diff, or an open lot's opening row gives a cost that is not its net cash",
    **REASONS_MTM,
    **REASONS_NAV,
}


#: Reasons that come from a `!` entry: stronger evidence than a reason found by matching amounts.
FLAG_REASONS = frozenset({"flagged_corporate_action", "flagged_entry", "ca_type_unsupported", "ca_basis_unknown",
                          "ca_allocation_unknown", "ca_realized_unknown", "ca_unsupported_shape"})


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


def configured_tolerance(options_map) -> Decimal:
    """The tolerance of the ledger's `plugin "beanflex.plugins.reconcile" "{'tolerance': '0.05'}"` line, else
    DEFAULT_TOLERANCE (0.01): what bean-check and `beanflex check` use, so `report reconcile` and Fava agree."""
    for name, config in (options_map or {}).get("plugin") or []:
        if name == "beanflex.plugins.reconcile":
            try:
                return parse_config(config)["tolerance"]
            except (ValueError, SyntaxError):
                break
    return DEFAULT_TOLERANCE


@dataclass
class Reconciliation:
    tolerance: Decimal
    trades: list[Diff]  # every closing trade with an IBKR figure, matched or not
    positions: list[Diff]  # every compared field of every ibkr-position
    summaries: list[Diff]  # ibkr-summary rows we can compare
    cash: list[Diff] = field(default_factory=list)  # per ibkr-cash: ending `cash`, then its `cash.<kind>` rows
    flagged: list[Diff] = field(default_factory=list)  # one per `!` entry per instrument: always a diff

    def beyond(self, diffs: list[Diff]) -> list[Diff]:
        return [d for d in diffs if abs(d.diff) > self.tolerance]

    @property
    def cash_checks(self) -> list[Diff]:
        """The ending-cash comparisons; the `cash.<kind>` rows are their breakdown, not checks."""
        return [d for d in self.cash if d.field == "cash"]

    @property
    def diffs(self) -> list[Diff]:
        return (self.beyond(self.trades) + self.beyond(self.positions) + self.beyond(self.summaries)
                + self.beyond(self.cash_checks) + self.flagged)


def reconcile_book(book: Book, tolerance: Decimal = DEFAULT_TOLERANCE, accounts=()) -> Reconciliation:
    """Compare every closing trade and open position of the book with IBKR's figures (the `ibkr` lot method)."""
    result = Reconciliation(tolerance, [], [], [])
    for (account, _conid), inst in sorted(book.instruments.items(), key=lambda kv: (kv[0][0], kv[1].symbol)):
        if accounts and account not in accounts:
            continue
        events = premium.folded_events(book, inst, "ibkr", True)  # IBKR folds option premiums (DESIGN §8)
        run = carry.run(book, events, "ibkr", checkpoints=[p.date for p in inst.positions])
        result.flagged.extend(_flag_checks(inst))
        trades = _trade_checks(inst, run, tolerance, events)
        result.trades.extend(trades)
        unmatched = {d.flex_id for d in result.beyond(trades)}
        for pos in inst.positions:
            result.positions.extend(_position_checks(inst, pos, run.snapshots.get(pos.date, run.lots), unmatched,
                                                     tolerance))
    _name_assignment_reasons(book, result, tolerance)
    result.cash.extend(d for d in reconcile_cash.cash_checks(book, tolerance)
                       if not accounts or d.account in accounts)
    result.summaries.extend(reconcile_summaries.summary_checks(book))
    return result


@dataclass(frozen=True)
class _History:
    """What an instrument's history says about its diffs, computed once: its events (for the first `!` one, see
    book.flag_reason), the first lot from before the first statement (an `opening` event)."""

    events: tuple[Event, ...]
    first_opening: datetime.date | None
    deliveries: frozenset = frozenset()  # flex_ids of the assignment/exercise rows that delivered this instrument

    @classmethod
    def of(cls, inst: Instrument) -> _History:
        opening = [e.date for e in inst.events if e.kind == "opening" and e.legs]
        delivered = frozenset(e.flex_id for e in inst.events if e.kind in ("assignment", "exercise") and e.legs)
        return cls(tuple(e for e in inst.events if e.flag == "!"), min(opening, default=None), delivered)

    def flagged_by(self, date: datetime.date) -> str | None:
        """`flagged_corporate_action` or `flagged_entry` when a `!` event comes on or before `date`."""
        return flag_reason(self.events, date)

    def pre_statement_lots_by(self, date: datetime.date) -> bool:
        return self.first_opening is not None and self.first_opening <= date


def _trade_checks(inst: Instrument, run: lots_mod.LotRun, tolerance: Decimal = DEFAULT_TOLERANCE,
                  events: list[Event] | None = None) -> list[Diff]:
    by_event = {id(c.event): c for c in run.closings}
    history = _History.of(inst)
    checks = []
    for event in inst.events if events is None else events:
        closing = by_event.get(id(event))
        if event.fifo_pnl_realized is None or (closing is None and not event.fifo_pnl_realized):
            continue
        ours = closing.realized if closing is not None else ZERO
        differs = abs(ours - event.fifo_pnl_realized) > tolerance
        reason = _trade_reason(history, event, closing, tolerance) if differs else None  # a match needs none
        checks.append(Diff(event.date, inst.account, inst.conid, inst.symbol, event.currency, event.flex_id,
                           "realized", ours, event.fifo_pnl_realized, tuple(flex_src.refs(event.flex_src)), reason,
                           event.meta))
    return checks


def _flag_checks(inst: Instrument) -> list[Diff]:
    """Every `!` entry of the instrument as a diff (field `flagged`), whatever the numbers: a person has to settle
    it, so it is listed with the entry's reason (its `flag_reason` meta, book.flag_reason). `ours` is the basis
    the entry wrote for this instrument (what the ledger holds until fixed); IBKR's rows give none, so `ibkr`
    repeats it: COP 12.75 received at a stand-in 0 USD -> ours 0, ibkr 0, reason ca_basis_unknown."""
    checks = []
    for event in inst.events:
        if event.flag != "!" or not event.legs:
            continue
        basis = sum((leg.units * (leg.cost or ZERO) for leg in event.legs), ZERO)
        checks.append(Diff(event.date, inst.account, inst.conid, inst.symbol, event.currency, event.flex_id,
                           "flagged", basis, basis, tuple(flex_src.refs(event.flex_src)), flag_reason([event]),
                           event.meta))
    return checks


def _trade_reason(history: _History, event: Event, closing: lots_mod.Closing | None,
                  tolerance: Decimal = DEFAULT_TOLERANCE) -> str | None:
    """The known cause of a realized diff, checked in order; None when none applies (a bug to find)."""
    flagged = history.flagged_by(event.date)
    if flagged:
        return flagged
    if event.fifo_pnl_realized == 0 and daily_variation(event, tolerance):
        return "futures_daily_variation"
    if closing is None or closing.unmatched or any("/opening/" in i for lot in closing.closed for i in lot.ids):
        return "missing_history"
    has_lot_rows = len(flex_src.refs(event.flex_src)) > 1  # the closing row plus IBKR's CLOSED_LOT rows
    if not has_lot_rows and history.pre_statement_lots_by(event.date):
        # the ledger knows only the pre-statement lots still open at the end; IBKR may have closed others
        return "missing_history"
    if "W" in str(event.meta.get("notes") or "").split(";"):
        return "wash_sale"
    ccy = event.meta.get("commission_currency")
    if ccy and ccy != event.currency and event.commission:
        return "commission_in_other_currency"
    if _closed_basis_disagrees(event, closing, tolerance):
        if any(i in history.deliveries for lot in closing.closed for i in lot.ids):
            # kmi: the lots came from put assignments; IBKR's closed basis (1686 + 1625.05) is the strikes less
            # the premiums it folds into the stock leg (1700 - 14, 1650 - 24.95)
            return "assignment_premium_in_stock_leg"
        return "ibkr_rows_disagree"
    return None


def daily_variation(event: Event, tolerance: Decimal = DEFAULT_TOLERANCE) -> bool:
    """Does the row's cash settle the day's variation rather than the trade's money? IBKR books futures that way:
    netCash = mtmPnl + commission, not proceeds + commission + taxes, and fifoPnlRealized 0 (the P&L went out
    as daily variation). FDAX BUY 1 @ 11463 x 25, close 11514.5, commission 2: netCash 1285.5, where the trade's
    money would be -286575 - 2 = -286577."""
    meta = event.meta or {}
    proceeds, net_cash = meta.get("proceeds"), meta.get("net_cash")
    if proceeds is None or net_cash is None:
        return False
    own = Decimal(str(meta.get("commission") or 0)) if str(meta.get("commission_currency") or event.currency) \
        == event.currency else ZERO
    money = Decimal(str(proceeds)) + own + Decimal(str(meta.get("taxes") or 0))
    return abs(Decimal(str(net_cash)) - money) > tolerance


def _closed_basis_disagrees(event: Event, closing: lots_mod.Closing, tolerance: Decimal) -> bool:
    """Evidence that IBKR's own rows disagree: IBKR's figure is its own proceeds minus its closing row's `cost`
    (the basis of the lots IBKR closed), and that basis differs from the opening rows' cost the ledger closed by
    exactly the diff. kmi: IBKR 3656.05 - 3311.054283 = 344.995717; the opening rows cost 1700 + 1650 = 3350, so
    ours 3656.05 - 3350 = 306.05 and 3350 - 3311.054283 = 38.945717 = -(306.05 - 344.995717).
    A figure that is not its own proceeds minus cost (347 -> 300 while cost says 1601.50) is no such evidence."""
    cost = event.meta.get("ibkr_cost")
    if cost is None or event.fifo_pnl_realized is None:
        return False
    ibkr_basis = -Decimal(str(cost))
    ibkr_is_own_rows = abs(closing.proceeds - ibkr_basis - event.fifo_pnl_realized) <= tolerance
    diff = closing.realized - event.fifo_pnl_realized
    return ibkr_is_own_rows and abs((closing.basis - ibkr_basis) + diff) <= tolerance


def _position_checks(inst: Instrument, pos: IbkrPosition, lots: list[lots_mod.Lot], unmatched: set[str],
                     tolerance: Decimal = DEFAULT_TOLERANCE) -> list[Diff]:
    """Quantity, cost basis and unrealized (at IBKR's own mark, so only the lots differ) of one position."""
    quantity = sum((lot.units for lot in lots), ZERO)
    basis = sum((lot.basis for lot in lots), ZERO)
    reason = _History.of(inst).flagged_by(pos.date) or _position_reason(inst, pos, lots, quantity, unmatched,
                                                                       tolerance)
    pairs = [("quantity", quantity, pos.position), ("cost_basis", basis, pos.cost_basis_money)]
    if pos.mark_price is not None:
        multiplier = pos.meta.get("multiplier") or inst.multiplier
        ours_unrealized = quantity * pos.mark_price * Decimal(str(multiplier)) - basis
        pairs.append(("unrealized", ours_unrealized, pos.fifo_pnl_unrealized))
    currency = pos.currency or inst.currency
    return [Diff(pos.date, inst.account, inst.conid, inst.symbol, currency, "", name, ours, ibkr,
                 tuple(flex_src.refs(pos.flex_src)), reason, pos.meta)
            for name, ours, ibkr in pairs if ibkr is not None]


def _position_reason(inst: Instrument, pos: IbkrPosition, lots: list[lots_mod.Lot], quantity: Decimal,
                     unmatched: set[str], tolerance: Decimal) -> str | None:
    """The known cause of a position diff when nothing is flagged: a lot from before the first statement, or
    (every close agreed) an open lot's own row that disagrees with itself."""
    if any("/opening/" in i for lot in lots for i in lot.ids):
        return "missing_history"
    if (quantity == pos.position and not any(e.date <= pos.date for e in inst.events if e.flex_id in unmatched)
            and _opening_rows_disagree(inst, lots, tolerance)):
        return "ibkr_rows_disagree"
    return None


def _opening_rows_disagree(inst: Instrument, lots: list[lots_mod.Lot], tolerance: Decimal) -> bool:
    """Evidence for a position diff: an open lot's opening row whose IBKR `cost` is not its net cash (vtandchill
    VT: BUY 10 @ 142.035, netCash -1418, cost 14180). The ledger books the cash paid; IBKR's position follows
    its own figures, so the two can only disagree through rows like this."""
    by_id = {e.flex_id: e for e in inst.events}
    for lot in lots:
        row = by_id.get(lot.ids[0]) if lot.ids else None
        cost = row.meta.get("ibkr_cost") if row is not None else None
        if row is not None and "C" in str(row.meta.get("open_close") or ""):
            continue  # a flip's net cash also pays for the close
        if cost is not None and row.net_cash is not None and abs(Decimal(str(cost)) + row.net_cash) > tolerance:
            return True
    return False


def _name_assignment_reasons(book: Book, result: Reconciliation, tolerance: Decimal) -> None:
    """IBKR reports 0 realized on an assigned/exercised option and moves the premium into the stock leg
    (its realized, or its cost basis when the delivery opens a position; flex-schema §2). The option's diff gets
    the reason when the underlying has an assignment/exercise delivery that day; the stock's trade and position
    diffs get it when they offset the option's (e.g. option +8504.59, stock -8504.59)."""
    options = collections.defaultdict(list)  # (account, underlying conid, date) -> option diff indexes
    for i, d in enumerate(result.trades):
        underlying = book.instruments[(d.account, d.conid)].meta.get("underlying_conid")
        if d.meta.get("event") in ("assignment", "exercise") and not d.ibkr and underlying:
            if abs(d.diff) > tolerance and _delivered(book, d.account, str(underlying), d.date):
                options[(d.account, str(underlying), d.date)].append(i)
    for (account, underlying, day), indexes in options.items():
        premium = sum((result.trades[i].diff for i in indexes), ZERO)
        for i in indexes:
            result.trades[i] = _with_reason(result.trades[i], "assignment_premium_in_stock_leg")
        for j, d in enumerate(result.trades):
            if (d.account, d.conid, d.date) == (account, underlying, day) and abs(d.diff + premium) <= tolerance:
                result.trades[j] = _with_reason(d, "assignment_premium_in_stock_leg")
        for j, d in enumerate(result.positions):
            if ((d.account, d.conid) == (account, underlying) and d.date >= day and d.field != "quantity"
                    and abs(abs(d.diff) - abs(premium)) <= tolerance):
                result.positions[j] = _with_reason(d, "assignment_premium_in_stock_leg")


def _delivered(book: Book, account: str, conid: str, day: datetime.date) -> bool:
    inst = book.instruments.get((account, conid))
    return inst is not None and any(e.date == day and e.kind in ("assignment", "exercise") and e.legs
                                    for e in inst.events)


def _with_reason(diff: Diff, reason: str) -> Diff:
    """Name a reason found by matching amounts; only a flagged corporate action is stronger evidence."""
    if diff.reason in FLAG_REASONS:
        return diff
    return Diff(**{**diff.__dict__, "reason": reason})


def _show(number: Decimal) -> str:
    """A number as written, without the trailing zeros of a long division: -73013.504713000000000000000 ->
    -73013.504713 (1001.0 and 0.50 stay as they are)."""
    if number.as_tuple().exponent >= -2:
        return str(number)
    trimmed = number.normalize()
    return f"{trimmed:f}" if trimmed.as_tuple().exponent < 0 else f"{trimmed:.1f}"


def mismatch_message(d: Diff, breakdown: str = "") -> str:
    if d.field == "flagged":
        detail = d.meta.get("flag_detail") or REASONS.get(d.reason or "", "")
        return (f"Flagged '!' entry '{d.flex_id}' for {d.symbol} (conid {d.conid}) needs a hand fix in "
                f"manual.beancount (same flex_id); reason: {d.reason}: {detail}; the ledger holds it at a basis of "
                f"{_show(d.ours)} {d.currency}; raw row {' '.join(d.raw) or '?'}")
    what = {"realized": "Realized P&L", "quantity": "Position quantity", "cost_basis": "Cost basis",
            "unrealized": "Unrealized P&L", "cash": "Ending cash"}.get(d.field, d.field)
    if d.flex_id:
        where = f"'{d.flex_id}'"
    elif d.field == "cash":
        where = f"{d.currency} in {d.account} on {d.date}"
    else:
        where = f"{d.symbol} (conid {d.conid}) on {d.date}"
    reason = f"; reason: {d.reason}" if d.reason else ""
    kinds = f"; differing kinds: {breakdown}" if breakdown else ""
    return (f"{what} differs for {where}: ours {_show(d.ours)} != IBKR {_show(d.ibkr)} "
            f"({'+' if d.diff >= 0 else ''}{_show(d.diff)} {d.currency}){kinds}"
            f"{reason}; raw row {' '.join(d.raw) or '?'}")
