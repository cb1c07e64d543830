"""Options in the synthetic statement: every lifecycle IBKR writes, with IBKR's own (folded) figures.

IBKR folds an assigned option's net premium into the stock leg (DESIGN §8): sell 2 XYZ 50 P for netCash 248.70,
assigned: the put's BookTrade says cost 248.70, realized 0; the stock BUY 200 @ 50 says cost 10000 (the cash), and
the lot it opens holds 10000 - 248.70 = 9751.30, which the later sale's `cost` shows. test_flexgen.py's FIFO
replay checks those lot figures; this file checks the option rows themselves and what beanflex makes of them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.importers.flex import adapter
from flexsynth import statement as flexgen

N = 1000


@pytest.fixture(scope="module")
def data() -> bytes:
    return flexgen.generate(N, seed=42)


@pytest.fixture(scope="module")
def statement(data):
    return adapter.parse(data, "synthetic.xml").statements[0]


def _options(statement) -> list:
    return [t for t in statement.rows("Trades", "Trade") if t.text("assetCategory") == "OPT"]


def test_every_option_lifecycle_is_there(statement):
    options = _options(statement)
    book = [t for t in options if t.text("transactionType") == "BookTrade"]
    assigned = {t.text("putCall") for t in book if t.text("notes") == "A"}
    assert assigned == {"P", "C"}, "short puts assigned and covered calls called away"
    assert any(t.text("notes") == "Ep" for t in book), "expiries"
    assert all(t.decimal("tradePrice") == 0 and not t.text("ibExecID") for t in book)
    by_order = defaultdict(list)
    for t in options:
        if t.text("transactionType") == "ExchTrade":
            by_order[t.text("ibOrderID")].append(t)
    combos = [legs for legs in by_order.values() if len(legs) > 1]
    assert any({leg.text("openCloseIndicator") for leg in legs} == {"O"} for legs in combos), "spreads"
    assert any({leg.text("openCloseIndicator") for leg in legs} == {"O", "C"} for legs in combos), "rolls"
    # An adjusted contract: root with a numeric suffix (OCC root padded to 6), still multiplier 100.
    roots = {t.text("symbol")[:6].strip() for t in options}
    assert any(root[-1].isdigit() for root in roots)
    assert all(t.text("multiplier") == "100" and t.text("underlyingConid") for t in options)
    # Every option opened is closed by the end: no option in OpenPositions.
    held = defaultdict(Decimal)
    for t in options:
        held[t.text("conid")] += t.decimal("quantity")
    assert not any(held.values())
    assert all(p.text("assetCategory") == "STK" for p in statement.rows("OpenPositions"))


def test_option_closes_give_back_their_opening_basis(statement):
    """One lot per option: the close's cost is minus the open's; the Lot row holds it with the opposite sign."""
    opened, rows = {}, list(statement.rows("Trades"))
    for n, t in enumerate(rows):
        if t.tag != "Trade" or t.text("assetCategory") != "OPT":
            continue
        if t.text("openCloseIndicator") == "O":
            opened[t.text("conid")] = t
            continue
        start = opened.pop(t.text("conid"))
        assert t.decimal("cost") == -start.decimal("cost") and t.decimal("quantity") == -start.decimal("quantity")
        lot = rows[n + 1]
        assert lot.tag == "Lot" and lot.text("transactionID") == start.text("transactionID")
        assert (lot.decimal("quantity"), lot.decimal("cost")) == (-t.decimal("quantity"), -t.decimal("cost"))
        assert lot.decimal("fifoPnlRealized") == t.decimal("fifoPnlRealized")
        if t.text("notes") == "A":
            assert t.decimal("fifoPnlRealized") == 0  # folded into the stock leg
        else:  # e.g. a short put sold for 248.70 that expires: BUY 2 @ 0, cost 248.70, realized 248.70
            assert t.decimal("fifoPnlRealized") == t.decimal("netCash") + t.decimal("cost")


def test_every_book_trade_has_its_option_eae_twin(statement):
    book = [t for t in statement.rows("Trades", "Trade") if t.text("transactionType") == "BookTrade"]
    twins = [(e.text("conid"), e.text("date"), e.decimal("quantity")) for e in statement.rows("OptionEAE")]
    assert sorted(twins) == sorted((t.text("conid"), t.text("dateTime")[:8], t.decimal("quantity")) for t in book)
    kinds = {e.text("transactionType") for e in statement.rows("OptionEAE")}
    assert kinds == {"Assignment", "Expiration", "Buy", "Sell"}


def test_beanflex_differs_from_ibkr_only_where_ibkr_folds_a_premium(tmp_path, data):
    """Until the engine folds premiums (DESIGN §8), the only differences are on assigned options and their stock."""
    source = tmp_path / "synthetic.xml"
    source.write_bytes(data)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "book")]).exit_code == 0
    main = str(tmp_path / "book" / "ledger" / "main.beancount")
    result = runner.invoke(cli, ["--ledger", main, "import", str(source)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "reconcile.json"
    runner.invoke(cli, ["--ledger", main, "report", "reconcile", "--format", "json", "-o", str(out)])
    diffs = json.loads(out.read_text(encoding="utf-8"))["diffs"]
    statement = adapter.parse(data, "synthetic.xml").statements[0]
    folded = set()
    for t in _options(statement):
        if t.text("notes") == "A":
            folded |= {t.text("conid"), t.text("underlyingConid")}
    assert {d["conid"] for d in diffs} <= folded, [d for d in diffs if d["conid"] not in folded][:3]
    # realized on the assigned legs; cost basis and unrealized on assigned shares still held at the end.
    assert {d["field"] for d in diffs} <= {"realized", "cost_basis", "unrealized"}
