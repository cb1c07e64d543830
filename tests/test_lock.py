"""One beanflex run at a time per ledger: a second run waits for the lock, then gives up with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from beanflex.importers.flex.errors import LedgerLockedError
from beanflex.importers.flex.fsutil import ledger_lock

HOLDER = textwrap.dedent("""
    import sys, time
    from beanflex.importers.flex.fsutil import ledger_lock
    with ledger_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def hold_lock(ledger, seconds: float) -> subprocess.Popen:
    """Another process (as another beanflex run would be) holding the lock for `seconds`."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(ledger), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_run_gives_up_with_a_locked_message_naming_the_pid(tmp_path):
    proc = hold_lock(tmp_path, 5)
    try:
        started = time.monotonic()
        with pytest.raises(LedgerLockedError) as err:
            with ledger_lock(tmp_path, wait_seconds=0.3):
                pass
        assert 0.3 <= time.monotonic() - started < 3
        assert f"locked by another beanflex run (pid {proc.pid})" in str(err.value)
        assert ".beanflex.lock" in str(err.value)
    finally:
        proc.kill()
        proc.wait()


def test_second_run_waits_for_the_first_to_finish(tmp_path):
    proc = hold_lock(tmp_path, 0.3)
    try:
        with ledger_lock(tmp_path, wait_seconds=10):
            assert (tmp_path / ".beanflex.lock").read_text().strip() == str(os.getpid())
    finally:
        proc.wait()
    assert proc.returncode == 0


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    proc = hold_lock(tmp_path, 30)
    proc.kill()
    proc.wait()
    with ledger_lock(tmp_path, wait_seconds=0):
        pass


def test_cli_fetch_reports_locked(tmp_path):
    from click.testing import CliRunner

    from beanflex.cli import cli

    ledger = tmp_path / "ledger"
    ledger.mkdir()
    proc = hold_lock(ledger, 30)
    try:
        env = {"IBKR_FLEX_TOKEN": "1234567890123456789012", "IBKR_FLEX_QUERY_ID": "1", "IBKR_FLEX_URL": "http://127.0.0.1:9/none",
               "BEANFLEX_LOCK_WAIT": "0.2", "BEANFLEX_FLEX_MAX_WAIT": "0"}
        result = CliRunner().invoke(cli, ["--ledger", str(ledger / "main.beancount"), "fetch"], env=env)
        assert result.exit_code == 1, result.output
        assert "locked by another beanflex run" in result.output
    finally:
        proc.kill()
        proc.wait()


def test_cli_import_waits_then_reports_locked(tmp_path):
    """A second `beanflex import` while another run holds the lock: exit 1, "locked", nothing archived."""
    from beanflex.cmd_init import create_skeleton

    create_skeleton(tmp_path)
    ledger = tmp_path / "ledger"
    statement = Path(__file__).parent / "fixtures" / "foundation" / "small.xml"
    proc = hold_lock(ledger, 30)
    try:
        started = time.monotonic()
        run = subprocess.run([str(Path(sys.executable).parent / "beanflex"), "--ledger", str(ledger / "main.beancount"),
                              "import", str(statement)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "BEANFLEX_LOCK_WAIT": "0.5"})
        assert run.returncode == 1, run.stderr
        assert f"locked by another beanflex run (pid {proc.pid}); waited 0.5 s" in run.stderr
        assert time.monotonic() - started >= 0.5
        assert not (ledger / "raw").exists()
    finally:
        proc.kill()
        proc.wait()


def test_lock_wait_from_env():
    from beanflex.importers.flex.fsutil import DEFAULT_LOCK_WAIT, lock_wait_from_env

    assert lock_wait_from_env({"BEANFLEX_LOCK_WAIT": "2.5"}) == 2.5
    assert lock_wait_from_env({}) == DEFAULT_LOCK_WAIT == 30.0
