"""Crash-safe writes and the one lock that guards `ledger/` against concurrent beanflex runs (DESIGN §7).

A file is either its old content or its new content, never half of each: the bytes go to a temp file in the same
folder, are fsynced, and replace the target with `os.replace` (atomic on POSIX within one file system). The lock is
an OS file lock on `ledger/.beanflex.lock` (the `filelock` library: flock on POSIX, msvcrt on Windows); the OS drops
it when the process dies, so a crashed run never leaves a stale lock behind. The file also records the holder's
pid, only for the message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import filelock

from .errors import LedgerLockedError

LOCK_NAME = ".beanflex.lock"
#: How long a second run waits for the first before giving up (seconds); cron runs rarely overlap for long.
DEFAULT_LOCK_WAIT = 30.0


def lock_wait_from_env(env: dict[str, str] | None = None) -> float:
    """BEANFLEX_LOCK_WAIT seconds (e.g. "0" to fail at once when locked), else DEFAULT_LOCK_WAIT."""
    text = (os.environ if env is None else env).get("BEANFLEX_LOCK_WAIT", "").strip()
    try:
        return max(float(text), 0.0) if text else DEFAULT_LOCK_WAIT  # seconds, not money
    except ValueError:
        return DEFAULT_LOCK_WAIT


def atomic_write(path: Path | str, data, *, replace: Callable[[str, str], None] = os.replace) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the complete new one.

    Args:
      path: the target; its folder is created when missing.
      data: the exact bytes to store, or a binary reader to copy them from in chunks (an error it raises while
        read leaves no file).
      replace: the final rename (os.replace); injectable so a test can make it fail like a crash would.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, (bytes, bytearray)):
                handle.write(data)
            else:
                shutil.copyfileobj(data, handle, 1 << 20)
            handle.flush()
            os.fsync(handle.fileno())
        replace(tmp, str(path))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_append(path: Path | str, text: str) -> None:
    """Append `text` by rewriting the whole file atomically (for small logs such as runs.log, under the lock)."""
    path = Path(path)
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    atomic_write(path, old + text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (the directory entry), where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def ledger_lock(ledger_dir: Path | str, wait_seconds: float | None = None,
                poll_seconds: float = 0.1) -> Iterator[Path]:
    """Hold the exclusive lock on `ledger/.beanflex.lock` for the duration of the block.

    Waits up to `wait_seconds` (default: $BEANFLEX_LOCK_WAIT, else 30 s) for another run to finish, polling every
    `poll_seconds`, then raises LedgerLockedError naming the other run's pid. Yields the lock file's path.
    """
    if wait_seconds is None:
        wait_seconds = lock_wait_from_env()
    ledger_dir = Path(ledger_dir)
    ledger_dir.mkdir(parents=True, exist_ok=True)
    lock_path = ledger_dir / LOCK_NAME
    lock = filelock.FileLock(lock_path, timeout=max(wait_seconds, 0.0), mode=0o644)
    try:
        lock.acquire(poll_interval=poll_seconds)
    except filelock.Timeout:
        holder = _read_pid(lock_path)
        raise LedgerLockedError(
            f"the ledger is locked by another beanflex run (pid {holder or 'unknown'}); "
            f"waited {wait_seconds:g} s", file=str(lock_path),
            hint="wait for that run to finish and try again; the lock is released when it exits") from None
    try:
        _write_pid(lock_path, f"{os.getpid()}\n")
        yield lock_path
    finally:
        _write_pid(lock_path, "")
        lock.release()


def _write_pid(lock_path: Path, text: str) -> None:
    """The holder's pid, for the other run's message only: a failed write costs nothing but that message."""
    with contextlib.suppress(OSError):
        lock_path.write_text(text)


def _read_pid(lock_path: Path) -> str | None:
    with contextlib.suppress(OSError):
        text = lock_path.read_text().strip()
        return text if text.isdigit() else None
    return None
