"""The line format of `ledger/runs.log`: the importer writes it, the Import health report reads it.

One run per line, `key=value` fields; a value with spaces or quotes is JSON-quoted; a key may repeat
(`warning=`, `archived=`); `rows.<Section>=N` holds row counts. Example:

    when=2026-11-25T23:59:01Z command=fetch status=ok rows.Trade=12 warning="unknown attribute 'x' on <Trade>"
"""

from __future__ import annotations

import json
import re

LOG_NAME = "runs.log"
_FIELD = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')
_PLAIN = re.compile(r"^[\w.:/+,@-]*$")


def format_line(pairs: list[tuple[str, str | None]]) -> str:
    """(key, value) pairs -> one line with its newline; a None value is left out."""
    return " ".join(f"{key}={_quote(value)}" for key, value in pairs if value is not None) + "\n"


def parse_line(line: str) -> list[tuple[str, str]]:
    """One line -> its (key, value) pairs in order, quoted values decoded; json.JSONDecodeError if one is broken.

    `command=fetch warning="a b"` -> [("command", "fetch"), ("warning", "a b")].
    """
    return [(key, json.loads(raw) if raw.startswith('"') else raw) for key, raw in _FIELD.findall(line)]


def _quote(value: str) -> str:
    return value if value and _PLAIN.match(value) else json.dumps(value, ensure_ascii=False)
