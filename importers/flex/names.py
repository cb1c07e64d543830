"""Beancount names for IBKR things: account names per IBKR account, commodity names per conid.

Names are chosen once and kept stable (docs/ledger-format.md): the commodity is named after the first symbol
IBKR used for the conid, so a later ticker change does not rename it and git diffs stay small.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import NamedTuple

from beanflex.contract.accounts import account_component

_COMMODITY_BAD = re.compile(r"[^A-Z0-9'._-]")
#: An OCC option symbol: root padded to 6, yymmdd, C/P, strike × 1000 in 8 digits.
_OCC = re.compile(r"^(?P<root>.{1,6}?)\s*(?P<ymd>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")
MAX_COMMODITY_LEN = 24


class OccSymbol(NamedTuple):
    """An OCC/OSI option symbol, parsed: `ORCL  170915P00050000` -> ORCL, 2017-09-15, P, 50."""

    root: str
    expiry: datetime.date
    right: str  # "C" or "P"
    strike: Decimal

    @property
    def adjusted(self) -> bool:
        """A root with a numeric suffix (`XYZ1`) is how OCC names a contract adjusted by a split or merger."""
        return bool(re.fullmatch(r"[A-Z.]+\d", self.root))


def parse_occ(symbol: str | None) -> OccSymbol | None:
    """The OCC fields of an option symbol, or None when it is not one (FOP symbols like `4SFV5 C1265`).

    Strike is thousandths in 8 digits: `00017500` -> 17.5; the year is 20YY (OCC's symbology since 2010).
    """
    occ = _OCC.match((symbol or "").strip().upper())
    if occ is None:
        return None
    ymd = occ["ymd"]
    try:
        expiry = datetime.date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        return None
    return OccSymbol(occ["root"].strip(), expiry, occ["right"], Decimal(int(occ["strike"])) / 1000)


class Accounts:
    """The accounts of one IBKR account (docs/ledger-format.md, "Accounts")."""

    def __init__(self, ibkr_account: str, transfers: str | None = None):
        self.id = account_component(ibkr_account)
        acct = self.id
        self.cash = f"Assets:IBKR:{acct}:Cash"
        self.positions = f"Assets:IBKR:{acct}:Positions"
        self.pnl = f"Income:IBKR:{acct}:PnL"
        self.dividends = f"Income:IBKR:{acct}:Dividends"
        self.withholding = f"Expenses:IBKR:{acct}:WithholdingTax"
        self.interest_income = f"Income:IBKR:{acct}:Interest"
        self.interest_expense = f"Expenses:IBKR:{acct}:Interest"
        self.fees = f"Expenses:IBKR:{acct}:Fees"
        self.commissions = f"Expenses:IBKR:{acct}:Commissions"
        self.transfers = transfers or f"Equity:IBKR:{acct}:Transfers"
        self.opening = f"Equity:IBKR:{acct}:Opening"
        self.unclassified = f"Income:IBKR:{acct}:Unclassified"
        self.corporate_actions = f"Equity:IBKR:{acct}:CorporateActions"

    def all(self) -> list[str]:
        """Every account, in a stable order, for the `open` directives."""
        return [self.cash, self.positions, self.pnl, self.dividends, self.withholding, self.interest_income,
                self.interest_expense, self.fees, self.commissions, self.transfers, self.opening,
                self.unclassified, self.corporate_actions]


def commodity_name(symbol: str | None, conid: str, asset_category: str | None = None) -> str:
    """A valid, readable Beancount commodity for an instrument.

    Examples: `AAPL` -> `AAPL`; `BRK B` -> `BRK-B`; `SA    250919C00017000` (OCC) -> `SA-250919C17`;
    `4SFV5 C1265` -> `4SFV5-C1265` -> `C4SFV5-C1265` (must start with a letter); no symbol -> `C265598`.
    """
    text = (symbol or "").strip().upper()
    occ = _OCC.match(text)
    if occ and asset_category in (None, "OPT", "FOP", "FSOPT"):
        whole, frac = divmod(int(occ["strike"]), 1000)  # thousandths: 00017000 = 17.000
        strike_text = str(whole) + (f".{frac:03d}".rstrip("0") if frac else "")
        text = f"{occ['root'].strip()}-{occ['ymd']}{occ['right']}{strike_text}"
    text = re.sub(r"\s+", "-", text)
    text = _COMMODITY_BAD.sub("", text).strip("-._'")
    if not text:
        text = f"C{conid}"
    if not text[0].isalpha():
        text = "C" + text
    text = text[:MAX_COMMODITY_LEN].rstrip("-._'")
    if not text[-1].isalnum():
        text += "X"
    return text


class CommodityNamer:
    """Hands out one stable commodity name per conid, resolving clashes by appending `-<conid>`.

    Feed it instruments in a deterministic order (first date seen, then conid) so rebuilds give the same names.
    """

    def __init__(self) -> None:
        self.by_conid: dict[str, str] = {}
        self._taken: dict[str, str] = {}

    def name(self, conid: str, symbol: str | None, asset_category: str | None = None) -> str:
        if conid in self.by_conid:
            return self.by_conid[conid]
        name = commodity_name(symbol, conid, asset_category)
        if name in self._taken and self._taken[name] != conid:
            suffix = f"-{re.sub(r'[^A-Z0-9]', '', conid.upper()) or 'X'}"
            name = name[: MAX_COMMODITY_LEN - len(suffix)] + suffix
        self._taken[name] = conid
        self.by_conid[conid] = name
        return name
