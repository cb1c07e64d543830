"""`report labels` as table text, CSV and xlsx: one block per label, its members, then the weighted total.

The labels report is grouped (label -> members -> total), so it has its own layout; JSON is formats.render_json,
like every other report. Money is rounded in the table only (display, money.py's rule), never in CSV, JSON or xlsx
(typed number cells, xlsx.py).
"""

from __future__ import annotations

import csv
import io
import textwrap

from .labels import flat_rows
from .money import money_text

#: Where the notes under the table wrap: the width every default table fits.
NOTE_WIDTH = 100


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
    """The csv rows as a typed worksheet (xlsx.py: number cells, formats, frozen filtered header); the portfolio
    row carries the overlap note."""
    from .xlsx import workbook

    columns, rows = _flat(report)
    return workbook([("labels", tuple(columns), rows, report.get("base_currency"))])


def _cell(value, currency: str | None = None) -> str:
    return "-" if value is None else money_text(value, currency)  # display only; JSON keeps full precision


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
                           *(_cell(r[c], report["base_currency"]) for c in money_cols)] for r in block]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
        lines.append(f"{name}" + (f": {description}" if description else ""))
        for row in table:
            cells = [str(v).ljust(w) if i < 3 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))]
            lines.append("  " + "  ".join(cells).rstrip())
        lines.append("")
    portfolio = report.get("portfolio_totals") or {}
    if portfolio.get("total") is not None:
        lines.append(f"Portfolio total (each instrument once): {_cell(portfolio['total'], report['base_currency'])} "
                     f"{portfolio.get('currency') or report['base_currency']}")
    for note in (portfolio.get("note"), report["overlap"]["note"]):
        lines.extend(textwrap.wrap(note or "", NOTE_WIDTH))
    return "\n".join(lines) + "\n"
