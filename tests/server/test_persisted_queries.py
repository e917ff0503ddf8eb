"""Persisted queries over HTTP, against the real Redis: Apollo's APQ protocol (POST and GET),
registered documents, per-client isolation and policy, the worker's cache in front of Redis,
the store without Redis. (PersistedQueries and its document cache as plain Python:
test_persisted_cache.py.)

Each test uses its own client names (registered with their policies in this module's own
database), so tests share one Redis logical database (flushed once per module) without seeing
each other's documents.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from execution.documents import sha256_hex
from server.client_keys import KEY_HEADER
from server.persisted.store import LocalStore, RedisStore, RegisteredDocument
from tests.conftest import MakeDatabase, emptied_redis, new_database, redis_url
from tests.support import GraphQLClient, serve, without_cost
from tests.world import OLIVE, USERNAMES

MIB = 2**20

REDIS_DB = 12
QUERY = "query Viewer { viewer { username } }"
HASH = sha256_hex(QUERY)
OTHER = "query Pins { pins(first: 2) { totalCount } }"
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
OPEN_CLIENTS = (
    "alt.client_1",
    "badext",
    "browser",
    "exact",
    "get-both",
    "get-mutation",
    "getvars",
    "hot",
    "ios-b",
    "mismatch",
    "nf-get",
    "nf-post",
    "padded",
    "reg-get",
    "reg-post",
    "web",
    "web-a",
)
POLICIES: dict[str, Any] = {
    "apqonly": "apq",
    "locked": "safelist",
    "watched": {"mode": "open", "log_unknown": True},
    "noapq": {"mode": "open", "apq": False},
    **dict.fromkeys(OPEN_CLIENTS, "open"),
}


def apq(sha256: str = HASH, version: object = 1) -> dict[str, Any]:
    """An `extensions` object carrying a persisted query (and what Apollo Client 4 adds)."""
    return {
        "persistedQuery": {"version": version, "sha256Hash": sha256},
        "clientLibrary": {"name": "@apollo/client", "version": "4.0.0"},
    }


@pytest.fixture(scope="module")
async def redis() -> AsyncIterator[Redis]:
    """This module's Redis database, emptied first."""
    async with emptied_redis(REDIS_DB) as connection:
        yield connection


@pytest.fixture(scope="module")
async def pq(make_database: MakeDatabase, redis: Redis) -> AsyncIterator[GraphQLClient]:
    """pinql with persisted queries in Redis and the clients of POLICIES registered."""
    database = await new_database(make_database, with_world=True)
    async with serve(database, REDIS_URL=redis_url(REDIS_DB), clients=POLICIES) as client:
        yield client


async def send(
    client: GraphQLClient,
    *,
    name: str | None,
    query: str | None = None,
    extensions: dict[str, Any] | None = None,
    method: str = "POST",
    viewer: int | None = OLIVE,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    """One request as client `name`, by POST (JSON body) or GET (URL parameters)."""
    body: dict[str, Any] = {**params}
    if query is not None:
        body["query"] = query
    if extensions is not None:
        body["extensions"] = extensions
    all_headers = {**client.headers(viewer), **client.client(name), **(headers or {})}
    if method == "GET":
        url_params = {
            k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()
        }
        return await client.http.get("/graphql", params=url_params, headers=all_headers)
    return await client.http.post("/graphql", json=body, headers=all_headers)


VIEWER_DATA = {"data": {"viewer": {"username": USERNAMES[OLIVE]}}}


# ---- Apollo's APQ protocol ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_unknown_hash_is_persisted_query_not_found(pq: GraphQLClient, method: str) -> None:
    response = await send(pq, name=f"nf-{method.lower()}", extensions=apq(), method=method)
    assert response.status_code == 200
    assert response.json() == NOT_FOUND
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_query_and_hash_store_then_hash_alone_runs(
    pq: GraphQLClient, redis: Redis, method: str
) -> None:
    name = f"reg-{method.lower()}"
    first = await send(pq, name=name, query=QUERY, extensions=apq(), method=method)
    assert first.status_code == 200
    assert without_cost(first.json()) == VIEWER_DATA
    key = f"pq:{{{name}}}:a:{HASH}"
    assert await redis.get(key) == QUERY
    assert 0 < await redis.ttl(key) <= pq.settings.apq_ttl_seconds
    again = await send(pq, name=name, extensions=apq(), method=method)
    assert again.status_code == 200
    assert without_cost(again.json()) == VIEWER_DATA


async def test_hash_mismatch_is_400_and_stores_nothing(pq: GraphQLClient, redis: Redis) -> None:
    response = await send(pq, name="mismatch", query=QUERY, extensions=apq(sha256_hex(OTHER)))
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    assert await redis.keys("pq:{mismatch}:*") == []
    later = await send(pq, name="mismatch", extensions=apq(sha256_hex(OTHER)))
    assert later.json() == NOT_FOUND


async def test_hash_is_of_the_exact_text(pq: GraphQLClient) -> None:
    """A query differing only in whitespace has another hash: no normalisation."""
    response = await send(pq, name="exact", query=QUERY + " ", extensions=apq(HASH))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (apq(version=2), "Unsupported persisted query version: 2 (only 1 is supported)"),
        (apq(version=None), "Unsupported persisted query version: None (only 1 is supported)"),
        (apq("ABC"), "extensions.persistedQuery.sha256Hash must be 64 lowercase hex, got 'ABC'"),
        (apq(HASH.upper()), "sha256Hash must be 64 lowercase hex"),
        ({"persistedQuery": "yes"}, "extensions.persistedQuery must be an object"),
    ],
    ids=["version-2", "no-version", "short-hash", "uppercase-hash", "not-an-object"],
)
async def test_bad_persisted_query_extension_is_400(
    pq: GraphQLClient, extensions: dict[str, Any], message: str
) -> None:
    response = await send(pq, name="badext", query=QUERY, extensions=extensions)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_hash_only_get_runs_even_when_a_browser_asks(pq: GraphQLClient) -> None:
    await send(pq, name="browser", query=QUERY, extensions=apq())
    response = await send(
        pq,
        name="browser",
        extensions=apq(),
        method="GET",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert without_cost(response.json()) == VIEWER_DATA


async def test_get_passes_variables_and_operation_name(pq: GraphQLClient) -> None:
    query = "query A { viewer { id } } query B($n: Int) { pins(first: $n) { edges { cursor } } }"
    await send(pq, name="getvars", query=query, extensions=apq(sha256_hex(query)))
    response = await send(
        pq,
        name="getvars",
        extensions=apq(sha256_hex(query)),
        method="GET",
        operationName="B",
        variables={"n": 1},
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]["pins"]["edges"]) == 1


async def test_mutation_over_get_is_405(pq: GraphQLClient) -> None:
    response = await send(pq, name="web", query="mutation { __typename }", method="GET")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"] == "a mutation cannot be sent with GET: use POST"


async def test_a_mutation_sent_with_get_is_not_stored_as_apq(
    pq: GraphQLClient, redis: Redis
) -> None:
    mutation = "mutation { __typename }"
    sent = apq(sha256_hex(mutation))
    refused = await send(pq, name="get-mutation", query=mutation, extensions=sent, method="GET")
    assert refused.status_code == 405
    assert await redis.keys("pq:{get-mutation}:*") == []
    assert (await send(pq, name="get-mutation", extensions=sent)).json() == NOT_FOUND
    # a document holding a query and a mutation is stored when the GET names the query
    both = "query Q { __typename } mutation M { __typename }"
    sent = apq(sha256_hex(both))
    ran = await send(
        pq, name="get-both", query=both, extensions=sent, method="GET", operationName="Q"
    )
    assert ran.status_code == 200, ran.text
    assert await redis.keys("pq:{get-both}:*") != []


async def test_get_responses_vary_and_are_not_shared_when_signed_in(pq: GraphQLClient) -> None:
    response = await send(pq, name="web", query=QUERY, method="GET")
    assert response.headers["cache-control"] == "private, no-store"
    assert "Authorization" in response.headers["vary"]
    assert "apollographql-client-name" in response.headers["vary"]


async def test_anonymous_get_is_cacheable_when_configured(world_database: str) -> None:
    async with serve(world_database, REDIS_URL=redis_url(REDIS_DB), PINQL_GET_MAX_AGE=30) as client:
        response = await client.http.get("/graphql", params={"query": OTHER})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=30"
        signed_in = await send(client, name=None, query=OTHER, method="GET")
        assert signed_in.headers["cache-control"] == "private, no-store"


# ---- per-client namespaces ----------------------------------------------------------------------


async def test_a_hash_stored_by_one_client_is_a_miss_for_another(pq: GraphQLClient) -> None:
    await send(pq, name="web-a", query=QUERY, extensions=apq())
    assert without_cost((await send(pq, name="web-a", extensions=apq())).json()) == VIEWER_DATA
    assert (await send(pq, name="ios-b", extensions=apq())).json() == NOT_FOUND
    assert (await send(pq, name=None, extensions=apq())).json() == NOT_FOUND  # anonymous


async def test_no_client_header_is_the_anonymous_client(pq: GraphQLClient, redis: Redis) -> None:
    query = "query Anon { viewer { id } }"
    await send(pq, name=None, query=query, extensions=apq(sha256_hex(query)))
    assert await redis.exists(f"pq:{{anonymous}}:a:{sha256_hex(query)}") == 1


async def test_graphql_client_name_header_is_accepted_too(pq: GraphQLClient, redis: Redis) -> None:
    query = "query Other { viewer { id } }"
    response = await pq.http.post(
        "/graphql",
        json={"query": query, "extensions": apq(sha256_hex(query))},
        headers={"graphql-client-name": "alt.client_1", KEY_HEADER: pq.keys["alt.client_1"]},
    )
    assert response.status_code == 200
    assert await redis.exists(f"pq:{{alt.client_1}}:a:{sha256_hex(query)}") == 1


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"apollographql-client-name": "Web App"},
            "apollographql-client-name header: client name must match [a-z0-9._-]{1,32}, "
            "got 'Web App'",
        ),
        ({"graphql-client-name": "x" * 33}, "graphql-client-name header: client name must"),
        ({"apollographql-client-name": "pq:{web}"}, "got 'pq:{web}'"),
        (
            {"apollographql-client-name": "web", "apollographql-client-version": "1 0"},
            "apollographql-client-version header: client version must match",
        ),
    ],
    ids=["space-and-caps", "too-long", "key-injection", "bad-version"],
)
async def test_bad_client_headers_are_400(
    pq: GraphQLClient, headers: dict[str, str], message: str
) -> None:
    response = await pq.http.post("/graphql", json={"query": QUERY}, headers=headers)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"] == {"code": "INVALID_CLIENT"}


# ---- registered documents and policies ----------------------------------------------------------


async def register(name: str, *queries: str) -> None:
    """Registers `queries` for client `name` (as `pinql operations register` does)."""
    store = RedisStore.from_url(redis_url(REDIS_DB), 3600)
    try:
        documents = [RegisteredDocument(sha256_hex(q), q, None, "query") for q in queries]
        await store.register(name, "1.0.0", documents)
    finally:
        await store.close()


async def test_safelist_runs_registered_documents_only(pq: GraphQLClient, redis: Redis) -> None:
    await register("locked", QUERY)
    by_hash = await send(pq, name="locked", extensions=apq())
    assert without_cost(by_hash.json()) == VIEWER_DATA
    by_text = await send(pq, name="locked", query=QUERY)  # the text of a registered document
    assert without_cost(by_text.json()) == VIEWER_DATA

    unknown = await send(pq, name="locked", extensions=apq(sha256_hex(OTHER)))
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0] == {
        "message": f"operation {sha256_hex(OTHER)} is not registered for client 'locked'",
        "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
    }
    text = await send(pq, name="locked", query=OTHER)
    assert text.status_code == 403
    [error] = text.json()["errors"]
    assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
    assert (
        "client 'locked' may only run registered operations (policy safelist)" in (error["message"])
    )
    registering = await send(pq, name="locked", query=OTHER, extensions=apq(sha256_hex(OTHER)))
    assert registering.status_code == 403
    assert await redis.keys("pq:{locked}:a:*") == []


async def test_registered_for_one_client_is_not_registered_for_another(pq: GraphQLClient) -> None:
    await register("locked", QUERY)
    response = await send(pq, name="apqonly", query=QUERY)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_ID_REQUIRED"}


async def test_apq_policy_refuses_plain_text_but_runs_apq(pq: GraphQLClient) -> None:
    text = await send(pq, name="apqonly", query=OTHER)
    assert text.status_code == 400
    [error] = text.json()["errors"]
    assert "client 'apqonly' must send persisted queries (policy apq)" in error["message"]
    assert (await send(pq, name="apqonly", extensions=apq())).json() == NOT_FOUND
    stored = await send(pq, name="apqonly", query=QUERY, extensions=apq())
    assert without_cost(stored.json()) == VIEWER_DATA
    assert without_cost((await send(pq, name="apqonly", extensions=apq())).json()) == VIEWER_DATA


async def test_apq_switched_off_is_not_supported(pq: GraphQLClient) -> None:
    for query in (None, QUERY):
        response = await send(pq, name="noapq", query=query, extensions=apq())
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}
        assert "APQ is off for client 'noapq'" in error["message"]
    assert without_cost((await send(pq, name="noapq", query=QUERY)).json()) == VIEWER_DATA


async def test_log_unknown_logs_and_still_serves_open_clients(
    pq: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    await register("watched", QUERY)
    with caplog.at_level(logging.WARNING, logger="pinql.persisted"):
        assert without_cost((await send(pq, name="watched", query=QUERY)).json()) == VIEWER_DATA
        assert caplog.records == []
        response = await send(pq, name="watched", query=OTHER)
    assert response.status_code == 200
    assert "errors" not in response.json()
    [record] = caplog.records
    assert record.getMessage() == (
        f"client watched sent an unregistered operation: query text sha256 {sha256_hex(OTHER)}"
    )


# ---- caches -------------------------------------------------------------------------------------


async def test_a_hot_document_is_served_without_redis(pq: GraphQLClient, redis: Redis) -> None:
    """After the first hit, the worker's LRU answers: deleting the Redis key changes nothing."""
    query = "query Hot { viewer { username } }"
    await send(pq, name="hot", query=query, extensions=apq(sha256_hex(query)))
    await redis.delete(f"pq:{{hot}}:a:{sha256_hex(query)}")
    response = await send(pq, name="hot", extensions=apq(sha256_hex(query)))
    assert without_cost(response.json()) == VIEWER_DATA


# ---- without Redis ------------------------------------------------------------------------------


async def test_without_redis_documents_live_in_the_process_and_a_file(
    make_database: MakeDatabase, tmp_path: Any
) -> None:
    async with serve(
        await new_database(make_database, with_world=True),
        REDIS_URL=None,
        PINQL_DATA_DIR=str(tmp_path),
        clients={"locked": "safelist", "web": "open"},
    ) as client:
        assert (await send(client, name="web", extensions=apq())).json() == NOT_FOUND
        await send(client, name="web", query=QUERY, extensions=apq())
        assert (
            without_cost((await send(client, name="web", extensions=apq())).json()) == VIEWER_DATA
        )

        refused = await send(client, name="locked", extensions=apq())
        assert refused.status_code == 404
        # `pinql operations register` writes the file; the running server picks it up.
        store = LocalStore(tmp_path, 3600)
        await store.register(
            "locked", "2.0.0", [RegisteredDocument(HASH, QUERY, "Viewer", "query")]
        )
        assert (
            without_cost((await send(client, name="locked", extensions=apq())).json())
            == VIEWER_DATA
        )


async def test_an_apq_text_over_the_size_limit_is_refused_and_not_stored(
    pq: GraphQLClient, redis: Redis
) -> None:
    padded = QUERY + "# " + "x" * (pq.settings.apq_max_bytes - len(QUERY)) + "\n"
    size = len(padded.encode())
    refused = await send(pq, name="padded", query=padded, extensions=apq(sha256_hex(padded)))
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_TOO_LARGE"
    assert f"{size:,} bytes" in error["message"]
    assert f"{pq.settings.apq_max_bytes:,} (PINQL_APQ_MAX_BYTES)" in error["message"]
    assert await redis.keys("pq:{padded}:*") == []
    # at the limit it is stored and runs; the same text as a plain query runs too
    fits = QUERY + "# " + "x" * (pq.settings.apq_max_bytes - len(QUERY) - 3) + "\n"
    assert len(fits.encode()) == pq.settings.apq_max_bytes
    stored = await send(pq, name="padded", query=fits, extensions=apq(sha256_hex(fits)))
    assert without_cost(stored.json()) == VIEWER_DATA
    assert await redis.keys("pq:{padded}:*") != []
    plain = await send(pq, name="padded", query=padded)
    assert without_cost(plain.json()) == VIEWER_DATA
