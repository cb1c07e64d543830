"""`beanflex check [--strict]`: is the ledger sound, and does the raw archive still match what beanflex knows?

Five parts, printed in this order: the ledger's errors as Beancount reports them (file:line: message), the
labels.yaml and notes/ problems (warnings: they never make the ledger unsound), the schema-drift report of every archived statement (unknown sections, attributes, values; a missing required field
is an error), the rows the mapper leaves out or flags `!` (the archive mapped in memory, as `rebuild` would, with
nothing written: the same rows `import` counts as "not mapped" and "flagged"), and the reconciliation summary.
Exit 1 on ledger errors, unreadable archive files or an archived statement that cannot be mapped (the message
names the file to move out of raw/); with --strict, exit 3 when there is drift, an unmapped or flagged row, a
labels/notes warning or a reconciliation diff and nothing worse.
"""

from __future__ import annotations

from pathlib import Path

import click
from beancount import loader

from . import ledger_errors
from .cli import EXIT_DIFF, EXIT_ERROR, pass_workspace
from .findings import MAPPING_KINDS, archive_drift, mapping_findings  # noqa: F401  (shared with the Fava page)
from .query_setup import newest_findings
from .workspace import Workspace


def format_error(error) -> str:
    """`file:line: message` for a Beancount error (relative to the current folder when below it)."""
    source = getattr(error, "source", None) or {}
    filename = source.get("filename") or "<ledger>"
    try:
        filename = str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        pass
    line = source.get("lineno")
    return f"{filename}:{line}: {error.message}" if line else f"{filename}: {error.message}"


# --- Reconciliation summary: what the reconcile plugin found, counted. --------------------------------------
def reconciliation_summary(errors: list, entries: list, options: dict) -> tuple[list, list[str], int]:
    """Split the reconcile plugin's diffs from the other ledger errors and summarise them.

    Returns (other errors, summary lines, number of diffs). The reconcile plugin reports each diff as a
    `ReconcileError`; they are findings about IBKR's figures vs ours (exit 3 under --strict), not broken
    ledger text (exit 1). Placeholder until the P&L slice adds per-instrument totals here.
    """
    diffs = [e for e in errors if ledger_errors.kind(e) == "diff"]
    others = [e for e in errors if ledger_errors.kind(e) != "diff"]
    lines = [f"reconciliation: {len(diffs)} difference(s) from IBKR's figures"]
    lines += ["  " + format_error(e) for e in diffs]
    return others, lines, len(diffs)
# -----------------------------------------------------------------------------------------------------------


@click.command("check")
@click.option("--strict", is_flag=True, help="Exit 3 when there is schema drift, an unmapped or flagged row, or a "
                                             "reconciliation diff.")
@pass_workspace
def check(ws: Workspace, strict: bool) -> None:
    """Check the ledger (Beancount errors), the raw archive (schema drift) and reconciliation with IBKR."""
    if not ws.main_file.is_file():
        raise click.ClickException(f"no ledger at {ws.main_file} (run 'beanflex init', or pass --ledger PATH)")
    entries, errors, options = loader.load_file(str(ws.main_file))
    total = len(errors)
    errors, reconcile_lines, diffs = reconciliation_summary(list(errors), entries, options)
    warnings = [e for e in errors if ledger_errors.kind(e) == "warning"]  # labels.yaml and notes: never exit 1
    errors = [e for e in errors if ledger_errors.kind(e) == "error"]
    # the same count bean-check and Fava's error page show: the ledger's own errors plus the plugins' findings
    click.echo(f"ledger: {ws.main_file}: {len(entries)} directives, {total} Beancount error(s) as bean-check and "
               f"Fava count them: {len(errors)} error(s) in the ledger, {len(warnings)} labels/notes warning(s), "
               f"{diffs} reconciliation diff(s)")
    for error in errors:
        click.echo("  " + format_error(error))
    click.echo(f"labels and notes: {len(warnings)} warning(s)")
    for warning in warnings:
        click.echo("  warning: " + format_error(warning))
    report, archive_errors, files = archive_drift(ws.ledger_dir)
    click.echo(f"raw archive: {files} file(s), {len(report.items)} drift item(s), "
               f"{len(archive_errors)} error(s)")
    for line in archive_errors:
        click.echo("  error: " + line)
    for line in report.lines():
        click.echo("  drift: " + line)
    mapped, mapping_errors = mapping_findings(ws) if not archive_errors else ([], [])
    unmapped = sum(item.count for item in mapped if item.kind == "unmapped_row")
    flagged = sum(item.count for item in mapped if item.kind == "flagged_row")
    click.echo(f"mapping: {unmapped} row(s) not mapped, {flagged} flagged '!', "
               f"{len(mapping_errors)} error(s)")
    for line in mapping_errors:
        click.echo("  error: " + line)
    for item in mapped:
        prefix = {"unmapped_row": "  not mapped: ", "flagged_row": "  flagged: "}.get(item.kind, "  drift: ")
        click.echo(prefix + item.describe())
    setup = newest_findings(ws.ledger_dir)  # the Flex Query vs docs/flex-query-setup.md
    click.echo(f"query setup: {len(setup)} finding(s)" if setup else "query setup: as the guide says")
    for line in setup:
        click.echo("  setup: " + line)
    for line in reconcile_lines:
        click.echo(line)
    if errors or archive_errors or mapping_errors:
        raise click.exceptions.Exit(EXIT_ERROR)
    if strict and (report or mapped or diffs or setup or warnings):
        click.echo("--strict: drift, unmapped or flagged rows, or differences found", err=True)
        raise click.exceptions.Exit(EXIT_DIFF)
