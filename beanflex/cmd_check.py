"""`beanflex check` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("check")
def check() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex check' is not built yet")
