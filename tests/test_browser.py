"""The Fava pages in a real browser: a `beanflex serve` process on 127.0.0.1, Debian's Chromium driven by
Playwright. Every number read off a page is compared with `beanflex report … --format json` on the same
ledger, and the drilldown is clicked through: label -> instrument -> event -> Fava's entry context -> raw row.
Screenshots of each page go to docs/screenshots/ (the README shows them).

Needs: `pip install playwright` (no `playwright install`: the browser is /usr/bin/chromium, `apt-get install
chromium`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from fava_ledger import RAW_FILE, SALE_LINE, copy_ledger

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
BEANFLEX = Path(sys.executable).with_name("beanflex")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_json(main_file: Path, *args: str) -> dict:
    """`beanflex --ledger MAIN report ARGS --format json`, parsed."""
    done = subprocess.run([str(BEANFLEX), "--ledger", str(main_file), "report", *args, "--format", "json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL of the ledger, main file): a real `beanflex serve` process for the module's tests."""
    main_file = copy_ledger(tmp_path_factory.mktemp("browser"))
    port = free_port()
    log = open(main_file.parent.parent / "serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(BEANFLEX), "--ledger", str(main_file), "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(root + "/", timeout=5) as response:  # follows Fava's redirect
                    slug = response.url[len(root) + 1:].split("/")[0]
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("beanflex serve did not start: "
                                + (main_file.parent.parent / "serve.log").read_text())
                time.sleep(0.2)
        yield f"{root}/{slug}/extension", main_file
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == []  # no JavaScript error on any page


def cells(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def same(shown: str, value) -> bool:
    """A number on the page equals the report's decimal string (the page shows the string as it is)."""
    return (shown in ("—", "") and value is None) or (value is not None and Decimal(shown) == Decimal(value))


def shot(page, name: str) -> None:
    """docs/screenshots/<name>.png of the whole page: Fava scrolls inside <article>, so the window is made as
    tall as the article's content (at most 2400 px) for the picture, then restored."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("document.querySelector('article').scrollHeight + "
                           "document.querySelector('article').getBoundingClientRect().top + 20")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 2400)})
    page.evaluate("document.querySelector('article').scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def check_portfolio_rows(page, report: dict, view: str) -> None:
    for row in report["instruments"]:
        tr = f'#bf-pnl-table tr[data-bf-conid="{row["conid"]}"] td'
        shown = cells(page, tr)
        assert shown[0] == row["symbol"]
        if view == "base":
            wanted = [row["quantity"], *(row["base"][k] for k in ("cost_basis", "realized", "unrealized", "fx", "total"))]
            numbers = shown[2:8]
        else:
            wanted = [row[k] for k in ("quantity", "average_cost", "cost_basis")]
            wanted += [row[k] for k in ("market_value", "realized", "unrealized", "commissions", "dividends",
                                        "withholding", "fees", "total")]
            numbers = shown[3:6] + shown[7:15]
        assert all(same(s, w) for s, w in zip(numbers, wanted, strict=True)), (row["symbol"], numbers, wanted)


def test_portfolio_shows_the_cli_numbers(page, served):
    base, main_file = served
    page.goto(f"{base}/BeanflexPortfolio/")
    page.wait_for_selector("#bf-pnl-table")
    report = cli_json(main_file, "pnl")
    check_portfolio_rows(page, report, "base")
    totals = cells(page, "#bf-pnl-totals td")[3:8]
    assert all(same(s, report["totals"]["base"][k]) for s, k in
               zip(totals, ("cost_basis", "realized", "unrealized", "fx", "total"), strict=True))
    assert "flagged_corporate_action" in cells(page, 'tr[data-bf-conid="999001"] td')[-1]
    assert page.locator('svg.bf-chart g[data-bf-bar="AAPL"] rect').count() == 1
    shot(page, "portfolio")

    page.click('a[data-bf-view="local"]')
    page.wait_for_selector('span.bf-on[data-bf-view="local"]')
    check_portfolio_rows(page, report, "local")

    page.click('a[data-bf-mode="economic"]')
    page.wait_for_selector('a[data-bf-method="average"]')
    page.click('a[data-bf-method="average"]')
    page.wait_for_selector('span.bf-on[data-bf-method="average"]')
    check_portfolio_rows(page, cli_json(main_file, "pnl", "--mode", "economic", "--method", "average"), "local")


def test_labels_drilldown_to_the_raw_row(page, served):
    base, main_file = served
    page.goto(f"{base}/BeanflexLabels/")
    page.wait_for_selector("#bf-labels-table")
    report = cli_json(main_file, "labels")
    for group in report["labels"]:
        shown = cells(page, f'#bf-labels-table tr[data-bf-label="{group["label"]}"] td')
        assert shown[2] == str(len(group["instruments"]))
        assert all(same(s, group["totals"][k]) for s, k in
                   zip(shown[3:8], ("cost_basis", "realized", "unrealized", "fx", "total"), strict=True))
    shot(page, "labels")

    # label -> its instruments
    page.click('#bf-labels-table a:text-is("Software")')
    page.wait_for_selector("#bf-label-instruments")
    software = next(g for g in report["labels"] if g["label"] == "Software")
    for row in software["instruments"]:
        shown = cells(page, f'#bf-label-instruments tr[data-bf-conid="{row["conid"]}"] td')
        assert shown[0] == row["symbol"] and same(shown[8], row["base"]["total"])
    assert "Core holding" in page.inner_text('#bf-label-instruments tr[data-bf-conid="265598"]')  # the note

    # instrument -> its events
    page.click('#bf-label-instruments a:text-is("AAPL")')
    page.wait_for_selector("#bf-events")
    pnl = next(r for r in cli_json(main_file, "pnl")["instruments"] if r["conid"] == "265598")
    summary = dict(zip(cells(page, "#bf-instrument-summary th"), cells(page, "#bf-instrument-summary td")))
    for label, key in (("Quantity", "quantity"), ("Realized", "realized"), ("Unrealized", "unrealized"),
                       ("Dividends", "dividends"), ("Withholding", "withholding"), ("Total (USD)", "total")):
        assert same(summary[label], pnl[key]), label
    events = cli_json(main_file, "events", "--instrument", "265598")["events"]
    assert cells(page, "#bf-events tbody tr td:first-child") == [e["date"] for e in events]
    for event in events:
        shown = cells(page, f'#bf-events tr[data-bf-flex-id="{event["flex_id"]}"] td')
        assert same(shown[4], event["amount"]), event["flex_id"]
    sale = page.locator('#bf-events tr[data-bf-flex-id="U1234567/trade/1004"]')
    assert "IBKR closed the two oldest lots" in sale.inner_text()  # the event's note

    # event -> Fava's context view of the Beancount entry
    sale.locator("a.bf-entry").click()
    page.wait_for_selector("text=Location:")
    assert "U1234567/trade/1004" in page.locator(".cm-content").first.inner_text()
    page.keyboard.press("Escape")

    # event -> the raw Flex row, highlighted in its file
    sale.locator("a.bf-rawlink").first.click()
    page.wait_for_selector("#bf-raw .bf-row")
    assert page.inner_text('[data-bf="raw-file"]') == RAW_FILE
    assert page.inner_text('[data-bf="raw-line"]') == str(SALE_LINE)
    line = (main_file.parent / RAW_FILE).read_text().splitlines()[SALE_LINE - 1]
    assert page.inner_text("#bf-raw .bf-row") == f"{SALE_LINE}{line}"  # line number, then the line as archived
    assert "fifoPnlRealized 347" in page.inner_text('[data-bf="raw-attributes"]')
    shot(page, "labels-drilldown")


def test_reconciliation_page(page, served):
    base, main_file = served
    page.goto(f"{base}/BeanflexReconcile/")
    page.wait_for_selector("#bf-reconcile")
    report = cli_json(main_file, "reconcile")
    assert page.inner_text('[data-bf="status"]') == report["status"] == "diff"
    for diff in report["diffs"]:
        shown = cells(page, f'#bf-diffs tr[data-bf-flex-id="{diff["flex_id"]}"] td')
        assert [shown[3], *shown[4:7], shown[8]] == [diff["field"], diff["ours"], diff["ibkr"], diff["diff"],
                                                       diff["reason"]]
    assert page.locator("#bf-diffs tbody tr").count() == len(report["diffs"]) == 1
    for row in report["by_instrument"]:
        shown = cells(page, f'#bf-by-instrument tr[data-bf-conid="{row["conid"]}"] td')
        assert shown[5:8] == [row["ours"], row["ibkr"], row["diff"]]
    shot(page, "reconciliation")
    page.click('#bf-diffs a.bf-rawlink')
    page.wait_for_selector("#bf-raw .bf-row")
    assert 'fifoPnlRealized="97.5"' in page.inner_text("#bf-raw .bf-row")


def test_import_health_page(page, served):
    base, _ = served
    page.goto(f"{base}/BeanflexImportHealth/")
    page.wait_for_selector("#bf-runs")
    assert page.inner_text('[data-bf="status"]') == "needs attention"
    assert page.locator("#bf-runs tbody tr").count() == 2
    flagged = page.locator('#bf-flagged tr[data-bf-flex-id="U1234567/ca/3001"]')
    assert "SPINOFF" in flagged.inner_text()
    assert "manual.beancount" in page.inner_text("#bf-fix-hint")
    flagged.locator("a.bf-rawlink").click()
    page.wait_for_selector("#bf-raw .bf-row")
    assert 'type="SO"' in page.inner_text("#bf-raw .bf-row")
    shot(page, "import-health")
