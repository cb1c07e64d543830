"""A statement uploaded from the browser: the same import as `beanflex import FILE` (lock, archive, regenerate),
then the same check as `beanflex sync` (Beancount errors, reconciliation), summed up for the upload page, and
committed (raw/ and generated/ only) when the workspace is a git repository, as the label and note edits are.

The bytes are written to a private temporary folder under the user's file name (only its last component, made
safe), handed to `ingest.import_files`, and the folder is removed; messages name the user's file, not the
temporary path. A refused file (not a statement, schema drift, a row that cannot be mapped) leaves raw/ and
generated/ as they were, exactly as on the command line.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from beanflex.importers.flex.errors import FlexError

from . import gitops, ingest
from .workspace import Workspace

#: A larger upload is refused before it is read (a 10k-trade XML statement is ~25 MB).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class UploadResult:
    """What the upload page shows: the archived file, new entries by kind, drift, flags, checks, or the error."""

    name: str
    error: str | None = None
    archived: list[tuple[str, bool]] = field(default_factory=list)
    new_trades: list[str] = field(default_factory=list)  # flex_ids, e.g. "U1234567/trade/1004"
    new_other: list[str] = field(default_factory=list)
    rows: str = ""
    drift: list[str] = field(default_factory=list)
    flagged: int = 0
    errors: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    commit: str | None = None

    def subject(self) -> str:
        """The commit message's first line, e.g. `upload activity.csv: +1 trade, +2 other entries; drift 0;
        reconcile ok`."""
        trades = f"+{len(self.new_trades)} trade{'' if len(self.new_trades) == 1 else 's'}"
        other = f"+{len(self.new_other)} other entr{'y' if len(self.new_other) == 1 else 'ies'}"
        status = "ok" if not self.diffs else f"{len(self.diffs)} diff{'' if len(self.diffs) == 1 else 's'}"
        return f"upload {self.name}: {trades}, {other}; drift {len(self.drift)}; reconcile {status}"

    @property
    def status(self) -> str:
        return "error" if self.error else ("diff" if self.diffs else "ok")


def safe_name(name: str) -> str:
    """The last component of an uploaded file's name, made safe: `../../x y.csv` -> `x-y.csv`."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _SAFE_NAME.sub("-", base).strip(".-")[:120]
    return cleaned or "statement"


def run_upload(ws: Workspace, name: str, payload: bytes) -> UploadResult:
    """Import one uploaded statement (XML or CSV) into the workspace and check the ledger afterwards."""
    from . import cli  # noqa: F401 - loads the commands in cli's order (cmd_sync imports cli)
    from .cmd_sync import _flex_ids, check_ledger

    name = safe_name(name)
    result = UploadResult(name)
    if len(payload) > MAX_UPLOAD_BYTES:
        result.error = f"{name}: {len(payload)} bytes is more than the {MAX_UPLOAD_BYTES} an upload may have; " \
                       "use 'beanflex import FILE' for it"
        return result
    before = _flex_ids(ws.generated_dir)
    with tempfile.TemporaryDirectory(prefix="beanflex-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        try:
            summary = ingest.import_files(ws, [path])
        except (FlexError, OSError, ValueError) as exc:
            result.error = str(exc).replace(folder + "/", "")
            return result
    new = sorted(_flex_ids(ws.generated_dir) - before)
    result.new_trades = [i for i in new if "/trade/" in i]
    result.new_other = [i for i in new if "/trade/" not in i]
    result.archived = summary.archived
    result.rows = next((line for line in summary.lines() if line.startswith("rows:")), "")
    result.drift = summary.drift.lines()
    result.flagged = summary.build.total().flagged if summary.build else 0
    result.errors, result.diffs, _statements, _warnings = check_ledger(ws.main_file)
    result.commit = _commit(ws, result)
    return result


def _commit(ws: Workspace, result: UploadResult) -> str | None:
    """Commit what the upload changed in raw/ and generated/ (never the user's own files), when in git.

    Skipped with BEANFLEX_EDIT_COMMIT=0, outside a git repository, and when nothing changed (a file already
    archived). The message lists the new trades like `sync`'s does.
    """
    from .sync_commit import LOCAL_STATE

    if os.environ.get("BEANFLEX_EDIT_COMMIT", "1") == "0":
        return None
    repo = gitops.find_repo(ws.root_dir)
    if repo is None:
        return None
    rel = ws.ledger_dir.resolve().relative_to(repo.root.resolve()).as_posix()
    base = "" if rel == "." else rel + "/"
    body = [result.subject(), ""] + [f"statement: {path}" for path, _new in result.archived]
    body += [f"new: {flex_id}" for flex_id in result.new_trades[:30]]
    return repo.commit_paths([base + "raw", base + "generated"], "\n".join(body) + "\n", secret=None,
                             exclude=[base + name for name in LOCAL_STATE])
