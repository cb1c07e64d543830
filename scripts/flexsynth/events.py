"""The day loop of the synthetic Flex statement (`flexgen`): trades, closed lots, cash rows, splits, and assembly.

Each business day: FX rates move; the day's share of the N trades is executed (a buy first funds its currency by a
deposit or an FX conversion); dividends due are paid with withholding tax; on a few days a held stock splits;
the first business day of a month books interest, a market-data fee and perhaps a withdrawal. Rows go to the
generator's section files as they happen; `assemble` then writes the summary sections (CashReport, OpenPositions),
which need the whole history, ahead of them.

Worked example of one sale (all exact): lots 16 @ basis 1976.5572 and 8 @ basis 1000.1; SELL 20 @ 130,
commission -1.25: netCash 2598.75; basis closed 1976.5572 + 1000.1 x 4 / 8 = 2476.6072; cost -2476.6072;
fifoPnlRealized 122.1428; Lot rows +16 / 1976.5572 and +4 / 500.05.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation
from typing import TYPE_CHECKING

from . import options as flexgen_options

if TYPE_CHECKING:  # statement.py passes its generator in; it imports this module, not the other way round
    from .statement import _Generator, _Instrument

#: The few figures IBKR itself rounds (a sale's P&L split over its lots, costBasisPrice, FX rates, dividends).
ROUND = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero])
#: Opening quantities: 2^a x 5^b shares, so a lot's basis per share is a terminating decimal.
SMOOTH = sorted(2 ** a * 5 ** b for a in range(13) for b in range(6) if 2 ** a * 5 ** b <= 5000)
PAIR_CONID = {"EUR.USD": "12087792", "GBP.USD": "12087797", "USD.CHF": "12087820", "EUR.CHF": "12087802",
              "EUR.GBP": "12087807", "GBP.CHF": "12087806"}
_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
_FX_CONVERSION_FEE = Decimal(-2)
CASH_REPORT_FIELDS = ("commissions", "depositWithdrawals", "deposits", "withdrawals", "dividends",
                       "withholdingTax", "brokerInterest", "otherFees", "netTradesSales", "netTradesPurchases",
                       "transactionTax")
_US_VENUES = ("ISLAND", "NYSE", "ARCA", "BATS", "IEX", "DARK", "NASDAQ")


def num(value: Decimal | int) -> str:
    """IBKR's number style: plain digits, no exponent, no trailing zeros (`1700`, `-1.25`, `0`)."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_num = num


def _stamp(day: datetime.date, seconds: int) -> str:
    return f"{day:%Y%m%d};{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"


def _settle(day: datetime.date, business_days: int = 2) -> datetime.date:
    while business_days:
        day += datetime.timedelta(days=1)
        business_days -= day.weekday() < 5
    return day


def simulate(g: _Generator) -> None:
    """Run the whole period; afterwards the section files hold every event row and `g` the final state."""
    rng, n_days, emitted = g.rng, len(g.days), 0
    n_splits = min(6, 2 + g.n // 20_000)
    split_days = {(k + 1) * n_days // (n_splits + 1) for k in range(n_splits)}
    pending_dividends: list[tuple[int, _Instrument]] = []
    month = None
    flexgen_options.setup(g)
    for index, day in enumerate(g.days):
        g._walk_fx()
        g.day_has_rows = new_month = False
        if (day.year, day.month) != month:
            new_month = month is not None
            month = (day.year, day.month)
            pending_dividends = _schedule_dividends(g, day)
        target = g.n * (index + 1) // n_days
        clock = 34_200 + rng.randint(0, 600)  # 09:30 plus a few minutes
        emitted += flexgen_options.day(g, index, day, clock, target - emitted)
        step = max(2, 22_000 // max(1, target - emitted))
        while emitted < target:
            clock = min(57_599, clock + rng.randint(1, step))
            emitted += _trade(g, index, day, clock, target - emitted)
        while pending_dividends and pending_dividends[0][0] <= day.day:
            _pay_dividend(g, day, pending_dividends.pop(0)[1])
        if new_month:
            _month_start(g, day)
        if index in split_days and g.held:
            _split(g, index, day, rng.choice(g.held))
        if g.day_has_rows:
            for ccy in (c for c in g.currencies if c != g.base):
                g._emit("rates", f'\t\t\t<ConversionRate reportDate="{day:%Y%m%d}" fromCurrency="{ccy}" '
                                 f'toCurrency="{g.base}" rate="{_num(g.fx_to_base(ccy))}" />\n')


def _schedule_dividends(g: _Generator, day: datetime.date) -> list:
    months = day.year * 12 + day.month
    due = [(g.rng.randint(1, 25), inst) for inst in g.instruments
           if inst.div_rate is not None and (months - inst.div_offset) % inst.div_period == 0]
    return sorted(due, key=lambda pair: pair[0])


# ---- trades -------------------------------------------------------------------------------------------------
def _trade(g: _Generator, index: int, day: datetime.date, clock: int, slots: int) -> int:
    """One order (one or two fills, maybe preceded by an FX conversion); returns the Trade rows written."""
    rng = g.rng
    sell_pct = 60 if len(g.held) > len(g.instruments) * 6 // 10 else 42
    if g.held and rng.randint(0, 99) < sell_pct:
        inst = rng.choice(g.held)
        smaller = _smooth_upto(inst.position - 1)
        quantity = inst.position if not smaller or rng.randint(0, 9) < 4 else rng.choice(smaller)
        fills = _fills(rng, quantity, slots)
        return _order(g, inst, index, day, clock, [-q for q in fills])
    inst = g.instruments[rng.randrange(len(g.instruments))]
    price = g._touch(inst, index)
    wanted = max(1, int(Decimal(rng.randint(1_000, 20_000)) // price))
    quantity = _smooth_upto(wanted)[-1]
    need = quantity * price * Decimal("1.01") + 20
    written = 0
    if g.balance(inst.currency) < need:
        written = _fund(g, inst.currency, need - g.balance(inst.currency), day, max(34_200, clock - 1))
        if written == slots:  # the conversion took the day's last slot; the buy waits for another day
            return written
    fills = _fills(rng, quantity, slots - written)
    return written + _order(g, inst, index, day, clock, fills)


def _smooth_upto(limit: int) -> list[int]:
    return [q for q in SMOOTH if q <= limit]


def _fills(rng, quantity: int, slots: int) -> list[int]:
    """Partial executions of one order: mostly one fill, sometimes two halves (notes `P`)."""
    if slots >= 2 and quantity % 2 == 0 and rng.randint(0, 9) == 0:
        return [quantity // 2, quantity // 2]
    return [quantity]


def _commission(inst: _Instrument, quantity: int, value: Decimal) -> Decimal:
    """IBKR-like tiered commission (always <= 0): USD 0.0035/share (min 0.35, max 1%), EUR/CHF 0.05% (min 1.25/1.50)."""
    if inst.currency == "USD":
        return -min(max(Decimal("0.35"), abs(quantity) * Decimal("0.0035")), value * _CENT)
    minimum = Decimal("1.25") if inst.currency == "EUR" else Decimal("1.50")
    return -max(minimum, (value * Decimal("0.0005")).quantize(_MICRO, context=ROUND))


def _order(g: _Generator, inst: _Instrument, index: int, day: datetime.date, clock: int, fills: list[int]) -> int:
    rng, order_id = g.rng, g._next("order")
    brokerage_id = f"{int(order_id):012x}.{day.toordinal():08x}.0001"
    order_time = _stamp(day, max(0, clock - rng.randint(5, 3_000)))
    unit = 10 ** (inst.scale - 2)
    g._touch(inst, index)
    base_ticks = inst.ticks
    for quantity in fills:
        ticks = max(unit, base_ticks + rng.randint(-3, 3) * unit)
        price = Decimal(ticks).scaleb(-inst.scale)
        close = Decimal(max(unit, base_ticks + rng.randint(-40, 40) * unit)).scaleb(-inst.scale)
        trade_money = quantity * price
        proceeds = -trade_money
        taxes = -(trade_money * Decimal("0.003")).quantize(_CENT, context=ROUND) \
            if quantity > 0 and inst.exchange == "SBF" else Decimal(0)
        commission = _commission(inst, quantity, abs(trade_money))
        net_cash = proceeds + commission + taxes
        stamp = _stamp(day, clock)
        tx_id = g._next("tx")
        if quantity > 0:
            if inst.position == 0:
                g.held.append(inst)
            inst.lots.append([tx_id, stamp, quantity, -net_cash])
            inst.position += quantity
            cost, pnl, closed = -net_cash, Decimal(0), []
        else:
            closed = _close_fifo(inst, -quantity)
            cost = -sum((part for _, _, _, part in closed), Decimal(0))
            pnl = net_cash + cost
            inst.position += quantity
            if inst.position == 0:
                g.held.remove(inst)
        g._book(inst.currency, "netTradesPurchases" if quantity > 0 else "netTradesSales", proceeds)
        g._book(inst.currency, "commissions", commission)
        if taxes:
            g._book(inst.currency, "transactionTax", taxes)
        g.ids["exec"] += 1
        venue = g.rng.choice(_US_VENUES) if inst.currency == "USD" else inst.exchange
        g._emit("trades", (
            f'\t\t\t<Trade {g.acct_attrs} currency="{inst.currency}" fxRateToBase="{_num(g.fx_to_base(inst.currency))}" '
            f'{inst.block()} tradeID="{g._next("trade")}" reportDate="{day:%Y%m%d}" dateTime="{stamp}" '
            f'tradeDate="{day:%Y%m%d}" settleDateTarget="{_settle(day):%Y%m%d}" transactionType="ExchTrade" '
            f'exchange="{venue}" quantity="{quantity}" tradePrice="{_num(price)}" tradeMoney="{_num(trade_money)}" '
            f'proceeds="{_num(proceeds)}" taxes="{_num(taxes)}" ibCommission="{_num(commission)}" '
            f'ibCommissionCurrency="{inst.currency}" netCash="{_num(net_cash)}" closePrice="{_num(close)}" '
            f'openCloseIndicator="{"O" if quantity > 0 else "C"}" notes="{"P" if len(fills) > 1 else ""}" '
            f'cost="{_num(cost)}" fifoPnlRealized="{_num(pnl)}" fxPnl="0" mtmPnl="{_num((close - price) * quantity)}" '
            f'origTradePrice="0" origTradeDate="" origTradeID="" origOrderID="0" clearingFirmID="" '
            f'transactionID="{tx_id}" buySell="{"BUY" if quantity > 0 else "SELL"}" ibOrderID="{order_id}" '
            f'ibExecID="{0x12d00 + g.ids["exec"]:08x}.{day.toordinal():08x}.01.01" brokerageOrderID="{brokerage_id}" '
            f'orderReference="" volatilityOrderLink="" exchOrderId="N/A" extExecID="N/A" orderTime="{order_time}" '
            f'openDateTime="" holdingPeriodDateTime="" whenRealized="" whenReopened="" levelOfDetail="EXECUTION" '
            f'changeInPrice="0" changeInQuantity="0" orderType="{"LMT" if rng.randint(0, 3) else "MKT"}" traderID="" '
            f'isAPIOrder="N" accruedInt="0" />\n'))
        g.stats.trades += 1
        g.day_has_rows = True
        if closed:
            _write_lots(g, inst, day, stamp, closed, net_cash, pnl, -quantity)
        clock = min(57_599, clock + 1)
    return len(fills)


def _close_fifo(inst: _Instrument, quantity: int) -> list[tuple[str, str, int, Decimal]]:
    """Take `quantity` shares from the oldest lots; each gives up basis x taken / its remaining shares (exact)."""
    closed, left = [], quantity
    while left:
        lot = inst.lots[0]
        taken = min(left, lot[2])
        part = lot[3] * taken / lot[2]
        lot[2] -= taken
        lot[3] -= part
        if lot[2] == 0:
            inst.lots.popleft()
        closed.append((lot[0], lot[1], taken, part))
        left -= taken
    return closed


def _write_lots(g, inst, day, stamp, closed, net_cash: Decimal, pnl: Decimal, sold: int) -> None:
    """CLOSED_LOT rows after their Trade: quantity and cost with the opposite sign, P&L split by shares."""
    running = Decimal(0)
    for n, (open_id, open_stamp, taken, part) in enumerate(closed):
        if n == len(closed) - 1:
            lot_pnl = pnl - running
        else:
            lot_pnl = ROUND.divide(net_cash * taken, Decimal(sold)).quantize(_MICRO, context=ROUND) - part
        running += lot_pnl
        opened = datetime.date(int(open_stamp[:4]), int(open_stamp[4:6]), int(open_stamp[6:8]))
        g._emit("trades", (
            f'\t\t\t<Lot {g.acct_attrs} currency="{inst.currency}" fxRateToBase="{_num(g.fx_to_base(inst.currency))}" '
            f'{inst.block()} tradeID="" reportDate="{day:%Y%m%d}" dateTime="{stamp}" tradeDate="{day:%Y%m%d}" '
            f'settleDateTarget="" transactionType="" exchange="" quantity="{taken}" tradePrice="{_num(part / taken)}" '
            f'tradeMoney="" proceeds="" taxes="" ibCommission="" ibCommissionCurrency="" netCash="" closePrice="" '
            f'openCloseIndicator="C" notes="{"LT" if (day - opened).days > 365 else "ST"}" cost="{_num(part)}" '
            f'fifoPnlRealized="{_num(lot_pnl)}" fxPnl="0" mtmPnl="" transactionID="{open_id}" buySell="SELL" '
            f'ibOrderID="" ibExecID="" brokerageOrderID="" orderTime="" openDateTime="{open_stamp}" '
            f'holdingPeriodDateTime="{open_stamp}" levelOfDetail="CLOSED_LOT" />\n'))
        g.stats.lots += 1


def _fund(g: _Generator, ccy: str, shortfall: Decimal, day: datetime.date, clock: int) -> int:
    """Cover a buy: a deposit in base currency, or an FX conversion from base (returns the Trade rows: 0 or 1)."""
    if ccy == g.base:
        _cash_row(g, day, clock, ccy, None, "Deposits/Withdrawals", _round_up(shortfall + 10_000, 5_000),
                  "CASH RECEIPTS / ELECTRONIC FUND TRANSFERS", "deposits")
        return 0
    first, second, rate = g._pair(ccy, g.base)
    wanted = _round_up(shortfall + 5_000, 1_000)
    quantity = wanted if first == ccy else -_round_up(ROUND.divide(wanted, rate), 1_000)  # units of `first`
    base_cost = wanted * rate if first == ccy else -quantity
    if g.balance(g.base) < base_cost + 2:
        _cash_row(g, day, clock, g.base, None, "Deposits/Withdrawals", _round_up(base_cost + 10_000, 5_000),
                  "CASH RECEIPTS / ELECTRONIC FUND TRANSFERS", "deposits")
    trade_money = quantity * rate
    pair = f"{first}.{second}"
    g._book(first, "netTradesSales" if quantity < 0 else "netTradesPurchases", quantity)
    g._book(second, "netTradesSales" if quantity > 0 else "netTradesPurchases", -trade_money)
    g._book(g.base, "commissions", _FX_CONVERSION_FEE)
    g.ids["exec"] += 1
    g._emit("trades", (
        f'\t\t\t<Trade {g.acct_attrs} currency="{second}" fxRateToBase="{_num(g.fx_to_base(second))}" '
        f'assetCategory="CASH" symbol="{pair}" description="{pair}" conid="{_pair_conid(pair)}" securityID="" '
        f'securityIDType="" cusip="" isin="" listingExchange="" underlyingConid="" underlyingSymbol="" '
        f'underlyingSecurityID="" underlyingListingExchange="" issuer="" multiplier="1" strike="" expiry="" '
        f'putCall="" principalAdjustFactor="" tradeID="{g._next("trade")}" reportDate="{day:%Y%m%d}" '
        f'dateTime="{_stamp(day, clock)}" tradeDate="{day:%Y%m%d}" settleDateTarget="{_settle(day):%Y%m%d}" '
        f'transactionType="ExchTrade" exchange="IDEALFX" quantity="{_num(quantity)}" tradePrice="{_num(rate)}" '
        f'tradeMoney="{_num(trade_money)}" proceeds="{_num(-trade_money)}" taxes="0" '
        f'ibCommission="{_num(_FX_CONVERSION_FEE)}" ibCommissionCurrency="{g.base}" netCash="0" closePrice="0" '
        f'openCloseIndicator="" notes="" cost="0" fifoPnlRealized="0" fxPnl="0" mtmPnl="0" origTradePrice="0" '
        f'origTradeDate="" origTradeID="" origOrderID="0" clearingFirmID="" transactionID="{g._next("tx")}" '
        f'buySell="{"BUY" if quantity > 0 else "SELL"}" ibOrderID="{g._next("order")}" '
        f'ibExecID="{0x12d00 + g.ids["exec"]:08x}.{day.toordinal():08x}.01.01" brokerageOrderID="" '
        f'orderReference="" volatilityOrderLink="" exchOrderId="N/A" extExecID="N/A" orderTime="{_stamp(day, clock)}" '
        f'openDateTime="" holdingPeriodDateTime="" whenRealized="" whenReopened="" levelOfDetail="EXECUTION" '
        f'changeInPrice="0" changeInQuantity="0" orderType="MKT" traderID="" isAPIOrder="N" accruedInt="0" />\n'))
    g.stats.trades += 1
    g.stats.fx_trades += 1
    g.day_has_rows = True
    return 1


def _round_up(amount: Decimal, step: int) -> Decimal:
    return Decimal(-(-int(amount.to_integral_value(rounding=ROUND_CEILING)) // step) * step)


def _pair_conid(pair: str) -> str:
    return PAIR_CONID.get(pair, "12087899")


# ---- cash rows, dividends, splits -----------------------------------------------------------------------------
def _cash_row(g, day, clock, ccy, inst, kind, amount: Decimal, description, report_field, action_id="",
              ex_date="") -> None:
    """One CashTransaction DETAIL row (no SUMMARY twin), booked into the CashReport under `report_field`."""
    block = inst.block(description) if inst else (
        f'assetCategory="" symbol="" description="{description}" conid="" securityID="" securityIDType="" '
        f'cusip="" isin="" listingExchange="" underlyingConid="" underlyingSymbol="" underlyingSecurityID="" '
        f'underlyingListingExchange="" issuer="" multiplier="0" strike="" expiry="" putCall="" principalAdjustFactor=""')
    g._emit("cash", (
        f'\t\t\t<CashTransaction {g.acct_attrs} currency="{ccy}" fxRateToBase="{_num(g.fx_to_base(ccy))}" {block} '
        f'dateTime="{_stamp(day, clock)}" settleDate="{day:%Y%m%d}" amount="{_num(amount)}" type="{kind}" '
        f'tradeID="" code="" transactionID="{g._next("tx")}" reportDate="{day:%Y%m%d}" clientReference="" '
        f'actionID="{action_id}" levelOfDetail="DETAIL" exDate="{ex_date}" />\n'))
    g._book(ccy, report_field, amount)
    if report_field in ("deposits", "withdrawals"):
        g.cash[ccy]["depositWithdrawals"] = g.cash[ccy].get("depositWithdrawals", Decimal(0)) + amount
    g.stats.cash_transactions += 1
    g.day_has_rows = True


def _pay_dividend(g: _Generator, day: datetime.date, inst: _Instrument) -> None:
    if inst.position <= 0:
        return
    gross = (inst.position * inst.div_rate).quantize(_CENT, context=ROUND)
    if gross <= 0:
        return
    tax = -(gross * inst.wht_rate).quantize(_CENT, context=ROUND)
    action, ex_date = g._next("action"), f"{day - datetime.timedelta(days=14):%Y%m%d}"
    text = f"{inst.symbol}({inst.isin}) CASH DIVIDEND {inst.currency} {inst.div_rate} PER SHARE"
    _cash_row(g, day, 73_200, inst.currency, inst, "Dividends", gross, f"{text} (Ordinary Dividend)", "dividends",
              action, ex_date)
    if tax:
        _cash_row(g, day, 73_200, inst.currency, inst, "Withholding Tax", tax, f"{text} - {inst.tax_country} TAX",
                  "withholdingTax", action, ex_date)


def _month_start(g: _Generator, day: datetime.date) -> None:
    """Interest on last month's base cash, the market-data fee, and a withdrawal when cash piles up."""
    last = (day.replace(day=1) - datetime.timedelta(days=1)).strftime("%b-%Y").upper()
    interest = (g.balance(g.base) * Decimal("0.0005")).quantize(_CENT, context=ROUND)
    if interest > 0:
        _cash_row(g, day, 72_000, g.base, None, "Broker Interest Received", interest,
                  f"{g.base} CREDIT INT FOR {last}", "brokerInterest")
    _cash_row(g, day, 72_000, "USD", None, "Other Fees", Decimal("-10.00"),
              f"P*****77:NYSE (NP,L1) FOR {last.replace('-', ' ')}", "otherFees")
    if g.balance(g.base) > 250_000:
        _cash_row(g, day, 72_000, g.base, None, "Deposits/Withdrawals", Decimal(-100_000),
                  "DISBURSEMENT INITIATED BY SYNTHETIC TRADER", "withdrawals")


def _split(g: _Generator, index: int, day: datetime.date, inst: _Instrument) -> None:
    """A forward split of a held stock: one FS row with the added shares; every lot keeps its basis."""
    ratio = g.rng.choice((2, 2, 4, 10))
    added = inst.position * (ratio - 1)
    for lot in inst.lots:
        lot[2] *= ratio
    inst.position += added
    g._touch(inst, index)
    inst.ticks = max(1, inst.ticks // ratio)
    text = f"{inst.symbol}({inst.isin}) SPLIT {ratio} FOR 1 ({inst.symbol}, {inst.name}, {inst.isin})"
    g._emit("ca", (
        f'\t\t\t<CorporateAction {g.acct_attrs} currency="{inst.currency}" '
        f'fxRateToBase="{_num(g.fx_to_base(inst.currency))}" {inst.block(text)} reportDate="{day:%Y%m%d}" '
        f'dateTime="{_stamp(day, 73_500)}" actionDescription="{text}" amount="0" proceeds="0" value="0" '
        f'quantity="{added}" fifoPnlRealized="0" mtmPnl="0" code="" type="FS" transactionID="{g._next("tx")}" '
        f'actionID="{g._next("action")}" levelOfDetail="DETAIL" />\n'))
    g.stats.splits += 1
    g.day_has_rows = True
