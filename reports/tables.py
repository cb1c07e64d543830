"""Text tables that fit the terminal: the most useful columns first, money rounded by money.py.

A report's tables (formats.tables) have up to 29 columns; printed whole, `report pnl` of a real statement is
~350 characters wide. By default a table keeps, in each table's priority order below, the columns that fit the
width (the terminal's, 100 when not a terminal): e.g. at 100 columns `pnl` shows symbol, currency, quantity,
realized, unrealized, total, base total, market value, … while flex ids and raw rows need `--wide` (every column)
or `--columns symbol,flex_id`. Long text (descriptions, reasons) is cut with "…" to fit; columns that are empty in
every row, or zero in every row, are left out unless named. Layout only: every number comes from the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import money

#: Columns in the order they are kept when space runs out (the display order stays the table's own).
PRIORITY = {
    "pnl": ("symbol", "currency", "quantity", "realized", "unrealized", "total", "base_total", "base_fx", "market_value",
            "dividends", "withholding", "cost_basis", "account", "flags", "commissions", "fees", "labels"),
    "accounts": ("account", "currency", "interest", "fees", "commissions", "total", "base_total", "deposits",
                 "withdrawals", "flags"),
    "positions": ("symbol", "currency", "quantity", "mark", "market_value", "cost_basis", "unrealized",
                  "average_cost", "base_unrealized", "account", "mark_date", "labels", "flags"),
    "lots": ("symbol", "open_date", "quantity", "cost", "cost_basis", "base_cost_basis", "account", "label"),
    "reconcile": ("kind", "date", "symbol", "field", "ours", "ibkr", "diff", "status", "reason", "currency",
                  "account"),
    "diffs": ("date", "symbol", "field", "ours", "ibkr", "diff", "reason", "currency", "account", "flex_id"),
    "by_day": ("date", "account", "currency", "closing_trades", "matched", "ours", "ibkr", "diff"),
    "events": ("date", "symbol", "kind", "quantity", "amount", "currency", "description", "account"),
    "explain": ("date", "description", "amount", "flex_id", "raw"),
    "strategies": ("ref", "name", "total", "premium_received", "realized", "unrealized", "status", "base_total",
                   "premium_paid", "commissions", "dividends", "open_date", "close_date", "days", "rolls", "kind",
                   "currency", "account", "withholding", "fees", "labels", "flags"),
    "members": ("ref", "date", "flex_id", "rule", "kind", "symbols", "quantity", "amount", "link", "raw"),
    "chain": ("ref", "date", "rule", "closed", "opened"),
    "summary": ("kind", "compared", "matched", "diffs"),
    "returns": ("name", "period", "twr", "mwr", "modified_dietz", "fx_return", "local_return", "fx_total", "gain",
                "end_value", "status", "kind", "from", "to", "net_flows", "start_value", "mwr_period", "notes"),
}
QUANTITY = {"quantity", "closing_trades", "matched", "compared", "diffs", "days", "rolls"}
PRICE = {"mark", "average_cost", "cost"}
#: Returns, fractions in the reports ("-0.01"), shown in percent ("-1.00 %").
PERCENT_COLUMNS = {"twr", "mwr", "mwr_period", "modified_dietz", "local_return", "fx_return"}
TEXT_NUMBERS = {"conid"}  # digits, but an id: left-aligned, no separators
#: Text columns cut with "…" when they do not fit whole, down to this many characters.
SHRINKABLE = {"description": 16, "reason": 14, "raw": 14, "flex_id": 14, "labels": 8, "flags": 8, "ids": 10,
              "mark_source": 8}
GAP = 2


@dataclass
class TextTable:
    """One table to print: `name` in its "[name]" header line, `columns` in display order, rows as report dicts;
    `currency` is the money columns' currency when a row has none of its own (explain, by-label totals)."""

    name: str
    columns: tuple[str, ...]
    rows: list[dict]
    currency: str | None = None


MONEY_COLUMNS = {"cost_basis", "market_value", "realized", "unrealized", "commissions", "dividends", "withholding",
                 "fees", "total", "ours", "ibkr", "diff", "amount", "value", "interest", "deposits", "withdrawals",
                 "fx", "start_value", "end_value", "net_flows", "gain", "fx_holdings", "fx_cash", "fx_conversions",
                 "fx_total", "premium_received", "premium_paid"}


def is_money(column: str, row: dict) -> bool:
    if column in QUANTITY or column in PRICE or column in TEXT_NUMBERS:
        return False
    if column in ("ours", "ibkr", "diff") and str(row.get("field") or "").endswith("quantity"):
        return False
    return column in MONEY_COLUMNS or column.startswith("base_") and column != "base_currency"


def is_number(column: str) -> bool:
    return column in MONEY_COLUMNS or column in QUANTITY or column in PRICE or column in PERCENT_COLUMNS or (
        column.startswith("base_") and column != "base_currency")


def cell(column: str, row: dict, currency: str | None = None) -> str:
    """One cell's text: money by its currency (a `base_` column by the row's base currency), quantities and
    prices with their own precision, anything else as it is. E.g. realized "-74442.2322" USD -> "-74,442.23"."""
    value = row.get(column)
    if value is None or value == "":
        return ""
    if column.startswith("base_") and column != "base_currency":
        return money.money_text(value, row.get("base_currency") or currency)
    if column in PERCENT_COLUMNS:
        return money.percent_text(value)
    if is_money(column, row):
        return money.money_text(value, row.get("currency") or currency)
    if column in PRICE:
        return money.price_text(value, row.get("currency") or currency)
    if column in QUANTITY or column in ("ours", "ibkr", "diff"):
        return money.quantity_text(value)
    return str(value)


def _useful(column: str, texts: list[str]) -> bool:
    """A column worth showing by default: some row has a value other than zero."""
    return any(t and t.strip("0.,-") != "" for t in texts) if is_number(column) else any(texts)


def choose(table: TextTable, width: int | None, columns: tuple[str, ...] | None = None,
           wide: bool = False) -> tuple[list[str], dict[str, int], list[list[str]]]:
    """(columns to print, their widths, the cell texts) of one table. `columns` named by the user are printed
    as asked; `wide` prints every non-empty column; otherwise PRIORITY's columns are taken while they fit."""
    texts = {c: [cell(c, r, table.currency) for r in table.rows] for c in table.columns}
    natural = {c: max([len(c)] + [len(t) for t in texts[c]]) for c in table.columns}
    if columns:
        shown = [c for c in columns if c in table.columns]
        widths = {c: natural[c] for c in shown}
    elif wide or width is None:
        shown = [c for c in table.columns if any(texts[c])] or list(table.columns)
        widths = {c: natural[c] for c in shown}
    else:
        shown, widths = _fit([c for c in PRIORITY.get(table.name, table.columns)
                              if c in table.columns and _useful(c, texts[c])], natural, width)
        shown = [c for c in table.columns if c in shown]
    rows = [[texts[c][i] for c in shown] for i in range(len(table.rows))]
    return shown, widths, rows


def _fit(candidates: list[str], natural: dict[str, int], width: int) -> tuple[list[str], dict[str, int]]:
    """Take columns in priority order while they fit; a long text column that does not fit whole is cut to the
    space left (at least SHRINKABLE's minimum). E.g. width 30, symbol 6 + total 10 (+2 gap = 18) leave 10 for a
    `reason` column whose longest text is 40: it is shown 10 wide."""
    shown: list[str] = []
    widths: dict[str, int] = {}
    used = 0
    for column in candidates:
        gap = GAP if shown else 0
        room = width - used - gap
        if natural[column] <= room:
            size = natural[column]
        elif column in SHRINKABLE and room >= max(SHRINKABLE[column], len(column)):
            size = room
        else:
            continue
        shown.append(column)
        widths[column] = size
        used += gap + size
    return shown, widths


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def render(table: TextTable, width: int | None, columns: tuple[str, ...] | None = None,
           wide: bool = False) -> list[str]:
    """The table's lines: "[name]" (plus how many columns were left out), the header, one line per row."""
    shown, widths, rows = choose(table, width, columns, wide)
    hidden = [c for c in table.columns if c not in shown and any(r.get(c) not in (None, "") for r in table.rows)]
    title = f"[{table.name}]"
    if hidden and not columns:
        title += f" {len(hidden)} more column(s) with --wide or --columns: {', '.join(hidden)}"
        if width is not None and len(title) > width:
            title = _clip(title, width)
    lines = [title, _line([c for c in shown], shown, widths, header=True)]
    for texts, row in zip(rows, table.rows):
        if row.get("account") == "TOTAL" and shown and shown[0] != "account":
            texts = ["TOTAL", *texts[1:]]  # the total row's label, whichever column comes first
        lines.append(_line(texts, shown, widths))
    return lines


def _line(texts: list[str], shown: list[str], widths: dict[str, int], header: bool = False) -> str:
    cells = []
    for text, column in zip(texts, shown):
        text = _clip(text, widths[column])
        cells.append(text.rjust(widths[column]) if is_number(column) else text.ljust(widths[column]))
    return (" " * GAP).join(cells).rstrip()


def unknown_columns(tables: list[TextTable], columns: tuple[str, ...]) -> list[str]:
    """Names in `--columns` that no table has (a usage error lists the ones there are)."""
    known = {c for t in tables for c in t.columns}
    return [c for c in columns if c not in known]
