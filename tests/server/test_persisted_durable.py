"""Registered documents live in PostgreSQL with Redis in front (server/persisted/durable.py):
a Redis flush, an empty restart or an outage costs a cache miss, never a refusal of a
safelisted client's operations; APQ documents stay in Redis only. Against the suite's Redis
(logical database 7) or a throwaway redis-server, and a fresh PostgreSQL database each."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from db.pool import Database
from execution.documents import sha256_hex
from server.app import connect_database
from server.persisted.durable import DurableStore
from server.persisted.store import (
    RedisStore,
    RegisteredDocument,
    StoredDocument,
    StoreUnavailable,
)
from server.settings import Settings
from tests.conftest import MakeDatabase, emptied_redis, new_database, redis_url
from tests.support import SECRET, serve, without_cost
from tests.throwaway import ThrowawayRedis
from tests.world import OLIVE, USERNAMES

REDIS_DB = 7
VIEWER = "query DurableViewer { viewer { username } }"
DOCUMENT = RegisteredDocument(sha256_hex(VIEWER), VIEWER, "DurableViewer", "query")
APQ = "query DurableApq { viewer { id } }"


@pytest.fixture
async def database_url(make_database: MakeDatabase) -> str:
    """A fresh migrated database with the world in it (registrations are written here)."""
    return await new_database(make_database, with_world=True)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A pool on it."""
    pool = await connect_database(database_url, Settings.model_validate({"PINQL_SECRET": SECRET}))
    yield pool
    await pool.close()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """The suite's Redis on this module's database, emptied first."""
    async with emptied_redis(REDIS_DB) as connection:
        yield connection


async def durable_store(database: Database, url: str) -> DurableStore:
    """The store the app builds with REDIS_URL = `url`."""
    return DurableStore(RedisStore.from_url(url, 3600), database)


async def test_registered_documents_survive_a_redis_flush(database: Database, redis: Redis) -> None:
    store = await durable_store(database, redis_url(REDIS_DB))
    await store.register("web", "1.0.0", [DOCUMENT])
    await redis.flushdb()
    assert await store.lookup("web", DOCUMENT.id) == StoredDocument(VIEWER, registered=True)
    assert await redis.get(f"pq:{{web}}:r:{DOCUMENT.id}") == VIEWER  # put back in front
    [registration] = await store.registrations("web")
    assert (registration.version, registration.documents) == ("1.0.0", (DOCUMENT,))
    assert await store.lookup("ios", DOCUMENT.id) is None  # registered per client
    await store.close()


async def test_apq_documents_stay_in_redis_only(database: Database, redis: Redis) -> None:
    store = await durable_store(database, redis_url(REDIS_DB))
    await store.save_apq("web", sha256_hex(APQ), APQ)
    assert await store.lookup("web", sha256_hex(APQ)) == StoredDocument(APQ, registered=False)
    await redis.flushdb()
    assert await store.lookup("web", sha256_hex(APQ)) is None
    assert await store.registrations() == []
    await store.close()


async def test_registered_documents_are_served_while_redis_is_down(
    database: Database, throwaway_redis: ThrowawayRedis
) -> None:
    store = await durable_store(database, throwaway_redis.url)
    await store.register("web", "1.0.0", [DOCUMENT])
    throwaway_redis.stop()
    assert await store.lookup("web", DOCUMENT.id) == StoredDocument(VIEWER, registered=True)
    with pytest.raises(StoreUnavailable):  # an APQ document: only Redis could say
        await store.lookup("web", sha256_hex(APQ))
    await store.close()


async def test_registering_while_redis_is_down_still_registers(
    database: Database, throwaway_redis: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    store = await durable_store(database, throwaway_redis.url)
    throwaway_redis.stop()
    await store.register("web", "1.0.0", [DOCUMENT])
    assert "Redis did not take them" in caplog.text
    throwaway_redis.start()
    assert await store.lookup("web", DOCUMENT.id) == StoredDocument(VIEWER, registered=True)
    await store.close()


async def test_a_safelisted_client_keeps_its_operations_when_redis_restarts_empty(
    database: Database, database_url: str, throwaway_redis: ThrowawayRedis
) -> None:
    store = await durable_store(database, throwaway_redis.url)
    await store.register("locked", "1.0.0", [DOCUMENT])
    await store.close()
    throwaway_redis.stop()
    throwaway_redis.start()  # empty: it keeps nothing on disk
    async with serve(
        database_url, REDIS_URL=throwaway_redis.url, clients={"locked": "safelist"}
    ) as client:  # a new worker: nothing cached
        headers = {**client.headers(OLIVE), **client.client("locked")}
        response = await client.http.post(
            "/graphql", json={"documentId": DOCUMENT.id}, headers=headers
        )
    assert response.status_code == 200, response.text
    assert without_cost(response.json()) == {"data": {"viewer": {"username": USERNAMES[OLIVE]}}}
