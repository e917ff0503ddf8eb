"""Privacy through HTTP: a SECRET board, its pins and their comments exist only for the owner,
on every path and in every count; `User.email` only for that user.

Each path is asked as olive (owns secret things), otto (owns other secret things), ada (owns
nothing) and an anonymous viewer; every expectation is derived from tests/world.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from resolvers.ids import encode_global_id
from tests import world
from tests.support import GraphQLClient
from tests.world import (
    ADA,
    C1,
    C2,
    C3,
    OLIVE,
    OLIVE_PUBLIC,
    OLIVE_SECRET,
    OTTO,
    OTTO_SECRET,
    P1,
    P2,
    P3,
    P4,
    P6,
    USERNAMES,
)

Viewer = int | None
VIEWER_NAMES = {OLIVE: "olive", OTTO: "otto", ADA: "ada", None: "anonymous"}
each_viewer = pytest.mark.parametrize("viewer", world.VIEWERS, ids=VIEWER_NAMES.get)
signed_in = pytest.mark.parametrize("viewer", [OLIVE, OTTO, ADA], ids=VIEWER_NAMES.get)
MISSING = 999  # no row of any type has this id


def gid(type_name: str, id: int) -> str:
    """The global ID the API gives the `type_name` row `id`."""
    return encode_global_id(type_name, id)


def refs(type_name: str, ids: list[int]) -> list[dict[str, str]]:
    """`[{id}]` as a connection's `nodes { id }` lists `ids`."""
    return [{"id": gid(type_name, i)} for i in ids]


def ref(type_name: str, id: int | None) -> dict[str, str] | None:
    """`{id}` of a nullable object field, None for null."""
    return None if id is None else {"id": gid(type_name, id)}


def query_of(selections: Iterable[str]) -> str:
    """One query operation of the given (aliased) root selections."""
    return "{ " + " ".join(selections) + " }"


def every_board(fields: str) -> str:
    """A query of `b<id>: board(id:) { fields }` for each board of the world."""
    return query_of(
        f'b{b}: board(id: "{gid("Board", b)}") {{ {fields} }}' for b in world.BOARD_OWNER
    )


def every_pin(fields: str) -> str:
    """A query of `p<id>: pin(id:) { fields }` for each pin of the world."""
    return query_of(f'p{p}: pin(id: "{gid("Pin", p)}") {{ {fields} }}' for p in world.PIN_BOARD)


def every_user(fields: str) -> str:
    """A query of `<username>: user(username:) { fields }` for each user of the world."""
    return query_of(f'{n}: user(username: "{n}") {{ {fields} }}' for n in USERNAMES.values())


async def test_world_is_what_these_tests_assume() -> None:
    """The facts the tests below hinge on, so a change to the world cannot make them vacuous."""
    assert world.PIN_BOARD[P2] in world.SECRET_BOARDS
    assert world.SAVED_FROM[P3] == P2 and world.PIN_BOARD[P3] not in world.SECRET_BOARDS
    assert world.save_count(P1, OLIVE) == world.save_count(P1, OTTO) + 1
    assert world.comments_on(P2, OLIVE) == [C3, C2] and world.COMMENT_AUTHOR[C3] == OTTO
    assert world.boards_of(ADA, None) == [] and world.pins_by(ADA, None) == []
    assert (OTTO, OLIVE) in world.FOLLOWS and (OLIVE, ADA) not in world.FOLLOWS


# ---- by id: board(id), pin(id), node(id), nodes(ids) ----------------------------------------


@each_viewer
async def test_board_by_id_only_where_visible(world_client: GraphQLClient, viewer: Viewer) -> None:
    query = every_board("id privacy owner { username }")
    data = await world_client.data(query, viewer=viewer)
    visible = world.visible_boards(viewer)
    assert data == {
        f"b{b}": {
            "id": gid("Board", b),
            "privacy": "SECRET" if b in world.SECRET_BOARDS else "PUBLIC",
            "owner": {"username": USERNAMES[owner]},
        }
        if b in visible
        else None
        for b, owner in world.BOARD_OWNER.items()
    }


@each_viewer
async def test_pin_by_id_only_where_visible(world_client: GraphQLClient, viewer: Viewer) -> None:
    query = every_pin("id title creator { username } board { id }")
    data = await world_client.data(query, viewer=viewer)
    visible = world.visible_pins(viewer)
    assert data == {
        f"p{p}": {
            "id": gid("Pin", p),
            "title": f"pin {p}",
            "creator": {"username": USERNAMES[world.PIN_CREATOR[p]]},
            "board": {"id": gid("Board", b)},
        }
        if p in visible
        else None
        for p, b in world.PIN_BOARD.items()
    }


@pytest.mark.parametrize(
    ("type_name", "id", "fields", "owner_sees"),
    [
        (
            "Board",
            OLIVE_SECRET,
            "... on Board { name privacy }",
            {"name": "board 2", "privacy": "SECRET"},
        ),
        (
            "Pin",
            P2,
            "... on Pin { title board { id } }",
            {"title": "pin 2", "board": {"id": gid("Board", OLIVE_SECRET)}},
        ),
        (
            "Comment",
            C2,
            "... on Comment { text pin { id } }",
            {"text": "comment 2", "pin": {"id": gid("Pin", P2)}},
        ),
    ],
    ids=["secret-board", "secret-pin", "comment-on-secret-pin"],
)
@each_viewer
async def test_node_of_a_secret_object_is_null_but_for_its_owner(
    world_client: GraphQLClient,
    viewer: Viewer,
    type_name: str,
    id: int,
    fields: str,
    owner_sees: dict[str, Any],
) -> None:
    query = f'{{ node(id: "{gid(type_name, id)}") {{ __typename id {fields} }} }}'
    data = await world_client.data(query, viewer=viewer)
    expected = {"__typename": type_name, "id": gid(type_name, id), **owner_sees}
    assert data == {"node": expected if viewer == OLIVE else None}


@each_viewer
async def test_node_of_every_object_follows_the_rules(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    every = [
        *(("User", u, True) for u in USERNAMES),
        *(("Board", b, b in world.visible_boards(viewer)) for b in world.BOARD_OWNER),
        *(("Pin", p, p in world.visible_pins(viewer)) for p in world.PIN_BOARD),
        *(("Comment", c, c in world.visible_comments(viewer)) for c in world.COMMENT_PIN),
    ]
    query = query_of(
        f'n{i}: node(id: "{gid(t, id)}") {{ __typename id }}' for i, (t, id, _) in enumerate(every)
    )
    data = await world_client.data(query, viewer=viewer)
    assert data == {
        f"n{i}": {"__typename": t, "id": gid(t, id)} if shown else None
        for i, (t, id, shown) in enumerate(every)
    }


@each_viewer
async def test_secret_comment_by_global_id(world_client: GraphQLClient, viewer: Viewer) -> None:
    """C3 is otto's comment on olive's now-secret P2: not even its author sees it."""
    query = f"""{{ node(id: "{gid("Comment", C3)}") {{
        ... on Comment {{ text author {{ username }} pin {{ id commentCount }} }} }} }}"""
    data = await world_client.data(query, viewer=viewer)
    expected = {
        "text": "comment 3",
        "author": {"username": "otto"},
        "pin": {"id": gid("Pin", P2), "commentCount": len(world.comments_on(P2, OLIVE))},
    }
    assert data == {"node": expected if viewer == OLIVE else None}


@each_viewer
async def test_nodes_keep_order_and_null_hidden_ones(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    asked = [
        ("Pin", P2),
        ("Pin", P1),
        ("Board", OLIVE_SECRET),
        ("Comment", C3),
        ("User", OTTO),
        ("Pin", P6),
        ("Board", OTTO_SECRET),
        ("Comment", C1),
        ("Pin", MISSING),
        ("Pin", P2),
    ]
    ids = [gid(t, i) for t, i in asked]
    data = await world_client.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": ids}, viewer=viewer
    )
    visible = {
        "User": set(USERNAMES),
        "Board": world.visible_boards(viewer),
        "Pin": world.visible_pins(viewer),
        "Comment": world.visible_comments(viewer),
    }
    assert data["nodes"] == [
        {"__typename": t, "id": gid(t, i)} if i in visible[t] else None for t, i in asked
    ]


# ---- pin fields: board, savedFrom, saveCount, commentCount, comments --------------------------


@each_viewer
async def test_p3_saved_from_secret_p2_only_for_olive(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    query = f'{{ pin(id: "{gid("Pin", P3)}") {{ id savedFrom {{ id title board {{ id }} }} }} }}'
    data = await world_client.data(query, viewer=viewer)
    p2 = {"id": gid("Pin", P2), "title": "pin 2", "board": {"id": gid("Board", OLIVE_SECRET)}}
    assert data == {"pin": {"id": gid("Pin", P3), "savedFrom": p2 if viewer == OLIVE else None}}


@each_viewer
async def test_saved_from_and_save_count_of_every_visible_pin(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    data = await world_client.data(
        "{ pins(first: 100) { nodes { id saveCount savedFrom { id } } } }", viewer=viewer
    )
    assert data["pins"]["nodes"] == [
        {
            "id": gid("Pin", p),
            "saveCount": world.save_count(p, viewer),
            "savedFrom": ref("Pin", world.saved_from(p, viewer)),
        }
        for p in world.newest_first(world.visible_pins(viewer))
    ]


@each_viewer
async def test_p1_save_count_counts_the_secret_repin_only_for_olive(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    data = await world_client.data(
        f'{{ pin(id: "{gid("Pin", P1)}") {{ saveCount }} }}', viewer=viewer
    )
    # P4 (otto's public repin) counts for everyone; P_SECRET_REPIN only for olive.
    assert data == {"pin": {"saveCount": 2 if viewer == OLIVE else 1}}
    assert data["pin"]["saveCount"] == world.save_count(P1, viewer)


@each_viewer
async def test_comments_of_a_secret_pin_exist_only_for_its_owner(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    query = f"""{{ pin(id: "{gid("Pin", P2)}") {{ commentCount comments(first: 100) {{
        totalCount nodes {{ id text author {{ username }} }} }} }} }}"""
    data = await world_client.data(query, viewer=viewer)
    if viewer != OLIVE:
        assert data == {"pin": None}
        return
    comments = world.comments_on(P2, OLIVE)
    assert data == {
        "pin": {
            "commentCount": len(comments),
            "comments": {
                "totalCount": len(comments),
                "nodes": [
                    {
                        "id": gid("Comment", c),
                        "text": f"comment {c}",
                        "author": {"username": USERNAMES[world.COMMENT_AUTHOR[c]]},
                    }
                    for c in comments
                ],
            },
        }
    }


@each_viewer
async def test_comment_counts_and_comments_of_every_visible_pin(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    data = await world_client.data(
        """{ pins(first: 100) { nodes {
            id commentCount comments(first: 100) { totalCount nodes { id } } } } }""",
        viewer=viewer,
    )
    expected = []
    for p in world.newest_first(world.visible_pins(viewer)):
        comments = world.comments_on(p, viewer)
        expected.append(
            {
                "id": gid("Pin", p),
                "commentCount": len(comments),
                "comments": {"totalCount": len(comments), "nodes": refs("Comment", comments)},
            }
        )
    assert data["pins"]["nodes"] == expected


# ---- lists: user.boards, user.pins, board.pins, pins, homeFeed -------------------------------


@each_viewer
async def test_user_boards_per_viewer(world_client: GraphQLClient, viewer: Viewer) -> None:
    query = every_user("boards(first: 100) { totalCount nodes { id } pageInfo { hasNextPage } }")
    data = await world_client.data(query, viewer=viewer)
    assert data == {
        name: {
            "boards": {
                "totalCount": len(world.boards_of(u, viewer)),
                "nodes": refs("Board", world.boards_of(u, viewer)),
                "pageInfo": {"hasNextPage": False},
            }
        }
        for u, name in USERNAMES.items()
    }


@each_viewer
async def test_olive_boards_total_count_per_viewer(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    data = await world_client.data(
        '{ user(username: "olive") { boards(first: 1) { totalCount pageInfo { hasNextPage } } } }',
        viewer=viewer,
    )
    # olive sees her secret board too; everyone else only OLIVE_PUBLIC.
    expected = [OLIVE_SECRET, OLIVE_PUBLIC] if viewer == OLIVE else [OLIVE_PUBLIC]
    assert world.boards_of(OLIVE, viewer) == expected
    assert data == {
        "user": {
            "boards": {
                "totalCount": len(expected),
                "pageInfo": {"hasNextPage": len(expected) > 1},
            }
        }
    }


@each_viewer
async def test_user_pins_per_viewer(world_client: GraphQLClient, viewer: Viewer) -> None:
    query = every_user("pins(first: 100) { totalCount nodes { id } }")
    data = await world_client.data(query, viewer=viewer)
    assert data == {
        name: {
            "pins": {
                "totalCount": len(world.pins_by(u, viewer)),
                "nodes": refs("Pin", world.pins_by(u, viewer)),
            }
        }
        for u, name in USERNAMES.items()
    }


@each_viewer
async def test_board_pins_and_pin_count_per_viewer(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    fields = "pinCount pins(first: 100) { totalCount nodes { id board { id } } }"
    query = every_board(fields)
    data = await world_client.data(query, viewer=viewer)
    expected: dict[str, Any] = {}
    for b in world.BOARD_OWNER:
        pins = world.pins_on(b, viewer)
        expected[f"b{b}"] = (
            {
                "pinCount": len(pins),
                "pins": {
                    "totalCount": len(pins),
                    "nodes": [
                        {"id": gid("Pin", p), "board": {"id": gid("Board", b)}} for p in pins
                    ],
                },
            }
            if b in world.visible_boards(viewer)
            else None
        )
    assert data == expected


@each_viewer
async def test_latest_pins_page_by_page(world_client: GraphQLClient, viewer: Viewer) -> None:
    """Paging one pin at a time walks exactly the visible pins; totalCount never changes."""
    query = """query($after: String) { pins(first: 1, after: $after) {
        totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"""
    expected = world.newest_first(world.visible_pins(viewer))
    seen: list[dict[str, str]] = []
    after = None
    for _ in range(len(world.PIN_BOARD) + 1):
        page = (await world_client.data(query, {"after": after}, viewer=viewer))["pins"]
        assert page["totalCount"] == len(expected)
        seen.extend(page["nodes"])
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == refs("Pin", expected)


@signed_in
async def test_home_feed_per_viewer(world_client: GraphQLClient, viewer: int) -> None:
    data = await world_client.data(
        "{ homeFeed(first: 100) { totalCount nodes { id creator { username } } } }", viewer=viewer
    )
    feed = world.home_feed(viewer)
    assert data == {
        "homeFeed": {
            "totalCount": len(feed),
            "nodes": [
                {"id": gid("Pin", p), "creator": {"username": USERNAMES[world.PIN_CREATOR[p]]}}
                for p in feed
            ],
        }
    }


async def test_home_feed_of_otto_holds_only_olives_public_pins(
    world_client: GraphQLClient,
) -> None:
    data = await world_client.data("{ homeFeed(first: 100) { nodes { id } } }", viewer=OTTO)
    olives_public = world.pins_by(OLIVE, None)
    assert olives_public == [
        p for p in world.pins_by(OLIVE, OLIVE) if p not in (P2, world.P_SECRET_REPIN)
    ]
    assert data == {"homeFeed": {"nodes": refs("Pin", olives_public)}}


async def test_home_feed_needs_a_viewer(world_client: GraphQLClient) -> None:
    body = await world_client.execute("{ homeFeed { totalCount nodes { id } } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["homeFeed"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "homeFeed" in error["message"]


# ---- users: email, follows --------------------------------------------------------------------


@each_viewer
async def test_email_only_on_the_viewers_own_user(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    users = " ".join(f'{name}: user(username: "{name}") {{ email }}' for name in USERNAMES.values())
    query = f"""{{ viewer {{ username email }} {users}
        p1: pin(id: "{gid("Pin", P1)}") {{ creator {{ email }} }}
        p4: pin(id: "{gid("Pin", P4)}") {{ creator {{ email }} board {{ owner {{ email }} }} }}
        c1: node(id: "{gid("Comment", C1)}") {{ ... on Comment {{ author {{ email }} }} }}
        oliveNode: node(id: "{gid("User", OLIVE)}") {{ ... on User {{ email }} }} }}"""
    data = await world_client.data(query, viewer=viewer)

    def email(user: int) -> str | None:
        return world.email(user) if user == viewer else None

    me = None if viewer is None else {"username": USERNAMES[viewer], "email": world.email(viewer)}
    assert data == {
        "viewer": me,
        **{name: {"email": email(u)} for u, name in USERNAMES.items()},
        "p1": {"creator": {"email": email(OLIVE)}},
        "p4": {"creator": {"email": email(OTTO)}, "board": {"owner": {"email": email(OTTO)}}},
        "c1": {"author": {"email": email(world.COMMENT_AUTHOR[C1])}},
        "oliveNode": {"email": email(OLIVE)},
    }


@each_viewer
async def test_viewer_is_following_and_follow_counts(
    world_client: GraphQLClient, viewer: Viewer
) -> None:
    fields = """viewerIsFollowing followerCount followingCount
        followers(first: 100) { totalCount nodes { username } }
        following(first: 100) { totalCount nodes { username } }"""
    query = every_user(fields)
    data = await world_client.data(query, viewer=viewer)

    def users(ids: list[int]) -> dict[str, Any]:
        return {"totalCount": len(ids), "nodes": [{"username": USERNAMES[u]} for u in ids]}

    assert data == {
        name: {
            "viewerIsFollowing": (viewer, u) in world.FOLLOWS,
            "followerCount": len(world.followers_of(u)),
            "followingCount": len(world.followed_by(u)),
            "followers": users(world.followers_of(u)),
            "following": users(world.followed_by(u)),
        }
        for u, name in USERNAMES.items()
    }
    if viewer is None:
        assert not any(user["viewerIsFollowing"] for user in data.values())
