"""Cut a synthetic statement into its history and its last day, as a nightly sync meets them (the benchmark's P6).

The generator writes one element per line, each `Lot` right after its `Trade`. `split_last_day(data)` returns
- the history: every event row dated before the last day (Trades with their Lots, OptionEAE, corporate actions,
  cash rows, conversion rates), `toDate` moved to the day before;
- the last day: the rows dated on it, `fromDate` = `toDate` = that day, and the end-of-period OpenPositions
  (IBKR's positions at that day's close, so the nightly ledger reconciles them).
CashReport goes to neither: its figures cover the whole period (startingCash 0), true of no part alone. E.g. a
statement over 2016-01-04..2017-12-07 gives a history to 2017-12-06 and a day 2017-12-07 whose sales close lots
the history opened.
"""

from __future__ import annotations

import datetime
import re

_DATED = re.compile(rb'^\s*<(Trade|CorporateAction|CashTransaction|ConversionRate|OptionEAE) .*?'
                    rb'\b(?:dateTime|reportDate|date)="(\d{8})')
_STATEMENT = re.compile(rb'(<FlexStatement [^>]*?fromDate=")(\d{8})(" toDate=")(\d{8})(")')
_SUMMARY = re.compile(rb"^\s*</?(CashReport|OpenPositions)>")


def split_last_day(data: bytes) -> tuple[bytes, bytes]:
    """(history, last day) of one synthetic statement; see the module docstring."""
    found = _STATEMENT.search(data)
    last = found.group(4)
    day = datetime.datetime.strptime(last.decode(), "%Y%m%d").date()
    before = (day - datetime.timedelta(days=1)).strftime("%Y%m%d").encode()
    history, today = [], []
    section, keep_history = None, True
    for line in data.splitlines(keepends=True):
        summary = _SUMMARY.match(line)
        if summary:
            section = None if line.lstrip().startswith(b"</") else summary.group(1)
            if section == b"OpenPositions" or (summary.group(1) == b"OpenPositions" and section is None):
                today.append(line)
            continue
        if section == b"CashReport":
            continue
        if section == b"OpenPositions":
            today.append(line)
            continue
        dated = _DATED.match(line)
        if dated:
            keep_history = dated.group(2) < last
        elif b"<Lot " not in line:  # section tags and the header go to both; a Lot follows its Trade
            history.append(_STATEMENT.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + before + m.group(5),
                                          line, count=1))
            today.append(_STATEMENT.sub(lambda m: m.group(1) + last + m.group(3) + last + m.group(5), line, count=1))
            continue
        (history if keep_history else today).append(line)
    return b"".join(history), b"".join(today)
