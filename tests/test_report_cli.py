"""`beanflex report …` and `beanflex explain` through click's CliRunner on a hand-written ledger."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from test_pnl_examples import DESIGN_AAPL, EUR_STOCK

PNL_KEYS = {"as_of", "base_currency", "mode", "method", "premium", "instruments", "totals", "accounts"}
ROW_KEYS = {"account", "conid", "symbol", "currency", "quantity", "average_cost", "cost_basis", "mark", "mark_date",
            "market_value", "realized", "unrealized", "commissions", "dividends", "withholding", "fees", "total",
            "base", "labels", "flags",
            "mark_source"}  # DESIGN §4: reports say which mark source they used
BASE_KEYS = {"currency", "cost_basis", "realized", "unrealized", "fx", "total"}
RECONCILE_KEYS = {"tolerance", "status", "by_instrument", "by_day", "diffs", "positions", "summaries", "cash",
                  "flagged"}
DIFF_KEYS = {"date", "account", "conid", "symbol", "flex_id", "field", "ours", "ibkr", "diff", "raw", "reason"}
EXPLAIN_KEYS = {"symbol", "conid", "field", "value", "currency", "events"}
EVENT_KEYS = {"date", "flex_id", "description", "amount", "raw"}


@pytest.fixture()
def ledger(tmp_path):
    """DESIGN §4's AAPL (labelled Software) and the EUR stock, in one ledger; the AAPL sale's IBKR figure is
    set to 346.50 in a copy when a test wants a diff."""
    main = tmp_path / "ledger" / "main.beancount"
    main.parent.mkdir()
    text = DESIGN_AAPL + EUR_STOCK.split("2020-01-01 open Equity:IBKR:U1:CorporateActions\n", 1)[1]
    main.write_text(text.replace('  multiplier: 1\n', '  multiplier: 1\n  labels: "Software"\n', 1))
    return main


def run(ledger, *args, ok=True):
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_pnl_json_has_exactly_the_design_keys_and_decimal_strings(ledger):
    report = json.loads(run(ledger, "report", "pnl", "--format", "json").output)
    assert set(report) == PNL_KEYS
    assert (report["as_of"], report["base_currency"], report["mode"], report["method"]) == (
        "2024-12-31", "USD", "ibkr", "fifo")
    by_symbol = {row["symbol"]: row for row in report["instruments"]}
    for row in by_symbol.values():
        assert set(row) == ROW_KEYS and set(row["base"]) == BASE_KEYS
    aapl = by_symbol["AAPL"]
    assert (aapl["realized"], aapl["unrealized"], aapl["total"], aapl["labels"]) == (
        "347.00", "149.50", "497.52", ["Software"])
    assert (aapl["mark"], aapl["mark_date"], aapl["mark_source"]) == ("150", "2024-12-31", "ibkr-position")
    # totals in base: AAPL 497.52 + SAP 57.70 = 555.22; fx only from SAP: -50.10
    assert set(report["totals"]["base"]) == BASE_KEYS
    # money strings carry at least 2 decimals, never a trailing third zero ("555.220" before)
    assert (report["totals"]["base"]["total"], report["totals"]["base"]["fx"]) == ("555.22", "-50.10")
    assert (report["totals"]["excluded"], report["totals"]["note"]) == ([], None)
    economic = json.loads(run(ledger, "report", "pnl", "--mode", "economic", "--method", "average",
                              "--format", "json").output)
    assert {r["symbol"]: r["realized"] for r in economic["instruments"]}["AAPL"] == "297.00"


def test_filters_label_account_and_dates(ledger):
    only_software = json.loads(run(ledger, "report", "pnl", "--label", "Software", "--format", "json").output)
    assert [r["symbol"] for r in only_software["instruments"]] == ["AAPL"]
    nobody = json.loads(run(ledger, "report", "pnl", "--account", "U9", "--format", "json").output)
    assert nobody["instruments"] == []
    may = json.loads(run(ledger, "report", "pnl", "--from", "2024-05-01", "--to", "2024-05-31",
                         "--format", "json").output)
    assert set(may) == PNL_KEYS | {"from", "to"} and may["as_of"] == "2024-05-31"
    aapl, sap = may["instruments"]
    assert (aapl["realized"], aapl["dividends"], aapl["quantity"]) == ("0.00", "1.20", "5")  # quantity as is
    assert (sap["symbol"], sap["quantity"], sap["realized"]) == ("SAP", "10", "0.00")  # sold only in June
    # both are held on 2024-05-31 with no mark before then: unrealized and total unknown, not 0 (DESIGN §4);
    # the totals add what is known (realized 0 + 0) and say which instruments the rest leaves out
    assert (aapl["total"], aapl["base"]["total"], "no_mark" in aapl["flags"]) == (None, None, True)
    assert (may["totals"]["base"]["realized"], may["totals"]["base"]["total"]) == ("0.00", "0.00")
    assert [e["symbol"] for e in may["totals"]["excluded"]] == ["AAPL", "SAP"]
    rows = list(csv.DictReader(io.StringIO(run(ledger, "report", "pnl", "--to", "2024-05-31", "--format",
                                               "csv").output)))
    assert rows[-1]["account"] == "TOTAL" and rows[-1]["flags"].endswith("without a mark (unrealized unknown): "
                                                                         "AAPL, SAP")
    assert run(ledger, "report", "pnl", "--from", "May", ok=False).exit_code == 2


def test_csv_and_table(ledger):
    rows = list(csv.DictReader(io.StringIO(run(ledger, "report", "pnl", "--format", "csv").output)))
    assert [r["symbol"] for r in rows] == ["AAPL", "SAP", ""]  # the last row is the base total
    assert (rows[0]["total"], rows[1]["base_fx"], rows[2]["base_total"]) == ("497.52", "-50.10", "555.22")
    table = run(ledger, "report", "pnl").output
    assert "497.52" in table and "-50.10" in table and "AAPL" in table


def test_xlsx_cells_are_numbers(ledger, tmp_path):
    out = tmp_path / "pnl.xlsx"
    run(ledger, "report", "pnl", "--format", "xlsx", "-o", str(out))
    sheet = openpyxl.load_workbook(out)["pnl"]
    header = [c.value for c in sheet[1]]
    aapl = dict(zip(header, [c.value for c in sheet[2]]))
    assert aapl["symbol"] == "AAPL" and aapl["total"] == pytest.approx(497.52)
    assert sheet.cell(2, header.index("total") + 1).data_type == "n"
    assert isinstance(aapl["quantity"], (int, float)) and aapl["quantity"] == 5
    # xlsx without -o is a usage error, not bytes on a terminal
    assert run(ledger, "report", "pnl", "--format", "xlsx", ok=False).exit_code == 2


def test_reconcile_json_and_fail_on_diff(ledger):
    report = json.loads(run(ledger, "report", "reconcile", "--format", "json", "--fail-on-diff").output)
    assert set(report) == RECONCILE_KEYS and report["status"] == "ok" and report["diffs"] == []
    ledger.write_text(ledger.read_text().replace("fifo_pnl_realized: 347\n", "fifo_pnl_realized: 346.50\n"))
    result = run(ledger, "report", "reconcile", "--format", "json", "--fail-on-diff", ok=False)
    assert result.exit_code == 3
    report = json.loads(result.output.split("\nError:")[0])
    [diff] = report["diffs"]
    assert DIFF_KEYS <= set(diff)
    assert (diff["flex_id"], diff["ours"], diff["ibkr"], diff["diff"], diff["raw"]) == (
        "U1/trade/T3", "347.00", "346.50", "0.50", ["raw/U1/2024/s.xml:7"])
    assert run(ledger, "report", "reconcile", "--tolerance", "1", "--fail-on-diff").exit_code == 0
    # --label keeps the labelled instruments: AAPL is Software, so another label leaves no diff
    assert run(ledger, "report", "reconcile", "--label", "Software", "--fail-on-diff", ok=False).exit_code == 3
    assert run(ledger, "report", "reconcile", "--label", "Europe", "--fail-on-diff").exit_code == 0


def test_explain_and_events(ledger):
    report = json.loads(run(ledger, "explain", "AAPL", "realized", "--format", "json").output)
    assert set(report) == EXPLAIN_KEYS and report["value"] == "347.00"
    assert [set(e) for e in report["events"]] == [EVENT_KEYS]
    by_conid = json.loads(run(ledger, "explain", "265598", "--format", "json").output)
    assert by_conid["field"] == "total" and by_conid["value"] == "497.52"
    assert "no instrument" in run(ledger, "explain", "TSLA", ok=False).output
    events = json.loads(run(ledger, "report", "events", "--instrument", "AAPL", "--format", "json").output)
    assert [e["amount"] for e in events["events"]] == ["-1001.00", "-1201.00", "1948.50", "1.20", "-0.18"]
    # issue 6's spelling: report events --label L --symbol S
    same = json.loads(run(ledger, "report", "events", "--label", "Software", "--symbol", "AAPL", "--format",
                          "json").output)
    assert same["events"] == events["events"]


def test_positions_lists_lots(ledger):
    report = json.loads(run(ledger, "report", "positions", "--format", "json").output)
    [aapl] = report["positions"]
    assert [(lot["quantity"], lot["cost_basis"], lot["ids"]) for lot in aapl["lots"]] == [
        ("5", "600.50", ["U1/trade/T2"])]


def test_missing_ledger_is_an_error_that_says_what_to_do(tmp_path):
    result = run(tmp_path / "nope" / "main.beancount", "report", "pnl", ok=False)
    assert result.exit_code == 1 and "beanflex init" in result.output


def test_pnl_flags_reconcile_diffs_and_flagged_corporate_actions(ledger):
    # AAPL's sale: ours 1948.50 - 1601.50 = 347.00 vs IBKR 346.50 -> a 0.50 diff, above 0.01: reconcile_diff
    ledger.write_text(ledger.read_text().replace("fifo_pnl_realized: 347\n", "fifo_pnl_realized: 346.50\n")
                      # an unsupported spin-off IBKR reported, written flagged '!' by the importer: 0.5 APSPIN at 0
                      + '2020-01-01 commodity APSPIN\n  conid: "999"\n  multiplier: 1\n'
                      + '2024-01-05 ! "AAPL spin-off APSPIN (unsupported)"\n  flex_id: "U1/ca/CA1"\n'
                        '  flex_src: "raw/U1/2024/s.xml:30"\n  event: "corporate_action"\n  conid: "999"\n'
                        '  Assets:IBKR:U1:Positions  0.5 APSPIN {0 USD, 2024-01-05, "U1/ca/CA1"}\n'
                        '  Equity:IBKR:U1:CorporateActions\n')
    report = json.loads(run(ledger, "report", "pnl", "--format", "json").output)
    flags = {r["symbol"]: r["flags"] for r in report["instruments"]}
    assert flags == {"AAPL": ["reconcile_diff"], "APSPIN": ["flagged_corporate_action", "no_mark"], "SAP": []}
    # the flag stays when the range starts after the '!' event (it still shapes the lots), and a diff after --to
    # is not flagged
    later = json.loads(run(ledger, "report", "pnl", "--from", "2024-02-01", "--to", "2024-02-28",
                           "--format", "json").output)
    flags = {r["symbol"]: r["flags"] for r in later["instruments"]}
    assert "flagged_corporate_action" in flags["APSPIN"] and "reconcile_diff" not in flags["AAPL"]


def test_reconcile_tolerance_defaults_to_the_ledgers_plugin_config(ledger):
    # the same 0.50 diff; the ledger's reconcile plugin allows 1, as bean-check and `beanflex check` do
    ledger.write_text('plugin "beanflex.plugins.reconcile" "{\'tolerance\': \'1\'}"\n'
                      + ledger.read_text().replace("fifo_pnl_realized: 347\n", "fifo_pnl_realized: 346.50\n"))
    report = json.loads(run(ledger, "report", "reconcile", "--format", "json", "--fail-on-diff").output)
    assert (report["tolerance"], report["status"], report["diffs"]) == ("1", "ok", [])
    assert json.loads(run(ledger, "report", "pnl", "--format", "json").output)["instruments"][0]["flags"] == []
    # an explicit --tolerance still wins: 0.50 > 0.10
    result = run(ledger, "report", "reconcile", "--tolerance", "0.10", "--format", "json", "--fail-on-diff",
                 ok=False)
    assert result.exit_code == 3 and '"tolerance": "0.10"' in result.output


def test_account_level_items_are_reported_per_account_on_the_demo(tmp_path):
    # beanflex/demo/README.md: deposit 10000 USD (2024-01-02), market data fee 10 USD (07-03), interest received
    # 3.21 USD (08-05), and the EUR.USD conversion's 2 USD commission (04-02), which sits in no lot
    assert CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")]).exit_code == 0
    ledger = tmp_path / "demo" / "ledger" / "main.beancount"
    report = json.loads(run(ledger, "report", "pnl", "--format", "json").output)
    [usd] = report["accounts"]
    # total = interest - fees - commissions = 3.21 - 10 - 2 = -8.79; deposits are money moved, not P&L
    assert {k: v for k, v in usd.items() if k not in ("base", "flags")} == {
        "account": "U1234567", "currency": "USD", "interest": "3.21", "fees": "10.00", "commissions": "2.00",
        "deposits": "10000.00", "withdrawals": "0.00", "total": "-8.79"}
    assert usd["base"] == {"currency": "USD", "interest": "3.21", "fees": "10.00", "commissions": "2.00",
                           "deposits": "10000.00", "withdrawals": "0.00", "total": "-8.79"}  # USD is the base
    # the instruments' fees stay 0: the market data fee names no instrument
    assert all(row["fees"] == "0.00" for row in report["instruments"])
    # --from after the deposit and before the fee: only the fee and the interest
    [later] = json.loads(run(ledger, "report", "pnl", "--from", "2024-07-01", "--format", "json").output)["accounts"]
    assert (later["deposits"], later["fees"], later["interest"], later["commissions"]) == (
        "0.00", "10.00", "3.21", "0.00")
    rows = list(csv.DictReader(io.StringIO(run(ledger, "report", "pnl", "--format", "csv").output)))
    assert [(r["account"], r["symbol"], r["interest"], r["fees"], r["deposits"], r["total"]) for r in rows[-1:]] == [
        ("U1234567", "(account)", "3.21", "10.00", "10000.00", "-8.79")]
    # the table prints them as their own table under their own header, not as rows of the instrument table
    table = run(ledger, "report", "pnl").output
    accounts = table.split("[accounts]")[1].splitlines()
    assert accounts[1].split()[:3] == ["account", "currency", "interest"]
    assert accounts[2].split()[:3] == ["U1234567", "USD", "3.21"] and "(account)" not in table


def test_explain_and_report_usage_errors_exit_2(ledger):
    bogus = run(ledger, "explain", "AAPL", "bogus", ok=False)
    assert bogus.exit_code == 2 and "'bogus' is not a P&L field" in bogus.output
    assert "realized" in bogus.output and "base.total" in bogus.output  # the valid fields are listed
    method = run(ledger, "explain", "AAPL", "--mode", "ibkr", "--method", "average", ok=False)
    assert method.exit_code == 2 and "--method applies to --mode economic" in method.output
    assert run(ledger, "report", "pnl", "--method", "average", ok=False).exit_code == 2  # --mode ibkr by default
    assert run(ledger, "report", "labels", "--method", "lifo", ok=False).exit_code == 2
    backwards = run(ledger, "report", "pnl", "--from", "2024-12-31", "--to", "2024-01-01", ok=False)
    assert backwards.exit_code == 2 and "--from 2024-12-31 is later than --to 2024-01-01" in backwards.output
    assert run(ledger, "explain", "AAPL", "--from", "2024-06-01", "--to", "2024-05-01", ok=False).exit_code == 2
    assert run(ledger, "report", "reconcile", "--from", "2024-06-01", "--to", "2024-05-01", ok=False).exit_code == 2
    # the same options the right way round still work: economic average realized 1948.50 - 1651.50 = 297.00
    report = json.loads(run(ledger, "explain", "AAPL", "realized", "--mode", "economic", "--method", "average",
                            "--format", "json").output)
    assert report["value"] == "297.00"
