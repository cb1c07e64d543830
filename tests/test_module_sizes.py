"""Small modules with one job (STYLE.md §1): a module past ~400 lines is a sign it does two things; split it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 400
LAYERS = ("beanflex", "contract", "importers", "engine", "plugins", "reports", "fava_ext", "scripts/flexsynth")
MODULES = sorted(p for folder in LAYERS for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LIMIT, f"{path.relative_to(ROOT)} has {lines} lines (limit {LIMIT}): split it by job"


def test_the_modules_were_found():
    assert len(MODULES) > 30  # the glob must not silently match nothing
