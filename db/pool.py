"""The asyncpg pool (one per process) and a request's Session: one connection, taken lazily."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import asyncpg

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
"""A connection of the pool, or a plain one (scripts and tests)."""


class ConnectionInit(Protocol):
    """Called on each new pool connection (tests use it to count statements)."""

    async def __call__(self, conn: asyncpg.Connection, /) -> None: ...


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool reset hook: asyncpg already rolled back any open transaction; skip RESET ALL."""


# Makes asyncpg look up the array types loaders bind ($n::bigint[] ...) when the connection
# opens, instead of spending three round trips on it inside some request.
WARM_UP = "select $1::bigint[], $2::int[], $3::text[]"


def _initializer(init: ConnectionInit | None) -> ConnectionInit:
    async def initialize(conn: asyncpg.Connection) -> None:
        await conn.fetch(WARM_UP, [], [], [])
        if init is not None:
            await init(conn)

    return initialize


class Database:
    """The process's connection pool, created once in the app's lifespan."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        init: ConnectionInit | None = None,
    ) -> Database:
        """Opens a pool whose release costs no round trip (pinql keeps no session state)."""
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            init=_initializer(init),
            reset=_keep_session,
        )
        return cls(pool)

    def session(self) -> Session:
        """A new request-scoped session; close it when the request ends."""
        return Session(self.pool)

    async def close(self) -> None:
        """Closes every connection of the pool."""
        await self.pool.close()


class SessionClosed(RuntimeError):
    """A statement was sent after its request's session was closed (a bug upstream)."""


class Session:
    """One request's database access: a single pooled connection, statements one at a time.

    The connection is acquired at the first statement and released by `close()`, so a
    request that runs no SQL takes no connection, and a request's statements never pay the
    pool's acquire/release cost more than once.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def _connection(self) -> asyncpg.pool.PoolConnectionProxy:
        """The request's connection, acquired on first use; never after `close()` (it would
        never be given back)."""
        if self._closed:
            raise SessionClosed("the request's session is closed")
        if self._conn is None:
            self._conn = await self._pool.acquire()
        return self._conn

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Runs one statement on the request's connection and returns its rows."""
        async with self._lock:
            conn = await self._connection()
            return await conn.fetch(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """The request's connection inside one transaction, for a write: committed when the
        block ends, rolled back when it raises. Nothing else runs on the connection meanwhile."""
        async with self._lock:
            conn = await self._connection()
            async with conn.transaction():
                yield conn

    async def close(self) -> None:
        """Gives the connection back to the pool, if one was taken."""
        async with self._lock:
            self._closed = True
            if self._conn is not None:
                conn, self._conn = self._conn, None
                await self._pool.release(conn)
