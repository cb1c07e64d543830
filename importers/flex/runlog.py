"""`ledger/runs.log`: one plain-text line per ingestion run, for people (`tail runs.log`) and for reports.

Each line is `key=value` fields; values with spaces or quotes are JSON-quoted. Repeated `warning=` fields list
the run's warnings (at most 20, then one "… and N more"); repeated `archived=` fields name every archived file an
import or rebuild read, each with its period, query id and sha256; `rows.<Name>=N` fields hold row counts.
Example (one line):

    when=2026-11-25T23:59:01Z command=fetch status=ok query_id=987654 accounts=U1234567
    from=2024-01-01 to=2024-12-31 sha256=3f2a9c0b1d4e… file=raw/U1234567/2024/….xml rows.Trade=12
    warning="unknown attribute 'fooBar' on <Trade> (3 rows)" message="archived (new)"

Lines are appended by rewriting the file atomically (`fsutil.atomic_append`), under the ledger lock. Nothing
secret goes in: callers pass messages that were already redacted (the client never puts the token in one).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

from beanflex.contract.runlog_format import LOG_NAME, format_line, parse_line

from .errors import FlexError
from .fsutil import atomic_append

MAX_WARNINGS = 20


@dataclass
class RunRecord:
    """One run: what ran, on what, with what result. `status` is ok | error | drift | unchanged."""

    command: str
    status: str
    when: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))
    query_id: str | None = None
    accounts: tuple[str, ...] = ()
    from_date: datetime.date | None = None
    to_date: datetime.date | None = None
    sha256: str | None = None
    file: str | None = None  # archived file, relative to ledger/
    rows: dict[str, int] = field(default_factory=dict)  # e.g. {"Trade": 12, "unmapped": 0}
    warnings: list[str] = field(default_factory=list)
    message: str | None = None
    archived: list[str] = field(default_factory=list)  # archived_line() of each file read (import, rebuild)

    def to_line(self) -> str:
        when = self.when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        pairs: list[tuple[str, str | None]] = [
            ("when", when), ("command", self.command), ("status", self.status), ("query_id", self.query_id),
            ("accounts", ",".join(self.accounts) or None),
            ("from", self.from_date.isoformat() if self.from_date else None),
            ("to", self.to_date.isoformat() if self.to_date else None),
            ("sha256", self.sha256), ("file", self.file)]
        pairs += [(f"rows.{name}", str(count)) for name, count in self.rows.items()]
        pairs += [("archived", text) for text in self.archived]
        pairs += [("warning", text) for text in self.warnings]
        pairs.append(("message", self.message))
        return format_line(pairs)

    @classmethod
    def from_line(cls, line: str) -> "RunRecord":
        values: dict[str, str] = {}
        rows: dict[str, int] = {}
        warnings: list[str] = []
        archived: list[str] = []
        for key, value in parse_line(line):
            if key == "warning":
                warnings.append(value)
            elif key == "archived":
                archived.append(value)
            elif key.startswith("rows."):
                rows[key[5:]] = int(value)
            else:
                values[key] = value
        if "when" not in values or "command" not in values:
            raise ValueError("not a run record")
        day = lambda k: datetime.date.fromisoformat(values[k]) if values.get(k) else None  # noqa: E731
        return cls(command=values["command"], status=values.get("status", ""),
                   when=datetime.datetime.strptime(values["when"], "%Y-%m-%dT%H:%M:%SZ").replace(
                       tzinfo=datetime.timezone.utc),
                   query_id=values.get("query_id"), accounts=tuple(filter(None, values.get("accounts", "").split(","))),
                   from_date=day("from"), to_date=day("to"), sha256=values.get("sha256"), file=values.get("file"),
                   rows=rows, warnings=warnings, message=values.get("message"), archived=archived)


def capped(warnings: list[str], limit: int = MAX_WARNINGS) -> list[str]:
    """The first `limit` warnings, then one line saying how many more there were (the log stays one line)."""
    if len(warnings) <= limit:
        return list(warnings)
    return [*warnings[:limit], f"… and {len(warnings) - limit} more (see 'beanflex check')"]


def archived_line(relpath: str, from_date, to_date, query_id: str | None, sha256: str | None) -> str:
    """One archived file for an `archived=` field, e.g.
    `raw/U1/2024/20240101_20241231_987654_3f2a9c0b1d4e.xml from=2024-01-01 to=2024-12-31 query_id=987654
    sha256=3f2a9c0b1d4e…` (the full 64 hex digits)."""
    return f"{relpath} from={from_date or '-'} to={to_date or '-'} query_id={query_id or '-'} sha256={sha256 or '-'}"


def record_run(ledger_dir: Path, record: RunRecord) -> Path:
    """Append one record to `ledger/runs.log` (call under the ledger lock); returns the log's path."""
    path = Path(ledger_dir) / LOG_NAME
    atomic_append(path, record.to_line())
    return path


def read_runs(ledger_dir: Path) -> list[RunRecord]:
    """Every record in `ledger/runs.log`, oldest first; a line that is not a record is an error naming it."""
    path = Path(ledger_dir) / LOG_NAME
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            records.append(RunRecord.from_line(line))
        except (ValueError, json.JSONDecodeError) as exc:
            raise FlexError(f"not a run record: {exc}", file=str(path), line=number,
                            hint="runs.log is written by beanflex; fix or remove that line") from None
    return records
