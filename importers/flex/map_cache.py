"""The mapper's state after the archive, kept in `ledger/.beanflex-map.picklecache` between runs.

A derived file, like Beancount's own `.main.beancount.picklecache`: never committed (the ledger's .gitignore and
sync's commit leave out `.*.picklecache`), never trusted. It is used only when all of these hold, else it is
ignored and written again after a full mapping:

- its header holds this format, a version of the mapping code (a hash of importers/flex/ and contract/, Python
  and Beancount versions), the mapping settings and the flex_ids of hand-edited entries, exactly as now;
- the sha256 of its body matches (a truncated or damaged file is refused before it is unpickled);
- every archived file it covers is still in raw/ with the same sha256, size and modification time.

It is written atomically (fsutil.atomic_write) by a run that holds the ledger lock. E.g. for 10k trades over
five years it is a few MB, and loading it replaces parsing and mapping the whole archive.
"""

from __future__ import annotations

import hashlib
import pickle
import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .fsutil import atomic_write
from .map_state import MapState

NAME = ".beanflex-map.picklecache"
FORMAT = b"beanflex-map-cache 1"


@dataclass
class Covered:
    """An archived file the cache covers: relpath, sha256, and its size and mtime when it was mapped."""

    relpath: str
    sha256: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, item) -> "Covered":
        stat = item.path.stat()
        return cls(item.relpath, item.sha256, stat.st_size, stat.st_mtime_ns)


@dataclass
class Cached:
    covered: list[Covered]
    schema_drift: dict  # relpath -> the DriftReport of its schema check (ingest.load_archive)
    state: MapState


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the mapping code: any change to a module of importers/flex/ or contract/ retires old caches."""
    import beancount

    import beanflex.contract as contract

    digest = hashlib.sha256(f"{platform.python_version()} {beancount.__version__}".encode())
    for folder in (Path(__file__).resolve().parent, Path(contract.__file__).resolve().parent):
        for source in sorted(folder.glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def key(config, manual_flex_ids) -> str:
    """What the mapping depends on besides the archive: code, settings, hand-edited flex_ids."""
    text = f"{code_version()}\n{config!r}\n" + "\n".join(sorted(manual_flex_ids))
    return hashlib.sha256(text.encode()).hexdigest()


def load(ledger_dir: Path, items, cache_key: str) -> tuple[Cached | None, str]:
    """(the cache, "") when it is valid for archive `items` (archive.ArchivedFile), else (None, why not)."""
    path = Path(ledger_dir) / NAME
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None, "no mapping cache yet"
    except OSError as exc:
        return None, f"mapping cache unreadable ({exc.strerror})"
    head, _, body = blob.partition(b"\n")
    parts = head.split(b" ")
    if len(parts) != 4 or b" ".join(parts[:2]) != FORMAT:
        return None, "mapping cache of another format"
    if parts[2].decode(errors="replace") != cache_key:
        return None, "mapping cache made by other code, settings or hand-edited entries"
    if hashlib.sha256(body).hexdigest().encode() != parts[3]:
        return None, "mapping cache damaged (checksum)"
    try:
        cached = pickle.loads(body)
    except Exception as exc:  # a checksum-valid but unloadable body: a class moved; rebuild, never trust
        return None, f"mapping cache unreadable ({type(exc).__name__})"
    if not isinstance(cached, Cached):
        return None, "mapping cache unreadable (not a cache)"
    by_path = {item.relpath: item for item in items}
    for covered in cached.covered:
        item = by_path.get(covered.relpath)
        if item is None or item.sha256 != covered.sha256 or not item.path.is_file():
            return None, f"mapping cache covers {covered.relpath}, which is no longer archived as it was"
        stat = item.path.stat()
        if (stat.st_size, stat.st_mtime_ns) != (covered.size, covered.mtime_ns):
            return None, f"mapping cache covers {covered.relpath}, which changed on disk"
    return cached, ""


def save(ledger_dir: Path, cache_key: str, cached: Cached) -> None:
    """Write the cache atomically: a reader sees the old file or the complete new one."""
    body = pickle.dumps(cached, protocol=pickle.HIGHEST_PROTOCOL)
    head = b" ".join([FORMAT, cache_key.encode(), hashlib.sha256(body).hexdigest().encode()])
    atomic_write(Path(ledger_dir) / NAME, head + b"\n" + body)


def remove(ledger_dir: Path) -> None:
    """Drop the cache (a run that could not write a valid one must not leave an older one behind)."""
    try:
        (Path(ledger_dir) / NAME).unlink()
    except FileNotFoundError:
        pass
