"""db/health.py: the readiness check's connection of its own, against a throwaway PostgreSQL:
kept between checks, opened again when it was closed since the last check (a restart is not
an outage), and DatabaseUnavailable while PostgreSQL is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from db.errors import DatabaseUnavailable
from db.health import HealthConnection
from db.pool import Database
from tests.throwaway import ThrowawayPostgres

BACKENDS = "select count(*) from pg_stat_activity where backend_type = 'client backend'"


@pytest.fixture
async def database(throwaway_pg: ThrowawayPostgres) -> AsyncIterator[Database]:
    database = await Database.connect(throwaway_pg.url, min_size=1, max_size=1)
    try:
        yield database
    finally:
        await database.close()


async def test_the_check_keeps_one_connection_and_survives_a_restart(
    throwaway_pg: ThrowawayPostgres, database: Database
) -> None:
    health = HealthConnection.of(database)
    try:
        session = database.session()
        before = (await session.fetch(BACKENDS))[0][0]
        await session.close()
        for _ in range(3):
            await health.select_one()
        session = database.session()
        assert (await session.fetch(BACKENDS))[0][0] == before + 1  # one, kept
        await session.close()

        await asyncio.to_thread(throwaway_pg.stop)
        with pytest.raises(DatabaseUnavailable, match="refused"):
            await health.select_one()
        await asyncio.to_thread(throwaway_pg.start)
        await health.select_one()  # a new connection

        await asyncio.to_thread(throwaway_pg.stop)
        await asyncio.to_thread(throwaway_pg.start)
        await health.select_one()  # the kept one was closed meanwhile: opened again
    finally:
        await health.close()
