"""Transfers (issue 4): position and cash transfers, mapped by importers/flex/transfers.py and read by the lot engine.

Statements in tests/fixtures/transfers/ (hand-made, numbers checked below):
- acats_internal_cash.xml (U1, March 2024): BUY 10 AAPL @ 100, commission 1 (lot 100.1); ACATS IN 20 MSFT, IBKR's
  OpenPositions basis 6000.50; INTERNAL OUT 4 AAPL; INTERNAL IN 2500 USD cash. Cash 5000 - 1001 + 2500 = 6499.
- aton_in_no_basis_cash_twin.xml (U2, June 2024): ATON IN 3 NVDA with no cost basis anywhere (stand-in, flagged),
  and 1000 USD that both a Transfer row and a CashTransactions Deposits/Withdrawals row report (booked once).
- the public synthetic ibflex__crypto_transfer.xml: OTC OUT 0.5 BTC the ledger never held (history, flagged).

Golden files `<case>.xml.beancount` hold the transactions and commodities generated (what this slice decides; the
checks' balances and customs have their own tests), rewritten only with BEANFLEX_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import datetime
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.importers.flex import adapter, writer
from beanflex.importers.flex.mapper import build_ledger
from beanflex.engine import book as book_mod
from beanflex.engine import lots as lots_mod
from samples import sample

FIXTURES = Path(__file__).parent / "fixtures" / "transfers"
CASES = sorted(p.name for p in FIXTURES.glob("*.xml"))
UPDATE = os.environ.get("BEANFLEX_UPDATE_GOLDEN") == "1"
CRYPTO = "ibflex__crypto_transfer.xml"


def build(*paths: Path):
    archived = []
    for path in paths:
        document = adapter.parse(path.read_bytes(), source=path.name)
        archived.append((f"raw/{document.statements[0].account}/{path.name}", document))
    return build_ledger(archived)


def load(result, tmp_path: Path):
    """The generated files as a ledger, loaded by the real Beancount loader."""
    files = {p: writer.render(entries) for p, entries in result.files.items()}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    main = tmp_path / "main.beancount"
    main.write_text('option "operating_currency" "USD"\n' + "".join(f'include "{p}"\n' for p in sorted(files)))
    return loader.load_file(str(main))


def txn(entries, flex_id):
    return next(e for e in entries if isinstance(e, data.Transaction) and e.meta.get("flex_id") == flex_id)


def postings(entry, account_end):
    return [(p.units.number, p.units.currency, p.cost.number if p.cost else None, p.cost.label if p.cost else None)
            for p in entry.postings if p.account.endswith(account_end)]


@pytest.mark.parametrize("name", CASES)
def test_golden(name, tmp_path):
    result = build(FIXTURES / name)
    kept = {path: [e for e in entries if isinstance(e, (data.Transaction, data.Commodity, data.Note))]
            for path, entries in sorted(result.files.items())}
    text = "".join(f";; ==> {path}\n{writer.render(entries)}\n" for path, entries in kept.items() if entries)
    golden = FIXTURES / f"{name}.beancount"
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.name}; review the output and write it with BEANFLEX_UPDATE_GOLDEN=1"
    assert text == golden.read_text()
    _, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    total = result.total()
    assert total.read == total.mapped + total.flagged + total.unmapped and total.unmapped == 0


def test_acats_in_internal_out_and_cash(tmp_path):
    result = build(FIXTURES / "acats_internal_cash.xml")
    entries, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    # rows: AccountInformation, CashReport, 1 Trade, 3 Transfers, 2 OpenPositions = 8, all mapped, none flagged
    assert result.total().as_dict() == {"read": 8, "mapped": 8, "flagged": 0, "unmapped": 0, "duplicates": 0}

    acats = txn(entries, "U1/transfer/X1")
    # IBKR's basis: MSFT ends at 20 shares (exactly the transfer, nothing else moved MSFT), costBasisMoney 6000.50;
    # 6000.50 / 20 = 300.025 a share. The market value 8000 (positionAmount) is not used.
    assert acats.flag == "*" and acats.meta["event"] == "transfer" and acats.meta["transfer_type"] == "ACATS"
    assert postings(acats, ":Positions") == [(Decimal(20), "MSFT", Decimal("300.025"), "U1/transfer/X1")]
    assert postings(acats, ":Transfers") == [(Decimal("-6000.5"), "USD", None, None)]
    assert acats.meta["cost_source"].startswith("OpenPositions.costBasisMoney")

    out = txn(entries, "U1/transfer/X2")
    # 4 of the 10 bought at 100.1 (1001 / 10) leave at cost: 4 x 100.1 = 400.4; no PnL, no cash
    assert out.flag == "*" and out.date == datetime.date(2024, 3, 12)
    assert postings(out, ":Positions") == [(Decimal(-4), "AAPL", Decimal("100.1"), "U1/trade/B1")]
    assert postings(out, ":Transfers") == [(Decimal("400.4"), "USD", None, None)]
    assert postings(out, ":PnL") == [] and postings(out, ":Cash") == []

    cash = txn(entries, "U1/transfer/X3")
    assert postings(cash, ":Cash") == [(Decimal(2500), "USD", None, None)]
    assert postings(cash, ":Transfers") == [(Decimal(-2500), "USD", None, None)]
    # every Cash posting: opening 5000, buy -1001, transfer 2500 = 6499, IBKR's CashReport endingCash
    cash_total = sum(p.units.number for e in entries if isinstance(e, data.Transaction) for p in e.postings
                     if p.account == "Assets:IBKR:U1:Cash")
    assert cash_total == Decimal(6499)
    # the buy opens no phantom history: OpenPositions 6 = bought 10 - transferred out 4, so nothing was held before
    assert [e.meta["flex_id"] for e in entries if isinstance(e, data.Transaction)
            and "/opening/" in e.meta["flex_id"]] == ["U1/opening/cash/USD"]


def cli_ledger(tmp_path: Path, *statements: Path) -> Path:
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('include "generated/index.beancount"\ninclude "manual.beancount"\n')
    (ledger / "manual.beancount").write_text("")
    main = ledger / "main.beancount"
    run = CliRunner().invoke(cli, ["--ledger", str(main), "import", *map(str, statements)])
    assert run.exit_code == 0, run.output
    return main


def report(main: Path, *args: str) -> dict:
    run = CliRunner().invoke(cli, ["--ledger", str(main), "report", *args, "--format", "json"])
    assert run.exit_code == 0, run.output
    return json.loads(run.output)


def test_reports_show_transferred_positions_at_cost_and_no_realized(tmp_path):
    main = cli_ledger(tmp_path, FIXTURES / "acats_internal_cash.xml")
    _, errors, _ = loader.load_file(str(main))
    assert errors == [], [e.message for e in errors]
    positions = {p["symbol"]: p for p in report(main, "positions")["positions"]}
    # AAPL: 10 - 4 = 6 left at 100.1: 600.60; MSFT: 20 transferred in at IBKR's 6000.50
    assert (positions["AAPL"]["quantity"], positions["AAPL"]["cost_basis"]) == ("6", "600.60")
    assert (positions["MSFT"]["quantity"], positions["MSFT"]["cost_basis"]) == ("20", "6000.50")
    assert [lot["label"] for lot in positions["MSFT"]["lots"]] == ["U1/transfer/X1"]
    for mode in (["--mode", "ibkr"], ["--mode", "economic", "--method", "fifo"],
                 ["--mode", "economic", "--method", "average"]):
        pnl = {i["symbol"]: i for i in report(main, "pnl", *mode)["instruments"]}
        # the OUT transfer realizes nothing: AAPL unrealized 6 x 110 - 600.60 = 59.40, total = unrealized
        assert (pnl["AAPL"]["realized"], pnl["AAPL"]["unrealized"], pnl["AAPL"]["total"]) == ("0.00", "59.40",
                                                                                             "59.40"), mode
        # MSFT: 20 x 410 - 6000.50 = 2199.50, IBKR's fifoPnlUnrealized
        assert (pnl["MSFT"]["realized"], pnl["MSFT"]["unrealized"]) == ("0.00", "2199.50"), mode
    assert report(main, "reconcile")["diffs"] == []


def test_lot_engine_transfer_out_closes_at_cost_without_a_closing():
    """lots.apply: the same legs as a transfer realize nothing; as a trade with no cash they would lose 400.40."""
    day = datetime.date(2024, 3, 4)
    bought = [lots_mod.Lot(day, Decimal(10), Decimal(1001), Decimal(1001), "U1/trade/B1", ("U1/trade/B1",))]
    leg = book_mod.Leg(Decimal(-4), Decimal("100.1"), day, "U1/trade/B1", False)

    def event(kind):
        return book_mod.Event(datetime.date(2024, 3, 12), kind, "U1", "265598", "AAPL", "USD", "U1/transfer/X2",
                              "", "", "*", legs=(leg,), net_cash=Decimal(0))

    picker, pool = lots_mod.METHODS["ibkr"]
    left, closing = lots_mod.apply(bought, event("transfer"), picker, pool)
    assert closing is None
    assert [(lot.units, lot.basis) for lot in left] == [(Decimal(6), Decimal("600.6"))]  # 1001 - 400.4
    _, sale = lots_mod.apply(bought, event("trade"), picker, pool)
    assert sale.realized == Decimal("-400.4")  # 0 proceeds - 4 x 100.1: what a transfer must not book


def test_transfer_in_without_ibkr_basis_is_flagged_and_cash_twin_booked_once(tmp_path):
    result = build(FIXTURES / "aton_in_no_basis_cash_twin.xml")
    entries, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    # rows: AccountInformation, CashReport, 1 CashTransaction, 2 Transfers = 5; the NVDA transfer flagged
    assert result.total().as_dict() == {"read": 5, "mapped": 4, "flagged": 1, "unmapped": 0, "duplicates": 0}
    nvda = txn(entries, "U2/transfer/X4")
    # no OpenPositions: the number is the market value positionAmount 2700 / 3 = 900 a share, flagged, never IBKR's
    assert nvda.flag == "!"
    assert postings(nvda, ":Positions") == [(Decimal(3), "NVDA", Decimal(900), "U2/transfer/X4")]
    assert nvda.meta["cost_source"].startswith("positionAmount: the market value at the transfer")
    assert [i.kind for i in result.drift.items if i.section == "Transfers"] == ["flagged_row"]
    # 1000 USD reported by the Transfer row X5 and the Deposits/Withdrawals row C1: booked once (C1), so Cash ends
    # at 0 + 1000 = 1000, IBKR's endingCash
    cash = [(e.meta["flex_id"], p.units.number) for e in entries if isinstance(e, data.Transaction)
            for p in e.postings if p.account == "Assets:IBKR:U2:Cash"]
    assert cash == [("U2/cash/C1", Decimal(1000))]


def test_crypto_out_of_history_is_flagged_on_both_entries(tmp_path):
    result = build(sample(CRYPTO))
    entries, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    assert result.total().as_dict() == {"read": 1, "mapped": 0, "flagged": 1, "unmapped": 0, "duplicates": 0}
    opening = txn(entries, "U1234567/opening/123456789/12345678")
    transfer = txn(entries, "U1234567/transfer/12345678")
    # 0.5 BTC never held by the ledger: opened the day before the statement (2025-02-01 - 1 day) at the stand-in
    # |positionAmount| 20000 / 0.5 = 40000 a coin, then transferred out at that cost, both flagged
    assert (opening.flag, opening.date, transfer.flag) == ("!", datetime.date(2025, 1, 31), "!")
    label = "U1234567/opening/123456789/12345678"
    assert postings(opening, ":Positions") == [(Decimal("0.5"), "BTC.USD-PAXOS", Decimal(40000), label)]
    assert postings(opening, ":Opening") == [(Decimal(-20000), "USD", None, None)]
    assert postings(transfer, ":Positions") == [(Decimal("-0.5"), "BTC.USD-PAXOS", Decimal(40000), label)]
    assert postings(transfer, ":Transfers") == [(Decimal(20000), "USD", None, None)]
    assert "positionAmount" in opening.meta["cost_source"] and transfer.meta["direction"] == "OUT"


def test_crypto_sample_positions_report_empty_and_nothing_realized(tmp_path):
    main = cli_ledger(tmp_path, sample(CRYPTO))
    pnl = report(main, "pnl")
    assert [i for i in pnl["instruments"] if i["realized"] != "0.00" or i["quantity"] != "0"] == []
    assert report(main, "positions")["positions"] == []


def test_overlapping_statements_book_each_transfer_once(tmp_path):
    path = FIXTURES / "acats_internal_cash.xml"
    document = adapter.parse(path.read_bytes(), source=path.name)
    result = build_ledger([("raw/U1/2024/a.xml", document), ("raw/U1/2024/b.xml", document)])
    entries, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    ids = [e.meta["flex_id"] for e in entries if isinstance(e, data.Transaction)]
    assert sorted(i for i in ids if "/transfer/" in i) == ["U1/transfer/X1", "U1/transfer/X2", "U1/transfer/X3"]
    # every row of the second file but AccountInformation (read, not an event) repeats the first's: the trade,
    # 3 transfers, the CashReport row and 2 OpenPositions rows = 7
    assert result.counts["raw/U1/2024/a.xml"].duplicates == 0
    assert result.counts["raw/U1/2024/b.xml"].duplicates == 7


def test_lot_level_rows_are_reported_not_booked(tmp_path):
    """A levelOfDetail other than TRANSFER (IBKR documents "transferred lots"; none seen) is not a second event."""
    text = (FIXTURES / "acats_internal_cash.xml").read_bytes().replace(
        b'transactionID="X2" levelOfDetail="TRANSFER"', b'transactionID="X2" levelOfDetail="LOT"')
    result = build_ledger([("raw/U1/2024/lot.xml", adapter.parse(text, source="lot.xml"))])
    assert result.total().unmapped == 1
    [item] = [i for i in result.drift.items if i.section == "Transfers"]
    assert item.kind == "unmapped_row" and "levelOfDetail=LOT" in item.name


def test_slb_fees_are_reported_with_their_reason():
    """bankroll's SLBFee row is IBKR's daily lend-fee computation (value date, fee rates), not cash."""
    result = build(sample("bankroll__ibkr_activity.xml"))
    assert (lambda t: (t.read, t.mapped, t.flagged, t.unmapped))(result.total()) == (9, 0, 0, 9)
    [item] = [i for i in result.drift.items if i.section == "SLBFees"]
    assert "not cash" in item.name and "CashTransactions" in item.name


LOT_STATEMENT = b"""<FlexQueryResponse queryName="t" type="AF"><FlexStatements count="1">
<FlexStatement accountId="U3" fromDate="20240301" toDate="20240331" period="LastMonth" whenGenerated="20240401;120000">
<AccountInformation accountId="U3" currency="USD" />
<Trades>
<Trade accountId="U3" assetCategory="STK" symbol="MSFT" conid="272093" multiplier="1" currency="USD" fxRateToBase="1"
 dateTime="20240320;100000" quantity="5" tradePrice="400" proceeds="-2000" ibCommission="-1" netCash="-2001"
 cost="2001" fifoPnlRealized="0" openCloseIndicator="O" buySell="BUY" transactionID="B9" levelOfDetail="EXECUTION" />
</Trades>
<Transfers>
<Transfer accountId="U3" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="MSFT" conid="272093"
 multiplier="1" date="20240305" type="FOP" direction="IN" quantity="20" transferPrice="0" positionAmount="8000"
 pnlAmount="0" cashTransfer="0" transactionID="X9" levelOfDetail="TRANSFER" />
</Transfers>
<OpenPositions>
<OpenPosition accountId="U3" currency="USD" assetCategory="STK" symbol="MSFT" conid="272093" multiplier="1"
 reportDate="20240331" position="20" markPrice="410" costBasisMoney="5400" levelOfDetail="LOT"
 originatingTransactionID="X9" openDateTime="20210104;100000" />
<OpenPosition accountId="U3" currency="USD" assetCategory="STK" symbol="MSFT" conid="272093" multiplier="1"
 reportDate="20240331" position="5" markPrice="410" costBasisMoney="2001" levelOfDetail="LOT"
 originatingTransactionID="B9" openDateTime="20240320;100000" />
</OpenPositions>
</FlexStatement></FlexStatements></FlexQueryResponse>"""


def test_transfer_in_takes_ibkr_basis_from_its_own_lot_row(tmp_path):
    """MSFT is also bought in the statement, so the end position (25) is not the transfer's; IBKR's LOT row that
    names the transfer (originatingTransactionID X9) gives its basis: 5400 / 20 = 270 a share, not flagged."""
    result = build_ledger([("raw/U3/2024/lot.xml", adapter.parse(LOT_STATEMENT, source="lot.xml"))])
    entries, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    entry = txn(entries, "U3/transfer/X9")
    assert entry.flag == "*" and "originatingTransactionID" in entry.meta["cost_source"]
    assert postings(entry, ":Positions") == [(Decimal(20), "MSFT", Decimal(270), "U3/transfer/X9")]
    assert postings(entry, ":Transfers") == [(Decimal(-5400), "USD", None, None)]
    assert result.total().flagged == 0 and result.total().unmapped == 0


def test_ibkr_pnl_amount_on_a_transfer_flags_it(tmp_path):
    """The ledger books no P&L on a transfer; when IBKR reports one, the entry says so (`!`, flagged_row)."""
    text = (FIXTURES / "acats_internal_cash.xml").read_bytes().replace(
        b'positionAmount="-440" positionAmountInBase="-440" pnlAmount="0"',
        b'positionAmount="-440" positionAmountInBase="-440" pnlAmount="39.6"')
    result = build_ledger([("raw/U1/2024/pnl.xml", adapter.parse(text, source="pnl.xml"))])
    entries, errors, _ = load(result, tmp_path)
    assert errors == [], [e.message for e in errors]
    out = txn(entries, "U1/transfer/X2")
    assert out.flag == "!" and out.meta["pnl_amount"] == Decimal("39.6") and postings(out, ":PnL") == []
    [item] = [i for i in result.drift.items if i.section == "Transfers"]
    assert item.kind == "flagged_row" and "pnlAmount 39.6" in item.name
