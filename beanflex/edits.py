"""Edits of the user's own files from the browser: labels.yaml and notes/, written as a hand-editor would.

Each edit takes the ledger lock, writes one file atomically (temp file + rename), and, when the workspace is a git
repository (and BEANFLEX_EDIT_COMMIT is not "0"), commits that one file with a message saying what changed, e.g.
`labels: add AAPL to Software`. Paths are fixed by the workspace (labels.yaml, notes/<file>.md, notes/events.md):
nothing a request sends becomes a path outside it. Texts are limited to MAX_TEXT characters.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from beanflex.contract.notes_format import EVENT_SECTION, EVENTS_FILE, event_section, split_front_matter
from beanflex.importers.flex.fsutil import atomic_write, ledger_lock
from beanflex.reports.label_edits import still_member

from . import gitops, labels_yaml
from .labels_yaml import EditRefused  # noqa: F401 - what the Fava pages catch
from .workspace import Workspace


def workspace_for(main_file: str | Path) -> Workspace:
    """The workspace of a ledger's root file (`…/ledger/main.beancount`), for the Fava pages."""
    return Workspace(Path(main_file))

MAX_TEXT = 20_000
_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Edited:
    """What an edit did: the file (relative to the workspace), a one-line summary, the commit (when made)."""

    path: str
    summary: str
    commit: str | None = None


def _commit(ws: Workspace, path: Path, summary: str) -> str | None:
    if os.environ.get("BEANFLEX_EDIT_COMMIT", "1") == "0":
        return None
    repo = gitops.find_repo(ws.root_dir)
    if repo is None:
        return None
    rel = path.resolve().relative_to(repo.root.resolve()).as_posix()
    return repo.commit_paths([rel], summary + "\n\nEdited from the beanflex pages in Fava.\n", secret=None)


def _write(ws: Workspace, path: Path, text: str, summary: str) -> Edited:
    root = ws.root_dir.resolve()
    if root not in path.resolve().parents:
        raise labels_yaml.EditRefused(f"refusing to write outside the workspace: {path}")
    atomic_write(path, text.encode("utf-8"))
    return Edited(path.resolve().relative_to(root).as_posix(), summary, _commit(ws, path, summary))


def _labels_edit(ws: Workspace, edit, summary: str) -> Edited:
    with ledger_lock(ws.ledger_dir):
        path = ws.labels_file
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = edit(old)
        if new == old:
            return Edited(path.name, f"{summary} (already so)")
        return _write(ws, path, new, summary)


def add_label(ws: Workspace, label: str, member: str) -> Edited:
    """Put an instrument (its symbol, or `conid:…`) in a label: `labels: add AAPL to Software`."""
    return _labels_edit(ws, lambda t: labels_yaml.add_member(t, label, member), f"labels: add {member} to {label}")


def remove_label(ws: Workspace, label: str, instrument) -> Edited:
    """Take an instrument (reports.label_edits.instrument) out of a label: entries naming it (symbol, `conid:…`,
    `isin:…`) go; when a rule (`re:…`, `desc:…`, `category:…`) still matches it, its symbol goes to `exclude`."""
    names = {instrument.symbol} | ({f"conid:{instrument.conid}"} if instrument.conid else set()) \
        | ({f"isin:{instrument.isin}"} if instrument.isin else set())

    def edit(text: str) -> str:
        text = labels_yaml.remove_members(text, label, names)
        if still_member(text, label, instrument):
            text = labels_yaml.add_member(text, label, instrument.symbol, key="exclude")
        return text
    return _labels_edit(ws, edit, f"labels: remove {instrument.symbol} from {label}")


def create_label(ws: Workspace, label: str, description: str = "") -> Edited:
    return _labels_edit(ws, lambda t: labels_yaml.create_label(t, label, description), f"labels: create {label}")


def _limited(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_TEXT:
        raise labels_yaml.EditRefused(f"the note is {len(text)} characters; the limit is {MAX_TEXT}")
    return text


def write_instrument_note(ws: Workspace, symbol: str, conid: str | None, text: str) -> Edited:
    """Replace the text of an instrument's note (notes/<SYMBOL>.md), keeping its front matter (or writing it)."""
    text = _limited(text)
    from .cmd_note import find_note_file

    with ledger_lock(ws.ledger_dir):
        path = find_note_file(ws.notes_dir, conid, symbol) if ws.notes_dir.is_dir() else None
        path = path or ws.notes_dir / f"{_FILE_BAD.sub('-', symbol).strip('.-') or 'note'}.md"
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        front, _body, _ = split_front_matter(old) if old else ("", "", 0)
        if not front.strip():
            front = (f'conid: "{conid}"\n' if conid else "") + f"symbol: {labels_yaml.scalar(symbol)}\n"
        new = f"---\n{front.rstrip(chr(10))}\n---\n\n{text}\n" if text else f"---\n{front.rstrip(chr(10))}\n---\n"
        return _write(ws, path, new, f"notes: edit the note on {symbol} ({path.name})")


def write_event_note(ws: Workspace, flex_id: str, text: str) -> Edited:
    """Replace the `## <flex_id>` section of notes/events.md with `text` (section added when new)."""
    text = _limited(text)
    if not EVENT_SECTION.match(f"## {flex_id}") or len(flex_id) > 200:
        raise labels_yaml.EditRefused(f"{flex_id!r} is not a flex_id (e.g. U1234567/trade/1004)")
    from .cmd_note import EVENTS_HEADER

    with ledger_lock(ws.ledger_dir):
        path = ws.notes_dir / EVENTS_FILE
        old = path.read_text(encoding="utf-8") if path.is_file() else EVENTS_HEADER
        return _write(ws, path, replace_section(old, flex_id, text), f"notes: edit the note on {flex_id}")


def replace_section(markdown: str, flex_id: str, text: str) -> str:
    """`markdown` with the body of `## flex_id` replaced by `text` (appended as a new section when absent)."""
    lines = markdown.rstrip("\n").split("\n")
    found = event_section(lines, flex_id)
    if found is None:
        return "\n".join(lines) + f"\n\n## {flex_id}\n\n{text}\n"
    start, end = found
    rest = lines[end:]
    return "\n".join(lines[:start + 1]) + f"\n\n{text}\n" + ("\n" + "\n".join(rest) + "\n" if rest else "")

