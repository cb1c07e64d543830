"""`report labels` as table text, CSV and xlsx: one block per label, its members, then the weighted total.

The labels report is grouped (label -> members -> total), so it has its own layout; JSON is formats.render_json,
like every other report. Money is rounded in the table only (display), never in CSV, JSON or xlsx.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

from .labels import flat_rows

CENT = Decimal("0.01")
TEXT_COLUMNS = ("label", "row", "account", "symbol", "conid", "note")


def _flat(report: dict) -> tuple[list[str], list[dict]]:
    rows = flat_rows(report)
    columns = list(rows[0]) if rows else ["label", "row", "account", "symbol", "conid", "weight"]
    return columns, rows


def render_csv(report: dict) -> str:
    """One row per label member plus one `total` row per label; money as full-precision decimal strings."""
    columns, rows = _flat(report)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def render_xlsx(report: dict) -> bytes:
    """The csv rows as a worksheet, money as numbers (Decimal); the portfolio row carries the overlap note."""
    from openpyxl import Workbook

    columns, rows = _flat(report)
    book = Workbook()
    sheet = book.active
    sheet.title = "labels"
    sheet.append(columns)
    for row in rows:
        sheet.append([Decimal(v) if c not in TEXT_COLUMNS and v is not None else v for c, v in row.items()])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return "-"
    try:
        return str(Decimal(value).quantize(CENT, ROUND_HALF_UP))  # display only; JSON keeps full precision
    except ArithmeticError:
        return str(value)


def render_table(report: dict) -> str:
    """Aligned text: one block per label, members then the weighted total; the overlap note at the end."""
    columns, rows = _flat(report)
    money_cols = [c for c in columns[6:] if c != "note"]
    head = ["symbol", "account", "weight", *money_cols]
    lines = [f"P&L by label as of {report['as_of']} in {report['base_currency']} "
             f"(mode {report['mode']}, method {report['method']})", ""]
    groups = [(g["label"], g.get("description") or "") for g in report["labels"]] + [("(unlabelled)", "")]
    for name, description in groups:
        block = [r for r in rows if r["label"] == name]  # the "(portfolio)" row is printed below the groups
        table = [head] + [[r["symbol"] or "total", r["account"] or "", r["weight"] or "",
                           *(_cell(r[c]) for c in money_cols)] for r in block]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
        lines.append(f"{name}" + (f": {description}" if description else ""))
        for row in table:
            cells = [str(v).ljust(w) if i < 3 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))]
            lines.append("  " + "  ".join(cells).rstrip())
        lines.append("")
    portfolio = report.get("portfolio_totals") or {}
    if portfolio.get("total") is not None:
        lines.append(f"Portfolio total (each instrument once): {_cell(portfolio['total'])} "
                     f"{portfolio.get('currency') or report['base_currency']}")
    if portfolio.get("note"):
        lines.append(portfolio["note"])
    lines.append(report["overlap"]["note"])
    return "\n".join(lines) + "\n"
