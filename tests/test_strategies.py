"""Strategy groups (DESIGN §9) on statements of our own (tests/fixtures/strategies, written by
strategy_statements.py): each shape, a wheel, a roll chain, a partial close of a spread; the roll-ups worked by
hand; totals over all groups equal to the portfolio's; `explain strategy:ID` adding up. Everything goes through
`beanflex import` and `beanflex report strategies` / `explain` (CliRunner), on a workspace made by `beanflex init`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from beanflex.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "strategies"


def workspace(root: Path, *statements: str) -> Path:
    """`beanflex init ROOT` + `beanflex import` of the named statements; returns ledger/main.beancount."""
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    main = root / "ledger" / "main.beancount"
    for name in statements:
        done = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(FIXTURES / name)])
        assert done.exit_code == 0, done.output
    return main


def run(main: Path, *args: str, ok: bool = True):
    done = CliRunner().invoke(cli, ["--ledger", str(main), *args])
    if ok:
        assert done.exit_code == 0, done.output
    return done


def report(main: Path, *args: str) -> dict:
    return json.loads(run(main, "report", "strategies", *args, "--format", "json").stdout)


def by_name(rep: dict) -> dict[str, dict]:
    return {g["name"]: g for g in rep["strategies"]}


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory):
    root = tmp_path_factory.mktemp("strategies")
    return {name: workspace(root / name, f"{name}.xml") for name in ("shapes", "wheel", "rolls", "partial_close")}


def test_each_shape_opened_in_one_order_is_one_group_named_by_its_legs(ledgers):
    rep = report(ledgers["shapes"])
    kinds = {g["underlying"]: g["kind"] for g in rep["strategies"]}
    assert kinds == {"AAA": "vertical", "BBB": "straddle", "CCC": "strangle", "DDD": "iron condor",
                     "EEE": "butterfly", "FFF": "calendar", "GGG": "diagonal", "HHH": "covered call",
                     "III": "collar", "JJJ": "custom 3-leg", "KKK": "stock"}
    condor = next(g for g in rep["strategies"] if g["kind"] == "iron condor")
    assert condor["ref"] == "strategy:U7/trade/S07"  # the id: the first opening row's flex_id
    assert [m["rule"] for m in condor["members"]] == ["opened"] * 4
    assert len(condor["legs"]) == 4 and all(g["status"] == "open" for g in rep["strategies"])
    # no marks in the statement: unrealized is unknown, never 0
    assert condor["unrealized"] is None and "no_mark" in condor["flags"]
    # DDD: sold 50 P @ 1.50 and 60 C @ 1.40 -> 150 + 140 = 290.00 received; bought 45 P @ 0.50, 65 C @ 0.40 -> 90.00
    assert (condor["premium_received"], condor["premium_paid"], condor["commissions"]) == ("290.00", "90.00", "4.00")


def test_wheel_is_one_group_until_flat_with_its_rollup_worked_by_hand(ledgers):
    rep = report(ledgers["wheel"])
    wheel, put = rep["strategies"]
    assert (wheel["name"], wheel["kind"], wheel["status"]) == ("XYZ wheel", "wheel", "closed")
    rules = {m["flex_id"]: m["rule"] for m in wheel["members"]}
    assert rules["U7/trade/W03"] == "delivered by assignment or exercise"  # the stock the put delivered
    assert rules["U7/trade/W04"] == rules["U7/trade/W06"] == "option on held stock"  # the covered calls
    assert rules["U7/cash/WD1"] == "income while held"
    assert next(m["link"] for m in wheel["members"] if m["flex_id"] == "U7/trade/W03") == "U7/trade/W02"
    cash = {m["flex_id"]: m["amount"] for m in wheel["members"]}  # the cash effect, as report events shows it
    assert (cash["U7/cash/WD1"], cash["U7/cash/WD2"], cash["U7/trade/W03"]) == ("50.00", "-7.50", "-5000.00")
    # put: sold @ 2.00 - 1.05 = 198.95, assigned (closed at 0): realized 198.95
    # call 1: 150 - 1.05 = 148.95, expired: 148.95; call 2: 120 - 1.05 = 118.95, assigned: 118.95
    # stock: bought 100 @ 50 = 5,000.00, called away @ 52 less 1.00 = 5,199.00: realized 199.00
    # realized 198.95 + 148.95 + 118.95 + 199.00 = 665.85; + dividend 50.00 - withholding 7.50 = 708.35
    assert (wheel["realized"], wheel["dividends"], wheel["withholding"], wheel["total"]) == (
        "665.85", "50.00", "7.50", "708.35")
    assert (wheel["premium_received"], wheel["premium_paid"], wheel["commissions"]) == ("470.00", "0.00", "4.15")
    assert wheel["base"]["total"] == "708.35" and wheel["unrealized"] == "0.00"
    # 2024-01-02 .. 2024-03-15: 29 + 29 + 15 = 73 days
    assert (wheel["open_date"], wheel["close_date"], wheel["days"]) == ("2024-01-02", "2024-03-15", 73)
    # flat on 03-15: the put sold on 03-18 is a new group (sold @ 1.00 - 1.05 commission, expired: 98.95)
    assert (put["kind"], put["ref"], put["total"]) == ("short put", "strategy:U7/trade/W09", "98.95")
    # the one-command answer: "how much did my XYZ wheel make, premium included?"
    only = report(ledgers["wheel"], "--underlying", "XYZ", "--status", "closed")
    assert [g["total"] for g in only["strategies"]] == ["708.35", "98.95"]


def test_roll_chain_continues_one_group_and_shows_which_roll_followed_which(ledgers):
    rep = report(ledgers["rolls"])
    chain, call = rep["strategies"]
    assert (chain["name"], chain["rolls"], chain["status"]) == ("RRR short put, rolled 3x", 3, "closed")
    rolls = [(c["rule"], c["closed"], c["opened"]) for c in chain["chain"] if c["opened"] and c["closed"]]
    assert rolls == [("roll in the same order", ["U7/trade/R02"], ["U7/trade/R03"]),
                     ("roll within the trading day", ["U7/trade/R04"], ["U7/trade/R05"]),
                     ("roll in the same order", ["U7/trade/R06"], ["U7/trade/R07"])]  # one ibOrderID, 1 s apart
    # legs: 99 - 51 = 48; 139 - 61 = 78; 109 - 21 = 88; 89 - 0 = 89 -> 303.00
    # premium 100 + 140 + 110 + 90 = 440 received, 50 + 60 + 20 = 130 paid, 7 commissions: 440 - 130 - 7 = 303
    assert (chain["realized"], chain["premium_received"], chain["premium_paid"], chain["commissions"]) == (
        "303.00", "440.00", "130.00", "7.00")
    assert len(chain["legs"]) == 4
    assert (call["kind"], call["total"]) == ("long call", "-101.00")  # another day: its own group; 100 + 1 lost


def test_partial_close_of_a_spread_keeps_the_group_open_until_flat(ledgers):
    # 2 x (sell 50 P @ 2.00, buy 45 P @ 0.80), commission 2 per leg: lots -398 and +162 for 2 contracts
    mid = report(ledgers["partial_close"], "--to", "2024-02-29")["strategies"][0]
    # half closed on 02-01: 50 P bought back @ 1.00 (-101) vs -199: 98; 45 P sold @ 0.30 (29) vs 81: -52
    assert (mid["kind"], mid["status"], mid["realized"]) == ("vertical", "open", "46.00")
    assert {leg["open_quantity"] for leg in mid["legs"]} == {"-1", "1"}
    end = report(ledgers["partial_close"])["strategies"][0]
    # the rest expires on 03-15: 0 - (-199) = 199 and 0 - 81 = -81; 46 + 199 - 81 = 164.00
    assert (end["status"], end["realized"], end["close_date"]) == ("closed", "164.00", "2024-03-15")


@pytest.mark.parametrize("args", [(), ("--mode", "economic"), ("--mode", "economic", "--method", "average")])
def test_groups_add_up_to_the_portfolio_total(ledgers, args):
    for main in ledgers.values():
        rep = report(main, *args)
        assert rep["totals"]["base"] == rep["portfolio"]["base"]
        pnl = json.loads(run(main, "report", "pnl", *args, "--format", "json").stdout)
        assert rep["portfolio"]["base"]["total"] == pnl["totals"]["base"]["total"]
        members = [m["flex_id"] for g in rep["strategies"] for m in g["members"]]
        assert len(members) == len(set(members))  # no event in two groups


@pytest.mark.parametrize("field", ["total", "realized", "premium_received", "premium_paid", "commissions",
                                   "dividends", "withholding", "base.total"])
def test_explain_strategy_events_add_up_exactly(ledgers, field):
    rep = report(ledgers["wheel"])
    wheel = rep["strategies"][0]
    done = run(ledgers["wheel"], "explain", wheel["ref"], field, "--format", "json")
    explained = json.loads(done.stdout)
    assert explained["value"] == (wheel["base"]["total"] if field == "base.total" else wheel[field])
    assert sum((Decimal(e["amount"]) for e in explained["events"]), Decimal(0)) == Decimal(explained["value"])
    assert all(e["raw"] and e["raw"][0]["xml"].startswith("<") for e in explained["events"])


def test_explain_strategy_table_and_unknown_group(ledgers):
    text = run(ledgers["rolls"], "explain", "strategy:U7/trade/R01", "realized").stdout
    assert text.startswith("strategy:U7/trade/R01 (RRR short put, rolled 3x) realized = 303.00 USD")
    missing = run(ledgers["rolls"], "explain", "strategy:U7/trade/NOPE", ok=False)
    assert missing.exit_code == 1 and "no strategy group" in missing.output and "Traceback" not in missing.output
    assert run(ledgers["rolls"], "explain", "strategy:U7/trade/R01", "bogus", ok=False).exit_code == 2
    unknown = json.loads(run(ledgers["shapes"], "explain", "strategy:U7/trade/S07", "unrealized", "--format",
                             "json").stdout)
    assert unknown["value"] is None and unknown["events"] == [] and "no_mark" in unknown["note"]


def test_formats_and_filters(ledgers, tmp_path):
    main = ledgers["wheel"]
    csv_text = run(main, "report", "strategies", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("ref,name,kind,account,underlying,status")
    assert "strategy:U7/trade/W01,XYZ wheel,wheel" in csv_text and "\nPORTFOLIO," in csv_text
    table = run(main, "report", "strategies").stdout
    assert "[strategies]" in table and "[members]" in table and "[chain]" in table and "708.35" in table
    out = tmp_path / "s.xlsx"
    run(main, "report", "strategies", "--format", "xlsx", "-o", str(out))
    from openpyxl import load_workbook

    sheet = load_workbook(out)["strategies"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2, header.index("total") + 1).value
    assert isinstance(cell, float) and str(cell) == "708.35"  # a number cell, not text
    assert [g["ref"] for g in report(main, "--status", "open")["strategies"]] == []
    assert [g["ref"] for g in report(main, "--from", "2024-04-01")["strategies"]] == ["strategy:U7/trade/W09"]
    assert [g["ref"] for g in report(main, "--to", "2024-02-01")["strategies"]] == ["strategy:U7/trade/W01"]
    assert report(main, "--underlying", "RRR")["strategies"] == []


def test_a_group_carries_the_labels_of_its_underlying(tmp_path):
    main = workspace(tmp_path, "wheel.xml")
    (tmp_path / "labels.yaml").write_text("labels:\n  Wheels:\n    members: [XYZ]\n", encoding="utf-8")
    rep = report(main, "--label", "Wheels")
    assert [g["labels"] for g in rep["strategies"]] == [["Wheels"], ["Wheels"]]  # the put group via XYZ
    assert report(main, "--label", "Other")["strategies"] == []


EDITS = """\
groups:
  "strategy:U7/trade/R05":
    name: RRR March put
  "U7/trade/R01":
    kind: put roll
    merge: ["U7/trade/R09"]
  "U7/trade/NOPE": {name: typo}
split: ["U7/trade/R05"]
ignore: ["U7/trade/R10"]
move: {"U7/trade/NOPE2": "U7/trade/R01"}
"""


def test_hand_edits_win_and_survive_rebuild(tmp_path):
    main = workspace(tmp_path, "rolls.xml")
    (tmp_path / "strategies.yaml").write_text(EDITS, encoding="utf-8")
    before = run(main, "report", "strategies", "--format", "json")
    # an edit that matches nothing is a warning naming its line, the rest still applies
    assert "strategies.yaml:7: groups: no group 'U7/trade/NOPE'" in before.stderr
    assert "strategies.yaml:10: move: no event 'U7/trade/NOPE2' in any group" in before.stderr
    rep = json.loads(before.stdout)
    groups = {g["id"]: g for g in rep["strategies"]}
    assert list(groups) == ["U7/trade/R01", "U7/trade/R05"]
    first, second = groups["U7/trade/R01"], groups["U7/trade/R05"]
    assert (first["kind"], first["name"], second["name"]) == ("put roll", "RRR put roll, rolled 1x", "RRR March put")
    assert [m["flex_id"] for m in second["members"]] == ["U7/trade/R05", "U7/trade/R06", "U7/trade/R07",
                                                         "U7/trade/R08"]
    assert "U7/trade/R09" in [m["flex_id"] for m in first["members"]] and first["edited"] and second["edited"]
    # R01: 48 (R02) + 78 (R04) = 126; R05: 88 (R06) + 89 (R08) = 177; the call's loss (R10, -101) is ignored
    assert (first["realized"], second["realized"]) == ("126.00", "177.00")
    assert rep["ignored"] == {"events": ["U7/trade/R10"], "base": {**rep["ignored"]["base"], "total": "-101.00"}}
    # 126 + 177 - 101 = 202 = the portfolio: nothing lost
    assert (rep["totals"]["base"]["total"], rep["portfolio"]["base"]["total"]) == ("303.00", "202.00")
    assert run(main, "rebuild").exit_code == 0
    after = json.loads(run(main, "report", "strategies", "--format", "json").stdout)
    assert after["strategies"] == rep["strategies"]


@pytest.mark.parametrize("text, line, words", [
    ("groups: [\n", 2, "not valid YAML"),
    ("split: {a: b}\n", 1, "split must be a list of flex_ids"),
    ("groups:\n  U7/trade/R01:\n    nmae: x\n", 3, "unknown group key 'nmae'"),
])
def test_a_malformed_strategies_yaml_is_an_error_naming_the_line(tmp_path, text, line, words):
    main = workspace(tmp_path, "rolls.xml")
    (tmp_path / "strategies.yaml").write_text(text, encoding="utf-8")
    done = run(main, "report", "strategies", ok=False)
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert f"strategies.yaml:{line}: " in done.output and words in done.output


def test_an_edit_may_name_a_group_by_any_member_so_older_history_keeps_it(tmp_path):
    """If an older statement imported later adds an earlier first row, a group's id changes; an edit that names
    a member row (here the roll's R03, not the id R01) still finds the group, and explain does too."""
    main = workspace(tmp_path, "rolls.xml")
    (tmp_path / "strategies.yaml").write_text('groups:\n  "U7/trade/R03": {name: RRR puts}\n', encoding="utf-8")
    rep = report(main)
    assert [g["name"] for g in rep["strategies"]] == ["RRR puts", "RRR long call"] and not rep["warnings"]
    explained = json.loads(run(main, "explain", "strategy:U7/trade/R05", "realized", "--format", "json").stdout)
    assert (explained["strategy"], explained["value"]) == ("strategy:U7/trade/R01", "303.00")


def test_a_roll_opened_before_the_close_the_same_day_continues_the_group(tmp_path):
    main = workspace(tmp_path, "roll_opened_first.xml")
    (group,) = report(main)["strategies"]
    assert (group["ref"], group["rolls"], group["status"]) == ("strategy:U7/trade/T01", 1, "closed")
    rules = {m["flex_id"]: (m["rule"], m["link"]) for m in group["members"]}
    assert rules["U7/trade/T02"] == ("roll within the trading day (opened before the close)", "U7/trade/T03")
    # 99 (sold @ 1.00 less 1) - 31 (bought back @ 0.30 plus 1) = 68; 119 (sold @ 1.20 less 1), expired: 119
    assert group["realized"] == "187.00"
    assert ("roll within the trading day", ["U7/trade/T03"], ["U7/trade/T02"]) in [
        (c["rule"], c["closed"], c["opened"]) for c in group["chain"]]


@pytest.mark.parametrize("args, premium", [((), "folded"), (("--mode", "economic"), "separate"),
                                           (("--mode", "economic", "--premium", "folded"), "folded")])
def test_the_premium_choice_moves_premium_inside_the_wheel_not_its_total(ledgers, args, premium):
    # IBKR folds the assigned put's 198.95 into the stock's cost and the assigned call's 118.95 into the stock's
    # proceeds: the options realize that much less and the stock that much more; the wheel is 708.35 either way
    rep = report(ledgers["wheel"], *args)
    wheel = rep["strategies"][0]
    assert (rep["premium"], wheel["total"], wheel["realized"]) == (premium, "708.35", "665.85")
    explained = json.loads(run(ledgers["wheel"], "explain", wheel["ref"], "realized", *args, "--format",
                               "json").stdout)
    folds = [Decimal(e["amount"]) for e in explained["events"] if "folded" in e["description"]]
    # folded: -198.95 and +198.95 (put -> stock), -118.95 and +118.95 (call -> stock); separate: none
    assert sorted(folds) == ([Decimal("-198.95"), Decimal("-118.95"), Decimal("118.95"), Decimal("198.95")]
                             if premium == "folded" else [])
