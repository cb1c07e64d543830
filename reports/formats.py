"""Render the report dicts of reports.py as table text, JSON, CSV or an xlsx workbook.

Each report is first laid out as named tables (columns + rows of plain values); every format renders those
tables, so the same numbers appear in all of them. Rounding happens only in `table` (money.py's rule: half-even
to the currency's minor unit, e.g. "1,948.50", laid out to fit the terminal by tables.py); JSON and CSV keep the
exact decimal strings, xlsx writes them as typed number cells (xlsx.py).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from .tables import PERCENT_COLUMNS

FORMATS = ("table", "json", "csv", "xlsx")

PNL_COLUMNS = ("account", "symbol", "conid", "currency", "quantity", "average_cost", "cost_basis", "mark",
               "mark_date", "mark_source", "market_value", "realized", "unrealized", "commissions", "dividends",
               "withholding", "fees", "total", "base_currency", "base_cost_basis", "base_realized",
               "base_unrealized", "base_fx", "base_total", "labels", "flags", "interest", "deposits", "withdrawals")
COMPARE_COLUMNS = ("kind", "date", "account", "symbol", "conid", "flex_id", "field", "currency", "ours", "ibkr",
                   "diff", "status", "reason", "raw")
EVENT_COLUMNS = ("date", "account", "symbol", "conid", "kind", "flex_id", "description", "quantity", "amount",
                 "currency", "order_id", "option_event_link", "raw")
#: an open option's contract and moneyness (reports/options.py), after the position's own columns
OPTION_COLUMNS = ("underlying", "expiry", "days_to_expiry", "strike", "right", "underlying_mark", "moneyness")
EXPLAIN_COLUMNS = ("date", "flex_id", "description", "amount", "raw")
ACCOUNT_COLUMNS = ("account", "currency", "interest", "fees", "commissions", "deposits", "withdrawals", "total",
                   "base_currency", "base_total", "flags")
DIFF_COLUMNS = ("date", "account", "symbol", "conid", "flex_id", "field", "currency", "ours", "ibkr", "diff",
                "reason", "raw")
LOT_COLUMNS = ("account", "symbol", "conid", "open_date", "quantity", "cost", "cost_basis", "base_cost_basis",
               "label", "ids")
NUMERIC = {"quantity", "average_cost", "cost_basis", "mark", "market_value", "realized", "unrealized",
           "commissions", "dividends", "withholding", "fees", "total", "base_cost_basis", "base_realized",
           "base_unrealized", "base_fx", "base_total", "ours", "ibkr", "diff", "amount", "cost", "value", "interest",
           "deposits", "withdrawals", "days", "rolls", "premium_received", "premium_paid"}
RETURN_COLUMNS = ("kind", "name", "period", "from", "to", "status", "start_value", "end_value", "net_flows", "gain",
                  "twr", "mwr", "mwr_period", "modified_dietz", "local_return", "fx_return", "fx_holdings", "fx_cash",
                  "fx_conversions", "fx_total", "notes", "gaps")
NUMERIC |= PERCENT_COLUMNS | {"start_value", "end_value", "net_flows", "gain", "fx_holdings", "fx_cash", "fx_conversions",
                      "fx_total"}


def _flat_pnl(row: dict) -> dict:
    flat = {k: v for k, v in row.items() if k != "base"}
    flat.update({f"base_{k}" if k != "currency" else "base_currency": v for k, v in row["base"].items()})
    flat["labels"] = ",".join(row.get("labels") or [])
    flat["flags"] = ",".join(row.get("flags") or [])
    return flat


def _account_rows(report: dict) -> list[dict]:
    return [{**{k: v for k, v in a.items() if k not in ("base", "flags")}, "base_currency": a["base"]["currency"],
             "base_total": a["base"]["total"], "flags": ",".join(a.get("flags") or [])}
            for a in report.get("accounts") or []]


def _raw_text(raw) -> str:
    return " ".join(r if isinstance(r, str) else f"{r['file']}:{r['line']}" for r in raw or [])


def tables(kind: str, report: dict) -> list[tuple[str, tuple[str, ...], list[dict]]]:
    """The report as [(sheet name, columns, rows)]; the first table is the one CSV writes."""
    if kind == "pnl":
        rows = [_flat_pnl(r) for r in report["instruments"]]
        total = {"account": "TOTAL", "base_currency": report["totals"]["base"]["currency"],
                 **{f"base_{k}": v for k, v in report["totals"]["base"].items() if k != "currency"},
                 "flags": report["totals"].get("note") or ""}  # "... exclude 1 instrument(s) without a mark"
        # account-level items (interest, fees without an instrument, FX commissions, deposits): their own table,
        # as they belong to no instrument and are not in the total
        return [("pnl", PNL_COLUMNS, rows + [total]), ("accounts", ACCOUNT_COLUMNS, _account_rows(report))]
    if kind == "positions":
        rows = [_flat_pnl({**p, "base": p["base"]}) for p in report["positions"]]
        lots = [{"account": p["account"], "symbol": p["symbol"], "conid": p["conid"], **lot,
                 "ids": " ".join(lot["ids"])} for p in report["positions"] for lot in p["lots"]]
        columns = tuple(c for c in PNL_COLUMNS if c not in ("realized", "commissions", "dividends", "withholding",
                                                             "fees", "total", "base_realized", "base_total",
                                                             "interest", "deposits", "withdrawals"))
        return [("positions", columns + OPTION_COLUMNS, rows), ("lots", LOT_COLUMNS, lots)]
    if kind == "reconcile":
        rows = [{"kind": "trade", **t, "raw": _raw_text(t["raw"])}
                for inst in report["by_instrument"] for t in inst["trades"]]
        for p in report["positions"]:
            for name in ("quantity", "cost_basis", "unrealized"):
                if name in p:
                    bad = p["status"] == "diff" and p[name]["diff"] not in ("0", None)
                    rows.append({"kind": "position", "date": p["date"], "account": p["account"],
                                 "symbol": p["symbol"], "conid": p["conid"], "field": name, "currency": p["currency"],
                                 **p[name], "status": p["status"], "reason": p["reason"] if bad else None,
                                 "raw": _raw_text(p["raw"])})
        rows += [{"kind": "summary", **s, "raw": _raw_text(s["raw"])} for s in report["summaries"]]
        rows += [{"kind": "flagged", **f, "raw": _raw_text(f["raw"])} for f in report.get("flagged") or []]
        for c in report.get("cash") or []:
            rows.append({"kind": "cash", **{k: v for k, v in c.items() if k != "kinds"}, "raw": _raw_text(c["raw"])})
            rows += [{"kind": "cash", "date": c["date"], "account": c["account"], "symbol": c["symbol"],
                      "field": f"cash.{k['kind']}", "currency": c["currency"], "ours": k["ours"], "ibkr": k["ibkr"],
                      "diff": k["diff"], "status": k["status"]} for k in c["kinds"]]
        by_day = [dict(d) for d in report["by_day"]]
        return [("reconcile", COMPARE_COLUMNS, rows),
                ("by_day", ("date", "account", "currency", "closing_trades", "matched", "ours", "ibkr", "diff"),
                 by_day)]
    if kind == "events":
        return [("events", EVENT_COLUMNS, [{**e, "raw": _raw_text(e["raw"])} for e in report["events"]])]
    if kind == "strategies":
        from .strategies_tables import strategies_tables

        return strategies_tables(report)
    if kind == "explain":
        rows = [{**e, "raw": _raw_text(e["raw"])} for e in report["events"]]
        rows.append({"description": f"= {report['field']} of {report['symbol']} ({report['currency']})",
                     "amount": report["value"]})
        return [("explain", EXPLAIN_COLUMNS, rows)]
    if kind == "returns":
        return [("returns", RETURN_COLUMNS, [_flat_return(r) for r in report["rows"]])]
    raise ValueError(f"unknown report kind {kind!r}")


def _flat_return(row: dict) -> dict:
    flat = {k: v for k, v in row.items() if k not in ("fx", "notes", "gaps", "members")}
    flat.update({f"fx_{k}": v for k, v in (row.get("fx") or {}).items() if k != "notes"})
    flat["notes"] = "; ".join(row.get("notes") or [])
    flat["gaps"] = "; ".join(f"{g['kind']} {g['what']} {g['from']}..{g['to']}" for g in row.get("gaps") or [])
    return flat


def decimal_or_none(value) -> Decimal | None:
    """A report cell as a Decimal ("347.00" -> Decimal("347.00")), or None when it is empty or not a number."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def render_table(kind: str, report: dict, width: int | None = 100, columns: tuple[str, ...] = (),
                 wide: bool = False, all_rows: bool = False) -> str:
    """Text that fits `width` (text.py; ValueError for a `columns` name the report has not)."""
    from .text import render_text

    return render_text(kind, report, width, columns, wide, all_rows)


def render_json(report: dict) -> str:
    from .json_text import dumps  # json.dumps(indent=2, ensure_ascii=False)'s text, without its slow path

    return dumps(report) + "\n"


def render_csv(kind: str, report: dict) -> str:
    _, columns, rows = tables(kind, report)[0]
    if kind == "pnl":  # one CSV: the account-level items follow the total, marked "(account)"
        rows = rows + [{**a, "symbol": "(account)"} for a in _account_rows(report)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buffer.getvalue()


def render_xlsx(kind: str, report: dict) -> bytes:
    """A workbook with one sheet per table: typed number and date cells, frozen filtered header (xlsx.py)."""
    from .xlsx import workbook

    currency = report.get("currency") if kind == "explain" else None
    sheets = [(name, columns, rows, currency) for name, columns, rows in tables(kind, report)]
    if kind == "reconcile":  # the diffs first: what needs looking at
        sheets.insert(0, ("diffs", DIFF_COLUMNS, [{**d, "raw": _raw_text(d["raw"])} for d in report["diffs"]],
                          None))
    return workbook(sheets)


def render(kind: str, report: dict, fmt: str, **table_options) -> str | bytes:
    """The report in `fmt`; `table_options` (width, columns, wide, all_rows) shape `table` only."""
    if fmt == "json":
        return render_json(report)
    if kind == "labels":  # grouped label -> members -> total: its own layout
        from . import labels_format

        return {"csv": labels_format.render_csv, "xlsx": labels_format.render_xlsx,
                "table": labels_format.render_table}[fmt](report)
    if fmt == "csv":
        return render_csv(kind, report)
    if fmt == "xlsx":
        return render_xlsx(kind, report)
    return render_table(kind, report, **table_options)
