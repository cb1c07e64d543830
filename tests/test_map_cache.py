"""The mapping cache: a night maps only its new statement, and the ledger is byte for byte what `rebuild` writes.

The synthetic statement (1,000 trades over 2016-2017, seed 42) is cut into a history and its last three days
(flexsynth/daily.py). The history is synced through the fake Flex Web Service, then each day: every day after
the first resumes from the cache (runs.log says "on top of the mapping cache"), and `rebuild` (which ignores
the cache) gives the same bytes. A statement overlapping the cached days must map everything again, and says
why; a damaged cache file is ignored; the cache is never committed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fake_flex_service import serve_flex
from test_sync import BEANFLEX, _git, _git_env, _sync, repo  # noqa: F401  (repo: the fixture)

from beanflex.importers.flex import map_cache

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from flexsynth import daily, statement as flexgen  # noqa: E402


@pytest.fixture(scope="module")
def parts() -> dict[str, bytes]:
    full = flexgen.generate(1000, seed=42)
    history, day3 = daily.split_last_day(full)
    history, day2 = daily.split_last_day(history)
    history, day1 = daily.split_last_day(history)
    return {"history": history, "day1": day1, "day2": day2, "day3": day3, "full": full}


def _synced(repo: Path, statement: bytes) -> str:
    """Sync one statement; the mapping line of the run it recorded in runs.log."""
    with serve_flex(statement) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in (repo / "ledger" / "runs.log").read_text().splitlines() if "; mapped " in line]
    return re.search(r'; (mapped [^"]*)"', lines[-1]).group(1)


def _generated(repo: Path) -> dict[str, bytes]:
    root = repo / "ledger" / "generated"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.beancount"))}


def _rebuilt(repo: Path) -> dict[str, bytes]:
    env = _git_env(repo.parent)
    env["BEANFLEX_LEDGER"] = str(repo / "ledger" / "main.beancount")
    proc = subprocess.run([BEANFLEX, "rebuild"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return _generated(repo)


def test_days_synced_on_top_of_the_cache_equal_a_rebuild_and_the_cache_is_not_committed(repo, parts):
    assert _synced(repo, parts["history"]).startswith("mapped all 1 statement file(s) (no mapping cache yet)")
    notes = [_synced(repo, parts[day]) for day in ("day1", "day2", "day3")]
    # 1 history file + the days before: 1, 2, 3 files cached
    assert notes == [f"mapped 1 new statement file(s) on top of the mapping cache ({n} cached)" for n in (1, 2, 3)]
    synced = _generated(repo)
    assert (repo / "ledger" / map_cache.NAME).is_file()
    tracked = _git(repo, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert f"ledger/{map_cache.NAME}" not in tracked and any(p.startswith("ledger/raw/") for p in tracked)
    assert map_cache.NAME not in _git(repo, "status", "--porcelain", "--untracked-files=all")  # .gitignore'd
    assert _rebuilt(repo) == synced


def test_an_overlapping_statement_maps_everything_again_and_equals_a_rebuild(repo, parts):
    _synced(repo, parts["history"])
    _synced(repo, parts["day1"])
    note = _synced(repo, parts["full"])  # 2016-01-04 .. the last day: overlaps every cached day
    assert note.startswith("mapped all 3 statement file(s) (raw/") and "not after the last day already" in note
    synced = _generated(repo)
    assert _rebuilt(repo) == synced


def test_a_damaged_cache_is_ignored(repo, parts):
    _synced(repo, parts["history"])
    cache = repo / "ledger" / map_cache.NAME
    blob = bytearray(cache.read_bytes())
    blob[-100] ^= 0xFF  # one flipped byte in the pickled body: the checksum no longer matches
    cache.write_bytes(bytes(blob))
    assert _synced(repo, parts["day1"]) == "mapped all 2 statement file(s) (mapping cache damaged (checksum))"
    cache.write_bytes(b"garbage")
    assert _synced(repo, parts["day2"]) == "mapped all 3 statement file(s) (mapping cache of another format)"
    assert cache.read_bytes().startswith(map_cache.FORMAT + b" ")  # written again, whole
    synced = _generated(repo)
    assert _rebuilt(repo) == synced


def test_import_reads_but_does_not_write_the_cache_and_the_next_sync_writes_it(repo, parts, tmp_path):
    history = tmp_path / "history.xml"
    history.write_bytes(parts["history"])
    env = _git_env(repo.parent)
    env["BEANFLEX_LEDGER"] = str(repo / "ledger" / "main.beancount")
    proc = subprocess.run([BEANFLEX, "import", str(history)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "ledger" / map_cache.NAME).exists()  # pickling the state would add half the import's memory
    assert _synced(repo, parts["day1"]).startswith("mapped all 2 statement file(s) (no mapping cache yet)")
    assert (repo / "ledger" / map_cache.NAME).is_file()
    assert _synced(repo, parts["day2"]) == "mapped 1 new statement file(s) on top of the mapping cache (2 cached)"
