"""The raw archive: exact bytes, stored once, named per DESIGN §2, multi-account, crash-safe; and runs.log."""

from __future__ import annotations

import datetime
import hashlib
import os
from pathlib import Path

import pytest

from beanflex.importers.flex import archive, runlog
from beanflex.importers.flex.errors import FlexParseError
from beanflex.importers.flex.fsutil import atomic_write

FIXTURES = Path(__file__).parent / "fixtures" / "foundation"
SMALL = (FIXTURES / "small.xml").read_bytes()
TWO = (FIXTURES / "two_accounts.xml").read_bytes()


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_store_keeps_exact_bytes_under_the_design_name(tmp_path):
    stored = archive.store(SMALL, tmp_path, "987654")
    sha = hashlib.sha256(SMALL).hexdigest()
    assert stored.relpath == f"raw/U1234567/2024/20240101_20241231_987654_{sha[:12]}.xml"
    assert stored.path == tmp_path / stored.relpath and stored.path.is_absolute()
    assert stored.path.read_bytes() == SMALL
    assert (stored.sha256, stored.accounts, stored.is_new) == (sha, ("U1234567",), True)
    assert (stored.from_date, stored.to_date) == (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))


def test_same_content_is_stored_once(tmp_path):
    first = archive.store(SMALL, tmp_path, "987654")
    again = archive.store(SMALL, tmp_path, "987654")
    by_hand = archive.store(SMALL, tmp_path, None)  # same bytes imported by hand: still the same file
    assert again.is_new is False and by_hand.is_new is False
    assert again.path == by_hand.path == first.path
    assert files_under(tmp_path / "raw") == ["U1234567/2024/" + first.path.name, "index.tsv"]


def test_dedup_survives_a_lost_index(tmp_path):
    first = archive.store(SMALL, tmp_path, "1")
    (tmp_path / "raw" / "index.tsv").unlink()
    assert archive.store(SMALL, tmp_path, "2").path == first.path
    assert [a.relpath for a in archive.list_archive(tmp_path)] == [first.relpath]


def test_hand_downloaded_file_is_named_by_query_name(tmp_path):
    stored = archive.store(SMALL, tmp_path, None)
    assert "_beanflex-test_" in stored.path.name  # queryName "beanflex test", made path-safe
    nameless = SMALL.replace(b'queryName="beanflex test"', b'queryName=""')
    assert "_manual_" in archive.store(nameless, tmp_path, None).path.name
    assert archive.safe_query_id("Annual Tax Report") == "Annual-Tax-Report"
    assert archive.safe_query_id("../../etc") == "etc"


def test_multi_account_payload_is_stored_once_and_found_for_each_account(tmp_path):
    stored = archive.store(TWO, tmp_path, "55")
    assert stored.relpath.startswith("raw/U1111111/2024/20240201_20240229_55_")
    assert stored.accounts == ("U1111111", "U2222222")
    assert [a.path for a in archive.archived_for(tmp_path, "U2222222")] == [stored.path]
    assert [a.path for a in archive.archived_for(tmp_path, "U1111111")] == [stored.path]
    assert archive.archived_for(tmp_path, "U3333333") == []
    assert not (tmp_path / "raw" / "U2222222").exists()


def test_list_archive_is_sorted_and_finds_unindexed_files(tmp_path):
    two = archive.store(TWO, tmp_path, "55")
    small = archive.store(SMALL, tmp_path, "987654")
    stray = tmp_path / "raw" / "U9" / "2023" / "copied_by_hand.xml"
    atomic_write(stray, SMALL.replace(b"20240101", b"20230101").replace(b"20241231", b"20230630"))
    listed = archive.list_archive(tmp_path)
    # sorted by from_date: 2023-01-01 (stray), 2024-01-01 (small), 2024-02-01 (two)
    assert [a.path for a in listed] == [stray, small.path, two.path]
    assert listed[0].accounts == ("U1234567",) and listed[0].query_id == "beanflex-test"
    assert all(a.is_new is False for a in listed)


@pytest.mark.parametrize("payload", [b"", b"<html><body>502</body></html>", SMALL[:300],
                                     b'<FlexStatementResponse><Status>Fail</Status><ErrorCode>1015</ErrorCode>'
                                     b'</FlexStatementResponse>'])
def test_non_statements_are_refused_and_not_stored(tmp_path, payload):
    with pytest.raises(FlexParseError) as err:
        archive.store(payload, tmp_path, "1", source="download.xml")
    assert "download.xml" in str(err.value)
    assert not (tmp_path / "raw").exists()


def test_a_crash_at_the_final_rename_leaves_no_partial_file(tmp_path):
    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        archive.store(SMALL, tmp_path, "1", replace=crash)
    assert [p for p in (tmp_path / "raw").rglob("*") if p.is_file()] == []
    # and the next run stores it normally
    assert archive.store(SMALL, tmp_path, "1").is_new


def test_atomic_write_keeps_the_old_content_on_failure(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write(target, b"old")

    def crash(src: str, dst: str) -> None:
        assert Path(src).read_bytes() == b"new"  # the temp file was complete…
        raise KeyboardInterrupt  # …and the process died before the rename

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new", replace=crash)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.txt"]


def test_runs_log_round_trip_and_is_plain_text(tmp_path):
    when = datetime.datetime(2026, 11, 25, 23, 59, 1, tzinfo=datetime.timezone.utc)
    first = runlog.RunRecord(command="fetch", status="ok", when=when, query_id="987654", accounts=("U1", "U2"),
                             from_date=datetime.date(2024, 1, 1), to_date=datetime.date(2024, 12, 31),
                             sha256="ab" * 32, file="raw/U1/2024/x.xml", rows={"Trade": 12, "Lot": 3},
                             warnings=['unknown attribute "fooBar" on <Trade>', "second = warning"],
                             message="archived")
    second = runlog.RunRecord(command="fetch", status="error", when=when, query_id="987654",
                              message="SendRequest refused: IBKR Fail 1015: Token is invalid.")
    runlog.record_run(tmp_path, first)
    runlog.record_run(tmp_path, second)
    text = (tmp_path / "runs.log").read_text()
    assert text.splitlines()[0].startswith("when=2026-11-25T23:59:01Z command=fetch status=ok query_id=987654 "
                                           "accounts=U1,U2 from=2024-01-01 to=2024-12-31 ")
    assert "rows.Trade=12 rows.Lot=3" in text and len(text.splitlines()) == 2
    assert runlog.read_runs(tmp_path) == [first, second]


def test_runs_log_names_a_bad_line(tmp_path):
    (tmp_path / "runs.log").write_text("when=2026-01-01T00:00:00Z command=fetch status=ok\ngarbage\n")
    with pytest.raises(Exception) as err:
        runlog.read_runs(tmp_path)
    assert "runs.log:2" in str(err.value)


def test_index_heals_and_a_broken_index_line_is_named(tmp_path):
    first = archive.store(SMALL, tmp_path, "1")
    index = tmp_path / "raw" / "index.tsv"
    index.unlink()
    second = archive.store(TWO, tmp_path, "2")
    lines = index.read_text().splitlines()
    assert lines[0].startswith("# sha256") and len(lines) == 3  # both files, the first one found again
    assert {line.split("\t")[1] for line in lines[1:]} == {first.relpath, second.relpath}
    index.write_text(index.read_text() + "not\tenough\n")
    with pytest.raises(Exception) as err:
        archive.list_archive(tmp_path)
    assert "raw/index.tsv:4" in str(err.value) and "expected 6 tab-separated fields, found 2" in str(err.value)


def test_never_overwrites_a_different_file_under_the_same_name(tmp_path):
    name = archive.store(SMALL, tmp_path / "a", "1").relpath
    squatter = tmp_path / "b" / name
    atomic_write(squatter, SMALL.replace(b"Test Person", b"Someone Else"))
    with pytest.raises(Exception) as err:
        archive.store(SMALL, tmp_path / "b", "1")
    assert "already holds different bytes" in str(err.value)
    assert b"Someone Else" in squatter.read_bytes()
