"""Report periods by name (DESIGN §10): MTD, QTD, YTD, 1Y, ITD, a calendar year (2024), or --from/--to.

Each is (first day, last day), both inclusive; the value "at the start" is the end of the day before the first.
As of 2024-05-15: MTD 2024-05-01..15, QTD 2024-04-01..15, YTD 2024-01-01..15, 1Y 2023-05-16..2024-05-15,
ITD None..2024-05-15 (None: from the first holding or flow), 2023 2023-01-01..2023-12-31.
"""

from __future__ import annotations

import datetime
import re

STANDARD = ("MTD", "QTD", "YTD", "1Y", "ITD")
_YEAR = re.compile(r"^(19|20)\d\d$")


class PeriodError(ValueError):
    """A period name that is none of the above; the message lists them."""


def resolve(name: str, as_of: datetime.date) -> tuple[datetime.date | None, datetime.date]:
    key = name.strip().upper()
    if key == "MTD":
        return as_of.replace(day=1), as_of
    if key == "QTD":
        return as_of.replace(month=(as_of.month - 1) // 3 * 3 + 1, day=1), as_of
    if key == "YTD":
        return as_of.replace(month=1, day=1), as_of
    if key == "1Y":
        try:
            year_ago = as_of.replace(year=as_of.year - 1)
        except ValueError:  # 29 February
            year_ago = as_of.replace(year=as_of.year - 1, day=28)
        return year_ago + datetime.timedelta(days=1), as_of
    if key == "ITD":
        return None, as_of
    if _YEAR.match(key):
        year = int(key)
        return datetime.date(year, 1, 1), min(datetime.date(year, 12, 31), as_of)
    raise PeriodError(f"unknown period {name!r}: use one of {', '.join(STANDARD)}, a year like 2024, or "
                      f"--from/--to")


def calendar_years(first: datetime.date | None, as_of: datetime.date) -> list[str]:
    """Every calendar year from the first data to as_of, oldest first: 2023-03-05 .. 2024-05-15 -> 2023, 2024."""
    if first is None or first > as_of:
        return []
    return [str(year) for year in range(first.year, as_of.year + 1)]
