"""The bean-query examples of docs/bean-query.md run through beanquery on a ledger with the pnl_meta plugin."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path

from beancount import loader
from beanquery import query

from test_pnl_examples import DESIGN_AAPL

DOC = Path(__file__).resolve().parent.parent / "docs" / "bean-query.md"


def doc_queries() -> list[str]:
    """The quoted queries of the doc's bean-query command lines."""
    return re.findall(r'^bean-query -q ledger/query\.beancount "(.+)"$', DOC.read_text(), re.M)


def run(text: str, q: str):
    entries, errors, options = loader.load_string(text)
    assert not errors, [e.message for e in errors]
    _, rows = query.run_query(entries, options, q)
    return rows


def test_doc_has_the_two_example_queries_and_they_run():
    per_instrument, per_trade = doc_queries()
    ledger = 'plugin "beanflex.plugins.pnl_meta" "{\'mode\': \'ibkr\'}"\n' + DESIGN_AAPL
    # DESIGN §4: 5 left, realized 347, unrealized 149.50, total 497.52
    assert [tuple(r) for r in run(ledger, per_instrument)] == [("AAPL", D(5), D("347.0"), D("149.5"), D("497.52"))]
    [(day, narration, ours, ibkr, lots)] = run(ledger, per_trade)
    assert (str(day), narration, ours, ibkr) == ("2024-03-01", "SELL 15 AAPL @ 130", D("347.0"), D(347))
    assert lots == "U1/trade/T1 10, U1/trade/T2 5"


def test_economic_average_mode_in_the_metadata():
    per_instrument, _ = doc_queries()
    ledger = 'plugin "beanflex.plugins.pnl_meta" "{\'mode\': \'economic\', \'method\': \'average\'}"\n' + DESIGN_AAPL
    # average: realized 297, unrealized 199.50, same total 497.52
    assert [tuple(r) for r in run(ledger, per_instrument)] == [("AAPL", D(5), D("297.0"), D("199.5"), D("497.52"))]


def test_bad_config_is_an_error_not_a_crash():
    entries, errors, _ = loader.load_string('plugin "beanflex.plugins.pnl_meta" "{\'mode\': \'x\'}"\n' + DESIGN_AAPL)
    assert [type(e).__name__ for e in errors] == ["PnlMetaError"] and entries


def test_the_docs_command_lines_work_on_a_fresh_init_without_error_noise(tmp_path):
    """`beanflex init`, import a real statement with reconciliation diffs (eTax: 5), then each command line of the
    doc as written, from the workspace root: rows on stdout, nothing on stderr."""
    import shlex
    import subprocess
    import sys

    from samples import sample

    bin_dir = Path(sys.executable).parent
    for args in (["init", str(tmp_path)], ["--ledger", str(tmp_path / "ledger" / "main.beancount"), "import",
                                            str(sample("opensteuerauszug__eTax_report_anonymised_2025.xml"))]):
        subprocess.run([str(bin_dir / "beanflex"), *args], check=True, capture_output=True, timeout=300)
    lines = re.findall(r"^(bean-query -q ledger/query\.beancount .+)$", DOC.read_text(), re.M)
    assert len(lines) == 2
    per_instrument, per_trade = (subprocess.run([str(bin_dir / "bean-query"), *shlex.split(line)[1:]],
                                                cwd=tmp_path, capture_output=True, text=True, timeout=300)
                                 for line in lines)
    assert per_instrument.returncode == 0 and per_instrument.stderr == ""
    assert re.search(r"^MSTR\s+5257\s", per_instrument.stdout, re.M)  # 5,257 MSTR held at the end (pnl report)
    assert per_trade.returncode == 0 and per_trade.stderr == ""
    assert len(per_trade.stdout.splitlines()) == 2 + 185  # header, rule, one row per closing trade (185)
