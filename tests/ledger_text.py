"""Hand-written ledgers in the shape of docs/ledger-format.md, for the plugin tests.

`trade(...)` writes one generated-style trade transaction; the tests spell out every number they pass.
"""

from __future__ import annotations

from beancount import loader

from beanflex.engine import book as book_mod


def header(base: str = "USD", plugins: str = "") -> str:
    return f'''option "operating_currency" "{base}"
{plugins}
2020-01-01 open Assets:IBKR:U1:Positions
2020-01-01 open Assets:IBKR:U1:Cash
2020-01-01 open Income:IBKR:U1:PnL
2020-01-01 open Income:IBKR:U1:Dividends
2020-01-01 open Expenses:IBKR:U1:WithholdingTax
2020-01-01 open Expenses:IBKR:U1:Fees
2020-01-01 open Equity:IBKR:U1:CorporateActions
'''


def commodity(symbol: str, conid: str, category: str = "STK", multiplier: int = 1, extra: str = "") -> str:
    return f'''2020-01-01 commodity {symbol}
  conid: "{conid}"
  asset_category: "{category}"
  multiplier: {multiplier}
{extra}'''


def trade(date: str, tid: str, narration: str, conid: str, legs: list[tuple[str, str, str, str, str]],
          net_cash: str, commission: str = "0", fifo: str | None = None, rate: str | None = None,
          event: str = "trade", ccy: str = "USD", line: int = 1, flag: str = "*", extra: str = "") -> str:
    """legs: (units, symbol, cost per unit, lot date, lot label); the PnL posting balances the transaction.

    `tid` "T1" gives flex_id "U1/trade/T1"; a tid with a slash ("opening/265598/L1") gives "U1/opening/…".
    """
    flex_id = f"U1/{tid}" if "/" in tid else f"U1/trade/{tid}"
    meta = [f'flex_id: "{flex_id}"', f'flex_src: "raw/U1/2024/s.xml:{line}"', f'event: "{event}"',
            f'conid: "{conid}"', f"net_cash: {net_cash}", f"commission: {commission}"]
    if fifo is not None:
        meta.append(f"fifo_pnl_realized: {fifo}")
    if rate is not None:
        meta.append(f"fx_rate_to_base: {rate}")
    lines = [f'{date} {flag} "{narration}"'] + [f"  {m}" for m in meta] + ([extra] if extra else [])
    for units, symbol, cost, lot_date, label in legs:
        label = "U1/trade/" + label if "/" not in label else label
        lines.append(f'  Assets:IBKR:U1:Positions  {units} {symbol} {{{cost} {ccy}, {lot_date}, "{label}"}}')
    if net_cash != "0":
        lines.append(f"  Assets:IBKR:U1:Cash  {net_cash} {ccy}")
    lines.append("  Income:IBKR:U1:PnL")
    return "\n".join(lines) + "\n"


def cash(date: str, cid: str, narration: str, conid: str, event: str, account: str, amount: str,
         ccy: str = "USD", rate: str | None = None, line: int = 1) -> str:
    """A dividend/withholding/fee row: `amount` is the posting on `account` (income negative)."""
    extra = f"\n  fx_rate_to_base: {rate}" if rate else ""
    return f'''{date} * "{narration}"
  flex_id: "U1/cash/{cid}"
  flex_src: "raw/U1/2024/s.xml:{line}"
  event: "{event}"
  conid: "{conid}"{extra}
  {account}  {amount} {ccy}
  Assets:IBKR:U1:Cash
'''


def position(date: str, symbol: str, conid: str, position_: str, mark: str, basis: str, unrealized: str,
             ccy: str = "USD", rate: str = "1", line: int = 1) -> str:
    return f'''{date} custom "ibkr-position" "{symbol}"
  conid: "{conid}"
  position: {position_}
  mark_price: {mark}
  cost_basis_money: {basis}
  fifo_pnl_unrealized: {unrealized}
  currency: "{ccy}"
  fx_rate_to_base: {rate}
  flex_src: "raw/U1/2024/s.xml:{line}"
'''


def load(text: str):
    """(entries, errors, options, Book) of a ledger text; fails on loader errors other than ReconcileErrors."""
    entries, errors, options = loader.load_string(text)
    hard = [e for e in errors if type(e).__name__ != "ReconcileError"]
    assert not hard, [e.message for e in hard]
    return entries, errors, options, book_mod.load_book(entries, options)
