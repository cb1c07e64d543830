"""`ledger/generated/` switches from one generation to the next as a whole, never file by file.

Each generated file used to be replaced on its own (atomically), so a run killed between two renames left a
ledger with some years new and some old: thousands of booking errors until the next run. Now the next generation
is built complete in `ledger/.generated.new/` (files that did not change are hard links, so a nightly run copies
nothing big), and then one rename swaps the two folders:

- on Linux, `renameat2(RENAME_EXCHANGE)` exchanges `generated/` and `.generated.new/` in one step: a reader sees
  the old generation or the new one, whatever moment the run dies at;
- where that call is missing (another OS, a file system without it), `generated/` is first renamed to
  `.generated.old/` and `.generated.new/` into its place; a run killed between the two leaves no `generated/`,
  and `recover` (run under the ledger lock before every write) finishes the swap: both folders are complete.

`recover` also deletes what killed runs leave behind: the two side folders and the `.*.tmp` files of
fsutil.atomic_write anywhere under `ledger/` (no other run can be writing them: the caller holds the lock).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import shutil
from pathlib import Path
from typing import Callable

GENERATED = "generated"
NEW = ".generated.new"
OLD = ".generated.old"
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def recover(ledger_dir: Path) -> list[str]:
    """Finish or undo a swap a killed run left half done, and delete stale temporary files; returns what it did.

    E.g. after a kill between the fallback's two renames: ["restored generated/ from .generated.new/"].
    """
    ledger_dir = Path(ledger_dir)
    generated, new, old = ledger_dir / GENERATED, ledger_dir / NEW, ledger_dir / OLD
    done: list[str] = []
    if not generated.exists():
        for side in (new, old):  # .new is complete once the swap starts; .old is the generation before it
            if side.is_dir():
                os.rename(side, generated)
                done.append(f"restored {GENERATED}/ from {side.name}/")
                break
    for side in (new, old):
        if side.exists():
            shutil.rmtree(side)
            done.append(f"removed {side.name}/ left by an interrupted run")
    for stale in sorted(_temp_files(ledger_dir)):
        stale.unlink()
        done.append(f"removed {stale.relative_to(ledger_dir).as_posix()} left by an interrupted run")
    return done


def _temp_files(ledger_dir: Path):
    """`.<name>.<8 random>.tmp` (tempfile.mkstemp's names in fsutil.atomic_write, e.g. `.2024.beancount.k3j2_h1x.tmp`)
    anywhere under ledger/ but .git; a user's own `notes.tmp` does not match."""
    for folder, dirs, names in os.walk(ledger_dir):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            if _TEMP_NAME.match(name):
                yield Path(folder) / name


def switch(ledger_dir: Path, paths, payload_of: Callable[[str], bytes],
           keep: set[str] | frozenset = frozenset()) -> dict[str, list[str]]:
    """Make `generated/` hold exactly `paths` ({"generated/U1/2024.beancount", …}), switching as a whole.

    Each file's bytes come from `payload_of(path)`, one file at a time (the whole generation at once was a fifth of
    an import's peak memory); a path in `keep` is already as it would be printed (incremental.kept_files) and is
    not printed again. Returns {"written", "unchanged", "removed"} (paths relative to ledger/); nothing is touched
    when nothing changed. Files under generated/ that are not `.beancount` are kept (hard-linked into the new
    generation).
    """
    ledger_dir = Path(ledger_dir)
    recover(ledger_dir)
    generated, new = ledger_dir / GENERATED, ledger_dir / NEW
    report: dict[str, list[str]] = {"written": [], "unchanged": [], "removed": []}
    for path in sorted(paths):
        if path in keep:
            report["unchanged"].append(path)
            continue
        payload, target = payload_of(path), ledger_dir / path
        if target.is_file() and target.stat().st_size == len(payload) and target.read_bytes() == payload:
            report["unchanged"].append(path)
            continue
        report["written"].append(path)
        written = new / Path(path).relative_to(GENERATED)
        written.parent.mkdir(parents=True, exist_ok=True)
        _write_synced(written, payload)
    wanted = set(paths)
    old_files = sorted(p for p in generated.rglob("*") if p.is_file()) if generated.is_dir() else []
    for old in old_files:
        relative = old.relative_to(ledger_dir).as_posix()
        if relative.endswith(".beancount") and relative not in wanted:
            report["removed"].append(relative)
    if not report["written"] and not report["removed"]:
        return report
    for path in report["unchanged"]:
        target = new / Path(path).relative_to(GENERATED)
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(ledger_dir / path, target)
    for old in old_files:  # a file of the user's or a tool's in generated/ (not ours to drop)
        if not old.name.endswith(".beancount"):
            target = new / old.relative_to(generated)
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(old, target)
    _sync_tree(new)
    _swap(ledger_dir)
    return report


def put_back(ledger_dir: Path, copy: Path | None) -> None:
    """Make `generated/` the folder `copy` again (a snapshot taken before a failed run), as a whole; None: no
    generated/ at all (there was none before)."""
    ledger_dir = Path(ledger_dir)
    recover(ledger_dir)
    if copy is None:
        if (ledger_dir / GENERATED).exists():
            os.rename(ledger_dir / GENERATED, ledger_dir / OLD)
            shutil.rmtree(ledger_dir / OLD)
        return
    shutil.copytree(copy, ledger_dir / NEW, symlinks=True)
    _sync_tree(ledger_dir / NEW)
    _swap(ledger_dir)


def _swap(ledger_dir: Path) -> None:
    generated, new, old = ledger_dir / GENERATED, ledger_dir / NEW, ledger_dir / OLD
    if not generated.exists():
        os.rename(new, generated)
    elif not _exchange(new, generated):
        os.rename(generated, old)  # a kill right here leaves no generated/: recover() puts .new in place
        os.rename(new, generated)
    _fsync_dir(ledger_dir)
    for side in (new, old):
        if side.exists():
            shutil.rmtree(side)  # the generation before, now out of the way


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2); False when this system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (the files are never changed in place, only replaced), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_synced(path: Path, payload: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_tree(folder: Path) -> None:
    for sub, _dirs, _names in os.walk(folder):
        _fsync_dir(Path(sub))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
