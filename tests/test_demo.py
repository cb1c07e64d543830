"""`beanflex demo` end to end: init, import of the bundled statement, report; numbers from beanflex/demo/README.md."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

from click.testing import CliRunner

from beanflex.cli import cli


def _pnl_json(ledger_main) -> dict:
    result = CliRunner().invoke(cli, ["--ledger", str(ledger_main), "report", "pnl", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_builds_a_clean_ledger_whose_numbers_match_the_hand_checked_ones(tmp_path):
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    main = tmp_path / "demo" / "ledger" / "main.beancount"
    check = subprocess.run([sys.executable, "-m", "beancount.scripts.check", str(main)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    rows = {row["symbol"]: row for row in _pnl_json(main)["instruments"]}
    aapl = rows["AAPL"]
    # DESIGN §4: sell 15 of 10 @ 100.10 + 10 @ 120.10 at 130 less 1.5: 1948.50 - (1001 + 600.50) = 347.00
    assert Decimal(aapl["realized"]) == Decimal("347.00")
    assert Decimal(aapl["quantity"]) == 5
    assert Decimal(aapl["cost_basis"]) == Decimal("600.50")      # 5 × 120.10
    assert Decimal(aapl["unrealized"]) == Decimal("149.50")      # 5 × 150 - 600.50
    assert Decimal(aapl["commissions"]) == Decimal("3.50")       # 1 + 1 + 1.5
    assert Decimal(aapl["total"]) == Decimal("497.52")           # 347 + 149.50 + 1.20 - 0.18
    sap = rows["SAP"]
    assert Decimal(sap["realized"]) == Decimal("98.00")          # 599 - 501 EUR
    assert Decimal(sap["base"]["realized"]) == Decimal("57.70")  # 599 × 1.10 - 501 × 1.20
    assert Decimal(sap["base"]["fx"]) == Decimal("-50.10")       # 57.70 - 98 × 1.10
    call = rows["AAPL-240621C200"]
    assert Decimal(call["realized"]) == Decimal("-150.65")       # premium 150 + commission 0.65, expired
    ko = rows["KO"]
    assert Decimal(ko["total"]) == Decimal("57.24")              # 49 unrealized + 9.70 - 1.46

    # Running the demo again re-imports the same statement: nothing new, same numbers.
    again = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert again.exit_code == 0, again.output
    assert {r["symbol"]: r["total"] for r in _pnl_json(main)["instruments"]} == \
        {s: r["total"] for s, r in rows.items()}


def test_demo_reconciles_with_ibkr_to_the_cent(tmp_path):
    assert CliRunner().invoke(cli, ["demo", str(tmp_path / "d")]).exit_code == 0
    main = tmp_path / "d" / "ledger" / "main.beancount"
    result = CliRunner().invoke(cli, ["--ledger", str(main), "report", "reconcile", "--format", "json",
                                      "--fail-on-diff"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "ok" and report["diffs"] == []
