"""Fixtures shared by the schema tests on the demo data set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.schema.demo import LOOKUP_SQL, Picks, Subjects, pick_subjects
from tests.support import GraphQLClient, serve


@pytest.fixture(scope="session")
async def subjects(demo_database: str) -> Subjects:
    """The demo rows the schema tests' requests are about."""
    return await pick_subjects(demo_database)


@pytest.fixture(scope="module")
async def db(demo_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the demo database, for reference answers."""
    conn = await asyncpg.connect(demo_database)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def picks(demo_database: str, subjects: Subjects) -> Picks:
    """The subjects, and the rows NodeLookup fetches."""
    conn = await asyncpg.connect(demo_database)
    try:
        lookup = {name: [r[0] for r in await conn.fetch(sql)] for name, sql in LOOKUP_SQL.items()}
    finally:
        await conn.close()
    assert all(len(ids) == 10 for ids in lookup.values()), lookup
    return Picks(subjects, lookup)


@pytest.fixture(scope="module")
async def normal_path_client(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """A client of pinql serving the demo data set with the engine off."""
    async with serve(demo_database, fast_path=False) as client:
        yield client


# For modules that write: each defines its own module-scoped `database` (tests/conftest.py's
# new_database), and gets this client, and tests/conftest.py's `sql`, on it.


@pytest.fixture(scope="module")
async def client(database: str) -> AsyncIterator[GraphQLClient]:
    """pinql serving the module's own `database`."""
    async with serve(database) as client:
        yield client
