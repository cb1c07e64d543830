"""`--format xlsx`: a workbook a spreadsheet user can sort and sum right away.

One sheet per table (pnl + account items, positions + lots, reconcile diffs + every comparison + by day, …). Money,
quantities and prices are numeric cells holding the report's exact decimal (never text, never pre-rounded), with a
number format that shows them like the text table: money "#,##0.00" (JPY "#,##0"), a quantity of 0.5 "#,##0.0".
Dates are date cells ("yyyy-mm-dd"). The header row is bold and frozen, has filters, and columns are as wide as
their longest text (capped at 60 characters).
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from . import money
from .tables import PERCENT_COLUMNS, PRICE, QUANTITY, TEXT_NUMBERS, is_money, is_number

DATE_COLUMNS = {"date", "mark_date", "open_date", "as_of", "from", "to"}
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 60
#: Labels report columns that are numbers (the base fields are money, `weight` a share like 0.25).
SHARE_COLUMNS = {"weight"}


def money_format(currency: str | None) -> str:
    """The number format of money in `currency`: "#,##0.00" for USD, "#,##0" for JPY, "#,##0.000" for KWD."""
    places = money.minor_unit(currency)
    return "#,##0" + ("." + "0" * places if places else "")


def exact_format(value: Decimal, at_least: int = 0) -> str:
    """A quantity's or price's own precision as a format: 5257 -> "#,##0", 0.5 -> "#,##0.0", 1.0231 -> "#,##0.0000"
    (at most money.PRICE_PLACES + 4 decimals, as Excel shows at most 15 digits)."""
    places = min(money.PRICE_PLACES + 4, max(at_least, -value.normalize().as_tuple().exponent))
    return "#,##0" + ("." + "0" * places if places > 0 else "")


def typed(column: str, row: dict, currency: str | None) -> tuple[object, str | None]:
    """(cell value, number format) of one report cell; text stays text, "" and None become empty cells."""
    value = row.get(column)
    if value is None or value == "":
        return None, None
    if column in DATE_COLUMNS:
        try:
            return datetime.date.fromisoformat(str(value)), DATE_FORMAT
        except ValueError:
            return str(value), None
    numeric = is_number(column) or column in SHARE_COLUMNS
    number = money.to_decimal(value) if numeric and column not in TEXT_NUMBERS else None
    if number is None:
        return (value if isinstance(value, (int, str)) else str(value)), None
    if column in PERCENT_COLUMNS:
        return number, "0.00%"
    if column.startswith("base_"):
        return number, money_format(row.get("base_currency") or currency)
    if is_money(column, row):
        return number, money_format(row.get("currency") or currency)
    if column in PRICE:
        return number, exact_format(number, money.minor_unit(row.get("currency") or currency))
    if column in QUANTITY or column in SHARE_COLUMNS or column in ("ours", "ibkr", "diff"):
        return number, exact_format(number)
    return number, None


def workbook(sheets: list[tuple[str, tuple[str, ...], list[dict], str | None]]) -> bytes:
    """The xlsx bytes of [(sheet name, columns, rows, default currency)]; a sheet name is cut to Excel's 31."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, columns, rows, currency in sheets:
        sheet = book.create_sheet(name[:31])
        sheet.append(list(columns))
        for header_cell in sheet[1]:
            header_cell.font = Font(bold=True)
        widths = [len(c) for c in columns]
        for r, row in enumerate(rows, start=2):
            for c, column in enumerate(columns, start=1):
                value, number_format = typed(column, row, currency)
                target = sheet.cell(row=r, column=c, value=value)
                if number_format:
                    target.number_format = number_format
                shown = money.money_text(value, currency) if isinstance(value, Decimal) else value
                widths[c - 1] = max(widths[c - 1], len(str(shown)) if shown is not None else 0)
        for c, size in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, size + 2)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{max(1, len(rows) + 1)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
