"""`beanflex serve` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("serve")
def serve() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex serve' is not built yet")
