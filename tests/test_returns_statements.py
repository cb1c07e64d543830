"""Returns, FX split and NAV reconciliation on hand-written statements (tests/fixtures/returns, account U8000001,
base USD), imported with the real `beanflex import` and reported with the real CLI.

The four daily statements (2024-03-04 .. 07; EUR/USD 1.10, 1.12, 1.08, 1.09):
- day 1: deposit 10,000; buy 1,000 EUR @ 1.095 (commission 1 USD); buy 10 SAPX @ 90 EUR (comm 1 EUR -> 901 EUR);
  buy 20 ACME @ 100 (comm 1 -> 2,001). Cash 10,000 - 1,095 - 1 - 2,001 = 6,903 USD and 1,000 - 901 = 99 EUR.
  NAV 6,903 + 2,000 + 900 x 1.10 + 99 x 1.10 = 10,001.90.
- day 2: ACME dividend 10.00, withholding 1.50; buy 10 ZETA @ 50 (comm 1 -> 501), close 52; ACME 105, SAPX 92.
  NAV 6,410.50 + 2,100 + 920 x 1.12 + 99 x 1.12 + 520 = 10,171.78.
- day 3: sell 10 ZETA @ 55 (comm 1 -> 549; opened and closed inside the period); withdraw 3,000; ACME 103,
  SAPX 95. NAV 3,959.50 + 2,060 + 950 x 1.08 + 99 x 1.08 = 7,152.42.
- day 4: ACME 104, SAPX 96. NAV 3,959.50 + 2,080 + 960 x 1.09 + 99 x 1.09 = 7,193.81; IBKR's total 7,194.16
  includes 0.35 of accrued interest.
Each day has IBKR's EquitySummaryByReportDateInBase row and a ChangeInNAV row with its twr (percent).
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from beanflex.cli import cli
from beanflex.reports import returns as returns_mod

FIXTURES = Path(__file__).parent / "fixtures" / "returns"
LABELS = """labels:
  Mixed:
    members:
      - SAPX
      - {member: ACME, weight: 0.5}
"""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("returns")
    main = root / "ledger" / "main.beancount"
    main.parent.mkdir(parents=True)
    main.write_text('option "operating_currency" "USD"\nplugin "beanflex.plugins.reconcile"\n'
                    'plugin "beanflex.plugins.labels" "../labels.yaml"\ninclude "generated/index.beancount"\n')
    (root / "labels.yaml").write_text(LABELS)
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", *sorted(map(str, FIXTURES.glob("*.xml")))])
    assert result.exit_code == 0, result.output
    return main


def run(ledger: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), "report", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # stderr carries the ledger's error summary


def row(report: dict, name: str, period: str = "ITD") -> dict:
    return next(r for r in report["rows"] if r["name"] == name and r["period"] == period)


def test_account_returns(ledger):
    acct = row(run(ledger, "returns", "--by", "account"), "U8000001")
    assert (acct["status"], acct["from"], acct["to"]) == ("ok", "2024-03-04", "2024-03-07")
    assert (D(acct["start_value"]), D(acct["end_value"]), D(acct["net_flows"])) == (0, D("7193.81"), 7000)
    # TWR, day by day (money in at the start of its day, out at its end):
    # 10,001.90 / 10,000 x 10,171.78 / 10,001.90 x (7,152.42 + 3,000) / 10,171.78 x 7,193.81 / 7,152.42 - 1
    # = 10,152.42 / 10,000 x 7,193.81 / 7,152.42 - 1 = 2.1117 %
    expected = D("10152.42") / D(10000) * D("7193.81") / D("7152.42") - 1
    assert abs(D(acct["twr"]) - expected) < D("1e-20")
    # Modified Dietz over 3 days: gain 7,193.81 - 7,000 = 193.81; capital 10,000 x 3/3 - 3,000 x 1/3 = 9,000
    assert D(acct["modified_dietz"]) == D("193.81") / D(9000)
    # XIRR over the period: -10,000 at day 0, +3,000 at day 2, +7,193.81 at day 3 (in thirds of the period)
    r = D(acct["mwr_period"])
    assert abs(-10000 + 3000 * (1 + r) ** (-D(2) / 3) + D("7193.81") / (1 + r)) < D("1e-15")
    assert D(acct["mwr"]) == (1 + r) ** (D(365) / 3) - 1  # annualized
    # FX: SAPX lot 901 EUR opened at 1.10 (991.10 USD), held at 1.09: 901 x 1.09 - 991.10 = -9.01;
    # cash: 99 EUR at 1.09 = 107.91 minus the changes at their day's rate (1,000 - 901) x 1.10 = 108.90 -> -0.99;
    # conversion: 1,000 EUR at the day's 1.10 = 1,100 for 1,095 (+1 commission, added back) -> +5.00
    assert {k: acct["fx"][k] for k in ("holdings", "cash", "conversions", "total")} == {
        "holdings": "-9.01", "cash": "-0.99", "conversions": "5.00", "total": "-5.00"}
    # the FX part as a return on the Modified Dietz capital: -5 / 9,000; the rest is the local return
    assert D(acct["fx_return"]) == D(-5) / D(9000)
    assert D(acct["local_return"]) + D(acct["fx_return"]) == D(acct["modified_dietz"])


def test_instrument_returns(ledger):
    report = run(ledger, "returns", "--by", "instrument", "--period", "ITD")
    sapx, acme, zeta = row(report, "SAPX"), row(report, "ACME"), row(report, "ZETA")
    # SAPX: 901 EUR x 1.10 = 991.10 in on day 1, no flow after: TWR = MD = 1,046.40 / 991.10 - 1 = 5.58 %
    assert D(sapx["twr"]) == D("1046.40") / D("991.10") - 1
    assert D(sapx["modified_dietz"]) == D("55.30") / D("991.10")
    # FX part -9.01 (above); local: 59 EUR gained x 1.09 = 64.31 -> 64.31 / 991.10 = 6.49 %
    assert sapx["fx"]["holdings"] == "-9.01"
    assert D(sapx["local_return"]) == D("64.31") / D("991.10")
    # ACME with its dividend net of withholding (10 - 1.50 = 8.50 out on day 2):
    # TWR = 2,000 / 2,001 x (2,100 + 8.50) / 2,000 x 2,060 / 2,100 x 2,080 / 2,060 - 1 = 2,108.50 / 2,001 x
    # 2,080 / 2,100 - 1 = 4.37 %
    assert abs(D(acme["twr"]) - (D("2108.5") / D(2001) * D(2080) / D(2100) - 1)) < D("1e-20")
    # MD: gain 2,080 - (2,001 - 8.50) = 87.50; capital 2,001 - 8.50 x 2/3 = 1,995.33
    assert D(acme["modified_dietz"]) == D("87.5") / (D(2001) - D("8.5") * 2 / 3)
    # ZETA opened on day 2 and closed on day 3: ITD starts on day 2; TWR 520 / 501 x 549 / 520 - 1 = 549/501 - 1
    assert zeta["from"] == "2024-03-05" and D(zeta["end_value"]) == 0
    assert abs(D(zeta["twr"]) - (D(549) / D(501) - 1)) < D("1e-25")  # 28-digit Decimal
    # MD over 2 days: gain 48; capital 501 - 549 x 1/2 = 226.50 -> 21.19 %
    assert D(zeta["modified_dietz"]) == D(48) / D("226.5")
    # a 2-day rate of ~20 % annualizes past 100,000 %: said, not shown
    assert zeta["mwr"] is None and "not annualized" in " ".join(zeta["notes"])


def test_label_returns_apply_weights(ledger):
    mixed = row(run(ledger, "returns", "--by", "label", "--period", "ITD"), "Mixed")
    # SAPX + 0.5 x ACME: values 1,046.40 + 1,040 at the end; flows 991.10 + 1,000.50 in, 4.25 dividend out
    assert D(mixed["end_value"]) == D("1046.40") + D(1040)
    assert D(mixed["net_flows"]) == D("991.10") + D("1000.5") - D("4.25")
    assert mixed["fx"]["holdings"] == "-9.01"  # only SAPX has FX
    assert [(m["conid"], m["weight"]) for m in mixed["members"]] == [("1111", "0.5"), ("2222", "1")]


def test_nav_reconciled_with_reasons(ledger):
    report = run(ledger, "reconcile")
    nav = [s for s in report["summaries"] if s["field"].startswith("nav.")]
    totals = {s["date"]: s for s in nav if s["field"] == "nav.total"}
    assert {d: (s["ours"], s["ibkr"]) for d, s in totals.items()} == {
        "2024-03-04": ("10001.90", "10001.90"), "2024-03-05": ("10171.78", "10171.78"),
        "2024-03-06": ("7152.42", "7152.42"), "2024-03-07": ("7193.81", "7194.16")}
    # the one diff: IBKR counts 0.35 of interest accrued that the ledger books when paid
    assert [(d["date"], d["diff"], d["reason"]) for d in report["diffs"]] == [("2024-03-07", "-0.35", "nav_accruals")]
    assert totals["2024-03-07"]["raw"][0].endswith(".xml:15")
    twr = {s["date"]: (D(s["ours"]), D(s["ibkr"]), s["status"]) for s in nav if s["field"] == "nav.twr"}
    # day 2: 10,171.78 / 10,001.90 - 1 = 1.6985 % against IBKR's 1.698
    assert twr["2024-03-05"][2] == "ok" and abs(twr["2024-03-05"][0] - D("1.6985")) < D("0.0001")
    # day 3 with the withdrawal: (7,152.42 + 3,000) / 10,171.78 - 1 = -0.19 %
    assert twr["2024-03-06"][2] == "ok" and abs(twr["2024-03-06"][0] - D("-0.1903")) < D("0.0001")


def test_notes_in_nav_rows_is_not_drift(ledger):
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), "check"])
    assert "unknown_value" not in result.output and "notes=" not in result.output
    assert "0 drift item(s)" in result.output


def test_strategy_interface(ledger):
    entries, options_map, config, groups = returns_mod.load_inputs(ledger)
    # a mapping flex_id -> group id is all `--by strategy` needs: ZETA's two trades as one group
    report = returns_mod.returns_report(entries, options_map, "strategy", ["ITD"], strategy_groups={
        "U8000001/trade/5004": "G1", "U8000001/trade/5005": "G1"})
    group = row(report, "strategy:G1")
    assert abs(D(group["twr"]) - (D(549) / D(501) - 1)) < D("1e-25") and group["fx"] is None
    if groups() is None:  # no engine/strategies.py in this build: the CLI says so instead of inventing groups
        result = CliRunner().invoke(cli, ["--ledger", str(ledger), "report", "returns", "--by", "strategy"])
        assert result.exit_code == 1 and "needs strategy groups" in result.output


def test_formats(ledger, tmp_path):
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), "report", "returns", "--period", "ITD"])
    assert result.exit_code == 0 and "2.11 %" in result.output and "-5.00" in result.output
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), "report", "returns", "--format", "csv"])
    assert result.stdout.splitlines()[0].startswith("kind,name,period,from,to,status")
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), "report", "returns", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 0
    result = CliRunner().invoke(cli, ["--ledger", str(ledger), "report", "returns", "--period", "last week"])
    assert result.exit_code == 1 and "unknown period" in result.output


def test_pnl_by_label_on_a_past_date(ledger):
    # `report labels --to` is the P&L as it stood that day. At the end of day 2 (2024-03-05, EUR 1.12):
    # SAPX 10 x 92 x 1.12 = 1,030.40 against its base cost 991.10 -> +39.30;
    # ACME 20 x 105 - 2,001 = +99.00, dividend 10.00 - withholding 1.50 -> 107.50, half of it in Mixed = 53.75
    report = run(ledger, "labels", "--to", "2024-03-05")
    mixed = next(group for group in report["labels"] if group["label"] == "Mixed")
    assert D(mixed["totals"]["total"]) == D("39.30") + D("53.75")


def test_incremental_values_equal_the_full_walk(ledger):
    # valuation_walk.py recomputes only what changed each day; valuation's full walk values everything each day:
    # both must give the same values and gaps on every day
    from beanflex.engine import flows, returns, valuation
    from beanflex.engine.book import load_book

    entries, options_map, _config, _groups = returns_mod.load_inputs(ledger)
    book = load_book(entries, options_map)
    prices = valuation.Prices(book)
    for entity in [flows.account_entity(book, prices, ["U8000001"])] + [
            flows.instruments_entity(book, prices, "instrument", c, {("U8000001", c): D(1)})
            for c in ("1111", "2222", "3333")]:
        start, end = entity.inception() - valuation.ONE_DAY, entity.inception() + 12 * valuation.ONE_DAY
        fast = valuation.value_days(prices, entity.holdings, start, end)
        full = valuation.value_days(prices, entity.holdings, start, end, detail=True)
        assert [(d.value, set(d.gaps)) for d in fast] == [(d.value, set(d.gaps)) for d in full]
        if fast[-1].value:  # held at the end (not ZETA): day 4's marks are 9 days old by then, stale and said so
            assert {g.kind for g in fast[-1].gaps} == {"stale_price"}
        # the walk recording gap runs (report returns uses it) gives gap_runs of the full walk, in its order
        runs: dict = {}
        walked = valuation.value_days(prices, entity.holdings, start, end, runs=runs)
        assert [d.value for d in walked] == [d.value for d in full] and not any(d.gaps for d in walked)
        assert list(runs.items()) == list(returns.gap_runs(full).items())


def test_strategy_groups_come_from_engine_strategies(ledger, monkeypatch):
    # the plug: engine/strategies.py's group_index(book, edits, links) -> {flex_id: group id}; a stand-in module
    # records what it is asked and groups ZETA's two trades
    import sys
    import types

    asked = {}

    def group_index(book, edits, links):
        asked.update(edits=edits, links=links, accounts=sorted({a for a, _ in book.instruments}))
        return {"U8000001/trade/5004": "U8000001/trade/5004", "U8000001/trade/5005": "U8000001/trade/5004"}

    module = types.ModuleType("beanflex.engine.strategies")
    module.group_index = group_index
    module.transaction_links = lambda entries: {"U8000001/trade/5004": frozenset()}
    monkeypatch.setitem(sys.modules, "beanflex.engine.strategies", module)
    (ledger.parent.parent / "strategies.yaml").write_text("groups: {}\n")
    try:
        report = run(ledger, "returns", "--by", "strategy", "--period", "ITD")
    finally:
        (ledger.parent.parent / "strategies.yaml").unlink()
    group = row(report, "strategy:U8000001/trade/5004")
    assert abs(D(group["twr"]) - (D(549) / D(501) - 1)) < D("1e-25")  # ZETA: 520/501 x 549/520 - 1
    assert asked == {"edits": ledger.parent.parent / "strategies.yaml",
                     "links": {"U8000001/trade/5004": frozenset()}, "accounts": ["U8000001"]}
