"""`beanflex report` and `beanflex explain` (placeholder until issue 5 lands)."""

import click


@click.group("report")
def report() -> None:
    """Not built yet."""


@click.command("explain")
def explain() -> None:
    """Not built yet."""
    raise click.ClickException("'beanflex explain' is not built yet")
