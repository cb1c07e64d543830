"""An import of a new day prints only the year files it touches, and the ledger stays what `rebuild` writes.

The synthetic statement (1,000 trades over 2016-2017, seed 42) is cut into a history and its last two days
(flexsynth/daily.py). Importing the history, then day one, then day two: each day touches 2017 only, so 2016 is
kept (not printed again); `rebuild` afterwards gives the same bytes for every generated file. A hand-edited
entry that replaces a generated one of 2016 (manual.beancount, same flex_id) makes the next import print 2016
again, without it: the directive count of the kept file no longer matches.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.importers.flex import incremental

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from flexsynth import daily, statement as flexgen  # noqa: E402

ACCOUNT = "U7654321"


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("parts")
    history, day_two = daily.split_last_day(flexgen.generate(1000, seed=42))
    history, day_one = daily.split_last_day(history)
    paths = []
    for name, data in (("history", history), ("day1", day_one), ("day2", day_two)):
        (folder / f"{name}.xml").write_bytes(data)
        paths.append(folder / f"{name}.xml")
    assert b"<Trade " in day_one and b"<Trade " in day_two
    return paths


def _workspace(tmp_path: Path) -> tuple[CliRunner, str]:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "book")]).exit_code == 0
    return runner, str(tmp_path / "book" / "ledger" / "main.beancount")


def _import(runner: CliRunner, main: str, path: Path) -> None:
    result = runner.invoke(cli, ["--ledger", main, "import", str(path)])
    assert result.exit_code == 0, result.output


def _generated(main: str) -> dict[str, bytes]:
    root = Path(main).parent / "generated"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.beancount"))}


def test_a_new_day_keeps_the_other_years_and_equals_a_rebuild(tmp_path, parts, monkeypatch):
    runner, main = _workspace(tmp_path)
    kept: list[set[str]] = []
    real = incremental.kept_files
    monkeypatch.setattr(incremental, "kept_files", lambda *a: kept.append(real(*a)) or kept[-1])
    for path in parts:
        _import(runner, main, path)
    year_2016 = f"generated/{ACCOUNT}/2016.beancount"
    assert kept[0] == set(), "the first import has nothing on disk to keep"
    assert kept[1] == kept[2] == {year_2016}, "each day is in 2017: only 2016 is kept, not printed"
    incremental_bytes = _generated(main)
    result = runner.invoke(cli, ["--ledger", main, "rebuild"])
    assert result.exit_code == 0, result.output
    assert "0 written" in result.output
    assert _generated(main) == incremental_bytes
    assert len(kept) == 3, "rebuild keeps nothing: it does not even ask"


def test_a_hand_edit_replacing_an_old_entry_reprints_its_year(tmp_path, parts):
    runner, main = _workspace(tmp_path)
    _import(runner, main, parts[0])
    old_year = Path(main).parent / "generated" / ACCOUNT / "2016.beancount"
    flex_id = re.search(r'flex_id: "([^"]+/trade/[^"]+)"', old_year.read_text(encoding="utf-8")).group(1)
    manual = Path(main).parent / "manual.beancount"
    manual.write_text(manual.read_text(encoding="utf-8") + f'\n2016-01-05 note Assets:IBKR:{ACCOUNT}:Cash "mine"\n'
                      f'  flex_id: "{flex_id}"\n', encoding="utf-8")
    _import(runner, main, parts[1])
    assert f'flex_id: "{flex_id}"' not in old_year.read_text(encoding="utf-8")
    before = _generated(main)
    assert runner.invoke(cli, ["--ledger", main, "rebuild"]).exit_code == 0
    assert _generated(main) == before


def test_nothing_is_kept_without_a_new_statement_or_when_an_instrument_changed(tmp_path, parts):
    runner, main = _workspace(tmp_path)
    _import(runner, main, parts[0])
    ledger = Path(main).parent
    from beanflex.ingest import build_from_archive
    from beanflex.workspace import Workspace

    files = build_from_archive(Workspace.from_option(main)).files
    assert incremental.kept_files(ledger, files, set()) == set()
    assert incremental.kept_files(ledger, files, {"raw/other.xml"}) == {f"generated/{ACCOUNT}/{y}.beancount"
                                                                      for y in (2016, 2017)}
    accounts = ledger / "generated" / ACCOUNT / "accounts.beancount"
    text = accounts.read_text(encoding="utf-8")
    first = text.index("commodity ")  # a commodity the build no longer prints the same way: e.g. renamed
    accounts.write_text(text[:first] + "commodity RENAMED" + text[text.index("\n", first):], encoding="utf-8")
    assert incremental.kept_files(ledger, files, {"raw/other.xml"}) == set()


def test_the_import_archives_the_bytes_it_parsed_or_nothing(tmp_path, parts, monkeypatch):
    """The payload is copied from the user's file after the mapping (not held in memory meanwhile): a file that
    changed in between is refused with nothing archived or generated."""
    from beanflex.importers.flex import archive

    runner, main = _workspace(tmp_path)
    copy = tmp_path / "history.xml"
    copy.write_bytes(parts[0].read_bytes())
    real = archive.store_file

    def edited_meanwhile(path, *args, **kwargs):
        Path(path).write_bytes(Path(path).read_bytes().replace(b"Synthetic Trader", b"Synthetic Tradex"))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(archive, "store_file", edited_meanwhile)
    result = runner.invoke(cli, ["--ledger", main, "import", str(copy)])
    assert result.exit_code != 0 and "changed while it was being imported" in str(result.exception or result.output)
    ledger = Path(main).parent
    assert not list((ledger / "raw").rglob("*.xml")) and not list((ledger / "raw").rglob("*.tmp"))
    assert not (ledger / "generated" / ACCOUNT).exists()
    monkeypatch.setattr(archive, "store_file", real)
    _import(runner, main, copy)
    archived = list((ledger / "raw").rglob("*.xml"))
    assert len(archived) == 1 and archived[0].read_bytes() == copy.read_bytes()
