"""`beanflex demo [DIR]`: a complete ledger from the bundled sample statement, no IBKR account needed.

It runs the same steps a user runs (init, import, report) on `beanflex/demo/demo_2024.xml`, whose figures are
hand-checked in `beanflex/demo/README.md`, and adds the demo's labels and notes. Running it again on the same DIR
re-imports (nothing changes) and prints the report again.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import click

from .cmd_init import create_skeleton
from .cmd_report import emit, load_book
from .ingest import import_files
from .workspace import Workspace

DEMO_STATEMENTS = ("demo_2024.xml",)
DEMO_BASE_CURRENCY = "USD"


def build_demo(root: Path) -> Workspace:
    """Create (or refresh) the demo ledger under `root`; returns its Workspace."""
    ws = Workspace(root / "ledger" / "main.beancount")
    demo_dir = resources.files("beanflex").joinpath("demo")
    if not ws.main_file.exists():
        create_skeleton(root, "beanflex demo")
        main = ws.main_file.read_text(encoding="utf-8")
        ws.main_file.write_text(
            main.replace('; option "operating_currency" "USD"', f'option "operating_currency" "{DEMO_BASE_CURRENCY}"')
                .replace('; 2000-01-01 custom "fava-extension"', '2000-01-01 custom "fava-extension"'),
            encoding="utf-8")
        shutil.copyfile(str(demo_dir.joinpath("labels.yaml")), ws.labels_file)
        for note in demo_dir.joinpath("notes").iterdir():
            if note.name.endswith(".md"):
                shutil.copyfile(str(note), ws.notes_dir / note.name)
    with resources.as_file(demo_dir) as folder:
        import_files(ws, [Path(folder) / name for name in DEMO_STATEMENTS])
    return ws


@click.command("demo")
@click.argument("directory", metavar="[DIR]", default="demo-ledger",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def demo(directory: Path, fmt: str) -> None:
    """Build a demo ledger in DIR (default demo-ledger/) from the bundled statement and print its P&L."""
    from beanflex.reports import reports
    from beanflex.reports.ledger import options

    ws = build_demo(directory.absolute())
    emit("pnl", reports.pnl_report(load_book(ws), options()), fmt, None)
    from .invocation import command, quoted_path

    run = f"{command()} --ledger {quoted_path(ws.main_file)}"  # `.venv/bin/beanflex` when beanflex is not on PATH
    click.echo(f"\nDemo ledger: {ws.main_file}\n"
               f"Browse it:   {run} serve\n"
               f"Reconcile:   {run} report reconcile", err=True)
