"""Search through the GraphQL API on a small hand-made corpus (tests/schema/search_corpus.py):
relevance order, privacy, typo tolerance, cursors that hold under ties and new rows, inert
highlights, postings kept by writes, statement counts flat in `first`, the queries a hostile
client sends, the search across kinds, and the cost charged."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from graphql import OperationDefinitionNode, parse

from execution.plan import plan
from resolvers.ids import decode_global_id, encode_global_id
from resolvers.opaque import opaque
from resolvers.search import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, SEARCH_COST
from schema.build import build_schema
from tests.conftest import MakeDatabase
from tests.schema.search_corpus import (
    CAROLINE,
    OLIVE,
    OLIVE_SECRET,
    OTTO,
    OTTO_GRANOLA,
    OTTO_PUBLIC,
    TIES,
    WHEN,
    create_corpus,
    errors,
    ids,
)
from tests.support import GraphQLClient, serve

PINS_QUERY = """
query ($q: String!, $first: Int, $after: String) {
  searchPins(query: $q, first: $first, after: $after) {
    edges { cursor node { id title } highlight { text matched } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    return await create_corpus(make_database)


async def _pins(
    client: GraphQLClient, query: str, viewer: int | None = None, **variables: Any
) -> dict[str, Any]:
    data = await client.data(PINS_QUERY, {"q": query, **variables}, viewer=viewer)
    found: dict[str, Any] = data["searchPins"]
    return found


async def test_a_phrase_in_the_title_ranks_above_the_same_words_scattered(
    client: GraphQLClient,
) -> None:
    found = await _pins(client, "mid century sofa")
    assert ids(found) == [1, 2]
    stir_fry = await _pins(client, '"stir fry"')
    assert set(ids(stir_fry)) == {3, 4, 5}
    assert ids(stir_fry)[-1] == 4, "the phrase only in the description ranks last"
    assert set(ids(await _pins(client, '"stir fry" -vegan'))) == {4, 5}
    assert set(ids(await _pins(client, "vegan or chicken"))) == {3, 5}


@pytest.mark.parametrize("viewer", [None, OTTO, CAROLINE])
async def test_a_secret_board_and_its_pins_match_for_no_one_else(
    client: GraphQLClient, viewer: int | None
) -> None:
    assert 6 not in ids(await _pins(client, "lasagna party", viewer))
    assert ids(await _pins(client, "nobody know", viewer)) == []
    boards = await client.data('{ searchBoards(query: "lasagna") { nodes { id } } }', viewer=viewer)
    assert boards["searchBoards"]["nodes"] == []


async def test_the_owner_finds_their_secret_board_and_its_pins(client: GraphQLClient) -> None:
    assert ids(await _pins(client, "lasagna party", OLIVE)) == [6]
    boards = await client.data(
        '{ searchBoards(query: "lasagna") { nodes { id name privacy } } }', viewer=OLIVE
    )
    assert boards["searchBoards"]["nodes"] == [
        {
            "id": encode_global_id("Board", OLIVE_SECRET),
            "name": "Secret lasagna plans",
            "privacy": "SECRET",
        }
    ]


@pytest.mark.parametrize("typed", ["carol", "caroline walkr", "Walker", "caroline.w"])
async def test_people_search_forgives_prefixes_and_typos(client: GraphQLClient, typed: str) -> None:
    data = await client.data(
        "query ($q: String!) { searchUsers(query: $q) { edges { node { username } "
        "highlight { text matched } } } }",
        {"q": typed},
    )
    edges = data["searchUsers"]["edges"]
    assert edges and edges[0]["node"]["username"] == "caroline.w"
    segments = edges[0]["highlight"]
    assert "".join(s["text"] for s in segments) in ("Caroline Walker", "caroline.w")


async def test_pages_of_tied_scores_neither_repeat_nor_skip(client: GraphQLClient) -> None:
    seen: list[int] = []
    after = None
    while True:
        page = await _pins(client, "granola", first=2, after=after)
        seen += ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(range(100, 100 + TIES), reverse=True)


async def test_a_pin_created_between_pages_does_not_shift_them(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    first = await _pins(client, "granola", first=3)
    await sql.execute(
        "insert into pins (board_id, creator_id, title, image_url, image_width, image_height, "
        "dominant_color, created_at) values ($1, $2, 'Tied granola bowl', "
        "'https://img.example/p.jpg', 10, 10, '#aabbcc', $3)",
        OTTO_PUBLIC,
        OTTO,
        WHEN,
    )
    try:
        rest = await _pins(client, "granola", first=50, after=first["pageInfo"]["endCursor"])
        assert ids(first) + ids(rest) == sorted(range(100, 100 + TIES), reverse=True)
        fresh = await _pins(client, "granola", first=50)
        assert len(ids(fresh)) == TIES + 1, "a new search finds the new pin"
    finally:
        await sql.execute("delete from pins where id > 1000")


async def test_highlights_are_text_segments_and_cannot_be_forged(client: GraphQLClient) -> None:
    found = await _pins(client, "lasagna")
    by_id = {decode_global_id(e["node"]["id"])[1]: e["highlight"] for e in found["edges"]}
    assert by_id[7] == [
        {"text": "<script>alert(1)</script> ", "matched": False},
        {"text": "lasagna", "matched": True},
    ]
    assert by_id[8] == [
        {"text": "fake mark on ", "matched": False},
        {"text": "lasagna", "matched": True},
    ]


async def test_writes_keep_the_search_current(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    await sql.execute("update pins set title = 'Overnight oats' where id = 5")
    try:
        assert 5 not in ids(await _pins(client, "chicken"))
        assert ids(await _pins(client, "overnight oats")) == [5]
        await sql.execute("update boards set name = 'Weeknight dinners' where id = $1", OTTO_PUBLIC)
        boards = await client.data('{ searchBoards(query: "weeknight") { nodes { name } } }')
        assert boards["searchBoards"]["nodes"] == [{"name": "Weeknight dinners"}]
        postings = await sql.fetchval("select count(*) from pin_terms where pin_id = 5")
        assert postings == 2  # 'overnight', 'oat'
    finally:
        await sql.execute("update pins set title = 'Chicken stir fry' where id = 5")
        await sql.execute("update boards set name = 'Living room' where id = $1", OTTO_PUBLIC)
    stale = await sql.fetchval(
        "select count(*) from (select lexeme, pin_id from pin_terms except "
        "select w.lexeme, p.id from pins p, unnest(p.search) as w) as s"
    )
    assert stale == 0


async def test_a_deleted_pin_leaves_no_posting(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await sql.fetchval(
        "insert into pins (board_id, creator_id, title, image_url, image_width, image_height, "
        "dominant_color) values ($1, $2, 'Quince jam', 'https://img.example/p.jpg', 10, 10, "
        "'#aabbcc') returning id",
        OTTO_PUBLIC,
        OTTO,
    )
    assert ids(await _pins(client, "quince")) == [pin]
    await sql.execute("delete from pins where id = $1", pin)
    assert await sql.fetchval("select count(*) from pin_terms where pin_id = $1", pin) == 0
    assert ids(await _pins(client, "quince")) == []


async def test_statements_do_not_grow_with_first(client: GraphQLClient) -> None:
    query = (
        'query ($first: Int) { searchPins(query: "granola", first: $first) { edges { '
        "node { title creator { username } board { name } saveCount } } } }"
    )
    counts = {first: await client.count_statements(query, {"first": first}) for first in (1, 2, 7)}
    assert counts == {1: 2, 2: 2, 7: 2}


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        ("x" * 10_240, f"at most {MAX_QUERY_LENGTH} characters, got 10240"),
        (" ".join(["sofa"] * 500), f"at most {MAX_QUERY_LENGTH} characters, got 2499"),
        (" ".join("a" * (MAX_QUERY_WORDS + 1)), f"at most {MAX_QUERY_WORDS} words, got 17"),
        ("   ", "must not be blank"),
        ("sofa\x00", "must not contain NUL characters"),
    ],
)
@pytest.mark.parametrize("field", ["searchPins", "searchBoards", "searchUsers"])
async def test_queries_breaking_a_rule_are_bad_user_input(
    client: GraphQLClient, query: str, rule: str, field: str
) -> None:
    body = await client.execute(
        f"query ($q: String!) {{ {field}(query: $q) {{ nodes {{ id }} }} }}", {"q": query}
    )
    assert body["data"] is None
    [(code, message)] = errors(body)
    assert code == "BAD_USER_INPUT"
    assert rule in message


@pytest.mark.parametrize("query", ["the of and", "!!! ???", "-- ** ::", "or"])
@pytest.mark.parametrize("field", ["searchPins", "searchBoards", "searchUsers"])
async def test_queries_that_match_nothing_are_empty(
    client: GraphQLClient, query: str, field: str
) -> None:
    data = await client.data(
        f"query ($q: String!) {{ {field}(query: $q) {{ nodes {{ id }} "
        "pageInfo { hasNextPage endCursor } } }",
        {"q": query},
    )
    assert data[field] == {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


async def test_a_query_without_letters_or_digits_sends_no_sql(client: GraphQLClient) -> None:
    assert await client.count_statements('{ searchPins(query: "!!! ???") { nodes { id } } }') == 0


@pytest.mark.parametrize(
    "after",
    [
        "nope",
        opaque("cursor:1"),  # a list's
        opaque("search:7ff0000000000000:1:2"),  # score +Infinity
        opaque("search:3ff0000000000000:1:0"),  # id 0
        opaque("search:3FF0000000000000:1:2"),  # not as encoded
        "x" * 200,
    ],
)
async def test_a_bad_cursor_is_bad_user_input(client: GraphQLClient, after: str) -> None:
    body = await client.execute(PINS_QUERY, {"q": "granola", "after": after})
    [(code, message)] = errors(body)
    assert code == "BAD_USER_INPUT"
    assert "not a valid search cursor" in message


MIXED_QUERY = """
query ($q: String!, $first: Int, $after: String, $types: [SearchType!]) {
  search(query: $q, first: $first, after: $after, types: $types) {
    edges {
      cursor
      node {
        __typename
        ... on Pin { id }
        ... on Board { id }
        ... on User { id }
      }
    }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def _mixed(
    client: GraphQLClient, query: str, viewer: int | None = None, **variables: Any
) -> dict[str, Any]:
    data = await client.data(MIXED_QUERY, {"q": query, **variables}, viewer=viewer)
    found: dict[str, Any] = data["search"]
    return found


def _kinds(connection: dict[str, Any]) -> list[tuple[str, int]]:
    return [decode_global_id(e["node"]["id"]) for e in connection["edges"]]


async def test_search_merges_the_kinds_by_score_and_ties_by_kind_then_id(
    client: GraphQLClient,
) -> None:
    whole = _kinds(await _mixed(client, "granola", first=50))
    assert whole == [("Pin", p) for p in range(100 + TIES - 1, 99, -1)] + [("Board", OTTO_GRANOLA)]
    paged: list[tuple[str, int]] = []
    after = None
    while True:
        page = await _mixed(client, "granola", first=3, after=after)
        paged += _kinds(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == whole


async def test_search_keeps_privacy_and_filters_by_type(client: GraphQLClient) -> None:
    found = _kinds(await _mixed(client, "lasagna", OLIVE, first=50))
    assert set(found) == {("Pin", 6), ("Pin", 7), ("Pin", 8), ("Board", OLIVE_SECRET)}
    others = _kinds(await _mixed(client, "lasagna", OTTO, first=50))
    assert set(others) == {("Pin", 7), ("Pin", 8)}
    boards = _kinds(await _mixed(client, "lasagna", OLIVE, types=["BOARD"]))
    assert boards == [("Board", OLIVE_SECRET)]
    people = _kinds(await _mixed(client, "caroline", types=["USER", "BOARD"]))
    assert people == [("User", CAROLINE)]


async def test_search_refuses_no_types_and_a_cursor_of_one_kind(client: GraphQLClient) -> None:
    body = await client.execute(MIXED_QUERY, {"q": "granola", "types": []})
    assert errors(body) == [("BAD_USER_INPUT", "types must name at least one of PIN, BOARD, USER")]
    one_kind = (await _pins(client, "granola", first=1))["pageInfo"]["endCursor"]
    body = await client.execute(MIXED_QUERY, {"q": "granola", "after": one_kind})
    [(code, message)] = errors(body)
    assert code == "BAD_USER_INPUT"
    assert "not a valid search cursor" in message


async def test_a_search_is_charged_its_surcharge_when_it_ran(client: GraphQLClient) -> None:
    body = await client.execute('{ searchPins(query: "granola", first: 3) { nodes { id } } }')
    assert body["extensions"]["cost"]["requestedQueryCost"] == SEARCH_COST + 1 + 3
    assert body["extensions"]["cost"]["actualQueryCost"] == SEARCH_COST + 1 + 3
    empty = await client.execute('{ searchPins(query: "zzzqqq") { nodes { id } } }')
    assert empty["extensions"]["cost"]["actualQueryCost"] == SEARCH_COST + 1
    mixed = await client.execute('{ search(query: "zzzqqq", first: 5) { nodes { __typename } } }')
    assert mixed["extensions"]["cost"]["requestedQueryCost"] == 3 * SEARCH_COST + 1 + 5


async def test_the_engine_and_graphql_core_answer_alike(database: str) -> None:
    for text in (PINS_QUERY, MIXED_QUERY):
        document = parse(text)
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        plan(build_schema()._schema, document, operation)  # raises if the engine would not
    async with serve(database, fast_path=False) as reference, serve(database) as engine:
        for query, viewer in (("granola", None), ("lasagna", OLIVE), ("stir fry", OTTO)):
            variables = {"q": query, "first": 3}
            for text in (PINS_QUERY, MIXED_QUERY):
                assert await engine.data(text, variables, viewer=viewer) == (
                    await reference.data(text, variables, viewer=viewer)
                )
