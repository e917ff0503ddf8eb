"""Persisted queries while Redis is down and after it returns, against a throwaway
redis-server on a spare port that this test starts and stops (never the suite's Redis).

Down: documents in the worker's cache are still served, misses answer
PERSISTED_QUERY_NOT_FOUND quickly, a query sent with its hash still runs; nothing is a 5xx.
Back: new documents are stored in Redis again, without restarting pinql.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from execution.documents import sha256_hex
from server.redis_link import RETRY_AFTER_SECONDS
from tests.support import serve, without_cost
from tests.throwaway import ThrowawayRedis
from tests.world import OLIVE, USERNAMES

HOT = "query Hot { viewer { username } }"
COLD = "query Cold { viewer { id } }"
LATE = "query Late { viewer { displayName } }"


def apq_body(query: str, *, with_text: bool) -> dict[str, object]:
    """An APQ request body, with or without the query text."""
    body: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    }
    if with_text:
        body["query"] = query
    return body


async def test_redis_down_degrades_and_recovers(
    world_database: str, throwaway_redis: ThrowawayRedis
) -> None:
    async with serve(world_database, REDIS_URL=throwaway_redis.url) as client:
        headers = client.headers(OLIVE)  # the anonymous client

        async def post(query: str, *, with_text: bool) -> tuple[int, dict[str, object]]:
            response = await client.http.post(
                "/graphql", json=apq_body(query, with_text=with_text), headers=headers
            )
            return response.status_code, without_cost(response.json())

        status, body = await post(HOT, with_text=True)
        assert (status, body) == (200, {"data": {"viewer": {"username": USERNAMES[OLIVE]}}})

        throwaway_redis.stop()
        started = time.monotonic()
        # The hot document is in the worker's cache: still served.
        assert await post(HOT, with_text=False) == (200, body)
        # A miss is PersistedQueryNotFound, not an error, not a hang.
        status, miss = await post(COLD, with_text=False)
        assert status == 200
        assert miss["errors"] == [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
        # The client's retry with the text runs (and is kept locally).
        status, cold = await post(COLD, with_text=True)
        assert status == 200 and "errors" not in cold, cold
        assert await post(COLD, with_text=False) == (200, cold)
        assert time.monotonic() - started < 5, "requests waited on the dead Redis"

        throwaway_redis.start()  # empty: it keeps nothing on disk
        await asyncio.sleep(RETRY_AFTER_SECONDS + 0.2)
        status, late = await post(LATE, with_text=True)
        assert status == 200 and "errors" not in late, late
        redis = Redis.from_url(throwaway_redis.url, decode_responses=True)
        try:
            stored = await redis.get(f"pq:{{anonymous}}:a:{sha256_hex(LATE)}")
        finally:
            await redis.aclose()
        assert stored == LATE, "pinql did not go back to storing documents in Redis"
        assert await post(HOT, with_text=False) == (200, body)
