"""A plugin that attaches the user's Markdown notes to instruments and single events, so Fava shows them.

    plugin "beanflex.plugins.notes" "../notes"

The config is the notes folder, relative to the folder of the ledger's main file (`ledger/../notes` = the repo
root's `notes/`, DESIGN §2); no config means `../notes`. A missing folder means no notes (git keeps no empty
folders), not an error.

Instrument notes: `notes/<SYMBOL>.md`, one file per instrument, with the conid in YAML front matter:

    ---
    conid: "265598"
    symbol: AAPL
    ---
    Why I hold it, free Markdown.

    ## 2024-11-25 21:04 UTC
    One dated entry (what `beanflex note AAPL "…"` appends).

The file is matched by `conid` (so a ticker change or a renamed commodity keeps its notes), else by its name
against the commodity name. The plugin adds to the commodity `note` (the whole text) and `note_file`, and on
each account that held the instrument one `note` directive per dated entry (`## YYYY-MM-DD …`) plus one for the
text above the first entry (dated at the instrument's first posting there), so they show in Fava's journal. `README.md` and names starting with `_` or `.` are not instruments.

Event notes: `notes/events.md`, one `## <flex_id>` section per event (text until the next `## ` heading; dated
entries inside are `### YYYY-MM-DD …`). The section's text becomes the `note` metadata of the transaction with
that `flex_id`.

A note for an instrument or flex_id the ledger doesn't have, or broken front matter, is a Beancount error at the
note file's line; notes never change numbers and the ledger still loads.
"""

from __future__ import annotations

import collections
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from beancount.core import data

from .gcpause import paused_gc
from .labels import watch

__plugins__ = ("notes",)

NotesError = collections.namedtuple("NotesError", "source message entry")

DEFAULT_CONFIG = "../notes"
EVENTS_FILE = "events.md"
NOT_INSTRUMENTS = ("README.md", EVENTS_FILE)
DATED_ENTRY = re.compile(r"^#{2,3} (\d{4}-\d{2}-\d{2})\b.*$")
EVENT_SECTION = re.compile(r"^## (\S+)\s*$")


@dataclass(frozen=True)
class InstrumentNote:
    path: Path
    conid: str | None              # from front matter; None in a hand-made file without one
    symbol: str                    # front matter `symbol`, else the file name without .md
    text: str                      # the Markdown after the front matter, stripped
    #: (date, text, line) of each `## YYYY-MM-DD` entry, after (None, text, line) for the text before the first one
    entries: tuple[tuple[datetime.date | None, str, int], ...]


@dataclass(frozen=True)
class EventNote:
    flex_id: str
    text: str
    path: Path
    lineno: int


def notes_dir(options_map, config_str: str | None) -> Path:
    """The notes folder: the plugin config, relative to the main file's folder (`ledger/../notes`)."""
    main = options_map.get("filename") or ""
    base = Path(main).parent if main and not main.startswith("<") else Path.cwd()
    return base / ((config_str or "").strip() or DEFAULT_CONFIG)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter YAML, body, line where the body starts); no front matter gives ("", text, 1)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return "", text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    return "".join(lines[1:]), "", len(lines) + 1


def read_instrument_note(path: Path) -> tuple[InstrumentNote | None, list[NotesError]]:
    """Parse one `notes/<SYMBOL>.md`; bad front matter is an error at its line."""
    text = path.read_text(encoding="utf-8")
    front, body, body_line = split_front_matter(text)
    try:
        meta = yaml.safe_load(front) if front.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [_error(path, (mark.line + 2) if mark else 1, f"front matter is not valid YAML: {exc}")]
    if not isinstance(meta, dict):
        return None, [_error(path, 2, "front matter must be 'key: value' lines (conid, symbol)")]
    conid = meta.get("conid")
    lines = body.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("## ") and DATED_ENTRY.match(line)),
                 len(lines))
    intro = "\n".join(lines[:first]).strip()
    entries: list[tuple[datetime.date | None, str, int]] = [(None, intro, body_line)] if intro else []
    for index, line in enumerate(lines):
        match = DATED_ENTRY.match(line)
        if match and line.startswith("## "):
            end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
            try:
                day = datetime.date.fromisoformat(match.group(1))
            except ValueError:
                return None, [_error(path, body_line + index, f"'{line}' is not a real date (YYYY-MM-DD)")]
            entries.append((day, "\n".join(lines[index + 1:end]).strip(), body_line + index))
    return InstrumentNote(path, None if conid in (None, "") else str(conid), str(meta.get("symbol") or path.stem),
                          body.strip(), tuple(entries)), []


def read_event_notes(path: Path) -> list[EventNote]:
    """Sections `## <flex_id>` of notes/events.md, each with its text up to the next `## ` heading."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := EVENT_SECTION.match(line))
              and not DATED_ENTRY.match(line)]
    out = []
    for index, flex_id in starts:
        end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        out.append(EventNote(flex_id, "\n".join(lines[index + 1:end]).strip(), path, index + 1))
    return out


def _error(path: Path, lineno: int, message: str) -> NotesError:
    return NotesError({"filename": str(path), "lineno": lineno}, message, None)


@paused_gc()
def notes(entries, options_map, config_str=None):
    """Attach notes/*.md to commodities (+ note directives) and notes/events.md sections to transactions."""
    folder = notes_dir(options_map, config_str)
    if not folder.is_dir():
        return entries, []
    # The folder itself too: a new note file changes only the folder's mtime (labels.watch explains why).
    for path in [folder, *sorted(folder.glob("*.md"))]:
        watch(options_map, path)
    errors: list[NotesError] = []
    by_conid: dict[str, str] = {}
    symbols: set[str] = set()
    for entry in entries:
        if isinstance(entry, data.Commodity):
            symbols.add(entry.currency)
            if entry.meta.get("conid") is not None:
                by_conid[str(entry.meta["conid"])] = entry.currency
    attached: dict[str, InstrumentNote] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name in NOT_INSTRUMENTS or path.name[0] in "_.":
            continue
        note, note_errors = read_instrument_note(path)
        errors.extend(note_errors)
        if note is None:
            continue
        symbol = by_conid.get(note.conid) if note.conid else (note.symbol if note.symbol in symbols else None)
        if symbol is None:
            who = f"conid {note.conid}" if note.conid else f"commodity '{note.symbol}'"
            errors.append(_error(path, 1, f"note for {who}, which the ledger does not have; fix the conid in the "
                                          "front matter or rename the file after the commodity"))
        elif symbol in attached:
            errors.append(_error(path, 1, f"second note file for {symbol} (first: {attached[symbol].path.name}); "
                                          "merge them"))
        else:
            attached[symbol] = note
    events = read_event_notes(folder / EVENTS_FILE) if (folder / EVENTS_FILE).is_file() else []
    event_text = {}
    for event in events:
        if event.flex_id in event_text:
            errors.append(_error(event.path, event.lineno, f"second section for {event.flex_id}; merge them"))
        event_text.setdefault(event.flex_id, event)
    out, seen_ids = [], set()
    for entry in entries:
        if isinstance(entry, data.Commodity) and entry.currency in attached:
            note = attached[entry.currency]
            entry = entry._replace(meta={**entry.meta, "note": note.text, "note_file": note.path.name})
        elif isinstance(entry, data.Transaction) and entry.meta.get("flex_id") in event_text:
            seen_ids.add(entry.meta["flex_id"])
            entry = entry._replace(meta={**entry.meta, "note": event_text[entry.meta["flex_id"]].text})
        out.append(entry)
    for flex_id, event in event_text.items():
        if flex_id not in seen_ids:
            errors.append(_error(event.path, event.lineno, f"note for event '{flex_id}', which no transaction "
                                                           "carries as flex_id; check the id"))
    out.extend(_note_directives(entries, attached))
    out.sort(key=data.entry_sortkey)
    return out, errors


def _note_directives(entries, attached: dict[str, InstrumentNote]) -> list[data.Note]:
    """One `note` per dated entry on every account that held the instrument, inside the account's open dates.

    The undated text at the top of the file is dated at the instrument's first posting in that account.
    """
    holders: dict[str, dict[str, datetime.date]] = collections.defaultdict(dict)
    opened: dict[str, datetime.date] = {}
    closed: dict[str, datetime.date] = {}
    for entry in entries:
        if isinstance(entry, data.Open):
            opened[entry.account] = entry.date
        elif isinstance(entry, data.Close):
            closed[entry.account] = entry.date
        elif isinstance(entry, data.Transaction):
            for posting in entry.postings:
                if posting.units.currency in attached:
                    holders[posting.units.currency].setdefault(posting.account, entry.date)
    out = []
    for symbol, note in attached.items():
        for account, first_date in sorted(holders.get(symbol, {}).items()):
            for day, text, lineno in note.entries:
                day = max(day or first_date, opened.get(account, first_date))
                day = min(day, closed.get(account, day))
                meta = data.new_metadata(str(note.path), lineno)
                out.append(data.Note(meta, day, account, f"{symbol}: {text}", frozenset(), frozenset()))
    return out
