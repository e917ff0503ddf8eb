"""/healthz (alive) and /readyz (PostgreSQL and Redis answer), through the app: with both
servers up, without Redis configured, and with a throwaway Redis or PostgreSQL of the test's
own stopped and started again (pinql is not restarted)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from server.client_keys import KEY_HEADER, new_key
from tests.conftest import redis_url
from tests.support import GraphQLClient, serve
from tests.throwaway import ThrowawayPostgres, ThrowawayRedis

REFUSED = "unreachable: PostgreSQL refused the connection (is it running?)"


async def readyz(client: GraphQLClient) -> tuple[int, dict[str, Any]]:
    """GET /readyz: its status and body, checking the headers every answer has."""
    response = await client.http.get("/readyz")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def ready_within(client: GraphQLClient, seconds: float) -> dict[str, Any]:
    """The body of the first 200 from /readyz, failing past `seconds`."""
    started = time.monotonic()
    while True:
        status, body = await readyz(client)
        if status == 200:
            return body
        assert time.monotonic() - started < seconds, body
        await asyncio.sleep(0.1)


async def test_healthz_answers_without_touching_anything(world_database: str) -> None:
    async with serve(world_database, REDIS_URL="") as client:
        response = await client.http.get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert response.headers["Cache-Control"] == "no-store"
        client.log.clear()
        await client.http.get("/healthz")
        assert client.log.count == 0


async def test_readyz_with_postgresql_and_redis_up(world_database: str) -> None:
    async with serve(world_database, REDIS_URL=redis_url(0)) as client:
        assert await readyz(client) == (
            200,
            {"status": "ready", "checks": {"postgresql": "ok", "redis": "ok"}},
        )


async def test_readyz_without_redis_configured(world_database: str) -> None:
    async with serve(world_database, REDIS_URL="") as client:
        assert await readyz(client) == (
            200,
            {"status": "ready", "checks": {"postgresql": "ok", "redis": "not configured"}},
        )


async def test_health_methods(world_database: str) -> None:
    async with serve(world_database, REDIS_URL="") as client:
        for path in ("/healthz", "/readyz"):
            head = await client.http.head(path)
            assert head.status_code == 200
            assert head.headers["Cache-Control"] == "no-store"
            for method in ("POST", "PUT", "DELETE"):
                response = await client.http.request(method, path)
                assert response.status_code == 405, (method, path)
                assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}


@pytest.mark.parametrize(
    ("fail_open", "status", "word"), [(True, 200, "degraded"), (False, 503, "unavailable")]
)
async def test_readyz_names_redis_when_it_is_down(
    world_database: str, throwaway_redis: ThrowawayRedis, fail_open: bool, status: int, word: str
) -> None:
    """Redis down is `degraded` (200: requests go on, rate limits failing open), and not
    ready (503) when rate limits fail closed: then every request would be refused."""
    settings = {"REDIS_URL": throwaway_redis.url, "PINQL_RATE_LIMIT_FAIL_OPEN": fail_open}
    async with serve(world_database, **settings) as client:
        assert await readyz(client) == (
            200,
            {"status": "ready", "checks": {"postgresql": "ok", "redis": "ok"}},
        )
        throwaway_redis.stop()
        started = time.monotonic()
        answer, body = await readyz(client)
        assert time.monotonic() - started < 1.5
        assert (answer, body["status"], body["checks"]["postgresql"]) == (status, word, "ok")
        # The pooled connection was closed by the server; the retry on a new one is refused.
        assert body["checks"]["redis"] in (
            "unreachable: connection closed by server",
            "unreachable: connection refused",
        )
        answer, body = await readyz(client)
        assert (answer, body["checks"]["redis"]) == (status, "unreachable: connection refused")
        served = await client.post("{ __typename }")
        assert served.status_code == (200 if fail_open else 503)
        throwaway_redis.start()
        await ready_within(client, 5)


async def test_readyz_is_ready_while_a_lock_keeps_every_connection_busy(
    world_database: str,
) -> None:
    """A long lock on a table fills the pool with waiting requests: PostgreSQL answers (the
    check has a connection of its own), so the replica stays ready (a load balancer must not
    pull every replica for it)."""
    async with serve(world_database, REDIS_URL="", PINQL_DB_POOL_MAX=2) as client:
        locker = await asyncpg.connect(world_database)
        try:
            locking = locker.transaction()
            await locking.start()
            await locker.execute("lock table pins in access exclusive mode")
            waiting = [
                asyncio.create_task(client.post("{ pins(first: 1) { totalCount } }"))
                for _ in range(2)
            ]
            await asyncio.sleep(0.3)  # both requests hold a connection, waiting on the lock
            started = time.monotonic()
            assert await readyz(client) == (
                200,
                {
                    "status": "ready",
                    "checks": {"postgresql": "ok", "redis": "not configured"},
                },
            )
            assert time.monotonic() - started < 0.5
            await locking.rollback()
            assert [r.status_code for r in await asyncio.gather(*waiting)] == [200, 200]
        finally:
            await locker.close()
        assert (await readyz(client))[1]["checks"]["postgresql"] == "ok"


async def test_readyz_names_postgresql_when_it_is_down_and_recovers(
    throwaway_pg: ThrowawayPostgres,
) -> None:
    async with serve(throwaway_pg.url, REDIS_URL="") as client:
        assert (await readyz(client))[0] == 200
        await asyncio.to_thread(throwaway_pg.stop)
        started = time.monotonic()
        status, body = await readyz(client)
        assert time.monotonic() - started < 1
        assert (status, body) == (
            503,
            {"status": "unavailable", "checks": {"postgresql": REFUSED, "redis": "not configured"}},
        )
        assert str(throwaway_pg.port) not in str(body)
        assert (await client.http.get("/healthz")).status_code == 200  # alive all along
        await asyncio.to_thread(throwaway_pg.start)
        await ready_within(client, 5)


async def test_starts_while_postgresql_is_down(throwaway_pg: ThrowawayPostgres) -> None:
    # A replica restarting during an outage starts, is not ready, and becomes ready.
    await asyncio.to_thread(throwaway_pg.stop)
    async with serve(throwaway_pg.url, REDIS_URL="") as client:
        assert (await client.http.get("/healthz")).status_code == 200
        status, body = await readyz(client)
        assert (status, body["checks"]["postgresql"]) == (503, REFUSED)
        # The registered clients are unknown yet: a named one is neither accepted nor refused.
        named = {"apollographql-client-name": "web", KEY_HEADER: new_key()}
        response = await client.http.post("/graphql", json={"query": "{ id }"}, headers=named)
        assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
        assert "the registered clients could not be read yet" in error["message"]
        await asyncio.to_thread(throwaway_pg.start)
        assert await ready_within(client, 5) == {
            "status": "ready",
            "checks": {"postgresql": "ok", "redis": "not configured"},
        }
