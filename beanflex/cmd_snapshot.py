"""`beanflex snapshot`: write the daily P&L snapshot (reports/pnl_snapshot.py) that `report labels --to DAY` reads.

The snapshot is derived data under `ledger/cache/` (gitignored): any run may delete it, and the next
`beanflex snapshot` writes it again from the ledger. scripts/beanflex-cron runs it after a successful sync, so a
past day's P&L by label is a lookup the next morning. `report labels --to DAY` answers from it while every file
the ledger load read is unchanged; otherwise it computes from the ledger as before and says the snapshot is stale.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from .cli import pass_workspace
from .workspace import Workspace


def snapshot_file(ws: Workspace) -> Path:
    return ws.ledger_dir / "cache" / "pnl-snapshot.sqlite"


@click.command("snapshot")
@pass_workspace
def snapshot(ws: Workspace) -> None:
    """Write the daily P&L snapshot (ledger/cache/pnl-snapshot.sqlite) for past-date queries."""
    from beanflex.reports.pnl_snapshot import write_snapshot

    from .cmd_report import load_ledger
    from .ledger_load import summary_lines

    started = time.process_time()
    loaded = load_ledger(ws)
    count, days = write_snapshot(snapshot_file(ws), loaded, ws.labels_file,
                                 summary_lines(loaded.errors, ws.ledger_dir.parent))
    if not ws.quiet:
        click.echo(f"snapshot: {count} rows over {days} days, {len(loaded.book.instruments)} instruments -> "
                   f"{snapshot_file(ws)} ({time.process_time() - started:.1f} s CPU)")


def answer(ws: Workspace, options, accounts=()):
    """The snapshot's Answer for a `report labels` with these options, or None (a stale snapshot said on stderr).
    The ledger's error lines of the load it was built from are said again, and `--strict` still exits 3 on them."""
    from beanflex.reports.pnl_snapshot import answer as snapshot_answer

    from .cli import DiffFound

    found, stale = snapshot_answer(snapshot_file(ws), options, accounts)
    if stale:
        click.echo(f"note: the P&L snapshot is stale ({stale}): computed from the ledger; 'beanflex snapshot' "
                   f"refreshes it", err=True)
    if found is not None:
        for line in found.ledger_errors:
            click.echo(line, err=True)
        if found.ledger_errors and ws.strict:
            raise DiffFound("--strict: the ledger has Beancount error(s) (listed above)")
    return found
