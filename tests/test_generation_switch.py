"""`generated/` switches as a whole: a run that dies while writing leaves the old generation, never a mix.

The two statements are test_window_lots' half-years: with only H2 archived, generated/ holds one generation;
importing H1 changes both years' files (2023: the opening lot grows from 85 to 125 units; 2024: the first sale),
so a run that died after writing one of them used to leave a ledger whose lots did not add up.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from beancount import loader

from beanflex import ingest
from beanflex.importers.flex import generation
from beanflex.workspace import Workspace
from test_window_lots import H1, H2, _import, _workspace


def _digest(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _errors(main) -> list:
    return [e for e in loader.load_file(str(main))[1] if type(e).__name__ != "ReconcileError"]


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even `except Exception` clean-up."""


def _die_on_fsync(monkeypatch, after: int) -> None:
    """The `after`+1-th fsync of a file kills the run: by then `after` files of the new generation are written."""
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > after:
            raise Killed()
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("after", [0, 2, 3, 4, 5, 6, 7, 8])
def test_a_run_killed_while_writing_leaves_one_whole_generation(tmp_path, monkeypatch, after):
    """Killed at the n-th fsync (raw file, then each new generated file, then the folders): old or new, never both."""
    clean = _workspace(tmp_path / "clean")
    _import(tmp_path / "clean", clean, H2, H1)
    new_state = _digest(clean.parent / "generated")
    main = _workspace(tmp_path / "run")
    _import(tmp_path / "run", main, H2)
    old_state = _digest(main.parent / "generated")
    (tmp_path / "h1.xml").write_text(H1)
    ws = Workspace.from_option(str(main))
    with monkeypatch.context() as patch:
        _die_on_fsync(patch, after)
        with pytest.raises(Killed):
            ingest.import_files(ws, [tmp_path / "h1.xml"])
    assert _digest(main.parent / "generated") in (old_state, new_state)
    assert _errors(main) == []
    generation.recover(main.parent)
    assert not (main.parent / generation.NEW).exists() and not (main.parent / generation.OLD).exists()


def test_a_kill_between_the_two_fallback_renames_is_finished_by_the_next_run(tmp_path, monkeypatch):
    main = _workspace(tmp_path)
    _import(tmp_path, main, H2)
    ledger = main.parent
    monkeypatch.setattr(generation, "_exchange", lambda a, b: False)  # a system without renameat2
    real_rename, calls = os.rename, []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise Killed()
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(Killed):
        _import(tmp_path, main, H1)
    monkeypatch.setattr(os, "rename", real_rename)
    assert not (ledger / "generated").exists() and (ledger / generation.NEW).is_dir()
    assert generation.recover(ledger) == ["restored generated/ from .generated.new/",
                                          "removed .generated.old/ left by an interrupted run"]
    assert _errors(main) == []
    assert '125 XYZ {10.01 USD, 2023-06-15, "U1/trade/L9"}' in (ledger / "generated" / "U1" / "2023.beancount").read_text()


def test_stale_temporary_files_are_removed_under_the_lock(tmp_path):
    main = _workspace(tmp_path)
    _import(tmp_path, main, H2)
    ledger = main.parent
    stale = [ledger / "generated" / "U1" / ".2024.beancount.k3j2h1ab.tmp", ledger / ".runs.log.abcd12_z.tmp",
             ledger / "raw" / ".x.xml.zz000000.tmp"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    (ledger / generation.NEW / "U1").mkdir(parents=True)
    keep = ledger / "generated" / "U1" / "notes.txt"  # not ours, not temporary: kept
    keep.write_text("mine")
    own_tmp = ledger / "draft.tmp"  # a user's file that only ends in .tmp: not atomic_write's, kept
    own_tmp.write_text("mine")
    _import(tmp_path, main, H1)
    assert [p for p in stale if p.exists()] == []
    assert not (ledger / generation.NEW).exists() and not (ledger / generation.OLD).exists()
    assert keep.read_text() == "mine" and own_tmp.read_text() == "mine"
    assert _errors(main) == []


def test_unchanged_files_are_not_rewritten(tmp_path):
    """Nothing changed: no swap at all (same inode); one file changed: the others are hard links of the old."""
    main = _workspace(tmp_path)
    _import(tmp_path, main, H2)
    accounts = main.parent / "generated" / "U1" / "accounts.beancount"
    inode = accounts.stat().st_ino
    _import(tmp_path, main, H2)
    assert accounts.stat().st_ino == inode
    _import(tmp_path, main, H1)
    assert accounts.stat().st_ino == inode  # linked into the new generation, not copied
