"""P&L per strategy group: every instrument's P&L contributions (pnl.py), handed to the group of their row.

pnl.py books each number as contributions keyed by a flex_id: realized and commissions by the trade's row, income
by its cash row, open lots (quantity, cost basis, unrealized) by the row that opened the lot. A group's value is
the sum of the contributions whose row is its member, so no contribution is in two groups, none is lost, and
`explain strategy:ID FIELD` lists exactly the contributions that add up to it. Premium received and paid are the
gross proceeds of the option trades (they are inside realized and unrealized already, shown apart).

Wheel of DESIGN §8, economic with the premium separate: put realized 198.95, stock realized 5,200 - 1 - 5,000 =
199.00, total 397.95; IBKR-match folds the 198.95 into the stock (put 0, stock 397.95), the group's 397.95 is the
same. Premium received 200.00, commissions 1.05 + 1.00 = 2.05.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from . import pnl as pnl_mod
from .book import ZERO, Book
from .marks import dec
from .pnl import Contribution
from .strategy_detect import Group, Member

#: The summable fields of a group, in the order reports show them.
LOCAL_FIELDS = ("realized", "unrealized", "premium_received", "premium_paid", "commissions", "dividends",
                "withholding", "fees", "total", "cost_basis", "market_value")
BASE_FIELDS = ("base.realized", "base.unrealized", "base.fx", "base.total", "base.cost_basis")
FIELDS = LOCAL_FIELDS + BASE_FIELDS
_FROM_PNL = {"realized", "unrealized", "commissions", "dividends", "withholding", "fees", "total", "cost_basis",
             "market_value", "quantity", *BASE_FIELDS}
#: Events whose cash is an option premium (not a split, a transfer or a corporate action).
PREMIUM_KINDS = frozenset({"trade", "expiry", "assignment", "exercise", "cash_settlement"})


@dataclass
class Piece:
    """One contribution with the instrument it belongs to."""

    contribution: Contribution
    account: str
    conid: str
    symbol: str
    currency: str


@dataclass
class GroupPnl:
    group: Group
    pieces: list[Piece] = field(default_factory=list)
    unknown_unrealized: bool = False  # an open lot of the group has no mark
    flags: set[str] = field(default_factory=set)
    as_of: datetime.date | None = None
    # the pieces by field and the members by date, kept while pieces and members stay as they were: a report
    # asks each group for ~20 fields and its members several times, and rescanning them each time cost more
    # than the rest of the report
    _by_field: tuple = field(default=(-1, {}), repr=False, compare=False)
    _sorted: tuple = field(default=(None, -1, []), repr=False, compare=False)

    def events(self, name: str) -> list[Piece]:
        count, index = self._by_field
        if count != len(self.pieces):
            index = {}
            for piece in self.pieces:
                index.setdefault(piece.contribution.field, []).append(piece)
            index["currencies"] = sorted({p.currency for p in self.pieces if p.currency})
            self._by_field = (len(self.pieces), index)
        return list(index.get(name, ()))

    def value(self, name: str) -> Decimal | None:
        """Exact sum of the field's contributions; None for the mark-dependent fields of a group with an unmarked
        open lot, and for local fields when the group's instruments trade in several currencies."""
        if name in pnl_mod.NEEDS_MARK and self.unknown_unrealized:
            return None
        if not name.startswith("base.") and len(self.currencies) > 1:
            return None
        return sum((p.contribution.amount for p in self.events(name)), ZERO)

    @property
    def currencies(self) -> list[str]:
        self.events("")  # brings the index up to date
        return list(self._by_field[1]["currencies"])

    @property
    def open_positions(self) -> dict[tuple[str, str], Decimal]:
        """(conid, symbol) -> units still open at the end date."""
        held: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for piece in self.events("quantity"):
            held[(piece.conid, piece.symbol)] += piece.contribution.amount
        return {key: units for key, units in held.items() if units}

    @property
    def status(self) -> str:
        return "open" if self.open_positions else "closed"

    def members(self) -> list[Member]:
        """Members up to the end date, by date (income sorts by pay date here, not by ex-date)."""
        members, count, found = self._sorted
        if members is not self.group.members or count != len(members):
            found = sorted((m for m in self.group.members if self.as_of is None or m.date <= self.as_of),
                           key=lambda m: (m.date, m.when, m.flex_id))
            self._sorted = (self.group.members, len(self.group.members), found)
        return list(found)

    @property
    def open_date(self) -> datetime.date | None:
        members = self.members()
        return members[0].date if members else None

    @property
    def close_date(self) -> datetime.date | None:
        """The last event's date once the group is flat (income after the close included); None while open."""
        members = self.members()
        return None if self.status == "open" or not members else members[-1].date

    @property
    def days(self) -> int | None:
        end = self.close_date or self.as_of
        return (end - self.open_date).days if end and self.open_date else None

    def series(self) -> list[tuple[datetime.date, Decimal]]:
        """Cumulative base total by date: booked P&L (realized, income) on its day, open lots' unrealized on the
        end date. E.g. realized 48 on 01-18, 78 on 02-15 -> [(01-18, 48), (02-15, 126)]."""
        booked: dict[datetime.date, Decimal] = defaultdict(Decimal)
        for piece in self.events("base.total"):
            booked[piece.contribution.date] += piece.contribution.amount
        for piece in self.events("base.unrealized"):
            booked[piece.contribution.date] -= piece.contribution.amount
        points, running = [], ZERO
        for date in sorted(booked):
            running += booked[date]
            points.append((date, running))
        unrealized = sum((p.contribution.amount for p in self.events("base.unrealized")), ZERO)
        if unrealized and self.as_of:
            points.append((self.as_of, running + unrealized))
        return points


def rollup(book: Book, groups: dict[str, Group], ignored: list[Member], options: pnl_mod.Options,
           as_of: datetime.date | None) -> tuple[list[GroupPnl], GroupPnl, dict[str, dict[str, Decimal]]]:
    """(one GroupPnl per group in `groups`' order, the ignored events' P&L as one pseudo-group, the portfolio's
    base-currency sums over every instrument by base currency (an account's own base): what `report pnl` totals,
    from the same per-instrument runs)."""
    owner: dict[str, GroupPnl] = {}
    rows = []
    for group in groups.values():
        row = GroupPnl(group, as_of=as_of)
        rows.append(row)
        for member in group.members:
            owner[member.flex_id] = row
    rest = GroupPnl(Group("ignored", "", "", ""), as_of=as_of)
    rest.group.members = list(ignored)
    for member in ignored:
        owner[member.flex_id] = rest
    portfolio: dict[str, dict[str, Decimal]] = defaultdict(lambda: {name: ZERO for name in BASE_FIELDS})
    for inst in book.instruments.values():
        result = pnl_mod.instrument_pnl(book, inst, options)
        sums = portfolio[book.base_of(inst.account)]
        for name in BASE_FIELDS:
            sums[name] += result.value(name) or ZERO  # unknown (no mark) is left out, as report pnl does
        touched: dict[int, GroupPnl] = {}
        for contribution in result.contributions + _premiums(inst, options):
            if contribution.field not in _FROM_PNL and not contribution.field.startswith("premium"):
                continue
            row = owner.get(contribution.flex_id, rest)
            row.pieces.append(Piece(contribution, inst.account, inst.conid, inst.symbol, inst.currency))
            touched[id(row)] = row
            if contribution.field == "quantity" and result.unknown_unrealized:
                row.unknown_unrealized = True
        for row in touched.values():  # not a scan of every group per instrument: that grew as N squared
            row.flags.update(result.flags)
    for row in rows + [rest]:
        if not row.unknown_unrealized:
            row.flags.discard("no_mark")
    return rows, rest, dict(portfolio)


def _premiums(inst, options: pnl_mod.Options) -> list[Contribution]:
    """Gross option proceeds as `premium_received` (sold, > 0) or `premium_paid` (bought, > 0): sell 1 put @ 2.00
    x 100 -> received 200.00; the commission is in `commissions`."""
    if not (inst.meta.get("put_call") or inst.meta.get("underlying_conid")):
        return []
    out = []
    for event in inst.events:
        if not event.legs or event.kind not in PREMIUM_KINDS or not _inside(event.date, options):
            continue
        gross = dec(event.meta.get("proceeds"))
        if gross is None:
            gross = (event.net_cash or ZERO) + event.commission
        if gross:
            name = "premium_received" if gross > 0 else "premium_paid"
            out.append(Contribution(name, event.date, event.flex_id, event.description, abs(gross), event.flex_src))
    return out


def _inside(date: datetime.date, options: pnl_mod.Options) -> bool:
    return (options.start is None or date >= options.start) and (options.end is None or date <= options.end)
