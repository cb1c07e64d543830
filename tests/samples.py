"""The public Flex statements the tests run on: the copies in tests/fixtures, plus ../shared when it exists.

A user's clone has no ../shared; the copied (MIT, EPL) samples always run, and the three samples whose licenses
do not allow copying (GPL, AGPL, none) are added when the shared folder sits beside the repo, as it does in CI.
"""

from __future__ import annotations

from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
FIXTURES_DIR = TESTS_DIR / "fixtures"
PUBLIC_DIR = FIXTURES_DIR / "flex-public"
SHARED_PUBLIC_DIR = TESTS_DIR.parent.parent / "shared" / "fixtures" / "flex-public"


def public_samples() -> list[Path]:
    """Every public sample available here, copied ones first, sorted by name within each group."""
    copied = sorted(PUBLIC_DIR.glob("*.xml"))
    names = {p.name for p in copied}
    shared_only = sorted(p for p in SHARED_PUBLIC_DIR.glob("*.xml") if p.name not in names) \
        if SHARED_PUBLIC_DIR.is_dir() else []
    return copied + shared_only


def sample(name: str) -> Path:
    """One sample by file name, e.g. sample("uabean__beancount.xml")."""
    for path in public_samples():
        if path.name == name:
            return path
    raise FileNotFoundError(name)
