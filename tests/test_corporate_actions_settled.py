"""Corporate actions booked from IBKR's own rows, on a statement of our own (tests/fixtures/corporate_actions/
settled.xml: account U7, base CHF, USD stocks bought at 0.90 CHF/USD, actions on days at 0.95).

Hand-worked figures (IBKR's rows give each `fifoPnlRealized` and OpenPositions `costBasisMoney` below):
- RS 1 for 25 into a new conid: 100 GCMO.OLD (T1: 200 + 1 commission = 201) -> 4 GCMO at 201 / 4 = 50.25, label
  and date of T1 kept; realized 0. Sale T6 of 2 @ 60, commission 1: 119 - 2 x 50.25 = 18.50 (IBKR 18.5); in CHF
  119 x 0.92 - 100.5 x 0.90 = 109.48 - 90.45 = 19.03. Left: 2 GCMO, basis 100.50 (IBKR 100.5), 90.45 CHF.
- TC cash and stock: 50 LVG (T2: 2001) -> 25 NEWCO + 100 USD cash, IBKR realized 60. NEWCO carries
  2001 + 60 - 100 = 1961 (IBKR 1961), at the opening rate: 1961 x 0.90 = 1764.90 CHF. LVG realizes
  100 + 1961 - 2001 = 60; in CHF the cash at 0.95 less the basis it consumed at 0.90: 95 - 40 x 0.90 = 59.00.
- IC: 10 TRN.OLD (100) -> 10 TRNX at 100 (IBKR 100), realized 0.
- SO: 10 SPIN with IBKR's costBasis 150 out of PAR's 1000: PAR keeps 850 (IBKR 850, 42.50 a share), SPIN 150
  (IBKR 150, 15 a share); in CHF 765 + 135 = 900 = 1000 x 0.90; realized 0.
- DW: 30 DLS (150) delisted for nothing: realized -150 (IBKR -150); in CHF -150 x 0.90 = -135.
- TC of 40 HELD held before the statement, no cost basis on the row: flagged `!` (ca_basis_unknown); NEWH 20
  at a stand-in 0, IBKR's basis 640: a cost-basis diff with that reason, and both instruments listed as flagged.
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

FIXTURE = Path(__file__).parent / "fixtures" / "corporate_actions" / "settled.xml"


def ledger(tmp_path, manual: str = ""):
    main = tmp_path / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text('option "operating_currency" "CHF"\ninclude "generated/index.beancount"\n'
                    'include "manual.beancount"\n')
    (main.parent / "manual.beancount").write_text(manual)
    xml = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, xml)
    run = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(xml)])
    assert run.exit_code == 0, run.output
    entries, errors, options = loader.load_file(str(main))
    assert errors == [], [e.message for e in errors]
    return entries, load_book(entries, options)


def rows(book, mode="ibkr", method="fifo"):
    return {r.instrument.symbol: r for r in pnl.book_pnl(book, pnl.Options(mode, method))}


def test_lots_carry_to_the_new_conid_with_basis_dates_labels_and_base_rates(tmp_path):
    _, book = ledger(tmp_path)
    for mode, method in (("ibkr", "fifo"), ("economic", "fifo"), ("economic", "average")):
        r = rows(book, mode, method)
        assert (r["GCMO"].quantity, r["GCMO"].value("cost_basis")) == (2, D("100.5"))
        assert r["GCMO"].value("base.cost_basis") == D("90.45")  # 100.5 x 0.90, the T1 rate, not the split day's
        assert r["GCMO"].value("realized") == D("18.5") and r["GCMO"].value("base.realized") == D("19.03")
        assert r["GCMO.OLD"].quantity == 0 and r["GCMO.OLD"].value("realized") == 0
        assert r["GCMO.OLD"].value("base.realized") == 0
        assert (r["NEWCO"].quantity, r["NEWCO"].value("cost_basis")) == (25, D("1961"))
        assert r["NEWCO"].value("base.cost_basis") == D("1764.90")
        assert r["LVG"].value("realized") == 60 and r["LVG"].value("base.realized") == D("59.00")
        assert (r["TRNX"].quantity, r["TRNX"].value("cost_basis")) == (10, 100)
        assert "TRN.OLD" not in r  # nothing held, nothing realized, no commission: no row
        assert (r["PAR"].value("cost_basis"), r["SPIN"].value("cost_basis")) == (850, 150)
        assert r["PAR"].value("base.cost_basis") + r["SPIN"].value("base.cost_basis") == D("900.00")
        assert r["PAR"].value("realized") == 0
        assert r["DLS"].value("realized") == -150 and r["DLS"].value("base.realized") == D("-135.0")
    row = rows(book)["GCMO"]
    lot = row.lots[0]
    assert (str(lot.open_date), lot.label, lot.ids[0]) == ("2024-01-02", "U7/trade/T1", "U7/trade/T1")
    # explain cites T1's own row (on GCMO.OLD) and the split's two rows
    [basis] = row.events("cost_basis")
    assert [ref.rsplit(":", 1)[1] for ref in basis.flex_src.split()] == ["7", "15", "16"]


def test_reconciles_with_ibkr_and_lists_the_flagged_instruments_with_their_reason(tmp_path):
    _, book = ledger(tmp_path)
    found = reconcile_book(book)
    trades = {d.flex_id: (d.ours, d.ibkr) for d in found.trades}
    assert trades == {"U7/trade/T6": (D("18.5"), D("18.5")), "U7/ca/C3": (D("60"), D("60")),
                      "U7/ca/C8": (D("-150"), D("-150"))}
    diffs = {(d.symbol, d.field, d.reason) for d in found.beyond(found.positions)}
    assert diffs == {("NEWH", "cost_basis", "ca_basis_unknown"), ("NEWH", "unrealized", "ca_basis_unknown")}
    assert {(d.symbol, d.reason) for d in found.flagged} == {("HELD", "ca_basis_unknown"),
                                                             ("NEWH", "ca_basis_unknown")}
    assert all(d in found.diffs for d in found.flagged)  # listed whatever the numbers


def test_a_hand_fix_with_the_same_flex_id_settles_the_flagged_merger(tmp_path):
    """IBKR's basis for the 20 NEWH is 640 (32 a share); the fix opens the 40 HELD at 640 and carries it."""
    fix = """
2023-12-31 open Equity:Fixes
2023-12-31 * "HELD bought before the first statement (broker's confirmation)"
  Assets:IBKR:U7:Positions  40 HELD {16 USD, 2023-06-01, "U7/manual/HELD"}
  Equity:Fixes
2024-08-01 * "TC: -40 HELD, 20 NEWH"
  flex_id: "U7/ca/C9"
  event: "corporate_action"
  Assets:IBKR:U7:Positions  -40 HELD {16 USD, 2023-06-01, "U7/manual/HELD"}
  Assets:IBKR:U7:Positions  20 NEWH {32 USD, 2023-06-01, "U7/manual/HELD"}
"""
    entries, book = ledger(tmp_path, fix)
    found = reconcile_book(book)
    assert found.flagged == [] and found.beyond(found.positions) == []
    assert rows(book)["NEWH"].value("cost_basis") == 640  # 20 x 32
