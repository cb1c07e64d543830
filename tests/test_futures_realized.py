"""Futures booked by IBKR as daily variation (tests/fixtures/futures/daily_variation.xml, rows like
ib-flex-reader's TestForCoding.xml): the row's netCash is the day's mark-to-market less commission, and
fifoPnlRealized is 0. Ours is the sum of the cash of the round trip, which is the trade's P&L:
- FDAX (x 25, EUR): BUY 1 @ 11463 (close 11514.5): netCash (11514.5 - 11463) x 25 - 2 = 1285.5; SELL 1 @ 11474:
  (11474 - 11514.5) x 25 - 2 = -1014.5. Realized -1014.5 - (-1285.5) = 271.00 = (11474 - 11463) x 25 - 2 - 2.
- YM (x 5, USD): BUY 1 @ 26048 (close 25973): -375 - 2.03 = -377.03; SELL 1 @ 26000: 135 - 2.03 = 132.97.
  Realized 132.97 - 377.03 = -244.06 = (26000 - 26048) x 5 - 4.06.
IBKR says 0 on both closes: each is a diff named futures_daily_variation, never an unexplained one.
"""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine.book import load_book
from beanflex.engine.reconcile import REASONS, reconcile_book

FIXTURE = Path(__file__).parent / "fixtures" / "futures" / "daily_variation.xml"


def test_futures_realized_is_the_round_trip_and_ibkr_zero_is_named(tmp_path):
    main = tmp_path / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text('option "operating_currency" "EUR"\ninclude "generated/index.beancount"\n')
    shutil.copy(FIXTURE, tmp_path / FIXTURE.name)
    assert CliRunner().invoke(cli, ["--ledger", str(main), "import", str(tmp_path / FIXTURE.name)]).exit_code == 0
    entries, errors, options = loader.load_file(str(main))
    assert errors == []
    found = reconcile_book(load_book(entries, options))
    got = {(d.symbol, d.ours, d.ibkr, d.reason) for d in found.beyond(found.trades)}
    assert got == {("FDAX-DEC-18", D("271.0"), D("0"), "futures_daily_variation"),
                   ("YM-DEC-18", D("-244.06"), D("0"), "futures_daily_variation")}
    assert "futures_daily_variation" in REASONS
