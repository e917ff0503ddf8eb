"""/graphql through a PostgreSQL outage, against a throwaway PostgreSQL of this test's own:
while it is down a request answers 503 SERVICE_UNAVAILABLE with Retry-After at once (never a
500, never a hang); once it is back, requests are served again without restarting pinql."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from db.migrate import migrate
from tests import world
from tests.support import GraphQLClient, serve
from tests.throwaway import ThrowawayPostgres

QUERY = "{ pins(first: 3) { nodes { id title creator { username } } } }"
CONCURRENCY = 20
HANG = 3.0  # seconds no request may take, even mid-outage


@pytest.fixture
async def postgres(throwaway_pg: ThrowawayPostgres) -> ThrowawayPostgres:
    """A running throwaway PostgreSQL holding the world of tests/world.py."""
    conn = await asyncpg.connect(throwaway_pg.url)
    try:
        await migrate(conn)
        await world.create(conn)
    finally:
        await conn.close()
    return throwaway_pg


@pytest.fixture
async def client(postgres: ThrowawayPostgres) -> AsyncIterator[GraphQLClient]:
    """pinql on the throwaway server, without Redis or rate limits (not what is tested)."""
    async with serve(postgres.url, REDIS_URL="", PINQL_RATE_LIMIT=False) as client:
        yield client


async def post(client: GraphQLClient) -> httpx.Response:
    """POSTs QUERY; fails if it takes HANG seconds."""
    return await asyncio.wait_for(client.post(QUERY), timeout=HANG)


def assert_unavailable(response: httpx.Response) -> None:
    """503 SERVICE_UNAVAILABLE with Retry-After, and no `data`."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def served_within(client: GraphQLClient, seconds: float) -> None:
    """Waits for the first 200 with data, failing past `seconds`."""
    started = time.monotonic()
    while True:
        response = await post(client)
        if response.status_code == 200:
            assert response.json()["data"]["pins"]["nodes"], response.text
            return
        assert_unavailable(response)
        assert time.monotonic() - started < seconds, "pinql did not recover"
        await asyncio.sleep(0.1)


async def test_an_outage_is_503_then_served_again(
    postgres: ThrowawayPostgres, client: GraphQLClient
) -> None:
    assert (await client.data(QUERY))["pins"]["nodes"]
    await asyncio.to_thread(postgres.stop)
    for _ in range(3):  # pooled connections, then new ones
        started = time.monotonic()
        assert_unavailable(await post(client))
        assert time.monotonic() - started < 1
    await asyncio.to_thread(postgres.start)
    await served_within(client, 5)


async def test_concurrent_requests_through_an_outage(
    postgres: ThrowawayPostgres, client: GraphQLClient
) -> None:
    statuses: list[int] = []

    async def round_of_requests() -> None:
        responses = await asyncio.gather(*(post(client) for _ in range(CONCURRENCY)))
        for response in responses:
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                assert_unavailable(response)
            statuses.append(response.status_code)

    async def requests_until(deadline: float) -> None:
        while time.monotonic() < deadline:
            await round_of_requests()

    await requests_until(time.monotonic() + 0.3)
    await asyncio.gather(
        requests_until(time.monotonic() + 1.5),
        asyncio.to_thread(postgres.stop),  # mid-round: some requests lose their statements
    )
    await asyncio.gather(requests_until(time.monotonic() + 0.5), asyncio.to_thread(postgres.start))
    await served_within(client, 5)
    await round_of_requests()
    assert statuses[-CONCURRENCY:] == [200] * CONCURRENCY
    assert 503 in statuses
