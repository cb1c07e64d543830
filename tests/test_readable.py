"""Readable output: one rounding rule everywhere, tables that fit 100 columns on every public sample, typed xlsx.

Rounding is display only (reports/money.py): half-even to the currency's minor unit. JSON keeps every digit.
"""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.reports import money, tables
from samples import public_samples, sample


def test_half_even_to_the_minor_unit():
    # ties go to the even neighbour: 0.125 -> 0.12 (2 is even), 0.135 -> 0.14 (4 is even), 0.145 -> 0.14
    assert [money.money_text(v, "USD") for v in ("0.125", "0.135", "0.145", "-0.125")] == [
        "0.12", "0.14", "0.14", "-0.12"]
    # JPY has no minor unit: 1234.5 -> 1,234 (4 is even), 1235.5 -> 1,236; KWD has 3 decimals
    assert [money.money_text(v, "JPY") for v in ("1234.5", "1235.5", "-0.4")] == ["1,234", "1,236", "0"]
    assert money.money_text("1.2345", "KWD") == "1.234" and money.money_text("1.2355", "KWD") == "1.236"
    # the numbers, and no "-0.00"
    assert money.money_text("2932.083333333333333333333332", "USD") == "2,932.08"
    assert money.money_text("-74442.23224288017391304347826", "USD") == "-74,442.23"
    assert money.money_text("-0.004", "EUR") == "0.00"
    # quantities and prices keep their own precision, not money's
    assert [money.quantity_text(v) for v in ("5257", "0.50", "-52", "1E+1")] == ["5,257", "0.5", "-52", "10"]
    assert [money.price_text(v, "USD") for v in ("151.95", "1.0231", "150", "164.778622790565")] == [
        "151.95", "1.0231", "150.00", "164.778623"]


def test_the_same_number_rounds_the_same_way_everywhere():
    """0.125 (and 1351.125, the labels demo's number) through the text table, the labels table, Fava, explain's
    header and the labels overlap note: the one rule gives 0.12 / 1,351.12 in each."""
    from beanflex.reports.labels_format import _cell
    from beanflex.fava_ext.pages import money_text as fava_money
    from beanflex.reports.labels import _portfolio_text
    from beanflex.reports.text import header

    row = {"symbol": "X", "currency": "USD", "realized": "0.125", "base_currency": "USD", "base_total": "1351.125"}
    assert (tables.cell("realized", row), tables.cell("base_total", row)) == ("0.12", "1,351.12")
    assert (_cell("0.125", "USD"), _cell("1351.125", "USD")) == ("0.12", "1,351.12")
    assert (fava_money("0.125", "USD"), fava_money("1351.125", "USD")) == ("0.12", "1,351.12")
    explain = {"symbol": "X", "conid": "1", "field": "realized", "value": "1351.125", "currency": "USD"}
    assert header("explain", explain) == ["X (conid 1) realized = 1,351.12 USD"]
    assert _portfolio_text({"total": "1351.125", "currency": "USD"}) == " (1,351.12 USD, each instrument once)"
    assert tables.cell("realized", {**row, "currency": "JPY", "realized": "1234.5"}) == "1,234"


def _ledger(tmp_path, name: str):
    main = tmp_path / "ledger" / "main.beancount"
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(sample(name))])
    assert result.exit_code == 0, result.output
    return main


def run(main, *args, env=None):
    result = CliRunner(env=env or {"COLUMNS": "100"}).invoke(cli, ["--ledger", str(main), *args])
    assert result.exit_code == 0, result.output
    return result.stdout  # stderr carries the ledger's error summary (ledger_load.py), not the report


LONG_DECIMAL = re.compile(r"\d\.\d{7,}")  # more decimals than a price shows (6): an unrounded number


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_every_report_of_every_public_sample_fits_100_columns(path, tmp_path):
    main = _ledger(tmp_path, path.name)
    outputs = {report: run(main, "report", report) for report in ("pnl", "positions", "reconcile", "events",
                                                                  "labels")}
    pnl = json.loads(run(main, "report", "pnl", "--format", "json"))
    if pnl["instruments"]:
        first = pnl["instruments"][0]
        outputs["explain"] = run(main, "explain", first["conid"], "--account", first["account"])
    # descriptions quote IBKR's own text ("USD 0.6900000000 per share"): the numbers are checked without them
    numbers = {**outputs, "events": run(main, "report", "events", "--columns", "date,symbol,quantity,amount"),
               # quantities keep their own digits (uabean's merger leaves lots of 1.18401724 TDOC): money only here
               "positions": run(main, "report", "positions", "--columns",
                                "symbol,average_cost,cost_basis,mark,market_value,unrealized")}
    if "explain" in outputs:
        numbers["explain"] = run(main, "explain", first["conid"], "--account", first["account"], "--columns",
                                 "date,amount")
    for name, text in outputs.items():
        wide = [line for line in text.splitlines() if len(line) > 100]
        assert wide == [], (name, wide[:3])
        assert not LONG_DECIMAL.search(numbers[name]), (name, LONG_DECIMAL.search(numbers[name]).group(0))


def test_columns_wide_and_reconcile_all(tmp_path):
    main = _ledger(tmp_path, "opensteuerauszug__eTax_report_anonymised_2025.xml")
    default = run(main, "report", "pnl")
    assert "more column(s) with --wide" in default and "flex_id" not in default
    wide = run(main, "report", "pnl", "--wide")
    assert max(len(line) for line in wide.splitlines()) > 200 and "mark_source" in wide  # every column
    chosen = run(main, "report", "pnl", "--columns", "symbol,base_total").splitlines()
    assert chosen[1].split() == ["symbol", "base_total"] and chosen[2].split()[0] == "DN3"
    bad = CliRunner().invoke(cli, ["--ledger", str(main), "report", "pnl", "--columns", "symbol,bogus"])
    assert bad.exit_code == 2 and "no column bogus" in bad.output and "base_total" in bad.output
    # reconcile: the summary and the diffs by default, every comparison with --all
    report = json.loads(run(main, "report", "reconcile", "--format", "json"))
    trades = sum(len(i["trades"]) for i in report["by_instrument"])
    default = run(main, "report", "reconcile")
    diff_lines = default.split("[diffs]")[1].split("\n\n")[0].splitlines()[2:]
    assert len(diff_lines) == len(report["diffs"]) >= 1
    assert f"closing trades  {trades:>8}" in default and "[reconcile]" not in default
    everything = run(main, "report", "reconcile", "--all")
    assert "[reconcile]" in everything and "[by_day]" in everything
    assert len(everything.splitlines()) > trades > len(default.splitlines())


def test_xlsx_cells_are_typed(tmp_path):
    from openpyxl import load_workbook

    main = _ledger(tmp_path, "opensteuerauszug__eTax_report_anonymised_2025.xml")
    out = tmp_path / "pnl.xlsx"
    run(main, "report", "pnl", "--format", "xlsx", "-o", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["pnl", "accounts"]  # one sheet per table: instruments, account-level items
    sheet = book["pnl"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    mstr = next(row for row in sheet.iter_rows(min_row=2) if row[header.index("symbol")].value == "MSTR")
    realized, quantity = mstr[header.index("realized")], mstr[header.index("quantity")]
    mark_date = mstr[header.index("mark_date")]
    pnl = json.loads(run(main, "report", "pnl", "--format", "json"))
    exact = next(r for r in pnl["instruments"] if r["symbol"] == "MSTR")
    # numbers are numeric cells (the exact value, not rounded), with a money or quantity format
    # (the cell holds the report's exact decimal; reading it back gives Excel's double of it)
    assert realized.data_type == "n" and abs(Decimal(str(realized.value)) - Decimal(exact["realized"])) < Decimal(
        "1e-8")
    assert realized.number_format == "#,##0.00" and quantity.value == 5257 and quantity.number_format == "#,##0"
    assert mark_date.is_date and mark_date.value.date() == datetime.date(2025, 12, 31)
    assert mark_date.number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions["B"].width >= len("MSTR-250214C500")  # symbol column fits its names
    accounts = book["accounts"]
    assert [c.value for c in accounts[1]][:3] == ["account", "currency", "interest"]

    run(main, "report", "reconcile", "--format", "xlsx", "-o", str(tmp_path / "r.xlsx"))
    recon = load_workbook(tmp_path / "r.xlsx")
    diffs = json.loads(run(main, "report", "reconcile", "--format", "json"))["diffs"]
    assert recon.sheetnames[0] == "diffs" and recon["diffs"].max_row == 1 + len(diffs) > 1  # header + each diff
