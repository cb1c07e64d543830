"""The Performance page in a real browser (`beanflex serve` on 127.0.0.1, Debian's Chromium via Playwright), on
the four daily statements of tests/fixtures/returns: the figures shown are the ones `beanflex report returns
--format json` gives, and a figure leads to its flows, from a flow to its raw Flex row.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from beanflex.cli import cli
from fava_server import beanflex_serve
from test_browser import CHROMIUM, CHROMIUM_ARGS, cli_json

FIXTURES = Path(__file__).parent / "fixtures" / "returns"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("perf")
    main = root / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text('option "operating_currency" "USD"\nplugin "beanflex.plugins.reconcile"\n'
                    'plugin "beanflex.plugins.labels" "../labels.yaml"\n'
                    '2000-01-01 custom "fava-extension" "beanflex.fava_ext"\ninclude "generated/index.beancount"\n')
    (root / "labels.yaml").write_text("labels:\n  Europe:\n    members: [SAPX]\n")
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", *sorted(map(str, FIXTURES.glob("*.xml")))])
    assert result.exit_code == 0, result.output
    with beanflex_serve(main, root / "serve.log") as base:
        yield base, main


def test_performance_page(served):
    base, main = served
    expected = cli_json(main, "returns", "--by", "account")
    itd = next(r for r in expected["rows"] if r["name"] == "U8000001" and r["period"] == "ITD")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/BeanflexPerformance/")
        row = page.locator('#bf-returns tr[data-bf-key="U8000001"][data-bf-period="ITD"]')
        values = [c.get_attribute("data-bf-value") for c in row.locator("td.num").all()]
        assert itd["twr"] in values and itd["modified_dietz"] in values and itd["mwr_period"] in values
        assert "2.11 %" in row.inner_text()  # TWR, worked in tests/test_returns_statements.py
        # the label table of the ITD period, and the charts of the portfolio
        assert page.locator('#bf-returns-labels tr[data-bf-label="Europe"]').count() == 1
        assert page.locator("#bf-chart-nav polyline").count() == 1
        assert page.locator("#bf-chart-nav line.bf-flow-in").count() == 1  # the deposit
        assert page.locator("#bf-chart-nav line.bf-flow-out").count() == 1  # the withdrawal
        assert page.locator("#bf-chart-drawdown polyline").count() >= 1
        # a figure -> the flows behind it -> the raw row of the withdrawal
        row.locator("td.num a").first.click()
        page.wait_for_selector("#bf-flows")
        flows = page.locator("#bf-flows tbody tr")
        assert flows.count() == 2
        assert page.locator("#bf-fx").inner_text().count("-5.00") == 1  # total FX, worked in the statements test
        withdrawal = page.locator('#bf-flows tr[data-bf-flex-id="U8000001/cash/6004"]')
        assert "-3,000.00" in withdrawal.inner_text()
        withdrawal.locator("a.bf-rawlink").click()
        page.wait_for_selector("#bf-raw")
        assert 'type="Deposits/Withdrawals"' in page.locator('[data-bf="raw-xml"]').text_content()
        assert "-3000" in page.locator('[data-bf="raw-xml"]').text_content()
        # holdings at the end with their price source
        holdings = page.locator("#bf-holdings").inner_text()
        assert "SAPX" in holdings and "ibkr-position" in holdings  # IBKR's OpenPositions mark
        if os.environ.get("BEANFLEX_SCREENSHOTS"):
            page.goto(f"{base}/BeanflexPerformance/?period=ITD")
            page.screenshot(path=str(Path(os.environ["BEANFLEX_SCREENSHOTS"]) / "performance.png"))
            page.set_viewport_size({"width": 1280, "height": 2400})  # Fava scrolls inside its article
            page.locator("#bf-detail").scroll_into_view_if_needed()
            page.screenshot(path=str(Path(os.environ["BEANFLEX_SCREENSHOTS"]) / "performance-detail.png"))
        # IBKR's NAV on the Reconciliation page, each row leading to our daily values
        page.goto(f"{base}/BeanflexReconcile/")
        nav = page.locator('#bf-summaries tr[data-bf-field="nav.total"]')
        assert nav.count() == 4 and "nav_accruals" in page.locator("#bf-diffs").inner_text()
        nav.first.locator("a", has_text="NAV").click()
        page.wait_for_selector("#bf-detail")
        assert page.locator("#bf-days tbody tr").count() == 4
                # a bad argument is a message, not a 500
        page.goto(f"{base}/BeanflexPerformance/?by=nonsense")
        assert "by must be one of" in page.locator("#bf-performance").inner_text()
        browser.close()
    assert Decimal(itd["twr"]) > 0
