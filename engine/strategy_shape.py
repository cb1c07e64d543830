"""Name a strategy from the legs opened in one order: vertical, straddle, iron condor, covered call, ….

The rule reads only each leg's right (call/put), strike, expiry and signed quantity, and whether a leg is the
underlying itself. Legs are netted per contract first. E.g. sell 1 XYZ 50 P and buy 1 XYZ 45 P, same expiry:
one right, two strikes, opposite signs -> "vertical"; add sell 1 60 C and buy 1 65 C -> "iron condor"
(short put 50 below short call 60). Anything the table does not know is "custom N-leg" (N contracts).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

#: Every kind detection can name (plus "custom N-leg"); `wheel` is named from the lifecycle, not a shape.
KINDS = ("stock", "short stock", "future", "short future", "income", "long call", "short call", "long put",
         "short put", "vertical", "straddle", "strangle", "calendar", "diagonal", "butterfly", "iron butterfly", "iron condor", "covered call", "collar",
         "protective put", "wheel")

#: IBKR asset category -> the name of a position in it without options.
UNDERLYING_NAMES = {"STK": "stock", "FUT": "future", "CASH": "currency", "BOND": "bond", "CRYPTO": "crypto"}


@dataclass(frozen=True)
class ShapeLeg:
    """One contract's net opened quantity: right None for the underlying (stock, future)."""

    right: str | None
    strike: Decimal | None
    expiry: datetime.date | None
    quantity: Decimal  # > 0 long, < 0 short (contracts or shares)
    category: str = "STK"  # the underlying's kind when right is None: STK -> "stock", FUT -> "future"


def net(legs: list[ShapeLeg]) -> list[ShapeLeg]:
    """Fills of one contract as one leg: three fills of +1 TLT 89.5 C -> +3; a same-order round trip nets to 0
    and is dropped."""
    totals: dict[tuple, Decimal] = {}
    for leg in legs:
        key = (leg.right, leg.strike, leg.expiry, leg.category)
        totals[key] = totals.get(key, Decimal(0)) + leg.quantity
    return [ShapeLeg(right, strike, expiry, quantity, category)
            for (right, strike, expiry, category), quantity in totals.items() if quantity]


def shape(legs: list[ShapeLeg]) -> str:
    """The kind of the legs opened together (see the module doc); legs that net to nothing are named by the
    first one (a day trade of a future is a "future")."""
    netted = net(legs)
    if not netted and legs:
        netted = legs[:1]
    legs = netted
    options = sorted((leg for leg in legs if leg.right), key=lambda l: (l.right, l.strike or 0, l.expiry or
                                                                          datetime.date.min))
    stock = [leg for leg in legs if not leg.right]
    if not options:
        if not stock:
            return "income"
        name = UNDERLYING_NAMES.get(stock[0].category, stock[0].category.lower())
        return name if sum(leg.quantity for leg in stock) > 0 else f"short {name}"
    if stock:
        return _with_stock(stock, options)
    if len(options) == 1:
        leg = options[0]
        return f"{'long' if leg.quantity > 0 else 'short'} {'call' if leg.right == 'C' else 'put'}"
    if len(options) == 2:
        return _two(*options) or "custom 2-leg"
    if len(options) == 3:
        return _butterfly(options) or "custom 3-leg"
    if len(options) == 4:
        return _four(options) or "custom 4-leg"
    return f"custom {len(options)}-leg"


def _with_stock(stock: list[ShapeLeg], options: list[ShapeLeg]) -> str:
    """Long stock with short calls is a covered call; with a long put as well, a collar; long put only: protective."""
    long_stock = sum(leg.quantity for leg in stock) > 0
    calls = [leg for leg in options if leg.right == "C"]
    puts = [leg for leg in options if leg.right == "P"]
    if long_stock and all(leg.quantity < 0 for leg in calls) and all(leg.quantity > 0 for leg in puts):
        if calls and puts:
            return "collar"
        return "covered call" if calls else "protective put"
    return f"custom {len(options) + 1}-leg"


def _two(a: ShapeLeg, b: ShapeLeg) -> str | None:
    same_expiry = a.expiry == b.expiry
    opposite = (a.quantity > 0) != (b.quantity > 0)
    if a.right == b.right and opposite and abs(a.quantity) == abs(b.quantity):
        if same_expiry:
            return "vertical" if a.strike != b.strike else None
        return "calendar" if a.strike == b.strike else "diagonal"
    if a.right != b.right and not opposite and same_expiry and abs(a.quantity) == abs(b.quantity):
        return "straddle" if a.strike == b.strike else "strangle"
    return None


def _butterfly(legs: list[ShapeLeg]) -> str | None:
    """Same right and expiry, strikes equally spaced, quantities 1 : -2 : 1 (or -1 : 2 : -1)."""
    low, mid, high = legs
    if len({leg.right for leg in legs}) != 1 or len({leg.expiry for leg in legs}) != 1:
        return None
    if None in (low.strike, mid.strike, high.strike) or mid.strike - low.strike != high.strike - mid.strike:
        return None
    if low.quantity == high.quantity and mid.quantity == -2 * low.quantity:
        return "butterfly"
    return None


def _four(legs: list[ShapeLeg]) -> str | None:
    """A put vertical and a call vertical, same expiry and size: short strikes apart -> iron condor, equal ->
    iron butterfly (short 50 P, long 45 P, short 60 C, long 65 C: 50 < 60, an iron condor)."""
    calls = [leg for leg in legs if leg.right == "C"]
    puts = [leg for leg in legs if leg.right == "P"]
    if len(calls) != 2 or len(puts) != 2 or len({leg.expiry for leg in legs}) != 1:
        return None
    if len({abs(leg.quantity) for leg in legs}) != 1 or _two(*calls) != "vertical" or _two(*puts) != "vertical":
        return None
    short_put = next(leg for leg in puts if leg.quantity < 0)
    short_call = next(leg for leg in calls if leg.quantity < 0)
    long_put = next(leg for leg in puts if leg.quantity > 0)
    long_call = next(leg for leg in calls if leg.quantity > 0)
    if not (long_put.strike < short_put.strike <= short_call.strike < long_call.strike):
        return None
    return "iron butterfly" if short_put.strike == short_call.strike else "iron condor"
