"""`beanflex report labels`: P&L per label (DESIGN §6 `report labels`), in table, json, csv or xlsx.

Same options as the other `report` subcommands (`cmd_report.common_options`); `--label L` keeps only the label
L's group (membership does not change). Attach it from cli.py (`report.add_command(labels)`): this module
imports cmd_report, so cmd_report must not import it back at load time.

The ledger is loaded as for every report (reports/ledger.py), labels.yaml is the file the ledger's labels plugin
line names (else `<repo>/labels.yaml`), and reports/labels.py groups the pnl rows. Problems in labels.yaml are
printed as warnings (file:line: message) and the valid labels are still reported; `beanflex check` shows them as
errors.
"""

from __future__ import annotations

import click

from .cmd_report import _options, check_usage, common_options, emit, load_ledger
from .workspace import Workspace


@click.command("labels")
@common_options
@click.pass_obj
def labels(ws: Workspace, mode, method, start, end, accounts, labels, fmt, output) -> None:
    """P&L per label: each label's members, weighted totals in base currency, and the unlabelled rest."""
    check_usage(mode, start, end)
    emit("labels", build_report(ws, mode, method, start, end, only=labels, accounts=accounts), fmt, output)


def build_report(ws: Workspace, mode: str, method: str, start, end, only=(), accounts=()) -> dict:
    """Load the ledger and return the `report labels` dict; labels.yaml problems go to stderr as warnings."""
    from beanflex.reports import reports
    from beanflex.reports.labels import labels_report

    loaded = load_ledger(ws)
    config, errors, path = loaded.labels(ws.labels_file)
    unknown = [name for name in only if config.get(name) is None]
    if unknown:
        raise click.UsageError(f"no label {', '.join(unknown)} in {path}")
    pnl = reports.pnl_report(loaded.book, _options(mode, method, start, end), accounts=tuple(accounts),
                             tolerance=loaded.tolerance, entries=loaded.entries)
    report = labels_report(pnl, config, instruments=loaded.instruments, only=only, warnings=errors)
    for error in errors:  # labels.yaml's own problems, then members that match nothing
        click.echo(f"warning: {error.source['filename']}:{error.source['lineno']}: {error.message}", err=True)
    return report
