"""What every `pinql` command shares: reading settings, reaching the database, and failing
with a message."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import typer
from pydantic import ValidationError

from server.database_url import database_target
from server.settings import Settings

T = TypeVar("T")


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


def on_database(action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Runs `action` on a connection to the configured (or embedded) database; exits 1 with
    a message when PostgreSQL cannot be reached or lacks a table (not migrated)."""
    settings = load_settings()

    async def run(url: str) -> T:
        conn = await asyncpg.connect(url)
        try:
            return await action(conn)
        except asyncpg.UndefinedTableError as exc:
            raise fail(f"the database is not migrated ({exc}): run `pinql migrate` first") from None
        finally:
            await conn.close()

    with database_target(settings) as target:
        try:
            return asyncio.run(run(target.url))
        except (OSError, asyncpg.PostgresError) as exc:
            raise fail(f"cannot reach PostgreSQL: {exc}") from None
