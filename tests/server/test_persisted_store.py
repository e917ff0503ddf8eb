"""The Redis document store (server/persisted/store.py) on its own: a client keeps at most
its quota of APQ documents, its oldest going first, and never evicts another client's.
Against the suite's Redis, logical database 6 (emptied first)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from execution.documents import sha256_hex
from server.persisted.store import RedisStore, StoredDocument
from tests.conftest import emptied_redis, redis_url

REDIS_DB = 6


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """This module's Redis database, emptied first."""
    async with emptied_redis(REDIS_DB) as connection:
        yield connection


def text(n: int) -> str:
    """A distinct query text."""
    return f"query Q{n} {{ viewer {{ id }} }}"


async def test_a_client_keeps_its_newest_apq_documents_up_to_its_quota(redis: Redis) -> None:
    store = RedisStore.from_url(redis_url(REDIS_DB), 3600, apq_per_client=3)
    await store.save_apq("other", sha256_hex(text(100)), text(100))
    for n in range(6):
        await store.save_apq("web", sha256_hex(text(n)), text(n))
    kept = [await store.lookup("web", sha256_hex(text(n))) for n in range(6)]
    assert kept[:3] == [None, None, None]
    assert kept[3:] == [StoredDocument(text(n), registered=False) for n in range(3, 6)]
    assert await redis.zcard("pq:{web}:apq") == 3
    assert 0 < await redis.ttl("pq:{web}:apq") <= 3600
    # another client's documents are its own quota's business
    found = await store.lookup("other", sha256_hex(text(100)))
    assert found == StoredDocument(text(100), registered=False)
    # saving the same text again makes it the newest, not a second entry
    await store.save_apq("web", sha256_hex(text(3)), text(3))
    await store.save_apq("web", sha256_hex(text(6)), text(6))
    assert await store.lookup("web", sha256_hex(text(3))) is not None
    assert await store.lookup("web", sha256_hex(text(4))) is None
    await store.close()
