"""`beanflex init` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("init")
def init() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex init' is not built yet")
