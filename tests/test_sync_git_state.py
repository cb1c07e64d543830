"""`sync` and the user's git state: it commits only beanflex's files and the hand-edited ledger, leaves the rest
alone (and says so), never unstages the user's staged edits when a commit fails, and warns on a detached HEAD.
Label and note mistakes are warnings: fetched data is still committed.

Same set-up as test_sync.py: the real command, the fake Flex Web Service, a real git repository.
"""

from __future__ import annotations

import subprocess

from fake_flex_service import serve_flex
from test_sync import BEANFLEX, FEB, _commits, _git, _january_template, _sync, jan_repo  # noqa: F401 - fixtures


def _committed_files(repo) -> set[str]:
    return set(_git(repo, "show", "--name-only", "--format=", "HEAD").split())


def test_a_swap_file_and_a_scratch_file_are_left_alone_and_listed(jan_repo):
    repo = jan_repo
    (repo / "ledger" / ".manual.beancount.swp").write_bytes(b"\x00vim swap")
    (repo / "ledger" / "scratch.txt").write_text("todo\n")
    with open(repo / "ledger" / "manual.beancount", "a") as handle:  # a hand edit: committed with the run
        handle.write("\n; checked 2024-02\n")
    with serve_flex(FEB) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 0, proc.stderr
    committed = _committed_files(repo)
    assert "ledger/manual.beancount" in committed
    assert any(p.startswith("ledger/generated/") for p in committed)
    assert any(p.startswith("ledger/raw/") for p in committed)
    assert not committed & {"ledger/.manual.beancount.swp", "ledger/scratch.txt"}
    assert "left alone, not committed: ledger/.manual.beancount.swp, ledger/scratch.txt" in proc.stdout
    message = _git(repo, "log", "-1", "--format=%B")
    assert "left alone (not beanflex's, not in the ledger) (2):" in message
    assert "  ledger/scratch.txt" in message
    status = _git(repo, "status", "--porcelain", "--untracked-files=all")
    assert "?? ledger/.manual.beancount.swp" in status and "?? ledger/scratch.txt" in status


def test_a_failed_commit_keeps_the_users_staged_edits_staged(jan_repo):
    repo = jan_repo
    manual = repo / "ledger" / "manual.beancount"
    manual.write_text(manual.read_text() + "\n; staged by me\n")
    (repo / "labels.yaml").write_text((repo / "labels.yaml").read_text() + "\n# staged too\n")
    _git(repo, "add", "ledger/manual.beancount", "labels.yaml")
    manual.write_text(manual.read_text() + "; not staged\n")
    staged_before = _git(repo, "diff", "--cached")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    head = _commits(repo)
    with serve_flex(FEB) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 1 and "sync failed at commit" in proc.stderr, proc.stderr
    assert _commits(repo) == head
    assert _git(repo, "diff", "--cached") == staged_before  # exactly what the user had staged, nothing more


def test_a_detached_head_is_warned_about(jan_repo):
    repo = jan_repo
    _git(repo, "checkout", "-q", "--detach")
    with serve_flex(FEB) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 0, proc.stderr
    assert "warning: HEAD is detached in" in proc.stdout and "git switch <branch>" in proc.stdout
    assert "HEAD is detached" in _git(repo, "log", "-1", "--format=%B")


def test_label_and_note_mistakes_do_not_stop_the_commit(jan_repo):
    repo = jan_repo
    # A label for a symbol not held yet, and a draft note about an instrument the ledger does not have.
    (repo / "labels.yaml").write_text("labels:\n  Later:\n    members: [NVDA]\n")
    (repo / "notes").mkdir(exist_ok=True)
    (repo / "notes" / "DRAFT.md").write_text("---\nsymbol: DRAFT\n---\nthinking about it\n")
    head = _commits(repo)
    with serve_flex(FEB) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 0, proc.stderr
    assert len(_commits(repo)) == len(head) + 1
    assert "'NVDA' in members of 'Later' matches no instrument" in proc.stdout
    assert "DRAFT.md" in proc.stdout
    message = _git(repo, "log", "-1", "--format=%B")
    assert "; 2 warnings" in message.splitlines()[0]
    assert "warnings (labels, notes, git) (2):" in message
    checked = subprocess.run([BEANFLEX, "--ledger", str(repo / "ledger" / "main.beancount"), "check"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "labels and notes: 2 warning(s)" in checked.stdout
