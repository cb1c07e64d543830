"""The raw archive's file names: `raw/<ACCT>/<yyyy>/<from>_<to>_<queryId>_<sha12>.xml` (DESIGN §2).

The importer names the files it archives; the Import health report reads a run's period back from the name.
E.g. `20240101_20241231_987654_7d180a7a24c5.xml` -> from 2024-01-01, to 2024-12-31, query 987654, sha 7d180a7a24c5.
A file without dates is named `nodate`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

_NAME = re.compile(r"^(?P<from>\w+)_(?P<to>\w+)_(?P<query>[A-Za-z0-9-]+)_(?P<sha>[0-9a-f]{12})\.(?P<ext>xml|csv)$")


@dataclass(frozen=True)
class ArchiveName:
    from_date: datetime.date | None
    to_date: datetime.date | None
    query_id: str
    sha12: str


def file_name(from_date: datetime.date | None, to_date: datetime.date | None, query_id: str, sha256: str,
              suffix: str = ".xml") -> str:
    """(2024-01-01, 2024-12-31, "987654", "7d180a7a24c5…") -> "20240101_20241231_987654_7d180a7a24c5.xml"."""
    return f"{_day(from_date)}_{_day(to_date)}_{query_id}_{sha256[:12]}{suffix}"


def parse(name: str) -> ArchiveName | None:
    """A file name (no folders) -> its parts; None when it is not an archive name (a file put there by hand)."""
    match = _NAME.match(name)
    if match is None:
        return None
    return ArchiveName(_date(match["from"]), _date(match["to"]), match["query"], match["sha"])


def _day(day: datetime.date | None) -> str:
    return day.strftime("%Y%m%d") if day else "nodate"


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None
