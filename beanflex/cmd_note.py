"""`beanflex note`: append a timestamped note to an instrument's or an event's Markdown file.

    beanflex note AAPL "Trimmed after earnings"         -> notes/AAPL.md   (front matter conid: "265598")
    beanflex note 265598 "…"  /  beanflex note conid:265598 "…"   (same file, found by conid)
    beanflex note --event U1234567/trade/1004 "…"       -> notes/events.md, section `## U1234567/trade/1004`

The instrument is looked up in the ledger (commodity name or conid) so the file carries the conid and survives a
ticker change; an existing note file with that conid is appended to whatever its name. An unknown symbol or
flex_id is refused (exit 1) unless `--force`. Each entry is a heading `## YYYY-MM-DD HH:MM UTC` (`###` inside
an event section) followed by the text; the file is rewritten atomically. The format is the one
`beanflex.contract.notes_format` reads.
"""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import click

from beanflex.importers.flex.fsutil import atomic_write
from beanflex.contract.notes_format import EVENT_SECTION, EVENTS_FILE, event_section, split_front_matter
from beanflex.contract.textfile import NotUtf8Error, read_utf8

from .workspace import Workspace

_FILE_BAD = re.compile(r"[^A-Za-z0-9._ -]+")
EVENTS_HEADER = ("# Event notes\n\nOne section per event, `## <flex_id>` (the id in the ledger's `flex_id` "
                 "metadata); written by `beanflex note --event` or by hand.\n")


@click.command("note")
@click.argument("words", nargs=-1, required=True, metavar="SYMBOL|CONID TEXT | --event FLEX_ID TEXT")
@click.option("--event", "flex_id", metavar="FLEX_ID", help="Note on one event (its flex_id) instead of an instrument.")
@click.option("--conid", help="The instrument's conid, when the ledger doesn't know it yet (implies --force).")
@click.option("--force", is_flag=True, help="Write even if the ledger has no such instrument or flex_id.")
@click.pass_obj
def note(ws: Workspace, words: tuple[str, ...], flex_id: str | None, conid: str | None, force: bool) -> None:
    """Add a timestamped note to notes/<SYMBOL>.md or, with --event, to notes/events.md (TEXT '-' reads stdin)."""
    expected = 1 if flex_id else 2
    if len(words) != expected:
        raise click.UsageError(_arguments_message(flex_id, words))
    text = (sys.stdin.read() if words[-1] == "-" else words[-1]).strip()
    if not text:
        raise click.UsageError("the note text is empty")
    now = datetime.datetime.now(datetime.timezone.utc)
    if flex_id:
        path = add_event_note(ws, flex_id, text, now, force)
    else:
        path = add_instrument_note(ws, words[0], text, now, force or bool(conid), conid)
    if not ws.quiet:
        click.echo(f"Noted in {path}")


def _arguments_message(flex_id: str | None, words: tuple[str, ...]) -> str:
    """What was given and what to give instead, e.g. for `--event U1/trade/7 AAPL "text"`: the event already names
    its instrument, so only the text follows."""
    given = " ".join(repr(w) for w in words)
    if flex_id:
        return (f"with --event {flex_id} give only the TEXT (the event already names its instrument), got "
                f"{len(words)} argument(s): {given}; e.g. beanflex note --event {flex_id} \"Sold half.\"")
    return (f"give SYMBOL (or conid) and TEXT, got {len(words)} argument(s): {given}; e.g. beanflex note AAPL "
            "\"Bought on the dip.\" (or --event FLEX_ID TEXT for one event)")


def stamp(now: datetime.datetime) -> str:
    """`2024-11-25 21:04 UTC`: the heading the plugin reads as the entry's date."""
    return now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def ledger_index(main_file: Path) -> tuple[dict[str, str], set[str]]:
    """({commodity name: conid}, {flex_id}) of the ledger, or empty when there is no ledger yet."""
    if not main_file.is_file():
        return {}, set()
    from beancount import loader
    from beancount.core import data

    from .ledger_load import summary_lines

    entries, errors, _ = loader.load_file(str(main_file))
    for line in summary_lines(errors, main_file.parent.parent):  # never silent about a broken ledger
        click.echo(line, err=True)
    commodities = {e.currency: str(e.meta.get("conid") or "") for e in entries if isinstance(e, data.Commodity)}
    flex_ids = {e.meta["flex_id"] for e in entries if "flex_id" in (e.meta or {})}
    return commodities, flex_ids


def add_instrument_note(ws: Workspace, target: str, text: str, now: datetime.datetime, force: bool = False,
                        conid: str | None = None) -> Path:
    """Append one entry to the instrument's note file (created with conid front matter when new)."""
    commodities, _ = ledger_index(ws.main_file)
    symbol = target
    wanted = conid or (target.removeprefix("conid:") if target.startswith("conid:") or target.isdigit() else None)
    if wanted:
        symbol = next((name for name, c in commodities.items() if c == wanted), target.removeprefix("conid:"))
    elif target in commodities:
        wanted = commodities[target] or None
    existing = find_note_file(ws.notes_dir, wanted, symbol)
    if existing is None and not force and symbol not in commodities:
        raise click.ClickException(f"'{target}' is not an instrument in {ws.main_file} (no commodity with that "
                                   "name or conid); check the symbol, give its conid, or use --force")
    path = existing or ws.notes_dir / f"{_FILE_BAD.sub('-', symbol).strip(' .') or 'note'}.md"
    old = _read(path) if path.exists() else ""
    if not old:
        front = (f'conid: "{wanted}"\n' if wanted else "") + f"symbol: {symbol}\n"
        old = f"---\n{front}---\n"
    new = old.rstrip("\n") + f"\n\n## {stamp(now)}\n\n{text}\n"
    atomic_write(path, new.encode("utf-8"))
    return path


def find_note_file(folder: Path, conid: str | None, symbol: str) -> Path | None:
    """The note file whose front matter has this conid, else the one named after the symbol."""
    if not folder.is_dir():
        return None
    import yaml

    for path in sorted(folder.glob("*.md")):
        if conid and path.name != EVENTS_FILE:
            try:
                front, _, _ = split_front_matter(read_utf8(path))
                meta = yaml.safe_load(front) if front.strip() else {}
            except (NotUtf8Error, yaml.YAMLError):  # not this one's conid as far as can be told; named if used
                continue
            if isinstance(meta, dict) and str(meta.get("conid") or "") == conid:
                return path
    path = folder / f"{symbol}.md"
    return path if path.is_file() else None


def add_event_note(ws: Workspace, flex_id: str, text: str, now: datetime.datetime, force: bool = False) -> Path:
    """Append one entry to the `## <flex_id>` section of notes/events.md (section added when new)."""
    if not EVENT_SECTION.match(f"## {flex_id}"):
        raise click.UsageError(f"'{flex_id}' is not a flex_id (no spaces, e.g. U1234567/trade/1004)")
    if not force:
        _, flex_ids = ledger_index(ws.main_file)
        if flex_id not in flex_ids:
            raise click.ClickException(f"no transaction in {ws.main_file} has flex_id '{flex_id}'; copy it from "
                                       "the ledger or `beanflex explain`, or use --force")
    path = ws.notes_dir / EVENTS_FILE
    old = _read(path) if path.exists() else EVENTS_HEADER
    atomic_write(path, insert_event_entry(old, flex_id, f"### {stamp(now)}\n\n{text}\n").encode("utf-8"))
    return path


def _read(path: Path) -> str:
    """A note file's text; one that is not UTF-8 stops the command naming the file and byte (never rewritten)."""
    try:
        return read_utf8(path)
    except NotUtf8Error as exc:
        raise click.ClickException(f"{exc}; nothing was written") from None


def insert_event_entry(markdown: str, flex_id: str, entry: str) -> str:
    """Put `entry` at the end of the `## flex_id` section (before the next `## `), or append a new section."""
    lines = markdown.rstrip("\n").split("\n")
    found = event_section(lines, flex_id)
    if found is None:
        return "\n".join(lines) + f"\n\n## {flex_id}\n\n{entry}"
    end = found[1]
    body = lines[:end]
    while body and not body[-1].strip():
        body.pop()
    rest = lines[end:]
    return "\n".join(body) + "\n\n" + entry + ("\n" + "\n".join(rest) + "\n" if rest else "")
