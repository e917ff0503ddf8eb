"""The pool's faults as pinql's exceptions, and connections that go back clean: after a
statement_timeout, a cancelled statement, a failed transaction, the next statement on the
same connection (pool of one) runs at once, outside any transaction, with nothing left
running on the server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from db.errors import DatabaseLoginRefused, DatabaseUnavailable, LockTimeout, StatementTimeout
from db.pool import Database, Session
from tests.conftest import MakeDatabase, new_database
from tests.throwaway import free_port

# The other backends of this database: pid and state (idle, active, idle in transaction...).
STATES = """
select pid, state, query from pg_stat_activity
where datname = current_database() and pid <> pg_backend_pid()
"""
SLEEP = "select pg_sleep(30)"


@pytest.fixture
async def url(make_database: MakeDatabase) -> str:
    """A fresh migrated database of this test's own."""
    return await new_database(make_database, with_world=False)


@pytest.fixture
async def database(url: str) -> AsyncIterator[Database]:
    """A pool of one connection (each test proves reuse), statement_timeout 200 ms."""
    database = await Database.connect(
        url, min_size=1, max_size=1, statement_timeout_ms=200, acquire_timeout=0.5
    )
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def patient(url: str) -> AsyncIterator[Database]:
    """A pool of one connection without statement_timeout: only pinql stops a statement."""
    database = await Database.connect(url, min_size=1, max_size=1)
    try:
        yield database
    finally:
        await database.close()


async def backend(database: Database) -> int:
    """The pid of the connection a new session gets."""
    session = database.session()
    try:
        [row] = await session.fetch("select pg_backend_pid() as pid")
        pid: int = row["pid"]
        return pid
    finally:
        await session.close()


async def states(url: str) -> dict[int, str]:
    """The state of each connection to the database, seen from a connection outside the pool."""
    conn = await asyncpg.connect(url)
    try:
        return {row["pid"]: row["state"] for row in await conn.fetch(STATES)}
    finally:
        await conn.close()


async def running(url: str) -> list[str]:
    """The statements running on the database, seen from a connection outside the pool."""
    conn = await asyncpg.connect(url)
    try:
        return [row["query"] for row in await conn.fetch(STATES) if row["state"] == "active"]
    finally:
        await conn.close()


async def until_running(url: str, statement: str) -> None:
    """Waits (up to 5 s) until `statement` runs on the server."""
    for _ in range(500):
        if await running(url) == [statement]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{statement!r} did not start")


async def assert_clean(url: str, database: Database, pid: int) -> None:
    """The pool's only connection is still `pid`, idle outside any transaction, and serves
    the next session at once."""
    started = time.monotonic()
    assert await backend(database) == pid
    assert time.monotonic() - started < 0.5
    assert await states(url) == {pid: "idle"}


async def test_statement_timeout_is_statement_timeout_and_the_connection_stays_usable(
    url: str, database: Database
) -> None:
    pid = await backend(database)
    session = database.session()
    try:
        with pytest.raises(StatementTimeout, match=r"statement_timeout \(200 ms\)"):
            await session.fetch("select pg_sleep(5)")
        assert await states(url) == {pid: "idle"}  # still the session's, outside a transaction
        assert [tuple(row) for row in await session.fetch("select 1")] == [(1,)]
    finally:
        await session.close()
    await assert_clean(url, database, pid)


async def test_a_statement_waiting_on_a_lock_gives_up_at_lock_timeout(url: str) -> None:
    database = await Database.connect(
        url, min_size=1, max_size=1, statement_timeout_ms=5000, lock_timeout_ms=100
    )
    holder = await asyncpg.connect(url)
    session = database.session()
    try:
        await holder.execute("create table if not exists locked (id int)")
        locking = holder.transaction()
        await locking.start()
        await holder.execute("lock table locked in access exclusive mode")
        started = time.monotonic()
        with pytest.raises(LockTimeout, match=r"longer than lock_timeout \(100 ms\) for a lock"):
            await session.fetch("select * from locked")
        assert time.monotonic() - started < 1.0  # not the statement timeout's 5 s
        await locking.rollback()
        await asyncio.sleep(0.15)  # past the bulkhead's refusal of it (lock_timeout long)
        assert await session.fetch("select * from locked") == []  # the same connection, usable
    finally:
        await session.close()
        await holder.close()
        await database.close()


async def test_statement_timeout_in_a_transaction_rolls_it_back(
    url: str, database: Database
) -> None:
    pid = await backend(database)
    session = database.session()
    try:
        with pytest.raises(StatementTimeout):
            async with session.transaction() as conn:
                await conn.execute("create table written (id int)")
                await conn.execute("select pg_sleep(5)")
        [row] = await session.fetch("select to_regclass('written') is null as rolled_back")
        assert row["rolled_back"]
    finally:
        await session.close()
    await assert_clean(url, database, pid)


async def test_a_failed_write_transaction_leaves_the_connection_clean(
    url: str, database: Database
) -> None:
    pid = await backend(database)
    session = database.session()
    try:
        with pytest.raises(asyncpg.UniqueViolationError):  # not a fault: raised as it is
            async with session.transaction() as conn:
                await conn.execute("create table once (id int primary key)")
                await conn.execute("insert into once values (1), (1)")
    finally:
        await session.close()
    await assert_clean(url, database, pid)
    session = database.session()
    try:
        [row] = await session.fetch("select to_regclass('once') is null as rolled_back")
        assert row["rolled_back"]
    finally:
        await session.close()


async def test_a_request_deadline_cancels_the_statement(url: str, patient: Database) -> None:
    pid = await backend(patient)
    session = patient.session()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):  # as the request deadline does
                await session.fetch(SLEEP)
    finally:
        await session.close()
    assert time.monotonic() - started < 1
    await assert_clean(url, patient, pid)


async def test_a_deadline_inside_a_transaction_rolls_it_back(url: str, patient: Database) -> None:
    pid = await backend(patient)
    session = patient.session()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1), session.transaction() as conn:
                await conn.execute("create table interrupted (id int)")
                await conn.execute(SLEEP)
    finally:
        await session.close()
    await assert_clean(url, patient, pid)
    session = patient.session()
    try:
        [row] = await session.fetch("select to_regclass('interrupted') is null as rolled_back")
        assert row["rolled_back"]
    finally:
        await session.close()


async def test_close_cancels_a_statement_still_running_in_another_task(
    url: str, patient: Database
) -> None:
    # A loader's batch outliving its cancelled request: close() must not wait for it.
    pid = await backend(patient)
    session = patient.session()
    loader = asyncio.create_task(session.fetch(SLEEP))
    await until_running(url, SLEEP)
    started = time.monotonic()
    await session.close()
    assert time.monotonic() - started < 1
    assert loader.cancelled()
    await assert_clean(url, patient, pid)


async def test_the_connection_goes_back_even_when_close_is_cancelled(
    url: str, patient: Database
) -> None:
    pid = await backend(patient)
    session = patient.session()
    loader = asyncio.create_task(session.fetch(SLEEP))
    await until_running(url, SLEEP)
    closing = asyncio.create_task(session.close())
    await asyncio.sleep(0)  # close() has started: the statement is being cancelled
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert loader.cancelled()
    await assert_clean(url, patient, pid)
    assert patient.pool.get_idle_size() == patient.pool.get_size() == 1


@pytest.mark.parametrize("in_transaction", [False, True], ids=["idle", "in-transaction"])
async def test_a_connection_nothing_else_uses_goes_back_even_when_close_is_cancelled(
    url: str, patient: Database, in_transaction: bool
) -> None:
    # close() gives it back at once, without a task of its own: asyncpg shields the release
    pid = await backend(patient)
    session = patient.session()
    await session.fetch("select 1")
    if in_transaction:  # left open: asyncpg rolls it back on the way (a round trip)
        await session._conn.execute("begin")  # type: ignore[union-attr]
    closing = asyncio.create_task(session.close())
    await asyncio.sleep(0)  # close() has started giving the connection back
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    await assert_clean(url, patient, pid)  # the next session gets it at once, idle
    assert patient.pool.get_idle_size() == patient.pool.get_size() == 1


async def test_no_free_connection_in_time_is_unavailable(url: str, database: Database) -> None:
    pid = await backend(database)
    holder = database.session()
    try:
        await holder.fetch("select 1")  # the only connection, held
        waiter = database.session()
        started = time.monotonic()
        with pytest.raises(
            DatabaseUnavailable, match=r"^no free database connection within 0.5 s \(pool of 1\)$"
        ):
            await waiter.fetch("select 1")
        assert 0.4 < time.monotonic() - started < 1.5
        await waiter.close()
    finally:
        await holder.close()
    await assert_clean(url, database, pid)


def with_password(url: str, password: str, *, port: int | None = None, path: str = "") -> str:
    """`url` with a password (and another port or database)."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{port or parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path=path or parts.path))


async def test_messages_name_neither_the_password_nor_the_url(url: str) -> None:
    secret = "hunter2-pinql-secret"
    down = with_password(url, secret, port=free_port())
    started = time.monotonic()
    database = await Database.connect(down, min_size=1, max_size=1)  # starts anyway
    try:
        session = database.session()
        with pytest.raises(DatabaseUnavailable) as refused:
            await session.fetch("select 1")
        await session.close()
    finally:
        await database.close()
    assert time.monotonic() - started < 1
    assert str(refused.value) == "PostgreSQL refused the connection (is it running?)"

    missing = with_password(url, secret, path="/pinql_no_such_database")
    with pytest.raises(DatabaseLoginRefused) as login:
        await Database.connect(missing, min_size=1)
    assert str(login.value) == (
        'PostgreSQL refused the login: database "pinql_no_such_database" does not exist'
    )
    for message in (str(refused.value), str(login.value)):
        assert secret not in message
        assert urlsplit(url).netloc not in message


async def test_a_closed_session_keeps_refusing(database: Database) -> None:
    session: Session = database.session()
    await session.close()
    await session.close()  # twice is fine
    assert database.pool.get_idle_size() == 1


async def test_callers_get_a_connection_in_the_order_they_asked(database: Database) -> None:
    """A caller giving its connection back and asking again at once (a worker under load)
    queues behind those already waiting: asyncpg's pool alone would hand it back to it."""
    order: list[str] = []
    greedy_conn = await database.acquire()  # the pool's only connection

    async def polite(name: str) -> None:
        conn = await database.acquire()
        order.append(name)
        await database.pool.release(conn)

    waiting = [asyncio.ensure_future(polite(name)) for name in ("a", "b", "c")]
    await asyncio.sleep(0.05)  # all three wait
    order.append("greedy")
    for _ in range(2):
        await database.pool.release(greedy_conn)
        greedy_conn = await database.acquire()
        order.append("greedy")
    await database.pool.release(greedy_conn)
    await asyncio.gather(*waiting)

    assert order == ["greedy", "a", "b", "c", "greedy", "greedy"]
