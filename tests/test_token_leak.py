"""The Flex token never leaves the environment: not in stdout, stderr, logs, the archive, runs.log, or git.

`beanflex fetch` runs against the fake service with a recognisable token, once as a real subprocess (with -v, so
debug logging is on) and once through CliRunner, for success and every failure the client knows. Afterwards the
whole ledger folder, and the git history of a repo holding it, are searched for the token.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.importers.flex import client
from fake_flex_service import (
    TOKEN, Reply, dropped, empty, fail, html_404, serve_flex, slow, truncated, warn,
)

STATEMENT = (Path(__file__).parent / "fixtures" / "foundation" / "small.xml").read_bytes()
BEANFLEX = str(Path(sys.executable).parent / "beanflex")

CASES = {
    "success": {},
    "warn-then-success": {"get_replies": [warn(1019)] * 2},
    **{f"fail-{code}": {"send_replies": [fail(int(code), "Request failed.")]} for code in sorted(client.FAIL_HINTS)},
    "fail-echoing-the-token": {"send_replies": [fail(1015, f"Token {TOKEN} is invalid.")]},
    "fail-on-get": {"get_replies": [fail(1003, "Statement is not available.")]},
    "html-404": {"send_replies": [html_404()]},
    "empty": {"get_replies": [empty()]},
    "truncated": {"get_replies": [truncated(STATEMENT)]},
    "retries-exhausted": {"get_replies": [warn(1019)] * 50},
    "timeouts-then-success": {"send_replies": [slow(1.5)], "env": {"BEANFLEX_FLEX_TIMEOUT": "0.5"}},
    "timeouts-exhausted": {"send_replies": [slow(1.5)] * 3, "env": {"BEANFLEX_FLEX_TIMEOUT": "0.5",
                                                                    "BEANFLEX_FLEX_MAX_WAIT": "0.01"}},
    "dropped": {"send_replies": [dropped()] * 20},
    "no-server": {"url": "http://127.0.0.1:9/AccountManagement/FlexWebService/SendRequest"},
}


SUCCEEDS = ("success", "warn-then-success", "timeouts-then-success")


def run_case(tmp_path: Path, name: str, how: str) -> tuple[int, str]:
    case = dict(CASES[name])
    url = case.pop("url", None)
    extra_env = case.pop("env", {})
    ledger = tmp_path / "ledger"
    ledger.mkdir(exist_ok=True)
    args = ["-v", "--ledger", str(ledger / "main.beancount"), "fetch"]
    with serve_flex(STATEMENT, **case) as flex:
        # Generous timeout and, for the cases that must succeed, wait: the machine may be busy (slow, not wrong).
        max_wait = "5" if name in SUCCEEDS else "0.05"
        env = flex.env(**{"BEANFLEX_FLEX_TIMEOUT": "10", "BEANFLEX_FLEX_MAX_WAIT": max_wait, **extra_env})
        if url:
            env["IBKR_FLEX_URL"] = url
        if how == "subprocess":
            proc = subprocess.run([BEANFLEX, *args], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                                  text=True, timeout=60)
            return proc.returncode, proc.stdout + proc.stderr
        result = CliRunner().invoke(cli, args, env=env)
        output = result.output + (repr(result.exception) if result.exception else "")
        return result.exit_code, output


def leaks_in_folder(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


def check_case(folder: Path, name: str, code: int, output: str) -> None:
    assert code == (0 if name in SUCCEEDS else 1), (name, output)
    assert TOKEN not in output, name
    if code:
        errors = [line for line in output.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and "Traceback" not in output, (name, output)
    else:
        assert "/raw/U1234567/2024/" in output
    assert (folder / "ledger" / "runs.log").is_file()
    assert leaks_in_folder(folder) == [], name


@pytest.mark.parametrize("name", list(CASES))
def test_clirunner_fetch_leaks_nothing(tmp_path, name):
    code, output = run_case(tmp_path, name, "clirunner")
    check_case(tmp_path, name, code, output)


def test_subprocess_fetch_leaks_nothing(tmp_path):
    """Every case as a real `beanflex -v fetch` process (run side by side: each start costs ~0.5 s of imports)."""
    folders = {name: tmp_path / name for name in CASES}
    for folder in folders.values():
        folder.mkdir()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(CASES, pool.map(lambda n: run_case(folders[n], n, "subprocess"), CASES)))
    for name, (code, output) in results.items():
        check_case(folders[name], name, code, output)


def test_token_is_not_in_git_history(tmp_path):
    for name in CASES:
        code, output = run_case(tmp_path, name, "clirunner")
        assert TOKEN not in output
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "ledger"], check=True)
    subprocess.run([*git, "commit", "-qm", "nightly"], check=True)
    history = subprocess.run([*git, "log", "-p", "--all", "--format=%H %s%n%b"], check=True, capture_output=True,
                             text=True).stdout
    assert "runs.log" in history and ".xml" in history  # the history does hold the run record and the archive
    assert TOKEN not in history
    grep = subprocess.run([*git, "grep", "-I", "-F", TOKEN, "HEAD"], capture_output=True, text=True)
    assert grep.returncode == 1 and grep.stdout == ""
