"""`pinql serve`, `migrate`, `seed` and `token`: the commands that work on the database."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import logging.config
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Annotated

import asyncpg
import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from db.migrate import migrate as apply_migrations
from db.migrate import pending
from db.seed import is_empty
from db.seed import seed as seed_demo_data
from server.auth import issue_token
from server.cli.common import bad_input, fail, load_settings
from server.cli.progress import seed_progress
from server.database_url import database_target
from server.logs import configure as logging_config
from server.metrics_port import serve_summed
from server.settings import Env, Settings

log = logging.getLogger("pinql")

EXAMPLE_QUERY = (
    "{ viewer { username } homeFeed(first: 5) { edges { node { title creator { username } } } } }"
)


APP_FACTORY = "server.app:create_app"
"""What each worker imports and calls: create_app() reads Settings from the environment,
which the workers inherit from `serve` (DATABASE_URL included, set once the database is known)."""

MAX_WORKERS = 64
MAX_GRACEFUL_TIMEOUT = 3600
PROMETHEUS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# The connections ordinary roles may open on the server.
CONNECTION_SLOTS = (
    "select current_setting('max_connections')::int"
    " - current_setting('superuser_reserved_connections')::int"
)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help=f"Worker processes (1..{MAX_WORKERS}), sharing nothing but PostgreSQL and "
            "Redis. Each has its own pool of up to PINQL_DB_POOL_MAX connections (per worker, "
            "not in all).",
        ),
    ] = 1,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            help=f"On SIGTERM or SIGINT, seconds (0..{MAX_GRACEFUL_TIMEOUT}) in-flight requests "
            "get to finish before they are cancelled; then the pools close and serve exits 0.",
        ),
    ] = 30,
) -> None:
    """Serve /graphql and GraphiQL (no DATABASE_URL: embedded PostgreSQL with demo data)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise bad_input(f"--workers must be 1..{MAX_WORKERS}, got {workers}")
    if not 0 <= graceful_timeout <= MAX_GRACEFUL_TIMEOUT:
        raise bad_input(
            f"--graceful-timeout must be 0..{MAX_GRACEFUL_TIMEOUT} seconds, got {graceful_timeout}"
        )
    settings = load_settings()
    log_config = logging_config("INFO", settings.log_format)
    logging.config.dictConfig(log_config)  # uvicorn applies it again, in each worker
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM unwinds like Ctrl-C: see _interrupt
    if graceful_timeout < settings.request_timeout_seconds:
        log.warning(
            "--graceful-timeout (%d s) is shorter than PINQL_REQUEST_TIMEOUT_SECONDS (%g s): "
            "at shutdown, requests still running past it are cancelled with a bare 500",
            graceful_timeout,
            settings.request_timeout_seconds,
        )
    with database_target(settings) as target:
        token = asyncio.run(
            _prepare(
                settings,
                target.url,
                seed_if_empty=target.embedded,
                connections=workers * (settings.db_pool_max + 1),  # + its own (db/health.py)
            )
        )
        os.environ["DATABASE_URL"] = target.url  # workers build their app from the environment
        url = f"http://{host}:{port}/graphql"
        typer.echo(f"\n  pinql is serving {url}  (GraphiQL: open it in a browser)")
        if workers > 1:
            typer.echo(
                f"  {workers} worker processes, each with a pool of up to "
                f"{settings.db_pool_max} PostgreSQL connections"
            )
        if token:
            typer.echo(f"  dev token ({token[0]}): {token[1]}")
            typer.echo('  paste in GraphiQL\'s Headers tab: {"Authorization": "Bearer <token>"}')
            typer.echo(f"  and try: {EXAMPLE_QUERY}\n")
        config = uvicorn.Config(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop=_available("uvloop", fallback="asyncio"),
            http=_available("httptools", fallback="h11"),
            timeout_graceful_shutdown=graceful_timeout,
            log_config=log_config,
        )
        with prometheus_multiprocess_dir(workers), summed_metrics(settings):
            _run(config)


def _run(config: uvicorn.Config) -> None:
    """Serves in this process (one worker), or supervises `config.workers` processes that
    share one listening socket; returns after a graceful shutdown. Exit 3 when a worker could
    not start (as `uvicorn.run` does for one)."""
    if config.workers == 1:
        server = uvicorn.Server(config)
        with suppress(KeyboardInterrupt):  # the signal uvicorn raises again after shutdown
            server.run()
        if not server.started:
            raise typer.Exit(STARTUP_FAILURE)
        return
    supervisor = _Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise typer.Exit(STARTUP_FAILURE)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, closing its own copy of the listening socket
    when it stops them. Once the workers close theirs, new connections are refused at once;
    otherwise the kernel would keep accepting them, unanswered, until this process exits."""

    def terminate_all(self) -> None:
        """Stops listening, then sends SIGTERM to every worker (each drains and exits)."""
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM's handler outside uvicorn: raise KeyboardInterrupt, as SIGINT does.

    uvicorn handles SIGTERM itself while it serves, then raises the signal again with the
    previous handler; with the default one the process would die there (exit 143) before the
    embedded PostgreSQL is stopped. A SIGTERM during migrations or seeding unwinds the same way.
    """
    raise KeyboardInterrupt


def _available(module: str, *, fallback: str) -> str:
    """`module` when it is installed (uvicorn[standard] brings uvloop and httptools), else
    `fallback`: uvicorn's pure-Python event loop or HTTP parser."""
    if importlib.util.find_spec(module) is not None:
        return module
    log.warning("%s is not installed: serving with %s instead", module, fallback)
    return fallback


@contextmanager
def prometheus_multiprocess_dir(workers: int) -> Iterator[None]:
    """With several workers, PROMETHEUS_MULTIPROC_DIR (unless set) is a fresh empty directory
    the workers inherit, deleted at exit: prometheus-client's multiprocess mode keeps each
    worker's samples there, and files left by an earlier run would be added to the new ones."""
    if workers == 1 or os.environ.get(PROMETHEUS_DIR_VARIABLE):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="pinql-prometheus-") as directory:
        os.environ[PROMETHEUS_DIR_VARIABLE] = directory
        try:
            yield
        finally:
            del os.environ[PROMETHEUS_DIR_VARIABLE]


@contextmanager
def summed_metrics(settings: Settings) -> Iterator[None]:
    """In multiprocess mode, with /metrics on a port of its own, this process serves it,
    summed over the workers (they do not listen on it themselves)."""
    directory = os.environ.get(PROMETHEUS_DIR_VARIABLE)
    port = settings.metrics_listen_port
    if not (settings.metrics and port and directory):
        yield
        return
    server = serve_summed(directory, port)
    try:
        yield
    finally:
        server.shutdown()


async def _prepare(
    settings: Settings, url: str, *, seed_if_empty: bool, connections: int
) -> tuple[str, str] | None:
    """Migrates (dev) or checks migrations (prod), seeds an empty embedded database, warns
    when the pools may open more `connections` than PostgreSQL takes, and returns
    (username, token) of a demo user in dev."""
    conn = await asyncpg.connect(url)
    try:
        slots = await conn.fetchval(CONNECTION_SLOTS)
        if connections > slots:
            log.warning(
                "the pools may open %d connections (--workers times PINQL_DB_POOL_MAX, plus "
                "one each for /readyz) but "
                "PostgreSQL takes %d (max_connections - superuser_reserved_connections): lower "
                "them, raise max_connections, or put PgBouncer in between (docs/scaling.md)",
                connections,
                slots,
            )
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
            with seed_progress() as progress:
                counts = await seed_demo_data(conn, scale=settings.demo_scale, progress=progress)
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
            with seed_progress() as progress:
                counts = await seed_demo_data(conn, scale=scale, seed=seed, progress=progress)
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
