"""The Fava extension run for real: Fava's WSGI app (create_app) on the hand-written ledger of fava_ledger.py,
through Flask's test client. Pages render, JSON endpoints return exactly the report library's dicts (the ones
`beanflex report --format json` prints), and the raw-row endpoint serves archive rows and nothing else."""

from __future__ import annotations

import builtins
import datetime
import io
import json
import os
import pathlib
import re
from decimal import Decimal

import pytest
from beancount import loader

from fava.application import create_app

from beanflex.reports import request as fava_reports
from beanflex.reports import reports
from beanflex.engine.book import load_book
from beanflex.engine.labels import instruments_from_entries
from beanflex.engine.labels_config import load_labels
from beanflex.engine.pnl import Options
from beanflex.reports.labels import labels_report

from fava_ledger import RAW_FILE, SALE_LINE, copy_ledger

PAGES = ("BeanflexPortfolio", "BeanflexLabels", "BeanflexReconcile", "BeanflexPerformance", "BeanflexImportHealth")


@pytest.fixture()
def main_file(tmp_path):
    return copy_ledger(tmp_path)


@pytest.fixture()
def app(main_file):
    return create_app([str(main_file)], load=True)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def base(client):
    """`/<bfile>/extension/`: Fava redirects `/` to the first ledger's default page under its slug."""
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    return f"/{slug}/extension/"


def library(main_file):
    """(book, options_map, entries) as the CLI builds them: Beancount's loader, then book.load_book."""
    entries, errors, options_map = loader.load_file(str(main_file))
    # both errors are the reconcile plugin's: IBKR says 97.50 for the SAP sale, its own rows say 600 - 1 - 501 = 98;
    # and the spin-off flagged '!' (APSPIN at a stand-in 0 USD) is listed until a hand fix settles it
    assert [type(e).__name__ for e in errors] == ["ReconcileError", "ReconcileError"]
    assert "Flagged '!' entry 'U1234567/ca/3001'" in errors[1].message
    return load_book(entries, options_map), options_map, entries


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/json"
    return json.loads(response.data)


def test_every_page_renders_and_is_in_the_sidebar(client, base):
    for page in PAGES:
        response = client.get(base + page + "/")
        assert response.status_code == 200, page
        assert 'class="bf-page"' in response.data.decode()
    html = client.get(base + "BeanflexPortfolio/").data.decode()
    ledger_data = json.loads(re.search(r'<script type="application/json" id="ledger-data">(.*?)</script>',
                                       html, re.S).group(1))
    titles = {ext["name"]: ext["report_title"] for ext in ledger_data["extensions"]}
    assert titles == {"BeanflexPortfolio": "Portfolio", "BeanflexLabels": "Labels",
                      "BeanflexReconcile": "Reconciliation", "BeanflexImportHealth": "Import health",
                      "BeanflexPerformance": "Performance", "BeanflexUpload": "Upload statement", "BeanflexEdit": None,
                      "BeanflexStrategies": "Strategies"}  # Edit: endpoints only


def test_pnl_endpoint_is_the_library_report(client, base, main_file):
    book, _, entries = library(main_file)
    got = get_json(client, base + "BeanflexPortfolio/pnl")
    assert got == json.loads(json.dumps(reports.pnl_report(book, Options(), entries=entries)))
    # the account-level items: the fixture's one deposit, 10000 USD
    assert [(a["account"], a["currency"], a["deposits"], a["total"]) for a in got["accounts"]] == [
        ("U1234567", "USD", "10000.00", "0.00")]
    rows = {row["symbol"]: row for row in got["instruments"]}
    aapl, sap = rows["AAPL"], rows["SAP"]
    # DESIGN §4: realized 1948.50 - (1001 + 600.50) = 347.00; unrealized 5 × 150 - 600.50 = 149.50
    assert Decimal(aapl["realized"]) == Decimal("347.00")
    assert Decimal(aapl["unrealized"]) == Decimal("149.50")
    assert Decimal(aapl["cost_basis"]) == Decimal("600.50")
    # total = 347 + 149.5 + 1.20 - 0.18 = 497.52
    assert Decimal(aapl["total"]) == Decimal("497.52")
    # base realized 599 × 1.10 − 501 × 1.20 = 57.70; fx = 57.70 − 98 × 1.10 = −50.10
    assert Decimal(sap["base"]["realized"]) == Decimal("57.70")
    assert Decimal(sap["base"]["fx"]) == Decimal("-50.10")
    assert isinstance(aapl["realized"], str)  # money as decimal strings, never floats


def test_mode_method_and_fava_filters_reach_the_library(client, base, main_file):
    book, _, entries = library(main_file)
    got = get_json(client, base + "BeanflexPortfolio/pnl?mode=economic&method=average")
    assert got == json.loads(json.dumps(reports.pnl_report(book, Options("economic", "average"), entries=entries)))
    aapl = next(r for r in got["instruments"] if r["symbol"] == "AAPL")
    # average: 20 shares at 2202 -> 15 sold carry 1651.50; 1948.50 - 1651.50 = 297.00; 750 - 550.50 = 199.50
    assert Decimal(aapl["realized"]) == Decimal("297.00")
    assert Decimal(aapl["unrealized"]) == Decimal("199.50")
    # Fava's time filter -> --from/--to; the account filter -> --account
    got = get_json(client, base + "BeanflexPortfolio/pnl?time=2024-01-01+-+2024-06-30&account=Assets:IBKR:U1234567")
    want = reports.pnl_report(book, Options(start=datetime.date(2024, 1, 1), end=datetime.date(2024, 6, 30)),
                              ("U1234567",), entries=entries)
    assert got == json.loads(json.dumps(want))
    assert got["as_of"] == "2024-06-30"
    # a tag filter names a label (the labels plugin tags each label's transactions): #Europe -> --label Europe
    got = get_json(client, base + "BeanflexPortfolio/pnl?filter=%23Europe")
    assert got == json.loads(json.dumps(reports.pnl_report(book, Options(), (), ("Europe",))))
    assert [row["symbol"] for row in got["instruments"]] == ["SAP"]
    page = client.get(base + "BeanflexPortfolio/?filter=payee:foo").data.decode()
    assert "not applied here: filter payee:foo" in page
    assert get_json(client, base + "BeanflexPortfolio/pnl?mode=lifo", 400)["error"].startswith("mode must be")


def test_labels_reconcile_positions_events_endpoints(client, base, main_file):
    book, options_map, entries = library(main_file)
    config, _ = load_labels(main_file.parent.parent / "labels.yaml")
    want = labels_report(reports.pnl_report(book, Options(), entries=entries), config,
                         instruments=instruments_from_entries(entries))
    got = get_json(client, base + "BeanflexLabels/labels")
    assert got == json.loads(json.dumps(want))
    software = next(g for g in got["labels"] if g["label"] == "Software")
    # Software = AAPL 497.52 + SAP 57.70 = 555.22 (USD)
    assert Decimal(software["totals"]["total"]) == Decimal("555.22")

    want = reports.reconcile_report(book, fava_reports.tolerance(options_map))
    got = get_json(client, base + "BeanflexReconcile/reconcile")
    assert got == json.loads(json.dumps(want))
    # ours 599 - 501 = 98.0 vs IBKR's fifoPnlRealized 97.5 -> one diff of 0.5 EUR. IBKR's own closing row says
    # cost -501, i.e. 599 - 501 = 98 too, so its rows do not explain 97.5: no reason (unexplained)
    assert got["status"] == "diff"
    # and the spin-off flagged '!' is a diff of its own whatever the numbers (APSPIN at a stand-in 0 USD)
    assert [(d["flex_id"], d["diff"], d["reason"]) for d in got["diffs"]] == [
        ("U1234567/trade/1010", "0.50", None), ("U1234567/ca/3001", "0.00", "flagged_corporate_action")]

    want = reports.positions_report(book, Options())
    assert get_json(client, base + "BeanflexPortfolio/positions") == json.loads(json.dumps(want))

    got = get_json(client, base + "BeanflexLabels/events?conid=265598")
    want = reports.events_report(book, Options(), key="265598", ledger_dir=main_file.parent)
    assert got == json.loads(json.dumps(want))
    sale = next(e for e in got["events"] if e["flex_id"] == "U1234567/trade/1004")
    assert [r["line"] for r in sale["raw"]] == [11, 12, 13]
    assert get_json(client, base + "BeanflexLabels/events", 400)["error"].startswith("conid is required")

    got = get_json(client, base + "BeanflexLabels/explain?conid=265598&field=realized")
    assert got == json.loads(json.dumps(reports.explain_report(book, "265598", "realized", Options(),
                                                               main_file.parent)))
    # the one sale realizes 1948.50 - 1601.50 = 347.00, and the events add up to the value
    assert Decimal(got["value"]) == sum(Decimal(e["amount"]) for e in got["events"]) == Decimal("347.00")
    assert get_json(client, base + "BeanflexLabels/explain?conid=265598&field=nope", 400)["error"].startswith(
        "unknown field")


def test_pages_show_the_library_numbers_and_drill_down(client, base):
    page = client.get(base + "BeanflexPortfolio/").data.decode()
    assert "497.52" in page and "57.70" in page and "-50.10" in page
    assert "flagged_corporate_action" in page  # APSPIN's flag
    assert "reconcile_diff" in page  # SAP's flag
    # APSPIN (0.5 shares, no mark): its unrealized and total are unknown, so the totals say they leave it out
    assert "partial total" in page and "without a mark (unrealized unknown): APSPIN" in page
    page = client.get(base + "BeanflexReconcile/").data.decode()
    assert 'data-bf-flex-id="U1234567/trade/1010"' in page and "unexplained" in page
    page = client.get(base + "BeanflexLabels/").data.decode()
    assert "555.22" in page
    # the portfolio's own total, each instrument once: AAPL 497.52 + SAP 57.70 (APSPIN has no mark, left out),
    # shown as a number and in the overlap note, never as the JSON key's name
    assert 'id="bf-portfolio-total"' in page and "portfolio_totals" not in page
    assert "do not add up to the portfolio total (555.22 USD, each instrument once)" in page
    page = client.get(base + "BeanflexLabels/?label=Software").data.decode()
    assert "conid=265598" in page and "Core holding" in page  # the AAPL note beside the instrument
    page = client.get(base + "BeanflexLabels/?label=Software&conid=265598&acct=U1234567").data.decode()
    assert 'data-bf-flex-id="U1234567/trade/1004"' in page
    assert "#context-" in page  # link to Fava's entry context
    assert "IBKR closed the two oldest lots" in page  # the event note
    page = client.get(base + "BeanflexLabels/?conid=265598&field=total").data.decode()
    assert 'id="bf-explain-table"' in page and "U1234567/cash/2005" in page  # the withholding is part of total
    page = client.get(base + f"BeanflexLabels/?label=Software&conid=265598&raw={RAW_FILE}:{SALE_LINE}").data.decode()
    assert 'class="bf-row"' in page and "fifoPnlRealized=&#34;347&#34;" in page
    health = client.get(base + "BeanflexImportHealth/").data.decode()
    assert "U1234567/ca/3001" in health and "How to fix" in health and "manual.beancount" in health
    assert "Mystery Credit" in health  # the drift warning from runs.log
    assert "U1234567/cash/2009" in health  # the unclassified row


def test_import_health_json(client, base):
    got = get_json(client, base + "BeanflexImportHealth/health")
    assert [run["status"] for run in got["runs"]] == ["unchanged", "ok"]  # newest first
    assert [row["flex_id"] for row in got["flagged"]] == ["U1234567/ca/3001"]
    assert [row["flex_id"] for row in got["unmapped"]] == ["U1234567/cash/2009"]
    assert got["status"] == "attention"
    # Fava's time filter narrows the entry lists (the spin-off is on 2024-11-05, the unclassified row on 2024-06-10)
    got = get_json(client, base + "BeanflexImportHealth/health?time=2024-06")
    assert got["flagged"] == [] and [row["flex_id"] for row in got["unmapped"]] == ["U1234567/cash/2009"]
    assert len(got["runs"]) == 2


def test_raw_row_returns_the_element(client, base, main_file):
    got = get_json(client, base + f"BeanflexLabels/raw_row?src={RAW_FILE}:{SALE_LINE}")
    line = (main_file.parent / RAW_FILE).read_text().splitlines()[SALE_LINE - 1]
    assert got["file"] == RAW_FILE and got["line"] == SALE_LINE
    assert got["xml"] == line.strip() and 'fifoPnlRealized="347"' in got["xml"]
    assert [c["line"] for c in got["context"] if c["row"]] == [SALE_LINE]


def test_raw_row_refuses_everything_outside_the_archive(client, base, main_file, tmp_path, monkeypatch):
    secret = tmp_path / "secret.xml"
    secret.write_text("<Secret token='do-not-serve' />\n")
    raw_dir = main_file.parent / "raw" / "U1234567" / "2024"
    os.symlink(secret, raw_dir / "link.xml")
    os.symlink(tmp_path, main_file.parent / "raw" / "outdir")
    (raw_dir / "notes.txt").write_text("not xml\n")
    reads = []
    real_read_text = pathlib.Path.read_text
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self, *a, **k: reads.append(self) or
                        real_read_text(self, *a, **k))
    # every open() too, however it is reached (builtins.open is io.open; pathlib and friends call io.open)
    opened = []
    real_open = io.open

    def spy_open(file, *a, **k):
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append(pathlib.Path(os.fsdecode(file)))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    attempts = {
        "raw/../main.beancount.xml:1": 400,
        "raw/U1234567/../../manual.beancount:1": 400,
        f"{secret}:1": 400,  # absolute
        "%2e%2e/%2e%2e/secret.xml:1": 400,  # URL-encoded ..
        "raw/%2e%2e/%2e%2e/secret.xml:1": 400,
        "raw%2F..%2F..%2Fsecret.xml:1": 400,
        "raw/U1234567/2024/link.xml:1": 404,  # symlink pointing out
        "raw/outdir/secret.xml:1": 404,  # symlinked folder pointing out
        "raw/U1234567/2024/notes.txt:1": 400,
        f"{RAW_FILE}": 400,  # no line
        "raw/U1234567/2024/missing.xml:1": 404,
        f"{RAW_FILE}:99999": 404,
        "raw/U1234567/2024/..%5C..%5Csecret.xml:1": 400,
        "raw/U1234567/2024/x%00.xml:1": 400,  # NUL byte
        "raw/U1234567/2024%00/../../../secret.xml:1": 400,
        "": 400,
    }
    for src, status in attempts.items():
        response = client.get(base + f"BeanflexLabels/raw_row?src={src}")
        assert response.status_code == status, src
        assert b"do-not-serve" not in response.data
        assert "error" in json.loads(response.data)
    assert [p for p in reads if "secret" in str(p) or p.suffix != ".xml"] == []
    refused = {secret.resolve(), (raw_dir / "notes.txt").resolve(), (main_file.parent / "manual.beancount").resolve()}
    assert opened, "the spy must see the reads the accepted requests make (the archive file)"
    assert [p for p in opened if p.resolve() in refused or "secret" in str(p) or "outdir" in str(p)
            or p.name == "link.xml"] == []


def test_raw_row_works_read_only(main_file):
    client = create_app([str(main_file)], load=True, read_only=True).test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    response = client.get(f"/{slug}/extension/BeanflexLabels/raw_row?src={RAW_FILE}:{SALE_LINE}")
    assert response.status_code == 200
    assert client.get(f"/{slug}/extension/BeanflexPortfolio/").status_code == 200


def test_cache_is_cleared_when_the_ledger_reloads(app, client, base, main_file):
    def aapl_dividends():
        got = get_json(client, base + "BeanflexPortfolio/pnl")
        return next(r for r in got["instruments"] if r["symbol"] == "AAPL")["dividends"]

    assert Decimal(aapl_dividends()) == Decimal("1.2")
    manual = main_file.parent / "manual.beancount"
    manual.write_text(manual.read_text() + """
2024-08-15 * "AAPL CASH DIVIDEND USD 0.20 PER SHARE (hand-booked)"
  flex_id: "U1234567/cash/9001"
  event: "dividend"
  conid: "265598"
  Assets:IBKR:U1234567:Cash            1.0 USD
  Income:IBKR:U1234567:Dividends      -1.0 USD
""")
    assert Decimal(aapl_dividends()) == Decimal("1.2")  # cached until Fava reloads the ledger
    ledger = next(iter(app.config["LEDGERS"].ledgers))
    ledger.load_file()
    assert Decimal(aapl_dividends()) == Decimal("2.2")  # 1.20 + 1.00


def listening_addresses(port: int) -> list[str]:
    """The local addresses with a listening TCP socket on `port`, from /proc/net/tcp{,6} (Linux; no `ss` needed).

    A line reads `sl local_address rem_address st …` with the address in little-endian hex: 0100007F:1F90 with
    state 0A (LISTEN) is 127.0.0.1:8080.
    """
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in pathlib.Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                if len(address) == 8:
                    found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
                else:
                    found.append("ipv6:" + address)
    return found


def test_serve_passes_read_only_and_binds_to_localhost(main_file, tmp_path):
    """A real `beanflex serve --read-only` process: it listens on 127.0.0.1 only, edits are refused (Fava's 401),
    the pages and the raw-row endpoint still answer."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    beanflex = pathlib.Path(sys.executable).with_name("beanflex")
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(beanflex), "--ledger", str(main_file), "serve", "--port", str(port),
                                 "--read-only"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        root = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(root + "/", timeout=5) as response:
                    slug = response.url[len(root) + 1:].split("/")[0]
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert f"Starting Fava on http://127.0.0.1:{port}" in log.read_text()
        assert listening_addresses(port) == ["127.0.0.1"]
        with urllib.request.urlopen(f"{root}/{slug}/extension/BeanflexLabels/raw_row?src={RAW_FILE}:{SALE_LINE}") as r:
            assert json.loads(r.read())["line"] == SALE_LINE
        request = urllib.request.Request(f"{root}/{slug}/api/source", data=b"{}", method="PUT",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_serve_without_a_ledger_says_what_to_do(tmp_path):
    from click.testing import CliRunner

    from beanflex.cli import cli

    result = CliRunner().invoke(cli, ["--ledger", str(tmp_path / "nope" / "main.beancount"), "serve"])
    assert result.exit_code == 1
    assert "beanflex init" in result.output


def test_report_args_from_fava_filters():
    class Range:  # Fava's DateRange for `time=2024`: begin 2024-01-01, end 2025-01-01 (exclusive)
        begin, end_inclusive = datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)

    args = fava_reports.report_args({"mode": "economic", "method": "average", "account": "Assets:IBKR:U1",
                                     "filter": "#Dividend-Growth"}, Range())
    assert (args.mode, args.method, args.start, args.end, args.account, args.tag) == (
        "economic", "average", datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "U1", "Dividend-Growth")
    args = fava_reports.report_args({"account": "Assets:Bank", "filter": "payee:IBKR"})
    assert args.account is None and args.ignored_filters == ("account Assets:Bank", "filter payee:IBKR")
    with pytest.raises(fava_reports.ReportError, match="method must be one of fifo, average"):
        fava_reports.report_args({"method": "lifo"})


def test_money_text_rounds_half_even_to_the_minor_unit_like_every_table():
    from beanflex.fava_ext.pages import money_text

    # 1351.125 -> 1,351.12 (tie: the even 2 stays); 0.000001 -> 0.00; JPY has no minor unit: 1234.5 -> 1,234
    assert [money_text(v) for v in ("3802.5", "1351.125", "-150.65", "0", "0.000001")] == [
        "3,802.50", "1,351.12", "-150.65", "0.00", "0.00"]
    assert money_text("1234.5", "JPY") == "1,234"


def test_bar_chart_geometry():
    from beanflex.fava_ext.pages import bar_chart

    chart = bar_chart([("AAPL", "497.52", None), ("SAP", "57.70", None), ("OPT", "-150.65", None),
                       ("X", None, None)])
    aapl, opt, sap, missing = chart["rows"]  # largest first: |497.52| > |-150.65| > |57.70|, None last
    # plot 640 - 150 - 90 = 400 px over the span 497.52 + 150.65 = 648.17; zero at 150 + 400 × 150.65 / 648.17
    assert chart["zero"] == round(150 + 400 * 150.65 / 648.17, 1) == 243.0
    assert aapl["width"] == round(400 * 497.52 / 648.17, 1) and aapl["x"] == chart["zero"]
    assert sap["width"] == round(400 * 57.70 / 648.17, 1)
    assert opt["negative"] and opt["x"] == 150.0 and missing["missing"]


def test_runs_log_lines_that_do_not_parse_are_listed(main_file):
    from beanflex.reports import import_health

    log = main_file.parent / "runs.log"
    log.write_text(log.read_text() + "this is not a run\n")
    runs, bad = import_health.read_runs(main_file.parent)
    assert len(runs) == 2 and [b["line"] for b in bad] == [3]
    assert runs[1]["rows"] == {"Trade": 7, "CashTransaction": 4, "CorporateAction": 1, "unmapped": 1}


def test_a_failing_report_is_a_message_on_the_page_not_a_500(client, base, monkeypatch):
    def broken(*_args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(fava_reports, "pnl", broken)
    response = client.get(base + "BeanflexPortfolio/")
    assert response.status_code == 200
    assert "could not build this page (ZeroDivisionError: division by zero)" in response.data.decode()
    response = client.get(base + "BeanflexPortfolio/?mode=lifo")
    assert "mode must be one of ibkr, economic" in response.data.decode()


def test_import_runs_take_query_and_period_from_the_archived_file_name(main_file, client, base):
    from beanflex.reports import import_health

    # an `import` run logs the file only (the period sits inside its quoted `archived=` text, not as fields)
    log = main_file.parent / "runs.log"
    log.write_text(log.read_text() + (
        'when=2025-01-04T06:20:00Z command=import status=ok accounts=U1234567 '
        f'file={RAW_FILE} rows.read=12 archived="{RAW_FILE} from=2024-01-01 to=2024-12-31 query_id=42 new" '
        'message="1 written, 0 removed"\n'))
    runs, _ = import_health.read_runs(main_file.parent)
    # 20240101_20241231_42_0123456789ab.xml -> from 2024-01-01, to 2024-12-31, query 42
    assert (runs[0]["command"], runs[0]["from"], runs[0]["to"], runs[0]["query_id"]) == (
        "import", "2024-01-01", "2024-12-31", "42")
    page = client.get(base + "BeanflexImportHealth/").data.decode()
    import_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*>import<(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert ">42<" in import_row and "2024-01-01 … 2024-12-31" in import_row


def test_bar_chart_keeps_the_largest_bars_and_sums_the_rest_into_others():
    from beanflex.fava_ext.pages import bar_chart

    items = [(f"I{n:02d}", str(n), None) for n in range(1, 21)]  # 1 … 20
    chart = bar_chart(items, top=5, currency="USD")
    # 4 largest bars (20, 19, 18, 17), then "others (16)" = 1 + 2 + … + 16 = 16 × 17 / 2 = 136
    assert [(r["name"], r["amount"]) for r in chart["rows"]] == [
        ("I20", "20"), ("I19", "19"), ("I18", "18"), ("I17", "17"), ("others (16)", "136")]
    long = bar_chart([("A very long label name that overflows", "1234.567", None)])["rows"][0]
    assert long["short"] == "A very long label nam…" and long["text"] == "1,234.57"


def test_sidebar_lists_the_pages_in_the_readmes_order(main_file):
    from fava.core import FavaLedger

    # Fava would add them alphabetically (Import health, Labels, Portfolio, Reconciliation); the README's order is
    # Portfolio, Labels, Reconciliation, Performance, Import health, Upload, and the class names (the URLs) stay
    ledger = FavaLedger(str(main_file))
    titles = [e.report_title for e in ledger.extensions.extension_details if e.name.startswith("Beanflex")]
    assert titles[:6] == ["Portfolio", "Labels", "Reconciliation", "Performance", "Import health", "Upload statement"]
    assert titles[6] == "Strategies"
    assert [e.name for e in ledger.extensions.extension_details][:5] == list(PAGES)


def test_reconcile_page_honours_favas_time_and_account_filters(client, base):
    everything = get_json(client, base + "BeanflexReconcile/reconcile")
    some = get_json(client, base + "BeanflexReconcile/reconcile?time=2024-01-01+-+2024-03-31")
    nobody = get_json(client, base + "BeanflexReconcile/reconcile?account=Assets:IBKR:U9999999")
    trades = lambda r: [t["date"] for i in r["by_instrument"] for t in i["trades"]]  # noqa: E731
    assert trades(everything) and all(d <= "2024-03-31" for d in trades(some))
    assert len(trades(some)) < len(trades(everything)) and trades(nobody) == []


def test_links_keep_fava_filters_once(client, base):
    """Fava's url_for appends the active filters itself; a link names each one once, before the page's own."""
    html = client.get(f"{base}BeanflexPortfolio/?time=2024").get_data(as_text=True)
    links = re.findall(r'href="([^"]*extension/BeanflexLabels/[^"]*)"', html)
    assert links and all(link.count("?") == 1 and link.count("time=2024") == 1 for link in links), links[:3]
