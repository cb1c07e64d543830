"""Shared helpers for the cash/prices/checks tests: map a small statement, print it as a loadable ledger, compare
it with its golden file `<case>.xml.beancount` (rewritten only when BEANFLEX_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import os
from pathlib import Path

from beancount.core import data
from beancount.parser import printer

from beanflex.importers.flex import adapter, cash, checks, prices
from beanflex.importers.flex.context import MapContext
from beanflex.importers.flex.drift import DriftReport
from beanflex.importers.flex.names import CommodityNamer

CASH_DIR = Path(__file__).resolve().parent / "fixtures" / "cash"
UPDATE = os.environ.get("BEANFLEX_UPDATE_GOLDEN") == "1"
_ORDER = {data.Open: 0, data.Transaction: 1, data.Price: 2, data.Custom: 3}


def load_statement(path: Path, index: int = 0) -> tuple[adapter.FlexStatement, MapContext]:
    """One statement of a file and a fresh MapContext, archived as raw/<acct>/<yyyy>/<file>."""
    document = adapter.parse(path.read_bytes(), path.name)
    statement = document.statements[index]
    year = statement.to_date.year if statement.to_date else 0
    ctx = MapContext(statement, f"raw/{statement.account}/{year}/{path.name}", CommodityNamer(), DriftReport())
    return statement, ctx


def map_all(statement, ctx, first_statement: bool = True) -> list:
    """Everything this slice writes for one statement, the way the orchestrator calls it."""
    entries = checks.opening_cash(statement, ctx) if first_statement else []
    entries += cash.map_cash_transactions(statement, ctx)
    entries += prices.map_prices(statement, ctx)
    entries += checks.map_position_checks(statement, ctx)
    entries += checks.map_cash_checks(statement, ctx)
    entries += checks.map_summaries(statement, ctx)
    return entries


def render(entries: list, ctx: MapContext, extra: str = "") -> str:
    """A loadable ledger: options, `open` for every account of the IBKR account, the entries in a stable order."""
    base = ctx.statement.base_currency or "USD"
    lines = [f'option "operating_currency" "{base}"', ""]
    lines += [f"1970-01-01 open {account}" for account in ctx.accounts.all()]
    lines.append("")
    ordered = sorted(entries, key=lambda e: (e.date, _ORDER.get(type(e), 9), e.meta.get("flex_id", ""),
                                             getattr(e, "currency", ""), e.meta.get("lineno", 0)))
    text = "\n".join(lines) + "\n" + "".join(printer.format_entry(e) + "\n" for e in ordered)
    return text + extra


def golden(name: str, text: str) -> str:
    """The reviewed golden text for fixture `name`; (re)written only with BEANFLEX_UPDATE_GOLDEN=1."""
    path = CASH_DIR / f"{name}.beancount"
    if UPDATE or not path.exists():
        if not UPDATE:
            raise AssertionError(f"{path} is missing; review the output and create it with BEANFLEX_UPDATE_GOLDEN=1")
        path.write_text(text)
    return path.read_text()
