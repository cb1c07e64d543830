"""The Fava pages in a real browser: a `beanflex serve` process on 127.0.0.1, Debian's Chromium driven by
Playwright. Every number read off a page is compared with `beanflex report … --format json` on the same
ledger, and the drilldown is clicked through: label -> instrument -> event -> Fava's entry context -> raw row.

Two ledgers: the demo (`beanflex demo`, the importer's real output; its screenshots are the README's, refreshed
with `BEANFLEX_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/test_browser.py`) and the hand-written one of
fava_ledger.py, which adds what the demo lacks: a flagged corporate action, an unmapped row, a reconciliation diff
and notes on an event.

Needs: `pip install playwright` (no `playwright install`: the browser is /usr/bin/chromium, `apt-get install
chromium`).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from fava_ledger import copy_ledger
from fava_server import BEANFLEX, beanflex_serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: Where the demo ledger's screenshots go: docs/screenshots/ when refreshing them for the README
#: (`BEANFLEX_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/test_browser.py`), else a temporary folder, so a
#: plain test run never changes the work tree (the import-health page shows the run's own timestamps).
SCREENSHOTS_ENV = "BEANFLEX_SCREENSHOTS"


@functools.lru_cache(maxsize=None)
def cli_json(main_file: Path, *args: str, command: str = "report") -> dict:
    """`beanflex --ledger MAIN report ARGS --format json` (or another command), parsed; run once per ledger and
    arguments."""
    done = subprocess.run([str(BEANFLEX), "--ledger", str(main_file), *command.split(), *args, "--format", "json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>/<slug>/extension
    main_file: Path
    ledger: str  # "demo" or "fixture"


def build_ledger(kind: str, folder: Path) -> Path:
    """The ledger's main file: `beanflex demo DIR` for the demo, a copy of the hand-written one otherwise."""
    if kind == "fixture":
        return copy_ledger(folder)
    done = subprocess.run([str(BEANFLEX), "demo", str(folder / "demo")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return folder / "demo" / "ledger" / "main.beancount"


@pytest.fixture(scope="module", params=["demo", "fixture"])
def served(request, tmp_path_factory):
    """A real `beanflex serve` process on the ledger, for the module's tests."""
    main_file = build_ledger(request.param, tmp_path_factory.mktemp(request.param))
    with beanflex_serve(main_file, main_file.parent.parent / "serve.log") as base:
        yield Served(base, main_file, request.param)


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
    """A number on the page equals the report's decimal string as the one display rule shows it (thousands
    separators, money half-even to the cent of these USD ledgers: "3802.5" shows as "3,802.50", "1351.125" as
    "1,351.12"; a quantity keeps its digits)."""
    if shown in ("—", "") or value is None:
        return shown in ("—", "") and value is None
    number = Decimal(shown.replace(",", ""))
    return number == Decimal(value) or number == Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def shot(page, served: Served, name: str) -> None:
    """<name>.png of the whole page (demo ledger only; folder: SCREENSHOTS_ENV): Fava scrolls inside <article>,
    so the window is made as tall as the article's content (at most 2400 px) for the picture, then restored."""
    if served.ledger != "demo":
        return
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or served.main_file.parent.parent / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("document.querySelector('article').scrollHeight + "
                           "document.querySelector('article').getBoundingClientRect().top + 20")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 2400)})
    page.evaluate("document.querySelector('article').scrollTo(0, 0)")
    page.screenshot(path=str(folder / f"{name}.png"))
    assert (folder / f"{name}.png").stat().st_size > 10_000
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
    page.goto(f"{served.base}/BeanflexPortfolio/")
    page.wait_for_selector("#bf-pnl-table")
    report = cli_json(served.main_file, "pnl")
    assert page.locator("#bf-pnl-table tbody tr").count() == len(report["instruments"]) >= 2
    check_portfolio_rows(page, report, "base")
    totals = cells(page, "#bf-pnl-totals td")[3:8]
    assert all(same(s, report["totals"]["base"][k]) for s, k in
               zip(totals, ("cost_basis", "realized", "unrealized", "fx", "total"), strict=True))
    for row in report["instruments"]:
        assert page.locator(f'svg.bf-chart g[data-bf-bar="{row["symbol"]}"]').count() == 1
        shown_flags = cells(page, f'#bf-pnl-table tr[data-bf-conid="{row["conid"]}"] td')[-1]
        assert all(flag in shown_flags for flag in row["flags"])
    if served.ledger == "fixture":  # the spin-off is flagged `!`; SAP's sale differs from IBKR's figure
        assert "flagged_corporate_action" in cells(page, '#bf-pnl-table tr[data-bf-conid="999001"] td')[-1]
        assert "reconcile_diff" in cells(page, '#bf-pnl-table tr[data-bf-conid="14204"] td')[-1]
    # the account-level items, as the CLI reports them (demo: interest 3.21, fees 10, commissions 2, deposits
    # 10000, total 3.21 - 10 - 2 = -8.79)
    assert page.locator("#bf-accounts tbody tr").count() == len(report["accounts"]) >= 1
    for acct in report["accounts"]:
        shown = cells(page, f'#bf-accounts tr[data-bf-account="{acct["account"]}"][data-bf-currency='
                            f'"{acct["currency"]}"] td')
        wanted = [acct[k] for k in ("interest", "fees", "commissions", "deposits", "withdrawals", "total")]
        assert all(same(s, w) for s, w in zip(shown[2:8] + [shown[8]], wanted + [acct["base"]["total"]],
                                              strict=True)), (shown, wanted)
    if served.ledger == "demo":
        assert same(cells(page, "#bf-accounts tbody td")[7], "-8.79")
    shot(page, served, "portfolio")

    # a number -> the events behind it (`beanflex explain`), which add up to it
    page.click('#bf-pnl-table tr[data-bf-conid="265598"] td[data-bf-value] >> nth=2')  # base realized
    page.wait_for_selector("#bf-explain-table")
    explained = cli_json(served.main_file, "265598", "base.realized", command="explain")
    assert page.get_attribute("#bf-explain-table", "data-bf-field") == "base.realized"
    amounts = cells(page, "#bf-explain-table tbody td[data-bf-value]")
    assert len(amounts) == len(explained["events"]) >= 1
    assert all(same(s, e["amount"]) for s, e in zip(amounts, explained["events"], strict=True))
    assert same(cells(page, "#bf-explain-table tfoot td[data-bf-value]")[0], explained["value"])
    page.go_back()
    page.wait_for_selector("#bf-pnl-table")

    page.click('a[data-bf-view="local"]')
    page.wait_for_selector('span.bf-on[data-bf-view="local"]')
    check_portfolio_rows(page, report, "local")

    page.click('a[data-bf-mode="economic"]')
    page.wait_for_selector('a[data-bf-method="average"]')
    page.click('a[data-bf-method="average"]')
    page.wait_for_selector('span.bf-on[data-bf-method="average"]')
    check_portfolio_rows(page, cli_json(served.main_file, "pnl", "--mode", "economic", "--method", "average"),
                         "local")


def test_labels_drilldown_to_the_raw_row(page, served):
    page.goto(f"{served.base}/BeanflexLabels/")
    page.wait_for_selector("#bf-labels-table")
    report = cli_json(served.main_file, "labels")
    for group in report["labels"]:
        shown = cells(page, f'#bf-labels-table tr[data-bf-label="{group["label"]}"] td')
        assert shown[2] == str(len(group["instruments"]))
        assert all(same(s, group["totals"][k]) for s, k in
                   zip(shown[3:8], ("cost_basis", "realized", "unrealized", "fx", "total"), strict=True))
    shot(page, served, "labels")

    # label -> its instruments
    page.click('#bf-labels-table a:text-is("Software")')
    page.wait_for_selector("#bf-label-instruments")
    software = next(g for g in report["labels"] if g["label"] == "Software")
    for row in software["instruments"]:
        shown = cells(page, f'#bf-label-instruments tr[data-bf-conid="{row["conid"]}"] td')
        assert shown[0] == row["symbol"] and shown[2] == row["weight"] and same(shown[8], row["base"]["total"])

    # instrument -> its events
    page.click('#bf-label-instruments a:text-is("AAPL")')
    page.wait_for_selector("#bf-events")
    pnl = next(r for r in cli_json(served.main_file, "pnl")["instruments"] if r["conid"] == "265598")
    summary = dict(zip(cells(page, "#bf-instrument-summary th"), cells(page, "#bf-instrument-summary td")))
    for label, key in (("Quantity", "quantity"), ("Realized", "realized"), ("Unrealized", "unrealized"),
                       ("Commissions", "commissions"), ("Dividends", "dividends"), ("Withholding", "withholding"),
                       ("Total (USD)", "total")):
        assert same(summary[label], pnl[key]), label
    events = cli_json(served.main_file, "events", "--instrument", "265598")["events"]
    assert cells(page, "#bf-events tbody tr td:first-child") == [e["date"] for e in events]
    for event in events:
        shown = cells(page, f'#bf-events tr[data-bf-flex-id="{event["flex_id"]}"] td')
        assert same(shown[4], event["amount"]), event["flex_id"]
    assert "Note" in page.inner_text("#bf-labels")  # the instrument's note (or how to add one) beside it
    sale = next(e for e in events if e["description"].startswith("SELL 15 AAPL"))
    row = page.locator(f'#bf-events tr[data-bf-flex-id="{sale["flex_id"]}"]')
    if served.ledger == "fixture":  # notes/AAPL.md beside the instrument, notes/events.md beside the sale
        assert "Core holding" in page.inner_text("#bf-instrument-note")
        assert "IBKR closed the two oldest lots" in row.inner_text()

    # event -> Fava's context view of the Beancount entry
    row.locator("a.bf-entry").click()
    page.wait_for_selector("text=Location:")
    assert sale["flex_id"] in page.locator(".cm-content").first.inner_text()
    page.keyboard.press("Escape")

    # event -> the raw Flex row, highlighted in its archive file
    row.locator("a.bf-rawlink").first.click()
    page.wait_for_selector("#bf-raw .bf-row")
    raw = sale["raw"][0]
    assert page.inner_text('[data-bf="raw-file"]') == raw["file"]
    assert page.inner_text('[data-bf="raw-line"]') == str(raw["line"])
    line = (served.main_file.parent / raw["file"]).read_text().splitlines()[raw["line"] - 1]
    assert page.inner_text("#bf-raw .bf-row") == f'{raw["line"]}{line}'  # line number, then the line as archived
    assert page.text_content('[data-bf="raw-xml"]') == raw["xml"]  # the element, as `explain` reads it
    assert "fifoPnlRealized 347" in page.inner_text('[data-bf="raw-attributes"]')
    shot(page, served, "labels-drilldown")


def test_reconciliation_page(page, served):
    page.goto(f"{served.base}/BeanflexReconcile/")
    page.wait_for_selector("#bf-reconcile")
    report = cli_json(served.main_file, "reconcile")
    assert page.inner_text('[data-bf="status"]') == report["status"]
    assert page.locator("#bf-diffs tbody tr").count() == len(report["diffs"])
    for diff in report["diffs"]:
        shown = cells(page, f'#bf-diffs tr[data-bf-flex-id="{diff["flex_id"]}"] td')
        assert shown[3] == diff["field"]
        assert all(same(s, diff[k]) for s, k in zip(shown[4:7], ("ours", "ibkr", "diff"), strict=True))
        # the reason's code, then what it means; a diff without a known cause says so
        assert shown[8].splitlines()[0] == (diff["reason"] or "unexplained")
    for row in report["by_instrument"]:
        shown = cells(page, f'#bf-by-instrument tr[data-bf-conid="{row["conid"]}"] td')
        assert all(same(s, row[k]) for s, k in zip(shown[5:8], ("ours", "ibkr", "diff"), strict=True))
    assert page.locator("#bf-positions tbody tr").count() == len(report["positions"])
    # each position's quantity, cost basis and unrealized: ours, IBKR's and the diff, cell by cell (the page lays
    # out the compared fields in first-seen order, three cells each, after date, instrument, account, currency)
    fields = list(dict.fromkeys(k for p in report["positions"] for k, v in p.items() if isinstance(v, dict)))
    assert {"quantity", "cost_basis", "unrealized"} <= set(fields) or not report["positions"]
    for i, position in enumerate(report["positions"]):
        shown = [t.strip() for t in page.locator("#bf-positions tbody tr").nth(i).locator("td").all_inner_texts()]
        assert (shown[0], shown[1]) == (position["date"], position["symbol"])
        for j, name in enumerate(fields):
            triple = shown[4 + 3 * j: 7 + 3 * j]
            if name not in position:
                assert triple == ["", "", ""]
                continue
            assert all(same(s, position[name][k]) for s, k in zip(triple, ("ours", "ibkr", "diff"), strict=True)), (
                position["symbol"], name, triple)
    # ending cash per currency: ours, IBKR's CashReport and the diff, row by row in the report's order
    assert page.locator("#bf-cash tbody tr").count() == len(report["cash"])
    for i, cash in enumerate(report["cash"]):
        shown = [t.strip() for t in page.locator("#bf-cash tbody tr").nth(i).locator("td").all_inner_texts()]
        assert (shown[0], shown[2]) == (cash["date"], cash["currency"])
        assert all(same(s, cash[k]) for s, k in zip(shown[3:6], ("ours", "ibkr", "diff"), strict=True))
    shot(page, served, "reconciliation")
    if served.ledger == "fixture":  # IBKR's 97.5 for the SAP sale against its own rows' 600 - 1 - 501 = 98
        assert report["status"] == "diff"
        page.click("#bf-diffs a.bf-rawlink")
        page.wait_for_selector("#bf-raw .bf-row")
        assert 'fifoPnlRealized="97.5"' in page.inner_text("#bf-raw .bf-row")


def test_import_health_page(page, served):
    page.goto(f"{served.base}/BeanflexImportHealth/")
    page.wait_for_selector("#bf-runs")
    runs = [line for line in (served.main_file.parent / "runs.log").read_text().splitlines() if line.strip()]
    assert page.locator("#bf-runs tbody tr").count() == len(runs)
    shot(page, served, "import-health")
    if served.ledger == "fixture":
        assert page.inner_text('[data-bf="status"]') == "needs attention"
        flagged = page.locator('#bf-flagged tr[data-bf-flex-id="U1234567/ca/3001"]')
        assert "SPINOFF" in flagged.inner_text()
        assert "manual.beancount" in page.inner_text("#bf-fix-hint")
        flagged.locator("a.bf-rawlink").click()
        page.wait_for_selector("#bf-raw .bf-row")
        assert 'type="SO"' in page.inner_text("#bf-raw .bf-row")
        assert "U1234567/cash/2009" in page.inner_text("#bf-unmapped")


def test_portfolio_options_collapse_under_their_underlying(page, served):
    """Every option row sits in its underlying's group; ticking the group's box hides exactly its option rows
    (CSS only), and unticking shows them again."""
    page.goto(f"{served.base}/BeanflexPortfolio/")
    page.wait_for_selector("#bf-pnl-table")
    groups = page.locator("#bf-pnl-table tbody.bf-group:has(tr.bf-option-row)")
    if served.ledger == "fixture":  # the hand-written ledger has no option
        assert groups.count() == 0
        return
    assert groups.count() >= 1
    group = groups.first
    options = group.locator("tr.bf-option-row")
    assert options.first.is_visible()
    group.locator("input.bf-collapse").check()
    assert all(not options.nth(i).is_visible() for i in range(options.count()))
    assert page.locator("#bf-pnl-table tbody tr:not(.bf-option-row)").first.is_visible()
    group.locator("input.bf-collapse").uncheck()
    assert options.first.is_visible()
