"""One Book per ledger load, shared by the plugins and the reports that run on that load.

Beancount runs the plugins one after another, handing each the entry list the previous one returned: the
reconcile plugin reads the book, labels and notes add tags and metadata, pnl_meta reads the book again, and
`beanflex report …` reads it a third time after the load. Each built it anew: 0.3 s CPU per build on the 10k
benchmark ledger (14,619 transactions), plus the folds and the lot runs of every instrument.

The book is kept in the load's `options_map` (the same dict for every plugin of one load, and the one the
loader returns with the entries) under a private key, together with the book-relevant entries it was built
from. It is reused only when the entries a consumer passes are, in everything `load_book` reads, the same:

- the directives the book reads (transactions, commodities, prices, opens, customs) are the same objects in the
  same order (`is`, so an equal-looking but different directive is not enough), or
- a transaction or commodity was replaced by a copy (a plugin's `entry._replace(...)`) whose date, flag, payee,
  narration, links and postings are the same objects or equal, and whose metadata holds every key of the
  original with the same value, plus only keys from PLUGIN_KEYS, which nothing in the book reads (labels,
  notes, P&L: the metadata our own plugins add). Tags are not read by the book, so a changed tag set is fine.
  Directives the book ignores (the notes plugin's `note`s, balances, documents) may come and go.

Anything else (a foreign plugin that changes a posting, a cost, a `conid`, or drops a transaction) and the
book is built again from the entries given, exactly as before. A reused book is then pointed at the new
objects, so it is what a fresh build would give: each event's `meta` becomes the new transaction's dict (the
plugins find a transaction's closings by `id(meta)`), `cash_postings` hold the new transactions, and an
instrument's `meta` is the new commodity's (the labels plugin's `labels` reach `Instrument.labels`).
E.g. reconcile builds the book from 30,000 directives; labels replaces 9,000 transactions (tags) and 480
commodities (`labels`); pnl_meta's check walks the 30,000 pairs (a few ms), re-points 480 instruments and reuses
the book with its folds and lot runs instead of 0.3 s + ~0.3 s of rebuilding.

Entries are immutable namedtuples, and Beancount's plugins (ours included) change one by returning a copy; a
plugin that edits a metadata dict or a postings list in place is outside that convention and not detected.
The stash pickles as empty, so Beancount's load cache never stores a book.
"""

from __future__ import annotations

from beancount.core import data

from .book import Book, load_book

#: Metadata our plugins add to transactions and commodities; load_book reads none of them.
PLUGIN_KEYS = frozenset({"labels", "label_weights", "note", "note_file", "realized", "realized_base",
                         "lots_closed"})
PLUGIN_PREFIX = "pnl_"
#: The directive types load_book reads; any other type may be added or removed without touching the book.
READ_TYPES = (data.Transaction, data.Commodity, data.Price, data.Open, data.Custom)
_KEY = "_beanflex_shared_book"


class _Stash:
    """The shared book and the directives it reflects; pickles as an empty stash (Beancount's load cache)."""

    __slots__ = ("book", "read", "builds")

    def __init__(self) -> None:
        self.book: Book | None = None
        self.read: list = []
        self.builds = 0  # how many times this load built a book (tests count it)

    def __reduce__(self):
        return (_Stash, ())


def shared_book(entries, options_map) -> Book:
    """The book of `entries`: the one this load already built when `entries` did not change what it read,
    else a new one (then kept for the next plugin or report of the load)."""
    stash = options_map.get(_KEY) if isinstance(options_map, dict) else None
    read = [e for e in entries if isinstance(e, READ_TYPES)]
    if isinstance(stash, _Stash) and stash.book is not None and _carry(stash, read):
        return stash.book
    book = load_book(entries, options_map)
    if isinstance(options_map, dict):
        if not isinstance(stash, _Stash):
            stash = options_map[_KEY] = _Stash()
        stash.book, stash.read = book, read
        stash.builds += 1
    return book


def builds(options_map) -> int:
    """How many books this load built (0: none yet)."""
    stash = options_map.get(_KEY)
    return stash.builds if isinstance(stash, _Stash) else 0


def _carry(stash: _Stash, read: list) -> bool:
    """True, with the stash's book pointed at `read`'s objects, when `read` differs from what the book was
    built from only as the module docstring allows; False (book untouched) otherwise."""
    old = stash.read
    if len(old) != len(read):
        return False
    metas: dict[int, dict] = {}
    txns: dict[int, data.Transaction] = {}
    commodities: dict[str, dict] = {}
    for a, b in zip(old, read):
        if a is b:
            continue
        if a.meta is None or type(a) is not type(b) or not _same_for_book(a, b):
            return False
        if isinstance(b, data.Transaction):
            txns[id(a)] = b
            if a.meta is not b.meta:
                metas[id(a.meta)] = b.meta
        elif a.meta is not b.meta:
            commodities[b.currency] = b.meta
    book = stash.book
    if metas:  # the events of the book and their folded copies (premium.folded_events), which the runs hold
        for events in [inst.events for inst in book.instruments.values()] + list(book.views.values()):
            for event in events:
                new = metas.get(id(event.meta))
                if new is not None:
                    event.meta = new
    if txns:
        book.cash_postings = [(txns.get(id(t), t), p) for t, p in book.cash_postings]
    for inst in book.instruments.values():
        if inst.symbol in commodities:
            inst.meta = dict(commodities[inst.symbol])
    stash.read = read
    return True


def _same_for_book(a, b) -> bool:
    """A copy of a transaction or commodity that load_book reads exactly as the original (see the docstring)."""
    if isinstance(a, data.Transaction):
        if not (a.date == b.date and a.flag == b.flag and a.payee == b.payee and a.narration == b.narration
                and a.links == b.links and (a.postings is b.postings or a.postings == b.postings)):
            return False
    elif isinstance(a, data.Commodity):
        if not (a.date == b.date and a.currency == b.currency):
            return False
    else:
        return False  # a price, open or custom replaced: the book reads all of them, build again
    return _only_added_plugin_keys(a.meta or {}, b.meta or {})


def _only_added_plugin_keys(old: dict, new: dict) -> bool:
    if old is new:
        return True
    for key, value in old.items():
        if key not in new or not (new[key] is value or new[key] == value):
            return False
    return all(key in old or key in PLUGIN_KEYS or key.startswith(PLUGIN_PREFIX) for key in new)
