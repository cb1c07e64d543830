"""The drift report: what a statement holds that beanflex does not (yet) understand.

Unknown sections, attributes and enum values, and rows the mapper did not map, are collected here as warnings,
never raised: IBKR adds fields all the time, and a nightly run must not die of it. `beanflex check` and the run
record show the report.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class DriftItem:
    """One kind of surprise, counted: e.g. unknown attribute `fooBar` on `Trades/Trade`, 12 rows, first at line 40."""

    kind: str  # unknown_section | unknown_element | unknown_attribute | unknown_value | unmapped_row | flagged_row
    section: str
    tag: str
    name: str  # the attribute, value or reason
    file: str
    first_line: int
    count: int = 1

    def describe(self) -> str:
        what = {
            "unknown_section": f"unknown section <{self.section}>",
            "unknown_element": f"unknown element <{self.tag}>",
            "unknown_attribute": f"unknown attribute {self.name!r} on <{self.tag}>",
            "unknown_value": f"unknown value {self.name} on <{self.tag}>",
            "unmapped_row": f"<{self.tag}> row not mapped: {self.name}",
            "flagged_row": f"<{self.tag}> row written flagged '!': {self.name}",
            "value_mismatch": f"<{self.tag}> row disagrees with itself: {self.name}",
        }.get(self.kind, f"{self.kind} {self.name}")
        return f"{self.file}:{self.first_line}: {self.section}: {what} ({self.count} row{'s' * (self.count != 1)})"


class DriftReport:
    """Collects DriftItems, merging repeats of the same (kind, section, tag, name) into one counted item."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str, str, str], DriftItem] = OrderedDict()

    def add(self, kind: str, section: str, tag: str, name: str, file: str, line: int) -> None:
        key = (kind, section, tag, name)
        item = self._items.get(key)
        if item is None:
            self._items[key] = DriftItem(kind, section, tag, name, file, line)
        else:
            item.count += 1

    def extend(self, other: "DriftReport") -> None:
        for item in other.items:
            key = (item.kind, item.section, item.tag, item.name)
            if key in self._items:
                self._items[key].count += item.count
            else:
                self._items[key] = DriftItem(**vars(item))

    @property
    def items(self) -> list[DriftItem]:
        return list(self._items.values())

    def count(self, kind: str) -> int:
        """Rows affected by one kind of item, e.g. count("unmapped_row")."""
        return sum(item.count for item in self._items.values() if item.kind == kind)

    def __bool__(self) -> bool:
        return bool(self._items)

    def lines(self) -> list[str]:
        return [item.describe() for item in self._items.values()]
