"""Strategy groups (DESIGN §9): detection, then the hand edits of strategies.yaml, then P&L per group.

The pieces: strategy_meta.py (what detection reads of an event; the one place that knows metadata names),
strategy_detect.py (the rule), strategy_shape.py (the kind from the legs), strategy_edits.py (strategies.yaml),
strategy_rollup.py (P&L per group). This module is their front door for reports/ and for other engine modules:
`group_index` gives flex_id -> group id (returns by strategy use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .book import Book
from beanflex.contract.gcpause import paused_gc
from .strategy_detect import Group, Member, detect
from .strategy_edits import EditWarning, Edits, StrategiesFileError, apply_edits, group_id, load_edits
from .strategy_meta import transaction_links

__all__ = ("Strategies", "StrategiesFileError", "group_id", "group_index", "load_edits", "strategy_groups",
           "transaction_links")


@dataclass
class Strategies:
    """The groups after the edits, by id in the order they opened; the ignored events; the edit warnings."""

    groups: dict[str, Group]
    ignored: list[Member] = field(default_factory=list)
    warnings: list[EditWarning] = field(default_factory=list)

    def group_of(self, flex_id: str) -> str | None:
        return self.index().get(flex_id)

    def index(self) -> dict[str, str]:
        return {m.flex_id: gid for gid, g in self.groups.items() for m in g.members}


@paused_gc()
def strategy_groups(book: Book, edits: Edits | str | Path | None = None,
                    links: dict[str, frozenset[str]] | None = None) -> Strategies:
    """Detect the groups of `book` and apply `edits` (an Edits, or strategies.yaml's path; None: none).
    `links` is transaction_links(entries): flex_id -> its `^links` (they name assignment deliveries).
    Raises StrategiesFileError for a malformed strategies.yaml."""
    if edits is None:
        edits = Edits()
    elif not isinstance(edits, Edits):
        edits = load_edits(edits)
    groups, ignored = apply_edits(detect(book, links), edits)
    return Strategies(groups, ignored, list(edits.warnings))


def group_index(book: Book, edits: Edits | str | Path | None = None,
                links: dict[str, frozenset[str]] | None = None) -> dict[str, str]:
    """flex_id -> strategy group id for every grouped event (ignored events are absent). E.g. the wheel's
    assignment row `U7/trade/W03` -> `U7/trade/W01` (the group starts at the put sold on W01)."""
    return strategy_groups(book, edits, links).index()
