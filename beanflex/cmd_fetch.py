"""`beanflex fetch`: Flex Web Service -> raw archive, under the ledger lock, recorded in runs.log.

The Flex Query's own period decides the dates. Prints the archived file's path on stdout (one line, for scripts);
says whether it was new on stderr. Progress lines appear only on a terminal, so cron stays quiet.
"""

from __future__ import annotations

from collections import Counter

import click

from beanflex.importers.flex import archive, runlog, schema
from beanflex.importers.flex.adapter import FlexDocument, parse
from beanflex.importers.flex.client import FlexSettings, fetch_statement, redact, tty_progress
from beanflex.importers.flex.errors import FlexError
from beanflex.importers.flex.fsutil import ledger_lock

from .cli import pass_workspace
from .workspace import Workspace


@click.command("fetch")
@pass_workspace
def fetch(ws: Workspace) -> None:
    """Download the Flex Query's statement from IBKR into the raw archive and print its path."""
    if not ws.ledger_dir.is_dir():
        raise click.ClickException(f"no ledger folder at {ws.ledger_dir} (run 'beanflex init' first, or pass "
                                   "--ledger PATH/main.beancount)")
    token = None
    try:
        settings = FlexSettings.from_env()
        token = settings.token
        with ledger_lock(ws.ledger_dir):
            archived = fetch_and_archive(ws, settings)
    except FlexError as exc:
        raise click.ClickException(redact(str(exc), token)) from None
    except Exception as exc:  # anything unforeseen: still never show the token
        raise click.ClickException(f"fetch failed: {type(exc).__name__}: {redact(str(exc), token)}") from None
    if not ws.quiet:
        click.echo(f"{'archived' if archived.is_new else 'already archived, not stored again'}: "
                   f"{', '.join(archived.accounts)} {archived.from_date} to {archived.to_date}", err=True)
    click.echo(str(archived.path))


def fetch_and_archive(ws: Workspace, settings: FlexSettings) -> archive.ArchivedFile:
    """Fetch, archive and record the run (ok or error); the caller holds the ledger lock. `sync` reuses this."""
    record = runlog.RunRecord(command="fetch", status="error", query_id=settings.query_id)
    try:
        payload = fetch_statement(settings, progress=None if ws.quiet else tty_progress())
        archived = archive.store(payload, ws.ledger_dir, settings.query_id, source="GetStatement reply")
    except FlexError as exc:
        record.message = redact(str(exc), settings.token)
        runlog.record_run(ws.ledger_dir, record)
        raise
    document = parse(archived.path.read_bytes(), source=archived.relpath)
    record.status = "ok" if archived.is_new else "unchanged"
    record.accounts, record.from_date, record.to_date = archived.accounts, archived.from_date, archived.to_date
    record.sha256, record.file = archived.sha256, archived.relpath
    record.rows = dict(sorted(Counter(r.tag for s in document.statements for r in s.records).items()))
    record.warnings = _drift_warnings(document)
    record.message = "archived" if archived.is_new else "same content already archived"
    runlog.record_run(ws.ledger_dir, record)
    return archived


def _drift_warnings(document: FlexDocument) -> list[str]:
    """The schema-drift report of a fetched payload, as run-record warnings (a missing required field stops
    `import` later; here the payload is already archived, as IBKR sent it, and the warning says why)."""
    warnings: list[str] = []
    for statement in document.statements:
        try:
            warnings += schema.check_statement(statement, document.source).lines()
        except FlexError as exc:  # required field missing: `import` will stop on it; note it now
            warnings.append(str(exc))
    return warnings
