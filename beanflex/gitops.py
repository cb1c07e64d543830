"""The few git operations `beanflex sync` needs, run through the `git` command (no library, no hidden state).

Why the `git` command: it is what the user runs to read the history, it honours their config and hooks, and it is
present in the Docker image. Every call names the repository with `-C`, so the caller's working directory never
matters.

Two safety rules live here rather than in the caller:
- a machine with no git identity (a fresh container, a cron user) still commits, as `beanflex <beanflex@localhost>`;
  a configured identity always wins;
- nothing is committed whose staged diff or message contains the Flex token: `commit_paths` greps the staged
  text for it and refuses before `git commit` runs;
- a commit that does not happen (token found, hook refused) leaves the index exactly as the user had it: their
  own staged edits stay staged.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

DEFAULT_NAME = "beanflex"
DEFAULT_EMAIL = "beanflex@localhost"


class GitError(Exception):
    """A git command failed; the message quotes git's own first error line (sync redacts the token from it)."""


class TokenInCommitError(GitError):
    """The staged changes or the message contain the Flex token; nothing was committed."""


@dataclass(frozen=True)
class Repo:
    """A git work tree, e.g. `/home/me/money` holding `ledger/`, `labels.yaml` and `.git/`."""

    root: Path

    def run(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run `git -C <root> <args>` and capture its output as bytes."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        # Never stop for a pager, an editor or a credential prompt: sync runs unattended.
        full_env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_EDITOR": "true"})
        proc = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, env=full_env,
                              check=False)
        if check and proc.returncode != 0:
            verb = next((a for a in args if not a.startswith("-") and "=" not in a), "")
            raise GitError(f"git {verb} failed in {self.root}: {_first_line(proc.stderr or proc.stdout)}")
        return proc

    def has_head(self) -> bool:
        """False in a fresh `git init` repository with no commit yet."""
        return self.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0

    def head(self) -> str | None:
        """The current commit id, or None before the first commit."""
        proc = self.run("rev-parse", "--verify", "--quiet", "HEAD", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def changed(self, paths: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
        """Paths under `paths` (relative to the root) that differ from HEAD: modified, new or deleted.

        E.g. `["ledger/generated/U1234567/2024.beancount", "ledger/raw/U1234567/2024/…xml"]`; empty when clean.
        """
        proc = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                        *pathspecs(paths, exclude))
        entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        changed, skip_next = [], False
        for entry in entries:
            if skip_next:  # the source name of a rename
                skip_next = False
                continue
            if not entry:
                continue
            status, name = entry[:2], entry[3:]
            skip_next = "R" in status or "C" in status
            changed.append(name)
        return changed

    def identity_args(self) -> list[str]:
        """`-c user.name=… -c user.email=…` for whichever of the two git has no value for, else nothing."""
        args = []
        for key, default in (("user.name", DEFAULT_NAME), ("user.email", DEFAULT_EMAIL)):
            if not self.run("config", "--get", key, check=False).stdout.strip():
                args += ["-c", f"{key}={default}"]
        return args

    def commit_paths(self, paths: Sequence[str], message: str, *, secret: str | None,
                     exclude: Sequence[str] = ()) -> str | None:
        """Stage everything under `paths` (minus `exclude`), refuse if `secret` is in it, commit only those paths.

        Other staged or modified files in the repository are left exactly as they were: the commit is limited
        to `paths` by pathspec. Returns the new commit id, or None when there was nothing to commit.

        Raises:
          TokenInCommitError: `secret` occurs in the staged diff or the message; the index is as it was.
          GitError: any git command failed (hooks, disk, …); the message quotes git; the index is as it was.
        """
        # git refuses an exclude that names an ignored file literally (e.g. runs.log once ledger/.gitignore lists
        # it), and needs no exclude for it anyway.
        exclude = [p for p in exclude if any(c in p for c in "*?[") or not self.is_ignored(p)]
        specs = pathspecs(paths, exclude)
        saved = self.save_index()  # what the user had staged, put back exactly if the commit does not happen
        self.run("add", "--all", "--", *specs)
        staged = self.run("diff", "--cached", "--name-only", "-z", "--", *specs).stdout
        if not staged.strip(b"\0"):
            self.restore_index(saved)
            return None
        if secret and contains_secret(self, specs, message, secret):
            self.restore_index(saved)
            raise TokenInCommitError(
                "refusing to commit: the Flex token appears in the staged ledger changes or the commit message "
                f"(in {self.root}); nothing was committed. Remove it from the files, then run sync again")
        # The user's hooks and signing config apply as usual; a hook that refuses makes sync fail loudly.
        try:
            self.run(*self.identity_args(), "commit", "--quiet", "-m", message, "--", *specs)
        except GitError:
            self.restore_index(saved)
            raise
        return self.head()

    def index_path(self) -> Path:
        text = self.run("rev-parse", "--git-path", "index").stdout.decode().strip()
        return Path(text) if Path(text).is_absolute() else self.root / text

    def save_index(self) -> bytes | None:
        """The index file's bytes (None before anything was ever staged): the user's staged edits, exactly."""
        path = self.index_path()
        return path.read_bytes() if path.is_file() else None

    def restore_index(self, saved: bytes | None) -> None:
        """Put the index back as `save_index` found it: the user's own staged edits stay staged, ours are gone.

        Unstaging by path (`git reset -- ledger`) would also drop what the user had staged there themselves.
        """
        from beanflex.importers.flex.fsutil import atomic_write

        path = self.index_path()
        if saved is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, saved)

    def detached(self) -> bool:
        """True when HEAD names a commit but no branch: a commit made there belongs to no branch."""
        return self.has_head() and self.run("symbolic-ref", "--quiet", "HEAD", check=False).returncode != 0

    def is_ignored(self, path: str) -> bool:
        """True when git ignores `path` (relative to the root) through a .gitignore or exclude file."""
        return self.run("check-ignore", "--quiet", "--", path, check=False).returncode == 0


def find_repo(path: Path | str) -> Repo | None:
    """The work tree that contains `path` (a folder), or None when it is in no git repository."""
    path = Path(path)
    if not path.is_dir():
        return None
    proc = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True,
                          check=False)
    if proc.returncode != 0:
        return None
    return Repo(Path(proc.stdout.decode().strip()))


def git_available() -> bool:
    """True when a `git` command is on PATH."""
    try:
        return subprocess.run(["git", "--version"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def pathspecs(paths: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """Pathspecs for git: paths literal, excludes as globs (`**/.*.picklecache`), relative to the repo root.

    E.g. `pathspecs(["ledger"], ["ledger/runs.log"])` -> `[":(literal)ledger", ":(exclude,glob)ledger/runs.log"]`.
    """
    return [f":(literal){p}" for p in paths] + [f":(exclude,glob){p}" for p in exclude]


def contains_secret(repo: Repo, specs: Sequence[str], message: str, secret: str) -> bool:
    """True when `secret` occurs in the message, a staged path name, or the staged content (as text)."""
    needle = secret.encode()
    if needle in message.encode():
        return True
    names = repo.run("diff", "--cached", "--name-only", "-z", "--", *specs).stdout
    if needle in names:
        return True
    # --text: also look inside files git would call binary; -U0: only the changed lines matter.
    diff = repo.run("diff", "--cached", "--text", "--no-color", "--no-ext-diff", "-U0", "--", *specs).stdout
    return needle in diff


def _first_line(output: bytes) -> str:
    for line in output.decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()
    return "(no output)"
