"""The frontend's operations (operations/*.graphql) run on the demo data and return the right data.

Subjects (a viewer who follows people, a full board, a profile with a secret board, a repin
with comments) are picked with SQL, which is also the reference the answers are checked
against.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from resolvers.ids import decode_global_id, encode_global_id
from tests.schema.demo import Subjects, one_row, operation
from tests.support import GraphQLClient

COLOR = re.compile(r"^#[0-9a-f]{6}$")
VISIBLE = "(b.privacy = 'PUBLIC' or b.owner_id = $1::bigint)"


def gid(type_name: str, id: int) -> str:
    """The global ID of a row."""
    return encode_global_id(type_name, id)


def db_ids(items: list[dict[str, Any]], type_name: str) -> list[int]:
    """The database ids of nodes (each must be a `type_name`)."""
    decoded = [decode_global_id(item["id"]) for item in items]
    assert {d.type_name for d in decoded} <= {type_name}
    return [d.id for d in decoded]


def assert_first_page(connection: dict[str, Any], items: list[Any], first: int) -> None:
    """A connection's first page: at most `first` items, counts and pageInfo consistent."""
    assert len(items) <= first
    total = connection.get("totalCount")
    info = connection.get("pageInfo", {})
    if total is not None:
        assert total >= len(items)
        assert len(items) == min(first, total)
        if "hasNextPage" in info:
            assert info["hasNextPage"] == (total > first)
    if "endCursor" in info:
        edges = connection.get("edges")
        if edges is not None:
            assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
    if "hasPreviousPage" in info:
        assert info["hasPreviousPage"] is False


# Each pin's row as a PinCard shows it, for a viewer ($1): its creator and board, and its
# saves onto boards the viewer may see and its comments.
PIN_CARDS = f"""
    select p.id, p.title, p.image_url, p.image_width, p.image_height, p.dominant_color,
        u.id as creator_id, u.username, u.display_name, sb.id as board_id, sb.name as board_name,
        (select count(*) from pins p2 join boards b on b.id = p2.board_id
         where p2.saved_from_id = p.id and {VISIBLE}) as saves,
        (select count(*) from comments c where c.pin_id = p.id) as comments
    from pins p join users u on u.id = p.creator_id join boards sb on sb.id = p.board_id
    where p.id = any($2::bigint[])
"""


async def assert_pin_cards(
    db: asyncpg.Connection, pins: list[dict[str, Any]], viewer: int | None
) -> None:
    """The PinCard fragment of each pin: every field as the database holds it for the viewer
    (the counts with its privacy)."""
    rows = {r["id"]: r for r in await db.fetch(PIN_CARDS, viewer, db_ids(pins, "Pin"))}
    assert len(rows) == len(pins)
    for pin in pins:
        row = rows[decode_global_id(pin["id"]).id]
        image = pin["image"]
        assert (pin["title"], image["url"], image["width"], image["height"]) == (
            row["title"],
            row["image_url"],
            row["image_width"],
            row["image_height"],
        )
        assert (
            COLOR.match(image["dominantColor"]) and image["dominantColor"] == row["dominant_color"]
        )
        assert pin["creator"]["id"] == gid("User", row["creator_id"])
        assert (pin["creator"]["username"], pin["creator"]["displayName"]) == (
            row["username"],
            row["display_name"],
        )
        assert pin["board"] == {"id": gid("Board", row["board_id"]), "name": row["board_name"]}
        assert (pin["saveCount"], pin["commentCount"]) == (row["saves"], row["comments"])


async def test_home_feed_shows_the_newest_pins_of_followed_users(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection
) -> None:
    viewer, first = subjects.feed_viewer, 20
    data = await demo_client.data(operation("HomeFeed.graphql"), {"first": first}, viewer=viewer)

    assert data["viewer"]["id"] == gid("User", viewer)
    assert data["viewer"]["username"]
    feed = data["homeFeed"]
    pins = [edge["node"] for edge in feed["edges"]]
    await assert_pin_cards(db, pins, viewer)
    expected = await db.fetch(
        f"select p.id from follows f join pins p on p.creator_id = f.followee_id "
        f"join boards b on b.id = p.board_id where f.follower_id = $1 and {VISIBLE} "
        f"order by p.id desc limit $2",
        viewer,
        first + 1,
    )
    assert db_ids(pins, "Pin") == [r["id"] for r in expected][:first]
    assert len(pins) == first
    assert feed["pageInfo"] == {
        "hasNextPage": len(expected) > first,
        "endCursor": feed["edges"][-1]["cursor"],
    }
    followees = {
        r[0]
        for r in await db.fetch("select followee_id from follows where follower_id = $1", viewer)
    }
    assert {decode_global_id(p["creator"]["id"]).id for p in pins} <= followees


async def test_home_feed_needs_a_signed_in_viewer(demo_client: GraphQLClient) -> None:
    body = await demo_client.execute(operation("HomeFeed.graphql"), {"first": 20})

    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["homeFeed"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_board_page_shows_the_board_its_owner_and_its_pins(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection, signed_in: bool
) -> None:
    viewer = subjects.feed_viewer if signed_in else None
    first = 10
    data = await demo_client.data(
        operation("BoardPage.graphql"),
        {"boardId": gid("Board", subjects.board), "first": first},
        viewer=viewer,
    )

    board = data["board"]
    row = await one_row(db, "select * from boards where id = $1", subjects.board)
    assert board["id"] == gid("Board", row["id"])
    assert (board["name"], board["description"], board["privacy"]) == (
        row["name"],
        row["description"],
        "PUBLIC",
    )
    assert datetime.fromisoformat(board["createdAt"]) == row["created_at"]
    owner = board["owner"]
    assert owner["id"] == gid("User", row["owner_id"])
    assert owner["followerCount"] == await db.fetchval(
        "select count(*) from follows where followee_id = $1", row["owner_id"]
    )
    assert owner["viewerIsFollowing"] == (
        viewer is not None
        and await db.fetchval(
            "select exists (select 1 from follows where follower_id = $1 and followee_id = $2)",
            viewer,
            row["owner_id"],
        )
    )
    pins = board["pins"]
    nodes = [edge["node"] for edge in pins["edges"]]
    expected = await db.fetch(
        "select id from pins where board_id = $1 order by id desc", subjects.board
    )
    assert board["pinCount"] == pins["totalCount"] == len(expected) > first
    assert db_ids(nodes, "Pin") == [r["id"] for r in expected[:first]]
    assert_first_page(pins, nodes, first)
    assert pins["pageInfo"]["startCursor"] == pins["edges"][0]["cursor"]
    await assert_pin_cards(db, nodes, viewer)
    assert all(pin["board"] == {"id": board["id"], "name": board["name"]} for pin in nodes)


async def test_board_page_of_a_secret_board_is_for_its_owner_only(
    demo_client: GraphQLClient, subjects: Subjects
) -> None:
    variables = {"boardId": gid("Board", subjects.secret_board)}
    query = operation("BoardPage.graphql")

    assert (await demo_client.data(query, variables))["board"] is None
    assert (await demo_client.data(query, variables, viewer=subjects.feed_viewer))["board"] is None
    board = (await demo_client.data(query, variables, viewer=subjects.profile_user))["board"]
    assert board["privacy"] == "SECRET"
    assert board["owner"]["id"] == gid("User", subjects.profile_user)


@pytest.mark.parametrize("who", ["self", "other", "anonymous"])
async def test_profile_page_shows_the_user_boards_and_pins(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection, who: str
) -> None:
    viewer = {"self": subjects.profile_user, "other": subjects.feed_viewer, "anonymous": None}[who]
    user_id, boards_first = subjects.profile_user, 12
    data = await demo_client.data(
        operation("ProfilePage.graphql"),
        {"username": subjects.profile_username, "boardsFirst": boards_first},
        viewer=viewer,
    )

    user = data["user"]
    row = await one_row(db, "select * from users where id = $1", user_id)
    assert user["id"] == gid("User", user_id)
    assert (user["username"], user["displayName"], user["bio"], user["avatarUrl"]) == (
        row["username"],
        row["display_name"],
        row["bio"],
        row["avatar_url"],
    )
    assert user["email"] == (row["email"] if who == "self" else None)
    assert datetime.fromisoformat(user["createdAt"]) == row["created_at"]
    assert user["followerCount"] == await db.fetchval(
        "select count(*) from follows where followee_id = $1", user_id
    )
    assert user["followingCount"] == await db.fetchval(
        "select count(*) from follows where follower_id = $1", user_id
    )
    assert user["viewerIsFollowing"] == (
        who == "other"
        and await db.fetchval(
            "select exists (select 1 from follows where follower_id = $1 and followee_id = $2)",
            viewer,
            user_id,
        )
    )

    boards = user["boards"]
    expected_boards = await db.fetch(
        f"select b.id, (select count(*) from pins p where p.board_id = b.id) as pins "
        f"from boards b where b.owner_id = $2 and {VISIBLE} order by b.id desc",
        viewer,
        user_id,
    )
    assert boards["totalCount"] == len(expected_boards)
    assert_first_page(boards, boards["nodes"], boards_first)
    assert db_ids(boards["nodes"], "Board") == [r["id"] for r in expected_boards[:boards_first]]
    privacies = {board["privacy"] for board in boards["nodes"]}
    assert ("SECRET" in privacies) == (who == "self")
    pin_counts = {r["id"]: r["pins"] for r in expected_boards}
    assert any(board["pins"]["nodes"] for board in boards["nodes"])
    for board in boards["nodes"]:
        count = pin_counts[decode_global_id(board["id"]).id]
        assert board["pinCount"] == count
        assert len(board["pins"]["nodes"]) == min(4, count)
        for pin in board["pins"]["nodes"]:
            assert COLOR.match(pin["image"]["dominantColor"])

    pins = user["pins"]["nodes"]
    expected_pins = await db.fetch(
        f"select p.id from pins p join boards b on b.id = p.board_id "
        f"where p.creator_id = $2 and {VISIBLE} order by p.id desc limit 12",
        viewer,
        user_id,
    )
    assert pins and db_ids(pins, "Pin") == [r["id"] for r in expected_pins]
    await assert_pin_cards(db, pins, viewer)
    assert all(pin["creator"]["id"] == user["id"] for pin in pins)


async def test_profile_page_of_an_unknown_user_is_null(demo_client: GraphQLClient) -> None:
    data = await demo_client.data(operation("ProfilePage.graphql"), {"username": "no.such.user"})
    assert data == {"user": None}


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_pin_close_up_shows_the_pin_its_source_and_comments(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection, signed_in: bool
) -> None:
    viewer = subjects.feed_viewer if signed_in else None
    comments_first = 10
    data = await demo_client.data(
        operation("PinCloseUp.graphql"),
        {"pinId": gid("Pin", subjects.repin), "commentsFirst": comments_first},
        viewer=viewer,
    )

    pin = data["pin"]
    row = await one_row(db, "select * from pins where id = $1", subjects.repin)
    assert pin["id"] == gid("Pin", row["id"])
    assert (pin["title"], pin["description"], pin["link"]) == (
        row["title"],
        row["description"],
        row["link"],
    )
    assert pin["image"] == {
        "url": row["image_url"],
        "width": row["image_width"],
        "height": row["image_height"],
        "dominantColor": row["dominant_color"],
    }
    assert datetime.fromisoformat(pin["createdAt"]) == row["created_at"]
    assert pin["creator"]["id"] == gid("User", row["creator_id"])
    assert isinstance(pin["creator"]["viewerIsFollowing"], bool)
    if viewer is None:
        assert pin["creator"]["viewerIsFollowing"] is False
    assert pin["board"]["id"] == gid("Board", row["board_id"])
    assert pin["board"]["owner"]["username"]
    source = await one_row(db, "select * from pins where id = $1", row["saved_from_id"])
    assert pin["savedFrom"]["id"] == gid("Pin", source["id"])
    assert pin["savedFrom"]["title"] == source["title"]
    assert pin["savedFrom"]["creator"]["username"]
    assert pin["saveCount"] == await db.fetchval(
        f"select count(*) from pins p join boards b on b.id = p.board_id "
        f"where p.saved_from_id = $2 and {VISIBLE}",
        viewer,
        subjects.repin,
    )

    comments = pin["comments"]
    expected = await db.fetch(
        "select id, author_id, text from comments where pin_id = $1 order by id desc",
        subjects.repin,
    )
    assert pin["commentCount"] == len(expected) > comments_first
    nodes = [edge["node"] for edge in comments["edges"]]
    assert db_ids(nodes, "Comment") == [r["id"] for r in expected[:comments_first]]
    assert [(c["text"], c["author"]["id"]) for c in nodes] == [
        (r["text"], gid("User", r["author_id"])) for r in expected[:comments_first]
    ]
    assert comments["pageInfo"] == {
        "hasNextPage": True,
        "endCursor": comments["edges"][-1]["cursor"],
    }
    assert len({edge["cursor"] for edge in comments["edges"]}) == len(nodes)


async def test_pin_close_up_of_a_pin_on_a_secret_board_is_for_its_owner_only(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection
) -> None:
    secret_pin = await db.fetchval(
        "select max(id) from pins where board_id = $1", subjects.secret_board
    )
    variables = {"pinId": gid("Pin", secret_pin)}
    query = operation("PinCloseUp.graphql")

    assert (await demo_client.data(query, variables))["pin"] is None
    assert (await demo_client.data(query, variables, viewer=subjects.feed_viewer))["pin"] is None
    pin = (await demo_client.data(query, variables, viewer=subjects.profile_user))["pin"]
    assert pin["id"] == gid("Pin", secret_pin)


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_latest_pins_shows_the_newest_visible_pins_with_a_few_comments(
    demo_client: GraphQLClient, subjects: Subjects, db: asyncpg.Connection, signed_in: bool
) -> None:
    viewer = subjects.profile_user if signed_in else None
    first = 30
    data = await demo_client.data(operation("LatestPins.graphql"), {"first": first}, viewer=viewer)

    connection = data["pins"]
    pins = [edge["node"] for edge in connection["edges"]]
    expected = await db.fetch(
        f"select p.id, p.board_id, b.owner_id, "
        f"(select count(*) from comments c where c.pin_id = p.id) as comments "
        f"from pins p join boards b on b.id = p.board_id where {VISIBLE} "
        f"order by p.id desc limit $2",
        viewer,
        first,
    )
    assert db_ids(pins, "Pin") == [r["id"] for r in expected]
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["pageInfo"]["endCursor"]
    with_comments = 0
    for pin, row in zip(pins, expected, strict=True):
        assert pin["title"] and pin["image"]["width"] > 0
        assert pin["creator"]["username"] and pin["creator"]["displayName"]
        assert pin["board"]["id"] == gid("Board", row["board_id"])
        assert pin["board"]["owner"]["id"] == gid("User", row["owner_id"])
        assert pin["commentCount"] == row["comments"]
        comments = pin["comments"]["nodes"]
        assert len(comments) == min(3, row["comments"])
        with_comments += bool(comments)
        for comment in comments:
            assert comment["text"] and comment["author"]["username"]
    assert with_comments > 0


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_node_lookup_returns_each_type_in_order(
    demo_client: GraphQLClient, subjects: Subjects, signed_in: bool
) -> None:
    viewer = subjects.feed_viewer if signed_in else None
    ids = [
        gid("User", subjects.popular_user),
        gid("Board", subjects.board),
        gid("Pin", subjects.repin),
        gid("Comment", subjects.comment),
        gid("Board", subjects.secret_board),
        gid("Pin", 10**12),
    ]
    data = await demo_client.data(operation("NodeLookup.graphql"), {"ids": ids}, viewer=viewer)

    user, board, pin, comment, secret, missing = data["nodes"]
    assert [n["__typename"] for n in (user, board, pin, comment)] == [
        "User",
        "Board",
        "Pin",
        "Comment",
    ]
    assert [n["id"] for n in (user, board, pin, comment)] == ids[:4]
    assert user["username"] and user["displayName"]
    assert board["name"] and board["privacy"] == "PUBLIC" and board["owner"]["username"]
    assert pin["title"] and COLOR.match(pin["image"]["dominantColor"])
    assert pin["creator"]["username"]
    assert comment["text"] and comment["author"]["username"]
    assert comment["pin"]["id"] == ids[2]
    assert secret is None and missing is None
