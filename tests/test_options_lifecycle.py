"""The option lifecycle (DESIGN §8) on hand-made statements, one per path (tests/fixtures/options/, each file's
comment states the trades): booked once, linked, and IBKR's premium folding in every view.

Every statement goes through the real `beanflex import` and the real Beancount loader. For each we check IBKR-match
(`--mode ibkr`: IBKR folds the premium into the stock), economic `--premium separate` (the premium stays on the
option) and `--premium folded`, and that the total over option + underlying is the same in all three.
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine.book import load_book
from beanflex.engine.pnl import Options, book_pnl
from beanflex.engine.reconcile import reconcile_book

FIXTURES = Path(__file__).parent / "fixtures" / "options"
IBKR = Options(mode="ibkr")
SEPARATE = Options(mode="economic", method="fifo", premium="separate")
FOLDED = Options(mode="economic", method="fifo", premium="folded")


def import_statement(name: str, tmp_path) -> Path:
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('option "operating_currency" "USD"\ninclude "generated/index.beancount"\n')
    xml = tmp_path / name
    shutil.copy(FIXTURES / name, xml)
    result = CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import", str(xml)])
    assert result.exit_code == 0, result.output
    return ledger / "main.beancount"


def load(main: Path):
    entries, errors, options = loader.load_file(str(main))
    assert errors == [], errors
    return entries, load_book(entries, options)


def per_symbol(book, options: Options, field: str) -> dict[str, D]:
    return {row.instrument.symbol: row.value(field) for row in book_pnl(book, options)}


def views(book, field: str = "realized") -> tuple[dict, dict, dict]:
    return per_symbol(book, IBKR, field), per_symbol(book, SEPARATE, field), per_symbol(book, FOLDED, field)


def trades_of(entries, conid: str) -> list:
    return [e for e in entries if getattr(e, "meta", {}).get("conid") == conid and hasattr(e, "postings")]


def test_design_worked_example_short_put_assigned(tmp_path):
    """DESIGN §8: IBKR-match put 0, stock cost 5,000 - 198.95 = 4,801.05, stock realized 5,199 - 4,801.05 =
    397.95; economic (separate) put 198.95, stock 5,199 - 5,000 = 199.00. Both total 397.95."""
    entries, book = load(import_statement("short_put_assigned.xml", tmp_path))
    ibkr, separate, folded = views(book)
    assert ibkr == {"XYZ": D("397.95"), "XYZ-240315P50": D("0")}
    assert separate == {"XYZ": D("199.00"), "XYZ-240315P50": D("198.95")}
    assert folded == ibkr
    assert sum(ibkr.values()) == sum(separate.values()) == D("397.95")
    assert reconcile_book(book).diffs == []  # IBKR's fifoPnlRealized 0 and 397.95, to the cent
    # the OptionEAE rows and the BookTrades are the same events: one transaction each, linked both ways
    put_close, = [e for e in trades_of(entries, "900002") if e.meta["event"] == "assignment"]
    delivery, = [e for e in trades_of(entries, "900000") if e.meta["event"] == "assignment"]
    assert put_close.links == delivery.links == {"eae-U1-900002-20240315"}
    assert put_close.meta["delivery_flex_id"] == "U1/trade/103"
    assert delivery.meta["option_flex_id"] == "U1/trade/102"
    assert len(trades_of(entries, "900002")) == 2 and len(trades_of(entries, "900000")) == 2


def test_explain_shows_the_folded_premium_as_its_own_event(tmp_path):
    """`explain XYZ realized` in IBKR-match: the sale 5,199 - 5,000 = 199.00, and the put's premium 198.95 as its
    own event under the put close's flex_id and raw row; they add up to 397.95."""
    main = import_statement("short_put_assigned.xml", tmp_path)
    result = CliRunner().invoke(cli, ["--ledger", str(main), "explain", "XYZ", "realized", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    amounts = {e["flex_id"]: D(e["amount"]) for e in report["events"]}
    assert amounts == {"U1/trade/104": D("199.00"), "U1/trade/102": D("198.95")}
    assert D(report["value"]) == D("397.95")
    premium, = [e for e in report["events"] if e["flex_id"] == "U1/trade/102"]
    assert "folded" in premium["description"] and premium["raw"][0]["line"] == 9
    separate = CliRunner().invoke(cli, ["--ledger", str(main), "explain", "XYZ", "realized", "--mode", "economic",
                                        "--premium", "separate", "--format", "json"])
    assert D(json.loads(separate.output)["value"]) == D("199.00")


def test_short_call_assigned(tmp_path):
    """Covered call: IBKR call 0, stock 4,500 - 4,001 + 148.95 = 647.95; separate: call 148.95, stock 499."""
    _, book = load(import_statement("short_call_assigned.xml", tmp_path))
    ibkr, separate, folded = views(book)
    assert ibkr == folded == {"XYZ": D("647.95"), "XYZ-240315C45": D("0")}
    assert separate == {"XYZ": D("499"), "XYZ-240315C45": D("148.95")}
    assert reconcile_book(book).diffs == []


def test_long_call_exercised_lot_cost_is_ibkrs(tmp_path):
    """IBKR's position: cost 4,000 + 301.05 = 4,301.05, unrealized 4,500 - 4,301.05 = 198.95. Separate: the call
    realizes -301.05 and the stock's unrealized is 500; the totals are 198.95 either way."""
    _, book = load(import_statement("long_call_exercised.xml", tmp_path))
    ibkr_cost, separate_cost, _ = views(book, "cost_basis")
    assert ibkr_cost["XYZ"] == D("4301.05") and separate_cost["XYZ"] == D("4000")
    ibkr_total, separate_total, folded_total = views(book, "total")
    assert ibkr_total == folded_total == {"XYZ": D("198.95"), "XYZ-240315C40": D("0")}
    assert separate_total == {"XYZ": D("500"), "XYZ-240315C40": D("-301.05")}
    assert reconcile_book(book).diffs == []  # the position's cost basis and unrealized are IBKR's


def test_long_put_exercised(tmp_path):
    """Protective put: IBKR put 0, stock 5,500 - 6,001 - 201.05 = -702.05; separate put -201.05, stock -501."""
    _, book = load(import_statement("long_put_exercised.xml", tmp_path))
    ibkr, separate, folded = views(book)
    assert ibkr == folded == {"XYZ": D("-702.05"), "XYZ-240315P55": D("0")}
    assert separate == {"XYZ": D("-501"), "XYZ-240315P55": D("-201.05")}
    assert reconcile_book(book).diffs == []


def test_expiry_is_a_normal_close_at_zero(tmp_path):
    """Expired short put keeps 48.95, expired long call loses 41.05, in every view; nothing is delivered."""
    entries, book = load(import_statement("expiry.xml", tmp_path))
    ibkr, separate, folded = views(book)
    assert ibkr == separate == folded == {"XYZ-240315C70": D("-41.05"), "XYZ-240315P30": D("48.95")}
    closes = [e for e in entries if getattr(e, "meta", {}).get("event") == "expiry"]
    assert len(closes) == 2 and all(not e.links for e in closes)
    assert reconcile_book(book).diffs == []


def test_index_option_settles_cash(tmp_path):
    """SPX 4700 C: cash settlement at 25 (proceeds 2,500), realized 2,500 - 1,001.05 = 1,498.95; no stock."""
    entries, book = load(import_statement("index_cash_settled.xml", tmp_path))
    close, = [e for e in entries if getattr(e, "meta", {}).get("event") == "cash_settlement"]
    assert not close.links and "delivery_flex_id" not in close.meta
    ibkr, separate, _ = views(book)
    assert ibkr == separate == {"SPX-240315C4700": D("1498.95")}
    assert reconcile_book(book).diffs == []


def test_option_on_a_future_delivers_the_future(tmp_path):
    """ES 4700 C exercised into 1 ESH4 (no underlyingConid in the rows): IBKR 237,497.50 - 235,000 - 1,002.50 =
    1,495 on the future; separate: option -1,002.50, future 2,497.50."""
    entries, book = load(import_statement("future_option_exercised.xml", tmp_path))
    delivery, = [e for e in trades_of(entries, "900030") if e.meta["event"] == "exercise"]
    assert delivery.links == {"eae-U1-900031-20240308"} and delivery.meta["option_flex_id"] == "U1/trade/702"
    ibkr, separate, _ = views(book)
    assert ibkr == {"ESH4": D("1495"), "ESH4-C4700": D("0")}
    assert separate == {"ESH4": D("2497.5"), "ESH4-C4700": D("-1002.5")}
    assert reconcile_book(book).diffs == []


def test_combo_legs_are_one_order(tmp_path):
    """Two legs under ibOrderID 7001 (and 7002 to close): linked ^order-U1-7001, each leg its own lots:
    50 C 398.95 - 301.05 = 97.90, 55 C -151.05 + 98.95 = -52.10."""
    entries, book = load(import_statement("combo_vertical.xml", tmp_path))
    opening = [e for e in entries if "order-U1-7001" in getattr(e, "links", ())]
    assert sorted(e.meta["conid"] for e in opening) == ["900008", "900009"]
    assert all(e.meta["order_id"] == "7001" for e in opening)
    assert per_symbol(book, IBKR, "realized") == {"XYZ-240315C50": D("97.90"), "XYZ-240315C55": D("-52.10")}
    assert reconcile_book(book).diffs == []


def test_adjusted_contract_delivers_what_ibkr_delivered(tmp_path):
    """XYZ1 (root with a numeric suffix) delivering 150 shares: commodity `adjusted: TRUE`, `deliverable_units`
    150; IBKR's lot cost 6,000 + 501.05 = 6,501.05."""
    entries, book = load(import_statement("adjusted_contract.xml", tmp_path))
    commodity, = [e for e in entries if getattr(e, "currency", None) == "XYZ1-240315C40" and hasattr(e, "meta")
                  and "conid" in e.meta and not hasattr(e, "postings") and not hasattr(e, "amount")]
    assert commodity.meta["adjusted"] is True and commodity.meta["deliverable_units"] == D("150")
    assert per_symbol(book, IBKR, "cost_basis")["XYZ"] == D("6501.05")
    assert reconcile_book(book).diffs == []


def test_occ_symbol_disagreeing_with_ibkrs_fields_is_drift(tmp_path):
    """A row whose strike says 55 while its OCC symbol says 50 is a drift item naming the row; IBKR's field wins."""
    text = (FIXTURES / "short_put_assigned.xml").read_text()
    first = text.index('strike="50"')
    (tmp_path / "bad.xml").write_text(text[:first] + 'strike="55"' + text[first + len('strike="50"'):])
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('include "generated/index.beancount"\n')
    runner = CliRunner()
    assert runner.invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import", str(tmp_path / "bad.xml")]
                         ).exit_code == 0
    check = runner.invoke(cli, ["--ledger", str(ledger / "main.beancount"), "check"])
    line = next(line for line in check.output.splitlines() if "OCC" in line)
    assert re.search(r"\.xml:8: Trades: <Trade> row disagrees with itself: strike 55 != OCC 50", line), line


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_every_view_has_the_same_total(name, tmp_path):
    """Folding moves the premium between option and underlying, never creates or loses any."""
    _, book = load(import_statement(name, tmp_path))
    totals = [sum(v for v in per_symbol(book, options, "total").values() if v is not None)
              for options in (IBKR, SEPARATE, FOLDED)]
    assert totals[0] == totals[1] == totals[2]


def test_positions_show_options_under_their_underlying(tmp_path):
    """`report positions --underlying XYZ`: the stock and its open call, which shows expiry 2024-03-15, 14 days
    left on 2024-03-01, strike 55, right C, XYZ marked 57: in the money (57 - 55 = 2 a share)."""
    main = import_statement("open_covered_call.xml", tmp_path)
    result = CliRunner().invoke(cli, ["--ledger", str(main), "report", "positions", "--underlying", "XYZ",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {p["symbol"]: p for p in json.loads(result.output)["positions"]}
    assert set(rows) == {"XYZ", "XYZ-240315C55"}
    call = rows["XYZ-240315C55"]
    assert {k: call[k] for k in ("underlying", "expiry", "days_to_expiry", "strike", "right", "underlying_mark",
                                 "intrinsic", "moneyness")} == {
        "underlying": "XYZ", "expiry": "2024-03-15", "days_to_expiry": 14, "strike": "55", "right": "C",
        "underlying_mark": "57", "intrinsic": "2", "moneyness": "ITM"}
    assert D(call["unrealized"]) == D("-131.05")  # -250 - (-118.95)
    assert rows["XYZ"]["underlying"] == "XYZ"
    other = CliRunner().invoke(cli, ["--ledger", str(main), "report", "positions", "--underlying", "ABC",
                                     "--format", "json"])
    assert json.loads(other.output)["positions"] == []


def test_events_report_lists_combo_legs_as_one_order(tmp_path):
    """`report events`: both legs of ibOrderID 7001 carry order_id 7001 and name the order's legs."""
    main = import_statement("combo_vertical.xml", tmp_path)
    result = CliRunner().invoke(cli, ["--ledger", str(main), "report", "events", "--format", "json"])
    events = json.loads(result.output)["events"]
    legs = [e for e in events if e.get("order_id") == "7001"]
    assert len(legs) == 2
    assert all(e["order_legs"] == ["XYZ-240315C50", "XYZ-240315C55"] for e in legs)
    assert all("order-U1-7001" in e["links"] for e in legs)


def test_option_corporate_action_carries_the_lots_to_the_adjusted_contract(tmp_path):
    """2-for-1 split on the option: 1 XYZ 50 C at 301.05 becomes 2 XYZ 25 C at 150.525 each (same lot label and
    date); selling both realizes 398.95 - 301.05 = 97.90 = IBKR's figure, and the move itself realizes nothing."""
    entries, book = load(import_statement("option_split.xml", tmp_path))
    move, = [e for e in entries if getattr(e, "meta", {}).get("event") == "option_adjustment"]
    assert move.meta["ratio"] == D("2") and move.meta["adjusted_conid"] == "900061"
    new_lot = next(p for p in move.postings if p.units.number > 0)
    assert (new_lot.units.number, new_lot.cost.number, new_lot.cost.label) == (D("2"), D("150.525"), "U1/trade/1101")
    assert per_symbol(book, IBKR, "realized") == {"XYZ-240315C25": D("97.90"), "XYZ-240315C50": D("0")}
    assert per_symbol(book, SEPARATE, "realized") == {"XYZ-240315C25": D("97.90"), "XYZ-240315C50": D("0")}
    assert reconcile_book(book).diffs == []


def test_a_wheel_can_be_followed_from_the_put_to_the_called_away_stock(tmp_path):
    """Put sold, assigned, call sold, assigned. IBKR-match: 5,200 - (5,000 - 198.95) + 148.95 = 547.90 on the
    stock; `explain XYZ realized` lists the sale (5,200 - 5,000 = 200), the put's premium in the lot (198.95)
    and the call's premium on the proceeds (148.95), each under its own option close and raw row."""
    main = import_statement("wheel.xml", tmp_path)
    entries, book = load(main)
    ibkr, separate, _ = views(book)
    assert ibkr == {"XYZ": D("547.90"), "XYZ-240216P50": D("0"), "XYZ-240315C52": D("0")}
    assert separate == {"XYZ": D("200"), "XYZ-240216P50": D("198.95"), "XYZ-240315C52": D("148.95")}
    assert reconcile_book(book).diffs == []
    result = CliRunner().invoke(cli, ["--ledger", str(main), "explain", "XYZ", "realized", "--format", "json"])
    report = json.loads(result.output)
    assert {e["flex_id"]: D(e["amount"]) for e in report["events"]} == {
        "U1/trade/1206": D("200"), "U1/trade/1202": D("198.95"), "U1/trade/1205": D("148.95")}
    assert D(report["value"]) == D("547.90")
    # each step links to the next: put close <-> stock bought, call close <-> stock called away
    links = {e.meta["flex_id"]: sorted(e.links) for e in entries if getattr(e, "links", None)}
    assert links["U1/trade/1202"] == links["U1/trade/1203"] == ["eae-U1-900070-20240216"]
    assert links["U1/trade/1205"] == links["U1/trade/1206"] == ["eae-U1-900071-20240315"]


def test_premium_option_applies_to_economic_mode(tmp_path):
    """`--premium separate` with `--mode ibkr` is a usage error (exit 2): IBKR-match always folds; the JSON header
    says which view a report is: `premium` folded (ibkr), separate (the economic default) or folded."""
    main = import_statement("short_put_assigned.xml", tmp_path)
    runner = CliRunner()
    bad = runner.invoke(cli, ["--ledger", str(main), "report", "pnl", "--premium", "separate"])
    assert bad.exit_code == 2 and "--premium separate applies to --mode economic" in bad.output
    for args, premium in (([], "folded"), (["--mode", "economic"], "separate"),
                          (["--mode", "economic", "--premium", "folded"], "folded")):
        result = runner.invoke(cli, ["--ledger", str(main), "report", "pnl", *args, "--format", "json"])
        assert json.loads(result.output)["premium"] == premium, args
