"""Suite-wide guards."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The repository root is a ready workspace (README "Your own ledger"); no test may write into it.
ROOT_WORKSPACE = (ROOT / "ledger", ROOT / "labels.yaml", ROOT / "notes")


def workspace_state() -> dict[str, str]:
    """Every file of the root workspace with its sha256 (runtime files such as a lock included)."""
    files = []
    for place in ROOT_WORKSPACE:
        files.extend([place] if place.is_file() else sorted(p for p in place.rglob("*") if p.is_file()))
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="session", autouse=True)
def root_workspace_untouched():
    before = workspace_state()
    yield
    assert workspace_state() == before, "a test wrote into the repository's own workspace (ledger/, labels.yaml, notes/)"
