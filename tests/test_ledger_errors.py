"""A broken ledger is never silent: every command that loads it says on stderr how many Beancount errors it has
and where, `--strict` exits 3, `beanflex check` counts what bean-check and Fava count, and the Import health
page shows check's counts of rows not mapped and schema drift.

The broken ledger: pp01 imported (15 FxTransaction rows not mapped, 0 drift), the reconcile plugin on, and a
hand edit in manual.beancount with a syntax error (a currency written twice). Beancount drops that entry, so the P&L goes on
without it: the stderr line is the only sign.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner
from fava.application import create_app

from beanflex.cli import cli
from samples import sample

BROKEN_EDIT = """
2013-06-30 * "hand fix"
  Assets:IBKR:U123456:Cash  10 CAD
  Equity:IBKR:U123456:Opening  -10 CAD CAD
"""


@pytest.fixture()
def ledger(tmp_path) -> Path:
    CliRunner().invoke(cli, ["init", str(tmp_path)])
    main = tmp_path / "ledger" / "main.beancount"
    run = CliRunner().invoke(cli, ["--ledger", str(main), "import",
                                   str(sample("portfolio__testIBFlexStatementFile01.xml"))])
    assert run.exit_code == 0, run.output
    (main.parent / "manual.beancount").write_text(BROKEN_EDIT)
    # pp01 has no AccountInformation: declare its base, or Fava adds an error of its own ("No operating currency")
    main.write_text(main.read_text().replace('; option "operating_currency" "USD"', 'option "operating_currency" "CHF"'))
    return main


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def loader_errors(main: Path) -> list:
    return loader.load_file(str(main))[1]


def test_reports_say_the_errors_on_stderr_and_strict_exits_3(ledger):
    errors = loader_errors(ledger)
    assert errors, "the syntax error is a Beancount error"
    for args in (["report", "pnl"], ["report", "positions"], ["report", "reconcile"], ["report", "labels"],
                 ["explain", "FB-180921C200"]):
        result = run("--ledger", ledger, *args)
        assert result.exit_code == 0, (args, result.stderr)
        assert f"ledger: {len(errors)} Beancount error(s)" in result.stderr, (args, result.stderr)
        assert re.search(r"ledger/manual\.beancount:\d+: ", result.stderr), result.stderr
        strict = run("--ledger", ledger, "--strict", *args)
        assert strict.exit_code == 3, (args, strict.stdout)
        assert strict.stdout == ""  # no numbers from a ledger that did not load whole


def test_a_clean_ledger_says_nothing_and_strict_passes(ledger):
    (ledger.parent / "manual.beancount").write_text("")
    assert loader_errors(ledger) == []
    result = run("--ledger", ledger, "--strict", "report", "pnl")
    assert result.exit_code == 0 and result.stderr == ""


def test_check_counts_what_bean_check_counts(ledger):
    bean_check = subprocess.run([str(Path(sys.executable).parent / "bean-check"), str(ledger)],
                                capture_output=True, text=True)
    # bean-check prints each error as `<file>:<line>: message`, then the entry
    counted = len(re.findall(r"^\S+:\d+:\s", bean_check.stderr + bean_check.stdout, re.M))
    assert counted == len(loader_errors(ledger)) > 0
    result = run("--ledger", ledger, "check")
    assert f"{counted} Beancount error(s) as bean-check and Fava count them" in result.stdout, result.stdout


def test_fava_and_the_import_health_page_count_what_check_counts(ledger):
    app = create_app([str(ledger)], load=True)
    client = app.test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    assert len(app.config["LEDGERS"][slug].errors) == len(loader_errors(ledger))  # Fava's error page lists these
    health = json.loads(client.get(f"/{slug}/extension/BeanflexImportHealth/health").data)
    check = run("--ledger", ledger, "check").stdout
    # check: "raw archive: 1 file(s), 0 drift item(s), 0 error(s)" and "mapping: 15 row(s) not mapped, 0 flagged"
    drift = int(re.search(r"raw archive: \d+ file\(s\), (\d+) drift item", check).group(1))
    not_mapped, flagged = map(int, re.search(r"mapping: (\d+) row\(s\) not mapped, (\d+) flagged", check).groups())
    assert (health["check"]["drift_count"], health["check"]["not_mapped_count"],
            health["check"]["flagged_count"]) == (drift, not_mapped, flagged) == (0, 15, 0)
    page = client.get(f"/{slug}/extension/BeanflexImportHealth/").data.decode()
    assert 'data-bf="not-mapped">(15)' in page and 'data-bf="drift">(0)' in page
