"""Import health: the ingestion runs (`ledger/runs.log`), their drift warnings, unmapped rows and the flagged
corporate actions still waiting for a hand fix. Read-only; used by the Fava "Import health" page.

`plugins` never imports `importers`, so runs.log is read here from its text. Its contract (written by the
importer's run log): one line per run of `key=value` fields, values with spaces or quotes JSON-quoted,
`warning=` repeated per warning, `rows.<Section>=N` per row count, e.g.

    when=2026-11-25T23:59:01Z command=fetch status=ok query_id=987654 accounts=U1234567 from=2024-01-01
    to=2024-12-31 file=raw/U1234567/2024/….xml rows.Trade=12 rows.unmapped=1 warning="unknown attribute …"

A line that does not parse is listed as such (with its line number), never fatal: this page is where a broken
log should show up. The rest comes from the loaded ledger: transactions flagged `!` (unsupported corporate
actions, docs/ledger-format.md) and `event: "unclassified"` rows (IBKR row types beanflex does not know yet).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from beancount.core import data

from beanflex.contract import archive_names
from beanflex.contract.runlog_format import LOG_NAME, parse_line


FIX_HINT = ("Copy the entry into ledger/manual.beancount, keep its flex_id, correct the postings (IBKR's "
            "corporate action notice says what really happened), mark it `*`, then run `beanflex rebuild`: "
            "the hand-edited copy wins and the flagged generated one is left out.")
UNMAPPED_HINT = ("beanflex does not know this row type yet: it is booked to Income:IBKR:<acct>:Unclassified. "
                 "Book it by hand in ledger/manual.beancount with the same flex_id, then `beanflex rebuild`.")


def parse_run_line(line: str) -> dict:
    """One runs.log line as a dict; ValueError if it has no `when`/`command`.

    `when=2026-11-25T23:59:01Z command=fetch status=ok rows.Trade=12 warning="a b"` ->
    {"when": "2026-11-25T23:59:01Z", "command": "fetch", "status": "ok", "rows": {"Trade": 12},
     "warnings": ["a b"]}.
    """
    record: dict = {"rows": {}, "warnings": []}
    for key, value in parse_line(line):
        if key == "warning":
            record["warnings"].append(value)
        elif key.startswith("rows."):
            record["rows"][key[5:]] = int(value) if str(value).lstrip("-").isdigit() else value
        else:
            record[key] = value
    if "when" not in record or "command" not in record:
        raise ValueError("no when= or command= field")
    return record


def read_runs(ledger_dir: Path) -> tuple[list[dict], list[dict]]:
    """(runs newest first, unreadable lines as {"line", "text", "error"}) from `ledger/runs.log`."""
    path = Path(ledger_dir) / LOG_NAME
    if not path.is_file():
        return [], []
    runs, bad = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            run = parse_run_line(line)
        except (ValueError, json.JSONDecodeError) as exc:
            bad.append({"line": number, "text": line[:200], "error": str(exc)})
            continue
        run["line"] = number
        run["accounts"] = [a for a in str(run.get("accounts") or "").split(",") if a]
        _period_from_file_name(run)
        runs.append(run)
    runs.sort(key=lambda r: (str(r.get("when")), r["line"]), reverse=True)
    return runs, bad


def _period_from_file_name(run: dict) -> None:
    """Fill a run's missing `from`/`to`/`query_id` from its archived file's name, which always carries them
    (`import` runs log only the file): `raw/U1/2024/20240101_20241231_987654_7d180a7a24c5.xml` -> from
    2024-01-01, to 2024-12-31, query_id 987654."""
    if all(run.get(key) for key in ("from", "to", "query_id")):
        return
    for ref in re.split(r"[,\s]+", str(run.get("file") or "")):
        name = archive_names.parse(Path(ref).name) if ref else None
        if name is not None:
            day = lambda d: d.isoformat() if d else None  # noqa: E731
            found = {"from": day(name.from_date), "to": day(name.to_date), "query_id": name.query_id}
            run.update({key: value for key, value in found.items() if not run.get(key)})
            return


def _entry_row(entry: data.Transaction) -> dict:
    meta = entry.meta or {}
    return {"date": entry.date.isoformat(), "flag": entry.flag, "description": entry.narration or "",
            "event": str(meta.get("event") or ""), "flex_id": str(meta.get("flex_id") or ""),
            "flex_src": str(meta.get("flex_src") or "").split(), "conid": str(meta.get("conid") or ""),
            "filename": meta.get("filename"), "lineno": meta.get("lineno"),
            "accounts": sorted({p.account for p in entry.postings})}


def is_unmapped(entry: data.Transaction) -> bool:
    """An `event: "unclassified"` row, or one that posts to `Income:IBKR:<acct>:Unclassified`."""
    if (entry.meta or {}).get("event") == "unclassified":
        return True
    return any(p.account.startswith("Income:IBKR:") and p.account.endswith(":Unclassified") for p in entry.postings)


def import_health(entries, ledger_dir: Path, findings: dict | None = None) -> dict:
    """The Import health page's data (plain strings, JSON-ready).

    {"runs": [...], "bad_lines": [...], "last_run": run | None, "drift": [{"when", "file", "warning"}],
     "unmapped": [entry rows], "unmapped_counts": {"<when>": n}, "flagged": [entry rows], "fix_hint",
     "unmapped_hint", "status": "ok" | "attention", "check": findings}

    `drift` are the runs' own warnings (what each import said); `check` is what `beanflex check` finds in the
    archive now (beanflex/findings.py: schema drift items, rows not mapped, rows flagged), so the page's counts
    are check's: pp01 alone has 0 drift items and 15 rows not mapped there, while its import run logged 14
    warnings about them.
    """
    runs, bad = read_runs(ledger_dir)
    drift = [{"when": run.get("when"), "command": run.get("command"), "file": run.get("file"), "warning": text}
             for run in runs for text in run["warnings"]]
    flagged, unmapped = [], []
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        if entry.flag == "!":
            flagged.append(_entry_row(entry))
        if is_unmapped(entry):
            unmapped.append(_entry_row(entry))
    last = runs[0] if runs else None
    attention = bool(flagged or unmapped or bad or (last and last.get("status") not in ("ok", "unchanged")))
    if findings:
        attention = attention or bool(findings.get("drift_count") or findings.get("not_mapped_count")
                                      or findings.get("flagged_count") or findings.get("errors"))
    return {"runs": runs, "bad_lines": bad, "last_run": last, "drift": drift, "unmapped": unmapped,
            "unmapped_counts": {str(r.get("when")): r["rows"].get("unmapped") for r in runs
                                if r["rows"].get("unmapped")},
            "flagged": flagged, "fix_hint": FIX_HINT, "unmapped_hint": UNMAPPED_HINT,
            "status": "attention" if attention else "ok", "check": findings}
