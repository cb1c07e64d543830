"""One ledger load builds the book once: the reconcile and pnl_meta plugins and the reports share it
(engine/shared_book.py), and what they get equals a book built fresh from the final entries."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data

from beanflex.cli import cli  # noqa: F401 - cli first: it imports the cmd_* modules in order
from beanflex.cmd_demo import build_demo
from beanflex.engine import book as book_mod
from beanflex.engine import pnl, shared_book
from beanflex.engine.reconcile import reconcile_book
from beanflex.reports import ledger as report_ledger

FIELDS = pnl.LOCAL_FIELDS + pnl.BASE_FIELDS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workspace (labels.yaml, notes on instruments and events) with `all.beancount`: main.beancount's
    plugins (reconcile, labels, notes) then pnl_meta, as the benchmark's P2 loads it (Beancount reads plugin lines
    of the root file only, so query.beancount runs pnl_meta alone)."""
    root = tmp_path_factory.mktemp("shared") / "demo"
    build_demo(root)
    main = root / "ledger" / "main.beancount"
    text = main.read_text(encoding="utf-8")
    main.with_name("all.beancount").write_text(text + '\nplugin "beanflex.plugins.pnl_meta"\n', encoding="utf-8")
    return root / "ledger"


@pytest.fixture
def counted(monkeypatch):
    """Counts load_book calls, whoever makes them."""
    calls = []
    real = book_mod.load_book

    def counting(entries, options_map):
        calls.append(len(entries))
        return real(entries, options_map)

    monkeypatch.setattr(shared_book, "load_book", counting)
    return calls


def pnl_figures(book):
    return [(r.instrument.account, r.instrument.symbol, [r.value(f) for f in FIELDS],
             [(c.event.flex_id, c.realized, c.base_realized) for c in r.closings])
            for r in pnl.book_pnl(book, pnl.Options())]


def test_a_load_with_all_plugins_builds_the_book_once_and_it_equals_a_fresh_one(demo, counted):
    entries, errors, options_map = loader.load_file(str(demo / "all.beancount"))
    assert not [e for e in errors if type(e).__name__ != "ReconcileError"]
    # the loaded entries carry the plugins' work: pnl_meta's `realized`, the labels' tags, an event's note
    assert any("realized" in (e.meta or {}) for e in entries)
    assert any(e.tags for e in entries if isinstance(e, data.Transaction))
    assert any("note" in (e.meta or {}) for e in entries if isinstance(e, data.Transaction))
    assert len(counted) == 1 and shared_book.builds(options_map) == 1  # reconcile built it, pnl_meta reused it

    loaded = report_ledger.LoadedLedger(demo / "all.beancount", entries, errors, options_map)
    shared = loaded.book  # what `beanflex report …` takes after this load
    assert len(counted) == 1  # still the one book
    fresh = book_mod.load_book(entries, options_map)
    assert pnl_figures(shared) == pnl_figures(fresh) and pnl_figures(shared)
    assert [(d.flex_id, d.field, d.diff) for d in reconcile_book(shared).diffs] == \
        [(d.flex_id, d.field, d.diff) for d in reconcile_book(fresh).diffs]
    for key, inst in fresh.instruments.items():
        assert shared.instruments[key].meta == inst.meta  # labels, notes and pnl_* of the final commodities
        assert shared.instruments[key].labels == inst.labels
    # every event points at its transaction's metadata as loaded, as a fresh book's do (pnl_meta and the
    # reconcile errors find transactions by it)
    final_metas = {id(e.meta) for e in entries if isinstance(e, data.Transaction)}
    assert all(id(ev.meta) in final_metas for inst in shared.instruments.values() for ev in inst.events)
    assert {id(t) for t, _ in shared.cash_postings} <= {id(e) for e in entries}


def test_the_plugins_metadata_equals_a_load_that_shares_nothing(demo, counted, monkeypatch):
    shared_entries, _, _ = loader.load_file(str(demo / "all.beancount"))
    monkeypatch.setattr(shared_book, "_carry", lambda stash, read: False)  # every consumer builds its own
    alone_entries, _, options_map = loader.load_file(str(demo / "all.beancount"))
    assert shared_book.builds(options_map) == 2  # reconcile's and pnl_meta's, as before the sharing
    keys = ("realized", "realized_base", "lots_closed", "pnl_total", "pnl_base_total", "pnl_lots", "labels")
    assert [{k: (e.meta or {}).get(k) for k in keys} for e in shared_entries] == \
        [{k: (e.meta or {}).get(k) for k in keys} for e in alone_entries]
    # the demo's AAPL sale: 15 sold at 130 against lots at 100.1 and 120.1, realized 347.0 (DESIGN §4)
    assert any(e.meta.get("realized") == Decimal("347.0") for e in shared_entries if isinstance(e, data.Transaction))


def test_a_change_the_book_reads_builds_it_again(demo, counted):
    entries, _, options_map = loader.load_file(str(demo / "main.beancount"))
    first = shared_book.shared_book(entries, options_map)
    assert shared_book.shared_book(list(entries), options_map) is first  # same directives, another list
    i = next(i for i, e in enumerate(entries) if isinstance(e, data.Transaction) and "flex_id" in e.meta)
    # a foreign plugin moving a trade by a day, or changing a key the book reads: a new book
    moved = entries[:i] + [entries[i]._replace(date=entries[i].date.replace(day=1))] + entries[i + 1:]
    assert shared_book.shared_book(moved, options_map) is not first
    renamed = entries[:i] + [entries[i]._replace(meta={**entries[i].meta, "event": "transfer"})] + entries[i + 1:]
    before = shared_book.builds(options_map)
    shared_book.shared_book(renamed, options_map)
    assert shared_book.builds(options_map) == before + 1
    dropped = entries[:i] + entries[i + 1:]
    shared_book.shared_book(dropped, options_map)
    assert shared_book.builds(options_map) == before + 2


def test_the_stash_never_reaches_the_load_cache(demo):
    _, _, options_map = loader.load_file(str(demo / "main.beancount"))
    assert shared_book.builds(options_map) == 1
    restored = pickle.loads(pickle.dumps(options_map))  # what Beancount's pickle cache stores
    assert shared_book.builds(restored) == 0
