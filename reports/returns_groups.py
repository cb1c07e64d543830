"""Who belongs to a label or a strategy group, for the returns report.

- Labels: labels.yaml's membership (engine/labels_config.assign, the same as `report labels`), as
  {label: {(account, conid): weight}}; a member with weight 0.5 brings half its units and half its flows.
- Strategy groups (DESIGN §9) plug in through one small interface: a mapping flex_id -> group id (the events of
  each group). `strategy_groups(book, root, entries)` asks `beanflex.engine.strategies.group_index(book, edits,
  links)` for it when that module exists, and answers None when it does not, so `--by strategy` can say that
  strategy groups are not available instead of inventing them.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path
from typing import Mapping

from beanflex.engine.book import Book
from beanflex.engine.flows import Entity, instruments_entity
from beanflex.engine.labels import instruments_from_entries
from beanflex.engine.labels_config import assign
from beanflex.engine.valuation import Prices


def label_members(book: Book, entries, config, accounts) -> dict[str, dict[tuple[str, str], Decimal]]:
    membership, _errors = assign(config, instruments_from_entries(entries))  # errors: `check` reports them
    result: dict[str, dict[tuple[str, str], Decimal]] = {label.name: {} for label in config.labels}
    for (account, conid), inst in book.instruments.items():
        if account not in accounts:
            continue
        for label, weight in (membership.get(conid) or membership.get(inst.symbol) or {}).items():
            result[label][(account, conid)] = weight
    return result


def strategy_groups(book: Book, root: Path | None = None, entries=None) -> Mapping[str, str] | None:
    """flex_id -> strategy group id from engine/strategies.py's `group_index(book, edits, links)` (detection,
    then `<root>/strategies.yaml`, with the ledger's `^links` naming assignment deliveries); None without that
    module. A malformed strategies.yaml is a ValueError naming it."""
    try:
        module = importlib.import_module("beanflex.engine.strategies")
    except ImportError:
        return None
    index = getattr(module, "group_index", None)
    if index is None:
        return None
    edits = Path(root) / "strategies.yaml" if root is not None else None
    links_of = getattr(module, "transaction_links", None)
    links = links_of(entries) if links_of is not None and entries is not None else None
    try:
        return index(book, edits if edits is not None and edits.exists() else None, links)
    except getattr(module, "StrategiesFileError", ()) as exc:
        raise ValueError(f"strategies.yaml: {exc}") from None


def strategy_entities(book: Book, prices: Prices, groups: Mapping[str, str], accounts, only=()) -> list[Entity]:
    """One entity per group: the events whose flex_id the group holds, their instruments at weight 1."""
    events: dict[str, set[str]] = {}
    for flex_id, group in groups.items():
        events.setdefault(str(group), set()).add(str(flex_id))
    found = []
    for group in sorted(events):
        if only and group not in only and f"strategy:{group}" not in only:
            continue
        members = {key: Decimal(1) for key, inst in book.instruments.items()
                   if key[0] in accounts and any(e.flex_id in events[group] for e in inst.events)}
        found.append(instruments_entity(book, prices, "strategy", group, members, flex_ids=events[group],
                                        name=f"strategy:{group}"))
    return found
