"""notes plugin: notes/<SYMBOL>.md on commodities (+ note directives), notes/events.md sections on transactions.

The ledger is laid out as `beanflex init` does it: repo/ledger/main.beancount includes generated/index.beancount,
and the notes live in repo/notes/, outside everything `rebuild` rewrites.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from beancount import loader

MAIN = """\
plugin "beanflex.plugins.notes" "../notes"
include "generated/index.beancount"
"""

GENERATED = """\
2024-01-01 open Assets:IBKR:U1:Positions
2024-01-01 open Assets:IBKR:U1:Cash
2024-01-01 open Income:IBKR:U1:PnL

2024-01-02 commodity {symbol}
  conid: "107113386"
  name: "{name}"
  asset_category: "STK"

2024-01-02 * "BUY 10 {symbol} @ 300"
  flex_id: "U1/trade/1001"
  conid: "107113386"
  Assets:IBKR:U1:Positions   10 {symbol} {{300.1 USD, 2024-01-02, "U1/trade/1001"}}
  Assets:IBKR:U1:Cash     -3001 USD

2024-03-01 * "SELL 5 {symbol} @ 320"
  flex_id: "U1/trade/1002"
  conid: "107113386"
  Assets:IBKR:U1:Positions   -5 {symbol} {{300.1 USD, 2024-01-02, "U1/trade/1001"}}
  Assets:IBKR:U1:Cash     1599 USD
  Income:IBKR:U1:PnL       -98.5 USD
"""

NOTE = """\
---
conid: "107113386"
symbol: FB
---
Bought for the ads business.

## 2024-01-05 09:00 UTC

Earnings call was fine.

## 2024-02-10 18:30 UTC

Renamed to Meta?
"""

EVENTS = """\
# Event notes

## U1/trade/1002

Sold half to rebalance.

### 2024-03-02 10:00 UTC

Too early, in hindsight.

## U1/trade/1001

First buy.
"""


def make_repo(tmp_path: Path, symbol: str = "FB", name: str = "FACEBOOK INC-A") -> Path:
    (tmp_path / "ledger" / "generated").mkdir(parents=True, exist_ok=True)
    (tmp_path / "notes").mkdir(exist_ok=True)
    main = tmp_path / "ledger" / "main.beancount"
    main.write_text(MAIN, encoding="utf-8")
    write_generated(tmp_path, symbol, name)
    (tmp_path / "notes" / "FB.md").write_text(NOTE, encoding="utf-8")
    (tmp_path / "notes" / "events.md").write_text(EVENTS, encoding="utf-8")
    return main


def write_generated(tmp_path: Path, symbol: str, name: str) -> None:
    """What `beanflex rebuild` does to this ledger: rewrite generated/ from scratch."""
    (tmp_path / "ledger" / "generated" / "index.beancount").write_text(
        GENERATED.format(symbol=symbol, name=name), encoding="utf-8")


def load(main: Path):
    entries, errors, _ = loader.load_file(str(main))
    return entries, errors


def kinds(entries, kind):
    return [e for e in entries if type(e).__name__ == kind]


def check_attached(entries, symbol):
    commodity = next(c for c in kinds(entries, "Commodity") if c.currency == symbol)
    assert commodity.meta["note"].startswith("Bought for the ads business.")
    assert "Renamed to Meta?" in commodity.meta["note"]
    assert commodity.meta["note_file"] == "FB.md"
    notes = kinds(entries, "Note")
    assert [(n.date, n.account, n.comment) for n in notes] == [
        # the text above the first dated entry: on the first buy's date
        (datetime.date(2024, 1, 2), "Assets:IBKR:U1:Positions", f"{symbol}: Bought for the ads business."),
        (datetime.date(2024, 1, 5), "Assets:IBKR:U1:Positions", f"{symbol}: Earnings call was fine."),
        (datetime.date(2024, 2, 10), "Assets:IBKR:U1:Positions", f"{symbol}: Renamed to Meta?")]
    assert notes[1].meta["filename"].endswith("FB.md") and notes[1].meta["lineno"] == 7
    txns = {t.meta["flex_id"]: t for t in kinds(entries, "Transaction")}
    assert txns["U1/trade/1002"].meta["note"] == ("Sold half to rebalance.\n\n### 2024-03-02 10:00 UTC\n\n"
                                                  "Too early, in hindsight.")
    assert txns["U1/trade/1001"].meta["note"] == "First buy."


def test_notes_attach_to_commodity_transactions_and_journal(tmp_path):
    entries, errors = load(make_repo(tmp_path))
    assert errors == []
    check_attached(entries, "FB")


def test_notes_survive_a_ticker_change(tmp_path):
    # Same conid, new symbol and name: the file is still FB.md, matched by the conid in its front matter.
    main = make_repo(tmp_path)
    write_generated(tmp_path, "META", "META PLATFORMS INC-A")
    entries, errors = load(main)
    assert errors == []
    check_attached(entries, "META")


def test_notes_survive_a_real_import_and_rebuild(tmp_path):
    # A real repo: `beanflex init`, `beanflex import` of the demo statement, notes written beside the ledger,
    # then `beanflex rebuild` regenerates generated/ from the raw archive; the notes still attach, untouched.
    import shutil

    from click.testing import CliRunner

    from beanflex.cli import cli

    def beanflex(*args):
        result = CliRunner().invoke(cli, ["--ledger", str(main), *args])
        assert result.exit_code == 0, result.output
        return result

    repo = tmp_path / "repo"
    main = repo / "ledger" / "main.beancount"
    assert CliRunner().invoke(cli, ["init", str(repo)]).exit_code == 0
    statement = tmp_path / "demo_2024.xml"
    shutil.copy(Path(__file__).parent.parent / "beanflex" / "demo" / "demo_2024.xml", statement)
    beanflex("import", str(statement))
    aapl_note = '---\nconid: "265598"\nsymbol: AAPL\n---\nCore holding.\n'
    events_note = "# Event notes\n\n## U1234567/trade/1004\n\nSold 15 at 130.\n"
    (repo / "notes" / "AAPL.md").write_text(aapl_note, encoding="utf-8")
    (repo / "notes" / "events.md").write_text(events_note, encoding="utf-8")

    def attached():
        entries, errors, _ = loader.load_file(str(main))
        assert [e for e in errors if type(e).__name__ == "NotesError"] == []
        aapl = next(c for c in kinds(entries, "Commodity") if c.currency == "AAPL")
        sale = next(t for t in kinds(entries, "Transaction") if t.meta.get("flex_id") == "U1234567/trade/1004")
        return aapl.meta.get("note"), sale.meta.get("note")

    assert attached() == ("Core holding.", "Sold 15 at 130.")
    generated = repo / "ledger" / "generated" / "U1234567" / "2024.beancount"
    before = generated.read_text(encoding="utf-8")
    generated.unlink()                                       # rebuild must write it again from raw/
    beanflex("rebuild")
    assert generated.read_text(encoding="utf-8") == before   # the same ledger, regenerated
    assert attached() == ("Core holding.", "Sold 15 at 130.")
    assert (repo / "notes" / "AAPL.md").read_text(encoding="utf-8") == aapl_note      # never touched
    assert (repo / "notes" / "events.md").read_text(encoding="utf-8") == events_note


def test_note_dates_are_clamped_into_the_account_life(tmp_path):
    main = make_repo(tmp_path)
    (tmp_path / "notes" / "FB.md").write_text(NOTE.replace("2024-01-05", "2023-06-01"), encoding="utf-8")
    entries, errors = load(main)
    assert errors == []                                  # not an "inactive account" error
    assert kinds(entries, "Note")[0].date == datetime.date(2024, 1, 1)   # 2023-06-01 moved to the open date


def test_unknown_instrument_and_event_are_errors_at_the_note_line(tmp_path):
    main = make_repo(tmp_path)
    (tmp_path / "notes" / "TSLA.md").write_text('---\nconid: "76792991"\n---\nhi\n', encoding="utf-8")
    (tmp_path / "notes" / "events.md").write_text(EVENTS + "\n## U1/trade/9999\n\ntypo\n", encoding="utf-8")
    (tmp_path / "notes" / "README.md").write_text("How to write notes.\n", encoding="utf-8")   # not an instrument
    entries, errors = load(main)
    found = sorted((Path(e.source["filename"]).name, e.source["lineno"], e.message.split(",")[0]) for e in errors)
    assert found == [("TSLA.md", 1, "note for conid 76792991"),
                     ("events.md", 15, "note for event 'U1/trade/9999'")]
    check_attached(entries, "FB")                       # the good notes still attach; the ledger loads


def test_bad_front_matter_is_an_error_not_a_crash(tmp_path):
    main = make_repo(tmp_path)
    (tmp_path / "notes" / "FB.md").write_text("---\nconid: [1\n---\nbody\n", encoding="utf-8")
    entries, errors = load(main)
    assert len(errors) == 1 and "front matter is not valid YAML" in errors[0].message
    assert errors[0].source["filename"].endswith("FB.md")
    assert len(kinds(entries, "Transaction")) == 2


def test_file_without_conid_matches_by_name_and_missing_folder_is_no_notes(tmp_path):
    main = make_repo(tmp_path)
    (tmp_path / "notes" / "FB.md").write_text("Plain note, no front matter.\n", encoding="utf-8")
    entries, errors = load(main)
    assert errors == []
    fb = next(c for c in kinds(entries, "Commodity") if c.currency == "FB")
    assert fb.meta["note"] == "Plain note, no front matter."
    for path in (tmp_path / "notes").iterdir():
        path.unlink()
    (tmp_path / "notes").rmdir()
    entries, errors = load(main)
    assert errors == [] and kinds(entries, "Note") == []


def test_notes_and_labels_files_are_watched_for_reload(tmp_path):
    # Beancount's pickle cache and Fava's watcher look at options["include"]: editing a note must invalidate.
    from beancount.loader import needs_refresh

    main = make_repo(tmp_path)
    (tmp_path / "labels.yaml").write_text("labels:\n  Social:\n    members: [FB]\n", encoding="utf-8")
    main.write_text('plugin "beanflex.plugins.labels" "../labels.yaml"\n' + MAIN, encoding="utf-8")
    entries, errors, options = loader.load_file(str(main))
    assert errors == []
    watched = {Path(p).name for p in options["include"]}
    assert {"labels.yaml", "notes", "FB.md", "events.md", "main.beancount", "index.beancount"} <= watched
    assert not needs_refresh(options)
    import os
    note = tmp_path / "notes" / "FB.md"
    stat = note.stat()
    note.write_text(NOTE + "\nmore\n", encoding="utf-8")
    os.utime(note, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert needs_refresh(options)
