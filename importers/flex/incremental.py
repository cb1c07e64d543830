"""Which generated year files an import of new statements leaves as they are, so they are not printed again.

An import or a nightly sync maps the whole archive (lots and duplicates depend on all of it), but printing every
directive again was a fifth of the run: a statement of one day changes one `generated/<ACCT>/<yyyy>.beancount`,
not the other years. A year file is kept, not printed, when all of these hold:

- it is on disk and holds as many directives as the build gives it (a hand-edited entry of manual.beancount
  that replaces a generated one, or a duplicate dropped, changes the count);
- none of its directives cites a new statement in `flex_src` (a row of the new statement, also one that repeats
  an archived row, is cited there);
- no instrument changed: `accounts.beancount` (opens, and commodities with their names) only gained directives.
  A renamed commodity would change old years too: then nothing is kept.

`rebuild` keeps nothing: it prints every file, and a test holds an import of statement after statement
byte-identical to it. E.g. a 10k-trade ledger over 2016-2020 and one new day in 2020: 2016-2019 are kept,
2020, accounts.beancount and the index are printed.
"""

from __future__ import annotations

from pathlib import Path

from . import writer

ACCOUNTS = "accounts.beancount"


def kept_files(ledger_dir: Path, files: dict[str, list], new_sources: set[str]) -> set[str]:
    """Paths of `files` (relative to ledger/) that are byte-for-byte what printing them again would give."""
    if not new_sources:
        return set()
    ledger_dir = Path(ledger_dir)
    for path, entries in files.items():
        if path.endswith("/" + ACCOUNTS) and not _only_grew(ledger_dir / path, writer.render(entries)):
            return set()
    kept = set()
    for path, entries in files.items():
        if path.endswith("/" + ACCOUNTS) or path == writer.INDEX:
            continue
        target = ledger_dir / path
        if not target.is_file() or _cites(entries, new_sources):
            continue
        if directive_count(target.read_text(encoding="utf-8")) == len(entries):
            kept.add(path)
    return kept


def directive_count(text: str) -> int:
    """Directives in a generated file: each is preceded by one blank line (texts never hold a newline)."""
    return text.count("\n\n")


def _cites(entries: list, sources: set[str]) -> bool:
    for entry in entries:
        cited = (entry.meta or {}).get("flex_src")
        if cited and any(source in cited for source in sources):
            return True
    return False


def _only_grew(path: Path, text: str) -> bool:
    """True when every directive of the file on disk is still in `text` (new ones may have been added)."""
    if not path.is_file():
        return False
    new = {block.rstrip("\n") for block in text.split("\n\n")}
    return all(block.rstrip("\n") in new for block in path.read_text(encoding="utf-8").split("\n\n")[1:])
