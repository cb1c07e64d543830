"""Editing from Fava through Flask's test client on the hand-written ledger: labels, notes, upload, the guard on
Fava's own editor, and the labels.yaml line editor (comments and layout survive byte for byte)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from fava.application import create_app

from beanflex import labels_yaml
from beanflex.fava_ext import editing
from fava_ledger import copy_ledger

CSV = Path(__file__).parent / "fixtures" / "csv"
HAND_WRITTEN = """\
# My labels -- keep this comment
labels:
  Software:            # the big ones
    description: Software and cloud names
    members: [AAPL, "isin:DE0007164600"]   # by ISIN for SAP
  Europe:
    description: European listings
    members:
      - "conid:14204"
      # more to come
    colour: "#3b82f6"

# trailing comment
"""


def test_add_member_changes_one_line_only():
    new = labels_yaml.add_member(HAND_WRITTEN, "Software", "MSFT")
    old_lines, new_lines = HAND_WRITTEN.split("\n"), new.split("\n")
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert len(old_lines) == len(new_lines) and changed == [4]
    assert new_lines[4] == '    members: [AAPL, "isin:DE0007164600", MSFT]   # by ISIN for SAP'


def test_add_to_a_block_list_inserts_one_line_and_keeps_the_rest():
    new = labels_yaml.add_member(HAND_WRITTEN, "Europe", "conid:999001")
    assert new == HAND_WRITTEN.replace('      - "conid:14204"\n', '      - "conid:14204"\n      - "conid:999001"\n')
    assert yaml.safe_load(new)["labels"]["Europe"]["members"] == ["conid:14204", "conid:999001"]


def test_remove_and_create_keep_comments_and_order():
    removed = labels_yaml.remove_members(HAND_WRITTEN, "Software", {"AAPL"})
    assert removed == HAND_WRITTEN.replace('[AAPL, "isin:DE0007164600"]', '["isin:DE0007164600"]')
    created = labels_yaml.create_label(HAND_WRITTEN, "Dividend Growth", "Raises every year")
    assert created == HAND_WRITTEN.replace('    colour: "#3b82f6"\n', '    colour: "#3b82f6"\n  Dividend Growth:\n'
                                           '    description: Raises every year\n')
    assert list(yaml.safe_load(created)["labels"]) == ["Software", "Europe", "Dividend Growth"]


def test_a_layout_the_editor_does_not_know_is_refused_not_guessed():
    odd = "labels: {Software: {members: [AAPL]}}\n"
    with pytest.raises(labels_yaml.EditRefused, match="by hand"):
        labels_yaml.add_member(odd, "Software", "MSFT")
    with pytest.raises(labels_yaml.EditRefused, match="no label"):
        labels_yaml.add_member(HAND_WRITTEN, "Nope", "MSFT")


@pytest.fixture()
def main_file(tmp_path, monkeypatch):
    monkeypatch.delenv(editing.READ_ONLY_ENV, raising=False)
    main = copy_ledger(tmp_path)
    (main.parent.parent / "labels.yaml").write_text(HAND_WRITTEN)
    root = main.parent.parent
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return main


@pytest.fixture()
def client(main_file):
    return create_app([str(main_file)], load=True).test_client()


def base(client) -> str:
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    return f"/{slug}/extension/"


def git_log(main_file: Path) -> list[str]:
    out = subprocess.run(["git", "log", "--format=%s"], cwd=main_file.parent.parent, capture_output=True, text=True)
    return out.stdout.splitlines()


def post(client, path: str, **form):
    return client.post(base(client) + path, data={"csrf": editing._TOKEN, "next": "/x/extension/BeanflexLabels/",
                                                   **form})


def test_label_an_instrument_from_the_page(client, main_file):
    page = client.get(base(client) + "BeanflexLabels/?conid=14204&acct=U1234567").get_data(as_text=True)
    assert 'id="bf-add-label"' in page and editing._TOKEN in page
    answer = post(client, "BeanflexEdit/labels", action="add", symbol="SAP", conid="14204", label="",
                  new_label="Dividend Growth")
    assert answer.status_code == 303 and "edited=labels" in answer.headers["Location"]
    text = (main_file.parent.parent / "labels.yaml").read_text()
    assert text == HAND_WRITTEN.replace('    colour: "#3b82f6"\n',
                                        '    colour: "#3b82f6"\n  Dividend Growth:\n    members: [SAP]\n')
    assert git_log(main_file)[0] == "labels: add SAP to Dividend Growth"
    page = client.get(base(client) + "BeanflexLabels/?label=Dividend+Growth").get_data(as_text=True)
    assert "SAP" in page


def test_remove_a_label_given_by_a_rule_excludes_the_instrument(client, main_file):
    answer = post(client, "BeanflexEdit/labels", action="remove", symbol="SAP", conid="14204", label="Software")
    assert answer.status_code == 303, answer.get_data(as_text=True)
    labels = yaml.safe_load((main_file.parent.parent / "labels.yaml").read_text())["labels"]
    assert labels["Software"]["members"] == ["AAPL"]  # its isin: entry named it: gone, no exclude needed
    assert git_log(main_file)[0] == "labels: remove SAP from Software"


def test_notes_are_written_as_markdown_and_html_stays_text(client, main_file):
    answer = post(client, "BeanflexEdit/note", kind="instrument", symbol="SAP", conid="14204",
                  text="<script>alert(1)</script> Watch the cloud margin")
    assert answer.status_code == 303
    note = (main_file.parent.parent / "notes" / "SAP.md").read_text()
    assert note == '---\nconid: "14204"\nsymbol: SAP\n---\n\n<script>alert(1)</script> Watch the cloud margin\n'
    page = client.get(base(client) + "BeanflexLabels/?conid=14204&acct=U1234567").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Watch the cloud margin" in page and "<script>alert(1)" not in page
    answer = post(client, "BeanflexEdit/note", kind="event", flex_id="U1234567/trade/1010", text="Sold on the rally")
    assert answer.status_code == 303
    assert "## U1234567/trade/1010\n\nSold on the rally\n" in (main_file.parent.parent / "notes/events.md").read_text()
    assert git_log(main_file)[:2] == ["notes: edit the note on U1234567/trade/1010",
                                      "notes: edit the note on SAP (SAP.md)"]


def test_edits_need_the_token_and_are_refused_read_only(client, main_file, monkeypatch):
    before = (main_file.parent.parent / "labels.yaml").read_bytes()
    answer = client.post(base(client) + "BeanflexEdit/labels", data={"action": "create", "label": "X"})
    assert answer.status_code == 403
    monkeypatch.setenv(editing.READ_ONLY_ENV, "1")
    assert post(client, "BeanflexEdit/labels", action="create", label="X").status_code == 403
    page = client.get(base(client) + "BeanflexLabels/?conid=14204&acct=U1234567").get_data(as_text=True)
    assert 'id="bf-add-label"' not in page
    assert (main_file.parent.parent / "labels.yaml").read_bytes() == before
    huge = post(client, "BeanflexEdit/note", kind="instrument", symbol="SAP", text="x" * 300_000)
    assert huge.status_code in (403, 413)


def test_favas_editor_cannot_write_generated_or_raw_files(client, main_file):
    generated = main_file.parent / "generated" / "U1234567" / "2024.beancount"
    slug = base(client).split("/")[1]
    before = generated.read_bytes()
    answer = client.put(f"/{slug}/api/source", json={"file_path": str(generated), "source": "", "sha256sum": "x"})
    assert answer.status_code == 403 and "manual.beancount" in answer.get_json()["error"]
    assert generated.read_bytes() == before
    manual = main_file.parent / "manual.beancount"
    answer = client.put(f"/{slug}/api/source", json={"file_path": str(manual), "source": "; mine\n",
                                                     "sha256sum": "stale"})
    assert answer.status_code != 403  # Fava's own checks apply (a stale sha256 is its error, not ours)


def test_upload_a_csv_statement_shows_new_trades_and_status(client, main_file):
    page = client.get(base(client) + "BeanflexUpload/").get_data(as_text=True)
    assert 'id="bf-upload-form"' in page
    import io
    answer = client.post(base(client) + "BeanflexUpload/upload",
                         data={"csrf": editing._TOKEN, "next": base(client) + "BeanflexUpload/",
                               "statement": (io.BytesIO((CSV / "activity.csv").read_bytes()), "activity.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "U2222222/trade/7001" in shown and "imported" in shown
    assert list((main_file.parent / "raw" / "U1234567" / "2024").glob("*.csv"))
    generated = (main_file.parent / "generated" / "U2222222" / "2024.beancount").read_text()
    src = re.search(r'flex_id: "U2222222/trade/7001"\n\s+flex_src: "(\S+)"', generated).group(1)
    row = client.get(base(client) + "BeanflexLabels/raw_row", query_string={"src": src}).get_json()
    assert row["xml"].startswith('"DATA","TRNT","U2222222"') and ["Buy/Sell", "BUY"] in row["attributes"]
    page = client.get(base(client) + "BeanflexLabels/", query_string={"raw": src}).get_data(as_text=True)
    assert "Buy/Sell" in page and "7001" in page
    bad = client.post(base(client) + "BeanflexUpload/upload",
                      data={"csrf": editing._TOKEN, "next": base(client) + "BeanflexUpload/",
                            "statement": (io.BytesIO(b'"ClientAccountID","Symbol"\n"U1","AAPL"\n'), "../../x.csv")},
                      content_type="multipart/form-data")
    shown = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert "refused" in shown and re.search(r"x\.csv:1", shown) and "cannot tell which section" in shown


def test_portfolio_links_each_instrument_to_its_edit_forms(client, monkeypatch):
    page = client.get(base(client) + "BeanflexPortfolio/").get_data(as_text=True)
    assert page.count('class="bf-meta bf-edit-link"') >= 3 and "#bf-edit-labels" in page
    monkeypatch.setenv(editing.READ_ONLY_ENV, "1")
    assert "bf-edit-link" not in client.get(base(client) + "BeanflexPortfolio/").get_data(as_text=True)


def test_unknown_instruments_and_events_are_refused(client, main_file):
    before = (main_file.parent.parent / "labels.yaml").read_bytes()
    answer = post(client, "BeanflexEdit/labels", action="add", symbol="re:.*", conid="", label="Software")
    assert answer.status_code == 303 and "edit_error=no+instrument" in answer.headers["Location"]
    answer = post(client, "BeanflexEdit/note", kind="event", flex_id="U1/trade/nope", text="x")
    assert "edit_error=no+entry" in answer.headers["Location"]
    answer = post(client, "BeanflexEdit/labels", action="create", label="<b>x</b>")
    assert "edit_error" in answer.headers["Location"]
    assert (main_file.parent.parent / "labels.yaml").read_bytes() == before
    assert not (main_file.parent.parent / "notes" / "events.md").exists() or \
        "nope" not in (main_file.parent.parent / "notes" / "events.md").read_text()
    page = client.get(base(client) + "BeanflexLabels/?edit_error=%3Cscript%3Ex%3C%2Fscript%3E").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page


def test_favas_entry_slice_editor_cannot_touch_a_generated_entry(client, main_file):
    from fava.beans.funcs import hash_entry

    app_ledger = client.application.config["LEDGERS"]
    slug = base(client).split("/")[1]
    ledger = app_ledger[slug]
    generated = main_file.parent / "generated" / "U1234567" / "2024.beancount"
    entry = next(e for e in ledger.all_entries if (e.meta or {}).get("flex_id") == "U1234567/trade/1004")
    before = generated.read_bytes()
    answer = client.put(f"/{slug}/api/source_slice", json={"entry_hash": hash_entry(entry), "source": "",
                                                          "sha256sum": "x"})
    assert answer.status_code == 403 and "generated" in answer.get_json()["error"]
    answer = client.delete(f"/{slug}/api/source_slice", query_string={"entry_hash": hash_entry(entry),
                                                                      "sha256sum": "x"})
    assert answer.status_code == 403
    assert generated.read_bytes() == before


def test_serve_read_only_tells_the_pages(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from beanflex.cli import cli
    import fava.cli

    main = copy_ledger(tmp_path)
    seen = {}
    monkeypatch.setattr(fava.cli.main, "main", lambda **kw: seen.update(kw, env=os.environ.get(editing.READ_ONLY_ENV)))
    monkeypatch.setenv(editing.READ_ONLY_ENV, "0")  # restored (to unset) after the test; serve sets it to "1"
    run = CliRunner().invoke(cli, ["--ledger", str(main), "serve", "--read-only"])
    assert run.exit_code == 0, run.output
    assert "--read-only" in seen["args"] and seen["env"] == "1" and editing.read_only()
