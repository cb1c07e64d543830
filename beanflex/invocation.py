"""How to call beanflex again, as the hints printed after `init` and `demo` spell it.

`scripts/demo` installs beanflex into `.venv/`, which is not on PATH: a hint saying `beanflex …` would fail with
"command not found". So a hint names `beanflex` only when that name on PATH is this very program, and otherwise
the path it was started by (e.g. `.venv/bin/beanflex`, relative to the current folder when it is below it).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def command(argv0: str | None = None, cwd: Path | None = None) -> str:
    """"beanflex" when PATH finds this program under that name; else its path, e.g. ".venv/bin/beanflex"."""
    program = Path(argv0 or sys.argv[0])
    if program.name != "beanflex" or not program.exists():
        return "beanflex"  # run some other way (python -m, a test runner): the installed name is the best hint
    on_path = shutil.which("beanflex")
    if on_path and Path(on_path).resolve() == program.resolve():
        return "beanflex"
    absolute = program.absolute()
    try:
        return str(absolute.relative_to(cwd or Path.cwd()))
    except ValueError:
        return str(absolute)


def quoted_path(path: Path) -> str:
    """A path for a hint, shell-quoted only when needed."""
    text = str(path)
    return text if all(c.isalnum() or c in "/._-+:@" for c in text) else "'" + text.replace("'", "'\\''") + "'"

