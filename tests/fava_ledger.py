"""The small hand-written ledger the Fava tests serve (tests/fixtures/fava), copied fresh for each test.

It is DESIGN §4's worked examples in docs/ledger-format.md's shape, plus one raw archive file behind it:
- AAPL: buy 10 @ 100 (comm 1), buy 10 @ 120 (comm 1), sell 15 @ 130 (comm 1.5), dividend 1.20, withholding
  0.18, IBKR mark 150 on 2024-12-31 -> realized 347.00, 5 left at cost basis 600.50, unrealized 149.50,
  total 347 + 149.5 + 1.2 - 0.18 = 497.52 (average method: realized 297.00, unrealized 199.50).
- SAP in EUR on a USD account: buy 10 @ 50 (comm 1, rate 1.20), sell 10 @ 60 (comm 1, rate 1.10) -> realized
  98 EUR; base realized 599 × 1.10 − 501 × 1.20 = 658.90 − 601.20 = 57.70 USD; base fx 57.70 − 98 × 1.10 = −50.10.
- APSPIN: a spin-off written flagged `!` (unsupported corporate action), 0.5 shares at cost 0, no mark.
- one unclassified cash row ("Mystery Credit"), two runs in runs.log, notes for AAPL and the AAPL sale.
Labels: Software = AAPL + SAP (by ISIN), Europe = SAP (by conid).
"""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "fava"
RAW_FILE = "raw/U1234567/2024/20240101_20241231_42_0123456789ab.xml"
#: The AAPL sale's Trade row in RAW_FILE (its closed lots follow on lines 12 and 13).
SALE_LINE = 11


def copy_ledger(tmp_path: Path) -> Path:
    """A fresh copy of the fixture under tmp_path; returns ledger/main.beancount."""
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    return root / "ledger" / "main.beancount"
