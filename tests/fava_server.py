"""A real `beanflex serve` process for the browser tests: on a free loopback port, stopped with its process group.

    with beanflex_serve(main_file, tmp / "serve.log") as base:   # "http://127.0.0.1:PORT/<slug>/extension"
        page.goto(base + "/BeanflexPortfolio/")
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

BEANFLEX = Path(sys.executable).with_name("beanflex")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def beanflex_serve(main_file: Path, log_path: Path, env: dict | None = None,
                   startup_seconds: float = 60) -> Iterator[str]:
    """Start `beanflex serve` on `main_file`, wait until Fava answers, yield the extension base URL; the test fails
    with the server's log when it does not start, and the server is stopped (TERM, then KILL) however it ends."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(BEANFLEX), "--ledger", str(main_file), "serve", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        root = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                try:
                    with urllib.request.urlopen(root + "/", timeout=5) as response:  # follows Fava's redirect
                        slug = response.url[len(root) + 1:].split("/")[0]
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        pytest.fail("beanflex serve did not start: " + log_path.read_text())
                    time.sleep(0.2)
            yield f"{root}/{slug}/extension"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
