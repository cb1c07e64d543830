"""The Strategies page in Fava: strategy groups -> a group's legs -> its events -> the raw Flex row.

`?status=open|closed` and `?underlying=XYZ` filter the list; `?group=ID` opens one group (its roll-up, P&L over time, legs, events with the rule that put each one there, and
the chain of orders: which roll followed which); `&leg=CONID` keeps one leg's events; `&field=realized` lists the
events behind that number (they add up to it); `&raw=…` shows a raw row. The numbers are those of
`beanflex report strategies --format json` (reports/strategies.py), read once per ledger load and strategies.yaml
version; the page draws, it does not compute.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import request

from fava.ext import extension_endpoint

from beanflex.reports import request as fava_reports
from beanflex.reports import strategies as strategies_mod

from . import pages as fava_pages

STATUS_FILTERS = ("all", "open", "closed")
#: Rows the list shows before a "show all" link (a 10,000-trade ledger has ~2,000 groups; Jinja draws ~450 a
#: second); the totals are over every group all the same.
LIST_LIMIT = 500


def sparkline(points: list[dict], width: int = 100, height: int = 28, pad: int = 3) -> dict | None:
    """Pixel geometry of a small P&L-over-time line (inline SVG) from [{"date", "total"}] (decimal strings).

    x spreads the points evenly in date order; y maps the lowest..highest total (0 included) to the height. E.g.
    totals 48, 126 on a 28 px box: zero at y 25 (bottom, less padding), 126 at y 3, 48 at 3 + 22 x 78/126 = 16.6.
    None when there is nothing to draw.
    """
    if not points:
        return None
    values = [Decimal(str(p["total"])) for p in points]
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    span = (high - low) or Decimal(1)
    step = (width - 2 * pad) / max(1, len(values) - 1)

    def y(value: Decimal) -> float:  # pixels only: floats, rounded to tenths
        return round(float(pad + (high - value) * (height - 2 * pad) / span), 1)

    coords = [(round(pad + i * step, 1), y(v)) for i, v in enumerate(values)]
    if len(coords) == 1:
        coords.append((width - pad, coords[0][1]))
    path = "M" + " L".join(f"{x},{yy}" for x, yy in coords)
    return {"width": width, "height": height, "path": path, "zero": y(Decimal(0)), "last": coords[-1],
            "negative": values[-1] < 0, "title": " → ".join(f"{p['date']}: {p['total']}" for p in points)}


class BeanflexStrategies(fava_pages.Page):
    """Strategy groups (spreads, rolls, wheels, stock positions) with their roll-up and drilldown."""

    report_title = "Strategies"

    def found(self):
        """The groups after strategies.yaml, once per ledger load and version of the file (Fava does not reload
        the ledger when only strategies.yaml changes, so its mtime is part of the key)."""
        path = self.root_dir / "strategies.yaml"

        def build():
            try:
                return strategies_mod.load_strategies(self.book(), self.ledger.all_entries, path)
            except strategies_mod.StrategiesFileError as exc:
                raise fava_reports.ReportError(str(exc)) from None
        return self.cached(("strategy-groups", self._stamp()), build)

    def _stamp(self) -> int | None:
        path = self.root_dir / "strategies.yaml"
        return path.stat().st_mtime_ns if path.is_file() else None

    def report(self, args: fava_reports.ReportArgs, status: str | None = None, underlying: str | None = None) -> dict:
        found = self.found()
        accounts = (args.account,) if args.account else ()
        labels = (args.label,) if args.label else ()
        return self.cached(("strategies", args.key(), status, underlying, self._stamp()),
                           lambda: strategies_mod.strategies_report(self.book(), fava_reports.options(args), found,
                                                                    accounts, labels, underlying, status))

    @fava_pages.shows_errors
    def page(self) -> dict:
        args = self.args()
        status = request.args.get("status") or "all"
        if status not in STATUS_FILTERS:
            raise fava_reports.ReportError(f"status must be one of {', '.join(STATUS_FILTERS)}, not {status!r}")
        underlying = request.args.get("underlying") or None
        report = self.report(args, None if status == "all" else status, underlying)
        page: dict[str, Any] = {"args": args, "report": report, "status": status, "group": None, "explain": None,
                                "underlying": underlying,
                                "leg": request.args.get("leg") or None, "raw": self.raw_for_page(),
                                "hashes": self.entry_hashes(), "sparks": {}}
        everything = bool(request.args.get("all"))
        page["shown"] = report["strategies"] if everything else report["strategies"][:LIST_LIMIT]
        for group in page["shown"]:
            page["sparks"][group["id"]] = sparkline(group["series"])
        wanted = request.args.get("group")
        if wanted:
            gid = strategies_mod.group_id(wanted)
            page["group"] = next((g for g in self.report(args)["strategies"] if g["id"] == gid), None)
            if page["group"] is None:
                return {**page, "error": f"No strategy group {wanted!r} in this report (check the time range, "
                                         "account and label filters)."}
            page["chart"] = sparkline(page["group"]["series"], width=480, height=120, pad=8)
            field = request.args.get("field")
            if field:
                try:
                    page["explain"] = strategies_mod.explain_strategy_report(
                        self.book(), fava_reports.options(args), self.found(), gid, field, self.ledger_dir)
                except LookupError as exc:
                    page["explain"] = {"error": str(exc.args[0])}
        return page

    @staticmethod
    def leg_events(group: dict, leg: str | None) -> list[dict]:
        """The group's events, or only those of one leg (conid)."""
        if not leg:
            return group["members"]
        return [m for m in group["members"] if leg in m["conids"]]

    @extension_endpoint("strategies")
    def strategies_json(self):
        """`report strategies --format json` for this request's arguments (`?status=open|closed`,
        `?underlying=XYZ`)."""
        status = request.args.get("status") or None
        underlying = request.args.get("underlying") or None
        return self.json(lambda args: self.report(args, status if status in ("open", "closed") else None,
                                                  underlying))
