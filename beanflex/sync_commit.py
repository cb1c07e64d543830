"""What `sync` commits: the files beanflex owns and the hand-edited ledger files, nothing else under `ledger/`.

An editor's swap file (`ledger/.manual.beancount.swp`) or a scratch file in `ledger/` is the user's business, so
it is left alone and listed (in the output and the commit message), never swept into the nightly commit:

- beanflex's own: `ledger/generated/`, `ledger/raw/` and the `ledger/.gitignore` that `beanflex init` wrote
  (runs.log, the lock file and Beancount's cache are local state and never committed);
- hand-edited: main.beancount, manual.beancount and every file they include outside generated/ (what Beancount
  loads), wherever it is in the repository.

Example: changed are generated/U1/2024.beancount, raw/U1/2024/…xml, manual.beancount, notes.txt and
.manual.beancount.swp; committed are the first three; notes.txt and the swap file are listed as left alone.
"""

from __future__ import annotations

from pathlib import Path

from beanflex.importers.flex.fsutil import LOCK_NAME
from beanflex.importers.flex.generation import NEW, OLD

from . import gitops, ingest
from .workspace import Workspace

#: Never committed and never listed: local state of every run (and side folders of an interrupted one).
LOCAL_STATE = ("runs.log", LOCK_NAME, "**/.*.picklecache", "**/.*.tmp", f"{NEW}/**", f"{OLD}/**")
OWNED = ("generated", "raw", ".gitignore")


def plan(ws: Workspace, repo: gitops.Repo) -> tuple[list[str], list[str], list[str], list[str]]:
    """(pathspecs to commit, excludes, changed files committed, changed files left alone), relative to the root."""
    root = repo.root.resolve()
    rel = ws.ledger_dir.resolve().relative_to(root).as_posix()
    base = "" if rel == "." else rel + "/"
    exclude = [base + name for name in LOCAL_STATE]
    owned = [base + name for name in OWNED]
    hand = []
    for path in ingest.hand_edited_files(ws):
        try:
            hand.append(path.relative_to(root).as_posix())
        except ValueError:  # included from outside the repository: not ours to commit
            continue
    changed = repo.changed([rel, *hand], exclude)
    committed = [p for p in changed if p in hand or p in owned or p.startswith(tuple(o + "/" for o in owned))]
    left = [p for p in changed if p not in committed]
    # git refuses a literal pathspec that matches nothing (no raw/ yet, no .gitignore): name only what exists
    # or what changed (a deleted file)
    paths = [p for p in owned + hand if (root / p).exists() or any(c == p or c.startswith(p + "/") for c in changed)]
    return paths, exclude, committed, left


def commit(ws: Workspace, result, token: str) -> None:
    """Commit what `plan` picks; fills result.changed, .hand_edited, .left_alone, .warnings and .commit."""
    repo = result.repo
    paths, exclude, result.changed, result.left_alone = plan(ws, repo)
    base = ws.ledger_dir.resolve().relative_to(repo.root.resolve()).as_posix()
    owned = tuple(name if base == "." else f"{base}/{name}" for name in OWNED)
    result.hand_edited = [p for p in result.changed if p not in owned and not p.startswith(tuple(o + "/" for o in owned))]
    if repo.detached():
        result.warnings.append(f"HEAD is detached in {repo.root}: this commit is on no branch and can be lost; "
                               "check out your branch (git switch <branch>) and run sync again")
    if result.changed:
        result.commit = repo.commit_paths(paths, result.message(), secret=token, exclude=exclude)
