"""Marks and rates from the statement as `price` directives (DESIGN §4: nothing is fetched from the internet).

Sources, in the order they win when two give the same (date, commodity, currency):
1. `OpenPositions` `markPrice` on the report date (meta source "OpenPositions.markPrice");
2. `Trades` `closePrice` on the trade date (source "Trade.closePrice");
3. `ConversionRates`: `fromCurrency` priced in `toCurrency` (source "ConversionRates"); `rate="-1"` is IBKR's
   "no rate" marker, never a price: it is skipped and reported as drift (a row's fxRateToBase may fill the gap);
4. a row's `fxRateToBase` for its `currency` on its date, where no ConversionRate gives that (date, currency)
   (source "fxRateToBase"), e.g. GBX at 0.01 GBP.

Instrument prices are per unit of the commodity, and an option's unit is one contract (docs/ledger-format.md), so
the price is IBKR's per-share mark times the multiplier: a call marked 1.25 with multiplier 100 is
`price SA-250919C17 125.00 USD` (bonds: percent of face ÷ 100); `mark_price`/`close_price` and `multiplier` (the
factor applied) meta keep IBKR's figure.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount

from .adapter import FlexRecord, FlexStatement
from .checks import position_groups
from .context import MapContext

#: Row tags whose `fxRateToBase` is a rate on the row's own date.
_FX_TAGS = frozenset({"Trade", "CashTransaction", "OpenPosition", "CorporateAction"})


def map_prices(statement: FlexStatement, ctx: MapContext) -> list[data.Price]:
    """Every mark and rate of one statement, one price per (date, commodity, currency), sorted."""
    prices: dict[tuple[datetime.date, str, str], data.Price] = {}

    def add(day, commodity, number, currency, source, record, **extra):
        key = (day, commodity, currency)
        if key in prices or commodity == currency:
            return
        meta = data.new_metadata(ctx.raw_path, record.line)
        meta["source"] = source
        meta["flex_src"] = ctx.src(record)
        meta.update({k: v for k, v in extra.items() if v is not None})
        prices[key] = data.Price(meta, day, commodity, Amount(number, currency))

    for group in position_groups(statement):
        record = group[0]
        mark, currency, commodity = record.decimal("markPrice"), record.text("currency"), ctx.commodity(record)
        day = record.date("reportDate") or statement.to_date
        if None not in (mark, currency, commodity, day):
            unit, factor = unit_price(record, mark)
            add(day, commodity, unit, currency, "OpenPositions.markPrice", record,
                mark_price=mark if factor != 1 else None, multiplier=factor if factor != 1 else None)

    for record in statement.rows("Trades", "Trade"):
        close, currency = record.decimal("closePrice"), record.text("currency")
        if record.text("assetCategory") == "CASH" or not close or currency is None:
            continue
        day = record.date("dateTime") or record.date("tradeDate")
        commodity = ctx.commodity(record)
        if day is not None and commodity is not None:
            unit, factor = unit_price(record, close)
            add(day, commodity, unit, currency, "Trade.closePrice", record,
                close_price=close if factor != 1 else None, multiplier=factor if factor != 1 else None)

    covered: set[tuple[datetime.date, str]] = set()
    for record in statement.rows("ConversionRates", "ConversionRate"):
        day, source, target = record.date("reportDate"), record.text("fromCurrency"), record.text("toCurrency")
        rate = record.decimal("rate")
        if None in (day, source, target, rate):
            continue
        if rate <= 0:
            ctx.drift.add("unmapped_row", "ConversionRates", record.tag,
                          f"rate={record.raw('rate')} is IBKR's 'no rate' marker; no price written",
                          ctx.raw_path, record.line)
            continue
        covered.add((day, source))
        add(day, source, rate, target, "ConversionRates", record)

    base = statement.base_currency
    for record in statement.records:
        if base is None or record.tag not in _FX_TAGS:
            continue
        currency, rate = record.text("currency"), record.decimal("fxRateToBase")
        day = _row_date(record)
        if currency is None or rate is None or rate <= 0 or day is None or currency == base:
            continue
        if (day, currency) not in covered:
            add(day, currency, rate, base, "fxRateToBase", record)

    return [prices[key] for key in sorted(prices)]


def unit_price(record: FlexRecord, quoted: Decimal) -> tuple[Decimal, Decimal]:
    """(price of one unit of the commodity, the factor applied): IBKR quotes options and futures per share or
    point, so one contract costs quoted × multiplier (1.25 × 100 = 125.00); bonds are quoted in percent of face
    and held in face units, so one unit costs quoted ÷ 100 (99.5 -> 0.995)."""
    if (record.text("assetCategory") or "") == "BOND":
        factor = Decimal("0.01")
    else:
        factor = record.decimal("multiplier") or Decimal(1)
    return quoted * factor, factor


def _row_date(record: FlexRecord) -> datetime.date | None:
    """The day a row's fxRateToBase applies to: its dateTime, else tradeDate, else reportDate."""
    return record.date("dateTime") or record.date("tradeDate") or record.date("reportDate")
