"""Load the ledger for a command and never be silent about its errors.

Every command that reads the ledger (report …, explain, note, check) loads it here: the Beancount errors it has
are counted as bean-check and Fava's error page count them (every error the loader and the ledger's plugins
return), and said on stderr with the first few as `file:line: message`, e.g.

    ledger: 2 Beancount error(s), as bean-check and Fava count them (1 in the ledger text, 1 reconciliation diff):
      ledger/manual.beancount:3: syntax error, unexpected INDENT
      ledger/generated/U1/2024.beancount:57: Realized P&L differs for 'U1/trade/T3': …

A syntax error in manual.beancount drops that entry and the numbers go on without it, so this line is the
only sign; `--strict` (global, `beanflex --strict report pnl`) turns it into exit 3 before any number is printed.
"""

from __future__ import annotations

from pathlib import Path

import click

SHOWN = 3  # errors listed with file:line; the rest are counted ("… and N more: run bean-check")


def is_diff(error) -> bool:
    """A reconcile plugin finding (ours vs IBKR), not broken ledger text."""
    return type(error).__name__ == "ReconcileError"


def where(error, base: Path | None = None) -> str:
    """`file:line: message` for a Beancount error, the file relative to `base` (else the current folder)."""
    source = getattr(error, "source", None) or {}
    filename = source.get("filename") or "<ledger>"
    for root in filter(None, (base, Path.cwd())):
        try:
            filename = str(Path(filename).resolve().relative_to(root.resolve()))
            break
        except ValueError:
            continue
    line = source.get("lineno")
    message = " ".join(str(getattr(error, "message", error)).split())
    return f"{filename}:{line}: {message}" if line else f"{filename}: {message}"


def summary_lines(errors, base: Path | None = None) -> list[str]:
    """The stderr lines for these errors (none when there are none)."""
    if not errors:
        return []
    diffs = sum(1 for e in errors if is_diff(e))
    lines = [f"ledger: {len(errors)} Beancount error(s), as bean-check and Fava count them "
             f"({len(errors) - diffs} in the ledger text, {diffs} reconciliation diff(s)):"]
    ordered = [e for e in errors if not is_diff(e)] + [e for e in errors if is_diff(e)]  # broken text first
    lines += ["  " + where(e, base) for e in ordered[:SHOWN]]
    if len(errors) > SHOWN:
        lines.append(f"  … and {len(errors) - SHOWN} more: run 'bean-check' on the ledger for all of them")
    return lines


def load(ws, strict: bool | None = None):
    """(entries, errors, options) of the ledger, its errors said on stderr; under --strict, exit 3 on any."""
    from beancount import loader

    entries, errors, options = loader.load_file(str(ws.main_file))
    say_errors(ws, errors, strict)
    return entries, errors, options


def say_errors(ws, errors, strict: bool | None = None) -> None:
    """The ledger's Beancount errors on stderr (summary_lines); under --strict, exit 3 when there is any."""
    from .cli import DiffFound

    for line in summary_lines(errors, ws.ledger_dir.parent):
        click.echo(line, err=True)
    if errors and (ws.strict if strict is None else strict):
        raise DiffFound(f"--strict: the ledger has {len(errors)} Beancount error(s) (listed above)")
