"""Re-importing adds nothing, rebuild is byte-identical, and a hand fix in manual.beancount survives a rebuild."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli
from samples import sample

TRADES = Path(__file__).parent / "fixtures" / "trades"


def new_ledger(root: Path) -> Path:
    ledger = root / "ledger"
    ledger.mkdir(parents=True)
    (ledger / "main.beancount").write_text('include "generated/index.beancount"\ninclude "manual.beancount"\n')
    (ledger / "manual.beancount").write_text("")
    return ledger / "main.beancount"


def beanflex(main: Path, *args: str) -> str:
    run = CliRunner().invoke(cli, ["--ledger", str(main), *args])
    assert run.exit_code == 0, run.output
    return run.output


def snapshot(main: Path) -> dict[str, bytes]:
    generated = main.parent / "generated"
    return {p.relative_to(generated).as_posix(): p.read_bytes() for p in sorted(generated.rglob("*.beancount"))}


def test_same_statement_twice_and_rebuild_are_byte_identical(tmp_path):
    main = new_ledger(tmp_path)
    beanflex(main, "import", str(sample("opensteuerauszug__eTax_report_anonymised_2025.xml")))
    first = snapshot(main)
    out = beanflex(main, "import", str(sample("opensteuerauszug__eTax_report_anonymised_2025.xml")))
    assert "already archived" in out
    assert snapshot(main) == first
    out = beanflex(main, "rebuild")
    assert "0 written" in out
    assert snapshot(main) == first


def test_overlapping_statement_adds_nothing(tmp_path):
    """A second file holding the AAPL statement's first two buys (same transactionIDs) changes no generated file."""
    main = new_ledger(tmp_path)
    full = TRADES / "aapl_fifo_closed_lots.xml"
    beanflex(main, "import", str(full))
    before = snapshot(main)
    overlap = tmp_path / "overlap.xml"
    text = full.read_text().replace('toDate="20241231"', 'toDate="20240215"')
    lines = [line for line in text.splitlines() if "T3" not in line and "<Lot " not in line and "<Order " not in line]
    overlap.write_text("\n".join(lines) + "\n")
    out = beanflex(main, "import", str(overlap))
    # the file is new to the archive (3 rows: AccountInformation and the 2 buys); as trades they were there already
    assert "this run: 1 new statement file(s), 3 rows" in out and "(2 repeated in overlapping statements)" in out
    again = beanflex(main, "import", str(overlap))
    assert "this run: nothing new (1 file(s) already archived)" in again
    assert snapshot(main) == before


def test_identical_twin_fills_stay_two(tmp_path):
    """Two fills identical in everything but transactionID are two trades (flex-schema §2, eTax has 65 groups)."""
    main = new_ledger(tmp_path)
    text = (TRADES / "closed_lot_middle.xml").read_text()
    twin = [line for line in text.splitlines() if 'transactionID="T1"' in line][0]
    text = text.replace(twin, twin + "\n" + twin.replace('transactionID="T1"', 'transactionID="T1b"'))
    path = tmp_path / "twins.xml"
    path.write_text(text)
    beanflex(main, "import", str(path))
    entries, errors, _ = loader.load_file(str(main))
    ids = [e.meta["flex_id"] for e in entries if e.meta.get("event") == "trade"]
    assert "U1/trade/T1" in ids and "U1/trade/T1b" in ids


def test_hand_fix_with_same_flex_id_survives_rebuild(tmp_path):
    main = new_ledger(tmp_path)
    beanflex(main, "import", str(TRADES / "merger_cash_and_stock.xml"))
    generated = (main.parent / "generated" / "U1" / "2024.beancount").read_text()
    assert 'flex_id: "U1/ca/C1"' in generated
    (main.parent / "manual.beancount").write_text(
        '2024-06-01 * "OLD -> NEW 1 for 2 plus 1.50 USD a share, fixed by hand"\n'
        '  flex_id: "U1/ca/C1"\n'
        '  Assets:IBKR:U1:Cash  15 USD\n'
        '  Assets:IBKR:U1:Positions  -10 OLD {20 USD, 2024-01-02, "U1/trade/T1"}\n'
        '  Assets:IBKR:U1:Positions  5 NEW {40 USD, 2024-06-01, "U1/ca/C2"}\n'
        '  Income:IBKR:U1:PnL  -15 USD\n')
    out = beanflex(main, "rebuild")
    assert "hand-edited entries kept instead of generated ones: 1" in out
    generated = (main.parent / "generated" / "U1" / "2024.beancount").read_text()
    assert 'flex_id: "U1/ca/C1"' not in generated
    entries, errors, _ = loader.load_file(str(main))
    assert errors == []
    fixed = [e for e in entries if e.meta.get("flex_id") == "U1/ca/C1"]
    assert len(fixed) == 1 and fixed[0].flag == "*"
    again = snapshot(main)
    beanflex(main, "rebuild")
    assert snapshot(main) == again


def test_beangulp_importer_deduplicates_on_flex_id(tmp_path):
    """The beangulp Importer maps the same way; against a ledger that has the statement, everything is a duplicate,
    while a twin fill with its own transactionID is not (no fuzzy matching on date and amount)."""
    from beanflex.importers.flex.importer import FlexImporter

    importer = FlexImporter()
    path = str(TRADES / "closed_lot_middle.xml")
    assert importer.identify(path) and importer.account(path) == "Assets:IBKR:U1"
    existing = importer.extract(path, [])
    assert any(e.meta.get("flex_id") == "U1/trade/T4" for e in existing)
    again = importer.extract(path, existing)
    importer.deduplicate(again, existing)
    assert all("__duplicate__" in e.meta for e in again)
    text = (TRADES / "closed_lot_middle.xml").read_text()
    twin = [line for line in text.splitlines() if 'transactionID="T1"' in line][0]
    twins = tmp_path / "twins.xml"
    twins.write_text(text.replace(twin, twin + "\n" + twin.replace('transactionID="T1"', 'transactionID="T1b"')))
    fresh = importer.extract(str(twins), existing)
    importer.deduplicate(fresh, existing)
    assert [e.meta["flex_id"] for e in fresh if "__duplicate__" not in e.meta] == ["U1/trade/T1b"]


def test_beangulp_importer_files_under_the_raw_archive_name(tmp_path):
    """`filename` is the name `beanflex import` gives the same file in ledger/raw/ (beangulp's default is None:
    the download's own name)."""
    from beanflex.importers.flex.importer import FlexImporter

    main = new_ledger(tmp_path)
    path = TRADES / "closed_lot_middle.xml"
    beanflex(main, "import", str(path))
    archived = list((main.parent / "raw").rglob("*.xml"))
    assert len(archived) == 1
    name = FlexImporter().filename(str(path))
    assert name == archived[0].name
    sha12 = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert re.fullmatch(rf"\d{{8}}_\d{{8}}_[A-Za-z0-9._-]+_{sha12}\.xml", name), name


def test_schema_drift_stops_before_generated_changes(tmp_path):
    """A Trade row without `quantity` is schema drift: exit 1, nothing archived, generated/ untouched."""
    from beanflex.importers.flex.errors import SchemaDriftError

    main = new_ledger(tmp_path)
    beanflex(main, "import", str(TRADES / "short_covered.xml"))
    before = snapshot(main)
    raw_before = sorted(p.name for p in (main.parent / "raw").rglob("*.xml"))
    broken = tmp_path / "broken.xml"
    broken.write_text((TRADES / "flip.xml").read_text().replace(' quantity="-15"', ""))
    run = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(broken)])
    assert run.exit_code == 1 and isinstance(run.exception, SchemaDriftError)
    assert "quantity" in str(run.exception).lower()
    assert snapshot(main) == before
    assert sorted(p.name for p in (main.parent / "raw").rglob("*.xml")) == raw_before


def _document(text: str, name: str):
    from beanflex.importers.flex import adapter

    return adapter.parse(text.encode(), source=name)


def test_ticker_change_keeps_the_commodity():
    """conid 107113386 is FB in 2021 and META in 2022: one commodity, named after the first symbol; the 2022 sale
    closes the 2021 lot by its label."""
    from beanflex.importers.flex.mapper import build_ledger

    text = (TRADES / "short_covered.xml").read_text()
    head, _, rest = text.partition("<Trades>")
    body, _, tail = rest.partition("</Trades>")
    rows = body.strip().splitlines()
    fb = rows[1].replace('symbol="AAPL"', 'symbol="FB"').replace('conid="265598"', 'conid="107113386"') \
        .replace('quantity="10"', 'quantity="10"').replace('openCloseIndicator="C"', 'openCloseIndicator="O"') \
        .replace('fifoPnlRealized="98"', 'fifoPnlRealized="0"').replace('cost="499"', 'cost="401"') \
        .replace('dateTime="20240110;100000"', 'dateTime="20210110;100000"')
    meta = rows[0].replace('symbol="AAPL"', 'symbol="META"').replace('conid="265598"', 'conid="107113386"') \
        .replace('openCloseIndicator="O"', 'openCloseIndicator="C"').replace('cost="-499"', 'cost="-401"') \
        .replace('fifoPnlRealized="0"', 'fifoPnlRealized="98"').replace('dateTime="20240102;100000"',
                                                                         'dateTime="20220102;100000"')
    first = (head.replace('fromDate="20240101" toDate="20241231"', 'fromDate="20210101" toDate="20211231"')
             + "<Trades>\n" + fb + "\n</Trades>" + tail)
    second = (head.replace('fromDate="20240101" toDate="20241231"', 'fromDate="20220101" toDate="20221231"')
              + "<Trades>\n" + meta + "\n</Trades>" + tail)
    result = build_ledger([("raw/U1/2022/b.xml", _document(second, "b.xml")),
                           ("raw/U1/2021/a.xml", _document(first, "a.xml"))])
    commodities = [e for e in result.files["generated/U1/accounts.beancount"] if type(e).__name__ == "Commodity"]
    assert [(c.currency, c.meta["conid"], c.meta.get("symbol")) for c in commodities] == [("FB", "107113386", None)]
    sale = next(e for e in result.files["generated/U1/2022.beancount"] if e.meta.get("flex_id") == "U1/trade/T1")
    assert [(p.units.currency, p.cost.label) for p in sale.postings if p.cost] == [("FB", "U1/trade/T2")]
    assert not [e for e in result.files.get("generated/U1/2021.beancount", []) if e.meta.get("event") == "opening"]


def test_rows_without_ids_in_overlapping_files_map_once():
    """pp12 has no transactionIDs: its rows get content-hash ids, so the same file archived twice (another query
    name and period end) adds nothing, while the row counts still see every row (as already imported)."""
    from beanflex.importers.flex.mapper import build_ledger

    text = sample("portfolio__testIBFlexStatementFile12.xml").read_text()
    once = build_ledger([("raw/a.xml", _document(text, "a.xml"))])
    twice = build_ledger([("raw/a.xml", _document(text, "a.xml")),
                          ("raw/b.xml", _document(text, "b.xml"))])
    count = lambda result: sum(len(v) for v in result.files.values())  # noqa: E731
    assert count(twice) == count(once)
    assert twice.counts["raw/b.xml"].duplicates > 0
    assert twice.counts["raw/b.xml"].read == twice.counts["raw/b.xml"].mapped


def test_overlapping_later_statement_opens_no_phantom_history():
    """A (Jan-Jun) buys 10 (T1, 1001) and sells 7 (T2); B (Apr-Dec) repeats T2, buys 10 (T4, 1201) and sells 5
    (T3, basis 3 × 100.1 + 2 × 120.1 = 540.5). B's "held before" (its end 8 minus its trades) is history from
    A, already in the ledger: no opening entry, and T3 closes 3 of T1 then 2 of T4."""
    from beanflex.importers.flex.mapper import build_ledger

    template = (TRADES / "history_fifo_no_lots.xml").read_text()
    head = template[:template.index("<Trades>")]
    buy, sell = [line for line in template.splitlines() if line.startswith("<Trade ")]

    def trade(line, txid, when, quantity, net, cost, pnl):
        return (line.replace('transactionID="T1"', f'transactionID="{txid}"')
                .replace('transactionID="T2"', f'transactionID="{txid}"')
                .replace('dateTime="20240201;100000"', f'dateTime="{when}"')
                .replace('dateTime="20240301;100000"', f'dateTime="{when}"')
                .replace('quantity="-15"', f'quantity="{quantity}"').replace('netCash="1798.5"', f'netCash="{net}"')
                .replace('cost="-1300.5"', f'cost="{cost}"').replace('fifoPnlRealized="498"',
                                                                       f'fifoPnlRealized="{pnl}"'))

    t1 = trade(buy, "T1", "20240201;100000", None, None, None, None)
    t2 = trade(sell, "T2", "20240510;100000", "-7", "839.5", "-700.7", "138.8")
    t4 = trade(buy, "T4", "20240701;100000", None, None, None, None).replace('cost="1001"', 'cost="1201"') \
        .replace('netCash="-1001"', 'netCash="-1201"').replace('tradePrice="100"', 'tradePrice="120"')
    t3 = trade(sell, "T3", "20240801;100000", "-5", "599", "-540.5", "58.5")

    def statement(start, end, rows, position, basis):
        text = head.replace('fromDate="20240101" toDate="20241231"', f'fromDate="{start}" toDate="{end}"')
        return _document(text + "<Trades>\n" + "\n".join(rows) + "\n</Trades>\n<OpenPositions>\n"
                         '<OpenPosition accountId="U1" assetCategory="STK" symbol="AAPL" conid="265598" '
                         f'currency="USD" reportDate="{end}" position="{position}" markPrice="130" '
                         f'costBasisMoney="{basis}" levelOfDetail="SUMMARY" />\n'
                         "</OpenPositions>\n</FlexStatement>\n</FlexStatements>\n</FlexQueryResponse>\n", "x.xml")

    a = statement("20240101", "20240630", [t1, t2], 3, "300.3")
    b = statement("20240401", "20241231", [t2, t4, t3], 8, "960.8")
    result = build_ledger([("raw/a.xml", a), ("raw/b.xml", b)])
    entries = [e for v in result.files.values() for e in v]
    assert not [e for e in entries if getattr(e, "meta", {}).get("event") == "opening"]
    sale = next(e for e in entries if e.meta.get("flex_id") == "U1/trade/T3")
    assert [(p.units.number, p.cost.label) for p in sale.postings if p.cost] == \
        [(-3, "U1/trade/T1"), (-2, "U1/trade/T4")]
    assert sum(p.units.number for p in sale.postings if p.account.endswith("PnL")) == Decimal("-58.5")


def test_rebuild_removes_generated_files_of_a_removed_raw_file(tmp_path):
    main = new_ledger(tmp_path)
    beanflex(main, "import", str(TRADES / "short_covered.xml"), str(sample("ib-flex-reader__kmi.xml")))
    assert "U12345678/2021.beancount" in snapshot(main)
    for raw in (main.parent / "raw").rglob("*.xml"):
        if "U12345678" in raw.as_posix():
            raw.unlink()
    (main.parent / "raw" / "index.tsv").unlink(missing_ok=True)
    out = beanflex(main, "rebuild")
    files = snapshot(main)
    assert "removed" in out and not [p for p in files if p.startswith("U12345678/")]
    assert "U12345678" not in files["index.beancount"].decode() and "U1/2024.beancount" in files["index.beancount"].decode()
    entries, errors, _ = loader.load_file(str(main))
    assert errors == []


def test_runs_log_names_every_archived_file_and_caps_warnings(tmp_path):
    """A successful import's record lists every archived file with period, query id and sha256 (the new one
    marked), and 25 drift warnings are written as 20 plus '… and 5 more'."""
    from beanflex.importers.flex import runlog

    main = new_ledger(tmp_path)
    first, second = TRADES / "short_covered.xml", TRADES / "closed_lot_middle.xml"
    text = second.read_text()
    extra = " ".join(f'fooBar{n}="1"' for n in range(25))  # 25 unknown attributes: 25 drift items
    noisy = tmp_path / "noisy.xml"
    noisy.write_text(text.replace('transactionID="T1"', f'transactionID="T1" {extra}', 1))
    beanflex(main, "import", str(first))
    beanflex(main, "import", str(noisy))
    record = runlog.read_runs(main.parent)[-1]
    assert (record.command, record.status) == ("import", "ok")
    archived = sorted((main.parent / "raw").rglob("*.xml"))
    assert len(record.archived) == 2
    for path in archived:
        relpath = path.relative_to(main.parent).as_posix()
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        line, = [a for a in record.archived if a.startswith(relpath + " ")]
        assert f" from=2024-01-01 to=2024-12-31 query_id=trades-golden sha256={sha}" in line
        assert line.endswith(" new") == (path.read_bytes() == noisy.read_bytes())
    assert len(record.warnings) == 21
    assert record.warnings[-1] == "… and 5 more (see 'beanflex check')"
    rebuilt = runlog.read_runs(main.parent)
    beanflex(main, "rebuild")
    last = runlog.read_runs(main.parent)[-1]
    assert len(runlog.read_runs(main.parent)) == len(rebuilt) + 1
    assert last.command == "rebuild" and len(last.archived) == 2 and not any(a.endswith(" new") for a in last.archived)


def test_runs_log_records_failed_imports(tmp_path):
    """Parse error and schema drift: exit 1 and a status=error record with the message (naming the file)."""
    from beanflex.importers.flex import runlog

    main = new_ledger(tmp_path)
    not_xml = tmp_path / "page.xml"
    not_xml.write_text("<html><body>Login</body></html>")
    no_quantity = tmp_path / "no_quantity.xml"
    no_quantity.write_text((TRADES / "short_covered.xml").read_text().replace(' quantity="', ' qty="'))
    for path in (not_xml, no_quantity):
        run = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(path)])
        assert run.exit_code == 1, run.output
        record = runlog.read_runs(main.parent)[-1]
        assert (record.command, record.status) == ("import", "error")
        assert record.message.startswith(str(path)), record.message
    assert not (main.parent / "raw").exists()


def test_the_transfers_account_is_set_in_main_beancount_and_rebuild_uses_it(tmp_path):
    """DESIGN §1: generated/ is a function of the raw archive plus the hand-edited files, so the setting lives in
    the ledger, not in the environment of whichever run rebuilt it last."""
    root = tmp_path / "money"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    main = root / "ledger" / "main.beancount"
    main.write_text(main.read_text() + '\n2000-01-01 open Assets:Bank:Checking\n'
                    '2000-01-01 custom "beanflex-config" "transfers_account" "Assets:Bank:Checking"\n')
    demo = Path(__file__).resolve().parents[1] / "beanflex" / "demo" / "demo_2024.xml"
    result = CliRunner().invoke(cli, ["--ledger", str(main), "import", str(demo)])
    assert result.exit_code == 0, result.output
    year = (root / "ledger" / "generated" / "U1234567" / "2024.beancount").read_text()
    # the 10000 USD deposit of 2024-01-02 (beanflex/demo/README.md) is booked against the bank account
    assert re.search(r"Assets:Bank:Checking\s+-10000 USD", year)
    assert "Equity:IBKR:U1234567:Transfers" not in year

    main.write_text(main.read_text() + '2000-01-01 custom "beanflex-config" "transfer_acount" "X"\n')
    bad = CliRunner().invoke(cli, ["--ledger", str(main), "rebuild"])
    message = bad.output + str(bad.exception)  # a FlexError: main() prints it and exits 1
    assert bad.exit_code == 1 and "main.beancount:" in message and "transfers_account" in message
