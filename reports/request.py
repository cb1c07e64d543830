"""The report library as the Fava pages call it: request arguments -> the DESIGN §6 dicts `beanflex report` prints.

Nothing here adds a number. It turns a page's query string and Fava's filters into the CLI's arguments
(`--mode`, `--method`, `--from/--to`, `--account`, `--label`), calls reports.py / report_labels.py with them,
picks rows out of a report for a drilldown, and reads the notes the notes plugin attached to the loaded ledger.

- `?mode=economic&method=average&view=local` -> ReportArgs(mode="economic", method="average", view="local");
  a bad value is a 400, never a guess.
- Fava's time filter `?time=2024` -> `from`/`to` 2024-01-01 … 2024-12-31 (the range's `end_inclusive`), so the
  lots still see the whole history (Fava's clamped entry list would hide the opening trades).
- Fava's account filter `?account=Assets:IBKR:U1234567` -> `--account U1234567`; a tag filter `?filter=#Software`
  -> `--label Software`. Any other filter is listed on the page as not applied.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from beancount.core import data

from beanflex.contract.accounts import ibkr_account_of
from beanflex.engine import pnl as pnl_mod
from beanflex.engine import reconcile as reconcile_mod
from beanflex.engine.book import Book
from beanflex.engine.labels import configured_path, instruments_from_entries, label_for_tag
from beanflex.engine.labels_config import load_labels

from . import reports
from .labels import labels_report


#: Every reconciliation reason with its explanation, for the pages' legend.
REASONS = reconcile_mod.REASONS

MODES = ("ibkr", "economic")
METHODS = ("fifo", "average")
VIEWS = ("base", "local")
PREMIUMS = ("separate", "folded")  # economic mode: an assigned option's premium on the option, or in the stock

_TAG_FILTER = re.compile(r"^#([\w-]+)$")


class ReportError(ValueError):
    """The report cannot be built as asked (a bad argument, an unknown label); the page shows the message and
    an endpoint answers 400."""


@dataclass(frozen=True)
class ReportArgs:
    """The report arguments a page request asks for (defaults: the CLI's defaults)."""

    mode: str = "ibkr"
    method: str = "fifo"
    view: str = "base"  # base: base-currency columns; local: the instrument's currency
    start: datetime.date | None = None
    end: datetime.date | None = None  # inclusive
    account: str | None = None  # IBKR account id, e.g. U1234567
    label: str | None = None
    tag: str | None = None  # Fava's `#tag` filter, until resolve_tag turns it into its label
    ignored_filters: tuple[str, ...] = ()  # Fava filters that could not be applied here
    premium: str = "separate"

    def key(self) -> tuple:
        return tuple(asdict(self).values())


def choice(args, name: str, allowed: tuple[str, ...]) -> str:
    """`args[name]` if it is one of `allowed`; the first of `allowed` when absent; ReportError otherwise."""
    value = args.get(name) or allowed[0]
    if value not in allowed:
        raise ReportError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def report_args(args, date_range=None) -> ReportArgs:
    """ReportArgs from a query string (a mapping) and Fava's date range (`begin`, `end_inclusive`; None: no
    time filter). E.g. {"mode": "economic", "account": "Assets:IBKR:U1"} -> mode economic, account U1."""
    start = end = None
    if date_range is not None:
        start, end = date_range.begin, date_range.end_inclusive
    account = tag = None
    ignored = []
    fava_account = (args.get("account") or "").strip()
    if fava_account:
        account = ibkr_account_of(fava_account)
        if account is None:
            ignored.append(f"account {fava_account}")
    fava_filter = (args.get("filter") or "").strip()
    if fava_filter:
        match = _TAG_FILTER.match(fava_filter)
        if match:
            tag = match.group(1)
        else:
            ignored.append(f"filter {fava_filter}")
    return ReportArgs(choice(args, "mode", MODES), choice(args, "method", METHODS), choice(args, "view", VIEWS),
                      start, end, account, None, tag, tuple(ignored), choice(args, "premium", PREMIUMS))


def resolve_tag(args: ReportArgs, config) -> ReportArgs:
    """Fava's `#Dividend-Growth` filter as the label "Dividend Growth" (the labels plugin's tag of it); a tag
    no label carries is listed as not applied."""
    if not args.tag:
        return args
    name = label_for_tag(config, args.tag)
    if name is None:
        return replace(args, tag=None, ignored_filters=(*args.ignored_filters, f"filter #{args.tag} (no label "
                                                                                "has this tag)"))
    return replace(args, tag=None, label=name)


def options(args: ReportArgs) -> pnl_mod.Options:
    """`--mode ibkr --method fifo --from 2024-01-01 --to 2024-12-31` as the library's Options."""
    return pnl_mod.Options(mode=args.mode, method=args.method, start=args.start, end=args.end,
                           premium=args.premium)


def _accounts(args: ReportArgs) -> tuple[str, ...]:
    return (args.account,) if args.account else ()


def _labels(args: ReportArgs) -> tuple[str, ...]:
    return (args.label,) if args.label else ()


def pnl(book: Book, args: ReportArgs, options_map=None, entries=None) -> dict:
    """`report pnl --format json` (its rows flag reconciliation diffs at the ledger's tolerance; `accounts` from
    the entries)."""
    return reports.pnl_report(book, options(args), _accounts(args), _labels(args), tolerance(options_map), entries)


def positions(book: Book, args: ReportArgs) -> dict:
    """`report positions --format json`."""
    return reports.positions_report(book, options(args), _accounts(args), _labels(args))


def tolerance(options_map) -> object:
    """The reconcile plugin's tolerance from the ledger's plugin line, else the library's default (0.01)."""
    return reconcile_mod.configured_tolerance(options_map)


def reconcile(book: Book, args: ReportArgs, options_map) -> dict:
    """`report reconcile --format json`."""
    return reports.reconcile_report(book, tolerance(options_map), _accounts(args), args.start, args.end)


def labels_config(options_map, root_dir: Path):
    """labels.yaml as `report labels` reads it: the labels plugin line's path, else `<repo>/labels.yaml`.
    Its problems are the labels plugin's errors (Fava lists them); the valid labels are still used."""
    path = configured_path(options_map) or Path(root_dir) / "labels.yaml"
    config, _errors = load_labels(path)
    return config


def labels(pnl_report: dict, args: ReportArgs, entries, config) -> dict:
    """`report labels --format json`: the pnl report (of every label: `pnl(book, args without its label)`)
    grouped by labels.yaml, `--label` keeping one group."""
    if args.label and config.get(args.label) is None:
        raise ReportError(f"No label {args.label!r} in {config.filename}.")
    return labels_report(pnl_report, config, instruments=instruments_from_entries(entries), only=_labels(args))


def events(book: Book, args: ReportArgs, conid: str, account: str | None, ledger_dir: Path) -> dict:
    """`report events` for one instrument (by conid), with each event's raw rows read from the archive."""
    accounts = (account,) if account else _accounts(args)
    return reports.events_report(book, options(args), accounts, key=conid, ledger_dir=ledger_dir)


def explain(book: Book, args: ReportArgs, conid: str, account: str | None, field: str, ledger_dir: Path) -> dict:
    """`explain CONID FIELD --format json`: the events behind one number, each with its raw rows."""
    accounts = (account,) if account else _accounts(args)
    try:
        return reports.explain_report(book, conid, field, options(args), ledger_dir, accounts)
    except LookupError as exc:
        raise ReportError(str(exc.args[0])) from None


def label_group(report: dict, name: str) -> dict | None:
    """A label's group from the labels report; `-` is the unlabelled group."""
    if name == "-":
        group = report.get("unlabelled") or {}
        return {"label": "unlabelled", "description": "Instruments in no label", **group}
    return next((g for g in report.get("labels") or [] if g.get("label") == name), None)


def find_instrument(report: dict, conid: str, account: str | None) -> dict | None:
    """The pnl row of one instrument (by conid, and account when given) from a labels or pnl report."""
    rows = list(report.get("instruments") or [])
    for group in report.get("labels") or []:
        rows.extend(group.get("instruments") or [])
    rows.extend((report.get("unlabelled") or {}).get("instruments") or [])
    for row in rows:
        if str(row.get("conid")) == str(conid) and (not account or row.get("account") == account):
            return row
    return None


def instrument_flags(pnl_report: dict, reconcile_report: dict | None = None) -> dict[tuple[str, str], list[str]]:
    """(account, conid) -> the flags the Portfolio page shows: the pnl row's own flags, which the library sets
    (`flagged_corporate_action`, `no_mark`, `reconcile_diff`, …: reports.pnl_report, the same for the CLI)."""
    return {(row.get("account"), str(row.get("conid"))): list(row.get("flags") or [])
            for row in pnl_report.get("instruments") or []}


class Notes:
    """The notes the notes plugin put on the loaded ledger: commodity `note` by conid, transaction `note` by
    flex_id. (Without that plugin line there are none, and the pages say how to add one.)"""

    def __init__(self, entries) -> None:
        self.by_conid: dict[str, str] = {}
        self.by_flex_id: dict[str, str] = {}
        for entry in entries:
            meta = getattr(entry, "meta", None) or {}
            if isinstance(entry, data.Commodity) and meta.get("note") and meta.get("conid") is not None:
                self.by_conid[str(meta["conid"])] = str(meta["note"])
            elif isinstance(entry, data.Transaction) and meta.get("note") and meta.get("flex_id"):
                self.by_flex_id[str(meta["flex_id"])] = str(meta["note"])

    def instrument(self, row: dict) -> str:
        return self.by_conid.get(str(row.get("conid")), "")

    def event(self, flex_id: str) -> str:
        return self.by_flex_id.get(str(flex_id), "")
