"""Session fixtures: a PostgreSQL server (configured, else embedded), fresh databases, Redis."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis
from redis import asyncio as aioredis

from db.migrate import migrate
from db.seed import seed
from tests import world
from tests.support import GraphQLClient, serve
from tests.throwaway import ThrowawayPostgres, ThrowawayRedis, free_port, throwaway_postgres

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

MakeDatabase = Callable[[], Awaitable[str]]
DEMO_SCALE = 0.02


def redis_url(db: int) -> str:
    """The suite's Redis (REDIS_URL's host and port) on logical database `db`: each module
    that stores keys uses a database of its own (DEVELOPERS.md lists them)."""
    parts = urlsplit(os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    return urlunsplit(parts._replace(path=f"/{db}"))


@asynccontextmanager
async def emptied_redis(db: int) -> AsyncIterator[aioredis.Redis]:
    """A client of the suite's Redis on logical database `db`, emptied first (string replies)."""
    connection = aioredis.Redis.from_url(redis_url(db), decode_responses=True)
    await connection.flushdb()
    try:
        yield connection
    finally:
        await connection.aclose()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stops at once, with the command that fixes it, when no Redis answers."""
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"no Redis answers at {url} ({exc}). Start one with:\n"
            "  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' "
            "--appendonly no\nor set REDIS_URL.",
            returncode=3,
        )


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


@pytest.fixture(scope="session")
async def server_url() -> AsyncIterator[str]:
    """A PostgreSQL server URL: DATABASE_URL, 127.0.0.1:5432, or an embedded pgserver."""
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if await _reachable(url):
        yield url
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="pinql-pg-") as data_dir:
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


@pytest.fixture(scope="session")
async def make_database(server_url: str) -> AsyncIterator[MakeDatabase]:
    """Creates fresh, uniquely named databases; drops every one at the end of the session."""
    created: list[str] = []

    async def make() -> str:
        name = f"pinql_test_{secrets.token_hex(6)}"
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'create database "{name}"')
        finally:
            await admin.close()
        created.append(name)
        return _with_database(server_url, name)

    yield make
    admin = await asyncpg.connect(server_url)
    try:
        for name in created:
            await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


async def new_database(make_database: MakeDatabase, *, with_world: bool) -> str:
    """A fresh migrated database, holding tests/world.py when `with_world`; its URL. Tests
    that write use one of their own: the session's databases are shared by readers."""
    url = await make_database()
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        if with_world:
            await world.create(conn)
    finally:
        await conn.close()
    return url


async def seeded_database(make_database: MakeDatabase, scale: float, seed_number: int = 1) -> str:
    """A fresh migrated database holding the demo data set of `scale` and seed; its URL."""
    url = await make_database()
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await seed(conn, scale=scale, seed=seed_number)
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="module")
async def sql(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the module's own `database` (a module that writes defines
    one), to arrange rows and check writes."""
    conn = await asyncpg.connect(database)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def migrated_database(make_database: MakeDatabase) -> str:
    """A fresh database with every migration applied and no rows: tests add their own."""
    return await new_database(make_database, with_world=False)


@pytest.fixture(scope="session")
async def world_database(make_database: MakeDatabase) -> str:
    """A fresh database holding the small hand-made world of tests/world.py."""
    return await new_database(make_database, with_world=True)


@pytest.fixture(scope="session")
async def demo_database(make_database: MakeDatabase) -> str:
    """A fresh database with a small demo data set (scale 0.02: ~2,000 pins)."""
    return await seeded_database(make_database, DEMO_SCALE)


@pytest.fixture(scope="session")
async def world_client(world_database: str) -> AsyncIterator[GraphQLClient]:
    """A client of pinql serving the hand-made world."""
    async with serve(world_database) as client:
        yield client


@pytest.fixture(scope="session")
async def demo_client(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """A client of pinql serving the small demo data set."""
    async with serve(demo_database) as client:
        yield client


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    """A running redis-server of the test's own on a spare port (outage tests stop and start
    it), stopped at the end whatever happens."""
    server = ThrowawayRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    """A running PostgreSQL of the test's own on a spare port, empty (outage tests stop and
    start it), stopped and deleted at the end whatever happens."""
    with throwaway_postgres() as server:
        yield server
