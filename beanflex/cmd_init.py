"""`beanflex init [DIR]`: lay out a new ledger (DESIGN §2) from the templates in `beanflex/skeleton/`.

Creates DIR/ledger/main.beancount, ledger/manual.beancount, ledger/generated/index.beancount, labels.yaml,
strategies.yaml and notes/README.md. It never overwrites: if any of them exists, nothing is written and the message lists them.
Every other command run from DIR then finds `ledger/main.beancount` by default.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from beanflex.importers.flex.fsutil import atomic_write

#: target (relative to DIR) <- template file in beanflex/skeleton/
FILES = (
    ("ledger/main.beancount", "main.beancount"),
    ("ledger/manual.beancount", "manual.beancount"),
    ("ledger/query.beancount", "query.beancount"),
    ("ledger/generated/index.beancount", "index.beancount"),
    ("ledger/.gitignore", "ledger-gitignore"),
    ("labels.yaml", "labels.yaml"),
    ("strategies.yaml", "strategies.yaml"),
    ("notes/README.md", "notes-README.md"),
)


def _template(name: str) -> str:
    return resources.files("beanflex").joinpath("skeleton", name).read_text(encoding="utf-8")


def create_skeleton(root: Path, title: str = "IBKR portfolio") -> list[Path]:
    """Write the skeleton under `root`; raise FileExistsError (listing them) if any target exists already."""
    targets = [(root / target, template) for target, template in FILES]
    existing = [str(path) for path, _ in targets if path.exists()]
    if existing:
        raise FileExistsError(", ".join(existing))
    written = []
    for path, template in targets:
        text = _template(template).replace("@TITLE@", title.replace('"', "'"))
        atomic_write(path, text.encode("utf-8"))
        written.append(path)
    return written


@click.command("init")
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="IBKR portfolio", show_default=True, help="The ledger's title (Fava shows it).")
@click.pass_context
def init(ctx: click.Context, directory: Path, title: str) -> None:
    """Create a new ledger skeleton (ledger/, labels.yaml, notes/) in DIR, default the current folder."""
    root = directory.absolute()
    try:
        written = create_skeleton(root, title)
    except FileExistsError as exc:
        raise click.ClickException(f"not overwriting existing files: {exc} (init creates a new ledger only; "
                                   "remove them or choose another DIR)") from None
    quiet = getattr(ctx.obj, "quiet", False)
    if not quiet:
        for path in written:
            click.echo(f"created {path}")
        from .invocation import command

        name = command()
        if name != "beanflex":  # not on PATH: the hint names the program by a path that works from `root`
            name = str(Path(name).absolute())
        click.echo(f"next: cd {root} && {name} fetch (with IBKR_FLEX_TOKEN, IBKR_FLEX_QUERY_ID set) or "
                   f"{name} import STATEMENT.xml", err=True)
