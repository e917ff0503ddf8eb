"""`pinql serve`, `migrate`, `seed` and `token`: the commands that work on the database."""

from __future__ import annotations

import asyncio
import logging.config
import os
import time
from typing import Annotated

import asyncpg
import typer
import uvicorn

from db.migrate import migrate as apply_migrations
from db.migrate import pending
from db.seed import is_empty
from db.seed import seed as seed_demo_data
from server.auth import issue_token
from server.cli.common import fail, load_settings
from server.database_url import database_target
from server.logs import configure as logging_config
from server.settings import Env, Settings

EXAMPLE_QUERY = (
    "{ viewer { username } homeFeed(first: 5) { edges { node { title creator { username } } } } }"
)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve /graphql and GraphiQL (no DATABASE_URL: embedded PostgreSQL with demo data)."""
    log_config = logging_config("INFO")
    logging.config.dictConfig(log_config)  # uvicorn applies it again, in each worker
    settings = load_settings()
    with database_target(settings) as target:
        token = asyncio.run(_prepare(settings, target.url, seed_if_empty=target.embedded))
        os.environ["DATABASE_URL"] = target.url  # workers build their app from the environment
        url = f"http://{host}:{port}/graphql"
        typer.echo(f"\n  pinql is serving {url}  (GraphiQL: open it in a browser)")
        if token:
            typer.echo(f"  dev token ({token[0]}): {token[1]}")
            typer.echo('  paste in GraphiQL\'s Headers tab: {"Authorization": "Bearer <token>"}')
            typer.echo(f"  and try: {EXAMPLE_QUERY}\n")
        uvicorn.run(
            "server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            log_config=log_config,
        )


async def _prepare(settings: Settings, url: str, *, seed_if_empty: bool) -> tuple[str, str] | None:
    """Migrates (dev) or checks migrations (prod), seeds an empty embedded database, and
    returns (username, token) of a demo user in dev."""
    conn = await asyncpg.connect(url)
    try:
        if settings.env is Env.PROD:
            missing = await pending(conn)
            if missing:
                raise fail(
                    "database schema is behind: run `pinql migrate` first (pending: "
                    + ", ".join(m.version for m in missing)
                    + ")"
                )
            return None
        await apply_migrations(conn)
        if seed_if_empty and await is_empty(conn):
            typer.echo("loading the demo data set (first start only)...")
            started = time.monotonic()
            counts = await seed_demo_data(conn, scale=settings.demo_scale)
            typer.echo(f"  loaded {counts} in {time.monotonic() - started:.1f} s")
        # The demo viewer: whoever follows the most users, so homeFeed has plenty.
        row = await conn.fetchrow(
            "select u.id, u.username from users u join follows f on f.follower_id = u.id "
            "group by u.id order by count(*) desc, u.id limit 1"
        )
        if row is None:
            return None
        return row["username"], issue_token(row["id"], settings.secret, settings.token_ttl_seconds)
    finally:
        await conn.close()


def migrate() -> None:
    """Apply pending database migrations (does nothing when up to date)."""
    settings = load_settings()

    async def run(url: str) -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            return await apply_migrations(conn)
        finally:
            await conn.close()

    with database_target(settings) as target:
        applied = asyncio.run(run(target.url))
    typer.echo("applied: " + ", ".join(applied) if applied else "database is up to date")


def seed(
    scale: Annotated[
        float, typer.Option(min=0.001, max=100, help="Size: 1 ≈ 100k pins; 10 = benchmark set.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 1,
    reset: Annotated[bool, typer.Option("--reset", help="Delete ALL existing rows first.")] = False,
) -> None:
    """Load the deterministic demo data set (migrating first). Refuses a non-empty database."""
    settings = load_settings()

    async def run(url: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            await apply_migrations(conn)
            if reset:
                await conn.execute(
                    "truncate users, boards, pins, comments, follows restart identity cascade"
                )
            elif not await is_empty(conn):
                raise fail(
                    "the database already has data; seeding needs an empty one "
                    "(pass --reset to delete everything first)"
                )
            started = time.monotonic()
            counts = await seed_demo_data(conn, scale=scale, seed=seed)
            typer.echo(f"loaded {counts} in {time.monotonic() - started:.1f} s")
        finally:
            await conn.close()

    with database_target(settings) as target:
        asyncio.run(run(target.url))


def token(
    username: Annotated[str, typer.Argument(help="Who the token is for.")],
    ttl: Annotated[
        int | None,
        typer.Option(min=60, help="Lifetime in seconds (default PINQL_TOKEN_TTL_SECONDS)."),
    ] = None,
) -> None:
    """Print a bearer token for USERNAME (development: signed with PINQL_SECRET)."""
    settings = load_settings()

    async def run(url: str) -> int | None:
        conn = await asyncpg.connect(url)
        try:
            user_id: int | None = await conn.fetchval(
                "select id from users where username = $1", username
            )
            return user_id
        finally:
            await conn.close()

    with database_target(settings) as target:
        user_id = asyncio.run(run(target.url))
    if user_id is None:
        raise fail(f"no user named {username!r}")
    typer.echo(issue_token(user_id, settings.secret, ttl or settings.token_ttl_seconds))
