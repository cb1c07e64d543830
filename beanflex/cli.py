"""The `beanflex` command: the composition root, the only place that uses both importers and plugins.

Each subcommand lives in its own `cmd_*` module; this file holds the group, the global options and the mapping of
errors to exit codes (DESIGN §5): 0 ok, 1 error, 2 usage, 3 diffs or drift under --fail-on-diff/--strict.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from .workspace import Workspace

EXIT_ERROR = 1
EXIT_DIFF = 3

#: (module, command attribute) of every subcommand, in the order `--help` lists them.
COMMANDS = (
    ("beanflex.cmd_init", "init"),
    ("beanflex.cmd_fetch", "fetch"),
    ("beanflex.cmd_import", "import_"),
    ("beanflex.cmd_import", "rebuild"),
    ("beanflex.cmd_sync", "sync"),
    ("beanflex.cmd_check", "check"),
    ("beanflex.cmd_report", "report"),
    ("beanflex.cmd_report", "explain"),
    ("beanflex.cmd_snapshot", "snapshot"),
    ("beanflex.cmd_note", "note"),
    ("beanflex.cmd_serve", "serve"),
    ("beanflex.cmd_demo", "demo"),
)

pass_workspace = click.make_pass_decorator(Workspace)


class DiffFound(click.ClickException):
    """Reconciliation diffs or schema drift found under --fail-on-diff/--strict."""

    exit_code = EXIT_DIFF


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@click.option("--ledger", metavar="PATH", help="Ledger root file (default $BEANFLEX_LEDGER, else ledger/main.beancount).")
@click.option("-v", "--verbose", is_flag=True, help="Say more.")
@click.option("-q", "--quiet", is_flag=True, help="Say only errors (for cron).")
@click.option("--strict", "strict_ledger", is_flag=True,
              help="Exit 3 when the ledger has Beancount errors (every command that loads it says how many).")
@click.version_option(package_name="beanflex")
@click.pass_context
def cli(ctx: click.Context, ledger: str | None, verbose: bool, quiet: bool, strict_ledger: bool) -> None:
    """Plain-text portfolio ledger for Interactive Brokers Flex statements, on Beancount."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # httpx logs every request URL at INFO, and the Flex token travels in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    ctx.obj = Workspace.from_option(ledger, verbose, quiet, strict_ledger)


for _module, _attr in COMMANDS:
    cli.add_command(getattr(importlib.import_module(_module), _attr))

#: `report labels` lives in its own module (the labels report builds on the pnl report).
cli.commands["report"].add_command(importlib.import_module("beanflex.cmd_report_labels").labels)
cli.commands["report"].add_command(importlib.import_module("beanflex.cmd_report_strategies").strategies)
cli.commands["report"].add_command(importlib.import_module("beanflex.cmd_report_returns").returns)


def main() -> None:
    """Console entry point: turns the importers' FlexError into a one-line message and exit 1."""
    from beanflex.importers.flex.errors import FlexError

    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FlexError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    # Without standalone mode, click *returns* the code of an explicit `Exit(n)` (e.g. check --strict -> 3).
    if isinstance(code, int) and code:
        sys.exit(code)
