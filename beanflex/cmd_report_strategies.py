"""`beanflex report strategies` and `beanflex explain strategy:ID [FIELD]`: strategy groups (DESIGN §9).

Both load the ledger, read `strategies.yaml` at the workspace root (next to `ledger/`), and call one function of
beanflex.reports.strategies; a malformed strategies.yaml is an error naming its line (exit 1), an edit that
matches nothing a warning on stderr. Attached from cli.py like `report labels`.
"""

from __future__ import annotations

import click

from .cmd_report import _options, common_options, emit, load_ledger
from .workspace import Workspace

STRATEGIES_FILE = "strategies.yaml"


def _strategies(ws: Workspace, book, entries):
    from beanflex.reports import strategies as strategies_report

    try:
        found = strategies_report.load_strategies(book, entries, ws.root_dir / STRATEGIES_FILE)
    except strategies_report.StrategiesFileError as exc:
        raise click.ClickException(f"{exc} (fix the file, or move it away to use the detected groups)") from None
    if not ws.quiet:
        for warning in found.warnings:
            click.echo(f"warning: {warning}", err=True)
    return found


@click.command("strategies")
@common_options
@click.option("--underlying", metavar="SYMBOL|CONID", help="Only groups on this underlying.")
@click.option("--status", type=click.Choice(["open", "closed"]), help="Only open or only closed groups.")
@click.pass_obj
def strategies(ws: Workspace, mode, method, start, end, accounts, labels, fmt, output, underlying, status):
    """Strategy groups (spreads, rolls, wheels, stock) with their P&L: realized, unrealized, premium, income."""
    from beanflex.reports.strategies import strategies_report

    options = _options(mode, method, start, end)
    loaded = load_ledger(ws)
    found = _strategies(ws, loaded.book, loaded.entries)
    emit("strategies", strategies_report(loaded.book, options, found, accounts, labels, underlying, status), fmt,
         output)


def explain_strategy(ws: Workspace, key: str, field: str, options, fmt: str, output: str | None) -> None:
    """`explain strategy:ID FIELD`: the contributions behind one number of one group, each with its raw rows."""
    from beanflex.reports.strategies import FIELDS, explain_strategy_report

    if field not in FIELDS:
        raise click.BadParameter(f"{field!r} is not a strategy field; one of: {', '.join(FIELDS)}",
                                 param_hint="FIELD")
    loaded = load_ledger(ws)
    found = _strategies(ws, loaded.book, loaded.entries)
    try:
        report = explain_strategy_report(loaded.book, options, found, key, field, ws.ledger_dir)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    emit("explain", report, fmt, output)
