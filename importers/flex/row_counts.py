"""Step 5 of the mapping (mapper.py): every row of every statement is mapped, flagged or unmapped, never lost.

A row is mapped when a directive's `flex_src` names it, when it repeats a mapped row (an overlapping statement, a
SUMMARY twin) or when it is reference data consumed while mapping; flagged when only a `!` directive names it;
else unmapped, and reported once per (file, section, tag) as drift. E.g. 10 Trade rows of which 2 repeat an
earlier statement and 1 has no instrument: read 10 = mapped 9 (2 of them duplicates) + unmapped 1.
"""

from __future__ import annotations

from .adapter import FlexRecord
from .context import MapContext
from .drift import DriftReport

#: Rows that are reference data or summaries consumed while mapping, not events of their own.
CONSUMED_SECTIONS = frozenset({"AccountInformation", "SecuritiesInfo"})


def count_rows(contexts: list[MapContext], out, not_mapped: dict[str, str], accounted: set[tuple[str, int]],
               drifts: dict[str, DriftReport], result) -> None:
    """Count the rows of `contexts` into `result.counts` (a FileCounts per path of `drifts`, made by the caller)
    and add every file's drift to `result.drift`; `out` is the mapper's emitter (lines named, duplicates)."""
    reported = {(i.file, i.section, i.tag) for d in drifts.values() for i in d.items if i.kind == "unmapped_row"}
    for ctx in contexts:
        counts = result.counts[ctx.raw_path]
        by_section: dict[str, list[FlexRecord]] = {}
        for record in ctx.statement.records:
            by_section.setdefault(record.section, []).append(record)
        for section, records in by_section.items():
            named = [r for r in records if (ctx.raw_path, r.line) in out.lines]
            for record in records:
                key = (ctx.raw_path, record.line)
                counts.read += 1
                if key in out.duplicate_lines:
                    counts.duplicates += 1
                flag = out.lines.get(key)
                if flag == "!":
                    counts.flagged += 1
                elif flag is not None or key in accounted or key in out.duplicate_lines \
                        or section in CONSUMED_SECTIONS \
                        or repeats_named_row(record, named):
                    counts.mapped += 1
                else:
                    counts.unmapped += 1
                    if (ctx.raw_path, section, record.tag) not in reported:
                        ctx.drift.add("unmapped_row", section, record.tag,
                                      not_mapped.get(section, "not yet mapped"), ctx.raw_path, record.line)
    for drift in drifts.values():
        result.drift.extend(drift)


def repeats_named_row(record: FlexRecord, named: list[FlexRecord]) -> bool:
    """A SUMMARY twin (CashTransactions, OpenPositions) of rows that are mapped is a repeat, not a loss."""
    level = (record.text("levelOfDetail") or "").upper()
    if record.section == "CashReport" and (record.text("currency") == "BASE_SUMMARY" or level == "BASECURRENCY"):
        return True  # the base-currency total of the per-currency rows the cash checks use
    if level not in ("SUMMARY", "LOT") or not named:
        return False
    if record.section == "CashTransactions":
        return level == "SUMMARY"
    key = record.text("conid") or record.text("symbol")
    return any((r.text("conid") or r.text("symbol")) == key for r in named)
