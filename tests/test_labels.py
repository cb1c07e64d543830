"""labels.yaml -> labels plugin (commodity metadata, transaction tags, errors) and `report labels` totals.

One hand-made case runs through everything: four instruments, of which three are labelled.

    AAPL  conid 265598  STK  USD          (DESIGN §4's AAPL example)
    SAP   conid 14204   STK  EUR, ISIN DE0007164600 (DESIGN §4's EUR example)
    KO    conid 8894    STK  USD
    AAPL-240621C200  conid 697212345  OPT  (expired worthless)

    Software: rule "re:^[A-Z]+$" (plain tickers: AAPL, SAP, KO; not the option), exclude KO  -> AAPL, SAP
    Dividend: KO, {member: AAPL, weight: 0.25}                                               -> KO, AAPL×0.25
    AAPL sits in both labels; the option is unlabelled.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from beanflex.engine import labels as labels_engine
from beanflex.engine.labels_config import Instrument, assign, load_labels, parse_labels

LABELS_YAML = """\
labels:
  Software:
    description: Software and cloud names
    colour: "#3b82f6"
    members:
      - "re:^[A-Z]+$"
    exclude: [KO]
  Dividend:
    description: Income payers
    members:
      - KO
      - {member: AAPL, weight: 0.25}
"""

LEDGER = """\
option "operating_currency" "USD"
plugin "beanflex.plugins.labels" "../labels.yaml"

2024-01-01 open Assets:IBKR:U1:Positions
2024-01-01 open Assets:IBKR:U1:Cash
2024-01-01 open Income:IBKR:U1:PnL
2024-01-01 open Income:IBKR:U1:Dividends

2024-01-02 commodity AAPL
  conid: "265598"
  isin: "US0378331005"
  name: "APPLE INC"
  asset_category: "STK"
2024-01-02 commodity KO
  conid: "8894"
  isin: "US1912161007"
  name: "COCA-COLA CO/THE"
  asset_category: "STK"
2024-01-02 commodity SAP
  conid: "14204"
  isin: "DE0007164600"
  name: "SAP SE"
  asset_category: "STK"
2024-01-02 commodity AAPL-240621C200
  conid: "697212345"
  name: "AAPL 21JUN24 200 C"
  asset_category: "OPT"

2024-01-02 * "BUY 10 AAPL @ 100"
  flex_id: "U1/trade/1001"
  conid: "265598"
  Assets:IBKR:U1:Positions   10 AAPL {100.1 USD, 2024-01-02, "U1/trade/1001"}
  Assets:IBKR:U1:Cash     -1001 USD

2024-01-10 * "BUY 20 KO @ 60"
  flex_id: "U1/trade/1002"
  conid: "8894"
  Assets:IBKR:U1:Positions   20 KO {60.05 USD, 2024-01-10, "U1/trade/1002"}
  Assets:IBKR:U1:Cash     -1201 USD

2024-04-01 * "KO CASH DIVIDEND"
  flex_id: "U1/cash/2002"
  conid: "8894"
  event: "dividend"
  Assets:IBKR:U1:Cash          9.7 USD
  Income:IBKR:U1:Dividends    -9.7 USD

2024-05-01 * "BUY 1 AAPL 21JUN24 200 C"
  flex_id: "U1/trade/1007"
  conid: "697212345"
  Assets:IBKR:U1:Positions    1 AAPL-240621C200 {150.65 USD, 2024-05-01, "U1/trade/1007"}
  Assets:IBKR:U1:Cash  -150.65 USD
"""


def write_repo(tmp_path: Path, labels_yaml: str = LABELS_YAML, ledger: str = LEDGER) -> Path:
    """repo/labels.yaml + repo/ledger/main.beancount, the layout `beanflex init` writes (DESIGN §2)."""
    (tmp_path / "ledger").mkdir(exist_ok=True)
    (tmp_path / "labels.yaml").write_text(labels_yaml, encoding="utf-8")
    main = tmp_path / "ledger" / "main.beancount"
    main.write_text(ledger, encoding="utf-8")
    return main


def load(main: Path):
    entries, errors, options = loader.load_file(str(main))
    return entries, errors


def by_kind(entries, kind):
    return [e for e in entries if type(e).__name__ == kind]


# --- the plugin on a real ledger -------------------------------------------------------------------------

def test_plugin_puts_labels_on_commodities_and_tags_on_transactions(tmp_path):
    entries, errors = load(write_repo(tmp_path))
    assert errors == []
    meta = {c.currency: c.meta for c in by_kind(entries, "Commodity")}
    assert meta["AAPL"]["labels"] == "Software,Dividend"          # labels.yaml order
    assert meta["AAPL"]["label_weights"] == "Dividend=0.25"      # only weights other than 1
    assert meta["SAP"]["labels"] == "Software" and "label_weights" not in meta["SAP"]
    assert meta["KO"]["labels"] == "Dividend"                    # matched by the rule, then excluded from Software
    assert "labels" not in meta["AAPL-240621C200"]               # '-' and digits: the rule does not match
    tags = {t.meta["flex_id"]: t.tags for t in by_kind(entries, "Transaction")}
    assert tags["U1/trade/1001"] == {"Software", "Dividend"}
    assert tags["U1/trade/1002"] == {"Dividend"}
    assert tags["U1/cash/2002"] == {"Dividend"}                  # USD-only postings: found by its conid meta
    assert tags["U1/trade/1007"] == frozenset()


def test_tags_work_in_bean_query(tmp_path):
    from beanquery import query

    main = write_repo(tmp_path)
    entries, errors, options = loader.load_file(str(main))
    _, rows = query.run_query(entries, options, "SELECT sum(number) WHERE 'Dividend' IN tags AND account ~ 'Cash'")
    # KO buy -1201 + KO dividend 9.70 + AAPL buy -1001 = -2192.30
    assert rows[0][0] == Decimal("-2192.30")


def test_tag_names_are_sanitised():
    assert labels_engine.tag_for("Dividend Growth") == "Dividend-Growth"
    assert labels_engine.tag_for("Europe (ex UK)") == "Europe-ex-UK"
    assert labels_engine.tag_for("AI/ML.v2_x") == "AI/ML.v2_x"


def test_label_for_tag_maps_back():
    config, _ = parse_labels("labels:\n  Dividend Growth:\n    members: [KO]\n")
    assert labels_engine.label_for_tag(config, "#Dividend-Growth") == "Dividend Growth"
    assert labels_engine.label_for_tag(config, "Nope") is None


def test_sanitised_label_with_spaces_becomes_valid_tag(tmp_path):
    yaml_text = "labels:\n  Dividend Growth:\n    members: [KO]\n"
    entries, errors = load(write_repo(tmp_path, yaml_text))
    assert errors == []
    ko_buy = next(t for t in by_kind(entries, "Transaction") if t.meta["flex_id"] == "U1/trade/1002")
    assert ko_buy.tags == {"Dividend-Growth"}


def test_path_is_relative_to_main_file_not_cwd(tmp_path, monkeypatch):
    main = write_repo(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    entries, errors, options = loader.load_file(str(main))
    assert errors == []
    assert any(c.meta.get("labels") for c in by_kind(entries, "Commodity"))
    assert labels_engine.configured_path(options) == tmp_path / "ledger" / ".." / "labels.yaml"


# --- bad labels.yaml: one clear error each, at file and line; the ledger still loads --------------------

BAD_CASES = [
    # (labels.yaml text, expected line, words the message must hold)
    ("labels:\n  Software:\n    members: [AAPL\n", 4, "YAML syntax error"),
    ("labels:\n  Software:\n    members: [AAPL]\n    colur: red\n", 4, "unknown key 'colur'"),
    ("labels:\n  Software:\n    members:\n      - \"re:^(AAPL\"\n", 4, "invalid regular expression"),
    ("labels:\n  Dividend:\n    members:\n      - {member: AAPL, weight: 1.5}\n", 4, "weight '1.5'"),
    ("labels:\n  Dividend:\n    members:\n      - {member: AAPL, weight: -0.1}\n", 4, "from 0 to 1"),
    ("labels:\n  Software:\n    members:\n      - AAPL\n      - APPL\n", 5, "'APPL' in members of 'Software' "
                                                                      "matches no instrument"),
    ("labels:\n  Software:\n    members: [AAPL]\n    exclude: [\"conid:1\"]\n", 4, "'conid:1' in exclude"),
    ("lables:\n  Software:\n    members: [AAPL]\n", 1, "unknown key 'lables'"),
]


@pytest.mark.parametrize(("yaml_text", "line", "words"), BAD_CASES)
def test_bad_labels_yaml_is_a_beancount_error_at_file_and_line(tmp_path, yaml_text, line, words):
    entries, errors = load(write_repo(tmp_path, yaml_text))
    mine = [e for e in errors if type(e).__name__ == "LabelsError"]
    assert len(mine) == 1, errors
    assert mine[0].source == {"filename": str(tmp_path / "ledger" / ".." / "labels.yaml"), "lineno": line}
    assert words in mine[0].message
    # the ledger still loads: every transaction is there
    assert len(by_kind(entries, "Transaction")) == 4
    assert [e for e in errors if type(e).__name__ != "LabelsError"] == []


def test_valid_labels_still_apply_next_to_a_bad_one(tmp_path):
    yaml_text = "labels:\n  Dividend:\n    members: [KO]\n  Broken:\n    members: [\"re:(\"]\n"
    entries, errors = load(write_repo(tmp_path, yaml_text))
    assert [e.source["lineno"] for e in errors] == [5]
    ko = next(c for c in by_kind(entries, "Commodity") if c.currency == "KO")
    assert ko.meta["labels"] == "Dividend"


def test_missing_labels_file_is_an_error_not_a_crash(tmp_path):
    main = write_repo(tmp_path)
    (tmp_path / "labels.yaml").unlink()
    entries, errors = load(main)
    assert len(errors) == 1 and "cannot read labels file" in errors[0].message
    assert len(by_kind(entries, "Transaction")) == 4


def test_bean_check_shows_file_and_line(tmp_path):
    from beancount.parser import printer

    entries, errors = load(write_repo(tmp_path, BAD_CASES[1][0]))
    text = printer.format_error(errors[0])
    assert "labels.yaml:4:" in text and "unknown key 'colur'" in text


# --- the config on its own ----------------------------------------------------------------------------------

INSTRUMENTS = [
    Instrument("AAPL", "265598", "US0378331005", "APPLE INC", "STK"),
    Instrument("SAP", "14204", "DE0007164600", "SAP SE", "STK"),
    Instrument("KO", "8894", "US1912161007", "COCA-COLA CO/THE", "STK"),
    Instrument("AAPL-240621C200", "697212345", None, "AAPL 21JUN24 200 C", "OPT"),
]


def test_every_member_form_matches():
    text = textwrap.dedent("""\
        labels:
          All:
            members:
              - AAPL
              - "conid:8894"
              - "isin:de0007164600"
              - "desc:21JUN24"
              - "category:opt"
    """)
    config, errors = parse_labels(text)
    membership, match_errors = assign(config, INSTRUMENTS)
    assert errors == match_errors == []
    assert sorted(membership) == ["14204", "265598", "697212345", "8894"]


def test_manual_entry_beats_a_rule_and_weights_are_exact_decimals():
    text = "labels:\n  Tech:\n    members:\n      - \"re:^A\"\n      - {member: AAPL, weight: 0.6}\n" \
           "      - {member: SAP, weight: 60%}\n"
    config, errors = parse_labels(text)
    membership, match_errors = assign(config, INSTRUMENTS)
    assert errors == match_errors == []
    assert membership["265598"] == {"Tech": Decimal("0.6")}          # manual 0.6 beats the rule's 1
    assert membership["697212345"] == {"Tech": Decimal("1")}         # the option: rule only
    assert membership["14204"] == {"Tech": Decimal("0.6")}           # 60% = 0.6


def test_colour_spelling_and_duplicate_label():
    config, errors = parse_labels("labels:\n  A:\n    color: red\n    members: [KO]\n  A:\n    members: [KO]\n",
                                  "x.yaml")
    assert config.labels[0].colour == "red"
    assert [(e.source["lineno"], "duplicate key 'A'" in e.message) for e in errors] == [(5, True)]


def test_load_labels_names_the_file(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("labels:\n  A:\n    members: [{member: KO, wieght: 1}]\n", encoding="utf-8")
    _, errors = load_labels(path)
    assert errors[0].source == {"filename": str(path), "lineno": 3}
    assert "unknown key 'wieght'" in errors[0].message


# --- report labels: the hand-computed case ------------------------------------------------------------------

NOT_FIELDS = ("currency", "excluded", "note")


def pnl_row(symbol, conid, currency, cost_basis, realized, unrealized, fx, total, flags=()):
    """A DESIGN §6 instrument row; only `base` matters for label totals, the rest is carried through."""
    return {"account": "U1", "conid": conid, "symbol": symbol, "currency": currency, "total": total,
            "base": {"currency": "USD", "cost_basis": cost_basis, "realized": realized,
                     "unrealized": unrealized, "fx": fx, "total": total},
            "labels": [], "flags": list(flags)}


PNL = {
    "as_of": "2024-12-31", "base_currency": "USD", "mode": "ibkr", "method": "fifo",
    "instruments": [
        # DESIGN §4: realized 347.00, unrealized 149.50, dividends 1.20 − withholding 0.18 -> total 497.52
        pnl_row("AAPL", "265598", "USD", "600.50", "347.00", "149.50", "0", "497.52"),
        # DESIGN §4 EUR example: base realized 57.70 USD of which fx −50.10; position closed
        pnl_row("SAP", "14204", "EUR", "0", "57.70", "0", "-50.10", "57.70"),
        # 20 KO @ 60.05 marked 62.50: unrealized 49.00; dividend 9.70 − withholding 1.46 -> total 57.24
        pnl_row("KO", "8894", "USD", "1201.00", "0", "49.00", "0", "57.24"),
        # the call expired worthless: realized −150.65
        pnl_row("AAPL-240621C200", "697212345", "USD", "0", "-150.65", "0", "0", "-150.65", flags=["expired"]),
    ],
    # 497.52 + 57.70 + 57.24 − 150.65 = 461.81
    "totals": {"base": {"currency": "USD", "total": "461.81"}},
}


def test_label_report_hand_computed(tmp_path):
    from beanflex.reports.labels import labels_report

    config, errors = parse_labels(LABELS_YAML, "labels.yaml")
    assert errors == []
    report = labels_report(PNL, config, instruments=INSTRUMENTS)
    assert (report["as_of"], report["base_currency"], report["mode"], report["method"]) == \
        ("2024-12-31", "USD", "ibkr", "fifo")
    software, dividend = report["labels"]

    # Software = AAPL + SAP (the rule matches AAPL, SAP, KO; KO is excluded; the option has '-' and digits)
    assert software["label"] == "Software" and software["description"] == "Software and cloud names"
    assert [(r["symbol"], r["weight"]) for r in software["instruments"]] == [("AAPL", "1"), ("SAP", "1")]
    assert {k: Decimal(v) for k, v in software["totals"].items() if k not in NOT_FIELDS} == {
        "cost_basis": Decimal("600.50"),   # 600.50 + 0
        "realized": Decimal("404.70"),     # 347.00 + 57.70
        "unrealized": Decimal("149.50"),   # 149.50 + 0
        "fx": Decimal("-50.10"),           # 0 − 50.10
        "total": Decimal("555.22"),        # 497.52 + 57.70
    }

    # Dividend = KO + 0.25 × AAPL
    assert [(r["symbol"], r["weight"]) for r in dividend["instruments"]] == [("AAPL", "0.25"), ("KO", "1")]
    assert dividend["instruments"][0]["total"] == "497.52"          # member rows keep their own, unweighted fields
    assert {k: Decimal(v) for k, v in dividend["totals"].items() if k not in NOT_FIELDS} == {
        "cost_basis": Decimal("1351.125"),  # 1201.00 + 0.25 × 600.50 (150.125)
        "realized": Decimal("86.75"),       # 0 + 0.25 × 347.00
        "unrealized": Decimal("86.375"),    # 49.00 + 0.25 × 149.50 (37.375)
        "fx": Decimal("0"),
        "total": Decimal("181.62"),         # 57.24 + 0.25 × 497.52 (124.38)
    }
    assert dividend["totals"]["currency"] == "USD"

    # the option is in no label
    assert [r["symbol"] for r in report["unlabelled"]["instruments"]] == ["AAPL-240621C200"]
    assert report["unlabelled"]["totals"]["total"] == "-150.65"
    assert report["unlabelled"]["instruments"][0]["flags"] == ["expired"]

    # 555.22 + 181.62 − 150.65 = 586.19 ≠ portfolio 461.81: AAPL counts 1.25 times; the report says so
    assert report["overlap"]["labels_overlap"] is True
    assert report["overlap"]["instruments"] == [
        {"conid": "265598", "symbol": "AAPL", "account": "U1", "labels": {"Software": "1", "Dividend": "0.25"}}]
    assert "do not add up to the portfolio total" in report["overlap"]["note"]
    assert report["portfolio_totals"]["total"] == "461.81"


def test_label_report_only_and_money_stays_strings():
    import json

    from beanflex.reports.labels import flat_rows, labels_report

    config, _ = parse_labels(LABELS_YAML, "labels.yaml")
    report = labels_report(PNL, config, "2024-06-30", instruments=INSTRUMENTS, only=["Dividend"])
    assert report["as_of"] == "2024-06-30"
    assert [g["label"] for g in report["labels"]] == ["Dividend"]
    text = json.dumps(report)                                    # no Decimal or float left inside
    assert "181.62" in text and "1351.125" in text   # 1201.00 + 150.125, no padding zeros
    rows = flat_rows(report)
    assert [(r["label"], r["row"], r["symbol"]) for r in rows] == [
        ("Dividend", "member", "AAPL"), ("Dividend", "member", "KO"), ("Dividend", "total", None),
        ("(unlabelled)", "member", "AAPL-240621C200"), ("(unlabelled)", "total", None),
        ("(portfolio)", "total", None)]
    # the portfolio row: PNL's totals (461.81, each instrument once) with the overlap note beside them
    assert (rows[-1]["total"], rows[-1]["note"]) == ("461.81", report["overlap"]["note"])
    assert report["overlap"]["note"] == ("Label totals overlap: 1 instrument(s) sit in more than one label, so the "
                                         "label totals do not add up to the portfolio total (461.81 USD, each "
                                         "instrument once).")
    # SAP (Software only, not shown) is not unlabelled: --label filters groups, not membership


def test_label_report_null_field_is_not_guessed():
    from beanflex.reports.labels import weighted_totals

    # A has no mark: its unrealized, fx and total are null (not 0). The same rule as report pnl's totals: those
    # sums leave A out and say so; cost basis and realized count both rows.
    rows = [pnl_row("A", "1", "USD", "1", "2", None, None, None, flags=["no_mark"]),
            pnl_row("B", "2", "USD", "1", "2", "5", "0", "3")]
    totals = weighted_totals(rows, "USD")
    assert (totals["cost_basis"], totals["realized"]) == ("2.00", "4.00")  # 1 + 1, 2 + 2
    assert (totals["unrealized"], totals["fx"], totals["total"]) == ("5.00", "0.00", "3.00")  # B only
    assert totals["excluded"] == [{"account": "U1", "conid": "1", "symbol": "A", "fields": ["unrealized", "fx",
                                                                                           "total"],
                                   "flag": "no_mark"}]
    assert totals["note"] == ("unrealized, fx, total exclude 1 instrument(s) without a mark (unrealized unknown): A")


def test_an_empty_label_has_every_base_field_at_zero():
    from beanflex.reports.labels import weighted_totals

    totals = weighted_totals([], "USD")
    assert {k: totals[k] for k in ("currency", "cost_basis", "realized", "unrealized", "fx", "total")} == {
        "currency": "USD", "cost_basis": "0.00", "realized": "0.00", "unrealized": "0.00", "fx": "0.00",
        "total": "0.00"}
    assert totals["excluded"] == [] and totals["note"] is None


def test_label_report_matches_rows_without_ledger_catalogue():
    from beanflex.reports.labels import labels_report

    config, _ = parse_labels("labels:\n  Mine:\n    members: [\"conid:8894\", SAP]\n")
    report = labels_report(PNL, config)
    assert [r["symbol"] for r in report["labels"][0]["instruments"]] == ["SAP", "KO"]
    assert report["overlap"]["labels_overlap"] is False



@pytest.mark.parametrize("document", ["docs/labels-and-notes.md", "README.md"])
def test_documented_example_is_valid(document):
    import re

    doc = (Path(__file__).resolve().parents[1] / document).read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, re.S).group(1)
    config, errors = parse_labels(example, "docs example")
    membership, match_errors = assign(config, INSTRUMENTS + [Instrument("MSFT", "272093", None, None, "STK")])
    assert errors == match_errors == []
    assert membership["14204"] == {"Software": 1, "Europe": 1}    # SAP: rule + ISIN + description regex
