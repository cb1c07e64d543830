"""Progress on long work: `import` and `rebuild` show their phases on a terminal (a real pty here) and print
nothing of it in a pipe (cron) or with -q; the summary says what this run added versus what the archive holds."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from samples import sample

BEANFLEX = Path(sys.executable).with_name("beanflex")
STATEMENT = sample("opensteuerauszug__eTax_report_anonymised_2025.xml")  # 912 rows


def on_pty(*args: str) -> str:
    """Run beanflex with stdin/stdout/stderr on a pseudo-terminal, as a user's shell would; all it wrote."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BEANFLEX), *args], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def piped(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BEANFLEX), *args], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_progress_on_a_terminal_and_none_in_a_pipe(tmp_path):
    piped("init", str(tmp_path))
    main = str(tmp_path / "ledger" / "main.beancount")
    shown = on_pty("--ledger", main, "import", str(STATEMENT))
    # the status line is rewritten in place (\r) with the phase, statements done of total and rows read
    assert "\rimport: reading files 1/1" in shown
    assert "import: reading statements 1/1, 912 rows" in shown and "import: writing ledger/generated" in shown
    assert "this run: 1 new statement file(s), 912 rows" in shown  # the summary follows on a cleared line

    cron = piped("--ledger", main, "rebuild")  # a pipe, as under cron: only the summary
    assert "reading statements" not in cron.stdout + cron.stderr and "\r" not in cron.stdout + cron.stderr
    assert cron.stderr == "" and "archive: 1 statement file(s), 912 rows read" in cron.stdout

    rebuilt = on_pty("--ledger", main, "rebuild")
    assert "rebuild: reading statements 1/1, 912 rows" in rebuilt
    assert "reading statements" not in on_pty("-q", "--ledger", main, "rebuild")  # -q: silent on a terminal too

    again = piped("--ledger", main, "import", str(STATEMENT))  # already archived: nothing new, said so
    assert "this run: nothing new (1 file(s) already archived)" in again.stdout
