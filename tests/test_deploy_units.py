"""Deployment without Docker (systemd units) and the compose file's health checks and log rotation.

The units are read back: parsed here (sections, keys, the token only as a credential file, the commands beanflex
has) and checked by `systemd-analyze verify` with the install paths pointed at this checkout. The cron wrapper's
log rotation runs for real with the stand-in `beanflex` of test_compose.py.
"""

from __future__ import annotations

import collections
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from beanflex.cli import cli
from test_compose import ROOT, TOKEN, _script_env, fake_venv  # noqa: F401 - fake_venv is a fixture

UNITS = ROOT / "deploy" / "systemd"
NAMES = ("beanflex-serve.service", "beanflex-sync.service", "beanflex-sync.timer")


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, raw in enumerate((UNITS / name).read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], collections.defaultdict(list))
            continue
        assert current is not None and "=" in line, f"{name}:{number}: not a key=value line: {raw!r}"
        key, value = line.split("=", 1)
        current[key.strip()].append(value.strip())
    return sections


def test_units_parse_and_run_what_they_say():
    serve, sync, timer = (unit(n) for n in NAMES)
    argv = shlex.split(serve["Service"]["ExecStart"][0])
    assert argv[0] == "/opt/beanflex/.venv/bin/beanflex" and argv[1] == "serve"
    serve_options = {o for p in cli.commands["serve"].params for o in getattr(p, "opts", [])}
    assert {w for w in argv[2:] if w.startswith("-")} <= serve_options
    assert argv[argv.index("--host") + 1] == "127.0.0.1"  # never on all interfaces without a proxy
    assert serve["Install"]["WantedBy"] == ["multi-user.target"] and serve["Service"]["User"] == ["beanflex"]
    # sync: the cron wrapper (log + rotation + mail-on-failure), the token as a systemd credential only
    assert sync["Service"]["Type"] == ["oneshot"]
    assert shlex.split(sync["Service"]["ExecStart"][0])[0] == "/opt/beanflex/scripts/beanflex-cron"
    assert sync["Service"]["LoadCredential"] == ["ibkr_flex_token:/etc/beanflex/ibkr_flex_token"]
    env = dict(e.split("=", 1) for e in sync["Service"]["Environment"])
    assert env["IBKR_FLEX_TOKEN_FILE"] == "%d/ibkr_flex_token"  # %d: the unit's credentials directory
    assert "IBKR_FLEX_TOKEN" not in env and env["BEANFLEX_VENV"] == "/opt/beanflex/.venv"
    assert timer["Timer"]["Unit"] == ["beanflex-sync.service"] and timer["Timer"]["Persistent"] == ["true"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    for spec in timer["Timer"]["OnCalendar"]:
        assert re.fullmatch(r"\*-\*-\* ([01]\d|2[0-3]):[0-5]\d:00", spec), spec
    for name in NAMES:
        assert TOKEN not in (UNITS / name).read_text() and "IBKR_FLEX_TOKEN=" not in (UNITS / name).read_text()


def test_systemd_analyze_verifies_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # the parse test above still reads every line; this adds systemd's own reading
        pytest.skip("systemd-analyze is not installed here")
    for name in NAMES:  # systemd checks that ExecStart is executable: point the install path at this checkout
        (tmp_path / name).write_text((UNITS / name).read_text().replace("/opt/beanflex", str(ROOT)))
    done = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in NAMES)], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stderr.strip(), done.stdout.strip()) == (0, "", "")
    for spec in unit("beanflex-sync.timer")["Timer"]["OnCalendar"]:
        assert subprocess.run([analyze, "calendar", spec], capture_output=True, timeout=60).returncode == 0


def test_docs_say_how_to_install_the_units():
    doc = (ROOT / "docs" / "systemd.md").read_text()
    for needle in ("systemctl enable --now beanflex-serve.service beanflex-sync.timer", "/etc/beanflex/ibkr_flex_token",
                   "chmod 600", "journalctl -u beanflex-sync", *NAMES):
        assert needle in doc, needle
    assert "docs/systemd.md" in (ROOT / "README.md").read_text()


def test_compose_has_health_checks_for_fava_and_the_proxy():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    fava = " ".join(services["fava"]["healthcheck"]["test"])
    assert "http://127.0.0.1:5000/" in fava and services["fava"]["healthcheck"]["start_period"]
    assert "127.0.0.1:2019" in " ".join(services["proxy"]["healthcheck"]["test"])  # Caddy's admin API
    assert services["proxy"]["depends_on"]["fava"]["condition"] == "service_healthy"


def test_cron_wrapper_rotates_the_sync_log(tmp_path, fake_venv):  # noqa: F811
    log = tmp_path / "logs" / "sync.log"
    log.parent.mkdir()
    log.write_text("x" * 2000)
    (tmp_path / "logs" / "sync.log.1").write_text("older\n")
    env = _script_env(tmp_path, fake_venv, BEANFLEX_LOG_MAX_BYTES="1000", BEANFLEX_LOG_KEEP="2")
    wrapper = str(ROOT / "scripts" / "beanflex-cron")
    assert subprocess.run([wrapper], env=env, capture_output=True, timeout=60).returncode == 0
    # 2000 bytes >= 1000: sync.log -> .1, the old .1 -> .2; the new log holds this run only
    assert (tmp_path / "logs" / "sync.log.1").read_text() == "x" * 2000
    assert (tmp_path / "logs" / "sync.log.2").read_text() == "older\n"
    assert "sync start" in log.read_text() and len(log.read_text()) < 1000
    assert subprocess.run([wrapper], env=env, capture_output=True, timeout=60).returncode == 0
    assert (tmp_path / "logs" / "sync.log.2").read_text() == "older\n"  # below the limit: no rotation
    log.write_text("y" * 1500)
    assert subprocess.run([wrapper], env=env, capture_output=True, timeout=60).returncode == 0
    # KEEP=2: .1 (the x's) moves to .2, "older" is dropped; there is never a .3
    assert (tmp_path / "logs" / "sync.log.2").read_text() == "x" * 2000
    assert not (tmp_path / "logs" / "sync.log.3").exists()
