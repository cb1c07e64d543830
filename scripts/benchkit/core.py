"""What every benchmark step shares: the tools, one measured child process, and one table row.

Ratios compare `METRIC` (CPU seconds by default, set by `scripts/bench --metric`); see `scripts/bench --help`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TARGETS = {"P1": 1.0, "P2": 1.15, "P3": 1.3, "P4": 2.0, "P6": 1.2, "P7": 1.0, "S": 1.3, "T": 1.3}
#: Steps whose ratio compares peak memory (MB), not time.
MEMORY_STEPS = ("P7",)
METRIC = "cpu_seconds"  # or "seconds" (wall-clock), set by --metric


def tools_dir() -> Path:
    """The bin/ that holds beanflex and bean-check: this interpreter's, else the repo's .venv, else PATH."""
    for candidate in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        if (candidate / "beanflex").exists() and (candidate / "bean-check").exists():
            return candidate
    found = shutil.which("beanflex")
    if not found:
        sys.exit("bench: no `beanflex` command found; install the package (pip install -e .) or use its venv")
    return Path(found).parent


BIN = tools_dir()
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
ENV = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1", "PYTHONHASHSEED": "0"}


def run(cmd: list[str], cwd: Path, stdout: Path | None = None, env: dict | None = None) -> dict:
    """Run one command in a child process; wall seconds, CPU seconds, peak RSS in MB, exit code, stderr tail."""
    with tempfile.TemporaryFile() as err, open(stdout or os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env or ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
        tail = text.strip().splitlines()[-6:]
    shown = " ".join(Path(c).name if i == 0 else c.strip().replace("\n", "; ") for i, c in enumerate(cmd))
    return {"cmd": shown if len(shown) < 300 else shown[:297] + "...", "seconds": round(seconds, 3),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3), "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "returncode": proc.returncode, "stderr_tail": tail, "traceback": "Traceback (most recent" in text}


def best(cmd: list[str], cwd: Path, repeat: int, before=None, stdout: Path | None = None,
         env: dict | None = None) -> dict:
    """The fastest of `repeat` runs (machines here are noisy); `before()` resets state before each run."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(run(cmd, cwd, stdout, env))
        if runs[-1]["returncode"]:
            return runs[-1]
    return min(runs, key=lambda r: r[METRIC])


def check(main: Path, cwd: Path, repeat: int) -> dict:
    """`bean-check -C MAIN`. Exit 1 without a traceback means the ledger loaded and has errors (e.g. the reconcile
    plugin's differences with IBKR): the load ran in full, so it is measured, and `ledger_errors` says so."""
    result = best([str(BIN / "bean-check"), "-C", str(main)], cwd, repeat)
    if result["returncode"] == 1 and not result["traceback"]:
        result["returncode"], result["ledger_errors"] = 0, True
    return result


def placeholder_reason(*words: str) -> str | None:
    """Why `beanflex WORDS` can't be measured (missing or still 'Not built yet'), or None when it is there."""
    probe = subprocess.run([str(BIN / "beanflex"), *words, "--help"], capture_output=True, text=True, env=ENV)
    if probe.returncode != 0:
        return f"`beanflex {' '.join(words)}` does not exist yet"
    if "not built yet" in probe.stdout.lower():
        return f"`beanflex {' '.join(words)}` is still a placeholder"
    return None


def importable(module: str, env: dict | None = None) -> bool:
    return subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True, env=env or ENV).returncode == 0


def row(n: int, step: str, name: str, subject: dict | None, baseline: dict | None, note: str = "") -> dict:
    """One table row; status ok / failed / not available / baseline missing, ratio = subject / baseline."""
    result = {"n": n, "step": step, "name": name, "subject": subject, "baseline": baseline,
              "target": TARGETS.get(step), "ratio": None, "mem_ratio": None, "meets_target": None, "note": note}
    failed = [r for r in (subject, baseline) if r and r["returncode"]]
    if subject is None:
        result["status"] = "not available"
    elif failed:
        result["status"] = "failed"
        result["note"] = (note + " " if note else "") + " | ".join(failed[0]["stderr_tail"][-3:])
    elif baseline is None:
        result["status"] = "ok" if step in ("G", "R") else "baseline missing"
    else:
        result["status"] = "ok"
        key = "max_rss_mb" if step in MEMORY_STEPS else METRIC
        result["ratio"] = round(subject[key] / max(baseline[key], 1e-9), 3)
        result["wall_ratio"] = round(subject["seconds"] / max(baseline["seconds"], 1e-9), 3)
        result["mem_ratio"] = round(subject["max_rss_mb"] / max(baseline["max_rss_mb"], 1e-9), 3)
        result["meets_target"] = result["ratio"] <= result["target"] if result["target"] else None
    if any(r and r.get("ledger_errors") for r in (subject, baseline)):
        result["note"] = (result["note"] + "; " if result["note"] else "") + \
            "bean-check exits 1: the ledger has reconcile differences (see R)"
    return result
