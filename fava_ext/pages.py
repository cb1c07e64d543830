"""What every beanflex page in Fava shares: a per-load cache of the reports, links, JSON answers, a bar chart.

The pages add no numbers of their own: fava_reports.py calls the report library (the functions behind
`beanflex report … --format json`) and the templates lay its dicts out. Reports are cached per ledger load
(`after_load_file`, which Fava calls after every (re)load, empties the cache), keyed by the arguments.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Response, request, url_for
from markupsafe import Markup, escape

from fava.beans.funcs import hash_entry
from fava.ext import FavaExtensionBase

from beanflex.contract import flex_src
from beanflex.reports import ledger as report_ledger
from beanflex.reports import money, raw_rows
from beanflex.reports import request as fava_reports

#: The query parameters a beanflex page keeps when it links to itself or to another beanflex page.
PAGE_PARAMS = ("mode", "method", "view", "premium")
#: Fava's own filters, kept on every link (Fava's url_for does the same for its pages).
FAVA_PARAMS = ("time", "account", "filter", "conversion", "interval")


log = logging.getLogger(__name__)
#: Reports per loaded Fava ledger (keyed by its object's id), shared by the beanflex pages. Fava calls
#: after_load_file on every load, the first one included, so a ledger's entry is emptied before it is used.
_REPORTS: dict[int, dict[tuple, Any]] = {}


def shows_errors(page: Callable[..., dict]) -> Callable[..., dict]:
    """A page method whose failure becomes a message on the page ({"error": …}) instead of Fava's bare 500:
    a ReportError says what to change; anything else is a bug, logged with its traceback and named."""
    @functools.wraps(page)
    def wrapper(self, *args, **kwargs) -> dict:
        try:
            return page(self, *args, **kwargs)
        except fava_reports.ReportError as exc:
            return {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - shown, and logged with the traceback
            log.exception("beanflex page %s failed", self.name)
            return {"error": f"beanflex could not build this page ({type(exc).__name__}: {exc}); the same "
                             "report on the command line (beanflex report …) shows the traceback."}
    return wrapper


def entry_hashes(entries) -> dict[str, str]:
    """flex_id -> Fava's hash of the entry that carries it (the hand-edited copy when both exist)."""
    hashes: dict[str, str] = {}
    for entry in entries:
        meta = getattr(entry, "meta", None) or {}
        flex_id = meta.get("flex_id")
        if flex_id and (str(flex_id) not in hashes or str(meta.get("filename", "")).endswith("manual.beancount")):
            hashes[str(flex_id)] = hash_entry(entry)
    return hashes


_COLOUR = re.compile(r"^#[0-9A-Fa-f]{3,8}$|^[a-z]{3,20}$")


def money_text(value: Any, currency: str | None = None) -> str:
    """A report's decimal string for display, by the one rule of reports/money.py (half-even to the currency's minor
    unit, thousands separators): "3802.5" -> "3,802.50"; "1351.125" -> "1,351.12"; "1234.5" JPY -> "1,234". The
    exact string stays in the cell's tooltip and data-bf-value."""
    return money.money_text(value, currency)


def note_html(text: str) -> Markup:
    """A Markdown note as escaped text whose `## 2024-03-01 15:30 UTC` headings (the dated entries `beanflex note`
    appends) show in bold; everything else stays as written (the block keeps its line breaks)."""
    lines = []
    for line in (text or "").splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        lines.append(Markup("<b>{}</b>").format(match.group(1)) if match else escape(line))
    return Markup("\n").join(lines)


def to_jsonable(value: Any) -> Any:
    """Decimals and dates as strings (DESIGN §6: money as decimal strings, never floats)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (Decimal, datetime.date)):
        return str(value)
    return value


def json_response(payload: Any, status: int = 200) -> Response:
    """A JSON response that keeps Decimals exact (Fava's own JSON provider would write them as numbers)."""
    return Response(json.dumps(to_jsonable(payload), ensure_ascii=False), status=status,
                    mimetype="application/json")


class Page(FavaExtensionBase):
    """Base of the beanflex pages: one cache per ledger load, the reports for this request, links that keep
    Fava's filters, the raw-row panel."""

    def after_load_file(self) -> None:
        """The ledger was (re)loaded: every cached report is stale."""
        _REPORTS.pop(id(self.ledger), None)

    def cached(self, key: tuple, build: Callable[[], Any]) -> Any:
        """`build()` once per ledger load and key, shared by all beanflex pages of this ledger, so the ledger is
        read into a Book once, not once per page (on a 10k-trade ledger that read is ~3 s of a ~5 s first page)."""
        cache = _REPORTS.setdefault(id(self.ledger), {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    # -- where things are ----------------------------------------------------------------------------------

    @property
    def ledger_dir(self) -> Path:
        """The folder of the ledger's root file (`ledger/`): `raw/`, `runs.log` and `flex_src` start here."""
        return Path(self.ledger.beancount_file_path).parent

    @property
    def root_dir(self) -> Path:
        """The folder that holds `ledger/` (DESIGN §2: `labels.yaml` and `notes/` live here)."""
        return self.ledger_dir.parent

    # -- the reports, once per ledger load and arguments ----------------------------------------------------

    def args(self) -> fava_reports.ReportArgs:
        """The current request's ReportArgs (ReportError on a bad value)."""
        args = fava_reports.report_args(request.args, self.filtered().date_range)
        return fava_reports.resolve_tag(args, self.labels_config())

    def labels_config(self):
        """labels.yaml (fava_reports.labels_config), once per ledger load."""
        return self.cached(("labels.yaml",), lambda: fava_reports.labels_config(self.ledger.options, self.root_dir))

    def filtered(self):
        """Fava's filtered ledger for this request's `time`, `account` and `filter` (Fava's own filter rules)."""
        args = request.args
        return self.ledger.get_filtered(account=args.get("account", ""), filter=args.get("filter", ""),
                                        time=args.get("time", ""))

    def book(self):
        """The ledger read into per-instrument events (reports.ledger.book)."""
        return self.cached(("book",), lambda: report_ledger.book(self.ledger.all_entries, self.ledger.options))

    def pnl_report(self, args: fava_reports.ReportArgs) -> dict:
        return self.cached(("pnl", args.key()), lambda: fava_reports.pnl(self.book(), args, self.ledger.options,
                                                                        self.ledger.all_entries))

    def positions_report(self, args: fava_reports.ReportArgs) -> dict:
        return self.cached(("positions", args.key()), lambda: fava_reports.positions(self.book(), args))

    def reconcile_report(self, args: fava_reports.ReportArgs) -> dict:
        return self.cached(("reconcile", args.key()),
                           lambda: fava_reports.reconcile(self.book(), args, self.ledger.options))

    def labels_report(self, args: fava_reports.ReportArgs) -> dict:
        unfiltered = replace(args, label=None)  # the labels report groups the whole pnl report (--label picks groups)
        return self.cached(("labels", args.key()), lambda: fava_reports.labels(
            self.pnl_report(unfiltered), args, self.ledger.all_entries, self.labels_config()))

    def events_report(self, args: fava_reports.ReportArgs, conid: str, account: str | None) -> dict:
        return self.cached(("events", args.key(), conid, account), lambda: fava_reports.events(
            self.book(), args, conid, account, self.ledger_dir))

    def explain_report(self, args: fava_reports.ReportArgs, conid: str, account: str | None, field: str) -> dict:
        return self.cached(("explain", args.key(), conid, account, field), lambda: fava_reports.explain(
            self.book(), args, conid, account, field, self.ledger_dir))

    def notes(self) -> fava_reports.Notes:
        return self.cached(("notes",), lambda: fava_reports.Notes(self.ledger.all_entries))

    def entry_hashes(self) -> dict[str, str]:
        """flex_id -> Fava's entry hash, for `#context-<hash>` links (Fava's entry context overlay)."""
        return self.cached(("hashes",), lambda: entry_hashes(self.ledger.all_entries))

    def json(self, build: Callable[[fava_reports.ReportArgs], Any]) -> Response:
        """An endpoint's answer: `build(args)` as JSON, or 400 {"error"} for a bad argument."""
        try:
            return json_response(build(self.args()))
        except fava_reports.ReportError as exc:
            return json_response({"error": str(exc)}, 400)

    # -- links and raw rows ----------------------------------------------------------------------------------

    def url(self, page: str | None = None, endpoint: str | None = None, **params: Any) -> str:
        """A link to a beanflex page (default this one) or endpoint, keeping Fava's filters and the page's
        mode/method/view (and, on the same page, every other argument); `param=None` drops one. E.g.
        url(label="Software") on the Labels page at `?time=2024&mode=economic` ->
        `/<bfile>/extension/BeanflexLabels/?time=2024&mode=economic&label=Software`.
        """
        same_page = page is None or page == self.name
        query = {k: v for k, v in request.args.items()
                 if v and k != "partial" and (same_page and not endpoint or k in FAVA_PARAMS or k in PAGE_PARAMS)}
        for name, value in params.items():
            if value is None:
                query.pop(name, None)
            else:
                query[name] = str(value)
        name = page or self.name  # Fava's url_for fills in the ledger's slug (`<bfile>`) itself
        # One url_for per page and request: a 10k-trade portfolio has ~6,000 links, and url_for each time was
        # half the page's time (the base depends only on the page name within one request). Fava's url_for also
        # appends the active filters (`?time=2019`); `query` carries them already, so they are cut here (they
        # came twice: `…/BeanflexLabels/?time=2019?time=2019&conid=…`).
        bases = request.environ.setdefault("beanflex.page_urls", {})
        if name not in bases:
            bases[name] = url_for("extension_report", extension_name=name).split("?", 1)[0]
        base = bases[name] + (endpoint or "")  # endpoints sit below the page
        return base + ("?" + urlencode(query) if query else "")

    def raw_for_page(self) -> dict | None:
        """The raw row named by `?raw=` for the page's raw panel; {"error"} when refused; None without `?raw=`."""
        src = request.args.get("raw")
        if not src:
            return None
        try:
            return raw_rows.read_row(self.ledger_dir, src)
        except raw_rows.RawRowRefused as exc:
            return {"error": exc.message}

    @staticmethod
    def note_html(text: str) -> Markup:
        """note_html for the templates."""
        return note_html(text)

    @staticmethod
    def money(value: Any, currency: str | None = None) -> str:
        """money_text for the templates."""
        return money_text(value, currency)

    @staticmethod
    def quantity(value: Any) -> str:
        """A quantity with its own precision and separators ("5257" -> "5,257")."""
        return money.quantity_text(value)

    @staticmethod
    def price(value: Any, currency: str | None = None) -> str:
        """A price or mark with its own precision ("1.0231", "150.00")."""
        return money.price_text(value, currency)

    @staticmethod
    def refs(value: Any) -> list[str]:
        """Raw references as `path:line` strings from any report shape: a `flex_src` string, a list of such
        strings, or explain's [{"file", "line", …}]."""
        if not value:
            return []
        if isinstance(value, str):
            return flex_src.refs(value)
        out = []
        for item in value:
            if isinstance(item, dict):
                out.append(f"{item.get('file')}:{item.get('line')}")
            else:
                out.extend(flex_src.refs(str(item)))
        return out


#: Bars a chart shows before the rest is summed into one "others" bar (a real statement has ~70 instruments).
CHART_TOP = 15
#: Characters of a bar's name that fit its 150 px label column; longer names are cut with "…" (full in the tooltip).
CHART_NAME = 22


def top_items(items: list[tuple], top: int = CHART_TOP) -> list[tuple]:
    """The items by size (largest |amount| first; not computable last), the first `top - 1` kept and the rest
    summed into one ("others (N)", sum, None) item. E.g. 20 instruments, top 15: 14 bars + "others (6)" whose
    amount is the exact sum of those 6 report amounts (display only: the reports' totals are unchanged)."""
    def size(item):
        amount = money.to_decimal(item[1])
        return (amount is None, -abs(amount) if amount is not None else 0)
    ranked = sorted(items, key=size)
    if len(ranked) <= top:
        return ranked
    rest = ranked[top - 1:]
    known = [money.to_decimal(item[1]) for item in rest if money.to_decimal(item[1]) is not None]
    return ranked[:top - 1] + [(f"others ({len(rest)})", str(sum(known, Decimal(0))) if known else None, None)]


def bar_chart(items: list[tuple], width: int = 640, label_width: int = 150, row_height: int = 22,
              currency: str | None = None, top: int | None = CHART_TOP) -> dict:
    """Geometry of a horizontal bar chart (inline SVG, drawn by the templates) for (name, amount, href[, colour])
    items, largest first and at most `top` bars (top_items); a label's `colour` from labels.yaml colours its bar.

    Amounts are the report's decimal strings; pixels are the only thing computed here. E.g. items AAPL 497.52
    and SAP 57.70 on a 400 px plot: AAPL's bar is 400 px, SAP's 400 × 57.70 / 497.52 = 46.4 px. Negative
    amounts grow left of the zero line; None (not computable) draws no bar. Each row's `text` is the amount
    rounded for display (money.py), its tooltip the exact amount.
    """
    items = top_items(items, top) if top else items
    amounts = [Decimal(str(item[1])) if item[1] not in (None, "") else None for item in items]
    known = [a for a in amounts if a is not None]
    low, high = min([Decimal(0), *known]), max([Decimal(0), *known])
    span = (high - low) or Decimal(1)
    plot = Decimal(width - label_width - 90)  # room on the right for the amount's text
    zero = label_width + plot * (-low) / span
    rows = []
    for i, (item, value) in enumerate(zip(items, amounts)):
        name, amount, href = item[:3]
        colour = item[3] if len(item) > 3 and _COLOUR.match(str(item[3] or "")) else None
        size = abs(value) * plot / span if value is not None else Decimal(0)
        x = zero - size if value is not None and value < 0 else zero
        short = name if len(str(name)) <= CHART_NAME else str(name)[:CHART_NAME - 1] + "…"
        # SVG pixel positions (display geometry, not money): floats rounded to tenths of a pixel
        rows.append({"name": name, "short": short, "amount": amount, "text": money_text(amount, currency),
                     "href": href, "y": i * row_height,
                     "x": round(float(x), 1), "width": round(float(size), 1),
                     "negative": value is not None and value < 0, "missing": value is None, "colour": colour})
    return {"width": width, "height": max(1, len(items)) * row_height + 4, "zero": round(float(zero), 1),
            "label_width": label_width, "row_height": row_height, "rows": rows}
