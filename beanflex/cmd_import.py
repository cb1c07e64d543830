"""`beanflex import FILE…` (archive, then regenerate) and `beanflex rebuild` (regenerate from the archive).

Both print a short summary with row counts: read, mapped, flagged `!`, not mapped. Exit codes (DESIGN §5): 0 ok,
1 error (not a statement, schema drift, locked ledger: the message says what and where), 2 usage.
"""

from __future__ import annotations

from pathlib import Path

import click

from .cli import pass_workspace
from .workspace import Workspace


def _require_ledger(ws: Workspace) -> None:
    if not ws.main_file.is_file():
        raise click.ClickException(f"no ledger at {ws.main_file} (run 'beanflex init' first, or pass "
                                   "--ledger PATH/main.beancount)")


def _echo(ws: Workspace, summary) -> None:
    if ws.quiet:
        return
    for line in summary.lines():
        click.echo(line)
    if ws.verbose:
        for path, counts in sorted(summary.build.counts.items()) if summary.build else []:
            click.echo(f"  {path}: {counts.read} read, {counts.mapped} mapped, {counts.flagged} flagged, "
                       f"{counts.unmapped} not mapped")
        for line in summary.drift.lines():
            click.echo(f"  drift: {line}")


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_workspace
def import_(ws: Workspace, files: tuple[Path, ...]) -> None:
    """Archive the given Flex XML FILES (if new), then regenerate ledger/generated/."""
    from .ingest import import_files

    _require_ledger(ws)
    _echo(ws, import_files(_with_progress(ws, "import"), list(files)))


@click.command("rebuild")
@pass_workspace
def rebuild(ws: Workspace) -> None:
    """Regenerate all of ledger/generated/ from the raw archive (byte-identical when nothing changed)."""
    from .ingest import rebuild as run_rebuild

    _require_ledger(ws)
    _echo(ws, run_rebuild(_with_progress(ws, "rebuild")))


def _with_progress(ws: Workspace, command: str) -> Workspace:
    """The workspace with a status line on the terminal (none under cron, in a pipe or with -q)."""
    import dataclasses

    from .progress import for_terminal

    return dataclasses.replace(ws, progress=for_terminal(command, ws.quiet))
