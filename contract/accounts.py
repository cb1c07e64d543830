"""IBKR account ids as ledger account names: one rule, used by the importer that writes the names and the engine
that reads them back.

`U1234567` -> `Assets:IBKR:U1234567:Cash`; ` u1 ` -> `U1`; `U1_2` -> `U1-2` (Beancount allows letters, digits and
`-` in a component, and it must start with a letter or digit).
"""

from __future__ import annotations

import functools
import re

_COMPONENT_BAD = re.compile(r"[^A-Za-z0-9-]")
_IBKR_ACCOUNT = re.compile(r"^(Assets|Income|Expenses|Equity|Liabilities):IBKR:([^:]+)(?::(.+))?$")


def account_component(ibkr_account: str) -> str:
    """`U1234567` stays; anything Beancount would reject becomes `-`, and a leading non-letter gets `A`."""
    name = _COMPONENT_BAD.sub("-", ibkr_account.strip().upper()) or "UNKNOWN"
    return name if name[0].isalnum() else "A" + name


@functools.lru_cache(maxsize=4096)
def split_account(account: str) -> tuple[str, str] | None:
    """`Assets:IBKR:U1:Positions` -> ("U1", "Assets:Positions"); None for accounts outside IBKR or for the bare
    `Assets:IBKR:U1`. Cached: a ledger has a few dozen accounts and every posting of every load asks (126,600
    times on the 10k-trade benchmark ledger)."""
    match = _IBKR_ACCOUNT.match(account)
    if not match or match.group(3) is None:
        return None
    return match.group(2), f"{match.group(1)}:{match.group(3)}"


def ibkr_account_of(account: str) -> str | None:
    """The IBKR account an account name belongs to, with or without a sub-account: `Assets:IBKR:U1` -> "U1"."""
    match = _IBKR_ACCOUNT.match(account)
    return match.group(2) if match else None
