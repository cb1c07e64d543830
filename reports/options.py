"""What a report shows about options: an open option's contract and moneyness, its underlying, combo legs.

Numbers come from the ledger's commodity metadata (docs/ledger-format.md, "Options") and the book's marks:
- an open XYZ 50 P on 2024-03-01 with XYZ marked 48 shows underlying XYZ, expiry 2024-03-15, 14 days to expiry,
  strike 50, right P, underlying mark 48, intrinsic 50 - 48 = 2 per share, moneyness ITM (a put is in the money
  below its strike, a call above; ATM at the strike exactly);
- `--underlying XYZ` keeps XYZ itself and every option whose underlying is XYZ (by symbol or conid).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beanflex.engine.book import Book, Instrument
from beanflex.engine.premium import is_option

ZERO = Decimal(0)
OPTION_KEYS = ("underlying", "expiry", "days_to_expiry", "strike", "right", "underlying_mark", "intrinsic",
               "moneyness", "adjusted")


def underlying_of(book: Book, inst: Instrument) -> str:
    """The symbol positions group under: an option's underlying (its commodity if the ledger has it, else IBKR's
    underlying symbol), anything else itself."""
    if not is_option(inst):
        return inst.symbol
    conid = inst.meta.get("underlying_conid")
    if conid is not None and str(conid) in book.symbol_by_conid:
        return book.symbol_by_conid[str(conid)]
    return str(inst.meta.get("underlying_symbol") or inst.symbol)


def matches_underlying(book: Book, inst: Instrument, key: str) -> bool:
    """`--underlying XYZ`: XYZ itself (symbol or conid) and the options on it."""
    if key in (inst.symbol, inst.conid):
        return True
    if not is_option(inst):
        return False
    return key in (underlying_of(book, inst), str(inst.meta.get("underlying_conid") or ""),
                   str(inst.meta.get("underlying_symbol") or ""))


def option_fields(book: Book, inst: Instrument, as_of: datetime.date | None) -> dict:
    """The option columns of a position (None for what is unknown); {"underlying": symbol} for a non-option."""
    underlying = underlying_of(book, inst)
    if not is_option(inst):
        return {"underlying": underlying}
    meta = inst.meta
    expiry = meta.get("expiry") if isinstance(meta.get("expiry"), datetime.date) else None
    strike = _decimal(meta.get("strike"))
    right = meta.get("put_call")
    mark = book.mark(underlying, as_of) if underlying != inst.symbol else None
    spot = mark.price if mark is not None else None
    intrinsic = moneyness = None
    if spot is not None and strike is not None and right in ("C", "P"):
        gain = spot - strike if right == "C" else strike - spot
        intrinsic = max(gain, ZERO)
        moneyness = "ATM" if gain == 0 else ("ITM" if gain > 0 else "OTM")
    return {"underlying": underlying, "expiry": expiry.isoformat() if expiry else None,
            "days_to_expiry": (expiry - as_of).days if expiry and as_of else None,
            "strike": str(strike) if strike is not None else None, "right": right,
            "underlying_mark": str(spot) if spot is not None else None,
            "intrinsic": str(intrinsic) if intrinsic is not None else None, "moneyness": moneyness,
            "adjusted": bool(meta.get("adjusted"))}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def order_fields(meta: dict, links) -> dict:
    """An event's order and option-event ties: `order_id` (a combo's legs share it), `option_event_link` (the
    `^eae-…` link joining an option's close and the trade it delivered), `links`."""
    out = {}
    if meta.get("order_id"):
        out["order_id"] = str(meta["order_id"])
    eae = sorted(link for link in links if link.startswith("eae-"))
    if eae:
        out["option_event_link"] = eae[0]
    if links:
        out["links"] = sorted(links)
    return out


def underlying_groups(book: Book, report: dict) -> list[dict]:
    """The pnl report's instrument rows grouped for the Portfolio page: each underlying's row (None when only
    its options have a row) followed by the options on it, in the report's order of first appearance.
    E.g. [XYZ, XYZ 50 P, ABC] -> [{"underlying": "XYZ", "row": XYZ, "options": [XYZ 50 P]}, {"underlying": "ABC",
    "row": ABC, "options": []}]."""
    groups: dict[tuple[str, str], dict] = {}
    for row in report["instruments"]:
        inst = book.instruments.get((row["account"], str(row["conid"])))
        option = inst is not None and is_option(inst)
        name = underlying_of(book, inst) if inst is not None else row["symbol"]
        group = groups.setdefault((row["account"], name), {"underlying": name, "account": row["account"],
                                                          "row": None, "options": []})
        if option:
            group["options"].append(row)
        else:
            group["row"] = row
    return list(groups.values())


def link_index(book: Book) -> dict[tuple[str, str], list[dict]]:
    """(account, link) -> the events carrying an `^eae-…` or `^order-…` link, over the whole book, so one
    instrument's events can name the other side: the put close names the stock it delivered and the reverse."""
    index: dict[tuple[str, str], list[dict]] = {}
    for (account, conid), inst in book.instruments.items():
        for event in inst.events:
            for link in event.links:
                if link.startswith(("eae-", "order-")):
                    index.setdefault((account, link), []).append(
                        {"flex_id": event.flex_id, "conid": conid, "symbol": inst.symbol, "kind": event.kind})
    return index


def linked_fields(index: dict, account: str, flex_id: str, links) -> dict:
    """`order_legs` (a combo's leg symbols) and `linked` (the other events of its `^eae-`/`^order-` links)."""
    out: dict = {}
    others = []
    for link in sorted(links):
        found = index.get((account, link), [])
        if link.startswith("order-"):
            out["order_legs"] = sorted({e["symbol"] for e in found})
        others += [e for e in found if e["flex_id"] != flex_id and e not in others]
    if others:
        out["linked"] = others
    return out
