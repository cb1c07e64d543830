"""The one printer of `ledger/generated/`: stable, byte-identical text, written atomically, stale files removed.

Every file starts with the header below and lists its directives sorted by (date, kind, flex_id, text). Numbers
are printed exactly as the Decimal holds them (full precision, never in exponent form), metadata in the order the
mapper built it, so a rebuild from the same archive gives the same bytes and a nightly git diff shows only real
changes. `generated/index.beancount` includes every generated file; main.beancount includes only the index.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

from beancount.core import account as account_type, data
from beancount.core.amount import Amount
from beancount.core.position import Cost, CostSpec

HEADER = "; written by beanflex; do not edit: changes go to manual.beancount\n"
INDEX = "generated/index.beancount"
#: Directive kinds in the order they are printed within one day.
KIND_ORDER = {data.Open: 0, data.Commodity: 1, data.Transaction: 2, data.Note: 3, data.Price: 4, data.Custom: 5}
_SKIP_META = frozenset({"filename", "lineno"})
_META_LINE = re.compile(r"^\s+[a-z][A-Za-z0-9_-]*: ")


def number(value: Decimal) -> str:
    """Full precision, no exponent: Decimal('1E+3') -> '1000', Decimal('0.10') -> '0.10'."""
    text = format(value, "f")
    return "0" if text in ("-0", "0E-0") else text


def quote(text: str) -> str:
    text = str(text)
    if "\\" in text or '"' in text or "\n" in text:  # rare: most texts need no escaping, skip three replaces
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return '"' + text + '"'


def amount(value: Amount) -> str:
    return f"{number(value.number)} {value.currency}"


def meta_value(value) -> str:
    if type(value) is str:  # most metadata values (330k of them for a 10k-trade statement): no isinstance chain
        return quote(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Amount):
        return amount(value)
    return quote(value)


def meta_lines(meta: dict | None, indent: str) -> list[str]:
    if not meta:
        return []
    return [f"{indent}{key}: {meta_value(value)}" for key, value in meta.items()
            if value is not None and key not in _SKIP_META and not key.startswith("__")]


def cost_text(cost) -> str:
    parts = []
    if isinstance(cost, Cost):
        parts.append(f"{number(cost.number)} {cost.currency}")
    elif isinstance(cost, CostSpec):
        if cost.number_per is not None:
            parts.append(f"{number(cost.number_per)} {cost.currency}")
    if cost.date is not None:
        parts.append(cost.date.isoformat())
    if cost.label is not None:
        parts.append(quote(cost.label))
    return "{" + ", ".join(parts) + "}"


def posting_text(posting: data.Posting) -> list[str]:
    line = f"  {posting.flag + ' ' if posting.flag else ''}{posting.account}  {amount(posting.units)}"
    if posting.cost is not None:
        line += " " + cost_text(posting.cost)
    total = (posting.meta or {}).get("__total_price__")
    if total is not None:
        line += f" @@ {amount(total)}"
    elif posting.price is not None:
        line += f" @ {amount(posting.price)}"
    return [line] + meta_lines(posting.meta, "    ")


def custom_value(value) -> str:
    raw, dtype = value
    if dtype == account_type.TYPE:
        return raw
    return meta_value(raw)


def format_entry(entry) -> str:
    """One directive as Beancount text, ending with a newline."""
    day = entry.date.isoformat()
    if isinstance(entry, data.Transaction):
        head = f"{day} {entry.flag}"
        if entry.payee:
            head += f" {quote(entry.payee)}"
        head += f" {quote(entry.narration or '')}"
        for tag in sorted(entry.tags or ()):
            head += f" #{tag}"
        for link in sorted(entry.links or ()):
            head += f" ^{link}"
        lines = [head] + meta_lines(entry.meta, "  ")
        for posting in entry.postings:
            lines.extend(posting_text(posting))
    elif isinstance(entry, data.Open):
        head = f"{day} open {entry.account}"
        if entry.currencies:
            head += " " + ",".join(entry.currencies)
        if entry.booking:
            head += f' "{entry.booking.name}"'
        lines = [head] + meta_lines(entry.meta, "  ")
    elif isinstance(entry, data.Commodity):
        lines = [f"{day} commodity {entry.currency}"] + meta_lines(entry.meta, "  ")
    elif isinstance(entry, data.Price):
        lines = [f"{day} price {entry.currency} {amount(entry.amount)}"] + meta_lines(entry.meta, "  ")
    elif isinstance(entry, data.Note):
        lines = [f"{day} note {entry.account} {quote(entry.comment)}"] + meta_lines(entry.meta, "  ")
    elif isinstance(entry, data.Custom):
        values = " ".join(custom_value(v) for v in entry.values)
        lines = [f"{day} custom {quote(entry.type)} {values}".rstrip()] + meta_lines(entry.meta, "  ")
    else:
        raise TypeError(f"the generated ledger has no printer for {type(entry).__name__}")
    return "\n".join(lines) + "\n"


def sort_key(entry, text: str | None = None) -> tuple:
    """(date, kind, flex_id, text): the stable order of generated files; pass `text` if already formatted."""
    flex_id = (entry.meta or {}).get("flex_id") or ""
    return (entry.date, KIND_ORDER.get(type(entry), 9), flex_id, format_entry(entry) if text is None else text)


def dedup_key(entry) -> str:
    """Identity of a directive without a flex_id (prices, balances, customs): its text without metadata."""
    return "\n".join(line for line in format_entry(entry).splitlines() if not _META_LINE.match(line))


def render(entries: list) -> str:
    """A whole generated file: header, then the directives in stable order, one blank line apart."""
    formatted = [(entry, format_entry(entry)) for entry in entries]  # each entry formatted once
    formatted.sort(key=lambda pair: sort_key(*pair))
    body = "\n".join(text for _entry, text in formatted)
    return HEADER + ("\n" + body if body else "")


def render_index(paths: list[str], base_currencies: list[str] = ()) -> str:
    """The include list of generated files, after the statements' base currencies as operating_currency."""
    lines = [f'option "operating_currency" "{currency}"' for currency in base_currencies]
    lines += [f'include "{Path(p).relative_to("generated").as_posix()}"' for p in sorted(paths)]
    return HEADER + "\n" + "\n".join(lines) + ("\n" if lines else "")


def write_generated(ledger_dir: Path, files: dict[str, list], base_currencies: list[str] = (),
                    keep: set[str] | frozenset = frozenset()) -> dict[str, list[str]]:
    """Print every generated file and the index, and switch `generated/` to them as a whole (generation.py).

    `keep`: paths of `files` known to be printed already as they would be now (incremental.kept_files): they are
    not printed again and count as unchanged. Returns {"written": [...], "unchanged": [...], "removed": [...]}
    (paths relative to ledger/).
    """
    from .generation import switch

    def payload_of(path: str) -> bytes:  # one file's text at a time
        if path == INDEX:
            return render_index([p for p in files if p != INDEX], base_currencies).encode("utf-8")
        return render(files[path]).encode("utf-8")

    return switch(Path(ledger_dir), {*files, INDEX}, payload_of, set(keep) - {INDEX})
