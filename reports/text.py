"""`--format table`: a report's tables as text that fits the terminal, with a header line per report.

`report reconcile` shows by default what needs reading: the status, one count line per kind of comparison, and
the diffs (a real statement compares ~260 rows of which a handful differ); `--all` adds every comparison and the
by-day sums. Money is rounded by money.py everywhere, headers included; JSON keeps every digit.
"""

from __future__ import annotations

from . import money
from .tables import TextTable, render, unknown_columns


def text_tables(kind: str, report: dict, all_rows: bool = False) -> list[TextTable]:
    """The tables `--format table` prints, in order."""
    from .formats import DIFF_COLUMNS, tables

    found = tables(kind, report)
    currency = report.get("currency") if kind == "explain" else None
    if kind != "reconcile":
        return [TextTable(name, tuple(columns), rows, currency) for name, columns, rows in found if rows or
                name == found[0][0]]
    diffs = [{**d, "raw": " ".join(d.get("raw") or [])} for d in report["diffs"]]
    summary = TextTable("summary", ("kind", "compared", "matched", "diffs"), _counts(report))
    chosen = [summary, TextTable("diffs", DIFF_COLUMNS, diffs)]
    if all_rows:
        chosen += [TextTable(name, tuple(columns), rows) for name, columns, rows in found]
    return chosen


def _counts(report: dict) -> list[dict]:
    """Comparisons per kind: e.g. 240 closing trades of which 238 match IBKR to the tolerance."""
    groups = {"closing trades": [t for inst in report["by_instrument"] for t in inst["trades"]],
              "positions": report["positions"], "summaries": report["summaries"],
              "ending cash": report.get("cash") or []}
    return [{"kind": name, "compared": str(len(rows)), "matched": str(sum(r["status"] == "ok" for r in rows)),
             "diffs": str(sum(r["status"] != "ok" for r in rows))} for name, rows in groups.items() if rows]


def header(kind: str, report: dict) -> list[str]:
    """The lines above the tables: explain's number (rounded like the table), reconcile's status."""
    if kind == "explain" and report.get("strategy"):
        value = money.money_text(report["value"], report.get("currency")) if report["value"] is not None else (
            f"unknown ({report.get('note')})")
        return [f"{report['strategy']} ({report['name']}) {report['field']} = {value} {report['currency']}"]
    if kind == "explain":
        value = money.money_text(report["value"], report.get("currency"))
        return [f"{report['symbol']} (conid {report['conid']}) {report['field']} = {value} {report['currency']}"]
    if kind == "reconcile":
        return [f"status: {report['status']} (tolerance {report['tolerance']}), {len(report['diffs'])} diff(s)"]
    return []


def render_text(kind: str, report: dict, width: int | None = 100, columns: tuple[str, ...] = (),
                wide: bool = False, all_rows: bool = False) -> str:
    """The whole `--format table` text. `width` None means no limit (as `--wide`)."""
    chosen = text_tables(kind, report, all_rows)
    if columns and unknown_columns(chosen, columns):
        known = sorted({c for t in chosen for c in t.columns})
        raise ValueError(f"no column {', '.join(unknown_columns(chosen, columns))} in this report; "
                         f"columns: {', '.join(known)}")
    out = header(kind, report)
    for table in chosen:
        if columns and not set(columns) & set(table.columns):
            continue
        if out:
            out.append("")
        out.extend(render(table, width, columns or None, wide))
        if table.name == "diffs" and not table.rows:
            out.append("(none above the tolerance)")
    if kind == "reconcile" and not all_rows:
        out.append("")
        out.append("Every comparison (trades, positions, summaries, cash, by day): --all")
    return "\n".join(out) + "\n"
