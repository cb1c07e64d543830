"""`beanflex report returns`: TWR, MWR, Modified Dietz and the FX split (DESIGN §10), in table, json, csv or xlsx.

`--by account|label|strategy|instrument` (the portfolio is always the first row, except by instrument),
`--period MTD|QTD|YTD|1Y|ITD|<year>` (repeatable; default all of them and every calendar year), or `--from/--to`
for one custom period. It calls beanflex.reports.returns only; `--label`/`--instrument` pick entities by name.
"""

from __future__ import annotations

import click

from .cmd_report import _date, emit
from .workspace import Workspace


@click.command("returns")
@click.option("--by", type=click.Choice(["account", "label", "strategy", "instrument"]), default="account",
              show_default=True, help="What to measure (the portfolio comes too).")
@click.option("--period", "periods", multiple=True, metavar="NAME",
              help="MTD, QTD, YTD, 1Y, ITD or a year like 2024 (repeatable); default all.")
@click.option("--from", "start", callback=_date, metavar="DATE", help="One custom period from this date ...")
@click.option("--to", "end", callback=_date, metavar="DATE", help="... to this date (also the as-of date).")
@click.option("--account", "accounts", multiple=True, metavar="ACCT", help="Only this IBKR account.")
@click.option("--label", "--instrument", "--strategy", "only", multiple=True, metavar="NAME",
              help="Only this label, instrument (symbol or conid) or strategy group.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.pass_obj
def returns(ws: Workspace, by, periods, start, end, accounts, only, fmt, output) -> None:
    """Time- and money-weighted returns with the FX split, per account, label, strategy group or instrument."""
    from beanflex.reports import returns as returns_mod

    if start is not None and end is not None and start > end:
        raise click.UsageError(f"--from {start} is later than --to {end}: give a range that runs forward")
    if not ws.main_file.exists():
        raise click.ClickException(f"No ledger at {ws.main_file}: run 'beanflex init' there, or pass --ledger PATH")
    try:
        entries, options_map, config, groups = returns_mod.load_inputs(ws.main_file, ws.labels_file)
        report = returns_mod.returns_report(entries, options_map, by, periods, start, end, accounts, config, groups,
                                            only)
    except returns_mod.ReturnsError as exc:
        raise click.ClickException(str(exc)) from None
    emit("returns", report, fmt, output)
