"""P6, the nightly sync: `beanflex sync` of one new day into a ledger that already holds the history, vs bean-check.

The synthetic statement is cut into its history and its last day (flexsynth/daily.py). The history is imported
into a fresh workspace that is a git repository with the ledger committed (setup, not timed); then the fake Flex
Web Service (tests/fake_flex_service.py, on 127.0.0.1) serves the last day and `beanflex sync` is timed: fetch,
archive, regenerate, check (a full load with the plugins) and `git commit`, as cron runs it. The baseline is
`bean-check` of the ledger the sync leaves. CPU seconds include the git children sync waits for.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import core

sys.path.insert(0, str(core.ROOT / "scripts"))
sys.path.insert(0, str(core.ROOT / "tests"))
from flexsynth import daily  # noqa: E402 - beside this package
from fake_flex_service import serve_flex  # noqa: E402 - the tests' fake service, reused as is

NAME = "beanflex sync of one new day vs bean-check of the synced ledger"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "bench@localhost"}


def nightly_sync(n: int, statement: Path, work: Path, repeat: int, labels: str) -> dict:
    """The P6 row: time one sync (after a fresh history import and rebuild per run, untimed: the ledger as the
    previous night's sync leaves it, mapping cache included) against bean-check of the result."""
    reason = core.placeholder_reason("sync")
    if reason:
        return core.row(n, "P6", NAME, None, None, reason)
    history, today = daily.split_last_day(statement.read_bytes())
    (work / "history.xml").write_bytes(history)
    root = work / "sync-book"
    main = root / "ledger" / "main.beancount"
    env = {**core.ENV, **GIT_ENV}

    def fresh() -> None:
        subprocess.run(["rm", "-rf", str(root)], check=True)
        beanflex = str(core.BIN / "beanflex")
        subprocess.run([beanflex, "init", str(root)], check=True, capture_output=True, env=env)
        (root / "labels.yaml").write_text(labels, encoding="utf-8")
        subprocess.run([beanflex, "--ledger", str(main), "import", str(work / "history.xml")], check=True,
                       capture_output=True, env=env)
        # as last night's sync leaves the ledger: with the mapping cache a sync writes (import does not)
        subprocess.run([beanflex, "--ledger", str(main), "rebuild"], check=True, capture_output=True, env=env)
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "history"]):
            subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)

    out = work / "sync-output.txt"
    with serve_flex(today) as flex:
        sync_env = {**env, **flex.env()}
        subject = core.best([str(core.BIN / "beanflex"), "--ledger", str(main), "sync"], work, repeat, fresh,
                            stdout=out, env=sync_env)
    note = ""
    if not subject["returncode"]:
        lines = out.read_text(encoding="utf-8", errors="replace").splitlines()
        commits = subprocess.run(["git", "-C", str(root), "rev-list", "--count", "HEAD"], capture_output=True,
                                 text=True, env=env).stdout.strip()
        if commits != "2":
            subject["returncode"], subject["stderr_tail"] = 1, [f"sync made no commit ({commits} commits)"]
        generated = next((line for line in lines if line.startswith("generated:")), "")
        note = f"{today.count(b'<Trade ')} trades that day; {generated or lines[0] if lines else ''}".strip()
    baseline = core.check(main, work, repeat) if not subject["returncode"] else None
    return core.row(n, "P6", NAME, subject, baseline, note)
