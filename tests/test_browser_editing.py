"""Loading, labelling and annotating entirely from the browser: a real `beanflex serve` on a git-tracked copy of
the hand-written ledger, Debian's Chromium driven by Playwright. After each step the files a hand-editor would
write (labels.yaml, notes/, raw/, generated/), the page and the git log are checked.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

from fava_ledger import copy_ledger
from fava_server import beanflex_serve
from test_browser import CHROMIUM, CHROMIUM_ARGS

CSV = Path(__file__).parent / "fixtures" / "csv" / "activity.csv"
LABELS = """\
# My labels -- this comment and the layout below must survive edits from the browser
labels:
  Software:
    description: Software and cloud names
    members: [AAPL, "isin:DE0007164600"]   # SAP by ISIN
  Europe:
    description: European listings
    members: ["conid:14204"]
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    main = copy_ledger(tmp_path_factory.mktemp("edit"))
    root = main.parent.parent
    (root / "labels.yaml").write_text(LABELS)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    env = {k: v for k, v in os.environ.items() if k != "BEANFLEX_READ_ONLY"}
    with beanflex_serve(main, root / "serve.log", env=env) as base:
        yield base, main


@pytest.fixture(scope="module")
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        browser.close()
        assert errors == []


def test_label_an_instrument(served, page):
    base, main = served
    root = main.parent.parent
    page.goto(f"{base}/BeanflexLabels/?conid=265598&acct=U1234567")
    page.fill("#bf-new-label", "Dividend Growth")
    page.click("#bf-add-label-button")
    expect(page.locator("#bf-edited")).to_contain_text("labels: add AAPL to Dividend Growth")
    expect(page.locator('[data-bf-has-label="Dividend Growth"]')).to_have_count(1)
    text = (root / "labels.yaml").read_text()
    assert text == LABELS + "  Dividend Growth:\n    members: [AAPL]\n"  # every old byte kept, two lines added
    assert git(root, "log", "--format=%s", "-1").strip() == "labels: add AAPL to Dividend Growth"
    page.goto(f"{base}/BeanflexLabels/")
    expect(page.locator('#bf-labels-table tr[data-bf-label="Dividend Growth"]')).to_have_count(1)
    # and out again: AAPL is a member by name, so its entry goes (no exclude needed)
    page.goto(f"{base}/BeanflexLabels/?conid=265598&acct=U1234567")
    page.click('[data-bf-remove-label="Software"]')
    expect(page.locator("#bf-edited")).to_contain_text("labels: remove AAPL from Software")
    assert yaml.safe_load((root / "labels.yaml").read_text())["labels"]["Software"]["members"] == \
        ["isin:DE0007164600"]
    assert "# SAP by ISIN" in (root / "labels.yaml").read_text()


def test_write_notes(served, page):
    base, main = served
    root = main.parent.parent
    page.goto(f"{base}/BeanflexLabels/?conid=14204&acct=U1234567")
    page.fill("#bf-note-text", "Watch the <b>cloud</b> margin")
    page.click("#bf-save-note")
    expect(page.locator("#bf-edited")).to_contain_text("notes: edit the note on SAP")
    expect(page.locator("#bf-instrument-note")).to_have_text("Watch the <b>cloud</b> margin")  # as text
    assert (root / "notes" / "SAP.md").read_text().endswith("\n\nWatch the <b>cloud</b> margin\n")
    page.locator("details.bf-edit-event summary").first.click()
    flex_id = page.locator("textarea[data-bf-event-note]").first.get_attribute("data-bf-event-note")
    page.locator(f'textarea[data-bf-event-note="{flex_id}"]').fill("Bought on the dip")
    page.click(f'[data-bf-save-event-note="{flex_id}"]')
    expect(page.locator(f'tr[data-bf-flex-id="{flex_id}"] .bf-event-note')).to_have_text("Bought on the dip")
    assert f"## {flex_id}\n\nBought on the dip\n" in (root / "notes" / "events.md").read_text()
    log = git(root, "log", "--format=%s", "-2").splitlines()
    assert log == [f"notes: edit the note on {flex_id}", "notes: edit the note on SAP (SAP.md)"]


def test_upload_a_statement(served, page):
    base, main = served
    page.goto(f"{base}/BeanflexUpload/")
    page.set_input_files("#bf-statement", str(CSV))
    page.click("#bf-upload-button")
    result = page.locator("#bf-upload-result")
    expect(result).to_contain_text("activity.csv")
    assert result.get_attribute("data-bf-status") in ("ok", "diff")
    expect(page.locator("#bf-upload-trade-ids")).to_contain_text("U2222222/trade/7001")
    [archived] = list((main.parent / "raw").rglob("*.csv"))
    assert archived.read_bytes() == CSV.read_bytes()
    assert 'flex_id: "U2222222/trade/7001"' in (main.parent / "generated" / "U2222222" / "2024.beancount").read_text()
    expect(page.locator("#bf-upload-commit")).to_contain_text("committed")
    subject = git(main.parent.parent, "log", "--format=%s", "-1").strip()
    assert subject.startswith("upload activity.csv: +1 trade, ") and "reconcile" in subject
    assert git(main.parent.parent, "status", "--porcelain", "--", "ledger/raw", "ledger/generated") == ""
    page.goto(f"{base}/BeanflexPortfolio/")
    expect(page.locator('#bf-pnl-table tr[data-bf-conid="14204"]')).to_have_count(2)  # SAP in both accounts now
    # a file that is not a statement is refused with its line, and nothing changes
    before = sorted(p.name for p in (main.parent / "raw").rglob("*") if p.is_file())
    bad = main.parent.parent / "bad.csv"
    bad.write_text('"BOF","U1","q","1","20240101","20241231","",""\n"BOA","U1"\n')
    page.goto(f"{base}/BeanflexUpload/")
    page.set_input_files("#bf-statement", str(bad))
    page.click("#bf-upload-button")
    expect(page.locator("#bf-upload-error")).to_contain_text(re.compile(r"bad\.csv:\d+: .*no EOF"))
    assert sorted(p.name for p in (main.parent / "raw").rglob("*") if p.is_file()) == before
