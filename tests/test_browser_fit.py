"""Every beanflex page fits a 1400 px browser window on real public statements: no table or chart runs past the
page's content area, and the page never scrolls sideways (long ids, file names and reasons wrap; money is rounded).

A `beanflex serve` process on a ledger built from the sample, Debian's Chromium driven by Playwright, as in
test_browser.py.
"""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import sync_playwright

from samples import sample
from fava_server import BEANFLEX, beanflex_serve
from test_browser import CHROMIUM, CHROMIUM_ARGS

PAGES = ("BeanflexPortfolio/", "BeanflexPortfolio/?view=local", "BeanflexPortfolio/?mode=economic",
         "BeanflexLabels/", "BeanflexReconcile/", "BeanflexImportHealth/", "BeanflexPerformance/",
         "BeanflexStrategies/")  # the Upload page has a form, no table
#: The largest copied samples: eTax (912 rows, CHF base, ~70 instruments, the issue's example) and a 733-row one.
SAMPLES = ("opensteuerauszug__eTax_report_anonymised_2025.xml", "portfolio__testIBFlexStatementFile14.xml")

MEASURE = """() => {
  const area = document.querySelector('.bf-page').getBoundingClientRect().right;
  const wide = [...document.querySelectorAll('.bf-page table, .bf-page svg')]
    .filter(t => t.getBoundingClientRect().right > area + 1)
    .map(t => (t.id || t.tagName) + ' ends at ' + Math.round(t.getBoundingClientRect().right));
  return {area, wide, scroll: document.documentElement.scrollWidth};
}"""


@pytest.fixture(scope="module", params=SAMPLES)
def served(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    for args in (["init", str(folder)], ["--ledger", str(folder / "ledger" / "main.beancount"), "import",
                                          str(sample(request.param))]):
        done = subprocess.run([str(BEANFLEX), *args], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    with beanflex_serve(folder / "ledger" / "main.beancount", folder / "serve.log") as base:
        yield base + "/"


def test_no_table_overflows_a_1400_px_window(served):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            for page in PAGES:
                tab.goto(served + page, timeout=120_000)
                tab.wait_for_selector(".bf-page table", timeout=120_000)
                got = tab.evaluate(MEASURE)
                assert got["wide"] == [] and got["scroll"] <= 1400, (page, got)
                # money reads like money: no cell shows more decimals than a price's 6
                cells = tab.locator(".bf-page td.num").all_inner_texts()
                assert not [c for c in cells if "." in c and len(c.split(".")[-1].split()[0]) > 6], page
        finally:
            browser.close()
