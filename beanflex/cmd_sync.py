"""`beanflex sync` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("sync")
def sync() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex sync' is not built yet")
