"""`beanflex report labels`: P&L per label (DESIGN §6 `report labels`), in table, json, csv or xlsx.

Same options as the other `report` subcommands (`cmd_report.common_options`); `--label L` keeps only the label
L's group (membership does not change). Attach it from cli.py (`report.add_command(labels)`): this module
imports cmd_report, so cmd_report must not import it back at load time.

The ledger is loaded as for every report (reports/ledger.py), labels.yaml is the file the ledger's labels plugin
line names (else `<repo>/labels.yaml`), and reports/labels.py groups the pnl rows. A past day (`--to DAY`, the
default view) is read from the daily P&L snapshot instead when it is fresh (`beanflex snapshot`, cmd_snapshot.py):
the same report without loading the ledger. Problems in labels.yaml are
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

    from .cmd_snapshot import answer

    options = _options(mode, method, start, end)
    found = answer(ws, options, tuple(accounts))
    if found is not None:  # a past day from the daily snapshot: no ledger load, the same report
        pnl, config, errors, path, instruments = (found.pnl, found.config, found.errors, found.labels_path,
                                                  found.instruments)
    else:
        loaded = load_ledger(ws)
        config, errors, path = loaded.labels(ws.labels_file)
        pnl = reports.pnl_report(loaded.book, options, accounts=tuple(accounts), tolerance=loaded.tolerance,
                                 entries=loaded.entries)
        instruments = loaded.instruments
    unknown = [name for name in only if config.get(name) is None]
    if unknown:
        raise click.UsageError(f"no label {', '.join(unknown)} in {path}")
    report = labels_report(pnl, config, instruments=instruments, only=only, warnings=errors)
    for error in errors:  # labels.yaml's own problems, then members that match nothing
        click.echo(f"warning: {error.source['filename']}:{error.source['lineno']}: {error.message}", err=True)
    return report
