"""Map the archive for import and sync, reading and mapping only the statements the mapping cache lacks.

A nightly sync used to parse and map years of statements to add one day (at 10k trades, 2.5 CPU seconds of
a 13 s run). With a valid cache (importers/flex/map_cache.py) only the new statements are parsed, and
map_resume.py maps them on top of the kept state, when it can prove the result equals a full mapping; else the
cached files are parsed too and everything is mapped again. Either way the run says which in one line
(`Mapped.note`, in the progress output and runs.log). `rebuild` never reads the cache, and writes a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beanflex.importers.flex import archive, map_cache, map_resume
from beanflex.importers.flex.drift import DriftReport
from beanflex.importers.flex.mapper import BuildResult, build_ledger

from .progress import report as report_progress


@dataclass
class Mapped:
    result: BuildResult
    statements: int  # archived files the ledger is built from
    note: str  # one line: resumed from the cache, or why everything was mapped again
    cache_key: str
    schema_drift: dict[str, DriftReport]  # relpath -> its schema drift, for the next cache


def map_archive(ws, config, drift: DriftReport, parsed=None, pending=(), progress=None,
                use_cache: bool = True) -> Mapped:
    """The BuildResult of the whole archive (plus `pending`), its schema drift added to `drift` in archive order."""
    from . import ingest

    items = ingest.archive_items(ws.ledger_dir, pending)
    manual = ingest.manual_flex_ids(ws)
    cache_key = map_cache.key(config, manual)
    cached, why = map_cache.load(ws.ledger_dir, items, cache_key) if use_cache else (None, "rebuild")
    covered = {c.relpath for c in cached.covered} if cached is not None else set()
    per_file: dict[str, DriftReport] = dict(cached.schema_drift) if cached is not None else {}
    fresh = {item.relpath for item in items} - covered
    documents = ingest.load_archive(ws.ledger_dir, DriftReport(), parsed, pending, progress, only=fresh,
                                    drift_by_file=per_file)
    result = None
    if cached is not None:
        report_progress(progress, "mapping new statements", rows=sum(ingest._rows(d) for _, d in documents))
        try:
            result = map_resume.resume(cached.state, documents, config, manual)
            note = f"mapped {len(documents)} new statement file(s) on top of the mapping cache ({len(covered)} cached)"
        except map_resume.NotResumable as exc:
            why = str(exc)
        del cached
    if result is None:
        if covered:
            documents += ingest.load_archive(ws.ledger_dir, DriftReport(), None, (), progress, only=covered,
                                             drift_by_file=per_file)
        report_progress(progress, "mapping rows to directives", rows=sum(ingest._rows(d) for _, d in documents))
        result = build_ledger(documents, config, manual, keep_state=True)
        note = f"mapped all {len(items)} statement file(s) ({why})"
    del documents
    for item in items:
        drift.extend(per_file[item.relpath])
    return Mapped(result, len(items), note, cache_key, {item.relpath: per_file[item.relpath] for item in items})


def save_cache(ledger_dir: Path, mapped: Mapped) -> None:
    """Keep the state for the next run, once generated/ is written; a file missing from raw/ now keeps none."""
    state = mapped.result.state
    if state is None:
        return
    by_path = {item.relpath: item for item in archive.list_archive(ledger_dir)}
    if set(by_path) != set(mapped.schema_drift):
        map_cache.remove(ledger_dir)
        return
    covered = [map_cache.Covered.of(by_path[relpath]) for relpath in mapped.schema_drift]
    map_cache.save(ledger_dir, mapped.cache_key, map_cache.Cached(covered, mapped.schema_drift, state))
    mapped.result.state = None  # the result lives on in the Summary: not the state's objects too
