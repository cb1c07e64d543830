"""Cut a synthetic statement to its last N days, as the Flex Web Service would serve it (at most 365 days).

The generator writes one element per line, and each `Lot` (CLOSED_LOT) line right after the `Trade` it belongs
to. The cut keeps every event row (Trade with its Lots, CorporateAction, CashTransaction, ConversionRate) dated
on or after the first day of the window, moves `fromDate` there, and keeps the end-of-period sections
(OpenPositions, CashReport) as they are. So sales in the window close lots bought before it, exactly the case a
first sync on a real account meets: e.g. 2,000 trades over 2016-2017 cut to 365 days leaves sales whose
CLOSED_LOT rows name purchases made in 2016.
"""

from __future__ import annotations

import datetime
import re

_DATED = re.compile(rb'<(Trade|CorporateAction|CashTransaction|ConversionRate) .*?\b(?:dateTime|reportDate)="(\d{8})')
_FROM = re.compile(rb'(<FlexStatement [^>]*?fromDate=")(\d{8})(")')
_TO = re.compile(rb'<FlexStatement [^>]*?toDate="(\d{8})"')


def last_days(data: bytes, days: int = 365) -> bytes:
    """The statement `data` limited to its last `days` days (toDate included): 2017-12-07 and 365 -> from 2016-12-08."""
    end = datetime.datetime.strptime(_TO.search(data).group(1).decode(), "%Y%m%d").date()
    first = (end - datetime.timedelta(days=days - 1)).strftime("%Y%m%d").encode()
    out, keep = [], True
    for line in data.splitlines(keepends=True):
        dated = _DATED.search(line)
        if dated:
            keep = dated.group(2) >= first
        elif b"<Lot " not in line:
            keep = True  # section tags and end-of-period rows stay; a Lot follows its Trade's fate
        if keep:
            out.append(_FROM.sub(lambda m: m.group(1) + max(m.group(2), first) + m.group(3), line, count=1))
    return b"".join(out)
