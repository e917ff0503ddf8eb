"""The pool through a PostgreSQL outage, against a throwaway PostgreSQL of this test's own:
while it is down every statement fails fast with DatabaseUnavailable, on pooled connections
and new ones alike; once it is back the same pool serves again, without leaking connections."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from db.errors import DatabaseUnavailable
from db.pool import Database
from db.pool_log import ASYNCPG_POOL, FLOOR_RETRIES
from tests.throwaway import ThrowawayPostgres

FAST = 1.0  # seconds a statement may take to fail while PostgreSQL is down


@pytest.fixture
async def database(throwaway_pg: ThrowawayPostgres) -> AsyncIterator[Database]:
    """A pool of 2 to 4 connections on the throwaway server."""
    database = await Database.connect(throwaway_pg.url, min_size=2, max_size=4, acquire_timeout=2)
    try:
        yield database
    finally:
        await database.close()


async def select_one(database: Database) -> int:
    """`select 1` in a session of its own."""
    session = database.session()
    try:
        [row] = await session.fetch("select 1 as one")
        one: int = row["one"]
        return one
    finally:
        await session.close()


async def fails_fast(database: Database) -> str:
    """The DatabaseUnavailable message of `select 1`, asserting it came within FAST."""
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught:
        await select_one(database)
    assert time.monotonic() - started < FAST
    return str(caught.value)


async def serves_again(database: Database, within: float = 5.0) -> float:
    """Seconds until `select 1` works again, failing past `within`."""
    started = time.monotonic()
    while True:
        try:
            assert await select_one(database) == 1
            return time.monotonic() - started
        except DatabaseUnavailable:
            assert time.monotonic() - started < within, "the pool did not recover"
            await asyncio.sleep(0.05)


def assert_no_leak(database: Database) -> None:
    """No session holds a connection: every open connection is idle, within max_size."""
    pool = database.pool
    assert pool.get_idle_size() == pool.get_size() <= pool.get_max_size()


async def test_down_fails_fast_and_the_same_pool_recovers(
    throwaway_pg: ThrowawayPostgres, database: Database
) -> None:
    sessions = [database.session() for _ in range(3)]
    for session in sessions:  # three pooled connections, in use
        await session.fetch("select 1")
    for session in sessions[1:]:
        await session.close()

    await asyncio.to_thread(throwaway_pg.stop)
    # The connection the first session holds, closed by the server's shutdown.
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="PostgreSQL"):
        await sessions[0].fetch("select 1")
    assert time.monotonic() - started < FAST
    await sessions[0].close()
    # Pooled connections (closed by the shutdown) and new ones: refused, fast.
    messages = {await fails_fast(database) for _ in range(10)}
    assert "PostgreSQL refused the connection (is it running?)" in messages
    assert_no_leak(database)

    await asyncio.to_thread(throwaway_pg.start)
    await serves_again(database)
    # The same pool, refilled: concurrent sessions get connections, none is lost.
    assert await asyncio.gather(*(select_one(database) for _ in range(8))) == [1] * 8
    assert_no_leak(database)
    assert database.pool.get_size() >= 2


async def test_a_statement_running_when_postgres_stops(
    throwaway_pg: ThrowawayPostgres, database: Database
) -> None:
    session = database.session()
    running = asyncio.create_task(session.fetch("select pg_sleep(30)"))
    await asyncio.sleep(0.2)
    await asyncio.to_thread(throwaway_pg.stop)  # fast shutdown ends the statement
    started = time.monotonic()
    # The read is sent once more on another connection (Session.fetch), which PostgreSQL,
    # shutting down, refuses or breaks: every such failure says the database went away.
    lost = (
        r"^((PostgreSQL closed|lost) the connection|PostgreSQL (is not accepting|refused)"
        r"|the connection to PostgreSQL (broke|failed: connection reset by peer))"
    )
    with pytest.raises(DatabaseUnavailable, match=lost):
        await running
    assert time.monotonic() - started < FAST
    await session.close()
    assert_no_leak(database)
    await asyncio.to_thread(throwaway_pg.start)
    await serves_again(database)
    assert_no_leak(database)


async def test_a_transaction_open_when_postgres_stops(
    throwaway_pg: ThrowawayPostgres, database: Database
) -> None:
    session = database.session()
    with pytest.raises(DatabaseUnavailable):
        async with session.transaction() as conn:
            await conn.execute("create table lost (id int)")
            await asyncio.to_thread(throwaway_pg.stop)
            await conn.execute("insert into lost values (1)")
    await session.close()
    assert_no_leak(database)
    await asyncio.to_thread(throwaway_pg.start)
    await serves_again(database)
    session = database.session()
    try:
        [row] = await session.fetch("select to_regclass('lost') is null as rolled_back")
        assert row["rolled_back"]
    finally:
        await session.close()


async def test_starts_while_postgres_is_down_and_serves_once_it_is_up(
    throwaway_pg: ThrowawayPostgres,
) -> None:
    await asyncio.to_thread(throwaway_pg.stop)
    started = time.monotonic()
    database = await Database.connect(throwaway_pg.url, min_size=2, max_size=4)
    try:
        assert time.monotonic() - started < FAST
        assert await fails_fast(database) == "PostgreSQL refused the connection (is it running?)"
        await asyncio.to_thread(throwaway_pg.start)
        await serves_again(database, within=1.0)  # no backoff: the next statement connects
        assert_no_leak(database)
    finally:
        await database.close()


async def test_an_outage_logs_one_line_about_the_floor_not_a_traceback_a_try(
    throwaway_pg: ThrowawayPostgres, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """While PostgreSQL is down, asyncpg tries to reopen the pool's idle connections 1, 2,
    4 ... s apart and logs each failure with a traceback: db/pool_log.py keeps one line a
    minute, with the reason."""
    FLOOR_RETRIES.last, FLOOR_RETRIES.dropped = None, 0  # (another test's outage logged)
    caplog.set_level(logging.WARNING, logger=ASYNCPG_POOL)
    await asyncio.to_thread(throwaway_pg.stop)
    await fails_fast(database)  # the pool finds its connections gone: below its floor
    await asyncio.sleep(3.5)  # tries at about 0, 1 and 3 s
    await asyncio.to_thread(throwaway_pg.start)
    await serves_again(database)
    [line] = [r for r in caplog.records if r.name == ASYNCPG_POOL]
    message = line.getMessage()  # (refused, or shutting down: as the first try found it)
    assert message.startswith("could not reopen the pool's idle connections (PostgreSQL ")
    assert message.endswith("); retrying")
    assert line.exc_info is None
    assert FLOOR_RETRIES.dropped >= 1
