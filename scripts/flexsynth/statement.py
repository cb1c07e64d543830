"""A synthetic IBKR Flex statement with N trades whose own figures reconcile exactly (the benchmark input).

One `FlexQueryResponse` (type AF) holds one `FlexStatement` over several years: several hundred stocks in USD, EUR
and CHF, buys and FIFO partial closes with their `<Lot levelOfDetail="CLOSED_LOT">` rows, FX conversions, dividends
with withholding tax, fees, interest, deposits, a few forward splits, open positions with marks, conversion rates and
a cash report; from 200 trades on also options (options.py: wheels with assignments, covered calls called away or
rolled, spreads in combo orders, expiries, adjusted contracts, OptionEAE rows, IBKR's premium folding). IBKR's own fields are filled the way IBKR fills them, so a correct importer and lot engine match
them to the cent and beyond:

- every stock trade: tradeMoney = quantity x tradePrice, proceeds = -tradeMoney,
  netCash = proceeds + ibCommission + taxes; e.g. BUY 16 @ 123.4567, commission -1.25: tradeMoney 1975.3072,
  netCash -1976.5572, cost 1976.5572 (opening rows: cost = -netCash, commission inside the basis);
- closing rows: cost = -(FIFO basis closed), fifoPnlRealized = netCash + cost, each lot giving up its basis
  pro rata: a lot of 16 with basis 1976.5572 sold 10 gives up 1976.5572 x 10 / 16 = 1235.34825;
- open positions: costBasisMoney = basis left in the lots, fifoPnlUnrealized = positionValue - costBasisMoney;
- CashReport: endingCash = startingCash (0) + every cash row of that currency.

Opening quantities are 2^a x 5^b shares (1, 2, 4, 5, 8, 10, 16, 20, 25, ...) and splits are 2, 4 or 10 for 1, so
every lot's basis per share is a terminating decimal and the pro-rata basis above is exact: nothing is rounded
except the per-lot split of a sale's P&L (6 decimals, the last lot takes the remainder, as IBKR does) and the
display-only costBasisPrice. All arithmetic is Decimal under a context that traps inexact results.

Deterministic for a seed (one `random.Random(seed)`, integer draws only). Rows stream to temporary files section by
section, so memory stays flat: 100k trades make ~230 MB of XML in ~7 s with ~20 MB of RSS.
"""

from __future__ import annotations

import datetime
import math
import random
import shutil
import tempfile
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, localcontext
from typing import BinaryIO

from . import events as flexgen_events
from . import options as flexgen_options
from .events import ROUND as _ROUND
from .events import num as _num

#: Arithmetic that must be exact: any rounding raises, so an inexact figure can never slip into the statement.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Inexact])
_ZERO = Decimal(0)
#: Starting value of one unit in USD, in 1e-5 (EUR 1.10 USD); each walks a little every business day.
_START_USD_RATE = {"USD": 100_000, "EUR": 110_000, "CHF": 102_000, "GBP": 145_000}
#: FX pairs are quoted the market's way round: the earlier currency here is the pair's first (EUR.USD, USD.CHF).
_PAIR_ORDER = ("EUR", "GBP", "USD", "CHF")
#: (listing exchange, ISIN country, withholding rate, tax country, company suffix) by trade currency.
_MARKETS = {"USD": (("NASDAQ", "US", "0.15", "US", "INC"), ("NYSE", "US", "0.15", "US", "CORP")),
            "EUR": (("IBIS", "DE", "0.26375", "DE", "AG"), ("SBF", "FR", "0.128", "FR", "SA"),
                    ("AEB", "NL", "0.15", "NL", "NV")),
            "CHF": (("EBS", "CH", "0.35", "CH", "AG"),)}
_SYLLABLES = ("AR", "BEL", "COR", "DAN", "EX", "FOR", "GAL", "HEL", "IN", "JAR", "KOR", "LUM", "MER", "NOV", "OR",
              "PAX", "QUA", "RIV", "SOL", "TER", "UL", "VAN", "WEST", "XEN", "YOR", "ZEN")
_NAME_TAILS = ("HOLDINGS", "SYSTEMS", "TECHNOLOGIES", "ENERGY", "PHARMA", "INDUSTRIES", "GROUP", "BANK", "FOODS")


@dataclass
class GenStats:
    """What one run wrote, for the benchmark's table (counts of rows by kind)."""

    trades: int = 0
    fx_trades: int = 0
    lots: int = 0
    instruments: int = 0
    cash_transactions: int = 0
    splits: int = 0
    open_positions: int = 0
    days: int = 0
    option_trades: int = 0
    option_events: int = 0
    adjusted_contracts: int = 0


@dataclass(eq=False)  # compared by identity: `held.remove(inst)` must not compare lots
class _Instrument:
    conid: str
    symbol: str
    currency: str
    scale: int  # decimals of the price: 2, 3 or 4
    ticks: int  # current price in units of 10**-scale
    name: str
    exchange: str  # listingExchange
    head: str  # rendered `assetCategory … symbol` attributes (rows put their own description after them)
    tail: str  # rendered `conid … principalAdjustFactor` attributes
    div_rate: Decimal | None
    div_period: int  # months between dividends
    div_offset: int
    wht_rate: Decimal
    tax_country: str
    isin: str
    last_day: int = 0
    position: int = 0
    lots: deque = field(default_factory=deque)  # [transactionID, openDateTime, quantity, basis], oldest first

    def block(self, description: str | None = None) -> str:
        """The instrument attributes in IBKR's order, with the row's own description (default: the name)."""
        return f'{self.head} description="{description or self.name}" {self.tail}'

    @property
    def price(self) -> Decimal:
        return Decimal(self.ticks).scaleb(-self.scale)


def generate(n_trades: int, seed: int, *, account: str = "U7654321", base_currency: str = "USD",
             start: datetime.date = datetime.date(2016, 1, 4)) -> bytes:
    """The whole statement as bytes (for tests and small N; use `write` to stream 100k trades to a file)."""
    with tempfile.TemporaryFile() as out:
        write(out, n_trades, seed, account=account, base_currency=base_currency, start=start)
        out.seek(0)
        return out.read()


def write(out: BinaryIO, n_trades: int, seed: int, *, account: str = "U7654321", base_currency: str = "USD",
          start: datetime.date = datetime.date(2016, 1, 4)) -> GenStats:
    """Write a statement with exactly `n_trades` `<Trade>` EXECUTION rows (FX conversions included) to `out`."""
    if n_trades < 1:
        raise ValueError("n_trades must be at least 1")
    if base_currency not in _START_USD_RATE:
        raise ValueError(f"base currency {base_currency!r} not supported; use one of {sorted(_START_USD_RATE)}")
    with localcontext(_EXACT):
        return _Generator(n_trades, seed, account, base_currency, start).run(out)


def _ymd(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def _isin(country: str, nsin: str) -> str:
    """An ISIN with a valid check digit (letters become 10..35, then the Luhn sum over the digits)."""
    digits = "".join(str(int(c, 36)) for c in country + nsin)
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return f"{country}{nsin}{(10 - total % 10) % 10}"


def _business_days(start: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


class _Generator:
    """One run: the market (prices, FX), the account (cash, lots) and the section files being written."""

    def __init__(self, n_trades: int, seed: int, account: str, base: str, start: datetime.date) -> None:
        self.n, self.rng, self.account, self.base = n_trades, random.Random(seed), account, base
        self.days = _business_days(start, min(2520, max(504, n_trades // 8)))
        self.usd_rate = dict(_START_USD_RATE)
        self.currencies = sorted({"USD", "EUR", "CHF", base})
        self.day_has_rows = False
        self.cash: dict[str, dict[str, Decimal]] = {}
        self.stats = GenStats(days=len(self.days))
        self.ids = {"tx": 1_900_000_000, "trade": 400_000_000, "order": 700_000_000, "action": 90_000_000, "exec": 0}
        self.instruments = self._make_instruments(min(600, n_trades // 20 + 5))
        self.held: list[_Instrument] = []
        self.files = {name: tempfile.TemporaryFile() for name in ("trades", "ca", "cash", "rates", "eae")}
        self.acct_attrs = f'accountId="{account}" acctAlias="" model=""'

    # ---- identities and market -------------------------------------------------------------------------------
    def _next(self, kind: str) -> str:
        self.ids[kind] += self.rng.randint(1, 40)
        return str(self.ids[kind])

    def _make_instruments(self, count: int) -> list[_Instrument]:
        rng, used_symbols, used_conids, result = self.rng, set(), set(), []
        while len(result) < count:
            roll = rng.randint(0, 99)
            currency = "USD" if roll < 55 else "EUR" if roll < 85 else "CHF"
            exchange, country, wht, tax_country, suffix = rng.choice(_MARKETS[currency])
            symbol = "".join(chr(65 + rng.randint(0, 25)) for _ in range(rng.randint(2, 4)))
            conid = str(rng.randint(4_000_000, 690_000_000))
            if symbol in used_symbols or conid in used_conids:
                continue
            used_symbols.add(symbol)
            used_conids.add(conid)
            name = f"{rng.choice(_SYLLABLES)}{rng.choice(_SYLLABLES)} {rng.choice(_NAME_TAILS)} {suffix}"
            cusip = f"{rng.randint(0, 10**8 - 1):08d}{rng.randint(0, 9)}" if country == "US" else ""
            isin = _isin(country, cusip or f"{rng.randint(0, 10**9 - 1):09d}")
            scale = 4 if roll % 10 == 0 else 3 if roll % 10 == 1 and currency == "EUR" else 2
            price_cents = rng.randint(150, 60000) if scale == 2 else rng.randint(100, 2500)
            tail = (f'conid="{conid}" securityID="{isin}" securityIDType="ISIN" cusip="{cusip}" isin="{isin}" '
                    f'listingExchange="{exchange}" underlyingConid="" underlyingSymbol="{symbol}" '
                    f'underlyingSecurityID="" underlyingListingExchange="" issuer="" multiplier="1" strike="" '
                    f'expiry="" putCall="" principalAdjustFactor=""')
            pays = rng.randint(0, 9) < 6
            result.append(_Instrument(
                conid=conid, symbol=symbol, currency=currency, scale=scale, ticks=price_cents * 10 ** (scale - 2),
                name=name, exchange=exchange, head=f'assetCategory="STK" symbol="{symbol}"', tail=tail, div_rate=Decimal(rng.randint(50, 3000)).scaleb(-4) if pays else None,
                div_period=3 if currency == "USD" else 12, div_offset=rng.randint(0, 11), wht_rate=Decimal(wht),
                tax_country=tax_country, isin=isin))
        self.stats.instruments = len(result)
        return result

    def _touch(self, inst: _Instrument, day_index: int) -> Decimal:
        """Move the price by a random walk scaled by the business days since it was last looked at."""
        elapsed = day_index - inst.last_day
        if elapsed > 0:
            step = max(-3000, min(3000, self.rng.randint(-180, 185) * math.isqrt(min(elapsed, 49))))
            inst.ticks = max(10 ** inst.scale, inst.ticks * (10_000 + step) // 10_000)
            inst.last_day = day_index
        return inst.price

    def _walk_fx(self) -> None:
        for ccy in ("EUR", "CHF", "GBP"):
            self.usd_rate[ccy] = max(60_000, min(160_000, self.usd_rate[ccy] + self.rng.randint(-400, 400)))

    def fx_to_base(self, ccy: str) -> Decimal:
        if ccy == self.base:
            return Decimal(1)
        exact = _ROUND.divide(Decimal(self.usd_rate[ccy]), Decimal(self.usd_rate[self.base]))
        return exact.quantize(Decimal("0.00001"), context=_ROUND)

    def _pair(self, ccy_a: str, ccy_b: str) -> tuple[str, str, Decimal]:
        first, second = sorted((ccy_a, ccy_b), key=_PAIR_ORDER.index)
        rate = _ROUND.divide(Decimal(self.usd_rate[first]), Decimal(self.usd_rate[second]))
        return first, second, rate.quantize(Decimal("0.00001"), context=_ROUND)

    # ---- writing ---------------------------------------------------------------------------------------------
    def _emit(self, section: str, text: str) -> None:
        self.files[section].write(text.encode())

    def _book(self, ccy: str, field_name: str, amount: Decimal) -> None:
        book = self.cash.setdefault(ccy, {})
        book[field_name] = book.get(field_name, _ZERO) + amount
        book["endingCash"] = book.get("endingCash", _ZERO) + amount

    def balance(self, ccy: str) -> Decimal:
        return self.cash.get(ccy, {}).get("endingCash", _ZERO)

    def run(self, out: BinaryIO) -> GenStats:
        try:
            flexgen_events.simulate(self)
            self._assemble(out)
        finally:
            for handle in self.files.values():
                handle.close()
        return self.stats

    # ---- the document ----------------------------------------------------------------------------------------
    def _assemble(self, out: BinaryIO) -> None:
        """Header and summary sections, then the event sections copied from their temporary files."""
        first, last = self.days[0], self.days[-1]
        generated = last + datetime.timedelta(days=1)
        out.write((f'<FlexQueryResponse queryName="beanflex synthetic {self.n}" type="AF">\n'
                   f'<FlexStatements count="1">\n'
                   f'<FlexStatement accountId="{self.account}" fromDate="{_ymd(first)}" toDate="{_ymd(last)}" '
                   f'period="Custom" whenGenerated="{_ymd(generated)};083015">\n'
                   f'\t<AccountInformation {self.acct_attrs} currency="{self.base}" name="Synthetic Trader" '
                   f'accountType="Individual" customerType="Individual" accountCapabilities="Margin" '
                   f'tradingPermissions="Stocks,Forex" dateOpened="{_ymd(first)}" dateFunded="{_ymd(first)}" '
                   f'dateClosed="" country="Switzerland" ibEntity="IB-UK" />\n').encode())
        out.write(self._cash_report(first, last).encode())
        out.write(self._open_positions(last).encode())
        for section, name in (("trades", "Trades"), ("eae", "OptionEAE"), ("ca", "CorporateActions"),
                              ("cash", "CashTransactions"), ("rates", "ConversionRates")):
            if section == "eae" and not self.files["eae"].tell():
                continue  # no options (a statement under 200 trades): no section, as before
            out.write(f"\t<{name}>\n".encode())
            self.copy_section(section, out)
            out.write(f"\t</{name}>\n".encode())
        out.write(b"</FlexStatement>\n</FlexStatements>\n</FlexQueryResponse>\n")

    def _cash_report(self, first: datetime.date, last: datetime.date) -> str:
        """One CashReportCurrency per currency: startingCash 0, each activity field, endingCash = their sum."""
        lines = ["\t<CashReport>\n"]
        for ccy in self.currencies:
            book = self.cash.get(ccy, {})
            fields = " ".join(f'{name}="{_num(book.get(name, _ZERO))}"' for name in flexgen_events.CASH_REPORT_FIELDS)
            ending = _num(book.get("endingCash", _ZERO))
            lines.append(f'\t\t<CashReportCurrency {self.acct_attrs} currency="{ccy}" levelOfDetail="Currency" '
                         f'fromDate="{_ymd(first)}" toDate="{_ymd(last)}" startingCash="0" {fields} '
                         f'fxTranslationGainLoss="0" endingCash="{ending}" endingSettledCash="{ending}" />\n')
        lines.append("\t</CashReport>\n")
        return "".join(lines)

    def _open_positions(self, last: datetime.date) -> str:
        """SUMMARY rows marked at the last day's price; cost basis = what the lots still hold (exact)."""
        last_index = len(self.days) - 1
        held = sorted(self.held + flexgen_options.held_stock(self), key=lambda inst: (inst.currency, inst.symbol))
        rows = []
        for inst in held:
            mark = self._touch(inst, last_index)
            value = inst.position * mark
            basis = sum((lot[3] for lot in inst.lots), _ZERO)
            rows.append((inst, mark, value, basis))
        nav = sum((self.balance(c) * self.fx_to_base(c) for c in self.currencies), _ZERO)
        nav += sum((value * self.fx_to_base(inst.currency) for inst, _, value, _ in rows), _ZERO)
        lines = ["\t<OpenPositions>\n"]
        for inst, mark, value, basis in rows:
            price = _ROUND.divide(basis, Decimal(inst.position)).quantize(Decimal("1e-9"), context=_ROUND)
            share = _ROUND.divide(value * self.fx_to_base(inst.currency) * 100, nav) if nav > 0 else _ZERO
            lines.append(
                f'\t\t<OpenPosition {self.acct_attrs} currency="{inst.currency}" '
                f'fxRateToBase="{_num(self.fx_to_base(inst.currency))}" {inst.block()} reportDate="{_ymd(last)}" '
                f'position="{inst.position}" markPrice="{_num(mark)}" positionValue="{_num(value)}" '
                f'openPrice="{_num(price)}" costBasisPrice="{_num(price)}" costBasisMoney="{_num(basis)}" '
                f'percentOfNAV="{_num(share.quantize(Decimal("0.01"), context=_ROUND))}" '
                f'fifoPnlUnrealized="{_num(value - basis)}" side="Long" levelOfDetail="SUMMARY" openDateTime="" '
                f'holdingPeriodDateTime="" code="" originatingOrderID="" originatingTransactionID="" />\n')
        lines.append("\t</OpenPositions>\n")
        self.stats.open_positions = len(rows)
        return "".join(lines)

    def copy_section(self, name: str, out: BinaryIO) -> None:
        handle = self.files[name]
        handle.seek(0)
        shutil.copyfileobj(handle, out, 1 << 20)
