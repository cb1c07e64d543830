"""Options in the synthetic statement, written the way IBKR writes them (DESIGN §8, flex-schema §3 and §7).

A few USD stocks are traded only through options, each by a small state machine (a `_Wheel`): a short put that
expires or is assigned, covered calls on the assigned shares that expire, are rolled (a combo order: buy back the
call and sell a later one, one `ibOrderID`) or are called away; bull call spreads opened and closed as combo
orders; long calls that expire or are sold. One short put in eight is on an adjusted contract (root `XYZ1`, one
contract delivers 125 shares, as after a 5-for-4 split). Every expiry, assignment and delivery is a BookTrade at
16:20 with its `<OptionEAE>` twin, and every closing Trade is followed by its CLOSED_LOT `<Lot>` rows.

IBKR folds an assigned option's net premium into the stock leg, and so does this generator:
- the option's closing BookTrade says `cost` = its basis back, `fifoPnlRealized` 0;
- short put assigned: the stock BUY says cost = strike x shares (the cash paid), but the lot it opens holds
  strike x shares - premium: later Lot rows, sales' `cost` and OpenPositions' `costBasisMoney` show that;
- covered call called away: the stock SELL's `fifoPnlRealized` = netCash + cost + the call's premium.

Worked example: sell 2 XYZ 50 P @ 1.25, commission -1.30: netCash 248.70, cost -248.70. Assigned: option BUY 2 @ 0,
cost 248.70, realized 0; stock BUY 200 @ 50, netCash -10000, cost 10000; the lot's basis 10000 - 248.70 = 9751.30.
Sell 2 XYZ 55 C @ 0.80, commission -1.30: netCash 158.70. Called away: stock SELL 200 @ 55, netCash 11000, cost
-9751.30, realized 11000 - 9751.30 + 158.70 = 1407.40; the call's BookTrade: cost 158.70, realized 0.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from . import events

if TYPE_CHECKING:
    from .statement import _Generator, _Instrument

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_BOOK_TIME = 58_800  # 16:20:00, when IBKR books expiries, assignments and deliveries
_MARGIN_DAYS = 11  # no option lives into the last days: the statement's exact trade count is filled by stocks


@dataclass(eq=False)
class _Leg:
    """One option contract line: its instrument (position and lots live there) and its terms."""

    inst: _Instrument
    strike: Decimal
    right: str  # "P" or "C"
    expiry_index: int
    deliverable: int  # shares one contract delivers: 100, or 125 for an adjusted contract


@dataclass(eq=False)
class _Wheel:
    """The option program on one underlying: what is open and what comes next."""

    stock: _Instrument
    phase: str = "flat"  # flat | put | stock | call | spread | long
    legs: list[_Leg] = field(default_factory=list)
    rest_until: int = 0


def setup(g: _Generator) -> None:
    """Pick the option underlyings: none below 200 trades, then one per 2,500 trades (at least two)."""
    count = 0 if g.n < 200 else max(2, g.n // 2_500)
    g.wheels = [_Wheel(stock) for stock in _underlyings(g, count)]
    g.ids.setdefault("optconid", 750_000_000)


def held_stock(g: _Generator) -> list:
    return [w.stock for w in getattr(g, "wheels", ()) if w.stock.position]


def _underlyings(g: _Generator, count: int) -> list:
    from .statement import _Instrument, _isin

    rng, result = g.rng, []
    used = {i.symbol for i in g.instruments} | {i.conid for i in g.instruments}
    while len(result) < count:
        symbol = "".join(chr(65 + rng.randint(0, 25)) for _ in range(3))
        conid = str(rng.randint(4_000_000, 690_000_000))
        if symbol in used or conid in used:
            continue
        used |= {symbol, conid}
        cusip = f"{rng.randint(0, 10**8 - 1):08d}{rng.randint(0, 9)}"
        isin = _isin("US", cusip)
        tail = (f'conid="{conid}" securityID="{isin}" securityIDType="ISIN" cusip="{cusip}" isin="{isin}" '
                f'listingExchange="NASDAQ" underlyingConid="" underlyingSymbol="{symbol}" underlyingSecurityID="" '
                f'underlyingListingExchange="" issuer="" multiplier="1" strike="" expiry="" putCall="" '
                f'principalAdjustFactor=""')
        result.append(_Instrument(
            conid=conid, symbol=symbol, currency="USD", scale=2, ticks=rng.randint(2_000, 25_000),
            name=f"{symbol} OPTIONS CORP", exchange="NASDAQ", head=f'assetCategory="STK" symbol="{symbol}"',
            tail=tail, div_rate=None, div_period=3, div_offset=0, wht_rate=Decimal(0), tax_country="US", isin=isin))
    g.stats.instruments += count
    return result


# ---- the day's option activity -----------------------------------------------------------------------------
def day(g: _Generator, index: int, day: datetime.date, clock: int, slots: int) -> int:
    """Expiries due today (always), then new positions and rolls while `slots` allow; returns Trade rows written."""
    rows = 0
    for wheel in g.wheels:
        if wheel.legs and wheel.legs[0].expiry_index == index:
            rows += _expire(g, wheel, index, day)
            wheel.rest_until = index + 1 + g.rng.randint(0, 4)
    for wheel in g.wheels:
        if slots - rows < 1 or index < wheel.rest_until:
            continue
        rows += _act(g, wheel, index, day, clock + rows)
    return rows


def _act(g: _Generator, w: _Wheel, index: int, day: datetime.date, clock: int) -> int:
    rng = g.rng
    if w.phase == "stock":
        expiry = _expiry(g, index)
        if expiry is None:
            return 0
        price = g._touch(w.stock, index)
        leg = _leg(g, w, "C", _strike(price * Decimal("1.05")), expiry, 100)
        w.legs, w.phase = [leg], "call"
        return _order(g, [(leg, -(w.stock.position // 100), _premium(rng, price))], index, day, clock)
    if w.phase == "call" and w.legs[0].expiry_index - index == 3 and rng.randint(0, 1):
        return _roll(g, w, index, day, clock)
    if w.phase != "flat" or rng.randint(0, 4):
        return 0
    expiry = _expiry(g, index)
    if expiry is None:
        return 0
    price, kind = g._touch(w.stock, index), rng.randint(0, 9)
    contracts = rng.choice((1, 2, 4))  # x 100 or 125 shares: 2^a x 5^b, so lot bases per share stay exact
    if kind < 5:  # the wheel starts: a cash-secured short put
        adjusted = rng.randint(0, 7) == 0 or not g.stats.adjusted_contracts  # the first put is one
        g.stats.adjusted_contracts += adjusted
        leg = _leg(g, w, "P", _strike(price * Decimal("0.97")), expiry, 125 if adjusted else 100)
        w.legs, w.phase = [leg], "put"
        return _order(g, [(leg, -(4 if adjusted else contracts), _premium(rng, price))], index, day, clock)
    if kind < 8:  # a bull call spread, both legs in one order
        low = _strike(price)
        high = low + _step(price) * 2
        long_leg, short_leg = _leg(g, w, "C", low, expiry, 100), _leg(g, w, "C", high, expiry, 100)
        paid = max(Decimal("0.10"), (price * Decimal("0.03")).quantize(_CENT, context=events.ROUND))
        w.legs, w.phase = [long_leg, short_leg], "spread"
        return _order(g, [(long_leg, contracts, paid), (short_leg, -contracts, (paid * 2 / 5).quantize(_CENT, context=events.ROUND))],
                     index, day, clock)
    leg = _leg(g, w, "C", _strike(price * Decimal("1.04")), expiry, 100)
    w.legs, w.phase = [leg], "long"
    return _order(g, [(leg, contracts, _premium(rng, price))], index, day, clock)


def _expire(g: _Generator, w: _Wheel, index: int, day: datetime.date) -> int:
    """Each open leg at its expiry: assigned when in the money for a short put or call, else expired or sold."""
    price, rows = g._touch(w.stock, index), 0
    if w.phase in ("put", "call"):
        leg = w.legs[0]
        in_money = price < leg.strike if leg.right == "P" else price > leg.strike
        if not in_money:
            _book_close(g, leg, day, "Ep", price)
            rows += 1
            w.phase = "flat" if w.phase == "put" else "stock"
        elif leg.right == "P":
            rows += _put_assigned(g, w, leg, index, day, price)
            w.phase = "stock"
        else:
            rows += _call_assigned(g, w, leg, day, price)
            w.phase = "flat"
    else:  # spread or long call: sell what is in the money at its value on the last day, let the rest expire
        trades = [(leg, max(Decimal(0), price - leg.strike)) for leg in w.legs]
        live = [(leg, value) for leg, value in trades if value > 0]
        if live:
            rows += _order(g, [(leg, -leg.inst.position, value) for leg, value in live], index, day, 57_000)
        for leg, value in trades:
            if value == 0:
                _book_close(g, leg, day, "Ep", price)
                rows += 1
        w.phase = "flat"
    w.legs = [] if w.phase in ("flat", "stock") else w.legs
    return rows


def _roll(g: _Generator, w: _Wheel, index: int, day: datetime.date, clock: int) -> int:
    """Buy back the covered call and sell a later, higher one in one combo order (a roll up and out)."""
    expiry = _expiry(g, index)
    if expiry is None:
        return 0
    old, price = w.legs[0], g._touch(w.stock, index)
    back = max(Decimal("0.05"), price - old.strike + (price * Decimal("0.004")).quantize(_CENT, context=events.ROUND))
    new = _leg(g, w, "C", max(old.strike + _step(price), _strike(price * Decimal("1.05"))), expiry, 100)
    w.legs = [new]
    return _order(g, [(old, -old.inst.position, back), (new, old.inst.position, _premium(g.rng, price))],
                  index, day, clock)


# ---- instruments and prices --------------------------------------------------------------------------------
def _leg(g: _Generator, w: _Wheel, right: str, strike: Decimal, expiry_index: int, deliverable: int) -> _Leg:
    """An option contract on `w.stock`: OCC symbol (root padded to 6), IBKR's description, its own conid."""
    from .statement import _Instrument

    expiry = g.days[expiry_index]
    root = w.stock.symbol + ("1" if deliverable != 100 else "")
    occ = f"{root:<6}{expiry:%y%m%d}{right}{int(strike * 1000):08d}"
    g.ids["optconid"] += g.rng.randint(1, 900)
    conid = str(g.ids["optconid"])
    description = f"{root} {expiry:%d%b%y}".upper() + f" {events.num(strike)} {right}"
    tail = (f'conid="{conid}" securityID="" securityIDType="" cusip="" isin="" listingExchange="CBOE" '
            f'underlyingConid="{w.stock.conid}" underlyingSymbol="{w.stock.symbol}" '
            f'underlyingSecurityID="{w.stock.isin}" underlyingListingExchange="NASDAQ" issuer="" multiplier="100" '
            f'strike="{events.num(strike)}" expiry="{expiry:%Y%m%d}" putCall="{right}" principalAdjustFactor=""')
    inst = _Instrument(conid=conid, symbol=occ, currency="USD", scale=2, ticks=0, name=description, exchange="CBOE",
                       head=f'assetCategory="OPT" symbol="{occ}"', tail=tail, div_rate=None, div_period=0,
                       div_offset=0, wht_rate=Decimal(0), tax_country="", isin="")
    return _Leg(inst, strike, right, expiry_index, deliverable)


def _expiry(g: _Generator, index: int) -> int | None:
    """A Friday 15-25 business days ahead, never within the statement's last days (None when there is none)."""
    first = index + 15 + g.rng.randint(0, 10)
    for j in range(first, min(first + 7, len(g.days) - _MARGIN_DAYS)):
        if g.days[j].weekday() == 4:
            return j
    return None


def _step(price: Decimal) -> Decimal:
    return Decimal(1) if price < 100 else Decimal(5)


def _strike(target: Decimal) -> Decimal:
    step = _step(target)
    return max(step, events.ROUND.divide(target, step).quantize(Decimal(1), context=events.ROUND) * step)


def _premium(rng, price: Decimal) -> Decimal:
    return max(Decimal("0.05"), (price * rng.randint(6, 30) / 1000).quantize(_CENT, context=events.ROUND))


def _per_share(money: Decimal, shares: int) -> Decimal:
    """IBKR's per-share price of a lot, to 8 decimals (248.70 / 300 -> 0.829)."""
    return events.ROUND.divide(money, Decimal(shares)).quantize(Decimal("1e-8"), context=events.ROUND).normalize()


def _commission(contracts: int) -> Decimal:
    """USD 0.65 a contract, at least 1.00 an order leg (IBKR's fixed tier for US options)."""
    return -max(Decimal("1.00"), Decimal("0.65") * abs(contracts))


# ---- rows --------------------------------------------------------------------------------------------------
def _order(g: _Generator, legs: list, index: int, day: datetime.date, clock: int) -> int:
    """One order of one or more legs (a combo when more): [(leg, signed contracts, price)] -> Trade rows written.

    A leg that reduces a position closes its lots FIFO (one lot per leg here), otherwise it opens one.
    """
    order_id = g._next("order")
    brokerage = f"{int(order_id):012x}.{day.toordinal():08x}.0001"
    clock = min(57_000, clock)
    for leg, contracts, price in legs:
        inst, commission = leg.inst, _commission(contracts)
        net = -contracts * price * _HUNDRED + commission
        closing = inst.position and (inst.position > 0) != (contracts > 0)
        if closing:
            lot = _take_lot(inst)
            _row(g, inst, day, clock, contracts, price, 100, commission, -lot[3], net - lot[3], "C", order_id,
                 brokerage, "")
            _lot_row(g, inst, day, clock, contracts, lot, net - lot[3])
        else:
            tx = _row(g, inst, day, clock, contracts, price, 100, commission, -net, Decimal(0), "O", order_id,
                      brokerage, "")
            inst.lots.append([tx, events._stamp(day, clock), contracts, -net])
            inst.position += contracts
    return len(legs)


def _take_lot(inst) -> list:
    """The option's one open lot [transactionID, openDateTime, contracts, basis], taken whole."""
    inst.position = 0
    return inst.lots.popleft()


def _book_close(g: _Generator, leg: _Leg, day: datetime.date, notes: str, underlying_price: Decimal,
                folded: bool = False) -> Decimal:
    """The option's closing BookTrade at price 0 and its OptionEAE row: an expiry, or the option leg of an
    assignment (`folded`: realized 0, its premium moves to the stock leg). Returns the option's basis closed
    (negative for a short: -248.70 for the put of the worked example)."""
    inst, contracts = leg.inst, -leg.inst.position
    lot = _take_lot(inst)
    basis = lot[3]
    pnl = Decimal(0) if folded else -basis
    _row(g, inst, day, _BOOK_TIME, contracts, Decimal(0), 100, Decimal(0), -basis, pnl, "C", "", "", notes,
         book=True)
    _lot_row(g, inst, day, _BOOK_TIME, contracts, lot, pnl)
    _eae(g, inst, day, "Assignment" if folded else "Expiration", contracts, Decimal(0), underlying_price,
         -basis, pnl, g.last_trade_id)
    return basis


def _put_assigned(g: _Generator, w: _Wheel, leg: _Leg, index: int, day: datetime.date, price: Decimal) -> int:
    shares = -leg.inst.position * leg.deliverable
    paid = leg.strike * shares
    rows = 0
    if g.balance("USD") < paid + 100:
        rows += events._fund(g, "USD", paid + 100 - g.balance("USD"), day, 57_500)
    premium = -_book_close(g, leg, day, "A", price, folded=True)  # the net premium received
    rows += 1
    tx = _row(g, w.stock, day, _BOOK_TIME, shares, leg.strike, 1, Decimal(0), paid, Decimal(0), "O", "", "", "A",
              book=True)
    _eae(g, w.stock, day, "Buy", shares, leg.strike, price, paid, Decimal(0), g.last_trade_id)
    w.stock.lots.append([tx, events._stamp(day, _BOOK_TIME), shares, paid - premium])
    w.stock.position += shares
    return rows + 1


def _call_assigned(g: _Generator, w: _Wheel, leg: _Leg, day: datetime.date, price: Decimal) -> int:
    shares = -leg.inst.position * leg.deliverable
    premium = -_book_close(g, leg, day, "A", price, folded=True)
    closed = events._close_fifo(w.stock, shares)
    basis = sum((part for _, _, _, part in closed), Decimal(0))
    received = leg.strike * shares
    pnl = received - basis + premium
    _row(g, w.stock, day, _BOOK_TIME, -shares, leg.strike, 1, Decimal(0), -basis, pnl, "C", "", "", "A",
         book=True)
    trade_id = g.last_trade_id
    events._write_lots(g, w.stock, day, events._stamp(day, _BOOK_TIME), closed, received, pnl, shares)
    w.stock.position -= shares
    _eae(g, w.stock, day, "Sell", -shares, leg.strike, price, -basis, pnl, trade_id)
    return 2


def _row(g: _Generator, inst, day: datetime.date, clock: int, quantity: int, price: Decimal, multiplier: int,
         commission: Decimal, cost: Decimal, pnl: Decimal, open_close: str, order_id: str, brokerage: str,
         notes: str, book: bool = False) -> str:
    """One Trade EXECUTION row (an ExchTrade, or a BookTrade at 16:20 without execution ids); books its cash."""
    money = quantity * price * multiplier
    net = -money + commission
    currency, rate = inst.currency, events.num(g.fx_to_base(inst.currency))
    g._book(currency, "netTradesPurchases" if quantity > 0 else "netTradesSales", -money)
    if commission:
        g._book(currency, "commissions", commission)
    tx, trade_id = g._next("tx"), g._next("trade")
    g.last_trade_id = trade_id
    if book:
        exec_id, exchange, order_type, stamp = "", "--", "", events._stamp(day, clock)
    else:
        g.ids["exec"] += 1
        exec_id = f"{0x12d00 + g.ids['exec']:08x}.{day.toordinal():08x}.01.01"
        exchange, order_type, stamp = "CBOE", "LMT", events._stamp(day, clock)
    g._emit("trades", (
        f'\t\t\t<Trade {g.acct_attrs} currency="{currency}" fxRateToBase="{rate}" {inst.block()} '
        f'tradeID="{trade_id}" reportDate="{day:%Y%m%d}" dateTime="{stamp}" tradeDate="{day:%Y%m%d}" '
        f'settleDateTarget="{events._settle(day, 1 if multiplier == 100 else 2):%Y%m%d}" '
        f'transactionType="{"BookTrade" if book else "ExchTrade"}" exchange="{exchange}" quantity="{quantity}" '
        f'tradePrice="{events.num(price)}" tradeMoney="{events.num(money)}" proceeds="{events.num(-money)}" taxes="0" '
        f'ibCommission="{events.num(commission)}" ibCommissionCurrency="{currency}" netCash="{events.num(net)}" '
        f'closePrice="{events.num(price)}" openCloseIndicator="{open_close}" notes="{notes}" cost="{events.num(cost)}" '
        f'fifoPnlRealized="{events.num(pnl)}" fxPnl="0" mtmPnl="0" origTradePrice="0" origTradeDate="" origTradeID="" '
        f'origOrderID="0" clearingFirmID="" transactionID="{tx}" buySell="{"BUY" if quantity > 0 else "SELL"}" '
        f'ibOrderID="{order_id or "0"}" ibExecID="{exec_id}" brokerageOrderID="{brokerage}" orderReference="" '
        f'volatilityOrderLink="" exchOrderId="N/A" extExecID="N/A" orderTime="{"" if book else stamp}" '
        f'openDateTime="" holdingPeriodDateTime="" whenRealized="" whenReopened="" levelOfDetail="EXECUTION" '
        f'changeInPrice="0" changeInQuantity="0" orderType="{order_type}" traderID="" isAPIOrder="N" '
        f'accruedInt="0" />\n'))
    g.stats.trades += 1
    g.stats.option_trades += multiplier == 100
    g.day_has_rows = True
    return tx


def _lot_row(g: _Generator, inst, day: datetime.date, clock: int, contracts: int, lot: list, pnl: Decimal) -> None:
    """The CLOSED_LOT row of an option close: quantity and cost with the closing trade's opposite sign."""
    open_id, open_stamp, basis = lot[0], lot[1], lot[3]
    opened = datetime.date(int(open_stamp[:4]), int(open_stamp[4:6]), int(open_stamp[6:8]))
    g._emit("trades", (
        f'\t\t\t<Lot {g.acct_attrs} currency="{inst.currency}" fxRateToBase="{events.num(g.fx_to_base(inst.currency))}" '
        f'{inst.block()} tradeID="" reportDate="{day:%Y%m%d}" dateTime="{events._stamp(day, clock)}" '
        f'tradeDate="{day:%Y%m%d}" settleDateTarget="" transactionType="" exchange="" quantity="{-contracts}" '
        f'tradePrice="{events.num(_per_share(basis, -contracts * 100))}" tradeMoney="" proceeds="" taxes="" ibCommission="" '
        f'ibCommissionCurrency="" netCash="" closePrice="" openCloseIndicator="C" '
        f'notes="{"LT" if (day - opened).days > 365 else "ST"}" cost="{events.num(basis)}" fifoPnlRealized="{events.num(pnl)}" '
        f'fxPnl="0" mtmPnl="" transactionID="{open_id}" buySell="{"BUY" if contracts > 0 else "SELL"}" '
        f'ibOrderID="" ibExecID="" brokerageOrderID="" orderTime="" openDateTime="{open_stamp}" '
        f'holdingPeriodDateTime="{open_stamp}" levelOfDetail="CLOSED_LOT" />\n'))
    g.stats.lots += 1


def _eae(g: _Generator, inst, day: datetime.date, kind: str, quantity: int, price: Decimal, mark: Decimal,
         cost: Decimal, pnl: Decimal, trade_id: str) -> None:
    """The OptionEAE twin of a BookTrade (flex-schema §7): the option's event, or the stock it delivered."""
    proceeds = -quantity * price  # options close at price 0 here; a delivery is shares x strike
    g._emit("eae", (
        f'\t\t<OptionEAE {g.acct_attrs} currency="{inst.currency}" fxRateToBase="{events.num(g.fx_to_base(inst.currency))}" '
        f'{inst.block()} date="{day:%Y%m%d}" transactionType="{kind}" quantity="{quantity}" '
        f'tradePrice="{events.num(price)}" markPrice="{events.num(mark)}" proceeds="{events.num(proceeds)}" commisionsAndTax="0" '
        f'costBasis="{events.num(cost)}" realizedPnl="{events.num(pnl)}" fxPnl="0" mtmPnl="0" tradeID="{trade_id}" />\n'))
    g.stats.option_events += 1
