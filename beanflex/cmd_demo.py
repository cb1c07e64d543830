"""`beanflex demo` (placeholder until its issue lands: it says so and exits 1)."""

import click


@click.command("demo")
def demo() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex demo' is not built yet")
