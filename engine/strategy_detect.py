"""Detect strategy groups (DESIGN §9): one pass over every instrument event of an account, oldest first.

The rule, in the order it is tried for the legs one order opens (an order: strategy_meta.py's order key):
1. a leg that closes a lot belongs to the group that opened the lot (the closing posting names the lot by its
   opening row's flex_id); the order's new legs then join that group: a **roll in the same order**;
2. the underlying delivered by an assignment or exercise joins the option's group (its `option_flex_id`, the
   `^eae-…` link, or the same order): short put -> assignment -> stock is the start of a **wheel**;
3. options opened on a day when an option of the same underlying was closed join the group of that close: a
   **roll within the trading day** (the latest close of the day wins); the other way round too: a group of
   options opened earlier that day joins the group whose option a later order of the day closes;
4. one contract opened while an open group holds the same contract adds to it; an option opened while an open
   group holds the underlying joins that group (a covered call on held stock, the wheel's calls);
5. anything else opens a new group, whose id is the flex_id of its first opening row (stable across rebuilds:
   flex_ids are IBKR's own ids).
Income rows (dividend, withholding, fee) go to the group holding the instrument on the ex-date (else the pay
date), else the group that held it last. A group is closed when all its positions are flat; a roll on that day
continues it. Each member keeps the rule that put it there and the row that links it.

E.g. sell 1 XYZ 50 P (row P1, group P1); buy it back and sell the 45 P in one order (C1, P2): C1 closes P1's lot,
so both join group P1 with rule "roll in the same order", chain entry P1 -> P2.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .book import ZERO, Book, Event
from .strategy_meta import LegFacts, Row as _Row, rows_of
from .strategy_shape import ShapeLeg, shape

@dataclass
class Member:
    """One row (flex_id) of a group, with why it is there: rule and the row that links it (None: it opened)."""

    flex_id: str
    date: datetime.date
    when: str
    rule: str
    link: str | None = None
    events: list[tuple[Event, LegFacts]] = field(default_factory=list, repr=False)


@dataclass
class Group:
    id: str
    account: str
    underlying: str
    underlying_symbol: str
    members: list[Member] = field(default_factory=list)
    positions: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    opened: list[ShapeLeg] = field(default_factory=list)  # legs of the first order: its shape
    later: list[ShapeLeg] = field(default_factory=list)  # options added on held stock (covered call, collar)
    chain: list[dict] = field(default_factory=list)  # {date, rule, closed: [flex_id], opened: [flex_id]}
    close_date: datetime.date | None = None
    name: str | None = None  # set by hand (strategies.yaml)
    kind_set: str | None = None

    @property
    def kind(self) -> str:
        if self.kind_set:
            return self.kind_set
        if self.wheel:
            return "wheel"
        legs = self.opened + self.later
        return shape(legs) if legs else "income"

    @property
    def rolls(self) -> int:
        """Rolls into this group: chain entries of a roll rule whose opened rows are members here."""
        ids = {m.flex_id for m in self.members}
        return sum(1 for c in self.chain if c["rule"].startswith("roll") and set(c["opened"]) & ids)

    @property
    def wheel(self) -> bool:
        """A short put of this group was assigned and delivered the stock it holds: short put -> assignment ->
        stock (-> covered calls -> called away)."""
        delivered = any(m.rule == "delivered by assignment or exercise" for m in self.members)
        return delivered and any(event.kind == "assignment" and facts.right == "P" and event.quantity > 0
                                 for m in self.members for event, facts in m.events)

    @property
    def open(self) -> bool:
        return any(self.positions.values())


class Detector:
    """One detection run; `groups` in the order they were opened, `member_of` flex_id -> group id."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.member_of: dict[str, str] = {}
        self.lot_group: dict[str, str] = {}  # lot label (opening flex_id) -> group id
        self.by_underlying: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.day_closes: dict[tuple[str, datetime.date, str], tuple[str, str]] = {}  # -> (group, flex_id)
        self.last_holder: dict[tuple[str, str], str] = {}  # (account, conid) -> group that held it last
        self.first_holder: dict[tuple[str, str], str] = {}  # (account, conid) -> the first group that held it
        self.link_rows: dict[str, list[str]] = defaultdict(list)  # delivery link -> rows placed with it
        self.unplaced: list[_Row] = []

    def run(self, rows: list[_Row]) -> dict[str, Group]:
        clusters: dict[tuple, list[_Row]] = {}
        for row in rows:
            facts = row.facts
            if row.income:
                key = ("income", row.flex_id)
            elif facts.order:
                key = (facts.account, row.date, facts.underlying, facts.order)
            else:
                key = ("row", row.flex_id)
            clusters.setdefault(key, []).append(row)
        for cluster in clusters.values():
            if cluster[0].income:
                self._income(cluster[0])
            else:
                self._cluster(cluster)
        for row in self.unplaced:  # income before any holder: the first group that later held it
            self._income(row, late=True)
        return self.groups

    # -- trades ------------------------------------------------------------------------------------------

    def _cluster(self, rows: list[_Row]) -> None:
        """Place the rows of one order: closing rows with the lots they close, opening rows by _target()."""
        closes = [(row, gid) for row in rows for gid in self._closing_groups(row)]
        opening = [row for row in rows if self._opens(row)]
        target, rule, link = self._target(rows, closes, opening)
        opens = {id(row) for row in opening}
        inner = {row.flex_id for row in rows}
        closed_ids, opened_ids = [], []
        for row in opening + [row for row in rows if id(row) not in opens]:  # the group's id: an opening row
            own = next((gid for r, gid in closes if r is row), None)
            if own:
                self._add(row, own, "closes lots it opened", self._lot_link(row))
                closed_ids.append(row.flex_id)
                continue
            if target is None:
                target, rule = self._new_group(row), "opened"
            if id(row) in opens:
                self._add(row, target, rule, link)
                opened_ids.append(row.flex_id)
            else:  # closes a lot of this same order (a round trip), or one from before the ledger's history
                same = any(leg.label in inner for event, _ in row.events for leg in event.legs if not leg.opening)
                self._add(row, target, "closes a lot opened in the same order" if same
                          else "closes a lot opened before the ledger", link)
                closed_ids.append(row.flex_id)
        self._chain(rows, closes, target, rule, link, closed_ids, opened_ids)
        if closes and not opening:
            self._roll_opened_first(rows, closes[0][1])

    def _roll_opened_first(self, rows: list[_Row], gid: str) -> None:
        """A roll the other way round: options opened earlier today as a new group on this underlying, then this
        order closes an option of group `gid`: that new group joins `gid` (the latest such group, if any)."""
        facts = rows[0].facts
        if not facts.option or gid not in self.groups:
            return
        day = rows[0].date
        for other in reversed(self.by_underlying[(facts.account, facts.underlying)]):
            group = self.groups.get(other)
            if other == gid or group is None or group.members[0].rule != "opened":
                continue
            if all(m.date == day for m in group.members) and all(f.option for m in group.members
                                                                 for _, f in m.events):
                self._absorb(gid, other, [r.flex_id for r in rows])
                return

    def _absorb(self, gid: str, other: str, closed_ids: list[str]) -> None:
        """Group `other` becomes part of `gid`: its members, lots, positions and chain (a roll within the day)."""
        group, gone = self.groups[gid], self.groups.pop(other)
        for member in gone.members:
            member.rule, member.link = "roll within the trading day (opened before the close)", closed_ids[0]
            self.member_of[member.flex_id] = gid
        group.members = sorted(group.members + gone.members, key=lambda m: (m.date, m.when, m.flex_id))
        for conid, units in gone.positions.items():
            group.positions[conid] += units
        for table in (self.lot_group, self.last_holder, self.first_holder):
            table.update({key: gid for key, value in table.items() if value == other})
        self.day_closes.update({k: (gid, v[1]) for k, v in self.day_closes.items() if v[0] == other})
        for owners in self.by_underlying.values():
            if other in owners:
                owners.remove(other)
                if gid not in owners:
                    owners.append(gid)
        group.chain.append({"date": gone.members[0].date, "rule": "roll within the trading day",
                            "closed": closed_ids, "opened": [m.flex_id for m in gone.members]})
        group.chain.sort(key=lambda c: c["date"])
        group.close_date = None if group.open else group.close_date

    def _closing_groups(self, row: _Row) -> list[str]:
        """Groups whose lots this row closes (by lot label), else (unlabelled legs) the group holding the other
        side of the same contract."""
        found = []
        for event, facts in row.events:
            for leg in event.legs:
                if leg.opening:
                    continue
                gid = self.lot_group.get(leg.label) if leg.label else None
                if gid is None and leg.opening is None:
                    gid = self._holder(facts, -leg.units)
                if gid is not None and gid not in found:
                    found.append(gid)
        return found

    def _opens(self, row: _Row) -> bool:
        return any(leg.opening or (leg.opening is None and self._holder(f, -leg.units) is None)
                   for event, f in row.events for leg in event.legs)

    def _target(self, rows, closes, opening) -> tuple[str | None, str, str | None]:
        """(group, rule, linking flex_id) for the legs this order opens; (None, "opened", None): a new group."""
        if not opening:
            return None, "opened", None
        if closes:
            closed_options = any(f.option for row, _ in closes for _, f in row.events)
            opened_options = any(f.option for row in opening for _, f in row.events)
            delivered = self._delivering(closes, opening)
            if delivered is not None and not opened_options:
                return delivered[1], "delivered by assignment or exercise", delivered[0].flex_id
            rule = "roll in the same order" if closed_options and opened_options else "same order"
            return closes[0][1], rule, closes[0][0].flex_id
        facts = opening[0].facts
        for row in opening:
            for _, f in row.events:
                for fid in sorted(f.delivered_by):  # the option close this delivery names (option_flex_id)
                    if fid in self.member_of:
                        return self.member_of[fid], "delivered by assignment or exercise", fid
                for link in f.delivery_links:
                    gid = self._linked(link, row.flex_id)
                    if gid:
                        return gid, "delivered by assignment or exercise", self._link_row(link, row.flex_id)
        if all(f.option for row in opening for _, f in row.events):
            close = self.day_closes.get((facts.account, opening[0].date, facts.underlying))
            if close:
                return close[0], "roll within the trading day", close[1]
        contracts = {f.conid for row in opening for _, f in row.events}
        if len(contracts) == 1:
            return self._joins(opening[0])
        return None, "opened", None

    @staticmethod
    def _delivering(closes, opening):
        """The (row, group) of the option assigned or exercised in this order that delivered the opened
        underlying: the one its `option_flex_id` names, else the one sharing its `^eae-…` link, else the first
        assignment or exercise."""
        named = {fid for row in opening for _, f in row.events for fid in f.delivered_by}
        links = {link for row in opening for _, f in row.events for link in f.delivery_links}
        by_name = [(row, gid) for row, gid in closes if row.flex_id in named]
        linked = [(row, gid) for row, gid in closes if links & {l for _, f in row.events for l in f.delivery_links}]
        assigned = [(row, gid) for row, gid in closes
                    if any(e.kind in ("assignment", "exercise") and f.option for e, f in row.events)]
        return (by_name or linked or assigned or [None])[0]

    def _joins(self, row: _Row) -> tuple[str | None, str, str | None]:
        """One contract opened: an open group holding it on the same side, else (an option) an open group holding
        the underlying long."""
        event, facts = row.events[0]
        gid = self._holder(facts, event.quantity)
        if gid:
            return gid, "adds to the position", None
        if facts.option:
            for gid in reversed(self.by_underlying[(facts.account, facts.underlying)]):
                group = self.groups[gid]
                if any(units > 0 and not self.facts_of(group, conid).option for conid, units in
                       group.positions.items()):
                    return gid, "option on held stock", None
        return None, "opened", None

    def facts_of(self, group: Group, conid: str) -> LegFacts:
        return next(f for m in group.members for _, f in m.events if f.conid == conid)

    def _holder(self, facts: LegFacts, units: Decimal) -> str | None:
        """The latest open group holding this contract with the sign of `units`."""
        for gid in reversed(self.by_underlying[(facts.account, facts.underlying)]):
            held = self.groups[gid].positions.get(facts.conid, ZERO)
            if held and (held > 0) == (units > 0):
                return gid
        return None

    def _linked(self, link: str, flex_id: str) -> str | None:
        row = self._link_row(link, flex_id)
        return self.member_of.get(row) if row else None

    def _link_row(self, link: str, flex_id: str) -> str | None:
        """The row already placed that shares `link` (the assigned option, for the stock it delivered)."""
        return next((fid for fid in self.link_rows.get(link, ()) if fid != flex_id), None)

    def _lot_link(self, row: _Row) -> str | None:
        """The opening row of the first lot this row closes."""
        return next((leg.label for event, _ in row.events for leg in event.legs
                     if not leg.opening and leg.label in self.lot_group), None)

    def _new_group(self, row: _Row) -> str:
        facts = row.facts
        group = Group(row.flex_id, facts.account, facts.underlying, facts.underlying_symbol)
        self.groups[row.flex_id] = group
        self.by_underlying[(facts.account, facts.underlying)].append(row.flex_id)
        return row.flex_id

    def _add(self, row: _Row, gid: str, rule: str, link: str | None) -> None:
        group = self.groups[gid]
        group.members.append(Member(row.flex_id, row.date, row.when, rule, link, row.events))
        self.member_of[row.flex_id] = gid
        for event, facts in row.events:
            key = (facts.account, facts.underlying)
            if gid not in self.by_underlying[key]:
                self.by_underlying[key].append(gid)
            for link_name in facts.delivery_links:
                self.link_rows[link_name].append(row.flex_id)
            for leg in event.legs:
                self._move(row, gid, facts, leg)
            if event.legs and rule == "opened":
                group.opened.append(ShapeLeg(facts.right, facts.strike, facts.expiry, event.quantity, facts.category))
            elif event.legs and rule == "option on held stock":
                group.later.append(ShapeLeg(facts.right, facts.strike, facts.expiry, event.quantity, facts.category))
            if facts.option and any(not leg.opening for leg in event.legs):
                self.day_closes[(facts.account, row.date, facts.underlying)] = (gid, row.flex_id)
        for touched in {gid, *(self.lot_group.get(leg.label) for e, _ in row.events for leg in e.legs)} - {None}:
            other = self.groups[touched]
            other.close_date = None if other.open else row.date

    def _move(self, row: _Row, gid: str, facts: LegFacts, leg) -> None:
        """One posting's units on the position of the group that owns its lot (a closing leg of a lot never
        seen, i.e. history before the ledger, moves nothing)."""
        if leg.opening or (leg.opening is None and leg.label not in self.lot_group):
            owner = self.lot_group.setdefault(leg.label or row.flex_id, gid)
        elif leg.label in self.lot_group:
            owner = self.lot_group[leg.label]
        else:
            return
        self.groups[owner].positions[facts.conid] += leg.units
        self.last_holder[(facts.account, facts.conid)] = owner
        self.first_holder.setdefault((facts.account, facts.conid), owner)

    def _chain(self, rows, closes, target, rule, link, closed_ids, opened_ids) -> None:
        """One entry per order on its group's chain: what it closed and opened, and by which rule (a roll
        within the day names the earlier close it follows)."""
        gid = target or (closes[0][1] if closes else None)
        if gid is None:
            return
        group = self.groups[gid]
        if rule == "roll within the trading day" and link:
            closed_ids = [link, *closed_ids]
        mine = [row.flex_id for row, g in closes if g == gid]
        group.chain.append({"date": rows[0].date, "rule": rule if opened_ids else "closed",
                            "closed": [i for i in closed_ids if i in mine or i == link], "opened": opened_ids})
        for other in dict.fromkeys(g for _, g in closes if g != gid):
            self.groups[other].chain.append({"date": rows[0].date, "rule": "closed",
                                             "closed": [r.flex_id for r, g in closes if g == other], "opened": []})

    # -- income --------------------------------------------------------------------------------------------

    def _income(self, row: _Row, late: bool = False) -> None:
        facts = row.facts
        key = (facts.account, facts.conid)
        gid = next((g for g in reversed(self.by_underlying[(facts.account, facts.underlying)])
                    if self.groups[g].positions.get(facts.conid)), None)
        rule = "income while held"
        if gid is None:
            gid, rule = self.last_holder.get(key), "income after the position closed"
            if late:
                gid, rule = self.first_holder.get(key), "income before the position opened"
        if gid is None and not late:
            self.unplaced.append(row)
            return
        if gid is None:
            gid, rule = self._new_group(row), "income without a position"
        self.groups[gid].members.append(Member(row.flex_id, row.date, row.when, rule, None, row.events))
        self.member_of[row.flex_id] = gid


def detect(book: Book, links: dict[str, frozenset[str]] | None = None) -> dict[str, Group]:
    """The detected groups of every account, by id, in the order they were opened."""
    return Detector().run(rows_of(book, links))
