"""A request leaves no reference cycle behind: everything it built is freed by reference
counting the moment it is answered, never left for the garbage collector.

A cycle through a request's objects (a page holding the loader that holds the page, a
session holding a bound method of itself) keeps every row, edge and loader of the request
alive until a collection finds it: the collector then runs often and long on a busy worker
(about 12% of a worker's CPU on the board page before these were removed, measured
in-process), and rarer collections let memory grow.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.schema.demo import SIZES, Picks, operation, query_files
from tests.support import GraphQLClient, saving_garbage

# What a request builds: its session, loaders, rows and pages. (graphql-core's executor and
# visitors are cycles by design: `execution.reference.ReferenceExecutor` lets go of the
# request's context, so graphql-core's path's cycle holds none of these.)
REQUEST_PACKAGES = ("db.", "loaders.", "resolvers.")


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """The garbage collector keeps what it finds unreachable instead of freeing it, and
    collects only when asked, until the test ends."""
    with saving_garbage() as garbage:
        yield garbage


def request_objects(garbage: list[object]) -> Counter[str]:
    """Garbage objects of the classes a request builds, counted by class."""
    return Counter(
        f"{type(o).__module__}.{type(o).__qualname__}"
        for o in garbage
        if type(o).__module__.startswith(REQUEST_PACKAGES)
    )


@pytest.mark.parametrize("name", sorted(query_files()))
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "normal-path"])
async def test_a_request_leaves_no_cycle_of_its_objects(
    demo_client: GraphQLClient,
    normal_path_client: GraphQLClient,
    picks: Picks,
    saved_garbage: list[object],
    name: str,
    fast_path: bool,
) -> None:
    client = demo_client if fast_path else normal_path_client
    _, variables = SIZES[name](picks)
    viewer = picks.subjects.feed_viewer
    for _ in range(2):  # plain text is kept prepared from its second sighting on
        await client.data(operation(name), variables, viewer=viewer)
    gc.collect()
    saved_garbage.clear()

    for _ in range(3):
        data = await client.data(operation(name), variables, viewer=viewer)
        assert data
    gc.collect()

    left = request_objects(saved_garbage)
    assert left == {}, f"{name}: left for the garbage collector: {left}"
