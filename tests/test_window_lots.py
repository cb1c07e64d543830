"""A first statement that sells a lot bought before it, in two pieces: one opening lot, IBKR's full quantity.

Lot L9: 125 XYZ bought 2023-06-15 @ 10 + commission 1.25 = 1251.25 (10.01 a share), before the 2024 window.
- 2024-03-01 sell 40 @ 12, commission 1: netCash 479; IBKR cost 40 x 10.01 = 400.40; realized 479 - 400.40 = 78.60
- 2024-09-02 sell 60 @ 9, commission 1: netCash 539; IBKR cost 60 x 10.01 = 600.60; realized 539 - 600.60 = -61.60
- 2024-12-31 OpenPositions lists 25 of L9: costBasisMoney 25 x 10.01 = 250.25, mark 11.
So the ledger opens 40 + 60 + 25 = 125 units once, at 400.40 + 600.60 + 250.25 = 1251.25; realized 78.60 - 61.60
= 17.00; 25 stay at a cost basis of 250.25.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

from beancount import loader
from click.testing import CliRunner

from beanflex.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from flexsynth import statement as flexgen, window  # noqa: E402

INST = ('accountId="U1" assetCategory="STK" symbol="XYZ" description="XYZ CORP" conid="1001" multiplier="1" '
        'currency="USD" fxRateToBase="1"')


def _sale(when: str, tid: str, qty: int, price: str, net: str, cost: str, pnl: str) -> str:
    proceeds = qty * int(price)
    return (f'<Trade {INST} dateTime="{when};100000" quantity="-{qty}" tradePrice="{price}" proceeds="{proceeds}" '
            f'ibCommission="-1" ibCommissionCurrency="USD" taxes="0" netCash="{net}" cost="-{cost}" '
            f'fifoPnlRealized="{pnl}" openCloseIndicator="C" buySell="SELL" transactionType="ExchTrade" '
            f'transactionID="{tid}" tradeID="R{tid}" notes="" levelOfDetail="EXECUTION" />\n'
            f'<Lot {INST} dateTime="{when};100000" openDateTime="20230615;100000" quantity="{qty}" cost="{cost}" '
            f'fifoPnlRealized="{pnl}" buySell="SELL" openCloseIndicator="C" transactionID="L9" notes="ST" '
            f'levelOfDetail="CLOSED_LOT" />\n')


def _positions(day: str, qty: int, basis: str) -> str:
    rows = "".join(f'<OpenPosition {INST} reportDate="{day}" position="{qty}" markPrice="11" '
                   f'positionValue="{qty * 11}" costBasisMoney="{basis}" openDateTime="20230615;100000" '
                   f'originatingTransactionID="{origin}" levelOfDetail="{level}" />\n'
                   for level, origin in (("SUMMARY", ""), ("LOT", "L9")))
    return f"<OpenPositions>\n{rows}</OpenPositions>\n"


def _statement(start: str, end: str, trades: str, positions: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<FlexQueryResponse queryName="w" type="AF">\n'
            f'<FlexStatements count="1">\n<FlexStatement accountId="U1" fromDate="{start}" toDate="{end}" '
            f'period="" whenGenerated="{end};120000">\n<AccountInformation accountId="U1" currency="USD" />\n'
            f'{positions}<Trades>\n{trades}</Trades>\n</FlexStatement>\n</FlexStatements>\n</FlexQueryResponse>\n')


FIRST = _sale("20240301", "S1", 40, "12", "479", "400.4", "78.6")
SECOND = _sale("20240902", "S2", 60, "9", "539", "600.6", "-61.6")
YEAR = _statement("20240101", "20241231", FIRST + SECOND, _positions("20241231", 25, "250.25"))
# The same year as two half-year statements: at the end of June IBKR still lists 85 of L9 (850.85 = 85 x 10.01).
H1 = _statement("20240101", "20240630", FIRST, _positions("20240630", 85, "850.85"))
H2 = _statement("20240701", "20241231", SECOND, _positions("20241231", 25, "250.25"))


def _workspace(root: Path) -> Path:
    ledger = root / "ledger"
    ledger.mkdir(parents=True)
    (ledger / "main.beancount").write_text('plugin "beanflex.plugins.reconcile"\n'
                                           'include "generated/index.beancount"\ninclude "manual.beancount"\n')
    (ledger / "manual.beancount").write_text("")
    return ledger / "main.beancount"


def _run(main: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--ledger", str(main), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _import(root: Path, main: Path, *statements: str) -> str:
    out = ""
    for n, text in enumerate(statements):
        path = root / f"s{n}.xml"
        path.write_text(text)
        out += _run(main, "import", str(path))
    return out


def _generated(main: Path) -> str:
    return "".join(p.read_text() for p in sorted((main.parent / "generated").rglob("*.beancount")))


def _ledger_errors(main: Path) -> list:
    _, errors, _ = loader.load_file(str(main))
    return errors


def test_lot_sold_in_two_pieces_opens_once_at_full_quantity(tmp_path):
    main = _workspace(tmp_path)
    out = _import(tmp_path, main, YEAR)
    assert "(0 repeated in overlapping statements)" in out  # the second piece no longer makes a duplicate opening
    assert _ledger_errors(main) == []  # no booking error, and realized/cost basis reconcile with IBKR
    text = _generated(main)
    assert text.count('event: "opening"') == 1
    assert '125 XYZ {10.01 USD, 2023-06-15, "U1/trade/L9"}' in text
    assert "Equity:IBKR:U1:Opening  -1251.25 USD" in text
    pnl = json.loads(_run(main, "report", "pnl", "--format", "json"))
    (xyz,) = pnl["instruments"]
    assert xyz["realized"] == "17.00"  # 78.60 - 61.60
    assert xyz["quantity"] == "25"  # 125 - 40 - 60
    assert xyz["cost_basis"] == "250.25"  # 25 x 10.01


def test_each_piece_realizes_ibkrs_figure(tmp_path):
    main = _workspace(tmp_path)
    _import(tmp_path, main, YEAR)
    entries, _, _ = loader.load_file(str(main))
    pnl = {e.meta["flex_id"]: -sum(p.units.number for p in e.postings if p.account.endswith(":PnL"))
           for e in entries if getattr(e, "meta", {}).get("event") == "trade"}
    assert pnl == {"U1/trade/S1": Decimal("78.6"), "U1/trade/S2": Decimal("-61.6")}  # 479 - 40 x 10.01; 539 - 60 x 10.01


def test_statement_order_does_not_matter(tmp_path):
    """Half-years imported oldest first or newest first give the same ledger, with one opening of 125."""
    forward, backward = _workspace(tmp_path / "a"), _workspace(tmp_path / "b")
    _import(tmp_path / "a", forward, H1, H2)
    _import(tmp_path / "b", backward, H2, H1)
    assert _generated(forward) == _generated(backward)
    assert _ledger_errors(forward) == []
    # each import re-prints only the years its statement touches; the opening (dated 2023) depends on H2's
    # OpenPositions, so importing H2 after H1 must re-print 2023 too: a full rebuild changes nothing
    for main in (forward, backward):
        imported = _generated(main)
        _run(main, "rebuild")
        assert _generated(main) == imported
    assert '125 XYZ {10.01 USD, 2023-06-15, "U1/trade/L9"}' in _generated(forward)


def test_newest_half_alone_opens_what_it_can_see(tmp_path):
    """Only H2 archived: 60 sold + 25 still listed = 85 units at 600.60 + 250.25 = 850.85."""
    main = _workspace(tmp_path)
    _import(tmp_path, main, H2)
    assert _ledger_errors(main) == []
    assert '85 XYZ {10.01 USD, 2023-06-15, "U1/trade/L9"}' in _generated(main)


def test_generated_history_cut_to_its_last_365_days_loads_without_errors(tmp_path):
    """The generator's 1,500 trades over ~1.5 years, served as a 365-day first statement: 0 ledger errors."""
    data = window.last_days(flexgen.generate(1500, seed=5), 365)
    pieces: dict[bytes, int] = {}
    first = data.split(b'fromDate="', 1)[1][:8]
    for line in data.splitlines():
        if b"<Lot " in line and line.split(b'openDateTime="', 1)[1][:8] < first:
            opening = line.split(b'transactionID="', 1)[1].split(b'"', 1)[0]
            pieces[opening] = pieces.get(opening, 0) + 1
    assert any(n > 1 for n in pieces.values()), "the window must sell some pre-window lot in two pieces"
    main = _workspace(tmp_path)
    (tmp_path / "w.xml").write_bytes(data)
    out = _run(main, "import", str(tmp_path / "w.xml"))
    assert "(0 repeated in overlapping statements)" in out
    errors = [e for e in _ledger_errors(main) if type(e).__name__ != "ReconcileError"]
    assert errors == []


def test_first_sync_of_a_generated_window_commits_a_ledger_without_errors(tmp_path):
    """`sync` end to end (fake Flex Web Service, real git): the first night commits, and the ledger loads clean."""
    import subprocess

    from fake_flex_service import serve_flex
    from test_sync import _bean_check, _commits, _git_env, _sync, BEANFLEX

    home = tmp_path / "money"
    home.mkdir()
    subprocess.run([BEANFLEX, "init", str(home)], check=True, capture_output=True, env=_git_env(tmp_path))
    subprocess.run(["git", "-C", str(home), "init", "-q"], check=True, env=_git_env(tmp_path))
    with serve_flex(window.last_days(flexgen.generate(1500, seed=5), 365)) as flex:
        proc = _sync(home, flex)
    assert proc.returncode == 0, proc.stderr
    assert len(_commits(home)) == 1
    checked = _bean_check(home)
    assert "No position matches" not in checked.stdout + checked.stderr


def test_summary_positions_open_the_rest_at_ibkrs_basis_minus_the_ledgers_lots(tmp_path):
    """SUMMARY rows only: 5 XYZ held before the window, 10 bought in it @ 20 + commission 1 = 201; IBKR holds 15 at
    costBasisMoney 251. The 5 open at 251 - 201 = 50 (10 a share), not 5/15 x 251 = 83.67; cost basis 251 = IBKR's."""
    buy = (f'<Trade {INST} dateTime="20240301;100000" quantity="10" tradePrice="20" proceeds="-200" '
           'ibCommission="-1" ibCommissionCurrency="USD" taxes="0" netCash="-201" cost="201" fifoPnlRealized="0" '
           'openCloseIndicator="O" buySell="BUY" transactionType="ExchTrade" transactionID="B1" tradeID="RB1" '
           'notes="" levelOfDetail="EXECUTION" />\n')
    positions = (f'<OpenPositions>\n<OpenPosition {INST} reportDate="20241231" position="15" markPrice="11" '
                 'positionValue="165" costBasisMoney="251" levelOfDetail="SUMMARY" />\n</OpenPositions>\n')
    main = _workspace(tmp_path)
    _import(tmp_path, main, _statement("20240101", "20241231", buy, positions))
    assert _ledger_errors(main) == []  # the reconcile plugin finds IBKR's cost basis, 251
    assert "5 XYZ {10 USD, 2023-12-31" in _generated(main)
    pnl = json.loads(_run(main, "report", "pnl", "--format", "json"))
    assert pnl["instruments"][0]["cost_basis"] == "251.00"
