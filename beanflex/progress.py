"""Progress of long work (import, rebuild, sync of a large archive) on a terminal; silence anywhere else.

Reading and mapping a few years of statements takes tens of seconds, and a silent terminal looks hung. On a
terminal (stderr is a TTY, no `-q`), one status line is rewritten in place: the phase, statements done of total
and rows read so far, e.g. "rebuild: reading statements 3/12, 4,512 rows (raw/U1/2024/…xml)". Under cron,
in a pipe or with `-q` nothing is printed, so cron mail stays one line and scripts read only the summary.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """A status line on `stream`, rewritten at most every `interval` seconds (and always at a phase change)."""

    def __init__(self, command: str, stream: TextIO | None = None, interval: float = 0.1) -> None:
        self.command = command
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self._last = 0.0
        self._phase = ""
        self._width = 0

    def __call__(self, phase: str, done: int | None = None, total: int | None = None, rows: int | None = None,
                 detail: str = "") -> None:
        """Report e.g. ("reading statements", 3, 12, 4512, "raw/U1/2024/x.xml")."""
        now = time.monotonic()
        if phase == self._phase and now - self._last < self.interval and done != total:
            return
        self._phase, self._last = phase, now
        text = f"{self.command}: {phase}"
        if done is not None and total is not None:
            text += f" {done}/{total}"
        if rows is not None:
            text += f", {rows:,} rows"
        if detail:
            text += f" ({detail})"
        text = text[:self.columns() - 1]
        self.stream.write("\r" + text.ljust(self._width) + "\r" + text)
        self.stream.flush()
        self._width = len(text)

    def columns(self) -> int:
        import shutil

        return max(40, shutil.get_terminal_size((100, 24)).columns)

    def finish(self) -> None:
        """Clear the status line, so the summary that follows starts on a clean line."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def for_terminal(command: str, quiet: bool, stream: TextIO | None = None) -> Progress | None:
    """A Progress when `stream` (default stderr) is a terminal and the user did not ask for quiet; else None."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not getattr(stream, "isatty", lambda: False)():
        return None
    return Progress(command, stream)


def report(progress, phase: str, done: int | None = None, total: int | None = None, rows: int | None = None,
           detail: str = "") -> None:
    """Call `progress` when there is one (ingest passes None under cron)."""
    if progress is not None:
        progress(phase, done, total, rows, detail)
