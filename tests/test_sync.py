"""`beanflex sync` end to end: the real command in a subprocess, the fake Flex Web Service on 127.0.0.1, a real git
repository in a temporary folder, and a git with no user configured (so sync's default identity is used).

The statements are tests/fixtures/sync/ (hand-checked there): January has 2 trades and 1 cash row; February
repeats the January KO buy (9102) and adds 1 trade (9103) and 3 cash rows (9002 fee, 9003 dividend, 9004
withholding), so its commit must add exactly those four flex_ids and change no existing line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_flex_service import TOKEN, Reply, serve_flex  # noqa: E402

from beanflex import gitops  # noqa: E402
from beanflex.importers.flex import runlog  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "sync"
JAN = (FIXTURES / "sync_2024-01.xml").read_bytes()
FEB = (FIXTURES / "sync_2024-02.xml").read_bytes()
BEANFLEX = str(Path(sys.executable).parent / "beanflex")
BAD_TOKEN = "bad-TOKEN-0000-feedfacecafe"
ACCOUNT_GEN = "ledger/generated/U7654321/2024.beancount"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env=_git_env(repo)).stdout


def _git_env(home: Path) -> dict[str, str]:
    """A git with no global or system config, hence no user.name/user.email: like a fresh container."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "BEANFLEX_", "IBKR_"))}
    env.update({"HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    return env


@pytest.fixture
def repo(tmp_path) -> Path:
    """`beanflex init` + `git init` in a temporary folder, nothing committed yet."""
    home = tmp_path / "money"
    home.mkdir()
    subprocess.run([BEANFLEX, "init", str(home)], check=True, capture_output=True, env=_git_env(tmp_path))
    _git(home, "init", "-q")
    return home


@pytest.fixture(scope="module")
def _january_template(tmp_path_factory) -> Path:
    """Built once: a repo after a first sync of January (one commit), copied by `jan_repo` for each test."""
    base = tmp_path_factory.mktemp("january")
    home = base / "money"
    home.mkdir()
    subprocess.run([BEANFLEX, "init", str(home)], check=True, capture_output=True, env=_git_env(base))
    _git(home, "init", "-q")
    with serve_flex(JAN) as flex:
        proc = _sync(home, flex)
    assert proc.returncode == 0, proc.stderr
    return home


@pytest.fixture
def jan_repo(_january_template, tmp_path) -> Path:
    """A private copy of the January repo: January synced and committed, nothing else."""
    home = tmp_path / "money"
    shutil.copytree(_january_template, home, symlinks=True)
    assert len(_commits(home)) == 1
    return home


def _sync(repo: Path, flex, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = _git_env(repo.parent)
    env.update(flex.env(**env_extra))
    env["BEANFLEX_LEDGER"] = str(repo / "ledger" / "main.beancount")
    return subprocess.run([BEANFLEX, "sync", *args], capture_output=True, text=True, env=env, timeout=60)


def _commits(repo: Path) -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "rev-list", "--all"], capture_output=True, text=True,
                          env=_git_env(repo.parent))
    return proc.stdout.split()


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _bean_check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "bean-check"), str(repo / "ledger" / "main.beancount")],
                          capture_output=True, text=True)


def _no_token_anywhere(repo: Path, *tokens: str) -> None:
    """Neither the working files nor any git object (history, index) holds a token."""
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            data = path.read_bytes()
            for token in tokens:
                assert token.encode() not in data, f"token in {path}"
    history = subprocess.run(["git", "-C", str(repo), "log", "--all", "-p", "--format=%B"], capture_output=True,
                             env=_git_env(repo.parent)).stdout
    for token in tokens:
        assert token.encode() not in history


def test_first_run_commits_and_the_same_statement_again_does_not(repo):
    with serve_flex(JAN) as flex:
        first = _sync(repo, flex)
        assert first.returncode == 0, first.stderr
        assert len(_commits(repo)) == 1
        subject = _git(repo, "log", "-1", "--format=%s")
        # January: BUY MSFT (9101), BUY KO (9102) and the deposit (9001).
        assert subject.startswith("sync 2024-01-01..2024-01-31 U7654321: +2 trades, +1 cash row; drift ")
        assert "; reconcile ok" in subject
        assert _git(repo, "log", "-1", "--format=%an <%ae>").strip() == "beanflex <beanflex@localhost>"
        committed = set(_git(repo, "show", "--name-only", "--format=", "HEAD").split())
        assert {"ledger/main.beancount", "ledger/manual.beancount", "ledger/generated/index.beancount",
                ACCOUNT_GEN, "ledger/raw/index.tsv"} <= committed
        assert any(p.startswith("ledger/raw/U7654321/2024/20240101_20240131_987654_") for p in committed)
        assert not committed & {"ledger/runs.log", "ledger/.beanflex.lock"}
        assert not any(not p.startswith("ledger/") for p in committed), "only ledger/ is committed"
        assert first.stdout.splitlines()[-1].startswith("committed ")

        second = _sync(repo, flex, "--quiet")
        assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
        assert len(_commits(repo)) == 1
        third = _sync(repo, flex)
        assert third.stdout == "sync 2024-01-01..2024-01-31 U7654321: nothing new, no commit\n"
        assert len(_commits(repo)) == 1
    assert _bean_check(repo).returncode == 0
    _no_token_anywhere(repo, TOKEN)


def test_a_new_statement_commits_only_its_new_rows(jan_repo):
    repo = jan_repo
    before = (repo / ACCOUNT_GEN).read_text()
    with serve_flex(FEB) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 0, proc.stderr
    assert len(_commits(repo)) == 2
    subject = _git(repo, "log", "-1", "--format=%s")
    assert subject.startswith("sync 2024-01-29..2024-02-29 U7654321: +1 trade, +3 cash rows; drift ")
    body = _git(repo, "log", "-1", "--format=%b")
    new = [line.strip() for line in body.split("new (4):\n")[1].splitlines()[:4]]
    assert new == ["U7654321/cash/9002", "U7654321/cash/9003", "U7654321/cash/9004", "U7654321/trade/9103"]
    # No existing line changed: the diff of the generated files only adds lines (the overlap's KO buy stays
    # once, with its January flex_src).
    diff = _git(repo, "diff", "HEAD~1", "HEAD", "--unified=0", "--", "ledger/generated")
    removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed == []
    after = (repo / ACCOUNT_GEN).read_text()
    assert after.count('flex_id: "U7654321/trade/9102"') == 1
    assert before.split("\n\n")[1] in after  # the first entry, unchanged
    # February's figures made it in: IBKR's ending cash 2144.82 and realized P&L 198.50 (fixtures README).
    assert '2024-02-29 custom "ibkr-cash" "USD" "U7654321"' in after and "ending_cash: 2144.82" in after
    assert "fifo_pnl_realized: 198.5" in after
    changed = set(_git(repo, "show", "--name-only", "--format=", "HEAD").split())
    assert changed == {ACCOUNT_GEN, "ledger/raw/index.tsv",
                       *[p for p in changed if p.startswith("ledger/raw/U7654321/2024/20240129_20240229_")]}
    assert len(changed) == 3
    assert _bean_check(repo).returncode == 0


def test_a_bad_token_fails_with_one_line_commits_nothing_and_leaks_nothing(jan_repo):
    repo = jan_repo
    with serve_flex(JAN) as flex:
        head = _commits(repo)
        generated = _tree_digest(repo / "ledger" / "generated")
        proc = _sync(repo, flex, IBKR_FLEX_TOKEN=BAD_TOKEN)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: sync failed at fetch: ")
    assert "1015" in lines[0] and "(ledger and git history unchanged)" in lines[0]
    assert _commits(repo) == head
    assert _tree_digest(repo / "ledger" / "generated") == generated
    assert _git(repo, "status", "--porcelain", "--", "ledger/generated", "ledger/raw") == ""
    _no_token_anywhere(repo, TOKEN, BAD_TOKEN)
    assert BAD_TOKEN not in proc.stderr and TOKEN not in proc.stderr


def test_a_failing_check_restores_the_ledger_and_the_next_good_run_commits_the_kept_payload(jan_repo):
    repo = jan_repo
    head = _commits(repo)
    generated = _tree_digest(repo / "ledger" / "generated")
    manual = repo / "ledger" / "manual.beancount"
    good_manual = manual.read_text()
    # A hand-written assertion that February's rows contradict: cash on 2024-02-20 is
    # 98 - 10 (fee) + 2049 (sale) + 9.20 - 1.38 (dividend net) = 2144.82, not 1.
    manual.write_text(good_manual + "\n2024-02-20 balance Assets:IBKR:U7654321:Cash 1 USD\n")
    with serve_flex(FEB) as flex:
        proc = _sync(repo, flex)
        assert proc.returncode == 1
        line, = proc.stderr.splitlines()
        assert line.startswith("Error: sync failed at check: 1 ledger error(s): ")
        assert ": manual.beancount:" in line and "Balance failed" in line
        assert _commits(repo) == head
        assert _tree_digest(repo / "ledger" / "generated") == generated
        last = runlog.read_runs(repo / "ledger")[-1]
        assert (last.command, last.status) == ("sync", "error")
        assert last.message.startswith("sync failed at check: 1 ledger error(s): manual.beancount:")
        # The fetched payload stays archived (uncommitted), as documented.
        untracked = _git(repo, "status", "--porcelain", "--untracked-files=all", "--", "ledger/raw")
        assert "?? ledger/raw/U7654321/2024/20240129_20240229_" in untracked

        manual.write_text(good_manual)
        again = _sync(repo, flex)
    assert again.returncode == 0, again.stderr
    assert len(_commits(repo)) == 2
    last = runlog.read_runs(repo / "ledger")[-1]
    assert (last.command, last.status, last.message) == ("sync", "ok", f"committed {_commits(repo)[0][:12]}")
    assert last.rows == {"new_cash": 3, "new_trade": 1}
    assert _git(repo, "status", "--porcelain", "--", "ledger/raw", "ledger/generated") == ""


def test_a_statement_that_does_not_add_up_is_committed_and_its_cash_diff_reported(jan_repo):
    """February's CashReport says 2200 USD at the end, its rows give 2144.82 (98 - 10 + 2049 + 9.20 - 1.38). That
    is IBKR's data disagreeing with itself, not a broken ledger: the statement is archived and committed, and the
    run reports the reconciliation diff naming the raw row and the kind of money (exit 0; --strict exits 3 after
    committing), instead of failing every night until someone edits the ledger."""
    repo = jan_repo
    head = _commits(repo)
    wrong = FEB.replace(b'endingCash="2144.82"', b'endingCash="2200"')
    assert wrong.count(b'endingCash="2200"') == 2  # the USD row and the BASE_SUMMARY row
    with serve_flex(wrong) as flex:
        proc = _sync(repo, flex, "--strict")
    assert proc.returncode == 3, proc.stderr
    assert len(_commits(repo)) == len(head) + 1
    subject = _git(repo, "log", "-1", "--format=%s")
    assert subject.rstrip().endswith("; reconcile 1 diff"), subject
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("reconcile: ")]
    # 2144.82 - 2200 = -55.18. The row gives no net trades figure, so IBKR's remainder
    # 2200 - 1299 - (-2 + 9.20 - 1.38 - 10) = 905.18 is `other`, against the ledger's trades of 850 this period.
    assert "Ending cash differs for USD in U7654321 on 2024-02-29: ours 2144.82 != IBKR 2200 (-55.18 USD)" in line
    assert "differing kinds: trades ours 850 IBKR 0; other ours 0 IBKR 905.18;" in line
    assert "reason: statement_rows_incomplete" in line and "raw/U7654321/2024/20240129_20240229_" in line
    assert "reconciliation diffs (1):" in _git(repo, "log", "-1", "--format=%b")
    assert _git(repo, "status", "--porcelain", "--", "ledger/raw", "ledger/generated") == ""


def test_the_token_guard_refuses_a_commit_that_contains_the_token(repo):
    with serve_flex(JAN) as flex:
        manual = repo / "ledger" / "manual.beancount"
        manual.write_text(manual.read_text() + f"\n; pasted by mistake: {TOKEN}\n")
        proc = _sync(repo, flex)
    assert proc.returncode == 1
    line, = proc.stderr.splitlines()
    assert line.startswith("Error: sync failed at commit: refusing to commit: the Flex token appears")
    assert TOKEN not in proc.stderr
    assert _commits(repo) == []
    assert _git(repo, "diff", "--cached", "--name-only") == ""
    assert not (repo / ACCOUNT_GEN).exists(), "generated/ is back to what it was: only the index"


def test_without_git_it_syncs_and_says_how_to_start_a_history(tmp_path):
    home = tmp_path / "money"
    subprocess.run([BEANFLEX, "init", str(home)], check=True, capture_output=True, env=_git_env(tmp_path))
    with serve_flex(JAN) as flex:
        proc = _sync(home, flex)
        quiet = _sync(home, flex, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert f"run: git -C {home} init" in proc.stderr
    assert (home / ACCOUNT_GEN).is_file()
    assert not (home / ".git").exists()
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_git_init_after_a_first_sync_counts_the_rows_against_head(tmp_path):
    """Synced once without git, then `git init`: the first commit's message counts January's 2 trades and 1 cash
    row (new against HEAD, which has none), not "+0" because they were already on disk."""
    home = tmp_path / "money"
    subprocess.run([BEANFLEX, "init", str(home)], check=True, capture_output=True, env=_git_env(tmp_path))
    with serve_flex(JAN) as flex:
        assert _sync(home, flex).returncode == 0
        _git(home, "init", "-q")
        proc = _sync(home, flex)
    assert proc.returncode == 0, proc.stderr
    subject = _git(home, "log", "-1", "--format=%s")
    assert subject.startswith("sync 2024-01-01..2024-01-31 U7654321: +2 trades, +1 cash row"), subject


@pytest.mark.parametrize("wait", ["0", "30"])
def test_two_syncs_at_once_one_waits_or_says_locked_and_the_ledger_stays_valid(repo, wait):
    results: list[subprocess.CompletedProcess] = []
    # GetStatement answers the first fetch only after 1.5 s, so the two runs overlap for sure.
    with serve_flex(JAN, get_replies=[Reply(JAN, delay=1.5)]) as flex:
        threads = [threading.Thread(target=lambda: results.append(
            _sync(repo, flex, "--wait", wait, BEANFLEX_FLEX_TIMEOUT="10"))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    codes = sorted(proc.returncode for proc in results)
    if wait == "0":
        assert codes == [0, 1], [p.stderr for p in results]
        locked = next(p for p in results if p.returncode == 1)
        line, = locked.stderr.splitlines()
        assert line.startswith("Error: sync failed at lock: ") and "locked by another beanflex run" in line
    else:
        assert codes == [0, 0], [p.stderr for p in results]
        # The second run waited for the first, then found the statement already archived and imported.
        outputs = [p.stdout.splitlines()[0] for p in results]
        assert "sync 2024-01-01..2024-01-31 U7654321: nothing new, no commit" in outputs
        assert any(line.startswith("sync 2024-01-01..2024-01-31 U7654321: +2 trades") for line in outputs)
    assert len(_commits(repo)) == 1
    assert _bean_check(repo).returncode == 0
    assert _git(repo, "status", "--porcelain", "--", "ledger/generated", "ledger/raw") == ""


def test_gitops_uses_a_configured_identity_and_commits_only_the_given_paths(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=_git_env(tmp_path))
    repo = gitops.find_repo(tmp_path)
    assert repo is not None and repo.root == tmp_path.resolve()
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "a.beancount").write_text("; a\n")
    (tmp_path / "ledger" / "runs.log").write_text("run\n")
    (tmp_path / "other.txt").write_text("not mine\n")
    env = _git_env(tmp_path)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.name", "Me"], check=True, env=env)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.email", "me@example.org"], check=True, env=env)
    assert repo.identity_args() == []
    commit = repo.commit_paths(["ledger"], "first", secret=TOKEN, exclude=["ledger/runs.log"])
    assert commit and repo.head() == commit
    shown = _git(tmp_path, "show", "--name-only", "--format=%an <%ae>", "HEAD").split("\n")
    assert shown[0] == "Me <me@example.org>"
    assert [line for line in shown[1:] if line] == ["ledger/a.beancount"]
    assert repo.commit_paths(["ledger"], "again", secret=TOKEN, exclude=["ledger/runs.log"]) is None
    assert repo.changed(["ledger"], ["ledger/runs.log"]) == []


def test_gitops_token_guard_before_the_first_commit_unstages(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=_git_env(tmp_path))
    repo = gitops.find_repo(tmp_path)
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "x.beancount").write_text(f"; {TOKEN}\n")
    with pytest.raises(gitops.TokenInCommitError) as caught:
        repo.commit_paths(["ledger"], "x", secret=TOKEN)
    assert TOKEN not in str(caught.value)
    assert repo.head() is None
    assert _git(tmp_path, "diff", "--cached", "--name-only") == ""
    with pytest.raises(gitops.TokenInCommitError):  # the message alone is enough to refuse
        (tmp_path / "ledger" / "x.beancount").write_text("; clean\n")
        repo.commit_paths(["ledger"], f"message with {TOKEN}", secret=TOKEN)
    assert repo.head() is None


def test_reconciliation_diffs_are_committed_and_reported_and_strict_exits_3(jan_repo):
    repo = jan_repo
    # IBKR claims 198.40 realized on the MSFT sale; the ledger's lots give 2049 - 1850.50 = 198.50.
    claimed = FEB.replace(b'fifoPnlRealized="198.5"', b'fifoPnlRealized="198.4"')
    assert claimed.count(b'fifoPnlRealized="198.4"') == 2  # the Trade row and its closed Lot row
    with serve_flex(claimed) as flex:
        proc = _sync(repo, flex, "--strict")
    assert proc.returncode == 3, proc.stderr
    assert "reconciliation diffs" in proc.stderr.splitlines()[-1]
    assert len(_commits(repo)) == 2, "diffs are findings: the rows are committed, the status says so"
    subject = _git(repo, "log", "-1", "--format=%s")
    assert subject.startswith("sync 2024-01-29..2024-02-29 U7654321: +1 trade, +3 cash rows; drift ")
    assert "; reconcile 1 diff" in subject
    body = _git(repo, "log", "-1", "--format=%b")
    assert "reconciliation diffs (1):\n  generated/U7654321/2024.beancount:" in body and "IBKR 198.4" in body


def test_an_unmappable_statement_fails_at_import_and_says_which_raw_file_to_move(jan_repo):
    repo = jan_repo
    # February without the sale's quantity: the schema check stops the rebuild before generated/ changes.
    broken = FEB.replace(b' quantity="-5"', b"")
    assert len(broken) == len(FEB) - len(' quantity="-5"')
    head = _commits(repo)
    generated = _tree_digest(repo / "ledger" / "generated")
    with serve_flex(broken) as flex:
        proc = _sync(repo, flex)
    assert proc.returncode == 1
    line, = proc.stderr.splitlines()
    assert line.startswith("Error: sync failed at import: raw/U7654321/2024/20240129_20240229_987654_")
    assert "attribute quantity" in line
    kept = next((repo / "ledger" / "raw" / "U7654321" / "2024").glob("20240129_20240229_*.xml"))
    assert f"fix the Flex Query, then move {kept} out of raw/" in line
    assert _commits(repo) == head
    assert _tree_digest(repo / "ledger" / "generated") == generated
    # The next night IBKR serves a good statement, but the archived one still stops the rebuild: the error
    # still names it (the run that archived it is not the one that fails now).
    with serve_flex(JAN) as flex:
        again = _sync(repo, flex)
    assert again.returncode == 1
    line, = again.stderr.splitlines()
    assert line.startswith("Error: sync failed at import: raw/U7654321/2024/20240129_20240229_987654_")
    assert f"move {kept} out of raw/" in line
    # `rebuild` and `check` name it too.
    for args in (["rebuild"], ["check"]):
        proc = subprocess.run([BEANFLEX, "--ledger", str(repo / "ledger" / "main.beancount"), *args],
                              capture_output=True, text=True, env=_git_env(repo))
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert f"move {kept} out of raw/" in proc.stdout + proc.stderr, args


def test_query_setup_findings_go_into_the_commit_message(repo):
    # January without its (empty) Transfers section: the query did not select it.
    no_transfers = JAN.replace(b"<Transfers />\n", b"")
    assert len(no_transfers) == len(JAN) - len(b"<Transfers />\n")
    with serve_flex(no_transfers) as flex:
        proc = _sync(repo, flex, "--strict")
    assert proc.returncode == 3, proc.stderr
    assert "1 query setup findings" in proc.stderr
    body = _git(repo, "log", "-1", "--format=%b")
    assert "query setup (1):\n  raw/U7654321/2024/20240101_20240131_987654_" in body
    assert 'section <Transfers> is missing: select "Transfers" in the Flex Query' in body


def test_the_cron_wrapper_around_the_real_sync_mails_one_line_only_on_failure(repo, tmp_path):
    """scripts/beanflex-cron with the real beanflex (this venv): silent success, one masked line on failure."""
    log = tmp_path / "sync.log"
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with serve_flex(JAN) as flex:
        env = _git_env(repo.parent)
        env.update(flex.env())
        del env["IBKR_FLEX_TOKEN"]
        env.update({"IBKR_FLEX_TOKEN_FILE": str(token_file), "BEANFLEX_LOG": str(log),
                    "BEANFLEX_VENV": str(Path(sys.executable).parent.parent), "PATH": "/usr/bin:/bin",
                    "BEANFLEX_LEDGER": str(repo / "ledger" / "main.beancount")})
        ok = subprocess.run([str(ROOT / "scripts" / "beanflex-cron")], env=env, capture_output=True, text=True)
        assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
        assert len(_commits(repo)) == 1
        assert (repo / "ledger" / "cache" / "pnl-snapshot.sqlite").is_file()  # refreshed after the good night
        token_file.write_text(BAD_TOKEN)
        bad = subprocess.run([str(ROOT / "scripts" / "beanflex-cron")], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout == ""
    line, = bad.stderr.splitlines()
    assert line.startswith("Error: sync failed at fetch: ") and "1015" in line
    text = log.read_text()
    assert "| sync 2024-01-01..2024-01-31 U7654321: +2 trades, +1 cash row;" in text
    assert "sync end: exit 0" in text and "sync end: exit 1" in text
    assert TOKEN not in text and BAD_TOKEN not in text and BAD_TOKEN not in bad.stderr
    assert len(_commits(repo)) == 1


def test_lock_wait_comes_from_the_environment_unless_wait_is_given(repo):
    """BEANFLEX_LOCK_WAIT=0 (fsutil's knob for every command) makes a second sync fail at once; --wait wins."""
    from beanflex.importers.flex.fsutil import ledger_lock

    with serve_flex(JAN) as flex, ledger_lock(repo / "ledger", wait_seconds=0):
        quick = _sync(repo, flex, BEANFLEX_LOCK_WAIT="0")
        patient = _sync(repo, flex, "--wait", "0.5", BEANFLEX_LOCK_WAIT="600")
    for proc in (quick, patient):
        assert proc.returncode == 1
        line, = proc.stderr.splitlines()
        assert line.startswith("Error: sync failed at lock: ") and "locked by another beanflex run" in line
    assert "waited 0 s" in quick.stderr and "waited 0.5 s" in patient.stderr
    assert _commits(repo) == []
