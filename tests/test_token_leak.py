"""The Flex token never leaves the environment: not in stdout, stderr, logs, the archive, runs.log, or git.

`beanflex fetch` runs against the fake service with a recognisable token, in a real child process (with -v, so
debug logging is on) and through CliRunner, for success and every failure the client knows; the installed
`beanflex` script runs as its own process for three of them. Afterwards the
whole ledger folder, and the git history of a repo holding it, are searched for the token.
"""

from __future__ import annotations

import subprocess
import sys
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


#: Runs `beanflex.cli.main()` once per case inside ONE child process, each with its own environment and with the
#: process's real file descriptors 1 and 2 pointed at per-case files, so every byte written (print, logging,
#: tracebacks) is captured. One interpreter start instead of one per case keeps this test fast.
DRIVER = """
import json, os, sys
from beanflex.cli import main
base = dict(os.environ)
for case in json.load(open(sys.argv[1])):
    os.environ.clear(); os.environ.update(base); os.environ.update(case["env"])
    sys.stdout.flush(); sys.stderr.flush()
    out = os.open(case["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved = os.dup(1), os.dup(2)
    os.dup2(out, 1); os.dup2(out, 2)
    sys.argv = ["beanflex", *case["args"]]
    try:
        main(); code = 0
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush(); sys.stderr.flush()
    os.dup2(saved[0], 1); os.dup2(saved[1], 2); os.close(out)
    open(case["out"] + ".rc", "w").write(str(code))
"""


def test_fetch_in_a_real_process_leaks_nothing(tmp_path):
    """Every case in a real child process (see DRIVER), with -v so debug logging is on."""
    import contextlib
    import json

    plan = []
    with contextlib.ExitStack() as stack:
        for name, case in CASES.items():
            case = dict(case)
            url, extra_env = case.pop("url", None), case.pop("env", {})
            flex = stack.enter_context(serve_flex(STATEMENT, **case))
            folder = tmp_path / name
            (folder / "ledger").mkdir(parents=True)
            max_wait = "5" if name in SUCCEEDS else "0.05"
            env = flex.env(**{"BEANFLEX_FLEX_TIMEOUT": "10", "BEANFLEX_FLEX_MAX_WAIT": max_wait, **extra_env})
            if url:
                env["IBKR_FLEX_URL"] = url
            plan.append({"env": env, "out": str(folder / "output.txt"),
                         "args": ["-v", "--ledger", str(folder / "ledger" / "main.beancount"), "fetch"]})
        (tmp_path / "plan.json").write_text(json.dumps(plan))
        subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path / "plan.json")], check=True, timeout=120)
    for name, step in zip(CASES, plan):
        output = Path(step["out"]).read_text()
        code = int(Path(step["out"] + ".rc").read_text())
        (tmp_path / name / "output.txt").unlink()  # not part of the ledger; checked above as `output`
        check_case(tmp_path / name, name, code, output)


@pytest.mark.parametrize("name", ["success", "fail-echoing-the-token", "no-server"])
def test_beanflex_executable_leaks_nothing(tmp_path, name):
    """The installed `beanflex` script itself, for a success and two failures."""
    code, output = run_case(tmp_path, name, "subprocess")
    check_case(tmp_path, name, code, output)


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
