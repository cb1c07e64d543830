"""Small edges a new user meets: the beangulp `import.py` example, and the demo's hints naming a command that runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from samples import sample

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "import.py"
BIN = Path(sys.executable).parent


def test_the_import_py_example_identifies_extracts_and_deduplicates(tmp_path):
    statement = sample("ib-flex-reader__kmi.xml")
    python = [sys.executable, str(EXAMPLE)]
    identify = subprocess.run([*python, "identify", str(statement)], capture_output=True, text=True, timeout=120)
    assert identify.returncode == 0 and "beanflex.flex" in identify.stdout
    extract = subprocess.run([*python, "extract", str(statement)], capture_output=True, text=True, timeout=120)
    assert extract.returncode == 0, extract.stderr
    # the same directives `beanflex import` writes, flex_id and all (kmi: 16 rows, all mapped)
    ids = re.findall(r'^\s+flex_id: "([^"]+)"', extract.stdout, re.M)
    assert len(ids) == len(set(ids)) >= 10 and all(i.startswith("U12345678/") for i in ids)
    # against a ledger that already holds the statement, every transaction is marked a duplicate (commented out)
    subprocess.run([str(BIN / "beanflex"), "init", str(tmp_path)], check=True, capture_output=True, timeout=120)
    main = tmp_path / "ledger" / "main.beancount"
    subprocess.run([str(BIN / "beanflex"), "--ledger", str(main), "import", str(statement)], check=True,
                   capture_output=True, timeout=120)
    again = subprocess.run([*python, "extract", "-e", str(main), str(statement)], capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
    assert re.findall(r"^\d{4}-\d\d-\d\d \*", again.stdout, re.M) == []  # no transaction left uncommented
    assert len(re.findall(r"^; \d{4}-\d\d-\d\d \*", again.stdout, re.M)) >= 10


def test_the_demo_names_the_command_as_it_can_be_run(tmp_path):
    """Run as .venv/bin/beanflex with the venv not on PATH (what scripts/demo does), the hints say that path; with
    it on PATH, plain `beanflex`."""
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    venv_bin = os.path.relpath(BIN / "beanflex", tmp_path)
    done = subprocess.run([venv_bin, "demo", "d1"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"Browse it:   {venv_bin} --ledger {tmp_path / 'd1' / 'ledger' / 'main.beancount'} serve" in done.stderr
    on_path = subprocess.run(["beanflex", "demo", "d2"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"})
    assert on_path.returncode == 0, on_path.stderr
    assert "Browse it:   beanflex --ledger " in on_path.stderr
