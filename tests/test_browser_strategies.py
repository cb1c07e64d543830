"""The Strategies page in a real browser (Playwright, Debian's Chromium) against `beanflex serve` on a ledger of
our own statements (a wheel, a roll chain): every number read off the page equals `beanflex report strategies
--format json`, and the drilldown is clicked through: group -> legs -> events -> the events behind a number -> the
raw Flex row; the chain shows which roll followed which. Server and browser as in test_browser.py.
"""

from __future__ import annotations

import json
import os
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from fava_server import beanflex_serve
from test_browser import SCREENSHOTS_ENV, Served, browser, cells, cli_json, page, same  # noqa: F401
from test_strategies import workspace


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("strategies-page")
    main_file = workspace(root, "wheel.xml", "rolls.xml")
    with beanflex_serve(main_file, root / "serve.log") as base:
        yield Served(base, main_file, "strategies")


def test_strategies_page_lists_the_groups_with_the_cli_numbers(page, served):
    page.goto(f"{served.base}/BeanflexStrategies/")
    page.wait_for_selector("#bf-strategies-table")
    report = cli_json(served.main_file, "strategies")
    assert page.locator("#bf-strategies-table tbody tr").count() == len(report["strategies"]) == 4
    for group in report["strategies"]:
        shown = cells(page, f'#bf-strategies-table tr[data-bf-strategy="{group["id"]}"] td')
        assert shown[0].startswith(group["name"]) and shown[1] == group["kind"]
        wanted = [group[k] for k in ("realized", "unrealized", "premium_received", "premium_paid", "commissions",
                                     "dividends")] + [group["base"]["total"]]
        assert all(same(s, w) for s, w in zip(shown[6:13], wanted, strict=True)), (shown, wanted)
        assert page.locator(f'svg.bf-spark[data-bf-spark="{group["id"]}"] path').count() == 1  # P&L over time
    total = cells(page, "#bf-strategies-total td")
    portfolio = cells(page, "#bf-strategies-portfolio td")
    # wheel 708.35 + put 98.95 + roll chain 303.00 + call -101.00 = 1,009.30, the portfolio's total
    assert same(total[-3], "1009.30") and same(portfolio[-3], report["portfolio"]["base"]["total"])
    shot_strategies(page, "strategies")
    with urllib.request.urlopen(f"{served.base}/BeanflexStrategies/strategies", timeout=30) as response:
        assert json.loads(response.read()) == report  # the page's JSON is the CLI's


def test_drilldown_group_legs_events_explain_raw_row_and_chain(page, served):
    page.goto(f"{served.base}/BeanflexStrategies/")
    page.click('#bf-strategies-table tr[data-bf-strategy="U7/trade/W01"] a')
    page.wait_for_selector("#bf-strategy")
    assert "XYZ wheel" in page.inner_text("#bf-strategy")
    assert same(cells(page, '#bf-strategy-summary tr[data-bf-field="total"] td')[0], "708.35")
    assert page.locator("#bf-legs tbody tr").count() == 4  # the put, the stock, two calls
    assert page.locator("#bf-strategy-events tbody tr").count() == 10
    # a leg: the stock's events only (bought by assignment, called away)
    page.click('#bf-legs tr[data-bf-leg="702000"] a')
    page.wait_for_selector('#bf-legs tr.bf-leg-on[data-bf-leg="702000"]')
    rows = page.locator("#bf-strategy-events tbody tr")
    assert [rows.nth(i).get_attribute("data-bf-flex-id") for i in range(rows.count())] == [
        "U7/trade/W03", "U7/cash/WD1", "U7/cash/WD2", "U7/trade/W08"]
    assert "delivered by assignment or exercise" in cells(page, 'tr[data-bf-flex-id="U7/trade/W03"] td')[5]
    # a number -> its events, adding up to it -> a raw row
    page.click('#bf-strategy-summary tr[data-bf-field="premium_received"] a')
    page.wait_for_selector("#bf-explain-table")
    amounts = [Decimal(s.replace(",", "")) for s in cells(page, "#bf-explain-table tbody td.num")]
    assert amounts == [Decimal("200.00"), Decimal("150.00"), Decimal("120.00")]  # 200 + 150 + 120 = 470
    assert same(cells(page, "#bf-explain-table tfoot td.num")[0], "470.00")
    page.click('#bf-explain-table tr[data-bf-flex-id="U7/trade/W01"] a.bf-rawlink')
    page.wait_for_selector("#bf-raw")
    assert 'transactionID="W01"' in page.inner_text("#bf-raw .bf-row")


def test_the_chain_shows_which_roll_followed_which(page, served):
    page.goto(f"{served.base}/BeanflexStrategies/?group=strategy:U7/trade/R01")
    page.wait_for_selector("#bf-chain")
    rolls = cells(page, '#bf-chain li[data-bf-rule^="roll"]')
    assert len(rolls) == 3
    assert "U7/trade/R02" in rolls[0] and rolls[0].index("U7/trade/R02") < rolls[0].index("U7/trade/R03")
    assert "roll within the trading day" in rolls[1] and "U7/trade/R04" in rolls[1] and "U7/trade/R05" in rolls[1]
    shot_strategies(page, "strategy-group")
    page.click("#bf-underlying-link")  # every RRR group: the roll chain and the call of another day
    page.wait_for_selector("#bf-strategies-table")
    rows = page.locator("#bf-strategies-table tbody tr")
    assert [rows.nth(i).get_attribute("data-bf-strategy") for i in range(rows.count())] == [
        "U7/trade/R01", "U7/trade/R09"]


def shot_strategies(page, name: str) -> None:
    """A screenshot for the README when SCREENSHOTS_ENV names a folder (docs/screenshots): Fava scrolls inside
    <article>, so the window is made as tall as its content (at most 2400 px) for the picture."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("document.querySelector('article').scrollHeight + "
                           "document.querySelector('article').getBoundingClientRect().top + 20")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 2400)})
    page.evaluate("document.querySelector('article').scrollTo(0, 0)")
    page.screenshot(path=str(Path(folder) / f"{name}.png"))
    page.set_viewport_size(size)
