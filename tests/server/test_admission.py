"""Admission through /graphql: document limits, introspection per client, query cost in every
executed response, and rate limits (429, x-ratelimit-* headers) shared through Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.conftest import MakeDatabase, new_database, redis_url
from tests.support import GraphQLClient, serve
from tests.throwaway import ThrowawayRedis
from tests.world import OLIVE

REDIS_DB = 8
FEED = "query Latest($n: Int) { pins(first: $n) { nodes { id creator { id } } } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


@pytest.fixture
async def shared_redis() -> AsyncIterator[str]:
    """The suite's Redis on this module's database, emptied before and after."""
    url = redis_url(REDIS_DB)
    redis = Redis.from_url(url)
    await redis.flushdb()
    try:
        yield url
    finally:
        await redis.flushdb()
        await redis.aclose()


def deep_query(depth: int) -> str:
    """`viewer { following { nodes { following ... } } }` nested to `depth` fields."""
    query = "id"
    level = 2
    while level < depth:
        query = f"following(first: 1) {{ nodes {{ {query} }} }}"
        level += 2
    return f"{{ viewer {{ {query} }} }}"


def code(body: dict[str, Any]) -> str:
    """The first error's code."""
    value: str = body["errors"][0]["extensions"]["code"]
    return value


async def test_every_executed_response_carries_its_cost(world_client: GraphQLClient) -> None:
    body = await world_client.execute(FEED, {"n": 3})
    cost = body["extensions"]["cost"]
    # 1 connection + 3 nodes + 3 creators requested; the world has 3+ visible pins.
    assert cost["requestedQueryCost"] == 7
    assert cost["actualQueryCost"] == 1 + 2 * len(body["data"]["pins"]["nodes"])
    assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == world_client.settings.rate_limit_maximum
    assert status["restoreRate"] == world_client.settings.rate_limit_restore_rate
    assert 0 <= status["currentlyAvailable"] <= status["maximumAvailable"]


async def test_a_query_over_the_cost_limit_is_refused_before_it_runs(
    world_database: str,
) -> None:
    async with serve(world_database, PINQL_MAX_QUERY_COST=50) as client:
        client.log.clear()
        response = await client.http.post(
            "/graphql", json={"query": FEED, "variables": {"n": 30}}, headers=GRAPHQL_RESPONSE
        )
        assert response.status_code == 400
        body = response.json()
        assert "data" not in body
        assert code(body) == "MAX_COST_EXCEEDED"
        assert "61" in body["errors"][0]["message"]
        assert "PINQL_MAX_QUERY_COST" in body["errors"][0]["message"]
        assert body["extensions"]["cost"]["requestedQueryCost"] == 61
        assert client.log.count == 0
        # at the limit it runs
        assert "errors" not in await client.execute(FEED, {"n": 24})


async def test_no_spelling_of_a_number_costs_less_than_it_runs(world_database: str) -> None:
    async with serve(world_database, PINQL_MAX_QUERY_COST=50) as client:
        for n in (30, 30.0):
            response = await client.http.post(
                "/graphql", json={"query": FEED, "variables": {"n": n}}, headers=GRAPHQL_RESPONSE
            )
            assert response.status_code == 400, (n, response.text)
            assert code(response.json()) == "MAX_COST_EXCEEDED"
            assert response.json()["extensions"]["cost"]["requestedQueryCost"] == 61
        body = await client.execute(FEED, {"n": 24.0})
        assert "errors" not in body
        assert body["extensions"]["cost"]["requestedQueryCost"] == 49


ALIASES = "{ viewer { " + " ".join(f"a{i}: id" for i in range(31)) + " } }"
ROOT_FIELDS = "{ " + " ".join(f"a{i}: __typename" for i in range(21)) + " }"
# Validation refuses a repeated @include, so two directives are the most a field can carry.
DIRECTIVES = "{ viewer @include(if: true) @skip(if: false) { id } }"


@pytest.mark.parametrize(
    ("setting", "value", "query", "expected"),
    [
        ("PINQL_MAX_DEPTH", None, deep_query(16), "QUERY_TOO_DEEP"),
        ("PINQL_MAX_ALIASES", None, ALIASES, "TOO_MANY_ALIASES"),
        ("PINQL_MAX_ROOT_FIELDS", None, ROOT_FIELDS, "TOO_MANY_ROOT_FIELDS"),
        ("PINQL_MAX_DIRECTIVES_PER_FIELD", 1, DIRECTIVES, "TOO_MANY_DIRECTIVES"),
    ],
)
async def test_document_limits_are_refused_with_their_setting(
    world_database: str, setting: str, value: int | None, query: str, expected: str
) -> None:
    overrides = {} if value is None else {setting: value}
    async with serve(world_database, **overrides) as client:
        client.log.clear()
        response = await client.http.post(
            "/graphql", json={"query": query}, headers=GRAPHQL_RESPONSE
        )
        assert response.status_code == 400, response.text
        body = response.json()
        assert [code(body)] == [e["extensions"]["code"] for e in body["errors"]], body
        assert code(body) == expected, body
        assert setting in body["errors"][0]["message"]
        assert body["errors"][0]["locations"]
        assert client.log.count == 0


async def test_too_many_tokens_stops_parsing(world_database: str) -> None:
    async with serve(world_database, PINQL_MAX_TOKENS=100) as client:
        query = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
        body = (await client.post(query)).json()
        assert code(body) == "TOO_MANY_TOKENS"
        assert "PINQL_MAX_TOKENS" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["limit"] == 100


async def test_limits_follow_their_settings(world_database: str) -> None:
    async with serve(world_database, PINQL_MAX_DEPTH=3) as client:
        body = (await client.post(deep_query(4))).json()
        assert code(body) == "QUERY_TOO_DEEP"
        assert "errors" not in await client.execute("{ viewer { id } }")


async def test_introspection_is_off_in_prod_except_for_listed_clients(
    make_database: MakeDatabase, world_database: str
) -> None:
    prod = {
        "PINQL_ENV": "prod",
        "PINQL_INTROSPECTION_CLIENTS": "internal-tools",
        "PINQL_ANONYMOUS_POLICY": "open",  # prod's default (safelist) would refuse any text
    }
    database = await new_database(make_database, with_world=True)
    async with serve(database, clients={"internal-tools": "open"}, **prod) as client:
        body = (await client.post(INTROSPECTION)).json()
        assert code(body) == "INTROSPECTION_DISABLED"
        assert "'anonymous'" in body["errors"][0]["message"]
        allowed = await client.post(INTROSPECTION, headers=client.client("internal-tools"))
        assert allowed.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        # The name alone proves nothing: without the client's key it is refused.
        spoofed = await client.post(
            INTROSPECTION, headers={"graphql-client-name": "internal-tools"}
        )
        assert spoofed.status_code == 401
        assert code(spoofed.json()) == "CLIENT_UNAUTHENTICATED"
        # __typename is not introspection
        assert (await client.data("{ __typename }")) == {"__typename": "Query"}
    async with serve(
        world_database, PINQL_ENV="prod", PINQL_INTROSPECTION=True, PINQL_ANONYMOUS_POLICY="open"
    ) as client:
        assert "errors" not in await client.execute(INTROSPECTION)
    async with serve(world_database) as client:  # dev: on
        assert "errors" not in await client.execute(INTROSPECTION)


async def test_over_the_rate_limit_is_429_with_retry_after(world_database: str) -> None:
    limits = {"PINQL_RATE_LIMIT_MAXIMUM": 20, "PINQL_MAX_QUERY_COST": 20}
    async with serve(world_database, PINQL_RATE_LIMIT_RESTORE_RATE=1, **limits) as client:
        first = await client.post(FEED, {"n": 5})  # requests 11
        assert first.status_code == 200
        assert first.headers["x-ratelimit-limit"] == "20"
        assert int(first.headers["x-ratelimit-remaining"]) <= 9 + 1
        refused = await client.post(FEED, {"n": 5})
        if refused.status_code == 200:  # the unused part of the first was refunded
            refused = await client.post(FEED, {"n": 5})
        assert refused.status_code == 429, refused.text
        body = refused.json()
        assert code(body) == "THROTTLED"
        assert "data" not in body
        assert int(refused.headers["Retry-After"]) >= 1
        assert body["extensions"]["cost"]["requestedQueryCost"] == 11
        # another viewer has a bucket of their own
        assert (await client.post(FEED, {"n": 5}, viewer=OLIVE)).status_code == 200


@pytest.mark.parametrize("viewer", [OLIVE, None], ids=["signed-in", "anonymous"])
async def test_a_new_client_name_is_not_a_new_bucket(
    make_database: MakeDatabase, viewer: int | None
) -> None:
    """50 client names against one 100-point bucket: registered ones (with their keys)
    share the viewer's or address's bucket; unregistered ones are refused outright."""
    limits = {"PINQL_RATE_LIMIT_MAXIMUM": 100, "PINQL_MAX_QUERY_COST": 100}
    database = await new_database(make_database, with_world=True)
    names = [f"c{i}" for i in range(50)]
    async with serve(
        database,
        clients=dict.fromkeys(names[::2], "open"),
        PINQL_RATE_LIMIT_RESTORE_RATE=1e-6,
        **limits,
    ) as client:
        statuses = [
            (
                await client.post(
                    FEED,
                    {"n": 5},  # 11 points requested each
                    viewer=viewer,
                    headers=client.client(name)
                    if name in client.keys
                    else {"graphql-client-name": name},
                )
            ).status_code
            for name in names
        ]
    assert statuses[1::2] == [401] * 25  # a name without its key
    registered = statuses[::2]
    assert registered[0] == 200
    assert 429 in registered
    assert registered[registered.index(429) :].count(200) <= 1, statuses


async def test_buckets_are_shared_by_workers_through_redis(
    world_database: str, shared_redis: str
) -> None:
    settings = {
        "REDIS_URL": shared_redis,
        "PINQL_RATE_LIMIT_MAXIMUM": 30,
        "PINQL_MAX_QUERY_COST": 30,
        "PINQL_RATE_LIMIT_RESTORE_RATE": 0.01,
    }
    async with serve(world_database, **settings) as one, serve(world_database, **settings) as two:
        statuses = []
        for i in range(8):  # 7 points requested each; alternate workers
            client = one if i % 2 == 0 else two
            statuses.append((await client.post(FEED, {"n": 3}, viewer=OLIVE)).status_code)
        # 30 points fit 4 requests of 7 before refunds; refunds can add at most a few more
        assert statuses.count(200) >= 4
        assert 429 in statuses
        assert statuses[statuses.index(429) :].count(200) <= 1


async def test_rate_limiting_fails_open_while_redis_is_down(
    world_database: str, throwaway_redis: ThrowawayRedis
) -> None:
    async with serve(world_database, REDIS_URL=throwaway_redis.url) as client:
        assert (await client.post(FEED, {"n": 1})).status_code == 200
        throwaway_redis.stop()
        down = await client.post(FEED, {"n": 1})
        assert down.status_code == 200, down.text
        throwaway_redis.start()
    async with serve(
        world_database, REDIS_URL=throwaway_redis.url, PINQL_RATE_LIMIT_FAIL_OPEN=False
    ) as client:
        throwaway_redis.stop()
        closed = await client.post(FEED, {"n": 1})
        assert closed.status_code == 503
        assert code(closed.json()) == "SERVICE_UNAVAILABLE"
        assert closed.headers["Retry-After"] == "1"


async def test_rate_limiting_can_be_switched_off(world_database: str) -> None:
    async with serve(world_database, PINQL_RATE_LIMIT=False) as client:
        response = await client.post(FEED, {"n": 2})
        assert "x-ratelimit-limit" not in response.headers
        cost = response.json()["extensions"]["cost"]
        assert "throttleStatus" not in cost
        assert cost["requestedQueryCost"] == 5


async def test_unused_points_are_given_back(world_database: str) -> None:
    """A request is charged its requested cost up front and refunded what its response did
    not use; one that did not run (variables that do not coerce) is refunded in full."""
    limits: dict[str, float] = {"PINQL_RATE_LIMIT_MAXIMUM": 1000, "PINQL_MAX_QUERY_COST": 1000}
    limits["PINQL_RATE_LIMIT_RESTORE_RATE"] = 0.001
    async with serve(world_database, **limits) as client:
        for _ in range(3):  # requested 41 each (first's default, 20), nothing ran
            refused = await client.post(FEED, {"n": "many"})
            assert code(refused.json()) == "BAD_USER_INPUT"
        await asyncio.sleep(0.05)  # refunds run after the response, in the background
        first = await client.post(FEED, {"n": 50})  # requested 101
        assert first.headers["x-ratelimit-remaining"] == "899"
        cost = first.json()["extensions"]["cost"]
        actual = cost["actualQueryCost"]
        assert actual < cost["requestedQueryCost"] == 101
        assert cost["throttleStatus"]["currentlyAvailable"] == 1000 - actual
        await asyncio.sleep(0.05)
        second = await client.post(FEED, {"n": 1})  # requested 3, after the refund
        assert second.headers["x-ratelimit-remaining"] == str(1000 - actual - 3)


async def test_a_response_that_held_more_than_requested_is_charged_what_it_held(
    world_database: str,
) -> None:
    """A list the requested cost counts as one element (introspection's `types`) can hold
    more: the bucket pays what the response held, beyond what was taken up front."""
    limits: dict[str, float] = {"PINQL_RATE_LIMIT_MAXIMUM": 1000, "PINQL_MAX_QUERY_COST": 1000}
    limits["PINQL_RATE_LIMIT_RESTORE_RATE"] = 0.001
    async with serve(world_database, **limits) as client:
        response = await client.post("{ __schema { types { name fields { name } } } }", {})
        assert response.status_code == 200, response.text
        cost = response.json()["extensions"]["cost"]
        actual = cost["actualQueryCost"]
        assert cost["requestedQueryCost"] == 3 < 100 < actual
        assert response.headers["x-ratelimit-remaining"] == "997"
        assert cost["throttleStatus"]["currentlyAvailable"] == 1000 - actual
        await asyncio.sleep(0.05)  # charged after the response, in the background
        after = await client.post(FEED, {"n": 1})  # requested 3
        assert after.headers["x-ratelimit-remaining"] == str(1000 - actual - 3)
