"""The Flex statements behind tests/fixtures/strategies/: each shape, a wheel, a roll chain, a partial close.

The XML files are committed; this module wrote them and writes them again with
`.venv/bin/python tests/strategy_statements.py` (read the diff before committing a change). Every trade is one line
here: (id, dateTime, contract, quantity, price, commission[, notes]); amounts follow from them as IBKR computes
them: proceeds = -quantity x price x multiplier, netCash = proceeds + commission (commission <= 0).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import quoteattr

FOLDER = Path(__file__).parent / "fixtures" / "strategies"
ACCOUNT = "U7"
#: underlying symbol -> conid
UNDERLYINGS = {"AAA": 700100, "BBB": 700200, "CCC": 700300, "DDD": 700400, "EEE": 700500, "FFF": 700600,
               "GGG": 700700, "HHH": 700800, "III": 700900, "JJJ": 701000, "KKK": 701100, "XYZ": 702000,
               "RRR": 703000, "SSS": 704000, "TTT": 705000}


def contract(spec: str) -> dict:
    """"XYZ 240119P50" -> an option's attributes; "XYZ" -> the stock's."""
    root, _, code = spec.partition(" ")
    base = UNDERLYINGS[root]
    if not code:
        return {"assetCategory": "STK", "symbol": root, "description": f"{root} INC", "conid": str(base),
                "multiplier": "1"}
    expiry, right, strike = code[:6], code[6], code[7:]
    occ = f"{root:<6}{expiry}{right}{int(Decimal(strike) * 1000):08d}"
    conid = f"{base}{expiry}{'1' if right == 'C' else '2'}{int(Decimal(strike) * 10):05d}"  # unique per contract
    return {"assetCategory": "OPT", "symbol": occ, "description": f"{root} {expiry} {strike} {right}",
            "conid": conid, "underlyingConid": str(base), "underlyingSymbol": root, "expiry": f"20{expiry}",
            "putCall": right, "strike": strike, "multiplier": "100"}


def trade(tid: str, when: str, spec: str, quantity: str, price: str, commission: str, notes: str = "",
          open_close: str | None = None, order: str | None = None) -> str:
    attrs = contract(spec)
    multiplier = Decimal(attrs["multiplier"])
    qty, px, comm = Decimal(quantity), Decimal(price), Decimal(commission)
    proceeds = -qty * px * multiplier + 0  # + 0: no "-0"
    book = notes in ("A", "Ep", "Ex")
    attrs.update({"currency": "USD", "fxRateToBase": "1", "dateTime": when, "tradeDate": when[:8],
                  "quantity": quantity, "tradePrice": price, "proceeds": str(proceeds), "ibCommission": str(comm),
                  "ibCommissionCurrency": "USD", "taxes": "0", "netCash": str(proceeds + comm),
                  "openCloseIndicator": open_close or "", "buySell": "BUY" if qty > 0 else "SELL",
                  "transactionType": "BookTrade" if book else "ExchTrade", "transactionID": tid,
                  "tradeID": f"T{tid}", "notes": notes, "levelOfDetail": "EXECUTION"})
    if order:
        attrs["ibOrderID"] = order
    return _element("Trade", attrs)


def eae(spec: str, date: str, kind: str, quantity: str, price: str = "0") -> str:
    attrs = contract(spec)
    attrs.update({"currency": "USD", "fxRateToBase": "1", "date": date, "transactionType": kind,
                  "quantity": quantity, "tradePrice": price,
                  "proceeds": str(-Decimal(quantity) * Decimal(price) * Decimal(attrs["multiplier"]) + 0)})
    return _element("OptionEAE", attrs)


def cash(tid: str, date: str, spec: str, amount: str, kind: str, ex_date: str = "") -> str:
    attrs = contract(spec)
    attrs = {k: attrs[k] for k in ("assetCategory", "symbol", "conid")}
    attrs.update({"currency": "USD", "fxRateToBase": "1", "description": f"{spec} {kind}",
                  "dateTime": f"{date};202000", "settleDate": date, "amount": amount, "type": kind,
                  "transactionID": tid, "reportDate": date, "exDate": ex_date, "actionID": f"A{date}",
                  "levelOfDetail": "DETAIL"})
    return _element("CashTransaction", attrs)


def _element(tag: str, attrs: dict) -> str:
    return f"<{tag} accountId=\"{ACCOUNT}\" " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + " />"


def statement(trades: list[str], eaes: list[str] = (), cash_rows: list[str] = ()) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<FlexQueryResponse queryName="strategies" type="AF">',
             '<FlexStatements count="1">',
             f'<FlexStatement accountId="{ACCOUNT}" fromDate="20240101" toDate="20241231" period="" '
             'whenGenerated="20241231;120000">',
             f'<AccountInformation accountId="{ACCOUNT}" currency="USD" />', "<Trades>", *trades, "</Trades>"]
    if eaes:
        lines += ["<OptionEAE>", *eaes, "</OptionEAE>"]
    if cash_rows:
        lines += ["<CashTransactions>", *cash_rows, "</CashTransactions>"]
    lines += ["</FlexStatement>", "</FlexStatements>", "</FlexQueryResponse>"]
    return "\n".join(lines) + "\n"


OPEN = "20240102;100000"

SHAPES = statement([
    # each underlying's legs share one dateTime: one order
    trade("S01", OPEN, "AAA 240315P50", "-1", "2", "-1", open_close="O"),
    trade("S02", OPEN, "AAA 240315P45", "1", "0.8", "-1", open_close="O"),
    trade("S03", OPEN, "BBB 240315C100", "-1", "5", "-1", open_close="O"),
    trade("S04", OPEN, "BBB 240315P100", "-1", "4", "-1", open_close="O"),
    trade("S05", OPEN, "CCC 240315C110", "-1", "2", "-1", open_close="O"),
    trade("S06", OPEN, "CCC 240315P90", "-1", "1.5", "-1", open_close="O"),
    trade("S07", OPEN, "DDD 240315P45", "1", "0.5", "-1", open_close="O"),
    trade("S08", OPEN, "DDD 240315P50", "-1", "1.5", "-1", open_close="O"),
    trade("S09", OPEN, "DDD 240315C60", "-1", "1.4", "-1", open_close="O"),
    trade("S10", OPEN, "DDD 240315C65", "1", "0.4", "-1", open_close="O"),
    trade("S11", OPEN, "EEE 240315C95", "1", "7", "-1", open_close="O"),
    trade("S12", OPEN, "EEE 240315C100", "-2", "4", "-2", open_close="O"),
    trade("S13", OPEN, "EEE 240315C105", "1", "2", "-1", open_close="O"),
    trade("S14", OPEN, "FFF 240216C100", "-1", "2", "-1", open_close="O"),
    trade("S15", OPEN, "FFF 240315C100", "1", "3", "-1", open_close="O"),
    trade("S16", OPEN, "GGG 240216C105", "-1", "1", "-1", open_close="O"),
    trade("S17", OPEN, "GGG 240315C100", "1", "3", "-1", open_close="O"),
    trade("S18", OPEN, "HHH", "100", "100", "-1", open_close="O"),
    trade("S19", OPEN, "HHH 240315C110", "-1", "1.2", "-1", open_close="O"),
    trade("S20", OPEN, "III", "100", "100", "-1", open_close="O"),
    trade("S21", OPEN, "III 240315C110", "-1", "1.2", "-1", open_close="O"),
    trade("S22", OPEN, "III 240315P90", "1", "1", "-1", open_close="O"),
    trade("S23", OPEN, "JJJ 240315C100", "1", "3", "-1", open_close="O"),
    trade("S24", OPEN, "JJJ 240315C110", "-1", "1", "-1", open_close="O"),
    trade("S25", OPEN, "JJJ 240315P90", "-1", "1", "-1", open_close="O"),
    trade("S26", OPEN, "KKK", "50", "20", "-1", open_close="O"),
])

WHEEL = statement([
    trade("W01", "20240102;100000", "XYZ 240119P50", "-1", "2", "-1.05", open_close="O"),
    trade("W02", "20240119;162000", "XYZ 240119P50", "1", "0", "0", notes="A", open_close="C"),
    trade("W03", "20240119;162000", "XYZ", "100", "50", "0", notes="A", open_close="O"),
    trade("W04", "20240122;100000", "XYZ 240216C52", "-1", "1.5", "-1.05", open_close="O"),
    trade("W05", "20240216;162000", "XYZ 240216C52", "1", "0", "0", notes="Ep", open_close="C"),
    trade("W06", "20240220;100000", "XYZ 240315C52", "-1", "1.2", "-1.05", open_close="O"),
    trade("W07", "20240315;162000", "XYZ 240315C52", "1", "0", "0", notes="A", open_close="C"),
    trade("W08", "20240315;162000", "XYZ", "-100", "52", "-1", notes="A", open_close="C"),
    # a new put after the wheel went flat: a new group
    trade("W09", "20240318;100000", "XYZ 240419P48", "-1", "1", "-1.05", open_close="O"),
    trade("W10", "20240419;162000", "XYZ 240419P48", "1", "0", "0", notes="Ep", open_close="C"),
], [
    eae("XYZ 240119P50", "20240119", "Assignment", "1"),
    eae("XYZ", "20240119", "Buy", "100", "50"),
    eae("XYZ 240216C52", "20240216", "Expiration", "1"),
    eae("XYZ 240315C52", "20240315", "Assignment", "1"),
    eae("XYZ", "20240315", "Sell", "-100", "52"),
    eae("XYZ 240419P48", "20240419", "Expiration", "1"),
], [
    cash("WD1", "20240228", "XYZ", "50", "Dividends", "20240221"),
    cash("WD2", "20240228", "XYZ", "-7.5", "Withholding Tax"),
])

ROLLS = statement([
    trade("R01", "20240102;100000", "RRR 240119P40", "-1", "1", "-1", open_close="O"),
    # roll 1: one order (same second): buy back the January put, sell February
    trade("R02", "20240118;110000", "RRR 240119P40", "1", "0.5", "-1", open_close="C"),
    trade("R03", "20240118;110000", "RRR 240216P40", "-1", "1.4", "-1", open_close="O"),
    # roll 2: two orders the same day
    trade("R04", "20240215;100000", "RRR 240216P40", "1", "0.6", "-1", open_close="C"),
    trade("R05", "20240215;100500", "RRR 240315P38", "-1", "1.1", "-1", open_close="O"),
    # roll 3: one order again, its legs filled a second apart: IBKR's order id says they are one order
    trade("R06", "20240314;110000", "RRR 240315P38", "1", "0.2", "-1", open_close="C", order="9003"),
    trade("R07", "20240314;110001", "RRR 240419P38", "-1", "0.9", "-1", open_close="O", order="9003"),
    trade("R08", "20240419;162000", "RRR 240419P38", "1", "0", "0", notes="Ep", open_close="C"),
    # an unrelated call on another day: its own group
    trade("R09", "20240501;100000", "RRR 240621C45", "1", "1", "-1", open_close="O"),
    trade("R10", "20240621;162000", "RRR 240621C45", "-1", "0", "0", notes="Ep", open_close="C"),
], [
    eae("RRR 240419P38", "20240419", "Expiration", "1"),
    eae("RRR 240621C45", "20240621", "Expiration", "-1"),
])

PARTIAL = statement([
    trade("P01", "20240102;100000", "SSS 240315P50", "-2", "2", "-2", open_close="O"),
    trade("P02", "20240102;100000", "SSS 240315P45", "2", "0.8", "-2", open_close="O"),
    trade("P03", "20240201;110000", "SSS 240315P50", "1", "1", "-1", open_close="C"),
    trade("P04", "20240201;110000", "SSS 240315P45", "-1", "0.3", "-1", open_close="C"),
    trade("P05", "20240315;162000", "SSS 240315P50", "1", "0", "0", notes="Ep", open_close="C"),
    trade("P06", "20240315;162000", "SSS 240315P45", "-1", "0", "0", notes="Ep", open_close="C"),
], [
    eae("SSS 240315P50", "20240315", "Expiration", "1"),
    eae("SSS 240315P45", "20240315", "Expiration", "-1"),
])

OPEN_FIRST = statement([
    trade("T01", "20240102;100000", "TTT 240216P30", "-1", "1", "-1", open_close="O"),
    # the new put is sold first, the old one bought back an hour later: a roll all the same
    trade("T02", "20240214;100000", "TTT 240315P30", "-1", "1.2", "-1", open_close="O"),
    trade("T03", "20240214;110000", "TTT 240216P30", "1", "0.3", "-1", open_close="C"),
    trade("T04", "20240315;162000", "TTT 240315P30", "1", "0", "0", notes="Ep", open_close="C"),
], [
    eae("TTT 240315P30", "20240315", "Expiration", "1"),
])

FILES = {"shapes.xml": SHAPES, "wheel.xml": WHEEL, "rolls.xml": ROLLS, "partial_close.xml": PARTIAL,
         "roll_opened_first.xml": OPEN_FIRST}


if __name__ == "__main__":
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (FOLDER / name).write_text(text, encoding="utf-8")
        print(FOLDER / name)
