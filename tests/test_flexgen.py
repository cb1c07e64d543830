"""The synthetic Flex statement (issue 9): deterministic, parseable, and reconciling exactly with itself.

The checks below recompute IBKR's figures from the generated rows alone (an independent FIFO over the Trade rows
and split rows), so a generator bug that makes `cost`, `fifoPnlRealized`, the closed lots, the open positions'
cost basis or the cash report disagree with the trades fails here, not in a slow benchmark.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections import defaultdict, deque
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path

import pytest

from flexsynth import statement as flexgen
from beanflex.importers.flex import adapter

N = 1000
ROOT = Path(__file__).resolve().parent.parent
#: The FIFO replay must be exact: any rounding in it raises instead of hiding a difference.
EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])


@pytest.fixture(scope="module")
def data() -> bytes:
    return flexgen.generate(N, seed=42)


@pytest.fixture(scope="module")
def statement(data):
    document = adapter.parse(data, "synthetic.xml")
    assert document.type == "AF"
    assert len(document.statements) == 1
    return document.statements[0]


def test_same_seed_same_bytes_other_seed_other_bytes(data):
    assert flexgen.generate(N, seed=42) == data
    assert flexgen.generate(N, seed=43) != data


def test_shape_of_the_statement(statement):
    trades = list(statement.rows("Trades", "Trade"))
    assert len(trades) == N
    assert all(t.text("levelOfDetail") == "EXECUTION" for t in trades)
    stock = [t for t in trades if t.text("assetCategory") == "STK"]
    fx = [t for t in trades if t.text("assetCategory") == "CASH"]
    opt = [t for t in trades if t.text("assetCategory") == "OPT"]
    assert len(stock) + len(fx) + len(opt) == N and fx and opt, "FX conversions and options are Trade rows too"
    assert {t.text("currency") for t in stock} == {"USD", "EUR", "CHF"}
    assert len({t.text("conid") for t in stock}) > 40  # min(600, 1000 // 20 + 5) = 55 instruments to pick from
    assert {t.text("openCloseIndicator") for t in stock} == {"O", "C"}
    assert any(t.text("notes") == "P" for t in stock), "some orders fill in two parts"
    for name in ("transactionID", "tradeID", "ibExecID"):
        values = [t.text(name) for t in trades if t.text(name)]  # BookTrades have no ibExecID, as at IBKR
        assert len(set(values)) == len(values), f"{name} must be unique"
    # ibOrderID is unique per order; only the partial fills of one order share it (same conid, side, day), or the
    # legs of an option combo order (several option conids, one day). BookTrades carry order id 0.
    orders = defaultdict(set)
    for t in trades:
        if t.text("transactionType") == "BookTrade":
            continue
        orders[t.text("ibOrderID")].add((t.text("conid") or t.text("symbol"), t.text("buySell"), t.text("tradeDate")))
    assert all(len(fills) == 1 or len({fill[2] for fill in fills}) == 1 for fills in orders.values())
    combos = [fills for fills in orders.values() if len(fills) > 1]
    assert combos and all(len({fill[0] for fill in fills}) == len(fills) for fills in combos)
    assert len(orders) < len(trades)
    all_ids = [r.text("transactionID") for r in statement.records
               if r.tag in ("Trade", "CashTransaction", "CorporateAction")]
    assert len(set(all_ids)) == len(all_ids)
    first, last = trades[0].date("dateTime"), trades[-1].date("dateTime")
    assert (last - first).days > 365, "the trades span several years"
    assert statement.base_currency == "USD"
    assert [r.text("type") for r in statement.rows("CorporateActions")].count("FS") >= 2
    kinds = {r.text("type") for r in statement.rows("CashTransactions")}
    assert {"Dividends", "Withholding Tax", "Other Fees", "Deposits/Withdrawals"} <= kinds
    # Each dividend's withholding shares its actionID.
    by_action = defaultdict(list)
    for row in statement.rows("CashTransactions"):
        if row.text("actionID"):
            by_action[row.text("actionID")].append(row.text("type"))
    assert by_action and all(sorted(kinds) in (["Dividends"], ["Dividends", "Withholding Tax"])
                             for kinds in by_action.values())
    # ConversionRates: one per non-base currency per day that has rows, matching the rows' fxRateToBase.
    rates = {(r.text("reportDate"), r.text("fromCurrency")): r.decimal("rate")
             for r in statement.rows("ConversionRates")}
    for trade in stock:
        if trade.text("currency") != "USD":
            key = (trade.date("dateTime").strftime("%Y%m%d"), trade.text("currency"))
            assert rates[key] == trade.decimal("fxRateToBase")


def _assigned_premiums(statement) -> dict[tuple[str, str], Decimal]:
    """(underlying conid, dateTime) -> the net premium of the options assigned then (their closing `cost`).

    E.g. a short put sold for netCash 248.70 closes by a BookTrade BUY @ 0 with cost 248.70: IBKR moves 248.70
    into the stock it delivers (DESIGN §8).
    """
    premiums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in statement.rows("Trades", "Trade"):
        if t.text("assetCategory") == "OPT" and t.text("notes") == "A":
            premiums[(t.text("underlyingConid"), t.text("dateTime"))] += t.decimal("cost")
    return premiums


def test_every_trade_row_is_internally_consistent(statement):
    premiums = _assigned_premiums(statement)
    with localcontext(EXACT):
        for t in statement.rows("Trades", "Trade"):
            q, price = t.decimal("quantity"), t.decimal("tradePrice")
            assert t.decimal("tradeMoney") == q * price * t.decimal("multiplier"), t.line
            assert t.decimal("proceeds") == -t.decimal("tradeMoney"), t.line
            if t.text("assetCategory") == "CASH":
                # IBKR writes netCash, cost and fifoPnlRealized 0 on FX conversions.
                assert (t.decimal("netCash"), t.decimal("cost"), t.decimal("fifoPnlRealized")) == (0, 0, 0)
                continue
            assert t.decimal("ibCommission") <= 0
            assert t.decimal("netCash") == t.decimal("proceeds") + t.decimal("ibCommission") + t.decimal("taxes")
            if t.text("openCloseIndicator") == "O":
                assert t.decimal("cost") == -t.decimal("netCash") and t.decimal("fifoPnlRealized") == 0
            elif t.text("notes") == "A" and t.text("assetCategory") == "OPT":
                assert t.decimal("fifoPnlRealized") == 0, t.line  # IBKR folds it into the stock leg
            else:
                folded = premiums.get((t.text("conid"), t.text("dateTime")), 0) if t.text("notes") == "A" else 0
                assert t.decimal("fifoPnlRealized") == t.decimal("netCash") + t.decimal("cost") + folded, t.line


def _replay(statement):
    """Independent FIFO over Trade and split rows; yields (trade, basis closed, lots taken, premium folded) per
    closing trade.

    A lot gives up basis x taken / remaining shares. E.g. a lot of 16 with basis 1976.5572 sold 10 gives up
    1976.5572 x 10 / 16 = 1235.34825, and keeps 6 shares with 741.20895.
    """
    events = [(r.datetime("dateTime"), 0, n, r) for n, r in enumerate(statement.rows("Trades", "Trade"))
              if r.text("assetCategory") == "STK"]
    events += [(r.datetime("dateTime"), 1, n, r) for n, r in enumerate(statement.rows("CorporateActions"))]
    lots: dict[str, deque] = defaultdict(deque)  # conid -> [transactionID, shares, basis]
    premiums = _assigned_premiums(statement)
    closes = []
    for _, kind, _, row in sorted(events, key=lambda e: e[:3]):
        conid = row.text("conid")
        if kind == 1:  # forward split: every lot gets ratio x shares, basis unchanged
            held = sum(lot[1] for lot in lots[conid])
            ratio = (held + row.decimal("quantity")) / held
            for lot in lots[conid]:
                lot[1] *= ratio
            continue
        quantity = row.decimal("quantity")
        # An assigned put's premium lowers the basis of the shares it delivers: 10000 - 248.70 = 9751.30.
        folded = premiums.get((conid, row.text("dateTime")), 0) if row.text("notes") == "A" else 0
        if quantity > 0:
            lots[conid].append([row.text("transactionID"), quantity, row.decimal("cost") - folded])
            continue
        left, basis, taken = -quantity, Decimal(0), []
        while left:
            lot = lots[conid][0]
            take = min(left, lot[1])
            part = lot[2] * take / lot[1]
            lot[1] -= take
            lot[2] -= part
            if lot[1] == 0:
                lots[conid].popleft()
            basis += part
            left -= take
            taken.append((lot[0], take, part))
        closes.append((row, basis, taken, folded))  # a called-away call's premium adds to its realized
    return closes, lots


def test_fifo_recomputation_matches_cost_realized_and_closed_lots(statement):
    with localcontext(EXACT):
        closes, _ = _replay(statement)
        assert len(closes) > 100
        groups = _lot_groups(statement)
        for trade, basis, taken, folded in closes:
            assert trade.decimal("cost") == -basis, f"line {trade.line}: cost vs FIFO basis"
            assert trade.decimal("fifoPnlRealized") == trade.decimal("netCash") - basis + folded, trade.line
            lots = groups[trade.line]
            assert [(lot.text("transactionID"), lot.decimal("quantity"), lot.decimal("cost")) for lot in lots] == \
                taken, f"line {trade.line}: CLOSED_LOT rows vs FIFO"
            # Each group sums to its trade: quantity and cost with the opposite sign, P&L equal.
            assert sum(lot.decimal("quantity") for lot in lots) == -trade.decimal("quantity")
            assert sum(lot.decimal("cost") for lot in lots) == -trade.decimal("cost")
            assert sum(lot.decimal("fifoPnlRealized") for lot in lots) == trade.decimal("fifoPnlRealized")
            assert all(lot.text("levelOfDetail") == "CLOSED_LOT" and lot.datetime("openDateTime") for lot in lots)


def _lot_groups(statement) -> dict[int, list]:
    """Lot rows by the line of the Trade row they follow."""
    groups, current = defaultdict(list), None
    for row in statement.rows("Trades"):
        if row.tag == "Trade":
            current = row.line
        else:
            assert row.tag == "Lot"
            groups[current].append(row)
    return groups


def test_open_positions_hold_what_the_lots_hold(statement):
    with localcontext(EXACT):
        _, lots = _replay(statement)
        remaining = {conid: (sum(l[1] for l in q), sum((l[2] for l in q), Decimal(0)))
                     for conid, q in lots.items() if q}
        positions = {p.text("conid"): p for p in statement.rows("OpenPositions")}
        assert positions and set(positions) == set(remaining)
        for conid, (shares, basis) in remaining.items():
            p = positions[conid]
            assert p.text("levelOfDetail") == "SUMMARY"
            assert p.decimal("position") == shares
            assert p.decimal("costBasisMoney") == basis
            assert p.decimal("positionValue") == shares * p.decimal("markPrice")
            assert p.decimal("fifoPnlUnrealized") == p.decimal("positionValue") - basis
            assert abs(p.decimal("costBasisPrice") * shares - basis) < Decimal("0.0001")


def test_cash_report_ending_cash_is_starting_plus_every_cash_row(statement):
    effects: dict[str, Decimal] = defaultdict(Decimal)
    with localcontext(EXACT):
        for t in statement.rows("Trades", "Trade"):
            if t.text("assetCategory") == "CASH":  # EUR.USD BUY 6000 @ 1.11: EUR +6000, USD -6660, fee in USD
                first, _ = t.text("symbol").split(".")
                effects[first] += t.decimal("quantity")
                effects[t.text("currency")] += t.decimal("proceeds")
                effects[t.text("ibCommissionCurrency")] += t.decimal("ibCommission")
            else:
                effects[t.text("currency")] += t.decimal("netCash")
        for c in statement.rows("CashTransactions"):
            effects[c.text("currency")] += c.decimal("amount")
        report = {r.text("currency"): r for r in statement.rows("CashReport")}
        assert set(report) == {"USD", "EUR", "CHF"}
        for ccy, row in report.items():
            assert row.decimal("endingCash") == row.decimal("startingCash") + effects[ccy], ccy


def test_other_base_currency_and_account(statement):
    data = flexgen.generate(60, seed=1, account="U1111111", base_currency="CHF", start=datetime.date(2020, 1, 6))
    stmt = adapter.parse(data).statements[0]
    assert stmt.account == "U1111111" and stmt.base_currency == "CHF"
    assert stmt.from_date == datetime.date(2020, 1, 6)
    assert {r.text("toCurrency") for r in stmt.rows("ConversionRates")} == {"CHF"}
    assert all(t.decimal("fxRateToBase") == 1 for t in stmt.rows("Trades", "Trade") if t.text("currency") == "CHF")


def test_script_writes_the_same_bytes(tmp_path, data):
    out = tmp_path / "s.xml"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "flexgen"), str(N), "--seed", "42", "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == data
