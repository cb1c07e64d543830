"""What an edit from the pages needs to know about the loaded ledger and labels.yaml (engine facts, read here so
the Fava pages and the CLI's workspace edits reach them through reports/ like every other number)."""

from __future__ import annotations

from beanflex.engine.labels import instruments_from_entries
from beanflex.engine.labels_config import Instrument, parse_labels


def instrument(entries, symbol: str, conid: str | None = None) -> Instrument | None:
    """The ledger's instrument (symbol, conid, isin, name, category) with this symbol (and conid when given)."""
    return next((i for i in instruments_from_entries(entries)
                 if i.symbol == symbol and (not conid or i.conid == conid)), None)


def still_member(labels_text: str, label: str, inst: Instrument) -> bool:
    """Whether `inst` is in `label` by what labels.yaml still says (a rule such as `re:^A` or `desc:INC$`) and
    is not excluded: after its own entries were removed, only a rule can keep it there."""
    config, _errors = parse_labels(labels_text)
    group = config.get(label)
    return bool(group) and any(m.matches(inst) for m in group.members) \
        and not any(m.matches(inst) for m in group.exclude)


def has_flex_id(entries, flex_id: str) -> bool:
    """Whether some loaded entry carries this flex_id (an event note must name a real event)."""
    return any((getattr(e, "meta", None) or {}).get("flex_id") == flex_id for e in entries)
