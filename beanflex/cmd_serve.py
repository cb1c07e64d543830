"""`beanflex serve`: Fava on the ledger, with the beanflex pages, bound to 127.0.0.1 unless told otherwise.

Fava runs in this process through its own command (`fava.cli.main`), so its server, `--read-only` guard and
"port in use" message are Fava's. The beanflex pages come from the ledger's own line
`2000-01-01 custom "fava-extension" "beanflex.fava_ext"` (written by `beanflex init`); Fava only loads
extensions a ledger declares, so when the line is missing we say how to add it and still start Fava.
"""

from __future__ import annotations

import os

import click

from .cli import pass_workspace
from .workspace import Workspace

EXTENSION = "beanflex.fava_ext"
EXTENSION_LINE = f'2000-01-01 custom "fava-extension" "{EXTENSION}"'


def fava_args(main_file: str, host: str, port: int, read_only: bool) -> list[str]:
    """The argument list handed to Fava's command, e.g. `[main, --host, 127.0.0.1, --port, 5000]`."""
    args = [main_file, "--host", host, "--port", str(port)]
    if read_only:
        args.append("--read-only")
    return args


def declares_extension(main_text: str) -> bool:
    """Whether the root file has an active (not commented-out) fava-extension line for beanflex."""
    for line in main_text.splitlines():
        stripped = line.strip()
        if stripped.startswith(";"):
            continue
        if '"fava-extension"' in stripped and f'"{EXTENSION}"' in stripped:
            return True
    return False


@click.command("serve")
@click.option("-H", "--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but 127.0.0.1 exposes your ledger: put an authenticating "
                   "proxy in front of it.")
@click.option("-p", "--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--read-only", is_flag=True, help="Fava's read-only mode: no edits through the web page.")
@pass_workspace
def serve(ws: Workspace, host: str, port: int, read_only: bool) -> None:
    """Open the ledger in Fava with the beanflex pages (Portfolio, Labels, Reconciliation, Import health)."""
    if not ws.main_file.is_file():
        raise click.ClickException(
            f"No ledger at {ws.main_file}: run 'beanflex init' there first, or pass --ledger PATH "
            "(or set BEANFLEX_LEDGER).")
    if not declares_extension(ws.main_file.read_text(encoding="utf-8")):
        click.echo(f"Warning: {ws.main_file} does not enable the beanflex pages; add the line\n"
                   f"  {EXTENSION_LINE}", err=True)
    if read_only:  # the beanflex pages hide their forms and refuse edits (Fava refuses every POST too)
        os.environ["BEANFLEX_READ_ONLY"] = "1"
    # BEANCOUNT_FILE would make Fava serve more files than the one ledger asked for.
    os.environ.pop("BEANCOUNT_FILE", None)
    from fava.cli import main as fava_main

    fava_main.main(args=fava_args(str(ws.main_file), host, port, read_only), prog_name="beanflex serve",
                   standalone_mode=False)
