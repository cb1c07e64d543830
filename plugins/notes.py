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

from beancount.core import data

from beanflex.contract.gcpause import paused_gc
from beanflex.engine.labels import watch
from beanflex.contract.notes_format import (EVENTS_FILE, NOT_INSTRUMENTS, InstrumentNote, NotesError, note_error, notes_dir,
                                   read_event_notes, read_instrument_note)
from beanflex.contract.textfile import NotUtf8Error

__plugins__ = ("notes",)


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
            errors.append(note_error(path, 1, f"note for {who}, which the ledger does not have; fix the conid in the "
                                          "front matter or rename the file after the commodity"))
        elif symbol in attached:
            errors.append(note_error(path, 1, f"second note file for {symbol} (first: {attached[symbol].path.name}); "
                                          "merge them"))
        else:
            attached[symbol] = note
    try:
        events = read_event_notes(folder / EVENTS_FILE) if (folder / EVENTS_FILE).is_file() else []
    except NotUtf8Error as exc:
        events = []
        errors.append(note_error(folder / EVENTS_FILE, exc.line, exc.message))
    event_text = {}
    for event in events:
        if event.flex_id in event_text:
            errors.append(note_error(event.path, event.lineno, f"second section for {event.flex_id}; merge them"))
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
            errors.append(note_error(event.path, event.lineno, f"note for event '{flex_id}', which no transaction "
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
