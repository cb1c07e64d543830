"""The whole mapping: every archived statement -> the directives of `ledger/generated/`, in one deterministic pass.

Order matters for lots, so the build is one pass over all statements of the archive together:

1. statements are read in (fromDate, longest period, path) order and every instrument is named once (instruments.py);
2. trade-like events of all statements (trades, option events, corporate actions, transfers, end-of-statement
   position snapshots) are merged, de-duplicated on `flex_id` (overlapping files repeat rows; two identical fills with
   different ids stay two), sorted by time and booked against shared open lots (trades.py, lots.py);
3. the per-statement section mappers (cash.py, prices.py, checks.py) add their directives;
4. directives whose `flex_id` a hand-edited file carries are left out (DESIGN §2: hand-edited wins);
5. every row is accounted for: mapped (some directive's `flex_src` names it, or it repeats a mapped row),
   flagged (named by a `!` directive) or unmapped, and unmapped rows go to the drift report, never silently away.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from beancount.core import data

from beanflex.contract import flex_src

from .adapter import FlexDocument, FlexRecord
from .context import ImportConfig, MapContext
from .drift import DriftReport
from .instruments import Instruments
from .names import CommodityNamer
from . import cash, checks, combos, corporate_actions, nav, option_eae, prices, transfers
from . import cancels as cancels_mod
from . import trades as trades_mod
from .booker import Booker
from . import window_lots
from .map_state import MapState, StatementStub
from .row_counts import count_rows
from .lots import position_openings
from .writer import dedup_key

#: Section-mapper modules written beside this one, each exposing `map_<x>(statement, ctx)` functions.
SECTION_MODULES = (cash, prices, checks, nav)
END_OF_DAY = datetime.time(23, 59, 59)
#: Sections deliberately not turned into directives, and why (their rows are reported as unmapped, with this).
NOT_MAPPED = {
    "ChangeInDividendAccruals": "dividend accrual, not cash (the payment arrives as a CashTransaction)",
    "OpenDividendAccruals": "dividend accrual, not cash (the payment arrives as a CashTransaction)",
    "InterestAccruals": "interest accrual, not cash (the payment arrives as a CashTransaction)",
    "FxTransactions": "IBKR's FX lot ledger behind foreign cash; the cash moves are in Trades and CashTransactions",
    "StmtFunds": "running cash ledger that repeats the other sections",
    "FxPositions": "FX balances at the period end; the cash checks use CashReport",
    "NetStockPositionSummary": "share counts at IB; the position checks use OpenPositions",
    "PriorPeriodPositions": "daily prices of the previous period; marks come from OpenPositions and Trades",
    "TradeConfirms": "trade confirmations (TCF); import the Activity statement's Trades instead",
    "SLBFees": "securities borrow/lend fee details per value date (IBKR's daily fee computation), not cash: the "
               "lend interest and borrow fees are paid as CashTransactions",
}


@dataclass
class FileCounts:
    """Rows of one archived file: read = mapped + flagged + unmapped; duplicates are a part of mapped."""

    read: int = 0
    mapped: int = 0
    flagged: int = 0
    unmapped: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class BuildResult:
    files: dict[str, list] = field(default_factory=dict)  # "generated/U1/2024.beancount" -> directives
    counts: dict[str, FileCounts] = field(default_factory=dict)  # raw path -> counts
    drift: DriftReport = field(default_factory=DriftReport)
    overridden: list[str] = field(default_factory=list)  # flex_ids left out because a hand-edited file has them
    base_currencies: list[str] = field(default_factory=list)  # AccountInformation.currency, newest statement first
    state: MapState | None = None  # build_ledger(keep_state=True): where a later statement's mapping resumes

    def total(self) -> FileCounts:
        total = FileCounts()
        for counts in self.counts.values():
            for key, value in vars(counts).items():
                setattr(total, key, getattr(total, key) + value)
        return total


def section_mappers() -> list:
    """The `map_*` functions of the section modules that exist, in a fixed order."""
    found = []
    for module in SECTION_MODULES:
        found.extend(getattr(module, attr) for attr in sorted(dir(module)) if attr.startswith("map_")
                         and callable(getattr(module, attr)))
    return found


def build_ledger(archived: list[tuple[str, FlexDocument]], config: ImportConfig | None = None,
                 manual_flex_ids: set[str] | frozenset = frozenset(), keep_state: bool = False) -> BuildResult:
    """Map every archived statement (`(path relative to ledger/, parsed document)`) into generated files.

    With `keep_state`, `result.state` is what map_resume.py needs to map a later statement on top of this one.
    """
    config = config or ImportConfig()
    namer = CommodityNamer()
    instruments = Instruments(namer)
    contexts: list[MapContext] = []
    drifts: dict[str, DriftReport] = {}
    ordered = sorted(archived, key=_archive_order)
    for path, document in ordered:
        drift = drifts.setdefault(path, DriftReport())
        for statement in document.statements:
            contexts.append(MapContext(statement, path, namer, drift, config))
            instruments.collect(statement, drift, path)
    instruments.assign_names()

    out = _Emitter(manual_flex_ids)
    accounted: set[tuple[str, int]] = set()  # rows known to repeat a mapped row
    trace = _book_events(contexts, instruments, out, accounted)
    booked = {account: len(entries) for account, entries in out.by_account.items()}
    seen_booked = set(out.seen) if keep_state else set()
    _map_sections(contexts, out)
    result = BuildResult(overridden=sorted(out.overridden), base_currencies=_base_currencies(contexts))
    result.files = _files(out, instruments, config, _account_bases(contexts))
    for path in drifts:
        result.counts[path] = FileCounts()
    count_rows(contexts, out, NOT_MAPPED, accounted, drifts, result)
    if keep_state:
        result.state = MapState(
            last_order=_archive_order(ordered[-1]) if ordered else (), last_event=trace["last_event"],
            statements=[StatementStub.of(ctx) for ctx in contexts], instruments=instruments,
            booker=trace["booker"], seen_ids=trace["seen_ids"], trade_ids=trace["trade_ids"],
            window=trace["window"], cancel_refs=trace["cancels"],
            booked={a: e[:booked.get(a, 0)] for a, e in out.by_account.items()},
            sections={a: e[booked.get(a, 0):] for a, e in out.by_account.items()},
            seen_booked=seen_booked, seen_sections=out.seen - seen_booked, overridden=set(out.overridden),
            counts=dict(result.counts), drifts=drifts)
    return result


def _base_currencies(contexts: list[MapContext]) -> list[str]:
    """The statements' base currencies (DESIGN §4: declared as operating_currency), the newest statement's first.

    A user's own `option "operating_currency"` in main.beancount comes before the generated one and so wins.
    """
    found: list[str] = []
    for ctx in sorted(contexts, key=lambda c: (c.statement.to_date or datetime.date.min, c.account_id), reverse=True):
        base = ctx.statement.base_currency
        if base and base not in found:
            found.append(base)
    return found


def _account_bases(contexts: list[MapContext]) -> dict[str, str]:
    """Each IBKR account's own base currency, from its newest statement's AccountInformation."""
    bases: dict[str, str] = {}
    for ctx in sorted(contexts, key=lambda c: (c.statement.to_date or datetime.date.min, c.account_id)):
        if ctx.statement.base_currency:
            bases[ctx.account_id] = ctx.statement.base_currency
    return bases


def _archive_order(item: tuple[str, FlexDocument]):
    """(first day, longest period first, path): of two overlapping statements the wider one is read first, so
    importing a shorter overlapping file later does not even move `flex_src`."""
    path, document = item
    starts = [s.from_date for s in document.statements if s.from_date is not None]
    ends = [s.to_date for s in document.statements if s.to_date is not None]
    return (min(starts) if starts else datetime.date.max, -(max(ends).toordinal() if ends else 0), path)


class _Emitter:
    """Collects directives per IBKR account, once per flex_id (or per content when there is no flex_id)."""

    def __init__(self, manual_flex_ids):
        self.manual = set(manual_flex_ids)
        self.by_account: dict[str, list] = {}
        self.seen: set = set()
        self.lines: dict[tuple[str, int], str] = {}  # (raw path, line) -> flag of a directive naming it
        self.duplicate_lines: set[tuple[str, int]] = set()
        self.overridden: set[str] = set()

    def add(self, account: str, entry) -> None:
        meta = entry.meta or {}
        key = meta.get("flex_id") or dedup_key(entry)
        lines = flex_src.lines(meta.get("flex_src", ""))
        flag = getattr(entry, "flag", "*") or "*"
        if key in self.seen:
            self.duplicate_lines.update(lines)
            for line in lines:
                self.lines.setdefault(line, flag)
            return
        self.seen.add(key)
        overridden = meta.get("flex_id") in self.manual
        for line in lines:  # a row behind a hand-fixed entry counts as mapped, not flagged
            if self.lines.get(line) != "!":
                self.lines[line] = "*" if overridden else flag
        if overridden:
            self.overridden.add(meta["flex_id"])
            return
        self.by_account.setdefault(account, []).append(entry)


def _book_events(contexts: list[MapContext], instruments: Instruments, out: _Emitter,
                 accounted: set[tuple[str, int]]) -> dict:
    """Trades, option events, corporate actions and position snapshots of all statements, in time order.

    Returns what a later statement's mapping needs of it (map_state.MapState): booker, ids, window lots, ...
    """
    booker = Booker()
    booker.history.first_statements = {id(ctx) for ctx in _first_statements(contexts).values()}
    events = []  # (when, priority, sequence, kind, payload)
    seen_ids: set[str] = set()
    for seq, ctx in enumerate(contexts):
        events.extend(_statement_events(seq, ctx, instruments, out, accounted, seen_ids))

    trade_rows = [e[4] for e in events if e[3] == "trade"]
    cancelled: set[int] = set()
    for original, cancel in cancels_mod.pair_cancels(trade_rows):
        cancelled.update((id(original), id(cancel)))
        out.add(cancel.ctx.account_id, cancels_mod.cancel_note(original, cancel))
    booked_rows = [r for r in trade_rows if id(r) not in cancelled]
    window = window_lots.WindowLots()
    trade_ids = {row.flex_id for row in booked_rows}
    window_lots.add_pieces(window, booked_rows, trade_ids)
    window_lots.add_positions(window, contexts, trade_ids)
    booker.history.full_lots = window.full()
    book_sorted(events, cancelled, instruments, booker, out)
    cancels = [(r.record.text("origTransactionID"), r.when) for r in trade_rows if r.is_cancel]
    return {"booker": booker, "seen_ids": seen_ids, "trade_ids": trade_ids, "window": window, "cancels": cancels, "last_event": max((e[:2] for e in events), default=())}


def book_sorted(events: list[tuple], cancelled: set[int], instruments: Instruments, booker: Booker,
                out: _Emitter) -> None:
    """Book `events` ((when, priority, sequence, kind, payload)) in time order, cancelled trade rows left out."""
    events.sort(key=lambda e: (e[0], e[1], e[2], _line(e)))
    for when, _priority, _seq, kind, item in events:
        if kind == "trade":
            if id(item) in cancelled:
                continue
            for entry in _book_trade(item, instruments, booker):
                out.add(item.ctx.account_id, entry)
        elif kind == "eae":
            for entry in option_eae.book(item, instruments, booker):
                out.add(item.ctx.account_id, entry)
        elif kind == "ca":
            for entry in corporate_actions.book(item, instruments, booker):
                out.add(item.ctx.account_id, entry)
        elif kind == "transfer":
            for entry in transfers.book(item, instruments, booker):
                out.add(item.ctx.account_id, entry)
        else:
            for entry in position_openings(item, instruments, booker.account_lots(item)):
                out.add(item.account_id, entry)


def _statement_events(seq: int, ctx: MapContext, instruments: Instruments, out: _Emitter,
                      accounted: set[tuple[str, int]], seen_ids: set[str]) -> list[tuple]:
    """One statement's trade-like events as (when, priority, sequence, kind, payload), rows already seen in an
    overlapping statement left out (and counted as repeats)."""
    rows, repeats, unmapped = trades_mod.collect(ctx)
    accounted.update((ctx.raw_path, r.line) for r in repeats)
    for record, reason in unmapped:
        ctx.drift.add("unmapped_row", trades_mod.SECTION, record.tag, reason, ctx.raw_path, record.line)
    fresh = []
    for row in rows:
        if row.flex_id in seen_ids:  # the same row in an overlapping statement
            out.duplicate_lines.add((ctx.raw_path, row.record.line))
            out.duplicate_lines.update((ctx.raw_path, lot.line) for lot in row.lots)
            continue
        seen_ids.add(row.flex_id)
        fresh.append(row)
    combos.mark_combos(ctx, fresh)
    events = [(item.when, 1, seq, "eae", item) for item in option_eae.collect(ctx, fresh, seen_ids, instruments)]
    events.extend((_sort_time(row), 1, seq, "trade", row) for row in fresh)
    events.extend((item.when, 0, seq, "ca", item) for item in corporate_actions.collect(ctx, seen_ids))
    # Transfers come after the day's trades, as the generated file lists them (transfers.py).
    items, repeats, duplicates = transfers.collect(ctx, seen_ids)
    accounted.update((ctx.raw_path, r.line) for r in repeats)
    out.duplicate_lines.update((ctx.raw_path, r.line) for r in duplicates)
    events.extend((item.when, 5, seq, "transfer", item) for item in items)
    end = ctx.statement.to_date
    if end is not None:
        events.append((datetime.datetime.combine(end, END_OF_DAY), 9, seq, "snapshot", ctx))
    return events

def _sort_time(row: trades_mod.TradeRow) -> datetime.datetime:
    """A trade given with a date only sorts at the end of its day, after that day's corporate actions (IBKR
    books those in the evening, so a dated-only sale of new rights or split shares follows them)."""
    text = row.record.text("dateTime") or ""
    if row.when.time() == datetime.time() and not any(sep in text for sep in ";, T"):
        return datetime.datetime.combine(row.when.date(), END_OF_DAY)
    return row.when


def _line(event) -> int:
    item = event[4]
    record = getattr(item, "record", None)
    return record.line if record is not None else 0


def _book_trade(row: trades_mod.TradeRow, instruments: Instruments, booker: Booker) -> list:
    if trades_mod.is_fx(row.record):
        return [trades_mod.map_fx(row)]
    inst = instruments.get(row.record)
    if inst is None:
        row.ctx.drift.add("unmapped_row", trades_mod.SECTION, row.record.tag, "trade names no instrument",
                          row.ctx.raw_path, row.record.line)
        return []
    return booker.book(row, inst.name, inst.multiplier)


def _first_statements(contexts: list[MapContext]) -> dict[str, MapContext]:
    """Each account's earliest statement (by fromDate, then archive order): where history before the ledger is."""
    first: dict[str, MapContext] = {}
    for ctx in contexts:
        current = first.get(ctx.account_id)
        start = ctx.statement.from_date or datetime.date.max
        if current is None or start < (current.statement.from_date or datetime.date.max):
            first[ctx.account_id] = ctx
    return first


def _map_sections(contexts: list[MapContext], out: _Emitter, first_statement: dict | None = None) -> None:
    first_statement = first_statement if first_statement is not None else _first_statements(contexts)
    mappers = section_mappers()
    for ctx in contexts:
        for mapper in mappers:
            for entry in mapper(ctx.statement, ctx):
                out.add(ctx.account_id, entry)
        if first_statement[ctx.account_id] is ctx:
            for entry in checks.opening_cash(ctx.statement, ctx):
                out.add(ctx.account_id, entry)


def _files(out: _Emitter, instruments: Instruments, config: ImportConfig, bases: dict | None = None) -> dict[str, list]:
    """Directives per generated file: `generated/<ACCT>/<yyyy>.beancount` and `…/accounts.beancount`."""
    from .names import Accounts

    files: dict[str, list] = {}
    bases = bases or {}
    first_use: dict[str, tuple[datetime.date, str]] = {}  # commodity -> (first date, account)
    for account in sorted(out.by_account):
        entries = out.by_account[account]
        for entry in entries:
            files.setdefault(f"generated/{account}/{entry.date.year}.beancount", []).append(entry)
            used = [p.units.currency for p in getattr(entry, "postings", None) or []]
            if isinstance(entry, data.Price):
                used.append(entry.currency)
            for currency in used:
                if currency not in first_use or (entry.date, account) < first_use[currency]:
                    first_use[currency] = (entry.date, account)
        start = min(entry.date for entry in entries)
        # A configured transfers account outside IBKR's tree is the user's to open (main.beancount).
        names = [name for name in Accounts(account, config.transfers_account).all() if ":IBKR:" in name]
        # accounts only some ledgers use (a future's notional): opened when a posting needs them
        names += sorted({p.account for e in entries for p in getattr(e, "postings", None) or []
                         if p.account.startswith(f"Assets:IBKR:{account}:") and p.account not in names})
        opens = [data.Open(data.new_metadata("<beanflex>", 0), start, name, None, None) for name in names]
        if bases.get(account):  # the account's own base (AccountInformation): its base figures are in it
            opens[0].meta["base_currency"] = bases[account]
        files[f"generated/{account}/accounts.beancount"] = opens
    for inst in instruments.by_key.values():
        if inst.name in first_use:
            day, account = first_use[inst.name]
            files[f"generated/{account}/accounts.beancount"].append(
                instruments.commodity_directive(inst, min(day, inst.first_date)))
    return files
