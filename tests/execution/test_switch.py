"""PINQL_FAST_PATH through /graphql: every operation in operations/ answers byte for byte the
same with the engine on and off, and the metrics say where each operation ran and why. (The
differential tests of the engine itself are in tests/execution/test_differential.py.)"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from execution.documents import sha256_hex
from tests.schema.demo import SIZES, Picks, operation
from tests.support import GraphQLClient, serve

# Rate limits off: the buckets' currentlyAvailable would differ between the two apps.
SETTINGS = {"PINQL_RATE_LIMIT": False}


@pytest.fixture(scope="module")
async def normal(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql with the engine off: graphql-core runs everything."""
    async with serve(demo_database, PINQL_FAST_PATH=False, **SETTINGS) as client:
        yield client


@pytest.fixture(scope="module")
async def fast(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql with the engine on (the default)."""
    async with serve(demo_database, **SETTINGS) as client:
        yield client


@pytest.mark.parametrize("name", sorted(SIZES))
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_both_paths_answer_byte_for_byte_the_same(
    normal: GraphQLClient, fast: GraphQLClient, picks: Picks, name: str, signed_in: bool
) -> None:
    viewer = picks.subjects.feed_viewer if signed_in else None
    for variables in (*SIZES[name](picks), {"first": 0}):
        expected = await normal.post(operation(name), variables, viewer=viewer)
        got = await fast.post(operation(name), variables, viewer=viewer)
        assert (got.status_code, got.content) == (expected.status_code, expected.content)


async def test_metrics_say_where_each_operation_ran_and_why(
    normal: GraphQLClient, fast: GraphQLClient, picks: Picks
) -> None:
    small, _ = SIZES["LatestPins.graphql"](picks)
    for client in (normal, fast):
        await client.data(operation("LatestPins.graphql"), small)
    await fast.data("{ __schema { queryType { name } } }")  # introspection: by design
    refused = await fast.post(  # a condition variable given null: graphql-core reports it
        "query($a: Boolean = true) { viewer @include(if: $a) { id } }", {"a": None}
    )
    assert refused.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    scraped = (await normal.http.get("/metrics")).text
    assert 'pinql_executions_total{execution="graphql",reason="disabled"}' in scraped
    scraped = (await fast.http.get("/metrics")).text
    assert 'pinql_executions_total{execution="fast",reason="planned"}' in scraped
    assert 'pinql_executions_total{execution="graphql",reason="introspection"}' in scraped
    assert 'pinql_executions_total{execution="fallback",reason="condition"}' in scraped


async def test_a_fallback_is_logged_once_per_document_and_reason(
    fast: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    text = "query Nullable($a: Boolean = true) { viewer @include(if: $a) { id } }"
    with caplog.at_level(logging.INFO, logger="pinql.execution"):
        for _ in range(3):
            assert (await fast.post(text, {"a": None})).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "pinql.execution"]
    assert lines == [f"not run on the engine (condition): document {sha256_hex(text)}"]
