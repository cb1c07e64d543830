"""`beanflex report labels`: P&L per label (DESIGN §6 `report labels`), in table, json, csv or xlsx.

Same options as the other `report` subcommands (`cmd_report.common_options`); `--label L` keeps only the label
L's group (membership does not change). Attach it from cli.py (`report.add_command(labels)`): this module
imports cmd_report, so cmd_report must not import it back at load time.

It loads the ledger, gets the pnl report from the P&L library (`beanflex.reports.reports.pnl_report`), reads
labels.yaml (the path in the ledger's `beanflex.plugins.labels` line, else `<repo>/labels.yaml`) and groups the
rows with `beanflex.reports.labels.labels_report`. Problems in labels.yaml are printed as warnings
(file:line: message) and the valid labels are still reported; `beanflex check` shows them as errors.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from .cmd_report import check_usage, common_options
from .workspace import Workspace

@click.command("labels")
@common_options
@click.pass_obj
def labels(ws: Workspace, mode, method, start, end, accounts, labels, fmt, output) -> None:
    """P&L per label: each label's members, weighted totals in base currency, and the unlabelled rest."""
    check_usage(mode, start, end)
    report = build_report(ws, mode, method, start, end, only=labels, accounts=accounts)
    if fmt == "xlsx":
        if output is None:
            raise click.UsageError("--format xlsx writes a binary workbook: give -o FILE.xlsx")
        write_xlsx(report, Path(output))
        return
    text = {"json": lambda r: json.dumps(r, indent=2) + "\n", "csv": render_csv, "table": render_table}[fmt](report)
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


def build_report(ws: Workspace, mode: str, method: str, start, end, only=(), accounts=()) -> dict:
    """Load the ledger and return the `report labels` dict; labels.yaml problems go to stderr as warnings."""
    from beancount import loader

    from beanflex.engine import book as book_mod
    from beanflex.engine import pnl as pnl_mod
    from beanflex.reports import reports
    from beanflex.engine.labels import configured_path, instruments_from_entries
    from beanflex.engine.labels_config import load_labels
    from beanflex.reports.labels import labels_report

    if not ws.main_file.is_file():
        raise click.ClickException(f"no ledger at {ws.main_file}; run `beanflex init` or pass --ledger")
    entries, load_errors, options_map = loader.load_file(str(ws.main_file))
    if load_errors and not entries:
        first = load_errors[0]
        raise click.ClickException(f"The ledger did not load: {first.source.get('filename')}:"
                                   f"{first.source.get('lineno')}: {first.message} (run 'bean-check "
                                   f"{ws.main_file}' for all errors)")
    path = configured_path(options_map) or ws.labels_file
    config, errors = load_labels(path)
    unknown = [name for name in only if config.get(name) is None]
    if unknown:
        raise click.UsageError(f"no label {', '.join(unknown)} in {path}")
    options = pnl_mod.Options(mode=mode, method=method, start=start, end=end)
    from beanflex.engine.reconcile import configured_tolerance

    pnl = reports.pnl_report(book_mod.load_book(entries, options_map), options, accounts=tuple(accounts),
                             tolerance=configured_tolerance(options_map), entries=entries)
    report = labels_report(pnl, config, instruments=instruments_from_entries(entries), only=only, warnings=errors)
    for error in errors:  # labels.yaml's own problems, then members that match nothing
        click.echo(f"warning: {error.source['filename']}:{error.source['lineno']}: {error.message}", err=True)
    return report


def _flat(report: dict) -> tuple[list[str], list[dict]]:
    from beanflex.reports.labels import flat_rows

    rows = flat_rows(report)
    columns = list(rows[0]) if rows else ["label", "row", "account", "symbol", "conid", "weight"]
    return columns, rows


def render_csv(report: dict) -> str:
    """One row per label member plus one `total` row per label; money as full-precision decimal strings."""
    columns, rows = _flat(report)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_xlsx(report: dict, path: Path) -> None:
    """The csv rows as a worksheet, money as numbers (Decimal); the portfolio row carries the overlap note."""
    from beanflex.reports.xlsx import workbook

    columns, rows = _flat(report)
    path.write_bytes(workbook([("labels", tuple(columns), rows, report.get("base_currency"))]))


def _cell(value, currency: str | None = None) -> str:
    from beanflex.reports.money import money_text

    return "-" if value is None else money_text(value, currency)  # display only; JSON keeps full precision


def render_table(report: dict) -> str:
    """Aligned text: one block per label, members then the weighted total; the overlap note at the end."""
    columns, rows = _flat(report)
    money_cols = [c for c in columns[6:] if c != "note"]
    head = ["symbol", "account", "weight", *money_cols]
    lines = [f"P&L by label as of {report['as_of']} in {report['base_currency']} "
             f"(mode {report['mode']}, method {report['method']})", ""]
    groups = [(g["label"], g.get("description") or "") for g in report["labels"]] + [("(unlabelled)", "")]
    for name, description in groups:
        block = [r for r in rows if r["label"] == name]  # the "(portfolio)" row is printed below the groups
        table = [head] + [[r["symbol"] or "total", r["account"] or "", r["weight"] or "",
                           *(_cell(r[c], report["base_currency"]) for c in money_cols)] for r in block]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
        lines.append(f"{name}" + (f": {description}" if description else ""))
        for row in table:
            cells = [str(v).ljust(w) if i < 3 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))]
            lines.append("  " + "  ".join(cells).rstrip())
        lines.append("")
    portfolio = report.get("portfolio_totals") or {}
    if portfolio.get("total") is not None:
        lines.append(f"Portfolio total (each instrument once): {_cell(portfolio['total'], report['base_currency'])} "
                     f"{portfolio.get('currency') or report['base_currency']}")
    import textwrap

    for note in (portfolio.get("note"), report["overlap"]["note"]):  # notes wrap at the 100 columns of a table
        lines.extend(textwrap.wrap(note or "", 100))
    return "\n".join(lines) + "\n"
