"""The importer's `Income:IBKR:<acct>:PnL` posting is the balancing leg of the lots a sale closes; the engine's
`ibkr` realized P&L, computed from the same lot postings, is the number the reports show. They must agree on every
closing trade (docs/ledger-format.md, "Transactions").

E.g. DESIGN §4: the sale of 15 AAPL closes 10 @ 100.10 and 5 @ 120.10 for net cash 1,948.50; the engine realizes
1,948.50 − (1,001.00 + 600.50) = 347.00 and the generated transaction posts `Income:IBKR:U1:PnL -347.00 USD`.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine import lots
from beanflex.engine.book import load_book
from samples import FIXTURES_DIR, public_samples

TOLERANCE = Decimal("0.01")
STATEMENTS = public_samples() + sorted((FIXTURES_DIR / "trades").glob("*.xml"))


def _imported(path, tmp_path):
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('include "generated/index.beancount"\n')
    shutil.copy(path, tmp_path / path.name)
    result = CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import", str(tmp_path / path.name)])
    assert result.exit_code == 0, result.output
    entries, _, options = loader.load_file(str(ledger / "main.beancount"))
    return entries, options


@pytest.mark.parametrize("path", STATEMENTS, ids=lambda p: p.name)
def test_pnl_posting_equals_the_engines_ibkr_realized(path, tmp_path):
    entries, options = _imported(path, tmp_path)
    posted = {}
    for entry in data.filter_txns(entries):
        legs = [p.units.number for p in entry.postings if p.account.endswith(":PnL")]
        if legs and entry.meta.get("event") != "corporate_action":
            posted[entry.meta["flex_id"]] = -sum(legs, Decimal(0))  # income is negative in Beancount
    realized = {}
    for inst in load_book(entries, options).instruments.values():
        for closing in lots.run(inst.events, "ibkr").closings:
            if closing.event.flex_id in posted:
                realized[closing.event.flex_id] = realized.get(closing.event.flex_id, Decimal(0)) + closing.realized
    differing = {flex_id: (amount, realized.get(flex_id)) for flex_id, amount in posted.items()
                 if abs(amount - realized.get(flex_id, Decimal(0))) > TOLERANCE}
    assert not differing, f"PnL posting vs engine realized: {differing}"
