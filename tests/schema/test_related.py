"""Pin.related through the GraphQL API on the hand-made search corpus
(tests/schema/search_corpus.py): which pins, in which order, under each viewer's privacy,
pages that neither repeat nor skip, and one statement for a whole page's pins."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase
from tests.schema.search_corpus import OLIVE, OTTO, TIES, create_corpus, ids
from tests.support import GraphQLClient


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    return await create_corpus(make_database)


RELATED_QUERY = """
query ($pin: ID!, $first: Int, $after: String) {
  pin(id: $pin) {
    related(first: $first, after: $after) {
      edges { cursor node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _related(
    client: GraphQLClient, pin: int, viewer: int | None = None, **variables: Any
) -> dict[str, Any]:
    variables = {"pin": encode_global_id("Pin", pin), **variables}
    data = await client.data(RELATED_QUERY, variables, viewer=viewer)
    found: dict[str, Any] = data["pin"]["related"]
    return found


@pytest.mark.parametrize("viewer", [None, OTTO, OLIVE])
async def test_related_pins_share_words_boards_or_creator_and_keep_privacy(
    client: GraphQLClient, viewer: int | None
) -> None:
    # Pin 5 "Chicken stir fry" (olive's), saved by otto onto his board as pin 9.
    words = [4, 3]  # "stir" and "fry" in the title, and olive's: 2.5 each
    saved_onto = [*range(100 + TIES - 1, 99, -1), 2, 1]  # on otto's board holding 9: 1 each
    olives = [8, 7, 6] if viewer == OLIVE else [8, 7]  # olive's other pins: 0.5 (6 is secret)
    expected = words + saved_onto + olives
    assert ids(await _related(client, 5, viewer, first=50)) == expected
    paged: list[int] = []
    after = None
    while True:
        page = await _related(client, 5, viewer, first=4, after=after)
        paged += ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == expected, "never itself (5), its repin (9), nor a pin twice"


async def test_related_pins_of_a_page_are_one_statement_whatever_its_size(
    client: GraphQLClient,
) -> None:
    query = (
        "query ($first: Int) { pins(first: $first) { nodes { "
        "related(first: 3) { nodes { title } } } } }"
    )
    counts = {first: await client.count_statements(query, {"first": first}) for first in (1, 4, 12)}
    assert counts == {1: 2, 4: 2, 12: 2}
