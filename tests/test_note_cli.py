"""`beanflex note`: appends timestamped entries the notes plugin then attaches (real CLI, real loader)."""

from __future__ import annotations

import re

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.cmd_note import insert_event_entry

from test_notes import GENERATED, MAIN

STAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"


def make_ledger(tmp_path, symbol="FB"):
    (tmp_path / "ledger" / "generated").mkdir(parents=True)
    main = tmp_path / "ledger" / "main.beancount"
    main.write_text(MAIN, encoding="utf-8")
    (tmp_path / "ledger" / "generated" / "index.beancount").write_text(
        GENERATED.format(symbol=symbol, name="X"), encoding="utf-8")
    return main


def run(main, *args, stdin=None):
    return CliRunner().invoke(cli, ["--ledger", str(main), "note", *args], input=stdin)


def test_note_symbol_creates_file_with_conid_and_appends(tmp_path):
    main = make_ledger(tmp_path)
    first = run(main, "FB", "Bought for the ads business.")
    assert first.exit_code == 0, first.output
    second = run(main, "FB", "Second thought.")
    assert second.exit_code == 0, second.output
    text = (tmp_path / "notes" / "FB.md").read_text(encoding="utf-8")
    assert re.fullmatch(rf'---\nconid: "107113386"\nsymbol: FB\n---\n\n## {STAMP}\n\nBought for the ads business.\n'
                        rf"\n## {STAMP}\n\nSecond thought.\n", text), text
    entries, errors, _ = loader.load_file(str(main))
    assert errors == []
    fb = next(e for e in entries if type(e).__name__ == "Commodity")
    assert "Second thought." in fb.meta["note"]
    assert [n.comment for n in entries if type(n).__name__ == "Note"] == ["FB: Bought for the ads business.",
                                                                          "FB: Second thought."]


def test_note_after_ticker_change_appends_to_the_conid_file(tmp_path):
    main = make_ledger(tmp_path)
    assert run(main, "FB", "old name").exit_code == 0
    make_ledger_symbol = tmp_path / "ledger" / "generated" / "index.beancount"
    make_ledger_symbol.write_text(GENERATED.format(symbol="META", name="X"), encoding="utf-8")
    result = run(main, "META", "new name")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["FB.md"]   # same file, found by conid
    assert "new name" in (tmp_path / "notes" / "FB.md").read_text(encoding="utf-8")
    result = run(main, "107113386", "by conid")
    assert result.exit_code == 0 and "by conid" in (tmp_path / "notes" / "FB.md").read_text(encoding="utf-8")


def test_unknown_symbol_is_refused_unless_forced(tmp_path):
    main = make_ledger(tmp_path)
    result = run(main, "TSLA", "typo?")
    assert result.exit_code == 1 and "'TSLA' is not an instrument" in result.output
    assert not (tmp_path / "notes").exists()
    result = run(main, "TSLA", "--conid", "76792991", "before the first trade")
    assert result.exit_code == 0
    assert (tmp_path / "notes" / "TSLA.md").read_text(encoding="utf-8").startswith('---\nconid: "76792991"\n')


def test_event_note_goes_into_its_section(tmp_path):
    main = make_ledger(tmp_path)
    assert run(main, "--event", "U1/trade/1002", "Sold half.").exit_code == 0
    assert run(main, "--event", "U1/trade/1001", "First buy.").exit_code == 0
    result = run(main, "--event", "U1/trade/1002", "-", stdin="Too early.\n")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "notes" / "events.md").read_text(encoding="utf-8")
    assert re.search(rf"## U1/trade/1002\n\n### {STAMP}\n\nSold half.\n\n### {STAMP}\n\nToo early.\n\n"
                     rf"## U1/trade/1001\n\n### {STAMP}\n\nFirst buy.\n$", text), text
    entries, errors, _ = loader.load_file(str(main))
    assert errors == []
    sale = next(e for e in entries if type(e).__name__ == "Transaction" and e.meta["flex_id"] == "U1/trade/1002")
    assert sale.meta["note"].endswith("Too early.") and "Sold half." in sale.meta["note"]


def test_unknown_event_and_usage_errors(tmp_path):
    main = make_ledger(tmp_path)
    result = run(main, "--event", "U1/trade/404", "x")
    assert result.exit_code == 1 and "no transaction" in result.output
    both = run(main, "--event", "U1/trade/1001", "FB", "x")
    assert both.exit_code == 2  # the message says what was given and what to give, not "give TEXT"
    assert "with --event U1/trade/1001 give only the TEXT" in both.output and "'FB' 'x'" in both.output
    assert run(main, "only-text").exit_code == 2
    assert run(main, "FB", "  ").exit_code == 2


def test_insert_event_entry_keeps_other_sections():
    text = "# Event notes\n\n## A\n\none\n\n## B\n\ntwo\n"
    assert insert_event_entry(text, "A", "### t\n\nnew\n") == \
        "# Event notes\n\n## A\n\none\n\n### t\n\nnew\n\n## B\n\ntwo\n"
    assert insert_event_entry(text, "C", "### t\n\nnew\n").endswith("two\n\n## C\n\n### t\n\nnew\n")
