"""What every `pinql` command shares: reading settings, and failing with a message."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from server.settings import Settings


def load_settings() -> Settings:
    """The settings from the environment; exit 2 naming the variable when one is invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        typer.echo(f"invalid configuration:\n{exc}", err=True)
        raise typer.Exit(2) from None


def fail(message: str) -> typer.Exit:
    """Prints `message` to stderr; the Exit (code 1) to raise."""
    typer.echo(message, err=True)
    return typer.Exit(1)


def bad_input(message: str) -> typer.Exit:
    """Prints `message` to stderr; the Exit (code 2: bad arguments) to raise."""
    typer.echo(message, err=True)
    return typer.Exit(2)
