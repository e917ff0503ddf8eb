"""Keyed writes when Redis fails, through a fault proxy (tests/faults.py): a frozen Redis costs
a keyed mutation its timeouts, never a hang nor a second write (it runs on its PostgreSQL
record); connections cut as they open never stop a write; a reply cut midway is sent again
and the write runs once; a rate-limit charge whose reply is lost is taken once."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from server.redis_link import RETRY_AFTER_SECONDS, TIMEOUT_SECONDS
from tests.conftest import MakeDatabase, new_database
from tests.faults import ReplyCut, proxied_redis
from tests.support import GraphQLClient, serve
from tests.world import OLIVE

REDIS_DB = 3  # this module's own logical database: it flushes it
CREATE = """mutation CreateBoard($i: CreateBoardInput!) {
  createBoard(input: $i) { board { id name } } }"""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    return await new_database(make_database, with_world=True)


@pytest.fixture
async def proxied() -> AsyncIterator[tuple[ReplyCut, str]]:
    async with proxied_redis(REDIS_DB) as proxied:
        yield proxied


async def keyed(client: GraphQLClient, name: str) -> httpx.Response:
    """createBoard `name`, with a new Idempotency-Key."""
    headers = {"Idempotency-Key": f"k-{secrets.token_hex(8)}"}
    return await client.post(CREATE, {"i": {"name": name}}, viewer=OLIVE, headers=headers)


async def boards_named(database: str, name: str) -> int:
    conn = await asyncpg.connect(database)
    try:
        count: int = await conn.fetchval("select count(*) from boards where name = $1", name)
        return count
    finally:
        await conn.close()


async def test_a_frozen_redis_costs_keyed_writes_a_timeout_not_a_hang_or_a_double(
    database: str, proxied: tuple[ReplyCut, str]
) -> None:
    """Redis stops answering: a keyed write waits for the command's timeouts once, then runs
    on its PostgreSQL record alone (the next ones do not wait at all), and its retry is
    answered from that record; after the thaw Redis keeps responses again."""
    proxy, url = proxied
    name = f"Frozen {secrets.token_hex(4)}"
    headers = {"Idempotency-Key": f"k-{secrets.token_hex(8)}"}
    variables = {"i": {"name": name}}
    async with serve(database, REDIS_URL=url, PINQL_RATE_LIMIT=False) as client:
        assert (await keyed(client, f"Warm {name}")).status_code == 200
        proxy.freeze()
        started = time.monotonic()
        first = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert first.status_code == 200, first.text
        # at most a timeout per attempt (the command and its one retry), never a hang
        assert time.monotonic() - started < 4 * TIMEOUT_SECONDS + 0.5
        started = time.monotonic()
        retry = await client.post(CREATE, variables, viewer=OLIVE, headers=headers)
        assert time.monotonic() - started < TIMEOUT_SECONDS  # Redis not asked for a second
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json()["data"] == first.json()["data"]
        proxy.thaw()
        await asyncio.sleep(RETRY_AFTER_SECONDS + 0.2)
        assert (await keyed(client, f"Thawed {name}")).status_code == 200
    assert await boards_named(database, name) == 1


@pytest.mark.parametrize("refused", [1, 2])
async def test_connections_cut_as_they_open_never_stop_a_keyed_write(
    database: str, proxied: tuple[ReplyCut, str], refused: int
) -> None:
    """One cut is absorbed by the client's retry; two make the claim fail, and the write
    runs on its record alone."""
    proxy, url = proxied
    name = f"Refused {refused} {secrets.token_hex(4)}"
    proxy.refuse = refused
    async with serve(database, REDIS_URL=url, PINQL_RATE_LIMIT=False) as client:
        response = await keyed(client, name)
        assert response.status_code == 200, response.text
        assert proxy.cuts == refused
    assert await boards_named(database, name) == 1


async def test_a_claim_whose_reply_is_cut_midway_still_runs_once(
    database: str, proxied: tuple[ReplyCut, str]
) -> None:
    proxy, url = proxied
    name = f"Half {secrets.token_hex(4)}"
    async with serve(database, REDIS_URL=url, PINQL_RATE_LIMIT=False) as client:
        assert (await keyed(client, f"Warm {name}")).status_code == 200
        proxy.armed_half = True  # the next Redis command is the claim
        response = await keyed(client, name)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["createBoard"]["board"]["name"] == name
    assert proxy.cuts == 1 and b"SET" in proxy.lost[0]
    assert await boards_named(database, name) == 1


async def test_a_rate_limit_charge_whose_reply_is_lost_is_taken_once(
    database: str, proxied: tuple[ReplyCut, str]
) -> None:
    """The client sends the bucket's script again when its reply is lost: the second run finds
    its own token and takes nothing, so the request pays once."""
    proxy, url = proxied
    query = "query Pins { pins(first: 5) { nodes { id } } }"
    settings = {
        "PINQL_RATE_LIMIT_MAXIMUM": 1000,
        "PINQL_MAX_QUERY_COST": 1000,
        "PINQL_RATE_LIMIT_RESTORE_RATE": 1e-6,
    }
    async with serve(database, REDIS_URL=url, **settings) as client:

        async def available() -> int:
            await asyncio.sleep(0.2)  # the previous request's settlement, in the background
            response = await client.post(query, viewer=OLIVE)
            assert response.status_code == 200, response.text
            status = response.json()["extensions"]["cost"]["throttleStatus"]
            return int(status["currentlyAvailable"])

        first, second = await available(), await available()
        proxy.armed = True  # the next Redis command is the next request's charge
        third = await available()
    assert proxy.cuts == 1 and b"EVALSHA" in proxy.lost[0].upper()
    assert second - third == first - second  # paid once, as the request before it
