"""The beanflex pages in Fava: Portfolio, Labels, Reconciliation, Import health, Strategies (one sidebar entry each).

Enabled by `2000-01-01 custom "fava-extension" "beanflex.fava_ext"` in ledger/main.beancount. Each class is
thin: it hands its template (`templates/<Class>.html`) the report dicts of this request -- the same functions
behind `beanflex report … --format json` (fava_reports.py) -- and serves them as JSON under
`/<bfile>/extension/<Class>/<endpoint>` (DESIGN §6, money as decimal strings), so page and CLI cannot disagree.

The raw-row endpoint `…/BeanflexLabels/raw_row?src=raw/U1/2024/x.xml:57` serves one element of the raw archive
and nothing else (raw_rows.py checks the path before opening anything); it only reads, so it works under
`fava --read-only` too.
"""

from __future__ import annotations

from pathlib import Path

from flask import request

from fava.ext import extension_endpoint

from beanflex.reports import import_health, raw_rows
from beanflex.reports import options as option_reports
from beanflex.reports import request as fava_reports

from . import pages as fava_pages
from . import performance
from .editing import BeanflexEdit  # noqa: F401 - Fava finds extension classes in this module
from .upload import BeanflexUpload  # noqa: F401
from .strategies import BeanflexStrategies  # noqa: F401


class BeanflexPortfolio(fava_pages.Page):
    """Positions and P&L per instrument, a chart of the totals, and each instrument's flags."""

    report_title = "Portfolio"

    @fava_pages.shows_errors
    def page(self) -> dict:
        args = self.args()
        report = self.pnl_report(args)
        recon = self.reconcile_report(args)
        items = [(row["symbol"], row["base"]["total"],
                  self.url("BeanflexLabels", conid=row["conid"], acct=row["account"]))
                 for row in report["instruments"]]
        return {"args": args, "pnl": report, "chart": fava_pages.bar_chart(items, currency=report["base_currency"]),
                "flags": fava_reports.instrument_flags(report, recon),
                "groups": option_reports.underlying_groups(self.book(), report)}

    @extension_endpoint("pnl")
    def pnl_json(self):
        """`report pnl --format json` for this request's arguments."""
        return self.json(self.pnl_report)

    @extension_endpoint("positions")
    def positions_json(self):
        """`report positions --format json` for this request's arguments."""
        return self.json(self.positions_report)


class BeanflexLabels(fava_pages.Page):
    """P&L per label -> a label's instruments -> an instrument's events -> the raw Flex row."""

    report_title = "Labels"

    @fava_pages.shows_errors
    def page(self) -> dict:
        args = self.args()
        report = self.labels_report(args)
        label, conid, acct = (request.args.get(k) or None for k in ("label", "conid", "acct"))
        page = {"args": args, "labels": report, "level": "labels", "label_name": None, "group": None,
                "instrument": None, "events": [], "explain": None, "hashes": self.entry_hashes(), "notes": self.notes(),
                "raw": self.raw_for_page()}
        if label:
            page["group"] = fava_reports.label_group(report, label)
            page["label_name"] = page["group"]["label"] if page["group"] else label
            page["level"] = "label"
            if page["group"] is None:
                return {**page, "error": f"No label {label!r} in this report: not in labels.yaml, or left out by "
                                         "the tag filter."}
        if conid:
            page["level"] = "instrument"
            page["instrument"] = fava_reports.find_instrument(report, conid, acct)
            if page["instrument"] is None:
                return {**page, "error": f"No instrument with conid {conid} in this report (check the time "
                                         "range, account and label filters)."}
            account = page["instrument"]["account"]
            page["events"] = self.events_report(args, conid, account)["events"]
            field = request.args.get("field")
            if field:
                try:
                    page["explain"] = self.explain_report(args, conid, account, field)
                except fava_reports.ReportError as exc:
                    page["explain"] = {"error": str(exc)}
        if page["level"] == "labels":
            items = [(g["label"], g["totals"].get("total"), self.url(label=g["label"]), g.get("colour"))
                     for g in report["labels"]]
            if report["unlabelled"]["instruments"]:
                items.append(("unlabelled", report["unlabelled"]["totals"].get("total"), self.url(label="-")))
            page["chart"] = fava_pages.bar_chart(items, currency=report["base_currency"])
        return page

    @extension_endpoint("labels")
    def labels_json(self):
        """`report labels --format json` for this request's arguments."""
        return self.json(self.labels_report)

    @extension_endpoint("events")
    def events_json(self):
        """`report events` of one instrument: `?conid=265598[&acct=U1234567]`."""
        def build(args):
            conid = request.args.get("conid")
            if not conid:
                raise fava_reports.ReportError("conid is required, e.g. ?conid=265598")
            return self.events_report(args, conid, request.args.get("acct") or None)
        return self.json(build)

    @extension_endpoint("explain")
    def explain_json(self):
        """`explain CONID FIELD --format json`: `?conid=265598&field=realized[&acct=U1234567]`."""
        def build(args):
            conid = request.args.get("conid")
            if not conid:
                raise fava_reports.ReportError("conid is required, e.g. ?conid=265598&field=realized")
            return self.explain_report(args, conid, request.args.get("acct") or None,
                                       request.args.get("field") or "total")
        return self.json(build)

    @extension_endpoint("raw_row")
    def raw_row_json(self):
        """One raw Flex row: `?src=raw/U1/2024/x.xml:57` -> {"file", "line", "xml", "context"}; 400/404 if refused."""
        try:
            return fava_pages.json_response(raw_rows.read_row(self.ledger_dir, request.args.get("src", "")))
        except raw_rows.RawRowRefused as exc:
            return fava_pages.json_response({"error": exc.message}, exc.status)


class BeanflexReconcile(fava_pages.Page):
    """Reconciliation against IBKR: status, diffs by instrument, by day and per trade, open positions."""

    report_title = "Reconciliation"

    @fava_pages.shows_errors
    def page(self) -> dict:
        args = self.args()
        report = self.reconcile_report(args)
        return {"args": args, "reconcile": report, "raw": self.raw_for_page(), "hashes": self.entry_hashes(),
                "reasons": fava_reports.REASONS}

    @extension_endpoint("reconcile")
    def reconcile_json(self):
        """`report reconcile --format json` for this request's arguments."""
        return self.json(self.reconcile_report)


class BeanflexImportHealth(fava_pages.Page):
    """Ingestion runs, drift warnings, unmapped rows and flagged corporate actions with how to fix them."""

    report_title = "Import health"

    def health(self) -> dict:
        """Runs from runs.log (all of them), flagged and unmapped entries from Fava's filtered entries (its time,
        account and advanced filters narrow those lists)."""
        filters = tuple(request.args.get(k) or "" for k in ("time", "account", "filter"))
        return self.cached(("health", filters), lambda: import_health.import_health(
            self.filtered().entries, self.ledger_dir, self.cached(("check",), self.check_findings)))

    def check_findings(self) -> dict:
        """What `beanflex check` finds in the raw archive (drift, rows not mapped or flagged), so the page's
        counts are check's; computed once per ledger load (it maps the archive in memory, as rebuild would)."""
        from beanflex.findings import archive_findings  # the composition root: it reads the importers' archive

        return archive_findings(Path(self.ledger.beancount_file_path))

    @fava_pages.shows_errors
    def page(self) -> dict:
        return {"health": self.health(), "raw": self.raw_for_page(), "hashes": self.entry_hashes()}

    @extension_endpoint("health")
    def health_json(self):
        """The page's data: runs, drift warnings, unmapped rows, flagged entries."""
        return fava_pages.json_response(self.health())


class BeanflexPerformance(fava_pages.Page):
    """Returns (TWR, MWR, Modified Dietz) and the FX split by period and by account, label, strategy or instrument;
    NAV, cumulative TWR and drawdown charts of one of them, with the flows and daily values behind every figure."""

    report_title = "Performance"

    def strategy_groups(self):
        """flex_id -> strategy group id (reports/returns_groups.py), once per ledger load; None without them."""
        from beanflex.reports.returns_groups import strategy_groups

        return self.cached(("strategy_groups",), lambda: strategy_groups(self.book(), self.root_dir,
                                                                          self.ledger.all_entries))

    def returns(self, by: str, period: str | None = None):
        from beanflex.reports import returns as returns_mod
        periods = (period,) if period else ()
        return self.cached(("returns", by, period), lambda: returns_mod.returns_report(
            self.ledger.all_entries, self.ledger.options, by, periods, labels_config=self.labels_config(),
            strategy_groups=self.strategy_groups))

    def detail(self, by: str, key: str, period: str):
        from beanflex.reports import returns as returns_mod
        return self.cached(("returns_detail", by, key, period), lambda: returns_mod.detail(
            self.ledger.all_entries, self.ledger.options, by, key, period, labels_config=self.labels_config(),
            strategy_groups=self.strategy_groups))

    @fava_pages.shows_errors
    def page(self) -> dict:
        from beanflex.reports.returns import ReturnsError

        by = fava_reports.choice(request.args, "by", ("account", "label", "instrument", "strategy"))
        period = request.args.get("period") or "ITD"
        try:
            table = self.returns(by)
            labels = self.returns("label", period) if by != "label" else None
            key = request.args.get("key") or (table["rows"][0]["key"] if table["rows"] else None)
            detail = self.detail(by if key != "portfolio" else "account", key, period) if key else None
        except ReturnsError as exc:
            raise fava_reports.ReportError(str(exc)) from None
        return {"by": by, "period": period, "key": key, "table": table, "labels": labels, "detail": detail,
                "charts": performance.charts(detail) if detail else None, "raw": self.raw_for_page(),
                "hashes": self.entry_hashes()}

    @extension_endpoint("returns")
    def returns_json(self):
        """`report returns --format json`: `?by=account|label|instrument|strategy[&period=YTD]`."""
        def build(_args):
            from beanflex.reports.returns import ReturnsError

            try:
                return self.returns(fava_reports.choice(request.args, "by", ("account", "label", "instrument",
                                                                              "strategy")),
                                    request.args.get("period") or None)
            except ReturnsError as exc:
                raise fava_reports.ReportError(str(exc)) from None
        return self.json(build)

    @extension_endpoint("detail")
    def detail_json(self):
        """The flows and daily values behind one row: `?by=account&key=U1&period=YTD`."""
        def build(_args):
            from beanflex.reports.returns import ReturnsError

            try:
                by = fava_reports.choice(request.args, "by", ("account", "label", "instrument", "strategy"))
                return self.detail(by, request.args.get("key") or "portfolio", request.args.get("period") or "ITD")
            except ReturnsError as exc:
                raise fava_reports.ReportError(str(exc)) from None
        return self.json(build)


#: The sidebar's order (the README's). Fava adds a module's pages in the sorted order of their names in the module
#: (inspect.getmembers) and each class once, so these aliases, which sort before "Beanflex…", set the order; a page
#: not listed here follows, alphabetically. The class names, and so the URLs, stay as they are.
SIDEBAR = (BeanflexPortfolio, BeanflexLabels, BeanflexReconcile, BeanflexPerformance, BeanflexImportHealth,
           BeanflexUpload, BeanflexStrategies)
for _position, _page in enumerate(SIDEBAR):
    globals()[f"A{_position:02d}_{_page.__name__}"] = _page
