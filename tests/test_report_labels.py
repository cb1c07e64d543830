"""`beanflex report labels` and the demo's labels.yaml/notes, on the demo statement's instruments.

The numbers are the demo's (beanflex/demo/README.md): AAPL 497.52, MSFT 99.00, SAP 57.70 (fx −50.10),
KO 57.24, the expired AAPL call −150.65.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from test_labels import LABELS_YAML, by_kind


# --- the demo's labels.yaml and notes on the demo statement's instruments -----------------------------------

DEMO_LEDGER = """\
plugin "beanflex.plugins.labels" "{demo}/labels.yaml"
plugin "beanflex.plugins.notes" "{demo}/notes"
2024-01-01 open Assets:IBKR:U1234567:Positions
2024-01-01 open Assets:IBKR:U1234567:Cash
2024-01-02 commodity AAPL
  conid: "265598"
  isin: "US0378331005"
  name: "APPLE INC"
  asset_category: "STK"
2024-01-10 commodity KO
  conid: "8894"
  isin: "US1912161007"
  name: "COCA-COLA CO/THE"
  asset_category: "STK"
2024-04-02 commodity SAP
  conid: "14204"
  isin: "DE0007164600"
  name: "SAP SE"
  asset_category: "STK"
2024-05-01 commodity AAPL-240621C200
  conid: "697212345"
  name: "AAPL 21JUN24 200 C"
  asset_category: "OPT"
2024-06-03 commodity MSFT
  conid: "272093"
  isin: "US5949181045"
  name: "MICROSOFT CORP"
  asset_category: "STK"
2024-03-01 * "SELL 15 AAPL @ 130"
  flex_id: "U1234567/trade/1004"
  conid: "265598"
  Assets:IBKR:U1234567:Cash  0 USD
2024-09-03 * "SELL 10 SAP @ 60"
  flex_id: "U1234567/trade/1010"
  conid: "14204"
  Assets:IBKR:U1234567:Cash  0 EUR
"""


def test_demo_labels_and_notes_load_cleanly():
    import beanflex

    demo = Path(beanflex.__file__).parent / "demo"
    entries, errors, _ = loader.load_string(DEMO_LEDGER.format(demo=demo))
    assert errors == []
    meta = {c.currency: c.meta for c in by_kind(entries, "Commodity")}
    assert {s: meta[s].get("labels") for s in meta} == {
        "AAPL": "Software,Dividend", "KO": "Dividend", "SAP": "Software,Europe", "MSFT": "Software",
        "AAPL-240621C200": None}
    assert meta["AAPL"]["label_weights"] == "Dividend=0.25"
    assert {s for s in meta if "note" in meta[s]} == {"AAPL", "KO", "SAP"}
    notes = {t.meta["flex_id"]: t.meta.get("note") for t in by_kind(entries, "Transaction")}
    assert notes["U1234567/trade/1004"].startswith("Trimmed") and notes["U1234567/trade/1010"].startswith("Sold SAP")


# --- `beanflex report labels` on the demo statement, through the real importer and P&L library ---------------

@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory):
    """The demo statement imported into a fresh ledger that names both plugins, with the demo labels and notes."""
    import shutil

    import beanflex
    from click.testing import CliRunner

    from beanflex.cli import cli

    root = tmp_path_factory.mktemp("demo")
    demo = Path(beanflex.__file__).parent / "demo"
    shutil.copy(demo / "labels.yaml", root / "labels.yaml")
    shutil.copytree(demo / "notes", root / "notes")
    (root / "ledger").mkdir()
    main = root / "ledger" / "main.beancount"
    main.write_text('option "operating_currency" "USD"\nplugin "beanflex.plugins.labels" "../labels.yaml"\n'
                    'plugin "beanflex.plugins.notes" "../notes"\ninclude "generated/index.beancount"\n',
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(demo / "demo_2024.xml")])
    assert result.exit_code == 0, result.output
    return main


def run_labels(main, *args):
    from click.testing import CliRunner

    from beanflex.cmd_report_labels import labels
    from beanflex.workspace import Workspace

    return CliRunner().invoke(labels, list(args), obj=Workspace(main))


def test_report_labels_command_on_the_demo(demo_repo, tmp_path):
    import json

    entries, errors, _ = loader.load_file(str(demo_repo))
    assert errors == []                                   # demo labels.yaml and notes match the demo ledger
    result = run_labels(demo_repo, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    totals = {g["label"]: Decimal(g["totals"]["total"]) for g in report["labels"]}
    assert totals == {
        "Software": Decimal("654.22"),   # AAPL 497.52 + MSFT 99.00 + SAP 57.70 (KO excluded, option not matched)
        "Dividend": Decimal("181.62"),   # KO 57.24 + 0.25 × AAPL 497.52 (124.38)
        "Europe": Decimal("57.70"),      # SAP, by ISIN
    }
    assert Decimal(report["unlabelled"]["totals"]["total"]) == Decimal("-150.65")   # the expired AAPL call
    assert {i["symbol"] for i in report["overlap"]["instruments"]} == {"AAPL", "SAP"}
    # portfolio: 497.52 + 99.00 + 57.70 + 57.24 − 150.65 = 560.81, not 654.22 + 181.62 + 57.70 − 150.65
    assert Decimal(report["portfolio_totals"]["total"]) == Decimal("560.81")

    table = run_labels(demo_repo, "--label", "Dividend")
    assert table.exit_code == 0, table.output
    assert "Dividend: Held (partly) for the dividend" in table.output and "Software" not in table.output
    # 1201 + 0.25 × 600.50 = 1351.125, rounded half-even for display (the 2 before the tie is even): 1,351.12
    assert "1,351.12" in table.output
    assert "do not add up to the portfolio total" in " ".join(table.output.split())  # the note wraps at 100
    assert max(len(line) for line in table.output.splitlines()) <= 100
    assert "Portfolio total (each instrument once): 560.81 USD" in table.output

    out = tmp_path / "labels.csv"
    assert run_labels(demo_repo, "--format", "csv", "-o", str(out)).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label,row,account,symbol,conid,weight,cost_basis,realized,unrealized,fx,total,note"
    # 1201.00 + 0.25 × 600.5; 0 + 0.25 × 347.0; 49.00 + 0.25 × 149.5; 0.00 + 0.25 × 0.0; 57.24 + 0.25 × 497.52
    assert "Dividend,total,,,,,1351.125,86.75,86.375,0.00,181.62," in lines
    # the portfolio's own totals (each instrument once: 3802.50 basis, 254.05 realized = 347 - 150.65 + 57.70,
    # 297.50 unrealized = 149.50 + 49 + 99, fx -50.10, total 560.81) with the overlap note
    assert lines[-1].startswith("(portfolio),total,,,,,3802.50,254.05,297.50,-50.10,560.81,\"Label totals overlap: "
                                "2 instrument(s) sit in more than one label")
    assert "do not add up to the portfolio total (560.81 USD, each instrument once)" in lines[-1]

    xlsx = tmp_path / "labels.xlsx"
    assert run_labels(demo_repo, "--format", "xlsx", "-o", str(xlsx)).exit_code == 0
    from openpyxl import load_workbook
    sheet = load_workbook(xlsx).active
    assert [c.value for c in sheet[1]][:3] == ["label", "row", "account"]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[:2] == ["(portfolio)", "total"] and last[10] == pytest.approx(560.81)  # a number cell
    assert last[11].startswith("Label totals overlap")
    assert run_labels(demo_repo, "--format", "xlsx").exit_code == 2                  # xlsx needs -o
    assert run_labels(demo_repo, "--label", "Nope").exit_code == 2

    mid = json.loads(run_labels(demo_repo, "--format", "json", "--from", "2024-01-01", "--to", "2024-06-30",
                                "--mode", "economic", "--method", "average").output)
    assert (mid["as_of"], mid["from"], mid["to"], mid["mode"], mid["method"]) == \
        ("2024-06-30", "2024-01-01", "2024-06-30", "economic", "average")


def test_report_labels_warns_on_bad_labels_yaml(demo_repo, tmp_path):
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(demo_repo.parent.parent, repo)
    (repo / "labels.yaml").write_text(LABELS_YAML.replace("colour:", "colur:"), encoding="utf-8")
    from click.testing import CliRunner

    from beanflex.cmd_report_labels import labels
    from beanflex.workspace import Workspace

    result = CliRunner().invoke(labels, ["--format", "json"],
                                                obj=Workspace(repo / "ledger" / "main.beancount"))
    assert result.exit_code == 0
    assert "labels.yaml:4: unknown key 'colur'" in result.stderr


def test_report_labels_warns_on_a_member_that_matches_nothing_and_an_empty_label_is_zero(demo_repo, tmp_path):
    import json
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(demo_repo.parent.parent, repo)
    (repo / "labels.yaml").write_text("labels:\n  Ghost:\n    members: [TSLA]\n", encoding="utf-8")
    result = run_labels(repo / "ledger" / "main.beancount", "--format", "json")
    assert result.exit_code == 0
    assert "labels.yaml:3:" in result.stderr and "TSLA" in result.stderr  # assign()'s "matches nothing"
    [ghost] = json.loads(result.stdout)["labels"]
    # no member: every base field of pnl, at zero
    assert {k: ghost["totals"][k] for k in ("currency", "cost_basis", "realized", "unrealized", "fx", "total")} == {
        "currency": "USD", "cost_basis": "0.00", "realized": "0.00", "unrealized": "0.00", "fx": "0.00",
        "total": "0.00"}
