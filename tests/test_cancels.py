"""A cancel pairs only with the trade it cancels: by IBKR's origTransactionID, else its origTradeID with the
opposite quantity, origTradePrice and origTradeDate, booked before the cancel; never with the re-book after it.

tests/fixtures/cancels/frac_cancel_rebook.xml (TTWO-like): 9.5 TTWO held from February at 150.10 (IBKR's basis),
a fractional sale of 0.5 @ 140 on 2024-02-28 (tradeID R9, in an earlier statement), then on 2024-03-05 at the
same second IBKR cancels it (FracShareCancel +0.5, origTradeID R9, fifoPnlRealized +5.05: the sale's
70 - 0.5 x 150.10 = -5.05 reversed) and re-books it as FracShare -0.5 @ 141 under the same tradeID R9
(fifoPnlRealized 70.5 - 75.05 = -4.55). The re-book has the cancel's tradeID and the exactly opposite quantity,
so it looked like the original: both were dropped and -4.55 was lost. Now both are booked and match IBKR.
"""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine import pnl
from beanflex.engine.book import load_book
from beanflex.engine.reconcile import reconcile_book
from beanflex.importers.flex import adapter, trades
from beanflex.importers.flex.mapper import build_ledger

FIXTURES = Path(__file__).parent / "fixtures"


def import_ledger(tmp_path, *files):
    main = tmp_path / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text('option "operating_currency" "USD"\ninclude "generated/index.beancount"\n')
    for path in files:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        run = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(copy)])
        assert run.exit_code == 0, run.output
    entries, errors, options = loader.load_file(str(main))
    assert errors == []
    return entries, load_book(entries, options)


def test_the_rebook_after_a_cancel_whose_original_is_elsewhere_keeps_its_realized(tmp_path):
    entries, book = import_ledger(tmp_path, FIXTURES / "cancels" / "frac_cancel_rebook.xml")
    flex_ids = {e.meta.get("flex_id") for e in entries if hasattr(e, "postings")}
    assert {"U8/trade/X2", "U8/trade/X3"} <= flex_ids  # neither the cancel nor the re-book is dropped
    found = reconcile_book(book)
    assert {d.flex_id: (d.ours, d.ibkr) for d in found.trades} == {
        "U8/trade/X2": (D("5.05"), D("5.05")),  # -70 + 75.05: the February sale's loss reversed
        "U8/trade/X3": (D("-4.55"), D("-4.55"))}  # 70.5 - 75.05
    assert found.beyond(found.positions) == []  # 9.5 at 1425.95 = 9.5 x 150.10, as IBKR
    [row] = pnl.book_pnl(book, pnl.Options())
    assert row.value("realized") == D("0.50")  # 5.05 - 4.55: the sale moved from 140 to 141 on 0.5 shares


def test_pairing_rules_on_the_golden_and_the_frac_share_rows():
    """pp28-like golden: T1 BUY 10 (tradeID R1), T2 its cancel, T3 the re-book of 12 under R1: T2 pairs with T1.
    The frac-share statement: the cancel's original is not there and the re-book comes after it: no pair."""
    golden = build_ledger([("raw/U1/2024/c.xml", adapter.parse((FIXTURES / "trades" / "cancel_rebook.xml")
                                                                 .read_bytes(), source="c.xml"))])
    notes = [e for entries in golden.files.values() for e in entries if e.meta.get("event") == "trade_cancel"]
    assert [(n.meta["flex_id"], n.meta["cancelled_flex_id"]) for n in notes] == [("U1/trade/T2", "U1/trade/T1")]
    frac = build_ledger([("raw/U8/2024/f.xml", adapter.parse((FIXTURES / "cancels" / "frac_cancel_rebook.xml")
                                                               .read_bytes(), source="f.xml"))])
    assert not [e for entries in frac.files.values() for e in entries if e.meta.get("event") == "trade_cancel"]
    assert "FracShareCancel" in trades.CANCEL_TYPES
