"""Impossible numbers (NaN, infinities, 1e400) are schema errors naming file, section, line and field.

Before, `Decimal("NaN")` parsed, and the first comparison raised `decimal.InvalidOperation` deep in the mapper:
a traceback, and `runs.log` said only "[<class 'decimal.InvalidOperation'>]".
"""

from __future__ import annotations

import pytest

from beanflex.cmd_init import create_skeleton
from beanflex.importers.flex import adapter, runlog
from beanflex.importers.flex.errors import FlexParseError
from test_bad_input import GOOD, run_main, snapshot
from test_sync import _january_template, jan_repo  # noqa: F401 - fixtures

#: The sale's quantity in short_covered.xml (line 7) replaced by each value.
IMPOSSIBLE = ["NaN", "-nan", "sNaN", "Infinity", "-Infinity", "inf", "1e400", "-1E16", "1e-400"]


def _with_quantity(value: str) -> bytes:
    data = GOOD.read_bytes()
    first = data.index(b' quantity="') + len(b' quantity="')
    end = data.index(b'"', first)
    return data[:first] + value.encode() + data[end:]


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_the_adapter_refuses_each_impossible_number(value):
    document = adapter.parse(_with_quantity(value), "s.xml")
    trade = next(r for r in document.statements[0].records if r.tag == "Trade")
    with pytest.raises(FlexParseError) as err:
        trade.decimal("quantity")
    assert str(err.value).startswith(f"s.xml:{trade.line}, section Trades, attribute quantity: '{value}' is not a "
                                     "number IBKR writes")


@pytest.mark.parametrize("value", ["0", "-0.00", "123456789012345.5", "0.00000000000000000001", "1,234.5"])
def test_ordinary_numbers_still_read(value):
    document = adapter.parse(_with_quantity(value), "s.xml")
    trade = next(r for r in document.statements[0].records if r.tag == "Trade")
    assert trade.decimal("quantity").is_finite()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400"])
def test_import_names_the_row_and_archives_nothing(tmp_path, capsys, value):
    create_skeleton(tmp_path)
    main = str(tmp_path / "ledger" / "main.beancount")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(_with_quantity(value))
    before = snapshot(tmp_path / "ledger")
    code, output = run_main(["--ledger", main, "import", str(bad)], capsys)
    assert code == 1 and "Traceback" not in output, output
    assert output.startswith(f"Error: {bad}:"), output
    assert f"section Trades, attribute quantity: '{value}' is not a number IBKR writes" in output
    assert snapshot(tmp_path / "ledger") == before
    last = runlog.read_runs(tmp_path / "ledger")[-1]
    assert "InvalidOperation" not in last.message and "attribute quantity" in last.message


def test_an_archived_statement_with_nan_says_which_file_to_move(tmp_path, capsys):
    create_skeleton(tmp_path)
    main = str(tmp_path / "ledger" / "main.beancount")
    folder = tmp_path / "ledger" / "raw" / "U1" / "2024"
    folder.mkdir(parents=True)
    stuck = folder / "20240101_20241231_q_0123456789ab.xml"
    stuck.write_bytes(_with_quantity("NaN"))
    for args in (["rebuild"], ["check"]):
        code, output = run_main(["--ledger", main, *args], capsys)
        assert code == 1 and "Traceback" not in output, (args, output)
        assert "20240101_20241231_q_0123456789ab.xml:7, section Trades, attribute quantity: 'NaN'" in output
        assert f"move {stuck} out of raw/" in " ".join(output.split()), (args, output)


def test_sync_names_the_archived_file_and_row_every_night(jan_repo):
    """Through `sync` the payload is archived before mapping: the error names it, the row, and what to do."""
    from fake_flex_service import serve_flex
    from test_sync import FEB, _sync

    bad = FEB.replace(b' quantity="-5"', b' quantity="NaN"')
    assert bad != FEB
    for _night in range(2):
        with serve_flex(bad) as flex:
            proc = _sync(jan_repo, flex)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        (line,) = proc.stderr.splitlines()
        assert "section Trades, attribute quantity: 'NaN' is not a number IBKR writes" in line
        assert "out of raw/" in line and "InvalidOperation" not in line
