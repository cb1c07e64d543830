"""How a number reads on screen: the one display rule every table, Fava page, header and note uses.

Money is rounded half-even (banker's rounding, the rule of Python's Decimal and of most ledgers) to its currency's
minor unit: 2 decimals for USD/EUR/CHF, 0 for JPY, 3 for KWD. So 0.125 USD reads "0.12" and 0.135 USD "0.14" (the
digit before the tie is made even), 1234.5 JPY reads "1,234" and 1235.5 JPY "1,236". Thousands are separated by
commas everywhere. Quantities and prices keep their own precision ("5,257", "0.5", "1.0231"), never money's.

This is display only: JSON, CSV, tooltips and `explain --format json` keep the exact decimal strings of the report.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

#: ISO 4217 minor units that are not 2 (every currency not listed has 2 decimals).
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0,
    "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}
#: Prices and average costs computed by division ("164.77862279...") are cut to this many decimals for display.
PRICE_PLACES = 6


def to_decimal(value) -> Decimal | None:
    """A report value as a finite Decimal ("347.00" -> Decimal("347.00")); None for empty or non-numbers."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def minor_unit(currency: str | None) -> int:
    """Decimals of a currency's minor unit: USD 2, JPY 0, KWD 3; unknown or missing currencies 2."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def round_money(value, currency: str | None = None) -> Decimal | None:
    """The value rounded half-even to the currency's minor unit: 0.125 USD -> 0.12, 0.135 USD -> 0.14,
    -0.004 USD -> 0.00 (never "-0.00"), 1234.5 JPY -> 1234."""
    number = to_decimal(value)
    if number is None:
        return None
    rounded = number.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_EVEN)
    return abs(rounded) if not rounded else rounded


def money_text(value, currency: str | None = None) -> str:
    """Money for display: "2,932.083333333333333333333332" USD -> "2,932.08"; "-74442.232" -> "-74,442.23";
    "1234.5" JPY -> "1,234". Empty for None; a non-number is shown as it is."""
    rounded = round_money(value, currency)
    if rounded is None:
        return "" if value is None else str(value)
    return f"{rounded:,.{minor_unit(currency)}f}"


def quantity_text(value) -> str:
    """A quantity with its own precision: "5257" -> "5,257", "0.50" -> "0.5", "-52" -> "-52", "1E+1" -> "10"."""
    number = to_decimal(value)
    if number is None:
        return "" if value is None else str(value)
    number = number.normalize()
    places = max(0, -number.as_tuple().exponent)
    return f"{number:,.{places}f}"


def price_text(value, currency: str | None = None) -> str:
    """A price or average cost with its own precision, at least the currency's minor unit and at most
    PRICE_PLACES decimals (half-even): "151.95" -> "151.95", "1.0231" -> "1.0231", "150" -> "150.00",
    "164.778622790565" -> "164.778623"."""
    number = to_decimal(value)
    if number is None:
        return "" if value is None else str(value)
    places = min(PRICE_PLACES, max(minor_unit(currency), -number.normalize().as_tuple().exponent))
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{abs(rounded) if not rounded else rounded:,.{places}f}"


def percent_text(value) -> str:
    """A return given as a fraction, in percent to 2 places (half-even): "-0.0100" -> "-1.00 %"."""
    number = to_decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return f"{round_money(number * 100):,.2f} %"
