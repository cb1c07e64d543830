"""Every report's positions are what the ledger holds: for each public sample, the quantity per account and
commodity that bean-query sums over `Assets:IBKR:<acct>:Positions` equals `report positions`, `report pnl` and
`report labels` (every instrument lands in a label or in `unlabelled`), in both P&L modes and every lot method.

A quantity the ledger holds but no report shows (pp01's 480 GCM after the 1-for-25 split into conid 129258970,
uabean's 1.4831 TDOC after the LVGO merger) was the bug this guards against.
"""

from __future__ import annotations

import collections
from decimal import Decimal

import beanquery
import pytest
from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine import pnl
from beanflex.engine.book import load_book
from beanflex.reports import reports
from beanflex.reports.labels import labels_report
from beanflex.engine.labels_config import LabelsConfig
from samples import public_samples
from test_public_samples_import import new_ledger

QUERY = ("SELECT account, currency, sum(number) AS units WHERE account ~ '^Assets:IBKR:[^:]+:Positions$' "
         "GROUP BY account, currency")


def ledger_quantities(main) -> dict[tuple[str, str], Decimal]:
    """bean-query's own sum of the Positions postings: {(account id, commodity): units}, zeros left out."""
    conn = beanquery.connect("beancount:" + str(main))
    held = {}
    for account, currency, units in conn.execute(QUERY).fetchall():
        if units:
            held[(account.split(":")[2], currency)] = units
    return held


def _report_quantities(rows, key="quantity") -> dict[tuple[str, str], Decimal]:
    found = collections.defaultdict(Decimal)
    for row in rows:
        if row.get(key) not in (None, "0"):
            found[(row["account"], row["symbol"])] += Decimal(row[key])
    return {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_every_report_shows_what_the_ledger_holds(path, tmp_path):
    main = new_ledger(tmp_path)
    assert CliRunner().invoke(cli, ["--ledger", str(main), "import", str(path)]).exit_code == 0
    entries, errors, options_map = loader.load_file(str(main))
    assert errors == []
    held = ledger_quantities(main)
    book = load_book(entries, options_map)
    for mode, method in (("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")):
        options = pnl.Options(mode, method)
        positions = reports.positions_report(book, options)["positions"]
        assert _report_quantities(positions) == held, (mode, method, "positions")
        report = reports.pnl_report(book, options)
        assert _report_quantities(report["instruments"]) == held, (mode, method, "pnl")
        by_label = labels_report(report, LabelsConfig("labels.yaml"))
        members = [i for label in by_label["labels"] for i in label["instruments"]]
        members += by_label["unlabelled"]["instruments"]
        assert _report_quantities(members) == held, (mode, method, "labels")
