"""One beanflex run at a time per ledger: a second run waits for the lock, then gives up with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

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
