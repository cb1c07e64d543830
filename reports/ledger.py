"""A ledger loaded for the reports: Beancount's loader once, then the book, the reconcile tolerance and labels.

The CLI and the Fava pages both start here, so "which tolerance" and "which labels.yaml" have one answer: the
ledger's own plugin lines (`plugin "beanflex.plugins.reconcile" "{'tolerance': '0.05'}"`, `plugin
"beanflex.plugins.labels" "../labels.yaml"`), else 0.01 and `<repo>/labels.yaml`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from beanflex.engine import pnl as pnl_mod
from beanflex.engine.book import Book
from beanflex.engine.shared_book import shared_book
from beanflex.engine.labels import configured_path, instruments_from_entries
from beanflex.engine.labels_config import load_labels
from beanflex.engine.reconcile import configured_tolerance

#: The P&L fields `explain` can break down, in the instrument's currency and in base.
PNL_FIELDS = pnl_mod.LOCAL_FIELDS + pnl_mod.BASE_FIELDS
#: Errors that are findings about the numbers, not a broken ledger: the reports show them themselves.
FINDINGS = ("ReconcileError", "LabelsError", "BalanceError")


class LedgerNotLoaded(Exception):
    """The ledger is missing or did not load; the message names the file and what to do."""


@dataclass
class LoadedLedger:
    main_file: Path
    entries: list
    errors: list
    options_map: dict

    @functools.cached_property
    def book(self) -> Book:
        return shared_book(self.entries, self.options_map)  # the plugins' book when the entries allow

    @property
    def tolerance(self) -> Decimal:
        return configured_tolerance(self.options_map)

    @property
    def instruments(self):
        """The ledger's instruments as labels.yaml rules match them (symbol, conid, ISIN, description, category)."""
        return instruments_from_entries(self.entries)

    def labels(self, default_path: Path):
        """(LabelsConfig, its errors, its path): the file the labels plugin line names, else `default_path`."""
        path = configured_path(self.options_map) or default_path
        config, errors = load_labels(path)
        return config, errors, path


def book(entries, options_map) -> Book:
    """Entries already loaded (by Fava) read into the book the reports take."""
    return shared_book(entries, options_map)


def load(main_file: Path) -> LoadedLedger:
    """Load `main_file`; LedgerNotLoaded when it is missing or no entry survived its errors."""
    from beancount import loader

    if not main_file.exists():
        raise LedgerNotLoaded(f"No ledger at {main_file}: run 'beanflex init' there, or pass --ledger PATH "
                              f"(or set BEANFLEX_LEDGER)")
    entries, errors, options_map = loader.load_file(str(main_file))
    fatal = [e for e in errors if type(e).__name__ not in FINDINGS]
    if fatal and not entries:
        first = fatal[0]
        where = f"{first.source.get('filename')}:{first.source.get('lineno')}" if first.source else main_file
        raise LedgerNotLoaded(f"The ledger did not load: {where}: {first.message} (run 'bean-check "
                              f"{main_file}' for all {len(fatal)} error(s))")
    return LoadedLedger(main_file, entries, errors, options_map)


def options(mode: str = "ibkr", method: str = "fifo", start=None, end=None, premium: str = "separate",
            currency: str | None = None) -> pnl_mod.Options:
    """The P&L options of a report: `--mode`, `--method`, `--from`, `--to`, `--premium`, `--currency`."""
    return pnl_mod.Options(mode=mode, method=method, start=start, end=end, premium=premium, currency=currency)
