"""Two accounts with different base currencies in one ledger (tests/fixtures/multi_base/): U21 is CHF-base and
holds 10 NESN bought at 100 CHF, marked 110 (unrealized 100 CHF); U22 is USD-base and holds 10 AAPL bought at
100 USD, marked 120 (unrealized 200 USD). U21's statement states USD -> CHF 0.9 on 2024-12-31.

Each account's base figures are in its own base: AAPL's are USD, not CHF. Totals never add 100 CHF and 200 USD:
- in CHF (the ledger's operating_currency, the first statement's): 100 + 200 x 0.9 = 280 CHF, cost basis
  1000 + 1000 x 0.9 = 1900 CHF;
- with --currency USD: 100 / 0.9 + 200 = 311.11... USD;
- without a stated rate (U22 alone next to a CHF ledger base): AAPL is left out of the totals, flagged
  fx_rate_missing, and by_currency still shows USD 200 on its own.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal as D
from pathlib import Path

from click.testing import CliRunner

from beanflex.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "multi_base"


def ledger(tmp_path, *names, base="CHF"):
    main = tmp_path / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text(f'option "operating_currency" "{base}"\ninclude "generated/index.beancount"\n')
    for name in names:
        shutil.copy(FIXTURES / name, tmp_path / name)
        run = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(tmp_path / name)])
        assert run.exit_code == 0, run.output
    return main


def report(main, *args):
    run = CliRunner().invoke(cli, ["--ledger", str(main), "report", *args, "--format", "json"])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)


def test_each_account_in_its_own_base_and_totals_converted_at_the_statements_rate(tmp_path):
    main = ledger(tmp_path, "chf_account.xml", "usd_account.xml")
    pnl = report(main, "pnl")
    bases = {row["symbol"]: (row["base"]["currency"], row["base"]["unrealized"]) for row in pnl["instruments"]}
    assert bases == {"NESN": ("CHF", "100.00"), "AAPL": ("USD", "200.00")}
    totals = pnl["totals"]
    assert totals["base"]["currency"] == "CHF"
    assert D(totals["base"]["unrealized"]) == D("280")  # 100 + 200 x 0.9
    assert D(totals["base"]["cost_basis"]) == D("1900")  # 1000 + 1000 x 0.9
    assert {c: v["unrealized"] for c, v in totals["by_currency"].items()} == {"CHF": "100.00", "USD": "200.00"}
    assert totals["rates"]["USD"]["rate"] == "0.9" and totals["excluded"] == []
    in_usd = report(main, "pnl", "--currency", "USD")["totals"]
    assert in_usd["base"]["currency"] == "USD"
    assert D(in_usd["base"]["unrealized"]).quantize(D("0.01")) == D("311.11")  # 100 / 0.9 + 200
    labels = report(main, "labels")["unlabelled"]["totals"]
    assert labels["currency"] == "CHF" and D(labels["unrealized"]) == D("280")  # the same conversion


def test_a_base_without_a_stated_rate_is_left_out_and_flagged(tmp_path):
    main = ledger(tmp_path, "usd_account.xml", base="CHF")
    totals = report(main, "pnl")["totals"]
    assert totals["base"]["currency"] == "CHF" and D(totals["base"]["unrealized"]) == 0
    assert [(e["symbol"], e["flag"]) for e in totals["excluded"]] == [("AAPL", "fx_rate_missing")]
    assert totals["by_currency"]["USD"]["unrealized"] == "200.00" and "fx_rate_missing" in totals["note"]
