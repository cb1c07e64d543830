"""The repository root is a ready workspace: `ledger/`, `labels.yaml`, `strategies.yaml` and `notes/` exactly as
`beanflex init` writes them (so no personal data, and no drift from the skeleton), and `beanflex check` finds it sound."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from beanflex.cmd_init import create_skeleton

ROOT = Path(__file__).resolve().parents[1]


def _files(root: Path) -> dict[str, bytes]:
    found = {}
    for place in ("ledger", "labels.yaml", "strategies.yaml", "notes"):
        path = root / place
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            found[str(file.relative_to(root))] = file.read_bytes()
    return found


def test_root_workspace_is_the_init_skeleton(tmp_path):
    create_skeleton(tmp_path)
    assert _files(ROOT) == _files(tmp_path)


def test_beanflex_check_passes_on_a_copy_of_the_root_workspace(tmp_path):
    for place in ("ledger", "labels.yaml", "strategies.yaml", "notes"):
        source = ROOT / place
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, tmp_path / place)
    beanflex = str(Path(sys.executable).parent / "beanflex")  # run from the workspace, with no --ledger
    run = subprocess.run([beanflex, "check"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "0 error(s)" in run.stdout
