"""`beanflex sync`: what cron runs. Lock, fetch, archive, regenerate, check, and commit `ledger/` to git.

All steps run under one hold of the ledger lock (the lock is an flock per open file, so this module calls the
lock-free inner functions of fetch and ingest instead of the public ones that take the lock themselves).

What a run leaves behind:
- success with changes: one git commit of what beanflex owns (`generated/`, `raw/`) and of the hand-edited ledger
  files (sync_commit.py), whose message says the statement period, the new trades and cash rows (counted by
  `flex_id` kind: `U1/trade/…`, `U1/cash/…`), drift warnings, labels/notes warnings, the reconciliation status
  and the changed files it left alone (an editor's swap file); a detached HEAD is warned about;
- success without changes (the same statement again): no commit, and nothing printed under `--quiet`;
- failure at any step: `ledger/generated/` is restored byte for byte, nothing is committed, exit 1 with one line.
  A payload fetched before the failure stays in `ledger/raw/` (the archive never loses IBKR's bytes), uncommitted;
  the next successful sync commits it with the rows it produces. `runs.log` records the failure.

The ledger folder need not be in git: then sync does everything but the commit and says how to start one.
Hand-edited files (manual.beancount, main.beancount and their includes) are committed with the run when they
changed, and the message names them, so edits made through Fava in a container reach the history too. Only the
ledger's own integrity blocks a commit: a label or note problem is a warning (ledger_errors.py).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click

from beanflex.importers.flex import generation, runlog
from beanflex.importers.flex.adapter import parse
from beanflex.importers.flex.archive import ArchivedFile
from beanflex.importers.flex.client import FlexSettings, redact
from beanflex.importers.flex.errors import FlexError
from beanflex.importers.flex.fsutil import DEFAULT_LOCK_WAIT, ledger_lock

from . import gitops, ledger_errors, query_setup, sync_commit
from .cli import DiffFound, pass_workspace
from .workspace import Workspace

_FLEX_ID = re.compile(r'^\s+flex_id: "([^"]+)"\s*$', re.M)
#: flex_id kinds (docs/ledger-format.md) and how the message names them.
KIND_NAMES = {"trade": "trade", "cash": "cash row", "ca": "corporate action", "eae": "option event",
              "opening": "opening entry"}


class SyncFailed(click.ClickException):
    """One line for the cron mail: which step failed, why, and that the ledger is as it was."""

    def __init__(self, step: str, reason: str, token: str | None):
        text = " ".join(redact(reason, token).split())  # one line, whatever the cause printed
        super().__init__(f"sync failed at {step}: {text} (ledger and git history unchanged)")


@dataclass
class SyncResult:
    """What one run did; `subject()`/`message()` are the commit message, `lines()` the terminal output."""

    archived: ArchivedFile | None = None
    new_ids: list[str] = field(default_factory=list)
    gone_ids: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)  # the query vs docs/flex-query-setup.md (query_setup.py)
    hand_edited: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)  # changed under ledger/ but not beanflex's nor the ledger's
    warnings: list[str] = field(default_factory=list)  # labels/notes problems, a detached HEAD: never blocking
    commit: str | None = None
    repo: gitops.Repo | None = None
    rows: str = ""

    def new_by_kind(self) -> Counter:
        return Counter(flex_id.split("/")[1] if flex_id.count("/") >= 2 else "other" for flex_id in self.new_ids)

    def period(self) -> str:
        a = self.archived
        if a is None:
            return "no statement"
        accounts = ",".join(a.accounts)
        return f"{a.from_date}..{a.to_date} {accounts}" if a.from_date else accounts

    def subject(self) -> str:
        """E.g. `sync 2024-01-29..2024-02-29 U7654321: +1 trade, +3 cash rows; drift 1; reconcile ok`."""
        kinds = self.new_by_kind()
        counts = [_plural(kinds.get("trade", 0), "trade", prefix="+"),
                  _plural(kinds.get("cash", 0), "cash row", prefix="+")]
        counts += [_plural(n, KIND_NAMES.get(k, k + " entry"), prefix="+") for k, n in sorted(kinds.items())
                   if k not in ("trade", "cash")]
        if self.gone_ids:
            counts.append(_plural(len(self.gone_ids), "entry", plural="entries", prefix="-"))
        subject = f"sync {self.period()}: {', '.join(counts)}; drift {len(self.drift)}; reconcile {self.status()}"
        if self.hand_edited:
            subject += f"; hand edits: {', '.join(Path(p).name for p in self.hand_edited)}"
        if self.warnings:
            subject += f"; {_plural(len(self.warnings), 'warning')}"
        return subject

    def status(self) -> str:
        return "ok" if not self.diffs else _plural(len(self.diffs), "diff")

    def message(self) -> str:
        body = [self.subject(), ""]
        if self.archived is not None:
            body.append(f"statement: {self.archived.relpath}" + ("" if self.archived.is_new else
                                                                  " (already archived)"))
        if self.rows:
            body.append(self.rows)
        for title, items in (("new", self.new_ids), ("removed", self.gone_ids),
                             ("drift warnings", self.drift), ("reconciliation diffs", self.diffs),
                             ("query setup", self.setup), ("warnings (labels, notes, git)", self.warnings),
                             ("hand-edited files", self.hand_edited),
                             ("left alone (not beanflex's, not in the ledger)", self.left_alone)):
            if items:
                body.append(f"{title} ({len(items)}):")
                body += [f"  {item}" for item in items[:30]]
                if len(items) > 30:
                    body.append(f"  … and {len(items) - 30} more")
        return "\n".join(body).rstrip() + "\n"

    def lines(self) -> list[str]:
        if self.repo is not None and not self.changed:
            out = [f"sync {self.period()}: nothing new, no commit"]
        else:
            out = [self.subject()]
        if self.commit:
            out.append(f"committed {self.commit[:12]} in {self.repo.root}")
        out += [f"drift: {line}" for line in self.drift[:10]]
        out += [f"reconcile: {line}" for line in self.diffs[:10]]
        out += [f"setup: {line}" for line in self.setup]
        out += [f"warning: {line}" for line in self.warnings[:10]]
        if self.left_alone:
            out.append(f"left alone, not committed: {', '.join(self.left_alone[:10])}"
                       + (f" and {len(self.left_alone) - 10} more" if len(self.left_alone) > 10 else ""))
        return out


def _plural(count: int, noun: str, *, plural: str | None = None, prefix: str = "") -> str:
    return f"{prefix}{count} {noun if count == 1 else (plural or noun + 's')}"


@click.command("sync")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success (for cron); a failure still prints "
                                                 "one line.")
@click.option("--strict", is_flag=True, help="Exit 3 after committing when there are reconciliation diffs, "
                                             "drift warnings or query setup findings.")
@click.option("--wait", "wait_seconds", type=float, default=None,
              help="Seconds to wait for another beanflex run to release the ledger lock (default "
                   f"$BEANFLEX_LOCK_WAIT, else {DEFAULT_LOCK_WAIT:g}).")
@pass_workspace
def sync(ws: Workspace, quiet: bool, strict: bool, wait_seconds: float | None) -> None:
    """Fetch the Flex statement, import it, check the ledger and commit ledger/ to git (what cron runs)."""
    quiet = quiet or ws.quiet
    from .progress import for_terminal

    # the fetch prints retry progress on a terminal unless quiet; the rebuild its phases (progress.py)
    ws = dataclasses.replace(ws, quiet=quiet, progress=for_terminal("sync", quiet))
    result = run_sync(ws, wait_seconds=wait_seconds)
    if not quiet:
        for line in result.lines():
            click.echo(line)
        if result.repo is None and not gitops.git_available():
            click.echo("note: git is not installed, so nothing was committed; install git to keep a history of "
                       "the ledger", err=True)
        elif result.repo is None:
            click.echo(f"note: {ws.ledger_dir} is not in a git repository, so nothing was committed; to keep a "
                       f"history, run: git -C {ws.root_dir} init", err=True)
    if strict and (result.diffs or result.drift or result.setup):
        raise DiffFound(f"{len(result.diffs)} reconciliation diffs, {len(result.drift)} drift warnings, "
                        f"{len(result.setup)} query setup findings (see 'beanflex check')")


def run_sync(ws: Workspace, *, wait_seconds: float | None = None) -> SyncResult:
    """The whole run; raises SyncFailed (one line, token redacted) with the ledger as it was before."""
    if not ws.main_file.is_file():
        raise SyncFailed("start", f"no ledger at {ws.main_file}: run 'beanflex init DIR' first, or set "
                         "BEANFLEX_LEDGER / --ledger", None)
    try:
        settings = FlexSettings.from_env()
    except FlexError as exc:
        raise SyncFailed("settings", str(exc), None) from None
    token = settings.token
    result = SyncResult(repo=gitops.find_repo(ws.ledger_dir) if gitops.git_available() else None)
    try:
        with ledger_lock(ws.ledger_dir, wait_seconds=wait_seconds):
            _run_locked(ws, settings, result)
    except FlexError as exc:  # the lock: another run holds it
        raise SyncFailed("lock", str(exc), token) from None
    return result


def _run_locked(ws: Workspace, settings: FlexSettings, result: SyncResult) -> None:
    from .cmd_fetch import fetch_and_archive

    token = settings.token
    step = "fetch"
    try:
        result.archived = fetch_and_archive(ws, settings)
    except Exception as exc:  # FlexError and anything unforeseen: nothing but raw/ and runs.log was touched
        raise SyncFailed(step, _reason(exc), token) from None
    result.setup = query_setup.document_findings(parse(result.archived.path.read_bytes(),
                                                       source=result.archived.relpath))
    with _Snapshot(ws.generated_dir) as snapshot:
        try:
            step = "import"
            before = _committed_flex_ids(ws, result.repo)
            _rebuild(ws, result)
            after = _flex_ids(ws.generated_dir)
            result.new_ids = sorted(after - before)
            result.gone_ids = sorted(before - after)
            step = "check"
            errors, result.diffs, statements, result.warnings = check_ledger(ws.main_file)
            if errors:
                more = f" (and {len(errors) - 1} more; run 'beanflex check')" if len(errors) > 1 else ""
                raise SyncFailed(step, f"{len(errors)} ledger error(s): {errors[0]}{more}"
                                 + _statement_advice(ws, statements), token)
            step = "commit"
            if result.repo is not None:
                sync_commit.commit(ws, result, token)
        except BaseException as exc:
            snapshot.restore()
            if not isinstance(exc, Exception):  # Ctrl-C, SystemExit: put generated/ back, then stop as asked
                raise
            # An archived statement that cannot be mapped stops every rebuild: ingest's error names the raw
            # file and what to do, on this run and every later one.
            failure = exc if isinstance(exc, SyncFailed) else SyncFailed(step, _reason(exc), token)
            _record(ws, result, "error", failure.message)
            raise failure from None
    _record(ws, result, "ok" if result.commit else "unchanged",
            f"committed {result.commit[:12]}" if result.commit else
            ("not a git repository: nothing committed" if result.repo is None else "nothing to commit"))


def _record(ws: Workspace, result: SyncResult, status: str, message: str) -> None:
    """One `command=sync` line in runs.log with the outcome (the fetch and the rebuild wrote their own)."""
    archived = result.archived
    record = runlog.RunRecord(command="sync", status=status, message=message,
                              rows={f"new_{kind}": n for kind, n in sorted(result.new_by_kind().items())},
                              warnings=runlog.capped(result.warnings + result.diffs))
    if archived is not None:
        record.accounts, record.from_date, record.to_date = archived.accounts, archived.from_date, archived.to_date
        record.sha256, record.file = archived.sha256, archived.relpath
    runlog.record_run(ws.ledger_dir, record)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, (FlexError, gitops.GitError)) else f"{type(exc).__name__}: {exc}"


def _rebuild(ws: Workspace, result: SyncResult) -> None:
    """Regenerate `generated/` from the whole archive; the caller holds the lock (ingest.rebuild would retake it)."""
    from . import ingest

    archived = [(result.archived.relpath, result.archived.is_new)] if result.archived else []
    summary = ingest.rebuild_locked(ws, ingest.import_config(ws), ingest.Summary(archived=archived), "sync")
    result.drift = summary.drift.lines()
    lines = [line for line in summary.lines() if line.startswith("rows:")]
    result.rows = lines[0] if lines else ""


def check_ledger(main_file: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """Load the ledger with its plugins: (errors, reconciliation diffs, raw statements behind the errors, warnings).

    Errors, diffs and warnings are `file:line: message`. Reconciliation diffs (ReconcileError) and labels/notes
    problems (ledger_errors.WARNINGS) are reported, not failures; every other error (syntax, booking, a failed
    balance assertion) fails the run. The third list names the archived statements (`raw/…xml`) whose rows the
    failing directives came from (their `flex_src`), e.g. a statement's own cash check that its rows do not add
    up to.
    """
    from beancount import loader

    _entries, errors, _options = loader.load_file(str(main_file))
    hard, diffs, statements, warnings = [], [], [], []
    for error in errors:
        kind = ledger_errors.kind(error)
        if kind == "error":
            src = str(((getattr(error, "entry", None) and error.entry.meta) or {}).get("flex_src") or "")
            statements += [p.split(":")[0] for p in src.split() if p.startswith("raw/")
                           and p.split(":")[0] not in statements]
        source = getattr(error, "source", None) or {}
        where = f"{_relative(source.get('filename'), main_file.parent)}:{source.get('lineno', '?')}: " \
            if source else ""
        text = where + " ".join(str(getattr(error, "message", error)).split())
        {"diff": diffs, "warning": warnings, "error": hard}[kind].append(text)
    return hard, diffs, statements, warnings


def _statement_advice(ws: Workspace, statements: list[str]) -> str:
    """What to do when the failing check comes from an archived statement: it stays in raw/ and fails every later
    sync the same way, so this is said on every run, naming the file."""
    if not statements:
        return ""
    where = ", ".join(str(ws.ledger_dir / s) for s in statements)
    return (f"; it comes from the archived statement {where}: fix the Flex Query (every section "
            "docs/flex-query-setup.md lists) and fetch again, or move that file out of raw/ (keep it elsewhere) and "
            "run sync again")


def _relative(filename: str | None, ledger_dir: Path) -> str:
    """`generated/U1/2024.beancount` for a file under ledger/, else the name as given (paths differ per host)."""
    if not filename:
        return "?"
    try:
        return Path(filename).resolve().relative_to(ledger_dir.resolve()).as_posix()
    except ValueError:
        return filename


def _committed_flex_ids(ws: Workspace, repo: gitops.Repo | None) -> set[str]:
    """The flex_ids the last commit holds: what the commit message's "+N trades" counts against.

    Not the working tree before the run: a ledger synced before `git init` has all its rows on disk and none in
    git, and its first commit must count them all (it said "+0 trades"). Without git, the working tree is all
    there is. One `git grep` over HEAD's tree reads every generated file at once.
    """
    if repo is None:
        return _flex_ids(ws.generated_dir)
    if not repo.has_head():
        return set()
    rel = ws.generated_dir.resolve().relative_to(repo.root.resolve()).as_posix()
    proc = repo.run("grep", "-h", "-I", "-e", 'flex_id: "', "HEAD", "--", f"{rel}/*.beancount", check=False)
    if proc.returncode not in (0, 1):  # 1: no match (an empty ledger)
        raise gitops.GitError(f"git grep failed in {repo.root}: {proc.stderr.decode(errors='replace').strip()}")
    return set(_FLEX_ID.findall(proc.stdout.decode("utf-8")))


def _flex_ids(generated: Path) -> set[str]:
    """Every flex_id in the generated files, e.g. {"U7654321/trade/9101", "U7654321/cash/9001"}."""
    ids: set[str] = set()
    if generated.is_dir():
        for path in generated.rglob("*.beancount"):
            ids.update(_FLEX_ID.findall(path.read_text(encoding="utf-8")))
    return ids


class _Snapshot:
    """A copy of `ledger/generated/` taken before the import, put back byte for byte if a later step fails."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._existed = False

    def __enter__(self) -> "_Snapshot":
        self._tmp = tempfile.TemporaryDirectory(prefix="beanflex-sync-")
        self._existed = self.folder.is_dir()
        if self._existed:
            shutil.copytree(self.folder, Path(self._tmp.name) / "generated", symlinks=True)
        return self

    def restore(self) -> None:
        """Back to the snapshot in one switch (generation.py): a kill during the restore leaves one whole generation."""
        generation.put_back(self.folder.parent, Path(self._tmp.name) / "generated" if self._existed else None)

    def __exit__(self, *exc_info) -> None:
        self._tmp.cleanup()
