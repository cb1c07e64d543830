"""The folders are the layers of DESIGN §1, and imports only run down them (README "Architecture").

importers/ and engine/ never meet except through the ledger text and contract/; plugins/ are thin over engine/;
the CLI (beanflex/) and the Fava extension (fava_ext/) reach the numbers through reports/ only. Read from the
source with `ast`, so an import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: folder -> the beanflex layers its modules may import (besides their own folder)
ALLOWED = {
    "contract": set(),
    "importers": {"contract"},
    "engine": {"contract"},
    "plugins": {"contract", "engine"},
    "reports": {"contract", "engine"},
    "fava_ext": {"contract", "reports"},
    "beanflex": {"contract", "importers", "reports"},
}
#: Single modules a layer may import beyond ALLOWED, each for one reason. The Upload page runs the CLI's own
#: import (beanflex.upload over ingest.import_files: one function for both), and the pages' label and note edits
#: write the workspace files as `beanflex note` does (beanflex.edits: the lock, atomic writes, the git commit), and
#: the Import health page counts what `beanflex check` counts in the raw archive (beanflex.findings).
EXCEPTIONS = {"fava_ext": {"beanflex.upload", "beanflex.edits", "beanflex.findings"}}


def _layer_of_import(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "beanflex":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "beanflex"


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "beanflex":  # `from beanflex import reports` names a layer
                found.extend((node.lineno, f"beanflex.{alias.name}") for alias in node.names)
    return found


MODULES = [(folder, path) for folder in ALLOWED for path in sorted((ROOT / folder).rglob("*.py"))]


@pytest.mark.parametrize("folder,path", MODULES, ids=[str(p.relative_to(ROOT)) for _, p in MODULES])
def test_imports_run_down_the_layers(folder, path):
    wrong = []
    for lineno, name in _imports(path):
        layer = _layer_of_import(name)
        if name in EXCEPTIONS.get(folder, ()):
            continue
        if layer is not None and layer != folder and layer not in ALLOWED[folder]:
            wrong.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    assert not wrong, f"{folder}/ may import {sorted(ALLOWED[folder]) or 'nothing of beanflex'}: " + "; ".join(wrong)


def test_plugins_hold_only_beancount_plugins():
    """Every module in plugins/ is a Beancount plugin: it declares __plugins__."""
    for path in sorted((ROOT / "plugins").glob("*.py")):
        if path.name != "__init__.py":
            assert "__plugins__ = (" in path.read_text(encoding="utf-8"), f"{path.name} is not a plugin"


def test_every_layer_was_read():
    assert {folder for folder, _ in MODULES} == set(ALLOWED)
