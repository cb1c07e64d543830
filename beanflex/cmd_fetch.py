"""`beanflex fetch` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("fetch")
def fetch() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex fetch' is not built yet")
