"""What `beanflex check` finds in the raw archive, in one place, so the Fava Import health page shows the same
counts: schema drift over every archived statement, and the rows the mapper leaves out (`unmapped_row`) or
writes flagged `!` (`flagged_row`), from the archive mapped in memory as `rebuild` would (nothing written).

pp01 (portfolio__testIBFlexStatementFile01.xml) alone: 0 drift items, 15 rows not mapped (its FxTransaction
rows), 0 flagged; the page and `check` both say so.
"""

from __future__ import annotations

from pathlib import Path

from beanflex.importers.flex import archive, schema
from beanflex.importers.flex.adapter import parse
from beanflex.importers.flex.drift import DriftItem, DriftReport
from beanflex.importers.flex.errors import FlexError

from .ingest import build_from_archive, explained_error
from .workspace import Workspace

#: Drift kinds the mapper reports for rows it did not map or wrote flagged (checks.py's SUMMARY-vs-LOT mismatch
#: is an unmapped_row too).
MAPPING_KINDS = ("unmapped_row", "flagged_row", "value_mismatch")  # value_mismatch: an option row vs its OCC symbol


def archive_drift(ledger_dir: Path) -> tuple[DriftReport, list[str], int]:
    """Drift over every archived statement: (report, errors naming file/section/line, files checked)."""
    report, errors = DriftReport(), []
    files = archive.list_archive(ledger_dir)
    for archived in files:
        try:
            document = parse(archived.path.read_bytes(), source=archived.relpath)
            for statement in document.statements:
                report.extend(schema.check_statement(statement, archived.relpath))
        except FlexError as exc:  # also says that this file stops every rebuild, and to move it out of raw/
            errors.append(str(explained_error(exc, ledger_dir)))
    return report, errors, len(files)


def mapping_findings(ws: Workspace) -> tuple[list[DriftItem], list[str]]:
    """(unmapped and flagged drift items, errors) from the archive mapped in memory, as `rebuild` would (no writes).

    Each item names the archived file and the first row's line; its count is the rows of that kind and reason.
    """
    try:
        result = build_from_archive(ws)
    except FlexError as exc:
        return [], [str(exc)]
    return [item for item in result.drift.items if item.kind in MAPPING_KINDS], []


def archive_findings(main_file: Path) -> dict:
    """The counts and items `beanflex check` prints, as plain dicts for the Import health page:
    {"drift": [item], "drift_count", "not_mapped": [item], "not_mapped_count", "flagged_rows": [item],
     "flagged_count", "errors": [text]}; an item is {"kind", "section", "tag", "name", "file", "line", "count",
    "text"}. The counts are rows (an item stands for `count` rows of one kind and reason), as `check` counts."""
    ws = Workspace.from_option(str(main_file))
    report, errors, _files = archive_drift(ws.ledger_dir)
    mapped, mapping_errors = mapping_findings(ws) if not errors else ([], [])
    not_mapped = [_item(i) for i in mapped if i.kind == "unmapped_row"]
    flagged = [_item(i) for i in mapped if i.kind == "flagged_row"]
    return {"drift": [_item(i) for i in report.items], "drift_count": len(report.items),
            "not_mapped": not_mapped, "not_mapped_count": sum(i["count"] for i in not_mapped),
            "flagged_rows": flagged, "flagged_count": sum(i["count"] for i in flagged),
            "errors": errors + mapping_errors}


def _item(item: DriftItem) -> dict:
    return {"kind": item.kind, "section": item.section, "tag": item.tag, "name": item.name, "file": item.file,
            "line": item.first_line, "count": item.count, "text": item.describe()}
