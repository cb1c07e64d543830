"""What the mapper knows after the last archived statement, so the next statement can be mapped on top of it.

A nightly sync adds one day to an archive of years; mapping the years again was most of its work outside the
check. `build_ledger(..., keep_state=True)` keeps this state beside its result, map_cache.py stores it, and
map_resume.py maps only the new statements from it, when that provably gives what a full mapping gives.

It holds no parsed rows: each statement is reduced to a StatementStub (account, dates, base currency), which is
all the steps that look across statements need once the statement is booked (each account's first statement,
base currencies). The directives are kept per account in two parts, booked events first and section rows
after, because a full mapping lists them that way: every statement's trades, then every statement's cash.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StatementStub:
    """One mapped statement without its rows; reads like a MapContext where the mapper only needs this much."""

    account_id: str
    from_date: datetime.date | None
    to_date: datetime.date | None
    base_currency: str | None

    @property
    def statement(self) -> "StatementStub":
        return self

    @classmethod
    def of(cls, ctx) -> "StatementStub":
        return cls(ctx.account_id, ctx.statement.from_date, ctx.statement.to_date, ctx.statement.base_currency)


@dataclass
class MapState:
    """The mapper after its last statement (see the module docstring); every field is plain data or the
    mapper's own objects (instruments, booker), never a parsed statement."""

    last_order: tuple  # mapper._archive_order of the last document: a new one must sort after it
    last_event: tuple  # (when, priority) of the last event booked: a new event must not sort before it
    statements: list[StatementStub]  # every statement, in mapping order
    instruments: object  # instruments.Instruments, with its CommodityNamer
    booker: object  # booker.Booker: open lots of every account, lots from before the archive
    seen_ids: set[str]  # flex_ids of every trade-like row (overlapping statements repeat them)
    trade_ids: set[str]  # flex_ids of the booked trade rows (window_lots: lots opened inside the archive)
    window: object  # window_lots.WindowLots
    cancel_refs: list[tuple[str | None, datetime.datetime]]  # (origTransactionID, when) of every cancel row
    booked: dict[str, list] = field(default_factory=dict)  # account -> directives of booked events
    sections: dict[str, list] = field(default_factory=dict)  # account -> directives of the section mappers
    seen_booked: set = field(default_factory=set)  # emitter keys of `booked`
    seen_sections: set = field(default_factory=set)  # emitter keys first met in `sections`
    overridden: set[str] = field(default_factory=set)
    counts: dict = field(default_factory=dict)  # raw path -> mapper.FileCounts
    drifts: dict = field(default_factory=dict)  # raw path -> its DriftReport from the mapping
