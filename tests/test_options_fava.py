"""The Portfolio page groups options under their underlying (real Fava app, real ledger imported by `beanflex
import` from tests/fixtures/options/open_covered_call.xml: 100 XYZ and a short XYZ 55 C)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from fava.application import create_app

from beanflex.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "options"


def test_portfolio_groups_the_call_under_its_stock_and_can_collapse_it(tmp_path):
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('option "operating_currency" "USD"\n'
                                           '2000-01-01 custom "fava-extension" "beanflex.fava_ext"\n'
                                           'include "generated/index.beancount"\n')
    shutil.copy(FIXTURES / "open_covered_call.xml", tmp_path / "s.xml")
    result = CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import", str(tmp_path / "s.xml")])
    assert result.exit_code == 0, result.output
    client = create_app([str(ledger / "main.beancount")], load=True).test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    html = client.get(f"/{slug}/extension/BeanflexPortfolio/").get_data(as_text=True)
    group = re.search(r'<tbody class="bf-group" data-bf-underlying="XYZ">(.*?)</tbody>', html, re.S)
    assert group is not None, html[:2000]
    rows = re.findall(r'<tr data-bf-conid="(\d+)"([^>]*)>', group.group(1))
    assert [(conid, "bf-option-row" in rest) for conid, rest in rows] == [("900000", False), ("900050", True)]
    assert 'class="bf-collapse"' in group.group(1) and "the 1 option on XYZ" in group.group(1)
    # the checkbox hides the option rows of its own group only (CSS, no script)
    assert ".bf-group:has(.bf-collapse:checked) tr.bf-option-row { display: none; }" in html


def test_labels_page_events_name_the_other_side_of_an_assignment(tmp_path):
    """The wheel on an instrument's page: the put close links to XYZ, the stock's delivery to the put."""
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('option "operating_currency" "USD"\n'
                                           '2000-01-01 custom "fava-extension" "beanflex.fava_ext"\n'
                                           'include "generated/index.beancount"\n')
    shutil.copy(FIXTURES / "wheel.xml", tmp_path / "s.xml")
    assert CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import",
                                    str(tmp_path / "s.xml")]).exit_code == 0
    client = create_app([str(ledger / "main.beancount")], load=True).test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    html = client.get(f"/{slug}/extension/BeanflexLabels/?conid=900000&acct=U1").get_data(as_text=True)
    row = re.search(r'<tr data-bf-flex-id="U1/trade/1203">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'assignment ↔ <a href="[^"]*conid=900070[^"]*">XYZ-240216P50</a>', row), row


def test_economic_pages_offer_the_premium_switch_and_use_it(tmp_path):
    """`?mode=economic&premium=folded` reaches the library: XYZ's realized is 397.95 folded, 199.00 separate."""
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "main.beancount").write_text('option "operating_currency" "USD"\n'
                                           '2000-01-01 custom "fava-extension" "beanflex.fava_ext"\n'
                                           'include "generated/index.beancount"\n')
    shutil.copy(FIXTURES / "short_put_assigned.xml", tmp_path / "s.xml")
    assert CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "import",
                                    str(tmp_path / "s.xml")]).exit_code == 0
    client = create_app([str(ledger / "main.beancount")], load=True).test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    base = f"/{slug}/extension/BeanflexPortfolio"
    html = client.get(f"{base}/?mode=economic").get_data(as_text=True)
    assert 'data-bf-premium="folded"' in html and "option premium separate" in html
    for premium, realized in (("folded", "397.95"), ("separate", "199.00")):
        report = client.get(f"{base}/pnl?mode=economic&premium={premium}").get_json()
        report = report.get("data", report)
        xyz, = [row for row in report["instruments"] if row["symbol"] == "XYZ"]
        assert (report["premium"], xyz["realized"]) == (premium, realized)
    assert client.get(f"{base}/pnl?premium=sideways").status_code == 400
