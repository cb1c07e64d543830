"""labels.yaml and notes that are not UTF-8 (an editor saved Latin-1): an error naming file and byte, no traceback.

`Caf\\xe9` is "Café" in Latin-1: the byte 0xE9 is not valid UTF-8 on its own. Each file below puts it on line 3,
so the messages can be checked exactly.
"""

from __future__ import annotations

from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine.labels_config import load_labels
from test_labels import LEDGER, load, write_repo
from test_note_cli import make_ledger
from test_notes import make_repo, load as load_notes

LATIN1_LABELS = b"labels:\n  Software:\n    description: Caf\xe9 names\n    members: [AAPL]\n"
# "labels:\n" is 8 bytes, "  Software:\n" 12, "    description: Caf" 20: the bad byte is at offset 40, column 21.
WHERE = "byte 0xE9 at byte position 40 (line 3, column 21)"


def test_labels_yaml_not_utf8_is_one_error_at_its_line(tmp_path):
    main = write_repo(tmp_path)
    (tmp_path / "labels.yaml").write_bytes(LATIN1_LABELS)
    config, errors = load_labels(tmp_path / "labels.yaml")
    assert config.labels == ()
    (error,) = errors
    assert error.source["lineno"] == 3
    assert error.message == f"not UTF-8 text: {WHERE}; save the file as UTF-8"
    entries, errors = load(main)  # the plugin: the ledger still loads, the error names labels.yaml
    assert entries and [e.source["filename"].endswith("labels.yaml") for e in errors] == [True]


def test_report_labels_names_the_file_and_byte(tmp_path):
    main = write_repo(tmp_path, ledger=LEDGER)
    (tmp_path / "labels.yaml").write_bytes(LATIN1_LABELS)
    result = CliRunner().invoke(cli, ["--ledger", str(main), "report", "labels"])
    assert "Traceback" not in result.output and not isinstance(result.exception, UnicodeDecodeError)
    assert "labels.yaml" in result.output and WHERE in result.output, result.output


def test_an_instrument_note_not_utf8_is_an_error_and_the_others_still_attach(tmp_path):
    main = make_repo(tmp_path)
    (tmp_path / "notes" / "KO.md").write_bytes(b"---\nsymbol: KO\n# Caf\xe9\n---\n")
    entries, errors = load_notes(main)
    # "---\n" 4 + "symbol: KO\n" 11 + "# Caf" 5 = byte 20, column 6 of line 3
    bad = [e for e in errors if e.source["filename"].endswith("KO.md")]
    assert [(e.source["lineno"], e.message) for e in bad] == [
        (3, "not UTF-8 text: byte 0xE9 at byte position 20 (line 3, column 6); save the file as UTF-8")]
    assert any(getattr(e, "meta", {}).get("note_file") == "FB.md" for e in entries)  # FB's note still attached


def test_events_md_not_utf8_is_an_error(tmp_path):
    main = make_repo(tmp_path)
    (tmp_path / "notes" / "events.md").write_bytes(b"# Events\n\n## U1/trade/1\nCaf\xe9\n")
    _entries, errors = load_notes(main)
    # "# Events\n" 9 + "\n" 1 + "## U1/trade/1\n" 14 + "Caf" 3 = byte 27, column 4 of line 4
    assert [(e.source["lineno"], e.message.split(";")[0]) for e in errors
            if e.source["filename"].endswith("events.md")] == [(4, "not UTF-8 text: byte 0xE9 at byte position "
                                                                   "27 (line 4, column 4)")]


def test_beanflex_note_refuses_to_append_to_an_undecodable_note(tmp_path):
    main = make_ledger(tmp_path)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "FB.md").write_bytes(b"---\nsymbol: FB\n---\nCaf\xe9\n")
    result = CliRunner().invoke(cli, ["--ledger", str(main), "note", "FB", "more"])
    assert result.exit_code == 1 and not isinstance(result.exception, UnicodeDecodeError), result.output
    # "---\n" 4 + "symbol: FB\n" 11 + "---\n" 4 + "Caf" 3 = byte 22, column 4 of line 4
    assert "FB.md: not UTF-8 text: byte 0xE9 at byte position 22 (line 4, column 4)" in result.output
    assert (notes / "FB.md").read_bytes() == b"---\nsymbol: FB\n---\nCaf\xe9\n"  # untouched
