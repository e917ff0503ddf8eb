"""A keyed mutation's writes recorded in their own transactions (migration 0006,
db/write_keys.py), against the real PostgreSQL and Redis: a retry that Redis cannot answer
(flushed, or a second server without shared state) is answered from the records, writing
nothing; a reused key is refused; concurrent first attempts write once; records expire and
are pruned."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from db.pool import Database
from db.write_keys import PRUNING, prune
from server.idempotency import WriteKeyPruner
from tests.conftest import MakeDatabase, emptied_redis, new_database, redis_url
from tests.support import GraphQLClient, serve
from tests.world import OLIVE

# Makes the records of key $1 older than $2 seconds.
EXPIRE = "update write_keys set created_at = now() - make_interval(secs => $2) where key = $1"
REDIS_DB = 4  # this module's own logical database: it flushes it
CREATE = """mutation CreateBoard($i: CreateBoardInput!) {
  createBoard(input: $i) { board { id name } userErrors { code } } }"""
TWO = """mutation Two($a: CreateBoardInput!, $b: CreateBoardInput!) {
  first: createBoard(input: $a) { board { id } }
  second: createBoard(input: $b) { board { id } } }"""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    return await new_database(make_database, with_world=True)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    async with emptied_redis(REDIS_DB) as connection:
        yield connection


@pytest.fixture
async def client(database: str, redis: Redis) -> AsyncIterator[GraphQLClient]:
    async with serve(database, REDIS_URL=redis_url(REDIS_DB)) as served:
        yield served


async def post(
    client: GraphQLClient, key: str, query: str = CREATE, **variables: object
) -> httpx.Response:
    """POSTs `query` as OLIVE with Idempotency-Key `key` (a board named `key` by default)."""
    return await client.post(
        query, variables or {"i": {"name": key}}, viewer=OLIVE, headers={"Idempotency-Key": key}
    )


async def boards_named(sql: asyncpg.Connection, *names: str) -> int:
    count: int = await sql.fetchval("select count(*) from boards where name = any($1)", names)
    return count


def board_of(response: httpx.Response, field: str = "createBoard") -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    board: str = body["data"][field]["board"]["id"]
    return board


async def test_a_retry_redis_forgot_is_answered_from_the_record(
    client: GraphQLClient, redis: Redis, sql: asyncpg.Connection
) -> None:
    key = f"k-{secrets.token_hex(6)}"
    first = await post(client, key)
    await redis.flushdb()  # Redis restarted empty, or the entry was evicted
    retry = await post(client, key)
    assert board_of(retry) == board_of(first)
    assert retry.headers["idempotent-replayed"] == "true"
    assert await boards_named(sql, key) == 1


async def test_each_root_field_is_recorded_on_its_own(
    client: GraphQLClient, redis: Redis, sql: asyncpg.Connection
) -> None:
    key = f"k-{secrets.token_hex(6)}"
    names = {"a": {"name": f"{key}-a"}, "b": {"name": f"{key}-b"}}
    first = await post(client, key, TWO, **names)
    await redis.flushdb()
    retry = await post(client, key, TWO, **names)
    assert [board_of(retry, f) for f in ("first", "second")] == [
        board_of(first, f) for f in ("first", "second")
    ]
    assert await boards_named(sql, f"{key}-a", f"{key}-b") == 2


async def test_a_key_reused_for_another_request_is_refused_and_writes_nothing(
    client: GraphQLClient, redis: Redis, sql: asyncpg.Connection
) -> None:
    key = f"k-{secrets.token_hex(6)}"
    board_of(await post(client, key))
    await redis.flushdb()  # Redis cannot compare the fingerprints any more: PostgreSQL does
    other = await post(client, key, i={"name": f"{key}-other"})
    body = other.json()
    assert body["data"] == {"createBoard": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert f"Idempotency-Key {key!r} was used for a different request" in error["message"]
    assert await boards_named(sql, f"{key}-other") == 0


async def test_concurrent_first_attempts_on_two_servers_write_once(
    database: str, sql: asyncpg.Connection
) -> None:
    """Two servers keeping idempotency entries in their own process (no shared claim): the
    same keyed request sent to both at once runs on both; one records, the other finds the
    record when its own would clash, rolls back, and answers from it."""
    key = f"k-{secrets.token_hex(6)}"
    async with serve(database) as one, serve(database) as two:
        answers = await asyncio.gather(post(one, key), post(two, key))
    assert len({board_of(a) for a in answers}) == 1
    assert await boards_named(sql, key) == 1


async def test_an_expired_record_no_longer_answers_and_is_pruned(
    client: GraphQLClient, redis: Redis, sql: asyncpg.Connection, database: str
) -> None:
    key = f"k-{secrets.token_hex(6)}"
    first = board_of(await post(client, key))
    ttl = client.settings.idempotency_ttl_seconds
    await sql.execute(EXPIRE, key, float(ttl + 1))
    await redis.flushdb()
    again = board_of(await post(client, key))  # expired: a new request, run again
    assert again != first
    assert await boards_named(sql, key) == 2
    await sql.execute(EXPIRE, key, float(ttl + 1))
    pool = await Database.connect(database, min_size=1, max_size=1)
    try:
        assert await WriteKeyPruner(pool, ttl).prune() >= 1
        assert await sql.fetchval("select count(*) from write_keys where key = $1", key) == 0
    finally:
        await pool.close()


async def test_only_one_transaction_prunes_at_a_time(
    sql: asyncpg.Connection, database: str
) -> None:
    other = await asyncpg.connect(database)
    try:
        async with other.transaction():
            await other.fetchval(PRUNING)
            async with sql.transaction():
                assert await prune(sql, 0) == 0  # the other one is pruning
    finally:
        await other.close()
