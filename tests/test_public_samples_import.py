"""Every public sample imports through `beanflex import` into a fresh ledger, and the ledger loads.

Per sample the expected numbers are recorded here: rows read / mapped / flagged `!` / reported unmapped;
read = mapped + flagged + unmapped always. Every ledger loads with zero Beancount errors. IBKR's own cash and
position figures are records (`custom "ibkr-cash"`, `"ibkr-position"`) that the reconcile plugin compares; where a
sample does not add up (trimmed or edited excerpts) that is a reconciliation diff, pinned with its reason in
tests/test_public_reconcile.py, not a load error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.importers.flex import adapter
from beanflex.importers.flex.mapper import build_ledger
from samples import public_samples

#: name -> (read, mapped, flagged, unmapped)
EXPECTED = {
    # InterestAccruals 3, SLBFees 1, ChangeInDividendAccruals 5: accruals and lending fees, not mapped (reported)
    "bankroll__ibkr_activity.xml": (9, 0, 0, 9),
    # a Trade Confirmation (TCF) statement: TradeConfirm rows are reported, the Activity statement is the source
    "bankroll__ibkr_trades.xml": (11, 0, 0, 11),
    # StatementOfFundsLine only: a running cash ledger repeating other sections
    "ib-flex-reader__StatementOfFunds.xml": (47, 0, 0, 47),
    "ib-flex-reader__kmi.xml": (16, 16, 0, 0),
    # synthetic corporate actions CD/TO/BC/BM/CP/RI/SR: the RI row is settled (rights at IBKR's 0 basis); the rest
    # flagged '!' (types not booked from rows; the TO's 50 ABC were held before the statement with no cost basis)
    "ib-flex__activity_complex_corporate_actions.xml": (10, 1, 9, 0),
    # one synthetic crypto Transfer OUT of 0.5 BTC the ledger never held: mapped, and flagged '!' with its opening
    # lot, whose cost is a stand-in (positionAmount 20000, not IBKR's basis; importers/flex/transfers.py)
    "ibflex__crypto_transfer.xml": (1, 0, 1, 0),
    "opensteuerauszug__eTax_report_anonymised_2025.xml": (912, 912, 0, 0),
    "opensteuerauszug__minimal_short_options_repro_2025.xml": (16, 16, 0, 0),
    # 44 ChangeInDividendAccrual rows (accruals, reported); 2 OpenPosition rows (RIO, NLCP) without costBasisMoney
    # or costBasisPrice: their opening lots are written at markPrice, flagged '!' (DESIGN §4: never guessed)
    "opensteuerauszug__options_future_2025.xml": (160, 114, 2, 44),
    # FxPositions, NetStockPositionSummary, PriorPeriodPositions: repeat money mapped elsewhere (reported)
    "opensteuerauszug__vtandchill_2025.xml": (39, 25, 0, 14),
    # corporate actions without `type`, settled from their rows: the 1-for-25 split into conid 129258970, the tender
    # of 12000 UUU into UUU.TEN2 (1 for 1, their 31962 CAD basis carried), then UUU.TEN2 merged for 34320 CAD
    # (realized 34320 - 31962 = 2358, IBKR's figure); 15 FxTransaction rows reported
    "portfolio__testIBFlexStatementFile01.xml": (41, 26, 0, 15),
    "portfolio__testIBFlexStatementFile02.xml": (14, 14, 0, 0),
    "portfolio__testIBFlexStatementFile09.xml": (2, 2, 0, 0),
    "portfolio__testIBFlexStatementFile12.xml": (18, 18, 0, 0),
    "portfolio__testIBFlexStatementFile14.xml": (733, 733, 0, 0),
    # 4 accrual rows reported
    "portfolio__testIBFlexStatementFile20.xml": (18, 14, 0, 4),
    # 2 InterestAccruals rows reported
    "portfolio__testIBFlexStatementFile21.xml": (11, 9, 0, 2),
    "portfolio__testIBFlexStatementFile24.xml": (11, 11, 0, 0),
    "portfolio__testIBFlexStatementFile26.xml": (6, 6, 0, 0),
    "portfolio__testIBFlexStatementFile28.xml": (4, 4, 0, 0),
    "portfolio__testIBFlexStatementFile29.xml": (11, 11, 0, 0),
    # LVGO -> TDOC settled from IBKR's rows (126.00 carried, 10.622048 realized); MRO -> COP and TRNE -> DM flagged
    # (4 rows): the shares were held before the statement and the rows give no cost basis (ca_basis_unknown)
    "uabean__beancount.xml": (24, 20, 4, 0),
    # RI rights issue (4.3333 rights at IBKR's 0 basis) and DW delisting of the 4 left (realized 0, IBKR 0) settled;
    # the fractional right's sale closes the rights lot (its Lot row has no transactionID, so the ledger's lot
    # opened that day is the one)
    "alens-importers__forex-mix.xml": (7, 7, 0, 0),
    # the OPI OpenPosition row has only symbol, isin and position: its opening lot is written at 0 USD, flagged '!'
    "beancount_reds_importers__dividend+tax.xml": (13, 12, 1, 0),
    # the same account twice: 13 rows of the second statement are the first one's again
    "ibkr-flexquery-client-lib__report.xml": (14, 14, 0, 0),
}


def new_ledger(root: Path) -> Path:
    ledger = root / "ledger"
    ledger.mkdir(parents=True)
    (ledger / "main.beancount").write_text('include "generated/index.beancount"\ninclude "manual.beancount"\n')
    (ledger / "manual.beancount").write_text("")
    return ledger / "main.beancount"


@pytest.mark.parametrize("path", public_samples(), ids=lambda p: p.name)
def test_sample_imports_and_loads(path, tmp_path):
    main = new_ledger(tmp_path)
    run = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(path)])
    assert run.exit_code == 0, run.output
    assert "archive: 1 statement file(s)" in run.output and "this run: 1 new statement file(s)" in run.output
    entries, errors, _ = loader.load_file(str(main))
    assert errors == [], [e.message for e in errors]
    document = adapter.parse(path.read_bytes(), source=path.name)
    total = build_ledger([(f"raw/x/{path.name}", document)]).total()
    got = (total.read, total.mapped, total.flagged, total.unmapped)
    assert total.read == total.mapped + total.flagged + total.unmapped
    assert got == EXPECTED[path.name]


STAND_IN_LOTS = [
    # <OpenPosition symbol="OPI" isin="US67623C1099" position="10" />: no cost, no price, no currency
    ("beancount_reds_importers__dividend+tax.xml", "OPI", "10", "0 USD",
     "none: no costBasisMoney, costBasisPrice or markPrice in the statement; 0 written; no currency on the row, "
     "USD assumed"),
    # NLCP: position 100, markPrice 15.925 (positionValue 1592.5), no cost basis: 100 x 15.925 = 1592.5 USD
    ("opensteuerauszug__options_future_2025.xml", "509735674", "100", "15.925 USD",
     "markPrice: no costBasisMoney or costBasisPrice in the statement"),
]
_PRESENT = {p.name for p in public_samples()}  # the GPL reds sample is read from ../shared only when it is there


@pytest.mark.parametrize("name, conid, units, cost, source", [case for case in STAND_IN_LOTS if case[0] in _PRESENT])
def test_opening_lot_without_ibkr_cost_basis_is_flagged_not_guessed(tmp_path, name, conid, units, cost, source):
    """DESIGN §4: a cost that is not IBKR's own basis is written flagged '!', says where it came from
    (`cost_source`) and is a flagged_row in the drift report (so `beanflex check` lists it)."""
    from beancount.core import data

    from beanflex.importers.flex import adapter
    from beanflex.importers.flex.context import ImportConfig
    from beanflex.importers.flex.mapper import build_ledger

    path = next(p for p in public_samples() if p.name == name)
    result = build_ledger([(name, adapter.parse(path.read_bytes(), source=name))], ImportConfig())
    openings = [e for entries in result.files.values() for e in entries if isinstance(e, data.Transaction)
                and e.meta.get("event") == "opening" and f"/opening/{conid}/" in e.meta["flex_id"]]
    assert len(openings) == 1
    entry = openings[0]
    assert entry.flag == "!" and entry.meta["cost_source"] == source
    lot = entry.postings[0]
    assert str(lot.units.number) == units and f"{lot.cost.number} {lot.cost.currency}" == cost
    flagged = [i for i in result.drift.items if i.kind == "flagged_row" and i.section == "OpenPositions"]
    assert flagged and any(source in i.name for i in flagged)
