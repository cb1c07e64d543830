"""Composition-root helpers behind `beanflex import` and `beanflex rebuild` (and `sync`).

`rebuild` turns the whole raw archive into `ledger/generated/` (a pure function of the archive, the settings and
the hand-edited files, DESIGN §1); `import_files` maps the archive plus the new payloads in memory first and
archives them only when that worked, then writes. Both run under the ledger lock and record the run in `runs.log`
(failures too). A schema drift error (a required section or attribute missing) or a row that cannot be mapped
(`quantity="1O"`) stops the run before anything under `generated/` changes; a file given to `import` is then not
archived, and a file already in `raw/` is named in the error with what to do (it would stop every later run).
"""

from __future__ import annotations

import dataclasses
import datetime
import glob
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from beancount.core import data
from beancount.parser import parser

from beanflex.contract.gcpause import paused_gc
from beanflex.importers.flex import adapter, archive, incremental, runlog, schema, writer
from beanflex.importers.flex.context import ImportConfig
from beanflex.importers.flex.drift import DriftReport
from beanflex.importers.flex.errors import FlexError
from beanflex.importers.flex.fsutil import ledger_lock
from beanflex.importers.flex.mapper import BuildResult, build_ledger

from . import cached_mapping
from .progress import report as report_progress
from .workspace import Workspace


@dataclass
class Summary:
    """What one import/rebuild did, for the CLI's few lines and for tests."""

    archived: list[tuple[str, bool]] = field(default_factory=list)  # (relpath, newly stored)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    build: BuildResult | None = None
    drift: DriftReport = field(default_factory=DriftReport)
    statements: int = 0  # archived statements the ledger was built from (after this run)
    new_rows: int = 0  # rows in the statements this run archived
    mapping: str = ""  # one line: mapped on top of the mapping cache, or all again and why (cached_mapping.py)

    def lines(self) -> list[str]:
        """E.g. "this run: 1 new statement, 912 rows" then the archive's totals, so a file that was already
        archived reads "this run: nothing new (1 file already archived)" instead of its rows as if new."""
        out = [f"archived {path}" + ("" if new else " (already archived)") for path, new in self.archived]
        fresh = sum(1 for _, new in self.archived if new)
        known = len(self.archived) - fresh
        if self.archived:
            run = f"{fresh} new statement file(s), {self.new_rows:,} rows" if fresh else "nothing new"
            out.append(f"this run: {run}" + (f" ({known} file(s) already archived)" if known else ""))
        out.append(f"generated: {len(self.written)} written, {len(self.unchanged)} unchanged, "
                   f"{len(self.removed)} removed")
        if self.build is not None:
            total = self.build.total()
            out.append(f"archive: {self.statements} statement file(s), {total.read:,} rows read, {total.mapped:,} "
                       f"mapped ({total.duplicates:,} repeated in overlapping statements), {total.flagged} flagged "
                       f"'!', {total.unmapped} not mapped (see 'beanflex check')")
            if self.build.overridden:
                out.append(f"hand-edited entries kept instead of generated ones: {len(self.build.overridden)}")
        return out


def hand_edited_entries(ws: Workspace) -> list:
    """Entries of the hand-edited files: main.beancount, manual.beancount and every include outside generated/."""
    return [entry for _path, entries in _hand_edited(ws) for entry in entries]


def hand_edited_files(ws: Workspace) -> list[Path]:
    """The hand-edited ledger files (resolved): main.beancount, manual.beancount, their includes outside generated/."""
    return [path for path, _entries in _hand_edited(ws)]


def _hand_edited(ws: Workspace) -> list[tuple[Path, list]]:
    generated = ws.generated_dir.resolve()
    # query.beancount (main.beancount + the pnl_meta plugin for bean-query, written by init) is the user's too
    todo = [ws.main_file, ws.manual_file, ws.ledger_dir / "query.beancount"]
    done: set[Path] = set()
    found: list[tuple[Path, list]] = []
    while todo:
        path = Path(todo.pop()).resolve()
        if path in done or not path.is_file() or generated in path.parents:
            continue
        done.add(path)
        entries, _errors, options = parser.parse_file(str(path))
        found.append((path, entries))
        for pattern in options.get("include", []):
            full = pattern if Path(pattern).is_absolute() else str(path.parent / pattern)
            todo.extend(glob.glob(full, recursive=True))
    return found


def manual_flex_ids(ws: Workspace) -> set[str]:
    """flex_ids carried by hand-edited files: a generated entry with one of them is left out (DESIGN §2)."""
    return {entry.meta["flex_id"] for entry in hand_edited_entries(ws)
            if isinstance((entry.meta or {}).get("flex_id"), str)}


def import_config(ws: Workspace) -> ImportConfig:
    """Mapping settings from the hand-edited ledger, so `rebuild` stays a function of the ledger's own files.

    E.g. in main.beancount: `2000-01-01 custom "beanflex-config" "transfers_account" "Assets:Bank:Checking"`
    books deposits and withdrawals against your bank account instead of Equity:IBKR:<acct>:Transfers (open that
    account yourself). Unknown keys are an error naming the file and line.
    """
    config = ImportConfig()
    for entry in hand_edited_entries(ws):
        if not (isinstance(entry, data.Custom) and entry.type == "beanflex-config"):
            continue
        values = [v.value for v in entry.values]
        if len(values) != 2 or values[0] not in ("transfers_account",):
            raise FlexError(f'custom "beanflex-config" takes a key and a value, got {values!r}',
                            file=entry.meta.get("filename"), line=entry.meta.get("lineno"),
                            hint='the known key is "transfers_account"')
        config.transfers_account = str(values[1])
    return config


def _schema_check(statement, source: str, drift: DriftReport) -> None:
    """The required-attribute check of every section (raises SchemaDriftError); unknown names go to `drift`."""
    report = schema.check_statement(statement, source)
    if report:
        drift.extend(report)


#: sha256 of a payload -> (its document, its schema drift), both naming the file as the user gave it.
Parsed = dict[str, tuple[adapter.FlexDocument, DriftReport]]


@dataclass
class Pending:
    """A payload given to `import` that is not archived yet: where it will be archived, and the user's name for it."""

    item: archive.ArchivedFile  # its future place in raw/ (item.path does not exist yet)
    source: str  # the path the user gave, for messages; its bytes are copied from there, not held (peak memory)
    document: adapter.FlexDocument


def _archive_order(item: archive.ArchivedFile) -> tuple:
    """archive.list_archive's order, so a payload mapped before it is stored sits where it will sit afterwards."""
    return (item.from_date or datetime.date.min, item.to_date or datetime.date.min, item.relpath)


def load_archive(ledger_dir: Path, drift: DriftReport, parsed: Parsed | None = None,
                 pending: list[Pending] | tuple = (), progress=None, only: set[str] | None = None,
                 drift_by_file: dict[str, DriftReport] | None = None) -> list[tuple[str, adapter.FlexDocument]]:
    """Every archived payload (plus `pending` ones, at their future place), parsed and schema-checked.

    Raises before anything is written. `parsed` holds payloads `import_files` has just parsed and checked: a file
    whose bytes hash to one of them is not parsed and checked again (on a 10k-trade statement that was 2.2 s of a
    7 s import); its rows and drift are re-labelled with the archived relpath, so messages and `flex_src` read
    exactly as if it had been parsed here. `only` (relpaths) reads just those files (the others are in the
    mapping cache); `drift_by_file` receives each file's own schema drift.
    """
    items = archive_items(ledger_dir, pending)
    if only is not None:
        items = [item for item in items if item.relpath in only]
    planned = {p.item.relpath for p in pending}
    documents = []
    rows = 0
    for number, item in enumerate(items, start=1):
        report_progress(progress, "reading statements", number - 1, len(items), rows, item.relpath)
        payload = None if item.relpath in planned else item.path.read_bytes()
        sha = item.sha256 if payload is None else hashlib.sha256(payload).hexdigest()
        known = parsed.pop(sha, None) if parsed else None  # pop: free it early
        file_drift = DriftReport()
        if known is not None:
            document = _relabelled(known[0], item.relpath)
            file_drift.extend(_relabelled_drift(known[1], item.relpath))
        else:
            document = adapter.parse(payload, source=item.relpath)
            for statement in document.statements:
                _schema_check(statement, item.relpath, file_drift)
        drift.extend(file_drift)
        if drift_by_file is not None:
            drift_by_file[item.relpath] = file_drift
        documents.append((item.relpath, document))
        rows += _rows(document)
    report_progress(progress, "reading statements", len(items), len(items), rows)
    return documents


def archive_items(ledger_dir: Path, pending: list[Pending] | tuple = ()) -> list[archive.ArchivedFile]:
    """The archived files plus `pending` ones, in archive order."""
    items = archive.list_archive(ledger_dir)
    if pending:
        items = sorted([*items, *(p.item for p in pending)], key=_archive_order)
    return items


def _rows(document: adapter.FlexDocument) -> int:
    return sum(len(statement.records) for statement in document.statements)


def build_from_archive(ws: Workspace, config: ImportConfig | None = None,
                       drift: DriftReport | None = None) -> BuildResult:
    """The ledger `rebuild` would write, built in memory only (`beanflex check` shows its unmapped/flagged rows).

    Raises the same errors as `rebuild`, each naming the archived file that causes it and what to do.
    """
    try:
        documents = load_archive(ws.ledger_dir, drift if drift is not None else DriftReport())
        return build_ledger(documents, config or import_config(ws), manual_flex_ids(ws))
    except FlexError as exc:
        raise explained_error(exc, ws.ledger_dir, ()) from None


def explained_error(exc: Exception, ledger_dir: Path, pending=()) -> Exception:
    """Add to a mapping or schema error what the user has to do about the file it names.

    A payload given to `import` is not archived when it fails, so the error names the user's file. An archived
    payload is read by every import, rebuild and sync, so one that fails stops them all until it leaves `raw/`:
    the error says so and names it.
    """
    if not isinstance(exc, FlexError) or not exc.file:
        return exc
    for p in pending:
        if exc.file == p.item.relpath:
            exc.file = p.source
            exc.hint = _joined(exc.hint, "nothing was archived and ledger/generated/ is unchanged; fix the Flex "
                                         "Query (or the file) and import it again")
            return exc
    if Path(exc.file).parts[:1] == ("raw",) and (Path(ledger_dir) / exc.file).is_file():
        where = Path(ledger_dir) / exc.file
        exc.hint = _joined(exc.hint, "this archived statement stops every import, rebuild and sync: fix the Flex "
                                     f"Query, then move {where} out of raw/ (keep it elsewhere) and run the "
                                     "command again")
    return exc


def _joined(hint: str | None, more: str) -> str:
    return f"{hint}; {more}" if hint else more


def _relabelled(document: adapter.FlexDocument, source: str) -> adapter.FlexDocument:
    """The same document with every row naming `source` (the attribute dicts are shared, not copied)."""
    statements = []
    for statement in document.statements:
        records = [adapter.FlexRecord(r.section, r.tag, r.account, r.line, r.attrs, source)
                   for r in statement.records]
        statements.append(dataclasses.replace(statement, records=records, sections=dict(statement.sections)))
    return dataclasses.replace(document, statements=statements, source=source)


def _header(document: adapter.FlexDocument) -> adapter.FlexDocument:
    """The document without its rows: accounts, dates and query name, all that naming its archive file needs."""
    return dataclasses.replace(document, statements=[dataclasses.replace(s, records=[], sections={})
                                                     for s in document.statements])


def _relabelled_drift(report: DriftReport, source: str) -> DriftReport:
    copy = DriftReport()
    copy.extend(report)
    for item in copy.items:
        item.file = source
    return copy


def rebuild_locked(ws: Workspace, config: ImportConfig, summary: Summary, command: str,
                   parsed: Parsed | None = None, pending: list[Pending] | tuple = ()) -> Summary:
    """The rebuild itself, for callers that already hold the ledger lock (`rebuild`, `import_files`, `sync`).

    `pending` payloads are mapped together with the archive and stored only once the whole ledger was built.
    """
    record = runlog.RunRecord(command=command, status="error")
    progress = ws.progress
    try:
        with paused_gc():
            summary.new_rows = sum(_rows(p.document) for p in pending)
            for p in pending:  # archiving needs only its header: its rows are in `parsed`, mapped below
                p.document = _header(p.document)
            mapped = cached_mapping.map_archive(ws, config, summary.drift, parsed, pending, progress,
                                                use_cache=command != "rebuild")
            summary.statements, summary.mapping, result = mapped.statements, mapped.note, mapped.result
            report_progress(progress, mapped.note)
            report_progress(progress, "writing ledger/generated")
            for p in pending:
                stored = archive.store_file(Path(p.source), p.item.sha256, ws.ledger_dir, source=p.source,
                                            document=p.document)
                if stored.relpath != p.item.relpath:  # flex_src would cite the wrong file: never write that
                    raise FlexError(f"archived as {stored.relpath}, mapped as {p.item.relpath}", file=p.source,
                                    hint="a beanflex bug: report it; ledger/generated/ is unchanged")
                summary.archived.append((stored.relpath, stored.is_new))
            new = {p.item.relpath for p in pending} | {relpath for relpath, is_new in summary.archived if is_new}
            keep = incremental.kept_files(ws.ledger_dir, result.files, new) if command != "rebuild" else set()
            report = writer.write_generated(ws.ledger_dir, result.files, base_currencies=result.base_currencies,
                                            keep=keep)
            if command != "import":  # the nightly path keeps it; an import's memory would grow by half to write it
                cached_mapping.save_cache(ws.ledger_dir, mapped)
    except Exception as exc:
        exc = explained_error(exc, ws.ledger_dir, pending)
        record.message = str(exc)[:1000]
        runlog.record_run(ws.ledger_dir, record)
        raise exc from None
    finally:
        if progress is not None:
            progress.finish()
    summary.build = result
    summary.drift.extend(result.drift)
    summary.written, summary.unchanged, summary.removed = report["written"], report["unchanged"], report["removed"]
    total = result.total()
    record.status = "drift" if total.unmapped else ("ok" if summary.written or summary.removed else "unchanged")
    record.accounts = tuple(sorted({p.split("/")[1] for p in result.files}))
    record.rows = total.as_dict()
    record.warnings = runlog.capped(summary.drift.lines())
    record.message = f"{len(summary.written)} written, {len(summary.removed)} removed; {summary.mapping}"
    new = {relpath for relpath, is_new in summary.archived if is_new}
    record.archived = [runlog.archived_line(a.relpath, a.from_date, a.to_date, a.query_id, a.sha256)
                       + (" new" if a.relpath in new else "") for a in archive.list_archive(ws.ledger_dir)]
    if summary.archived:
        record.file = summary.archived[-1][0]
    runlog.record_run(ws.ledger_dir, record)
    return summary


def rebuild(ws: Workspace, config: ImportConfig | None = None) -> Summary:
    """Regenerate all of `ledger/generated/` from the raw archive, under the ledger lock."""
    with ledger_lock(ws.ledger_dir):
        return rebuild_locked(ws, config or import_config(ws), Summary(), "rebuild")


def import_files(ws: Workspace, paths: list[Path], config: ImportConfig | None = None) -> Summary:
    """Map the archive plus the given files; archive the new ones and write only when all of it mapped.

    A file that is not a statement, lacks a required field or has a row that cannot be mapped stops the import
    with nothing archived or written, and a `status=error` record in runs.log.
    """
    summary = Summary()
    with ledger_lock(ws.ledger_dir):
        parsed: Parsed = {}
        try:
            with paused_gc():
                payloads = _read_payloads(paths, parsed, ws.progress)
        except Exception as exc:
            runlog.record_run(ws.ledger_dir, runlog.RunRecord(command="import", status="error",
                                                              message=str(exc)[:1000]))
            raise
        pending = _pending(ws.ledger_dir, payloads, summary)
        del payloads
        return rebuild_locked(ws, config or import_config(ws), summary, "import", parsed, pending)


def _read_payloads(paths: list[Path], parsed: Parsed, progress=None) -> list[tuple[Path, bytes, adapter.FlexDocument]]:
    """Parse and schema-check every file before archiving any (a non-statement stops the import here)."""
    payloads = []
    for number, path in enumerate(paths, start=1):
        report_progress(progress, "reading files", number, len(paths), detail=Path(path).name)
        payload = Path(path).read_bytes()
        document = adapter.parse(payload, source=str(path))
        drift = DriftReport()
        for statement in document.statements:
            _schema_check(statement, str(path), drift)
        payloads.append((path, payload, document))
        parsed[hashlib.sha256(payload).hexdigest()] = (document, drift)
    return payloads


def _pending(ledger_dir: Path, payloads: list, summary: Summary) -> list[Pending]:
    """The payloads not archived yet, each with its future archive entry; already archived ones go in `summary`."""
    archived = {a.sha256: a for a in archive.list_archive(ledger_dir)}
    pending: dict[str, Pending] = {}
    for path, payload, document in payloads:
        sha = hashlib.sha256(payload).hexdigest()
        if sha in archived:
            summary.archived.append((archived[sha].relpath, False))
        elif sha not in pending:
            pending[sha] = Pending(archive.planned(document, sha, ledger_dir), str(path), document)
    return list(pending.values())
