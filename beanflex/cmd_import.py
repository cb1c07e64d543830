"""`beanflex import` and `beanflex rebuild` (placeholder until issue 4 lands)."""

import click


@click.command("import")
def import_() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex import' is not built yet")


@click.command("rebuild")
def rebuild() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex rebuild' is not built yet")
