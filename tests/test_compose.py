"""The deployment files hold together: compose services, the CLI commands they name, one published port, no token.

Also runs the cron wrapper, the scheduler's argument check and the backfill helper with a stand-in `beanflex`
(a tiny script that records its arguments), so their environment, logging, ordering and exit codes are tested for
real. Where a Docker daemon answers, the image is built; without one that test is skipped and says why.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from beanflex.cli import cli

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SCRIPTS = ["beanflex-cron", "beanflex-scheduler", "backfill"]
#: Every deployment file that names beanflex commands or could leak a token.
DEPLOY_FILES = ["Dockerfile", ".dockerignore", "docker-compose.yml", "deploy/Caddyfile", "deploy/env.example",
                "scripts/crontab.example", "docs/flex-query-setup.md"] + [f"scripts/{s}" for s in SCRIPTS]
TOKEN = "tok-BEANFLEX-SECRET-5ab1e7c0ffee"  # the fake service's token (tests/fake_flex_service.py)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_exist(compose):
    assert set(compose["services"]) == {"fava", "scheduler", "proxy"}


def test_only_the_proxy_publishes_a_port(compose):
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"proxy"}
    assert compose["services"]["proxy"]["ports"] == ["${BEANFLEX_HTTP_PORT:-8080}:80"]
    # Fava is on the internal network only, which has no route out and no published port.
    assert compose["services"]["fava"]["networks"] == ["internal"]
    assert compose["networks"]["internal"] == {"internal": True}
    assert all("network_mode" not in svc for svc in compose["services"].values())


def test_proxy_authenticates_and_points_at_fava(compose):
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(r"^\s*basic_auth\s*\{", caddyfile, re.M)
    assert "{$BEANFLEX_AUTH_USER} {$BEANFLEX_AUTH_HASH}" in caddyfile
    target = re.search(r"^\s*reverse_proxy\s+(\S+):(\d+)\s*$", caddyfile, re.M)
    assert target, "Caddyfile has no reverse_proxy host:port"
    host, port = target.groups()
    fava = compose["services"][host]
    command = fava["command"]
    assert command[command.index("--port") + 1] == port
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert port in [str(p) for p in fava["expose"]]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in compose["services"]["proxy"]["volumes"]


def test_token_comes_from_a_secret_file_only(compose):
    scheduler = compose["services"]["scheduler"]
    assert scheduler["environment"]["IBKR_FLEX_TOKEN_FILE"] == "/run/secrets/ibkr_flex_token"
    assert scheduler["secrets"] == ["ibkr_flex_token"]
    assert compose["secrets"]["ibkr_flex_token"] == {"file": "./deploy/secrets/ibkr_flex_token"}
    for name, svc in compose["services"].items():
        env = svc.get("environment") or {}
        assert "IBKR_FLEX_TOKEN" not in env, f"{name} sets the token in compose"
        if name != "scheduler":
            assert not svc.get("secrets"), f"only the scheduler needs the token, not {name}"
    # The real env file and the secret never enter git or the image.
    assert set((ROOT / "deploy" / ".gitignore").read_text().split()) >= {"env", "secrets/"}
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert {"deploy", "secrets", ".env*", "*.env", "ledger"} <= set(dockerignore)


def test_no_token_in_any_deployment_file():
    token_assignment = re.compile(r"(?<![{$\w])IBKR_FLEX_TOKEN[ \t]*[=:][ \t]*['\"]?([^\s'\"$]+)")
    for rel in DEPLOY_FILES:
        text = (ROOT / rel).read_text()
        assert TOKEN not in text, rel
        for match in token_assignment.finditer(text):
            pytest.fail(f"{rel} assigns a token value {match.group(0)[:24]}…")
        assert not re.search(r"^\s*(ENV|ARG)\s+IBKR_FLEX_TOKEN", text, re.M), rel


def test_dockerfile_is_slim_non_root_and_copies_no_secrets():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.M)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    copied = re.findall(r"^COPY\s+(.+?)\s+\S+\s*$", text, re.M)
    assert copied == ["pyproject.toml README.md", "beanflex", "contract", "importers", "engine", "plugins", "reports",
                      "fava_ext", "scripts"]
    assert "IBKR_FLEX" not in text


def test_dockerfile_copies_everything_the_package_build_needs():
    """pip install . inside the image sees only the COPY'd paths: every package folder and the readme."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    copied = set(" ".join(re.findall(r"^COPY\s+(.+?)\s+\S+\s*$", (ROOT / "Dockerfile").read_text(), re.M)).split())
    assert project["project"]["readme"] in copied
    assert "pyproject.toml" in copied
    for package, folder in project["tool"]["setuptools"]["package-dir"].items():
        assert folder.split("/")[0] in copied, f"{package} lives in {folder}, which the image does not copy"
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert not copied & ignored, "the Dockerfile copies a path .dockerignore keeps out"


def _beanflex_invocations() -> list[tuple[str, list[str]]]:
    """(where, argv after `beanflex`) for every beanflex command the deployment runs."""
    found = []
    compose = yaml.safe_load(COMPOSE.read_text())
    for name, svc in compose["services"].items():
        command = svc.get("command") or []
        if command and command[0] == "beanflex":
            found.append((f"docker-compose.yml:{name}", list(command[1:])))
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", (ROOT / "Dockerfile").read_text(), re.M)
    argv = yaml.safe_load(cmd.group(1))
    assert argv[0] == "beanflex"
    found.append(("Dockerfile:CMD", argv[1:]))
    for script in SCRIPTS:
        for number, line in enumerate((ROOT / "scripts" / script).read_text().splitlines(), 1):
            code = line.split(" #", 1)[0].strip()
            if code.startswith("#") or code.startswith("echo") or code.startswith("msg="):
                continue
            for match in re.finditer(r"(?:^|[\s(|;&])beanflex\s+(?:\"\$@\"\s+)?([a-z][a-z_-]*)\b([^|;&)\n]*)", code):
                words = [w for w in shlex.split(match.group(2)) if not re.match(r"\$|\d*[<>]", w)]
                found.append((f"scripts/{script}:{number}", [match.group(1), *words]))
    return found  # `beanflex "$@" import …` (global options passed through, scripts/backfill) counts as `import`


def test_every_beanflex_command_named_exists_with_its_options():
    invocations = _beanflex_invocations()
    subcommands = {argv[0] for _, argv in invocations}
    # The deployment runs these; a missing one would fail only at night, in a container.
    assert {"serve", "sync", "init", "import"} <= subcommands
    global_opts = {opt for param in cli.params for opt in getattr(param, "opts", [])}
    for where, argv in invocations:
        assert argv[0] in cli.commands, f"{where}: 'beanflex {argv[0]}' is not a beanflex command"
        command = cli.commands[argv[0]]
        known = global_opts | {opt for param in command.params for opt in getattr(param, "opts", [])
                               + getattr(param, "secondary_opts", [])}
        for word in argv[1:]:
            if word.startswith("-"):
                assert word.split("=")[0] in known, f"{where}: 'beanflex {argv[0]}' has no option {word}"


def test_other_service_commands_are_scripts_on_the_image_path(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"PATH=/opt/beanflex/scripts:\$PATH", dockerfile)
    assert re.search(r"^COPY scripts \./scripts$", dockerfile, re.M) and "WORKDIR /opt/beanflex" in dockerfile
    for name, svc in compose["services"].items():
        command = svc.get("command") or []
        if command and command[0] != "beanflex":
            assert (ROOT / "scripts" / command[0]).is_file(), f"{name} runs {command[0]}, not in scripts/"
    assert compose["services"]["scheduler"]["command"] == ["beanflex-scheduler"]


def test_scripts_are_executable_bash():
    for script in SCRIPTS:
        path = ROOT / "scripts" / script
        assert path.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, script


# ---- the scripts, run with a stand-in `beanflex` ------------------------------------------------------------

FAKE_BEANFLEX = """#!/usr/bin/env bash
# Records its arguments and selected environment, then behaves as FAKE_RC/FAKE_OUT say.
printf '%s\\n' "$*" >> "$FAKE_CALLS"
printf 'QUERY=%s TOKEN_FILE=%s LEDGER=%s\\n' "${IBKR_FLEX_QUERY_ID:-}" "${IBKR_FLEX_TOKEN_FILE:-}" \\
  "${BEANFLEX_LEDGER:-}" >> "$FAKE_CALLS"
[ -n "${FAKE_OUT:-}" ] && printf '%s\\n' "$FAKE_OUT"
exit "${FAKE_RC:-0}"
"""


@pytest.fixture
def fake_venv(tmp_path) -> Path:
    """A folder shaped like a virtualenv: bin/beanflex is the stand-in, bin/python runs the real interpreter."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "beanflex").write_text(FAKE_BEANFLEX)
    (bin_dir / "beanflex").chmod(0o755)
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    return tmp_path / "venv"


def _script_env(tmp_path: Path, venv: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "BEANFLEX_VENV": str(venv),
           "FAKE_CALLS": str(tmp_path / "calls.txt"), "BEANFLEX_LOG": str(tmp_path / "logs" / "sync.log")}
    env.update(extra)
    return env


def test_cron_wrapper_reads_env_file_as_data_logs_and_stays_quiet_on_success(tmp_path, fake_venv):
    marker = tmp_path / "executed"
    env_file = tmp_path / "env"
    env_file.write_text(f"# settings\nexport IBKR_FLEX_QUERY_ID=123456\nIBKR_FLEX_TOKEN_FILE='/run/tok'\n"
                        f"BEANFLEX_LEDGER=\"/srv/ledger/main.beancount\"\nEVIL=$(touch {marker})\n")
    env_file.chmod(0o600)
    env = _script_env(tmp_path, fake_venv, BEANFLEX_ENV_FILE=str(env_file), FAKE_OUT="sync: committed abc123")
    proc = subprocess.run([str(ROOT / "scripts" / "beanflex-cron"), "--quiet"], env=env, capture_output=True,
                          text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    settings = "QUERY=123456 TOKEN_FILE=/run/tok LEDGER=/srv/ledger/main.beancount"
    assert calls == ["sync --quiet", settings, "-q snapshot", settings]  # after a good sync: the P&L snapshot
    assert not marker.exists(), "the env file was executed, not read as data"
    log = (tmp_path / "logs" / "sync.log").read_text()
    assert re.search(r"Z sync start \(pid \d+\)\n.*Z \| sync: committed abc123\n.*Z sync end: exit 0\n$", log)


def test_cron_wrapper_prints_the_failure_masks_the_token_and_keeps_the_exit_code(tmp_path, fake_venv):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    env = _script_env(tmp_path, fake_venv, IBKR_FLEX_TOKEN_FILE=str(token_file), FAKE_RC="1",
                      FAKE_OUT=f"Error: SendRequest refused: IBKR Fail 1015 (t={TOKEN})")
    proc = subprocess.run([str(ROOT / "scripts" / "beanflex-cron")], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == "Error: SendRequest refused: IBKR Fail 1015 (t=***)\n"
    log = (tmp_path / "logs" / "sync.log").read_text()
    assert TOKEN not in log and "(t=***)" in log and "sync end: exit 1" in log
    assert "snapshot" not in (tmp_path / "calls.txt").read_text()  # a failed sync leaves the snapshot alone


def test_cron_wrapper_without_beanflex_says_how_to_fix(tmp_path):
    env = _script_env(tmp_path, tmp_path / "no-venv")
    proc = subprocess.run([str(ROOT / "scripts" / "beanflex-cron")], env=env, capture_output=True, text=True)
    assert proc.returncode == 127
    assert "set BEANFLEX_VENV" in proc.stderr


def test_scheduler_rejects_a_bad_time(tmp_path, fake_venv):
    env = _script_env(tmp_path, fake_venv, BEANFLEX_SYNC_AT="7:30", BEANFLEX_HOME=str(tmp_path / "data"))
    proc = subprocess.run([str(ROOT / "scripts" / "beanflex-scheduler")], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "BEANFLEX_SYNC_AT must be HH:MM" in proc.stderr
    assert not (tmp_path / "calls.txt").exists()


def test_scheduler_first_start_inits_the_ledger_and_git_then_syncs_and_sleeps(tmp_path, fake_venv):
    data = tmp_path / "data"
    data.mkdir()
    env = _script_env(tmp_path, fake_venv, BEANFLEX_HOME=str(data), BEANFLEX_SYNC_AT="03:15",
                      BEANFLEX_SYNC_ON_START="1", TZ="UTC", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    env["PATH"] = f"{fake_venv / 'bin'}:/usr/bin:/bin"
    proc = subprocess.Popen([str(ROOT / "scripts" / "beanflex-scheduler")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:  # ends when it says when the next run is, then it sleeps until then
            lines.append(line.rstrip("\n"))
            if line.startswith("beanflex-scheduler: next sync at "):
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    calls = (tmp_path / "calls.txt").read_text().splitlines()[::2]
    assert calls == [f"init {data}", "sync", "-q snapshot"]  # the scheduler runs beanflex-cron: snapshot after sync
    assert (data / ".git").is_dir()
    assert lines[0] == f"beanflex-scheduler: no ledger in {data} yet: running 'beanflex init {data}'"
    assert re.fullmatch(r"beanflex-scheduler: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ sync exit 0", lines[-2])
    assert re.fullmatch(r"beanflex-scheduler: next sync at \d{4}-\d\d-\d\d 03:15 UTC", lines[-1])


def _statement(from_date: str, to_date: str) -> str:
    return (f'<FlexQueryResponse queryName="q" type="AF"><FlexStatements count="1">'
            f'<FlexStatement accountId="U1" fromDate="{from_date}" toDate="{to_date}" period="Custom">'
            f'<Trades/></FlexStatement></FlexStatements></FlexQueryResponse>\n')


def test_backfill_imports_in_statement_date_order(tmp_path, fake_venv):
    folder = tmp_path / "downloads"
    folder.mkdir()
    # File names sort the other way round on purpose: the statement's own fromDate decides.
    (folder / "a_latest.xml").write_text(_statement("20240101", "20241231"))
    (folder / "b_middle.xml").write_text(_statement("2023-01-01", "2023-12-31"))
    (folder / "c_oldest.xml").write_text(_statement("20220103", "20221230"))
    env = _script_env(tmp_path, fake_venv, PATH=f"{fake_venv / 'bin'}:/usr/bin:/bin")
    proc = subprocess.run([str(ROOT / "scripts" / "backfill"), str(folder)], env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    imports = [line for line in (tmp_path / "calls.txt").read_text().splitlines() if line.startswith("import")]
    assert imports == [f"import {folder / 'c_oldest.xml'}", f"import {folder / 'b_middle.xml'}",
                       f"import {folder / 'a_latest.xml'}"]
    assert "imported 3 file(s)" in proc.stdout


def test_backfill_stops_at_the_first_failure_with_its_exit_code(tmp_path, fake_venv):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "2023.xml").write_text(_statement("20230101", "20231231"))
    (folder / "2024.xml").write_text(_statement("20240101", "20241231"))
    env = _script_env(tmp_path, fake_venv, FAKE_RC="1")
    proc = subprocess.run([str(ROOT / "scripts" / "backfill"), str(folder)], env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert f"stopped at {folder / '2023.xml'} (exit 1); 0 file(s) imported before it" in proc.stderr
    assert (tmp_path / "calls.txt").read_text().count("import ") == 1


def test_backfill_refuses_a_folder_with_a_non_statement(tmp_path, fake_venv):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "2024.xml").write_text(_statement("20240101", "20241231"))
    (folder / "notes.xml").write_text("<html/>")
    env = _script_env(tmp_path, fake_venv)
    proc = subprocess.run([str(ROOT / "scripts" / "backfill"), str(folder)], env=env, capture_output=True,
                          text=True)
    assert proc.returncode != 0
    # The adapter's own refusal, naming the file (its wording is the adapter's business).
    assert proc.stderr.startswith(f"backfill: {folder / 'notes.xml'}: ")
    assert not (tmp_path / "calls.txt").exists(), "nothing is imported when one file is not a statement"


def test_backfill_passes_global_options_before_the_subcommand(tmp_path):
    """`--ledger X` is a global option: the real beanflex refuses it after `import` (click usage error, exit 2)."""
    ledger = tmp_path / "books"
    subprocess.run([str(ROOT / ".venv" / "bin" / "beanflex"), "init", str(ledger)], check=True,
                   capture_output=True)
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "2024.xml").write_text(_statement("20240101", "20241231"))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "BEANFLEX_VENV": str(ROOT / ".venv")}
    main = ledger / "ledger" / "main.beancount"
    proc = subprocess.run([str(ROOT / "scripts" / "backfill"), str(folder), "--ledger", str(main)], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "imported 1 file(s)" in proc.stdout
    assert list((ledger / "ledger" / "raw").rglob("20240101_20241231_q_*.xml")), "the statement was archived"


def test_setup_docs_say_how_the_container_user_reads_the_token_and_how_to_hash_without_starting_fava():
    """The secret file is bind-mounted with its host owner/mode and the container runs as uid 1000 (Dockerfile);
    `proxy` depends on `fava`, so `compose run` without --no-deps would start Fava just to hash a password."""
    assert re.search(r"useradd\b.*--uid 1000\b", (ROOT / "Dockerfile").read_text())
    for name in ["docs/flex-query-setup.md", "docker-compose.yml"]:
        text = (ROOT / name).read_text()
        assert "chown 1000 deploy/secrets/ibkr_flex_token" in text, name
    for name in ["docs/flex-query-setup.md", "docker-compose.yml", "deploy/Caddyfile", "deploy/env.example"]:
        text = re.sub(r"\s+", " ", (ROOT / name).read_text())
        runs = re.findall(r"docker compose run [^`\n]*?caddy hash-password", text)
        assert runs, f"{name} does not say how to make the hash"
        assert all("--no-deps" in run for run in runs), (name, runs)


# ---- Docker, where a daemon answers ---------------------------------------------------------------------------

def _docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "no docker command on PATH"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                              text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "the Docker daemon did not answer within 20 s"
    if info.returncode != 0 or not info.stdout.strip():
        return f"no Docker daemon answers: {(info.stderr or info.stdout).strip().splitlines()[-1:]}"
    return None


@pytest.mark.skipif(_docker_unavailable() is not None, reason=f"Docker image build not run: {_docker_unavailable()}")
def test_image_builds_and_has_beanflex():
    tag = "beanflex:test-compose"
    build = subprocess.run(["docker", "build", "-q", "-t", tag, str(ROOT)], capture_output=True, text=True,
                           timeout=900)
    assert build.returncode == 0, build.stderr[-2000:]
    run = subprocess.run(["docker", "run", "--rm", tag, "beanflex", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "sync" in run.stdout
    whoami = subprocess.run(["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, timeout=60)
    assert whoami.stdout.strip() == "1000"
