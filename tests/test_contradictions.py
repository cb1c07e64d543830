"""Contradictory rows are refused, saying why: a BUY with a negative quantity, a statement dated in 2096.

Before, both imported with exit 0: the BUY left booking errors behind it, the 2096 statement not a word.
"""

from __future__ import annotations

import datetime

import pytest

from beanflex.cmd_init import create_skeleton
from beanflex.importers.flex import adapter, consistency
from beanflex.importers.flex.errors import SchemaDriftError
from test_bad_input import GOOD, run_main, snapshot

TODAY = datetime.date(2026, 12, 3)


def _statement(old: bytes, new: bytes, count: int = 1):
    data = GOOD.read_bytes()
    assert data.count(old) >= count
    return data.replace(old, new, count)


def _check(data: bytes, today: datetime.date = TODAY) -> None:
    consistency.check_statement(adapter.parse(data, "s.xml").statements[0], "s.xml", today)


def test_the_good_statement_passes():
    _check(GOOD.read_bytes())


@pytest.mark.parametrize("old, new, line, says", [
    # the short sale (SELL -10) turned into a BUY of -10; the cover (BUY 10) into a SELL of 10
    (b'buySell="SELL"', b'buySell="BUY"', 7, 'buySell="BUY" contradicts quantity="-10"'),
    (b'buySell="BUY"', b'buySell="SELL"', 8, 'buySell="SELL" contradicts quantity="10"'),
])
def test_a_side_that_contradicts_the_quantity(old, new, line, says):
    with pytest.raises(SchemaDriftError) as err:
        _check(_statement(old, new))
    assert str(err.value).startswith(f"s.xml:{line}, section Trades, attribute buySell/quantity: {says}")


def test_a_cancellation_keeps_its_own_sign():
    _check(_statement(b'buySell="SELL"', b'buySell="BUY (Ca.)"'))


@pytest.mark.parametrize("old, new, attribute, day", [
    (b'toDate="20241231"', b'toDate="20961231"', "toDate", "2096-12-31"),
    (b'whenGenerated="20241231;120000"', b'whenGenerated="20960101;120000"', "whenGenerated", "2096-01-01"),
    (b'dateTime="20240110;100000"', b'dateTime="20960110;100000"', "dateTime", "2096-01-10"),
])
def test_dates_in_the_future(old, new, attribute, day):
    with pytest.raises(SchemaDriftError) as err:
        _check(_statement(old, new))
    assert f"attribute {attribute}: " in str(err.value) and f"dated {day}, after today" in str(err.value)


def test_tomorrow_in_new_york_is_not_the_future():
    """IBKR's day may run ahead of this machine's by a day or so: today + 2 days passes, + 3 days does not."""
    data = _statement(b'toDate="20241231"', b'toDate="20241231"')
    _check(data, datetime.date(2024, 12, 29))
    with pytest.raises(SchemaDriftError):
        _check(data, datetime.date(2024, 12, 28))


def test_from_after_to():
    with pytest.raises(SchemaDriftError, match="fromDate 2025-01-01 is after toDate 2024-12-31"):
        _check(_statement(b'fromDate="20240101"', b'fromDate="20250101"'))


@pytest.mark.parametrize("old, new, says", [
    (b'buySell="SELL"', b'buySell="BUY"', 'buySell="BUY" contradicts quantity="-10"'),
    (b'toDate="20241231"', b'toDate="20961231"', "the statement is dated 2096-12-31, after today"),
])
def test_import_refuses_and_stores_nothing(tmp_path, capsys, old, new, says):
    create_skeleton(tmp_path)
    main = str(tmp_path / "ledger" / "main.beancount")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(_statement(old, new))
    before = snapshot(tmp_path / "ledger")
    code, output = run_main(["--ledger", main, "import", str(bad)], capsys)
    assert code == 1 and "Traceback" not in output, output
    assert output.startswith(f"Error: {bad}:") and says in output, output
    assert snapshot(tmp_path / "ledger") == before
