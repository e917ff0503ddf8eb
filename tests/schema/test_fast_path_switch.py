"""PINQL_FAST_PATH through /graphql: every operation in operations/ answers byte for byte the
same with the fast path on and off, and the metrics say which path ran. (The differential
tests of the executor itself are in tests/schema/test_fast_path.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.schema.demo import SIZES, Picks, operation
from tests.support import GraphQLClient, serve

# Rate limits off: the buckets' currentlyAvailable would differ between the two apps.
SETTINGS = {"PINQL_RATE_LIMIT": False}


@pytest.fixture(scope="module")
async def normal(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql with the fast path off."""
    async with serve(demo_database, PINQL_FAST_PATH=False, **SETTINGS) as client:
        yield client


@pytest.fixture(scope="module")
async def fast(demo_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql with the fast path on (the default)."""
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


async def test_metrics_say_which_path_ran(
    normal: GraphQLClient, fast: GraphQLClient, picks: Picks
) -> None:
    small, _ = SIZES["LatestPins.graphql"](picks)
    for client in (normal, fast):
        await client.data(operation("LatestPins.graphql"), small)
    introspection = "{ __schema { queryType { name } } }"
    await fast.data(introspection)  # not planned: the normal path answers
    assert 'pinql_executions_total{execution="graphql"}' in (await normal.http.get("/metrics")).text
    scraped = (await fast.http.get("/metrics")).text
    assert 'pinql_executions_total{execution="fast"}' in scraped
    assert 'pinql_executions_total{execution="fallback"}' in scraped
