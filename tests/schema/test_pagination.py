"""Cursor pagination on the demo data: pages add up to one big page, newest first, stable keysets.

Every connection is walked with `first: 7` and compared with one `first: 100` request; the
keyset test inserts a pin between two pages (and deletes it again) to show that a cursor
names a position, not an offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from resolvers.ids import decode_global_id, encode_global_id
from tests.schema.demo import Subjects
from tests.support import GraphQLClient

PAGE_SIZE = 7
BIG_PAGE = 100
CONNECTION_FIELDS = """
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
"""


@dataclass(frozen=True)
class Walkable:
    """A connection to page through: its query (with `$first` and `$after`) and where it is."""

    query: str
    path: tuple[str, ...]
    variables: dict[str, Any]
    viewer: int | None = None
    page_size: int = PAGE_SIZE

    def connection(self, data: dict[str, Any]) -> dict[str, Any]:
        """The connection inside a response's data."""
        for key in self.path:
            data = data[key]
        return data


@dataclass
class Walk:
    """Every page of a walk, in order."""

    pages: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        """The node ids of all pages, in order."""
        return [edge["node"]["id"] for page in self.pages for edge in page["edges"]]


async def page(
    client: GraphQLClient, walkable: Walkable, first: int, after: str | None
) -> dict[str, Any]:
    """One page of the connection."""
    variables = {**walkable.variables, "first": first, "after": after}
    data = await client.data(walkable.query, variables, viewer=walkable.viewer)
    return walkable.connection(data)


async def walk(client: GraphQLClient, walkable: Walkable, max_pages: int = 100) -> Walk:
    """Pages through (`first: 7` unless the list is short) until hasNextPage is false."""
    pages: list[dict[str, Any]] = []
    after = None
    while len(pages) < max_pages:
        current = await page(client, walkable, walkable.page_size, after)
        pages.append(current)
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
    return Walk(pages)


def assert_pages_are_consistent(pages: list[dict[str, Any]], page_size: int) -> None:
    """Each page's pageInfo matches its edges; only the last page may be short."""
    for number, current in enumerate(pages):
        edges, info = current["edges"], current["pageInfo"]
        is_last = number == len(pages) - 1
        assert edges, f"page {number} is empty"
        assert info["hasPreviousPage"] is (number > 0)
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]
        if not is_last:
            assert len(edges) == page_size
            assert info["hasNextPage"] is True
        assert current["totalCount"] == pages[0]["totalCount"]
    cursors = [edge["cursor"] for current in pages for edge in current["edges"]]
    assert len(set(cursors)) == len(cursors), "a cursor repeats"


def assert_newest_first(ids: list[str], type_name: str) -> None:
    """Database ids strictly decrease (ids grow with creation time)."""
    decoded = [decode_global_id(i) for i in ids]
    assert {d.type_name for d in decoded} == {type_name}
    numbers = [d.id for d in decoded]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)


async def assert_walk_equals_one_big_page(
    client: GraphQLClient, walkable: Walkable, type_name: str | None
) -> Walk:
    """A complete walk yields the ids of one `first: 100` page, in order; then an empty page."""
    walked = await walk(client, walkable)
    big = await page(client, walkable, BIG_PAGE, None)

    size = walkable.page_size
    assert_pages_are_consistent(walked.pages, size)
    assert not walked.pages[-1]["pageInfo"]["hasNextPage"]
    total = big["totalCount"]
    assert size < total <= BIG_PAGE, f"pick a list of {size + 1}..100 items, not of {total}"
    assert big["pageInfo"]["hasNextPage"] is False
    assert walked.ids == [edge["node"]["id"] for edge in big["edges"]]
    assert len(walked.ids) == total
    assert len(walked.pages) == -(-total // size)
    if type_name is not None:
        assert_newest_first(walked.ids, type_name)

    empty = await page(client, walkable, size, walked.pages[-1]["pageInfo"]["endCursor"])
    assert empty["edges"] == []
    assert empty["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }
    return walked


def board_pins(subjects: Subjects) -> Walkable:
    """The pins of the demo's fullest public board."""
    return Walkable(
        query="query($board: ID!, $first: Int, $after: String) { board(id: $board) "
        f"{{ pins(first: $first, after: $after) {{ {CONNECTION_FIELDS} }} }} }}",
        path=("board", "pins"),
        variables={"board": encode_global_id("Board", subjects.board)},
    )


async def test_walking_a_boards_pins_equals_one_big_page(
    demo_client: GraphQLClient, subjects: Subjects
) -> None:
    await assert_walk_equals_one_big_page(demo_client, board_pins(subjects), "Pin")


@pytest.mark.parametrize("who", ["owner", "anonymous"])
async def test_walking_a_users_boards_equals_one_big_page(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection, who: str
) -> None:
    viewer = subjects.profile_user if who == "owner" else None
    walkable = Walkable(
        query="query($username: String!, $first: Int, $after: String) { user(username: "
        f"$username) {{ boards(first: $first, after: $after) {{ {CONNECTION_FIELDS} }} }} }}",
        path=("user", "boards"),
        variables={"username": subjects.profile_username},
        viewer=viewer,
        page_size=3,  # users have a handful of boards
    )
    boards = await db.fetchval(
        "select count(*) from boards where owner_id = $1", subjects.profile_user
    )

    walked = await assert_walk_equals_one_big_page(demo_client, walkable, "Board")

    secret = await db.fetchval(
        "select count(*) from boards where owner_id = $1 and privacy = 'SECRET'",
        subjects.profile_user,
    )
    assert secret > 0
    assert len(walked.ids) == boards - (0 if who == "owner" else secret)


async def test_walking_a_pins_comments_equals_one_big_page(
    demo_client: GraphQLClient, subjects: Subjects
) -> None:
    walkable = Walkable(
        query="query($pin: ID!, $first: Int, $after: String) { pin(id: $pin) "
        f"{{ comments(first: $first, after: $after) {{ {CONNECTION_FIELDS} }} }} }}",
        path=("pin", "comments"),
        variables={"pin": encode_global_id("Pin", subjects.repin)},
    )
    await assert_walk_equals_one_big_page(demo_client, walkable, "Comment")


async def test_walking_a_popular_users_followers_equals_one_big_page(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection
) -> None:
    username = await db.fetchval("select username from users where id = $1", subjects.popular_user)
    walkable = Walkable(
        query="query($username: String!, $first: Int, $after: String) { user(username: "
        f"$username) {{ followers(first: $first, after: $after) {{ {CONNECTION_FIELDS} }} }} }}",
        path=("user", "followers"),
        variables={"username": username},
        viewer=subjects.feed_viewer,
    )

    walked = await assert_walk_equals_one_big_page(demo_client, walkable, None)

    # Most recent follow first: the order of the follows' ids, not of the users'.
    follows = await db.fetch(
        "select follower_id from follows where followee_id = $1 order by id desc",
        subjects.popular_user,
    )
    assert walked.ids == [encode_global_id("User", r["follower_id"]) for r in follows]


async def test_walking_the_latest_pins_equals_the_first_big_page(
    demo_client: GraphQLClient,
) -> None:
    walkable = Walkable(
        query="query($first: Int, $after: String) "
        f"{{ pins(first: $first, after: $after) {{ {CONNECTION_FIELDS} }} }}",
        path=("pins",),
        variables={},
    )
    pages = BIG_PAGE // PAGE_SIZE
    walked = await walk(demo_client, walkable, max_pages=pages)
    big = await page(demo_client, walkable, BIG_PAGE, None)

    assert len(walked.pages) == pages
    assert_pages_are_consistent(walked.pages, PAGE_SIZE)
    assert walked.pages[-1]["pageInfo"]["hasNextPage"] is True
    assert walked.ids == [edge["node"]["id"] for edge in big["edges"]][: pages * PAGE_SIZE]
    assert_newest_first(walked.ids, "Pin")


async def test_a_cursor_continues_where_its_page_ended_after_a_new_pin_arrives(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection
) -> None:
    walkable = board_pins(subjects)
    reference = await page(demo_client, walkable, 2 * PAGE_SIZE, None)
    first_page = await page(demo_client, walkable, PAGE_SIZE, None)
    owner = await db.fetchval("select owner_id from boards where id = $1", subjects.board)
    new_pin = await db.fetchval(
        "insert into pins (board_id, creator_id, title, image_url, image_width, image_height, "
        "dominant_color) values ($1, $2, 'arrived between two pages', "
        "'https://images.pinql.example/pins/new.jpg', 600, 900, '#336699') returning id",
        subjects.board,
        owner,
    )
    try:
        second_page = await page(
            demo_client, walkable, PAGE_SIZE, first_page["pageInfo"]["endCursor"]
        )
        fresh_first_page = await page(demo_client, walkable, PAGE_SIZE, None)
    finally:
        await db.execute("delete from pins where id = $1", new_pin)

    def ids(connection: dict[str, Any]) -> list[str]:
        return [edge["node"]["id"] for edge in connection["edges"]]

    assert ids(fresh_first_page)[0] == encode_global_id("Pin", new_pin), "the pin did arrive"
    assert fresh_first_page["totalCount"] == reference["totalCount"] + 1
    assert ids(first_page) + ids(second_page) == ids(reference)
    assert second_page["pageInfo"]["hasPreviousPage"] is True
    after_delete = await page(demo_client, walkable, 2 * PAGE_SIZE, None)
    assert ids(after_delete) == ids(reference)
