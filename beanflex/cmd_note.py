"""`beanflex note` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("note")
def note() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex note' is not built yet")
