"""`beanflex report pnl|positions|reconcile|events` and `beanflex explain`: load the ledger, call one report
function of beanflex.reports.reports, render it (table, json, csv, xlsx) to stdout or `-o FILE`."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from .cli import DiffFound, pass_workspace  # cli.py defines both before it imports the cmd_* modules
from .workspace import Workspace


def load_ledger(ws: Workspace):
    """The ledger loaded for the reports (book, tolerance, labels), its Beancount errors said on stderr
    (`--strict`: exit 3); one that does not load is an error naming the file and what to do."""
    from beanflex.reports import ledger

    from . import ledger_load

    try:
        loaded = ledger.load(ws.main_file)
    except ledger.LedgerNotLoaded as exc:
        raise click.ClickException(str(exc)) from None
    ledger_load.say_errors(ws, loaded.errors)
    return loaded


def load_book(ws: Workspace):
    """The ledger as a Book (reports.ledger explains which)."""
    return load_ledger(ws).book


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-12-31") from None


def _options(mode: str, method: str, start, end):
    """The P&L options after the usage checks every report shares (check_usage); `--premium` and `--currency`
    from the context."""
    from beanflex.reports.ledger import options

    check_usage(mode, start, end)
    meta = click.get_current_context().meta
    currency = meta.get("beanflex.currency")
    return options(mode, method, start, end, meta.get(PREMIUM_KEY, "separate"),
                   currency.upper() if currency else None)


PREMIUM_KEY = "beanflex.premium"


def _premium(ctx, param, value):
    """--premium, kept on the context so the report functions' signatures stay as they are."""
    ctx.meta[PREMIUM_KEY] = value
    return value


def premium_option(func):
    """`--premium separate|folded` (DESIGN §8): where --mode economic puts an assigned option's premium."""
    return click.option("--premium", type=click.Choice(["separate", "folded"]), default="separate",
                        show_default=True, expose_value=False, callback=_premium,
                        help="--mode economic: keep an assigned/exercised option's premium on the option, or fold "
                             "it into the stock as IBKR does (--mode ibkr always folds).")(func)


def check_usage(mode: str, start, end) -> None:
    """Usage errors (exit 2): an explicit --method with --mode ibkr (IBKR's own lots have no method to choose),
    and --from later than --to."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    source = ctx.get_parameter_source("method")
    if mode == "ibkr" and source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
        raise click.UsageError("--method applies to --mode economic; --mode ibkr follows the lots IBKR closed "
                               "(add --mode economic, or drop --method)")
    if mode == "ibkr" and ctx.get_parameter_source("premium") == ParameterSource.COMMANDLINE \
            and ctx.meta.get(PREMIUM_KEY) == "separate":
        raise click.UsageError("--premium separate applies to --mode economic; --mode ibkr folds option premiums "
                               "into the stock as IBKR does (add --mode economic)")
    if start is not None and end is not None and start > end:
        raise click.UsageError(f"--from {start} is later than --to {end}: give a range that runs forward")


def table_width(output: str | None = None) -> int:
    """The width a table must fit: $COLUMNS when set, else the terminal's when stdout is one, else 100 (a pipe, a
    file, cron mail)."""
    import os
    import shutil
    import sys

    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if output is None and sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((100, 24)).columns)
    return 100


def table_options(func):
    """`--columns` and `--wide`: which columns `--format table` prints (default: the most useful that fit)."""
    func = click.option("--wide", is_flag=True, help="Table: every column, however wide.")(func)
    return click.option("--columns", "columns", metavar="A,B,…",
                        help="Table: exactly these columns (e.g. symbol,realized,flex_id).")(func)


def emit(kind: str, report: dict, fmt: str, output: str | None, columns: str | None = None, wide: bool = False,
         all_rows: bool = False) -> None:
    """Render and write: to `-o FILE` (xlsx needs one), else stdout. A table fits table_width() unless `wide`."""
    from beanflex.reports.formats import render

    names = tuple(c.strip() for c in (columns or "").split(",") if c.strip())
    options = {"width": None if wide else table_width(output), "columns": names, "wide": wide,
               "all_rows": all_rows} if fmt == "table" else {}
    try:
        text = render(kind, report, fmt, **options)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--columns") from None
    if output:
        path = Path(output)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return
    if isinstance(text, bytes):
        raise click.UsageError("--format xlsx writes a binary workbook: give -o FILE.xlsx")
    click.echo(text, nl=False)


def common_options(func):
    """The options every `report` subcommand shares (DESIGN §5)."""
    options = [
        click.option("--mode", type=click.Choice(["ibkr", "economic"]), default="ibkr", show_default=True,
                     help="ibkr: the lots IBKR closed; economic: --method."),
        click.option("--method", type=click.Choice(["fifo", "average", "lifo"]), default="fifo", show_default=True,
                     help="Lot method for --mode economic."),
        premium_option,
        click.option("--from", "start", callback=_date, metavar="DATE", help="Realized and income from this date."),
        click.option("--to", "end", callback=_date, metavar="DATE", help="... to this date; positions as of it."),
        click.option("--account", "accounts", multiple=True, metavar="ACCT", help="Only this IBKR account."),
        click.option("--label", "labels", multiple=True, metavar="LABEL", help="Only instruments with this label."),
        click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
                     show_default=True),
        click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."),
        click.option("--currency", metavar="CCY", expose_value=False, is_eager=False,
                     callback=lambda ctx, param, value: ctx.meta.__setitem__("beanflex.currency", value),
                     help="Totals over accounts with other base currencies in CCY (default: the ledger's "
                          "operating_currency), at the statements' own rates."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("report")
def report() -> None:
    """P&L, positions, reconciliation with IBKR, and events, from the ledger."""


@report.command("pnl")
@common_options
@table_options
@pass_workspace
def pnl(ws, mode, method, start, end, accounts, labels, fmt, output, columns, wide):
    """Realized and unrealized P&L per instrument, commissions, income, in trade and base currency."""
    from beanflex.reports import reports

    loaded = load_ledger(ws)
    emit("pnl", reports.pnl_report(loaded.book, _options(mode, method, start, end), accounts, labels,
                                   loaded.tolerance, loaded.entries), fmt, output, columns, wide)


@report.command("positions")
@common_options
@click.option("--underlying", metavar="SYMBOL|CONID", help="Only this underlying and the options on it.")
@table_options
@pass_workspace
def positions(ws, mode, method, start, end, accounts, labels, fmt, output, underlying, columns, wide):
    """Open positions at --to (default: the ledger's last date) with their lots; options with strike and moneyness."""
    from beanflex.reports import reports

    emit("positions", reports.positions_report(load_book(ws), _options(mode, method, start, end), accounts, labels,
                                               underlying), fmt, output, columns, wide)


@report.command("events")
@common_options
@click.option("--instrument", "--symbol", "instrument", metavar="SYMBOL|CONID",
              help="Only this instrument (--symbol is the same option).")
@table_options
@pass_workspace
def events(ws, mode, method, start, end, accounts, labels, fmt, output, instrument, columns, wide):
    """Every event (trades, splits, income, fees) with its raw rows."""
    from beanflex.reports import reports

    report_ = reports.events_report(load_book(ws), _options(mode, method, start, end), accounts, labels, instrument,
                                    ws.ledger_dir)
    emit("events", report_, fmt, output, columns, wide)


@report.command("reconcile")
@common_options
@click.option("--tolerance", default=None, metavar="AMOUNT",
              help="Allowed difference in the row's currency [default: the ledger's reconcile plugin tolerance, "
                   "else 0.01].")
@click.option("--fail-on-diff", is_flag=True, help="Exit 3 when any diff is above the tolerance.")
@click.option("--all", "all_rows", is_flag=True,
              help="Table: every comparison (trades, positions, summaries, cash, by day), not only the diffs.")
@table_options
@pass_workspace
def reconcile(ws, mode, method, start, end, accounts, labels, fmt, output, tolerance, fail_on_diff, all_rows, columns,
              wide):
    """Ours vs IBKR: every closing trade, by instrument and day, open positions, performance summaries."""
    from beanflex.reports import reports

    check_usage(mode, start, end)
    try:
        tol = None if tolerance is None else Decimal(tolerance)
    except InvalidOperation:
        raise click.BadParameter(f"{tolerance!r} is not a number", param_hint="--tolerance") from None
    loaded = load_ledger(ws)
    tol = loaded.tolerance if tol is None else tol
    report_ = reports.reconcile_report(loaded.book, tol, accounts, start, end, labels)
    emit("reconcile", report_, fmt, output, columns, wide, all_rows)
    if fail_on_diff and report_["status"] == "diff":
        raise DiffFound(f"{len(report_['diffs'])} reconciliation diff(s) above {tol}; see the 'diffs' list")


@click.command("explain")
@click.argument("key", metavar="SYMBOL|CONID|strategy:ID")
@click.argument("field", default="total")
@click.option("--mode", type=click.Choice(["ibkr", "economic"]), default="ibkr", show_default=True)
@click.option("--method", type=click.Choice(["fifo", "average", "lifo"]), default="fifo", show_default=True)
@premium_option
@click.option("--from", "start", callback=_date, metavar="DATE")
@click.option("--to", "end", callback=_date, metavar="DATE")
@click.option("--account", "accounts", multiple=True, metavar="ACCT")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-o", "--output", metavar="FILE")
@table_options
@pass_workspace
def explain(ws, key, field, mode, method, start, end, accounts, fmt, output, columns, wide):
    """Every event behind one number (FIELD, default total), each with its raw XML row; they add up to it."""
    from beanflex.reports import reports
    from beanflex.reports.ledger import PNL_FIELDS

    if key.startswith("strategy:"):  # a strategy group's number (DESIGN §9), cmd_report_strategies.py
        from .cmd_report_strategies import explain_strategy

        return explain_strategy(ws, key, field, _options(mode, method, start, end), fmt, output)
    if field not in PNL_FIELDS:
        raise click.BadParameter(f"{field!r} is not a P&L field; one of: {', '.join(PNL_FIELDS)}",
                                 param_hint="FIELD")
    options = _options(mode, method, start, end)
    try:
        report_ = reports.explain_report(load_book(ws), key, field, options, ws.ledger_dir, accounts)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    emit("explain", report_, fmt, output, columns, wide)
