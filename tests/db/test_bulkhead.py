"""The pool's bulkhead against a really locked table: a statement's waiters hold at most half
the pool, an unrelated statement runs meanwhile, a lock timeout refuses the statement's
next callers without sending it, one probe at a time tries again, and its success closes
the breaker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.bulkhead import Bulkhead, Outcome
from db.errors import LockTimeout
from db.pool import Database
from tests.conftest import MakeDatabase, new_database
from tests.support import pins_locked

LOCK_TIMEOUT_MS = 300
PINS = "select count(*) from pins where id > $1"
USERS = "select count(*) from users where id > $1"
# Backends of this database waiting for a lock.
WAITING_ON_LOCKS = """
select count(*) from pg_stat_activity
where datname = current_database() and wait_event_type = 'Lock'
"""


@pytest.fixture
async def url(make_database: MakeDatabase) -> str:
    """A fresh migrated database of this test's own."""
    return await new_database(make_database, with_world=False)


@pytest.fixture
async def outcomes() -> list[Outcome]:
    """What the bulkhead reported, in order."""
    return []


@pytest.fixture
async def database(url: str, outcomes: list[Outcome]) -> AsyncIterator[Database]:
    """A pool of 4 (each statement gets 2 slots), lock_timeout 300 ms."""
    database = await Database.connect(
        url, min_size=4, max_size=4, lock_timeout_ms=LOCK_TIMEOUT_MS, on_bulkhead=outcomes.append
    )
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def locker(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding pins in ACCESS EXCLUSIVE mode until the test ends (or rolls
    it back)."""
    async with pins_locked(url) as conn:
        yield conn


async def _fetch(database: Database, sql: str) -> tuple[int, BaseException | None]:
    """Runs `sql` on a session of its own: the statements it sent, and what it raised."""
    session = database.session()
    try:
        await session.fetch(sql, 0)
        return session.statements, None
    except LockTimeout as exc:
        return session.statements, exc
    finally:
        await session.close()


async def test_waiters_on_a_locked_table_hold_half_the_pool_and_are_refused_after_one_timeout(
    database: Database, locker: asyncpg.Connection, outcomes: list[Outcome]
) -> None:
    started = time.monotonic()
    readers = [asyncio.create_task(_fetch(database, PINS)) for _ in range(8)]
    await asyncio.sleep(0.1)
    assert await locker.fetchval(WAITING_ON_LOCKS) == 2  # the statement's 2 slots, no more
    unrelated_started = time.monotonic()
    assert await _fetch(database, USERS) == (1, None)  # a free connection, at once
    assert time.monotonic() - unrelated_started < 0.2
    results = await asyncio.gather(*readers)
    elapsed = time.monotonic() - started
    assert all(isinstance(error, LockTimeout) for _, error in results)
    # Two were sent and waited out lock_timeout; the six queued for a slot were refused
    # without being sent, naming the limit they are refused for.
    assert sorted(sent for sent, _ in results) == [0] * 6 + [1] * 2
    refused = [str(error) for sent, error in results if sent == 0]
    assert all("not sent" in message and "300 ms" in message for message in refused)
    assert elapsed < 2 * LOCK_TIMEOUT_MS / 1000  # not 4 turns of lock_timeout
    assert outcomes.count("queued") == 6
    assert outcomes.count("tripped") == 1
    assert outcomes.count("refused") == 6


async def test_after_the_cooldown_one_probe_goes_and_its_success_closes_the_breaker(
    database: Database, locker: asyncpg.Connection, outcomes: list[Outcome]
) -> None:
    assert isinstance((await _fetch(database, PINS))[1], LockTimeout)  # trips the breaker
    sent, error = await _fetch(database, PINS)  # refused at once, not sent
    assert (sent, type(error)) == (0, LockTimeout)
    await asyncio.sleep(LOCK_TIMEOUT_MS / 1000)  # the cooldown passes, pins still locked
    probe = asyncio.create_task(_fetch(database, PINS))
    await asyncio.sleep(0.05)
    sent, error = await _fetch(database, PINS)  # while the probe waits: refused
    assert (sent, type(error)) == (0, LockTimeout)
    assert (await probe)[0] == 1  # the probe was sent, and timed out: open again
    await locker.execute("rollback")  # pins free
    await asyncio.sleep(LOCK_TIMEOUT_MS / 1000)
    assert await _fetch(database, PINS) == (1, None)  # the next probe succeeds...
    assert await _fetch(database, PINS) == (1, None)  # ...and the breaker is closed
    assert outcomes.count("tripped") == 1
    assert outcomes[-1] == "recovered"


async def test_a_caller_holding_a_connection_gives_it_back_to_wait_for_a_slot(
    database: Database, locker: asyncpg.Connection
) -> None:
    """A request that already ran a statement and now reads the locked table must not wait
    for a slot on its connection: the pool keeps 2 connections for others."""
    holders = [database.session() for _ in range(4)]
    try:
        for session in holders:  # each takes a connection with an unrelated statement
            await session.fetch(USERS, 0)
        readers = [asyncio.create_task(s.fetch(PINS, 0)) for s in holders]
        await asyncio.sleep(0.1)
        assert await locker.fetchval(WAITING_ON_LOCKS) == 2
        assert await _fetch(database, USERS) == (1, None)  # a connection came free
        results = await asyncio.gather(*readers, return_exceptions=True)
        assert all(isinstance(result, LockTimeout) for result in results)
    finally:
        for session in holders:
            await session.close()


def test_a_bulkhead_refuses_a_share_below_one() -> None:
    with pytest.raises(ValueError, match="share must be >= 1"):
        Bulkhead(0, 1.0, limit="lock_timeout (1 ms)")
