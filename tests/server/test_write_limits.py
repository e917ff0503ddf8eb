"""Per-viewer write limits (server/write_limits.py): follows, saves and comments over the
viewer's bucket are refused with 429 WRITE_LIMITED before anything runs, every aliased root
field counting; other viewers and other kinds of write are not affected. In-process buckets,
on a database of this module's own (it is written to)."""

from __future__ import annotations

import asyncpg
import pytest
from graphql import OperationDefinitionNode, parse

from resolvers.ids import encode_global_id
from server.write_limits import LIMITS, writes
from tests.conftest import MakeDatabase, new_database
from tests.support import serve
from tests.world import ADA, OLIVE, OTTO

FOLLOW = "followUser"
BURST = LIMITS[FOLLOW].burst


def follows(count: int, user: int = ADA) -> str:
    """A mutation of `count` aliased follows of `user` (following twice changes nothing)."""
    fields = " ".join(
        f'f{i}: followUser(input: {{userId: "{encode_global_id("User", user)}"}}) '
        "{ userErrors { code } }"
        for i in range(count)
    )
    return f"mutation Follows {{ {fields} }}"


@pytest.fixture
async def database(make_database: MakeDatabase) -> str:
    """A fresh database holding the world."""
    return await new_database(make_database, with_world=True)


async def follow_count(database: str, follower: int) -> int:
    """Follows `follower` has."""
    conn = await asyncpg.connect(database)
    try:
        count: int = await conn.fetchval(
            "select count(*) from follows where follower_id = $1", follower
        )
        return count
    finally:
        await conn.close()


MERGED = """
mutation {
  a: followUser(input: {userId: "x"}) { clientMutationId }
  a: followUser(input: {userId: "x"}) { clientMutationId }
  ...F
  ...F
  ... on Mutation { b: followUser(input: {userId: "x"}) { clientMutationId } }
  addComment(input: {pinId: "p", body: "hi"}) { clientMutationId }
}
fragment F on Mutation { c: followUser(input: {userId: "x"}) { clientMutationId } }
"""


def test_every_response_key_counts_once() -> None:
    document = parse(MERGED)
    [operation, _] = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert writes(document, operation) == {"followUser": 3, "addComment": 1}


async def test_follows_past_the_burst_are_refused_before_they_run(database: str) -> None:
    async with serve(database) as client:
        before = await follow_count(database, OLIVE)
        for _ in range(2):
            assert (await client.post(follows(20), viewer=OLIVE)).status_code == 200
        refused = await client.post(follows(20), viewer=OLIVE)
        assert refused.status_code == 429, refused.text
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "WRITE_LIMITED"
        assert (
            f"too many followUser: 20 asked, {BURST - 40} left of the {BURST}" in (error["message"])
        )
        assert int(refused.headers["Retry-After"]) >= 1
        assert await follow_count(database, OLIVE) == before + 1  # ADA, followed once
        assert (await client.post(follows(BURST - 40), viewer=OLIVE)).status_code == 200
        assert (await client.post(follows(1), viewer=OLIVE)).status_code == 429
        # another viewer has buckets of their own
        assert (await client.post(follows(20, user=OLIVE), viewer=OTTO)).status_code == 200


WIDE = {"PINQL_MAX_ROOT_FIELDS": 100, "PINQL_MAX_ALIASES": 100}
"""Settings letting one mutation hold more follows than a bucket."""


async def test_more_at_once_than_a_bucket_holds_is_refused_for_good(database: str) -> None:
    async with serve(database, PINQL_RATE_LIMIT_MAXIMUM=1_000_000, **WIDE) as client:
        too_many = await client.post(follows(BURST + 1), viewer=OLIVE)
        assert too_many.status_code == 429, too_many.text
        [error] = too_many.json()["errors"]
        assert error["extensions"]["code"] == "WRITE_LIMITED"
        assert (
            f"{BURST + 1} followUser in one request is more than the {BURST}" in (error["message"])
        )
        assert "Retry-After" not in too_many.headers
        assert (await client.post(follows(BURST), viewer=OLIVE)).status_code == 200


async def test_write_limits_go_with_the_rate_limits(database: str) -> None:
    async with serve(database, PINQL_RATE_LIMIT=False) as client:
        for _ in range(BURST // 20 + 1):
            assert (await client.post(follows(20), viewer=OLIVE)).status_code == 200


async def test_a_keyed_retry_is_charged_and_answered_once_the_bucket_refills(
    database: str,
) -> None:
    """A retry with the same Idempotency-Key pays like any request (it is charged before it
    runs, when nobody knows yet that it will be answered from a record): with the bucket
    empty it is refused with 429 and writes nothing; sent again once the bucket allows, it
    gets the first request's answer, and the follows were written once."""
    async with serve(database, **WIDE) as client:
        before = await follow_count(database, OLIVE)
        keyed = {"Idempotency-Key": "follow-once"}
        first = await client.post(follows(20), viewer=OLIVE, headers=keyed)
        assert first.status_code == 200, first.text
        rest = await client.post(follows(BURST - 20), viewer=OLIVE)  # the bucket's last
        assert "errors" not in rest.json(), rest.text
        refused = await client.post(follows(20), viewer=OLIVE, headers=keyed)
        assert refused.status_code == 429, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "WRITE_LIMITED"
    async with serve(database, **WIDE) as refilled:  # a new process: buckets of its own
        retry = await refilled.post(follows(20), viewer=OLIVE, headers=keyed)
        assert retry.status_code == 200, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
    assert await follow_count(database, OLIVE) == before + 1  # ADA, followed once
