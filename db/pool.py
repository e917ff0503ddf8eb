"""The asyncpg pool (one per process) and a request's Session: one connection, taken lazily.

Faults reach callers as pinql's exceptions (db/errors.py): any way a connection can fail is
`DatabaseUnavailable`, a statement cancelled by statement_timeout is `StatementTimeout` (by
lock_timeout, `LockTimeout`). A connection that failed is terminated, never reused: the pool
opens a new one in its place when PostgreSQL answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any

import asyncpg
from asyncpg import exceptions as pg
from asyncpg.connection import LoggedQuery
from asyncpg.transaction import Transaction

from db.bulkhead import Bulkhead, Outcome
from db.errors import (
    CommitUnconfirmed,
    DatabaseUnavailable,
    StatementTimeout,
    connection_fault,
    named_limit,
    statement_fault,
)
from db.pool_setup import (
    SESSION_SETTINGS,
    ConnectionInit,
    gone,
    open_pool,
)
from db.pool_setup import (
    connect as open_connection,
)

log = logging.getLogger("pinql.db")

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
"""A connection of the pool, or a plain one (scripts and tests)."""


StatementHook = Callable[[str, float, BaseException | None], None]
"""Called after each statement of a Session with its text, its duration in seconds and the
exception it raised, if any (server/tracing.py makes a span of it). Never its parameters."""


class Database:
    """The process's connection pool, created once in the app's lifespan."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        open_alone: Callable[[], Awaitable[asyncpg.Connection]],
        settings: Mapping[str, str] = SESSION_SETTINGS,
        acquire_timeout: float = 5.0,
        on_bulkhead: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.pool = pool
        self.open_alone = open_alone
        """Opens a connection outside the pool, as the pool opens its own (db/health.py)."""
        self.settings = settings
        """The settings its connections run with (their timeouts name the limit passed)."""
        self.acquire_timeout = acquire_timeout
        self._releases: set[asyncio.Task[None]] = set()
        self._turn = asyncio.Lock()
        lock_timeout_ms = int(settings.get("lock_timeout", "0"))
        self.bulkhead = Bulkhead(
            share=max(1, pool.get_max_size() // 2),
            cooldown=lock_timeout_ms / 1000 if lock_timeout_ms > 0 else 1.0,
            limit=named_limit("lock_timeout", settings),
            report=on_bulkhead,
        )
        """Reads of one statement take at most half the pool, and are refused for a
        lock_timeout after one of them gave up waiting for a lock (db/bulkhead.py)."""

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        init: ConnectionInit | None = None,
        statement_timeout_ms: int | None = None,
        lock_timeout_ms: int | None = None,
        connect_timeout: float = 2.0,
        acquire_timeout: float = 5.0,
        on_bulkhead: Callable[[Outcome], None] | None = None,
    ) -> Database:
        """Opens the pool (db/pool_setup.open_pool: without PostgreSQL it opens empty and
        serves once PostgreSQL answers; a refused login raises), its connections run with
        the given timeouts."""
        server_settings = dict(SESSION_SETTINGS)
        for name, ms in (
            ("statement_timeout", statement_timeout_ms),
            ("lock_timeout", lock_timeout_ms),
        ):
            if ms is not None:
                server_settings[name] = str(ms)
        pool = await open_pool(
            dsn, min_size, max_size, init, server_settings, connect_timeout=connect_timeout
        )
        alone = partial(
            open_connection, dsn, timeout=connect_timeout, server_settings=server_settings
        )
        return cls(
            pool,
            settings=server_settings,
            acquire_timeout=acquire_timeout,
            open_alone=alone,
            on_bulkhead=on_bulkhead,
        )

    def session(self, on_statement: StatementHook | None = None) -> Session:
        """A new request-scoped session; close it when the request ends."""
        return Session(self, on_statement)

    async def acquire(self) -> asyncpg.pool.PoolConnectionProxy:
        """A pool connection, within `acquire_timeout`; else DatabaseUnavailable.

        Callers are served in arrival order: they queue on `_turn` (a FIFO lock), so only
        one of them waits on the pool at a time. (asyncpg's own queue lets a newcomer take a
        connection just given back ahead of a caller woken for it.)"""
        try:
            async with asyncio.timeout(self.acquire_timeout), self._turn:
                return await self.pool.acquire()
        except TimeoutError:
            raise DatabaseUnavailable(
                f"no free database connection within {self.acquire_timeout:g} s "
                f"(pool of {self.pool.get_max_size()})"
            ) from None
        except Exception as exc:
            if self.pool.is_closing():
                raise DatabaseUnavailable("the connection pool is closed (shutting down)") from exc
            fault = connection_fault(exc)  # e.g. the warm-up statement of a new connection
            if fault is None or fault is exc:
                raise
            raise fault from exc

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """A pool connection (`acquire`) for the block, given back after it."""
        conn = await self.acquire()
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    def fault(self, exc: Exception) -> DatabaseUnavailable | StatementTimeout | None:
        """What `exc`, raised by a statement, means as pinql's exception; None: raise it as is."""
        return statement_fault(exc, self.settings)

    async def give_back(self, release: Coroutine[Any, Any, None]) -> None:
        """Runs `release` to its end even if the awaiting task is cancelled meanwhile."""
        task = asyncio.ensure_future(release)
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)
        await asyncio.shield(task)

    async def close(self) -> None:
        """Closes every connection of the pool."""
        await self.pool.close()


class _Lost(Exception):
    """A read's connection was lost under it (and dropped): send the read again."""


class SessionClosed(RuntimeError):
    """A statement was sent after its request's session was closed (a bug upstream)."""


class Session:
    """One request's database access: a single pooled connection, statements one at a time.

    The connection is acquired at the first statement and released by `close()`, so a
    request that runs no SQL takes no connection, and a request's statements never pay the
    pool's acquire/release cost more than once.

    Every statement counts in `statements` and `sql_seconds` and is reported to
    `on_statement`: `fetch` times its own; in a `transaction()` block asyncpg's query logger
    reports each (BEGIN and COMMIT included) on the event loop's next turn, so read them once
    the request is answered.
    """

    def __init__(self, database: Database, on_statement: StatementHook | None = None) -> None:
        self._database = database
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self.commits = 0
        """Transactions committed so far: a request stopped at its deadline after one has
        written something."""
        self.unconfirmed = 0
        """Transactions whose COMMIT was sent and never confirmed (CommitUnconfirmed)."""
        self._user: asyncio.Task[Any] | None = None
        """The task running a statement (or a transaction) on the connection right now."""
        self.statements = 0
        """Statements sent so far."""
        self.sql_seconds = 0.0
        """Their time, from sending each to its last row received."""
        self._on_statement = on_statement

    def _ran(self, sql: str, seconds: float, exception: BaseException | None) -> None:
        """Counts one statement."""
        self.statements += 1
        self.sql_seconds += seconds
        if self._on_statement is not None:
            self._on_statement(sql, seconds, exception)

    def _logged(self, query: LoggedQuery) -> None:
        """asyncpg's query logger callback, in transactions."""
        self._ran(query.query, query.elapsed, query.exception)

    async def _connection(self) -> asyncpg.pool.PoolConnectionProxy:
        """The request's connection, acquired on first use; never after `close()` (it would
        never be given back)."""
        if self._closed:
            raise SessionClosed("the request's session is closed")
        if self._conn is not None and gone(self._conn):
            self._conn = None  # closed by the server since the last statement: take another
        if self._conn is None:
            self._conn = await self._database.acquire()
        return self._conn

    @asynccontextmanager
    async def _using(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """The connection, for the current task alone until the block ends; a fault raised
        in the block comes out as pinql's exception, and a broken connection is dropped."""
        async with self._lock:
            conn = await self._connection()
            self._user = asyncio.current_task()
            try:
                yield conn
            except CommitUnconfirmed:
                raise  # already pinql's (its cause, the lost connection, was dropped)
            except Exception as exc:
                fault = self._fault(conn, exc)
                if fault is exc:
                    raise
                raise fault from exc
            finally:
                self._user = None

    def _fault(self, conn: asyncpg.pool.PoolConnectionProxy, exc: Exception) -> Exception:
        """What a statement's failure comes out as: pinql's exception for a database fault
        (a broken connection is dropped), else `exc` itself."""
        fault = self._database.fault(exc)
        if fault is None and isinstance(exc, pg.InterfaceError) and gone(conn):
            fault = DatabaseUnavailable("lost the connection to PostgreSQL: it is closed")
        if fault is None:
            return exc
        if isinstance(fault, DatabaseUnavailable):
            self._discard(conn)
        return fault

    def _discard(self, conn: asyncpg.pool.PoolConnectionProxy) -> None:
        """Terminates a connection that failed: the pool opens a new one in its place."""
        self._conn = None
        with suppress(pg.InterfaceError):  # asyncpg already terminated and released it
            conn.terminate()

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Runs one read on the request's connection and returns its rows; a connection lost
        under it is replaced and the read sent once more (reads are safe to repeat, and a
        write just committed gets its payload read). The statement passes the pool's
        bulkhead (db/bulkhead.py) first: it may be refused at once (LockTimeout) or wait for
        a slot. `_using`'s work written out: every round trip comes through here, and a
        context manager costs two more awaits."""
        bulkhead = self._database.bulkhead
        async with self._lock:
            self._user = asyncio.current_task()
            try:
                bulkhead.refuse_if_open(sql)
                if self._conn is not None and bulkhead.full(sql):
                    await self._give_back()  # a caller waiting for a slot holds no connection
                await bulkhead.enter(sql)
                fault: BaseException | None = None
                try:
                    try:
                        return await self._fetch_once(sql, args)
                    except _Lost:
                        return await self._fetch_once(sql, args, again=True)
                except BaseException as exc:
                    fault = exc
                    raise
                finally:
                    bulkhead.leave(sql, fault)
            finally:
                self._user = None

    async def _fetch_once(
        self, sql: str, args: tuple[Any, ...], again: bool = False
    ) -> list[asyncpg.Record]:
        conn = await self._connection()
        started = time.perf_counter()
        try:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        except BaseException as exc:
            self._ran(sql, time.perf_counter() - started, exc)
            if isinstance(exc, Exception):
                fault = self._fault(conn, exc)
                if isinstance(fault, DatabaseUnavailable) and not again:
                    raise _Lost from exc
                if fault is not exc:
                    raise fault from exc
            raise
        self._ran(sql, time.perf_counter() - started, None)
        return rows

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """The request's connection inside one transaction, for a write: committed when the
        block ends, rolled back when it raises. Nothing else runs on the connection meanwhile.
        A COMMIT whose answer is lost with the connection raises CommitUnconfirmed (counted
        in `unconfirmed`): the write may have happened."""
        async with self._using() as conn:
            # One bound method, added and removed (asyncpg finds it by equality); never kept
            # on `self`, where it would make the session a reference cycle.
            logger = self._logged
            conn.add_query_logger(logger)
            try:
                transaction = conn.transaction()
                await transaction.start()
                try:
                    yield conn
                except BaseException:
                    with suppress(Exception):  # (a lost connection's transaction is gone)
                        await transaction.rollback()
                    raise
                await self._commit(conn, transaction)
            finally:
                with suppress(pg.InterfaceError):  # the connection is gone
                    conn.remove_query_logger(logger)

    async def _commit(
        self, conn: asyncpg.pool.PoolConnectionProxy, transaction: Transaction
    ) -> None:
        try:
            await transaction.commit()
        except Exception as exc:
            if not isinstance(self._fault(conn, exc), DatabaseUnavailable):
                raise  # PostgreSQL answered (a serialization failure...): nothing committed
            self.unconfirmed += 1
            raise CommitUnconfirmed(
                "the write was sent, but the connection to PostgreSQL was lost before it "
                "confirmed the commit: it may or may not have happened"
            ) from exc
        self.commits += 1

    @property
    def may_have_written(self) -> bool:
        """Whether a transaction committed, or may have (its COMMIT unconfirmed)."""
        return self.commits > 0 or self.unconfirmed > 0

    async def close(self) -> None:
        """Gives the connection back to the pool, if one was taken, and refuses statements
        from now on. A statement still running in another task (a loader's, after the request
        was cancelled) is cancelled: nobody will read its rows. The connection goes back even
        if the task calling close() is cancelled meanwhile."""
        self._closed = True
        user = self._user
        if user is not None and user is not asyncio.current_task():
            user.cancel()
        if not self._lock.locked():
            # Nothing else uses the connection (the usual case): it goes back at once.
            # asyncpg's Pool.release shields the release itself from a cancellation.
            await self._give_back()
            return
        await self._database.give_back(self._release())

    async def _release(self) -> None:
        async with self._lock:
            await self._give_back()

    async def _give_back(self) -> None:
        """Gives the connection back (if one was taken): the caller holds the lock, or
        nothing else could take it."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # asyncpg waits for a cancelled statement's end and rolls back an open
            # transaction before the connection goes back to the pool; when that fails,
            # it terminates the connection (the pool opens a new one) and raises.
            try:
                await self._database.pool.release(conn)
            except Exception as exc:
                log.warning("dropped a connection that failed on its way back: %r", exc)
