"""The web app's operations (operations/), registered for client `web` as the README says,
run by hash on a server where `web` is safelisted: the same JSON and the same SQL statements
as the full text, and any other query refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from execution.documents import sha256_hex
from server.persisted.manifest import load_manifest
from server.persisted.store import RedisStore
from tests.conftest import redis_url
from tests.schema.demo import OPERATIONS_DIR, SIZES, Picks, operation
from tests.support import GraphQLClient, serve, without_cost

REDIS_DB = 11


@pytest.fixture(scope="module")
async def safelisted(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql with operations/ registered for a client on the safelist."""
    redis = Redis.from_url(redis_url(REDIS_DB))
    await redis.flushdb()
    await redis.aclose()
    store = RedisStore.from_url(redis_url(REDIS_DB), 3600)
    try:
        await store.register("safelisted", "dev", load_manifest(OPERATIONS_DIR))
    finally:
        await store.close()
    async with serve(
        demo_database, REDIS_URL=redis_url(REDIS_DB), clients={"safelisted": "safelist"}
    ) as client:
        yield client


def test_every_operation_is_in_the_manifest() -> None:
    documents = load_manifest(OPERATIONS_DIR)
    files = {path.stem for path in OPERATIONS_DIR.glob("*.graphql")}
    assert {d.name for d in documents} == files - {"PinCard"}  # a fragment, no operation
    assert {d.name for d in documents if d.type == "query"} == {
        name.removesuffix(".graphql") for name in SIZES
    }
    for document in documents:
        assert document.id == sha256_hex(operation(f"{document.name}.graphql"))


@pytest.mark.parametrize("name", sorted(SIZES))
async def test_by_hash_equals_the_full_text(
    demo_client: GraphQLClient, safelisted: GraphQLClient, picks: Picks, name: str
) -> None:
    text = operation(name)
    variables = SIZES[name](picks)[0]
    viewer = picks.subjects.feed_viewer
    full = await demo_client.post(text, variables, viewer=viewer)
    expected_statements = await demo_client.count_statements(text, variables, viewer=viewer)

    safelisted.log.clear()
    body = {
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(text)}},
    }
    by_hash = await safelisted.http.post(
        "/graphql",
        json=body,
        headers={**safelisted.headers(viewer), **safelisted.client("safelisted", "dev")},
    )
    assert by_hash.status_code == 200
    hashed, text = orjson.loads(by_hash.content), orjson.loads(full.content)
    assert without_cost(hashed) == without_cost(text)
    for key in ("requestedQueryCost", "actualQueryCost"):
        assert hashed["extensions"]["cost"][key] == text["extensions"]["cost"][key]
    assert "errors" not in by_hash.json()
    assert safelisted.log.count == expected_statements


async def test_a_write_operation_runs_by_hash_too(safelisted: GraphQLClient, picks: Picks) -> None:
    """CreateBoard by hash (a refused input, so the shared demo data stays as it is)."""
    text = operation("CreateBoard.graphql")
    body = {
        "variables": {"input": {"name": "  "}},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(text)}},
    }
    response = await safelisted.http.post(
        "/graphql",
        json=body,
        headers={
            **safelisted.headers(picks.subjects.feed_viewer),
            **safelisted.client("safelisted", "dev"),
        },
    )
    assert response.status_code == 200, response.text
    assert without_cost(response.json()) == {
        "data": {
            "createBoard": {
                "board": None,
                "userErrors": [
                    {"field": "name", "message": "name must not be blank", "code": "TOO_SHORT"}
                ],
            }
        }
    }


async def test_web_may_not_send_anything_else(safelisted: GraphQLClient) -> None:
    response = await safelisted.post(
        "{ viewer { id } }", headers=safelisted.client("safelisted", "dev")
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
