"""The notes folder (`notes/`): the Markdown files a user writes about instruments and events, read into values.

Instrument notes are `notes/<SYMBOL>.md`, with the conid in YAML front matter; `## YYYY-MM-DD …` headings are
dated entries (what `beanflex note AAPL "…"` appends). Event notes are `notes/events.md`, one `## <flex_id>`
section per event. The notes plugin (plugins/notes.py) attaches them to the ledger, and `beanflex note` writes
them; both use the names and readers here, so the format is written down once.
"""

from __future__ import annotations

import collections
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .textfile import NotUtf8Error, read_utf8


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
    try:
        text = read_utf8(path)
    except NotUtf8Error as exc:
        return None, [note_error(path, exc.line, exc.message)]
    front, body, body_line = split_front_matter(text)
    try:
        meta = yaml.safe_load(front) if front.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [note_error(path, (mark.line + 2) if mark else 1, f"front matter is not valid YAML: {exc}")]
    if not isinstance(meta, dict):
        return None, [note_error(path, 2, "front matter must be 'key: value' lines (conid, symbol)")]
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
                return None, [note_error(path, body_line + index, f"'{line}' is not a real date (YYYY-MM-DD)")]
            entries.append((day, "\n".join(lines[index + 1:end]).strip(), body_line + index))
    return InstrumentNote(path, None if conid in (None, "") else str(conid), str(meta.get("symbol") or path.stem),
                          body.strip(), tuple(entries)), []


def read_event_notes(path: Path) -> list[EventNote]:
    """Sections `## <flex_id>` of notes/events.md, each with its text up to the next `## ` heading.

    Raises NotUtf8Error (with the bad byte's line and position) when the file is not UTF-8.
    """
    lines = read_utf8(path).splitlines()
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := EVENT_SECTION.match(line))
              and not DATED_ENTRY.match(line)]
    out = []
    for index, flex_id in starts:
        end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        out.append(EventNote(flex_id, "\n".join(lines[index + 1:end]).strip(), path, index + 1))
    return out


def note_error(path: Path, lineno: int, message: str) -> NotesError:
    return NotesError({"filename": str(path), "lineno": lineno}, message, None)


def event_section(lines: list[str], flex_id: str) -> tuple[int, int] | None:
    """Where `## <flex_id>` sits in notes/events.md's lines: (heading index, index of the next `## ` heading or
    the end), e.g. ["## U1/trade/1", "text", "## U1/trade/2"] and "U1/trade/1" -> (0, 2); None when absent."""
    start = next((i for i, line in enumerate(lines) if line.strip() == f"## {flex_id}"), None)
    if start is None:
        return None
    end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
    return start, end
