"""Golden files for the trades half of the mapping: each small statement in tests/fixtures/trades/ and the exact
Beancount text it must generate (`<case>.xml.beancount`, reviewed by reading it).

Golden files change only with BEANFLEX_UPDATE_GOLDEN=1; a missing golden file fails. Every generated ledger is also
loaded by the real Beancount loader and must have zero errors, and the key numbers are checked by hand below.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from beanflex.importers.flex import adapter, writer
from beanflex.importers.flex.mapper import build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "trades"
CASES = sorted(p.name for p in FIXTURES.glob("*.xml"))
UPDATE = os.environ.get("BEANFLEX_UPDATE_GOLDEN") == "1"


def generate(name: str, manual: frozenset = frozenset()):
    path = FIXTURES / name
    document = adapter.parse(path.read_bytes(), source=name)
    result = build_ledger([(f"raw/U1/2024/{name}", document)], manual_flex_ids=manual)
    return result, {p: writer.render(entries) for p, entries in sorted(result.files.items())}


def as_text(files: dict[str, str]) -> str:
    return "".join(f";; ==> {path}\n{text}\n" for path, text in files.items())


def load(files: dict[str, str], tmp_path: Path):
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    includes = "".join(f'include "{p}"\n' for p in files)
    main = tmp_path / "main.beancount"
    main.write_text('option "operating_currency" "USD"\n' + includes)
    return loader.load_file(str(main))


@pytest.mark.parametrize("name", CASES)
def test_golden(name, tmp_path):
    result, files = generate(name)
    text = as_text(files)
    golden = FIXTURES / f"{name}.beancount"
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.name}; review the output and write it with BEANFLEX_UPDATE_GOLDEN=1"
    assert text == golden.read_text()
    entries, errors, _ = load(files, tmp_path)
    assert errors == [], [e.message for e in errors]
    total = result.total()
    assert total.read == total.mapped + total.flagged + total.unmapped
    assert total.unmapped == 0, result.drift.lines()


def txn(entries, flex_id):
    return next(e for e in entries if e.meta.get("flex_id") == flex_id)


def amount(entry, account, currency=None):
    return sum(p.units.number for p in entry.postings if p.account == account
               and (currency is None or p.units.currency == currency))


def test_aapl_design_example(tmp_path):
    """DESIGN §4: realized 347 = 1948.5 - (1001 + 5 × 120.1); 5 shares of T2 stay at 120.1 each."""
    _, files = generate("aapl_fifo_closed_lots.xml")
    entries, errors, _ = load(files, tmp_path)
    sale = txn(entries, "U1/trade/T3")
    assert amount(sale, "Income:IBKR:U1:PnL") == Decimal("-347.0")
    closed = [(p.units.number, p.cost.label) for p in sale.postings if p.account.endswith("Positions")]
    assert closed == [(Decimal(-10), "U1/trade/T1"), (Decimal(-5), "U1/trade/T2")]


def test_closed_lot_names_the_middle_lot_then_fifo(tmp_path):
    """T4 closes T2 (IBKR's CLOSED_LOT); T5 has no Lot rows, so FIFO takes T1: 125 - 5 × 10 = 75 realized."""
    _, files = generate("closed_lot_middle.xml")
    entries, errors, _ = load(files, tmp_path)
    assert [p.cost.label for p in txn(entries, "U1/trade/T4").postings if p.cost] == ["U1/trade/T2"]
    t5 = txn(entries, "U1/trade/T5")
    assert [p.cost.label for p in t5.postings if p.cost] == ["U1/trade/T1"]
    assert amount(t5, "Income:IBKR:U1:PnL") == Decimal(-75)


def test_short_covered_and_flip(tmp_path):
    """Short: 499 received, 401 paid -> 98. Flip: 1099 for the closed 10 (1648.5 × 10/15) - 1001 = 98."""
    _, files = generate("short_covered.xml")
    entries, _, _ = load(files, tmp_path / "short")
    assert amount(txn(entries, "U1/trade/T2"), "Income:IBKR:U1:PnL") == Decimal(-98)
    _, files = generate("flip.xml")
    entries, errors, _ = load(files, tmp_path / "flip")
    flip = txn(entries, "U1/trade/T2")
    assert amount(flip, "Income:IBKR:U1:PnL") == Decimal(-98)
    opened = [p for p in flip.postings if p.cost and p.units.number < 0 and p.cost.label == "U1/trade/T2"]
    assert opened[0].units.number == -5 and opened[0].cost.number == Decimal("109.9")  # 549.5 / 5


def test_cancel_and_rebook_book_only_the_rebook(tmp_path):
    result, files = generate("cancel_rebook.xml")
    entries, errors, _ = load(files, tmp_path)
    trades = [e for e in entries if e.meta.get("event") == "trade"]
    assert [e.meta["flex_id"] for e in trades] == ["U1/trade/T3"]
    assert result.total().unmapped == 0


def test_fx_commission_in_base_goes_to_commissions(tmp_path):
    _, files = generate("fx_commission_base.xml")
    entries, errors, _ = load(files, tmp_path)
    fx = txn(entries, "U1/trade/F1")
    assert amount(fx, "Assets:IBKR:U1:Cash", "EUR") == 1000
    assert amount(fx, "Assets:IBKR:U1:Cash", "USD") == -1100
    assert amount(fx, "Expenses:IBKR:U1:Commissions", "CHF") == 2


def test_option_events_are_not_double_counted(tmp_path):
    """The three OptionEAE rows name the BookTrades' events; the stock lot costs 5000 (IBKR folds the 299 premium
    into its cost, 4701, which stays in ibkr_cost for reconciliation)."""
    _, files = generate("option_expiry_assignment.xml")
    entries, errors, _ = load(files, tmp_path)
    events = sorted(e.meta["event"] for e in entries if e.meta.get("event") in ("expiry", "assignment"))
    assert events == ["assignment", "assignment", "expiry"]
    assert len([e for e in entries if str(e.meta.get("flex_id", "")).startswith("U1/eae")]) == 0
    assert amount(txn(entries, "U1/trade/O3"), "Income:IBKR:U1:PnL") == Decimal(-199)
    # the assigned put and the 100 shares it delivered share one link; the expired call has none
    assert txn(entries, "U1/trade/O4").links == txn(entries, "U1/trade/O5").links == {"eae-U1-900002-20240315"}
    assert not txn(entries, "U1/trade/O3").links


def test_split_keeps_label_date_and_cost(tmp_path):
    """10 @ 100.1 become 20 @ 50.05 (1001 either way); the sale of 20 @ 60 (net 1199) realizes 198."""
    _, files = generate("split_between_trades.xml")
    entries, errors, _ = load(files, tmp_path)
    split = next(e for e in entries if e.meta.get("event") == "split")
    added = [p for p in split.postings if p.units.number > 0]
    assert [(p.units.number, p.cost.number, p.cost.label) for p in added] == [(20, Decimal("50.05"), "U1/trade/T1")]
    assert amount(txn(entries, "U1/trade/T2"), "Income:IBKR:U1:PnL") == Decimal(-198)


def test_cash_and_stock_merger_is_settled_by_ibkr_rows(tmp_path):
    """10 OLD (200) -> 5 NEW + 15 USD, IBKR realized 0: NEW carries 200 + 0 - 15 = 185 (37 a share) under T1's
    label and date, the cash is 15, realized 15 + 185 - 200 = 0."""
    result, files = generate("merger_cash_and_stock.xml")
    entries, errors, _ = load(files, tmp_path)
    merger = txn(entries, "U1/ca/C1")
    assert merger.flag == "*" and result.total().flagged == 0
    new = [p for p in merger.postings if p.units.currency == "NEW"]
    assert [(p.units.number, p.cost.number, p.cost.label) for p in new] == [(5, 37, "U1/trade/T1")]
    assert amount(merger, "Assets:IBKR:U1:Cash") == 15 and amount(merger, "Income:IBKR:U1:PnL") == 0


def test_merger_of_shares_held_before_the_statement_is_flagged_balanced_and_replaceable(tmp_path):
    """No trade and no costBasis for the 10 OLD: the basis NEW carries is not in IBKR's rows."""
    result, files = generate("merger_before_statement.xml")
    entries, errors, _ = load(files, tmp_path)
    merger = txn(entries, "U1/ca/C1")
    assert merger.flag == "!" and merger.meta["flag_reason"] == "ca_basis_unknown"
    assert result.total().flagged == 2 and result.drift.count("flagged_row") == 2
    result, files = generate("merger_before_statement.xml", manual=frozenset({"U1/ca/C1"}))
    assert "U1/ca/C1" not in as_text(files) and result.overridden == ["U1/ca/C1"]
    assert result.total().flagged == 0  # the hand fix replaced the flagged entry


def test_partial_history_gets_opening_lots(tmp_path):
    """AAPL: the sale closes lot OLD1 bought 2023-06-01 (Lot row: 5 for 500); 10 more are held (LOT row OLD2,
    1200). MSFT: 3 sold with no Lot rows, IBKR cost -900 -> an opening lot of 3 at 300, the day before the statement.
    """
    _, files = generate("partial_history.xml")
    entries, errors, _ = load(files, tmp_path)
    openings = {e.meta["flex_id"]: e for e in entries if e.meta.get("event") == "opening"}
    assert sorted(openings) == ["U1/opening/265598/OLD1", "U1/opening/265598/OLD2", "U1/opening/272093/T2"]
    old1 = openings["U1/opening/265598/OLD1"].postings[0]
    assert (old1.units.number, old1.cost.number, str(old1.cost.date), old1.cost.label) == \
        (5, 100, "2023-06-01", "U1/trade/OLD1")
    assert amount(openings["U1/opening/265598/OLD2"], "Equity:IBKR:U1:Opening") == -1200
    assert str(openings["U1/opening/272093/T2"].date) == "2023-12-31"
    assert amount(txn(entries, "U1/trade/T1"), "Income:IBKR:U1:PnL") == -149  # 649 - 500
    assert amount(txn(entries, "U1/trade/T2"), "Income:IBKR:U1:PnL") == -299  # 1199 - 900


def test_fifo_sale_takes_the_lots_held_before_the_statement_first(tmp_path):
    """IBKR holds 5 at the end after buying 10 and selling 15, so 10 were held before the statement. IBKR's FIFO
    sells those 10 first, then 5 of T1: basis 1300.5 = 10 × 80 (history) + 5 × 100.1, realized 1798.5 - 1300.5 =
    498 as IBKR says, and 5 of T1 (500.5) stay, IBKR's cost basis."""
    _, files = generate("history_fifo_no_lots.xml")
    entries, errors, _ = load(files, tmp_path)
    opening = txn(entries, "U1/opening/265598/T2")
    assert (opening.postings[0].units.number, opening.postings[0].cost.number, str(opening.date)) == \
        (10, 80, "2023-12-31")
    sale = txn(entries, "U1/trade/T2")
    assert [(p.units.number, p.cost.label) for p in sale.postings if p.cost] == \
        [(-10, "U1/opening/265598/T2"), (-5, "U1/trade/T1")]
    assert amount(sale, "Income:IBKR:U1:PnL") == -498


def test_zero_quantity_row_books_its_cash_against_pnl(tmp_path):
    """A Trade row with quantity 0 and netCash -5 (an adjustment) moves cash only: Cash -5 / PnL 5."""
    text = (FIXTURES / "short_covered.xml").read_text()
    row = [line for line in text.splitlines() if 'transactionID="T2"' in line][0]
    zero = row.replace('quantity="10"', 'quantity="0"').replace('netCash="-401"', 'netCash="-5"') \
        .replace('cost="499"', 'cost="0"').replace('fifoPnlRealized="98"', 'fifoPnlRealized="0"')
    document = adapter.parse(text.replace(row, zero).encode(), source="zero.xml")
    result = build_ledger([("raw/U1/2024/zero.xml", document)])
    files = {p: writer.render(e) for p, e in result.files.items()}
    entries, errors, _ = load(files, tmp_path)
    assert errors == []
    adjustment = txn(entries, "U1/trade/T2")
    assert amount(adjustment, "Assets:IBKR:U1:Cash") == -5 and amount(adjustment, "Income:IBKR:U1:PnL") == 5


def test_cancel_pairs_with_the_original_even_when_the_rebook_has_the_same_quantity(tmp_path):
    """Re-book of 10 (T3, listed first) and original of 10 (T1) share tradeID R1: the cancel T2 reverses T1, the
    earliest by transactionID, so T3 is the trade that stays."""
    text = (FIXTURES / "cancel_rebook.xml").read_text()
    lines = text.splitlines()
    t3 = next(i for i, line in enumerate(lines) if 'transactionID="T3"' in line)
    t1 = next(i for i, line in enumerate(lines) if 'transactionID="T1"' in line)
    rebook = lines[t3].replace('quantity="12"', 'quantity="10"').replace('tradePrice="100"', 'tradePrice="101"') \
        .replace('proceeds="-1200"', 'proceeds="-1010"').replace('netCash="-1201"', 'netCash="-1011"') \
        .replace('cost="1201"', 'cost="1011"')
    lines[t1], lines[t3] = rebook, lines[t1]
    document = adapter.parse("\n".join(lines).encode(), source="rebook.xml")
    result = build_ledger([("raw/U1/2024/rebook.xml", document)])
    files = {p: writer.render(e) for p, e in result.files.items()}
    entries, errors, _ = load(files, tmp_path)
    assert errors == []
    assert [e.meta["flex_id"] for e in entries if e.meta.get("event") == "trade"] == ["U1/trade/T3"]
    assert txn(entries, "U1/trade/T2").meta["cancelled_flex_id"] == "U1/trade/T1"
