"""`report strategies` laid out as tables for formats.py (table, CSV, xlsx): groups, their members, their chains.

CSV writes the first table (one row per group, then TOTAL, IGNORED and PORTFOLIO rows); xlsx writes all three.
"""

from __future__ import annotations

GROUP_COLUMNS = ("ref", "name", "kind", "account", "underlying", "status", "open_date", "close_date", "days",
                 "rolls", "currency", "realized", "unrealized", "premium_received", "premium_paid", "commissions",
                 "dividends", "withholding", "fees", "total", "base_currency", "base_realized", "base_unrealized",
                 "base_fx", "base_total", "labels", "flags")
MEMBER_COLUMNS = ("ref", "date", "flex_id", "kind", "symbols", "quantity", "amount", "rule", "link", "raw")
CHAIN_COLUMNS = ("ref", "date", "rule", "closed", "opened")


def _base(prefix_row: dict, base: dict) -> dict:
    return {**prefix_row, "base_currency": base["currency"],
            **{f"base_{k}": v for k, v in base.items() if k != "currency"}}


def strategies_tables(report: dict) -> list[tuple[str, tuple[str, ...], list[dict]]]:
    groups = [_base({k: v for k, v in g.items() if k != "base"}, g["base"]) for g in report["strategies"]]
    for row, group in zip(groups, report["strategies"]):
        row["labels"] = ",".join(group["labels"])
        row["flags"] = ",".join(group["flags"])
    groups.append(_base({"ref": "TOTAL", "name": f"{report['totals']['groups']} groups"},
                        report["totals"]["base"]))
    if report["ignored"]["events"]:
        groups.append(_base({"ref": "IGNORED", "name": " ".join(report["ignored"]["events"])},
                            report["ignored"]["base"]))
    if report.get("portfolio"):
        groups.append(_base({"ref": "PORTFOLIO", "name": "report pnl"},
                            report["portfolio"]["base"]))
    members = [{"ref": g["ref"], **m, "symbols": " ".join(m["symbols"]), "raw": " ".join(m["raw"])}
               for g in report["strategies"] for m in g["members"]]
    chain = [{"ref": g["ref"], **c, "closed": " ".join(c["closed"]), "opened": " ".join(c["opened"])}
             for g in report["strategies"] for c in g["chain"]]
    return [("strategies", GROUP_COLUMNS, groups), ("members", MEMBER_COLUMNS, members),
            ("chain", CHAIN_COLUMNS, chain)]
