"""A connection of its own, outside the pool, for what the server asks PostgreSQL on its own
behalf: readiness checks, and small background reads (the registered clients).

Readiness measures PostgreSQL, not the pool's queue: when a lock or a burst keeps every pool
connection at work, a check through the pool waits behind the requests and would call a
PostgreSQL that answers "unreachable"; on a connection nobody else uses, `select 1` answers
as soon as PostgreSQL does. Background reads here neither wait behind requests nor take a
connection from them. The connection is opened on first use, kept between uses, and
replaced after any failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from db.errors import connection_fault
from db.pool import Database

T = TypeVar("T")


class HealthConnection:
    """One connection, opened like the pool's (`open`), for one check at a time."""

    def __init__(self, open: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        self._open = open
        self._conn: asyncpg.Connection | None = None
        self._turn = asyncio.Lock()

    @classmethod
    def of(cls, database: Database) -> HealthConnection:
        """The checks of `database`: their connection opened as its pool opens its own."""
        return cls(database.open_alone)

    async def select_one(self) -> None:
        """Runs `select 1`; DatabaseUnavailable when PostgreSQL does not answer (`run`)."""
        await self.run(_select_one)

    async def run(self, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`action` on the connection (opening it if needed: the first time, or when the
        kept one was closed); DatabaseUnavailable when PostgreSQL does not answer. After any
        failure or cancellation (the caller's timeout) the connection is dropped, to be
        opened again by the next use."""
        async with self._turn:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._open()
                return await action(self._conn)
            except BaseException as exc:
                self._drop()
                fault = connection_fault(exc)
                if fault is not None and fault is not exc:
                    raise fault from exc
                raise

    async def close(self) -> None:
        """Closes the connection (the app's lifespan ends)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close(timeout=1)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


async def _select_one(conn: asyncpg.Connection) -> None:
    await conn.fetchval("select 1")
