"""The daily P&L snapshot (reports/pnl_snapshot.py, reports/snapshot_store.py, `beanflex snapshot`).

1. On real and hand-made statements, every day's stored rows and totals are exactly `report pnl --to DAY`
   computed afresh: on every day a row changes, the day before it, and after the last.
2. `report labels --to DAY` answers from a fresh snapshot without loading the ledger, the same JSON as computed
   from the ledger; a changed labels.yaml makes it stale (said on stderr) until `beanflex snapshot` runs again.
3. A past day's P&L by label is one SQL query, hand-checked on the ledger below.
"""

from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.engine.book import load_book
from beanflex.engine.pnl import Options
from beanflex.reports import pnl_snapshot, reports, snapshot_store
from samples import public_samples
from test_labels import LABELS_YAML, LEDGER as LABELS_LEDGER

FIXTURES = Path(__file__).parent / "fixtures"
ONE_DAY = datetime.timedelta(days=1)


def import_statements(tmp_path: Path, paths: list[Path], base: str = "USD") -> Path:
    ledger = tmp_path / "ledger"
    ledger.mkdir(parents=True)
    main = ledger / "main.beancount"
    main.write_text(f'option "operating_currency" "{base}"\ninclude "generated/index.beancount"\n')
    copies = []
    for path in paths:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        copies.append(str(copy))
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", *copies])
    assert result.exit_code == 0, result.output
    return main


def snapshot_and_fresh_reports(main: Path, tmp_path: Path):
    """(the stored report of each checked day, the fresh one), over the days that could go wrong."""
    entries, errors, options_map = loader.load_file(str(main))
    book = load_book(entries, options_map)
    tolerance = reports.reconcile_mod.DEFAULT_TOLERANCE
    rows = list(pnl_snapshot.daily_rows(book, tolerance))
    path = tmp_path / "snap.sqlite"
    snapshot_store.write(path, files={}, base_currency=book.base_currency, view=pnl_snapshot.VIEW_NAME, rows=rows,
                         members=[], rates=pnl_snapshot.other_base_rates(book), catalogue=[], labels_path="")
    change_days = sorted({day for _, day, _ in rows})
    if not change_days:  # a statement of cash only: the report has no instrument either
        assert reports.pnl_report(book, Options(mode="ibkr"), tolerance=tolerance)["instruments"] == []
        return
    checked = sorted(set(change_days) | {d - ONE_DAY for d in change_days} | {change_days[-1] + 5 * ONE_DAY})
    store = snapshot_store.Snapshot(path)
    try:
        for day in checked:
            stored = pnl_snapshot.pnl_report_on(day, store.rows_on(pnl_snapshot.VIEW_NAME, day), book.base_currency,
                                                lambda ccy: store.rate_on(ccy, day))
            fresh = reports.pnl_report(book, Options(mode="ibkr", end=day), tolerance=tolerance)
            yield day, stored, fresh
    finally:
        store.close()


CASES = {
    "demo": [Path(__file__).parent.parent / "beanflex" / "demo" / "demo_2024.xml"],
    "options": sorted((FIXTURES / "options").glob("*.xml")),
    "returns": sorted((FIXTURES / "returns").glob("day*.xml")),
    **{p.stem: [p] for p in public_samples()},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_stored_day_is_report_pnl_of_that_day(case, tmp_path):
    main = import_statements(tmp_path, CASES[case])
    days = 0
    for day, stored, fresh in snapshot_and_fresh_reports(main, tmp_path):
        assert stored == fresh, f"{case}: {day}"
        days += 1
    if case in ("demo", "options", "returns"):  # some public statements hold cash only: no day to compare
        assert days >= 6


def test_other_base_accounts_convert_at_the_days_rate(tmp_path):
    """tests/test_multi_base.py's two accounts: the USD account's rows count in the CHF totals at 0.9 on the
    statement day (200 USD unrealized -> 180 CHF; with NESN's 100 CHF: 280 CHF), and the stored totals say so."""
    main = import_statements(tmp_path, [FIXTURES / "multi_base" / "chf_account.xml",
                                        FIXTURES / "multi_base" / "usd_account.xml"], base="CHF")
    last = None
    for day, stored, fresh in snapshot_and_fresh_reports(main, tmp_path):
        assert stored == fresh, day
        last = stored
    assert last["totals"]["base"]["unrealized"] == "280.00"  # 100 CHF + 200 USD x 0.9


# --- the CLI: `beanflex snapshot`, `report labels --to DAY` ----------------------------------------------

# tests/test_labels.py's hand-made ledger (Software: AAPL and SAP; Dividend: KO + 0.25 x AAPL), with marks:
# AAPL 110 and KO 62 on 01-31, AAPL 120 on 02-29. SAP holds nothing; the AAPL call is bought after 04-15.
LABELS = LABELS_YAML
LEDGER = LABELS_LEDGER + """
2024-01-31 price AAPL 110 USD
2024-01-31 price KO 62 USD
2024-02-29 price AAPL 120 USD
"""


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "ledger").mkdir()
    (tmp_path / "labels.yaml").write_text(LABELS)
    main = tmp_path / "ledger" / "main.beancount"
    main.write_text(LEDGER)
    return main


def run(main: Path, *args: str):
    result = CliRunner().invoke(cli, ["--ledger", str(main), *args])
    assert result.exit_code == 0, result.output
    return result


def labels_json(main: Path, day: str) -> tuple[dict, str]:
    result = run(main, "report", "labels", "--to", day, "--format", "json")
    return json.loads(result.stdout), result.stderr


def test_report_labels_answers_from_the_snapshot_without_loading_the_ledger(workspace, monkeypatch):
    fresh = {day: labels_json(workspace, day)[0] for day in ("2024-01-05", "2024-02-15", "2024-04-15")}
    out = run(workspace, "snapshot").stdout
    assert "pnl-snapshot.sqlite" in out
    from beanflex.reports import ledger

    def no_load(*args, **kwargs):
        raise AssertionError("the ledger was loaded")

    monkeypatch.setattr(ledger, "load", no_load)
    for day, report in fresh.items():
        assert labels_json(workspace, day)[0] == report
    software = {g["label"]: g for g in fresh["2024-04-15"]["labels"]}["Software"]
    # AAPL 10 at basis 1001.00, marked 120 on 02-29: unrealized 1200 - 1001 = 199.00
    assert software["totals"]["total"] == "199.00"


def test_a_changed_labels_file_makes_the_snapshot_stale_until_rebuilt(workspace):
    run(workspace, "snapshot")
    labels = workspace.parent.parent / "labels.yaml"
    labels.write_text(LABELS.replace("weight: 0.25", "weight: 0.5"))
    report, err = labels_json(workspace, "2024-04-15")
    assert "snapshot is stale" in err and "labels.yaml changed" in err
    dividend = {g["label"]: g for g in report["labels"]}["Dividend"]
    # KO: 20 x 62 - 1201 = 39.00 unrealized + 9.70 dividend = 48.70; AAPL 199.00 x 0.5 = 99.50 -> 148.20
    assert dividend["totals"]["total"] == "148.20"
    run(workspace, "snapshot")
    again, err = labels_json(workspace, "2024-04-15")
    assert "stale" not in err and again == report


def test_a_past_days_pnl_by_label_is_one_sql_query(workspace):
    run(workspace, "snapshot")
    path = workspace.parent / "cache" / "pnl-snapshot.sqlite"
    db = sqlite3.connect(path)
    query = ("SELECT m.label, SUM(m.weight * s.base_total) FROM pnl_snapshot_daily s "
             "JOIN label_members m ON m.conid = s.conid "
             "WHERE s.date <= ? AND (s.until IS NULL OR s.until >= ?) GROUP BY m.label ORDER BY m.label")
    on = dict(db.execute(query, ("2024-02-15", "2024-02-15")).fetchall())
    # 2024-02-15: AAPL marked 110 (01-31): 1100 - 1001 = 99; KO marked 62: 1240 - 1201 = 39
    # Software = 99; Dividend = 39 + 0.25 x 99 = 63.75
    assert on == {"Software": pytest.approx(99.0), "Dividend": pytest.approx(63.75)}
    on = dict(db.execute(query, ("2024-04-15", "2024-04-15")).fetchall())
    # 2024-04-15: AAPL marked 120 (02-29): 199; KO 39 + dividend 9.70 = 48.70; Dividend = 48.70 + 0.25 x 199
    assert on == {"Software": pytest.approx(199.0), "Dividend": pytest.approx(98.45)}
    aapl = db.execute("SELECT date, until, base_total FROM pnl_snapshot_daily WHERE symbol = 'AAPL' "
                      "ORDER BY date").fetchall()
    # bought 01-02 (no mark yet: total unknown), marked 01-31 and 02-29; nothing after
    assert aapl == [("2024-01-02", "2024-01-30", None), ("2024-01-31", "2024-02-28", "99.00"),
                    ("2024-02-29", None, "199.00")]
    db.close()


def test_the_snapshot_stays_out_of_git():
    ignore = (Path(__file__).parent.parent / "beanflex" / "skeleton" / "ledger-gitignore").read_text()
    assert "cache/" in ignore.splitlines()


def test_the_ledgers_errors_are_said_from_the_snapshot_too_and_strict_still_exits_3(workspace):
    workspace.write_text(LEDGER + "\n2024-05-01 balance Assets:IBKR:U1:Cash  0 USD\n")  # it holds -2192.30
    fresh = run(workspace, "report", "labels", "--to", "2024-04-15", "--format", "json")
    assert "1 Beancount error(s)" in fresh.stderr
    run(workspace, "snapshot")
    stored = run(workspace, "report", "labels", "--to", "2024-04-15", "--format", "json")
    assert (stored.stdout, stored.stderr) == (fresh.stdout, fresh.stderr)
    strict = CliRunner().invoke(cli, ["--ledger", str(workspace), "--strict", "report", "labels", "--to",
                                      "2024-04-15"])
    assert strict.exit_code == 3


def test_a_damaged_snapshot_is_never_trusted(workspace):
    fresh, _ = labels_json(workspace, "2024-04-15")
    run(workspace, "snapshot")
    (workspace.parent / "cache" / "pnl-snapshot.sqlite").write_bytes(b"not a database, half written")
    report, err = labels_json(workspace, "2024-04-15")
    assert report == fresh and "unreadable" in err
