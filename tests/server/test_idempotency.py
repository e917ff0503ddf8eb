"""Idempotency keys on mutations, against the real PostgreSQL and Redis: a retry with the same
key replays the first response and writes nothing; a reused key with another request is 422;
keys are per viewer; concurrent duplicates write once; request errors leave the key free;
queries ignore the header; the in-process store without Redis; Redis down and back.

The tests write, so this module has a database of its own (the world of tests/world.py),
and Redis logical database 10, flushed once at the start.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from redis.asyncio import Redis
from starlette.responses import Response

from db.write_keys import WriteKey
from execution.documents import sha256_hex
from server.graphql_http import GRAPHQL_RESPONSE
from server.idempotency import (
    PENDING_SECONDS,
    Executed,
    Idempotency,
    RedisEntries,
    entry_key,
    request_fingerprint,
)
from server.redis_link import RETRY_AFTER_SECONDS
from tests.conftest import MakeDatabase, emptied_redis, new_database, redis_url
from tests.support import GraphQLClient, serve, without_cost
from tests.throwaway import ThrowawayRedis
from tests.world import ADA, OLIVE, OTTO

REDIS_DB = 10
TTL = 24 * 3600
CREATE = """mutation CreateBoard($i: CreateBoardInput!) {
  createBoard(input: $i) { board { id name } userErrors { field message code } }
}"""
CREATE_TERSE = (
    "mutation CreateBoard($i: CreateBoardInput!) { createBoard(input: $i) { board { id } } }"
)
VIEWER = "query Viewer { viewer { username } }"


def new_key() -> str:
    """An Idempotency-Key no test has used."""
    return f"test-{secrets.token_hex(8)}"


def new_name() -> str:
    """A board name no test has used."""
    return f"Trips {secrets.token_hex(4)}"


@pytest.fixture(scope="module")
async def redis() -> AsyncIterator[Redis]:
    """This module's Redis database, emptied first."""
    async with emptied_redis(REDIS_DB) as connection:
        yield connection


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """A database of this module's own (it is written to), holding the world."""
    return await new_database(make_database, with_world=True)


@pytest.fixture(scope="module")
async def pg(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection for counting rows."""
    conn = await asyncpg.connect(database)
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def client(database: str, redis: Redis) -> AsyncIterator[GraphQLClient]:
    """pinql keeping idempotency entries in Redis database 10."""
    async with serve(database, REDIS_URL=redis_url(REDIS_DB)) as served:
        yield served


async def create_board(
    client: GraphQLClient,
    name: str,
    *,
    key: str | None,
    viewer: int | None = OLIVE,
    query: str = CREATE,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POSTs createBoard (with an Idempotency-Key when `key` is given)."""
    extra = {**({} if key is None else {"Idempotency-Key": key}), **(headers or {})}
    return await client.post(query, {"i": {"name": name}}, viewer=viewer, headers=extra)


async def boards_named(pg: asyncpg.Connection, name: str, owner: int = OLIVE) -> int:
    """How many boards of `owner` have this name."""
    count: int = await pg.fetchval(
        "select count(*) from boards where name = $1 and owner_id = $2", name, owner
    )
    return count


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The only error of a refused request (which has no data)."""
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    return dict(error)


# ---- retries ------------------------------------------------------------------------------------


async def test_retry_replays_the_first_response_and_writes_nothing(
    client: GraphQLClient, pg: asyncpg.Connection
) -> None:
    key, name = new_key(), new_name()
    first = await create_board(client, name, key=key)
    assert first.status_code == 200
    board = first.json()["data"]["createBoard"]
    assert board["board"]["name"] == name and board["userErrors"] == []
    assert "idempotent-replayed" not in first.headers

    client.log.clear()
    retry = await create_board(client, name, key=key)
    assert retry.status_code == 200
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert client.log.count == 0, "a replay must not touch the database"
    assert await boards_named(pg, name) == 1


async def test_entry_is_the_viewers_and_kept_for_the_ttl(
    client: GraphQLClient, redis: Redis
) -> None:
    key = new_key()
    response = await create_board(client, new_name(), key=key)
    assert response.status_code == 200
    stored = await redis.get(f"idem:{{{OLIVE}}}:{key}")
    assert stored is not None
    entry = orjson.loads(stored)
    assert entry["state"] == "done" and entry["status"] == 200
    assert entry["body"].encode() == response.content
    assert TTL - 60 < await redis.ttl(entry_key(OLIVE, key)) <= TTL


async def test_ttl_follows_the_setting(database: str, redis: Redis) -> None:
    async with serve(
        database, REDIS_URL=redis_url(REDIS_DB), PINQL_IDEMPOTENCY_TTL_SECONDS=120
    ) as short:
        key = new_key()
        assert (await create_board(short, new_name(), key=key)).status_code == 200
        assert 60 < await redis.ttl(entry_key(OLIVE, key)) <= 120


async def test_replay_answers_in_the_media_type_the_retry_accepts(
    client: GraphQLClient,
) -> None:
    key, name = new_key(), new_name()
    first = await create_board(client, name, key=key)
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    retry = await create_board(client, name, key=key, headers={"Accept": GRAPHQL_RESPONSE})
    assert retry.status_code == 200
    assert retry.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert retry.content == first.content


async def test_a_response_over_the_kept_size_is_not_kept_and_its_retry_runs_again(
    redis: Redis,
) -> None:
    """Past the kept size the claim is released, so a retry runs again: its write records
    (db/write_keys.py, tested with the server below) answer every root field it committed.
    An entry kept done without its body is run again the same way."""
    idempotency = Idempotency(RedisEntries.from_url(redis_url(REDIS_DB)), TTL, 1000)
    runs: list[WriteKey] = []

    async def execute(write_key: WriteKey) -> Executed:
        runs.append(write_key)
        body = {"data": {"createBoard": {"board": {"name": "x" * 2000}}}}
        return Executed(Response(orjson.dumps(body), media_type=GRAPHQL_RESPONSE), ran=True)

    key = new_key()
    first = await idempotency.run(OLIVE, key, "fingerprint", execute, GRAPHQL_RESPONSE)
    assert first.status_code == 200 and len(bytes(first.body)) > 2000
    assert await redis.get(entry_key(OLIVE, key)) is None  # released, not kept
    retry = await idempotency.run(OLIVE, key, "fingerprint", execute, GRAPHQL_RESPONSE)
    assert retry.status_code == 200 and retry.body == first.body
    assert [(k.key, k.fingerprint) for k in runs] == [(key, "fingerprint")] * 2

    bodiless = orjson.dumps({"state": "done", "fingerprint": "fingerprint", "status": 200})
    await redis.set(entry_key(OLIVE, key), bodiless, ex=TTL)
    again = await idempotency.run(OLIVE, key, "fingerprint", execute, GRAPHQL_RESPONSE)
    assert again.status_code == 200 and len(runs) == 3
    await idempotency.close()


async def test_user_errors_are_replayed_too(client: GraphQLClient, redis: Redis) -> None:
    key = new_key()
    first = await create_board(client, "   ", key=key)
    payload = first.json()["data"]["createBoard"]
    assert payload["board"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["TOO_SHORT"]
    retry = await create_board(client, "   ", key=key)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content


# ---- conflicts ----------------------------------------------------------------------------------


async def test_same_key_for_another_request_is_422(
    client: GraphQLClient, pg: asyncpg.Connection
) -> None:
    key, name, other = new_key(), new_name(), new_name()
    assert (await create_board(client, name, key=key)).status_code == 200
    for response in (
        await create_board(client, other, key=key),  # other variables
        await create_board(client, name, key=key, query=CREATE_TERSE),  # another document
    ):
        assert response.status_code == 422
        error = error_of(response)
        assert error["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}
        assert repr(key) in error["message"]
        assert "send a new key" in error["message"]
    assert await boards_named(pg, other) == 0
    assert await boards_named(pg, name) == 1


async def test_variables_in_another_key_order_are_the_same_request(
    client: GraphQLClient, pg: asyncpg.Connection
) -> None:
    key, name = new_key(), new_name()
    variables = [
        {"i": {"name": name, "privacy": "SECRET"}},
        {"i": {"privacy": "SECRET", "name": name}},
    ]
    first, retry = [
        await client.post(CREATE, v, viewer=OLIVE, headers={"Idempotency-Key": key})
        for v in variables
    ]
    assert first.status_code == retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert await boards_named(pg, name) == 1


async def test_keys_are_per_viewer(client: GraphQLClient, pg: asyncpg.Connection) -> None:
    key, name = new_key(), new_name()
    olive = await create_board(client, name, key=key, viewer=OLIVE)
    otto = await create_board(client, name, key=key, viewer=OTTO)
    assert olive.status_code == otto.status_code == 200
    assert "idempotent-replayed" not in otto.headers
    assert olive.json() != otto.json()
    assert await boards_named(pg, name, OLIVE) == 1
    assert await boards_named(pg, name, OTTO) == 1


async def test_a_request_still_running_is_409(client: GraphQLClient, redis: Redis) -> None:
    key, name = new_key(), new_name()
    fingerprint = request_fingerprint(sha256_hex(CREATE), "CreateBoard", {"i": {"name": name}})
    pending = {"state": "pending", "fingerprint": fingerprint, "token": "someone-else"}
    await redis.set(entry_key(ADA, key), orjson.dumps(pending), ex=60)
    response = await create_board(client, name, key=key, viewer=ADA)
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    error = error_of(response)
    assert error["extensions"] == {"code": "IDEMPOTENCY_KEY_IN_USE"}
    assert repr(key) in error["message"]


async def test_concurrent_duplicates_write_once(
    client: GraphQLClient, pg: asyncpg.Connection
) -> None:
    key, name = new_key(), new_name()
    responses = await asyncio.gather(*(create_board(client, name, key=key) for _ in range(5)))
    assert await boards_named(pg, name) == 1
    done = [r for r in responses if r.status_code == 200]
    assert done, [r.text for r in responses]
    assert len({r.content for r in done}) == 1
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == 409
            assert error_of(response)["extensions"] == {"code": "IDEMPOTENCY_KEY_IN_USE"}
    later = await create_board(client, name, key=key)
    assert later.headers["idempotent-replayed"] == "true"
    assert later.content == done[0].content


async def test_request_errors_leave_the_key_free(
    client: GraphQLClient, pg: asyncpg.Connection, redis: Redis
) -> None:
    key, name = new_key(), new_name()
    invalid = await client.post(
        "mutation { createBoard(input: {nope: 1}) { board { id } } }",
        viewer=OLIVE,
        headers={"Idempotency-Key": key},
    )
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    uncoerced = await client.post(
        CREATE, {"i": {"name": 7}}, viewer=OLIVE, headers={"Idempotency-Key": key}
    )
    assert error_of(uncoerced)["extensions"]["code"] == "BAD_USER_INPUT"
    assert await redis.exists(entry_key(OLIVE, key)) == 0
    corrected = await create_board(client, name, key=key)
    assert corrected.status_code == 200 and "idempotent-replayed" not in corrected.headers
    assert corrected.json()["data"]["createBoard"]["board"]["name"] == name
    assert await boards_named(pg, name) == 1


async def test_anonymous_mutations_keep_nothing(client: GraphQLClient, redis: Redis) -> None:
    response = await create_board(client, new_name(), key=new_key(), viewer=None)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await redis.keys("idem:{None}:*") == []


# ---- the header ---------------------------------------------------------------------------------


async def test_queries_ignore_the_header(client: GraphQLClient, redis: Redis) -> None:
    for key in ("not a valid key!", new_key()):
        response = await client.post(VIEWER, viewer=OLIVE, headers={"Idempotency-Key": key})
        assert response.status_code == 200
        assert without_cost(response.json()) == {"data": {"viewer": {"username": "olive"}}}
        assert "idempotent-replayed" not in response.headers
        assert await redis.exists(entry_key(OLIVE, key)) == 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [("", "''"), ("two words", "'two words'"), ("a/b", "'a/b'"), ("k" * 256, "256 characters")],
)
async def test_a_malformed_key_is_400(
    client: GraphQLClient, pg: asyncpg.Connection, value: str, shown: str
) -> None:
    name = new_name()
    response = await create_board(client, name, key=value)
    assert response.status_code == 400
    assert error_of(response) == {
        "message": f"Idempotency-Key must be 1..255 characters of A-Z a-z 0-9 . _ : -, got {shown}",
        "extensions": {"code": "BAD_REQUEST"},
    }
    assert await boards_named(pg, name) == 0


async def test_two_keys_are_400(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql",
        json={"query": CREATE, "variables": {"i": {"name": new_name()}}},
        headers=[
            *client.headers(OLIVE).items(),
            ("Idempotency-Key", "a"),
            ("Idempotency-Key", "b"),
        ],
    )
    assert response.status_code == 400
    assert error_of(response)["message"] == "send one Idempotency-Key header, got 2"


async def test_longest_key_is_accepted(client: GraphQLClient) -> None:
    key = "A-z0.9_:" * 31 + "x" * 7
    assert len(key) == 255
    first = await create_board(client, "Longest", key=key)
    retry = await create_board(client, "Longest", key=key)
    assert first.status_code == retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"


# ---- without Redis ------------------------------------------------------------------------------


async def test_without_redis_the_process_keeps_the_entries(
    database: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    async with serve(database, REDIS_URL=None, PINQL_DATA_DIR=str(tmp_path)) as local:
        key, name = new_key(), new_name()
        first = await create_board(local, name, key=key)
        assert first.status_code == 200
        retry = await create_board(local, name, key=key)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.content == first.content
        reused = await create_board(local, new_name(), key=key)
        assert reused.status_code == 422
        assert error_of(reused)["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}
        other = await create_board(local, name, key=key, viewer=OTTO)
        assert "idempotent-replayed" not in other.headers
        assert await boards_named(pg, name) == 1


# ---- Redis down ---------------------------------------------------------------------------------


async def test_redis_down_keyed_mutations_run_on_their_records_and_recover(
    database: str, pg: asyncpg.Connection, throwaway_redis: ThrowawayRedis
) -> None:
    """Without Redis a keyed mutation runs all the same: its write's record in PostgreSQL
    answers its retries (nothing written twice); once Redis is back, its responses are kept
    there again."""
    async with serve(database, REDIS_URL=throwaway_redis.url) as down:
        assert (await create_board(down, new_name(), key=new_key())).status_code == 200

        throwaway_redis.stop()
        started = time.monotonic()
        key, name = new_key(), new_name()
        first = await create_board(down, name, key=key)  # waits for the timeout once
        assert first.status_code == 200, first.text
        assert "idempotent-replayed" not in first.headers
        retry = await create_board(down, name, key=key)
        assert retry.headers["idempotent-replayed"] == "true"  # from the record
        assert retry.json()["data"] == first.json()["data"]
        assert await boards_named(pg, name) == 1
        assert time.monotonic() - started < 5, "requests waited on the dead Redis"
        metrics = (await down.http.get("/metrics")).text
        assert "\npinql_idempotency_unclaimed_total 2.0\n" in metrics

        throwaway_redis.start()  # empty: it keeps nothing on disk
        await asyncio.sleep(RETRY_AFTER_SECONDS + 0.2)
        again = await create_board(down, name, key=key)
        assert again.headers["idempotent-replayed"] == "true"  # still from the record
        assert await boards_named(pg, name) == 1

        redis = Redis.from_url(throwaway_redis.url, decode_responses=True)
        try:
            assert await redis.ttl(entry_key(OLIVE, key)) > PENDING_SECONDS
        finally:
            await redis.aclose()
