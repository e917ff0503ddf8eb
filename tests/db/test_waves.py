"""One round trip per wave (db/waves.py): statements sent together (by `Wave`, in one
event-loop turn) go as one statement with the same rows each would get alone; failures and
cancellation reach them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from db.errors import StatementTimeout
from db.pool import Database, Session
from db.waves import Wave, combined_sql
from tests.conftest import MakeDatabase, new_database

# (statement, its arguments): parameters of several types, a viewer-like $1, ordered rows.
STATEMENTS = [
    ("select g as n, $1::text || g as label from generate_series(1, $2::int) g order by g desc",
     ("row ", 3)),
    ("select $1::bigint as viewer, k, now() as at from unnest($2::bigint[]) as k", (7, [5, 6])),
    ("select k.id, k.id * 10 as n from unnest($1::bigint[]) as k(id) where false", ([1],)),
    ("select $1::text as lone", ("lone",)),
]  # fmt: skip


@pytest.fixture
async def database(make_database: MakeDatabase) -> AsyncIterator[Database]:
    """A pool of one connection on a fresh database; statement_timeout 300 ms."""
    url = await new_database(make_database, with_world=False)
    database = await Database.connect(url, min_size=1, max_size=1, statement_timeout_ms=300)
    try:
        yield database
    finally:
        await database.close()


def _plain(rows: object) -> list[tuple[object, ...]]:
    """Rows as tuples, with timestamps blanked (now() differs between statements)."""
    assert isinstance(rows, list | tuple)
    return [tuple("at" if isinstance(v, datetime) else v for v in row) for row in rows]


async def _each_alone(session: Session) -> list[list[tuple[object, ...]]]:
    return [_plain(await session.fetch(sql, *args)) for sql, args in STATEMENTS]


async def test_statements_of_one_turn_are_one_round_trip_with_each_ones_rows(
    database: Database,
) -> None:
    session = database.session()
    wave = Wave(session.fetch)
    try:
        alone = await _each_alone(session)
        sent = session.statements

        together = await asyncio.gather(*(wave.fetch(sql, *args) for sql, args in STATEMENTS))

        assert session.statements == sent + 1
        assert [_plain(rows) for rows in together] == alone
        assert alone[0] == [(3, "row 3"), (2, "row 2"), (1, "row 1")]  # order kept
        assert alone[2] == []
    finally:
        await session.close()


async def test_a_statement_alone_in_its_turn_is_sent_as_it_is(database: Database) -> None:
    texts: list[str] = []
    session = database.session(lambda sql, _seconds, _error: texts.append(sql))
    wave = Wave(session.fetch)
    try:
        rows = await wave.fetch("select $1::int + 1 as n", 41)
        later = await wave.fetch("select 2 as m")  # the next turn: a wave of its own
    finally:
        await session.close()

    assert texts == ["select $1::int + 1 as n", "select 2 as m"]
    assert rows[0][0] == 42 and later[0][0] == 2


def test_parameters_are_renumbered_after_the_previous_statements() -> None:
    sql = combined_sql((("select $1, $2, $12", 12), ("select $1::int, $2", 2), ("select $1", 1)))

    assert sql == (
        "select array(select s from (select $1, $2, $12) as s), "
        "array(select s from (select $13::int, $14) as s), "
        "array(select s from (select $15) as s)"
    )


async def test_a_failing_wave_fails_every_statement_in_it(database: Database) -> None:
    session = database.session()
    wave = Wave(session.fetch)
    try:
        results = await asyncio.gather(
            wave.fetch("select 1"),
            wave.fetch("select pg_sleep(2)"),
            wave.fetch("select 3"),
            return_exceptions=True,
        )
        assert all(isinstance(r, StatementTimeout) for r in results), results
        assert (await wave.fetch("select 4"))[0][0] == 4  # the session goes on
    finally:
        await session.close()


async def test_cancelling_the_statement_that_sends_a_wave_cancels_the_others(
    database: Database,
) -> None:
    session = database.session()
    wave = Wave(session.fetch)
    try:
        sender = asyncio.ensure_future(wave.fetch("select pg_sleep(0.2)"))
        joined = asyncio.ensure_future(wave.fetch("select 2"))
        await asyncio.sleep(0.05)  # both have been sent, as one statement

        sender.cancel()

        with pytest.raises(asyncio.CancelledError):
            await joined
        assert (await wave.fetch("select 5"))[0][0] == 5
    finally:
        await session.close()
