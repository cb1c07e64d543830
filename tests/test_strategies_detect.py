"""Strategy detection on the public samples (every event, options first of all, in exactly one group; groups add
up to the portfolio), plus the shape table and the option terms read from OCC symbols and descriptions."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine.book import load_book
from beanflex.engine.pnl import Options
from beanflex.engine.strategies import group_index, strategy_groups, transaction_links
from beanflex.engine.strategy_meta import parse_option
from beanflex.engine.strategy_shape import ShapeLeg, shape
from beanflex.reports.strategies import check_total, strategies_report
from samples import public_samples

#: Samples with option trades (bankroll's trade confirmations and StatementOfFunds lines name options too, but
#: are not ledger events)
OPTION_SAMPLES = [p for p in public_samples()
                  if re.search(r'<Trade [^>]*assetCategory="OPT"', p.read_text(encoding="utf-8"))]


def test_the_public_samples_hold_options():
    # the ones with option trades: eTax (340 option events), options_future (19), File01 (1), File02 (4), the
    # short-options repro (2); StatementOfFunds and bankroll's trade confirmations hold no ledger events
    assert len(OPTION_SAMPLES) >= 5


@pytest.mark.parametrize("path", OPTION_SAMPLES, ids=lambda p: p.name)
def test_every_option_event_of_a_public_sample_is_in_exactly_one_group(path, tmp_path):
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('include "generated/index.beancount"\n', encoding="utf-8")
    assert CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import", str(path)]).exit_code == 0
    entries, errors, options_map = loader.load_file(str(ledger / "main.beancount"))
    book = load_book(entries, options_map)
    found = strategy_groups(book, None, transaction_links(entries))
    members = [m.flex_id for g in found.groups.values() for m in g.members]
    assert len(members) == len(set(members))  # none in two groups
    events = {e.flex_id for inst in book.instruments.values() for e in inst.events}
    options = {e.flex_id for inst in book.instruments.values() if inst.meta.get("asset_category") == "OPT"
               for e in inst.events}
    assert options and options <= set(members) and events == set(members)  # none lost
    assert group_index(book, None, transaction_links(entries)) == found.index()
    for mode in ("ibkr", "economic"):
        assert check_total(strategies_report(book, Options(mode=mode), found)) == 0


def test_group_index_maps_every_row_of_the_wheel_to_its_group(tmp_path):
    from test_strategies import workspace

    main = workspace(tmp_path, "wheel.xml")
    entries, _, options_map = loader.load_file(str(main))
    index = group_index(load_book(entries, options_map), tmp_path / "strategies.yaml", transaction_links(entries))
    assert index["U7/trade/W03"] == index["U7/cash/WD1"] == "U7/trade/W01"
    assert index["U7/trade/W10"] == "U7/trade/W09"


D = Decimal
MAR, APR = datetime.date(2024, 3, 15), datetime.date(2024, 4, 19)


@pytest.mark.parametrize("legs, kind", [
    ([ShapeLeg("P", D(50), MAR, D(-1)), ShapeLeg("P", D(45), MAR, D(1))], "vertical"),
    ([ShapeLeg("C", D(60), MAR, D(-1)), ShapeLeg("C", D(60), APR, D(1))], "calendar"),
    ([ShapeLeg("C", D(60), MAR, D(-1)), ShapeLeg("C", D(55), APR, D(1))], "diagonal"),
    ([ShapeLeg("C", D(50), MAR, D(1)), ShapeLeg("P", D(50), MAR, D(1))], "straddle"),
    ([ShapeLeg("C", D(55), MAR, D(-2)), ShapeLeg("P", D(45), MAR, D(-2))], "strangle"),
    ([ShapeLeg("P", D(45), MAR, D(1)), ShapeLeg("P", D(50), MAR, D(-1)), ShapeLeg("C", D(50), MAR, D(-1)),
      ShapeLeg("C", D(55), MAR, D(1))], "iron butterfly"),
    ([ShapeLeg("C", D(95), MAR, D(-1)), ShapeLeg("C", D(100), MAR, D(2)), ShapeLeg("C", D(105), MAR, D(-1))],
     "butterfly"),
    ([ShapeLeg("C", D(95), MAR, D(1)), ShapeLeg("C", D(100), MAR, D(-2)), ShapeLeg("C", D(110), MAR, D(1))],
     "custom 3-leg"),  # strikes not equally spaced
    ([ShapeLeg(None, None, None, D(100)), ShapeLeg("P", D(45), MAR, D(1))], "protective put"),
    ([ShapeLeg("C", D(60), MAR, D(1)), ShapeLeg("C", D(60), MAR, D(1)), ShapeLeg("C", D(60), MAR, D(1))],
     "long call"),  # three fills of one contract
    ([ShapeLeg(None, None, None, D(-1), "FUT"), ShapeLeg(None, None, None, D(1), "FUT")], "short future"),
    ([ShapeLeg("C", D(i), MAR, D(1)) for i in range(5)], "custom 5-leg"),
])
def test_shape_names(legs, kind):
    assert shape(legs) == kind


def test_option_terms_from_occ_symbol_or_description():
    assert parse_option("ASML  260130P00930000", "") == {"root": "ASML", "expiry": datetime.date(2026, 1, 30),
                                                         "right": "P", "strike": D("930")}
    assert parse_option("4SFV5 C1265", "WY 17JUL26 20 C") == {"root": "WY", "expiry": datetime.date(2026, 7, 17),
                                                               "right": "C", "strike": D("20")}
    assert parse_option("AAPL", "APPLE INC") == {}


def test_groups_of_accounts_with_other_bases_add_up_like_report_pnl(tmp_path):
    """tests/fixtures/multi_base: U21 (CHF base) holds NESN, unrealized 100 CHF; U22 (USD base) holds AAPL,
    unrealized 200 USD; USD -> CHF 0.9. Each group is in its account's base; the totals convert like report pnl's:
    100 + 200 x 0.9 = 280 CHF, and with --currency USD 100 / 0.9 + 200 = 311.11… USD."""
    from test_multi_base import ledger, report as cli_report

    main = ledger(tmp_path, "chf_account.xml", "usd_account.xml")
    for args in ((), ("--currency", "USD")):
        rep = cli_report(main, "strategies", *args)
        assert {g["underlying"]: g["base"]["currency"] for g in rep["strategies"]} == {"NESN": "CHF", "AAPL": "USD"}
        pnl = cli_report(main, "pnl", *args)
        assert rep["totals"]["base"]["total"] == rep["portfolio"]["base"]["total"] == pnl["totals"]["base"]["total"]
    assert rep["totals"]["base"]["currency"] == "USD" and rep["totals"]["base"]["by_currency"]["CHF"]["total"] == "100.00"
