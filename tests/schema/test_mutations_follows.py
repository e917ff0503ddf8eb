"""followUser and unfollowUser through HTTP: the payload carries both users' new counts and
the follow state; following twice or unfollowing twice changes nothing; concurrent follows
(one viewer twenty times, or twenty viewers at once) leave exactly the rows they should.

The module writes into its own database (migrated, empty); each test makes its own users.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import asyncpg
import pytest

from db.counters import drifts
from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient

MISSING = 999_999  # no user has this id

USER = "id followerCount followingCount viewerIsFollowing"
PAYLOAD = f"user {{ {USER} }} viewer {{ {USER} email }} userErrors {{ field message code }}"
FOLLOW = f"""
mutation Follow($input: FollowInput!) {{ followUser(input: $input) {{ {PAYLOAD} }} }}"""
UNFOLLOW = f"""
mutation Unfollow($input: FollowInput!) {{ unfollowUser(input: $input) {{ {PAYLOAD} }} }}"""


def gid(type_name: str, id: int) -> str:
    """The global ID the API gives the `type_name` row `id`."""
    return encode_global_id(type_name, id)


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """This module's own database, migrated and empty."""
    return await new_database(make_database, with_world=False)


async def new_users(sql: asyncpg.Connection, n: int) -> list[int]:
    """`n` fresh users (emails `<username>@example.com`); their ids, in creation order."""
    names = [f"u{secrets.token_hex(5)}" for _ in range(n)]
    rows = await sql.fetch(
        """insert into users (username, display_name, email)
           select name, name, name || '@example.com' from unnest($1::text[]) as name
           returning id""",
        names,
    )
    return sorted(r["id"] for r in rows)


async def email_of(sql: asyncpg.Connection, user: int) -> str:
    """The user's email in the database."""
    email: str = await sql.fetchval("select email from users where id = $1", user)
    return email


async def follow_rows(sql: asyncpg.Connection, follower: int, followee: int) -> int:
    """How many follows rows say `follower` follows `followee`."""
    n: int = await sql.fetchval(
        "select count(*) from follows where follower_id = $1 and followee_id = $2",
        follower,
        followee,
    )
    return n


async def change(
    client: GraphQLClient, mutation: str, user: int | str, viewer: int | None
) -> dict[str, Any]:
    """The payload of followUser or unfollowUser (`mutation`) of `user` (an id or a global ID)."""
    user_id = user if isinstance(user, str) else gid("User", user)
    data = await client.data(mutation, {"input": {"userId": user_id}}, viewer=viewer)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def user(id: int, followers: int, following: int, followed: bool) -> dict[str, Any]:
    """The payload's `user`: counts, and whether the viewer follows it."""
    return {
        "id": gid("User", id),
        "followerCount": followers,
        "followingCount": following,
        "viewerIsFollowing": followed,
    }


# ---- success and idempotence ------------------------------------------------------------------


async def test_follow_returns_both_users_with_their_new_counts(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob = await new_users(sql, 2)
    payload = await change(client, FOLLOW, bob, viewer=alice)
    assert payload == {
        "user": user(bob, followers=1, following=0, followed=True),
        "viewer": {**user(alice, 0, 1, False), "email": await email_of(sql, alice)},
        "userErrors": [],
    }
    assert await follow_rows(sql, alice, bob) == 1
    assert await follow_rows(sql, bob, alice) == 0


async def test_following_twice_changes_nothing(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob = await new_users(sql, 2)
    first = await change(client, FOLLOW, bob, viewer=alice)
    second = await change(client, FOLLOW, bob, viewer=alice)
    assert second == first
    assert second["user"] == user(bob, followers=1, following=0, followed=True)
    assert await follow_rows(sql, alice, bob) == 1


async def test_unfollow_returns_the_counts_and_unfollowing_twice_changes_nothing(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob, carol = await new_users(sql, 3)
    await change(client, FOLLOW, bob, viewer=alice)
    await change(client, FOLLOW, bob, viewer=carol)
    await change(client, FOLLOW, carol, viewer=alice)

    first = await change(client, UNFOLLOW, bob, viewer=alice)
    assert first == {
        "user": user(bob, followers=1, following=0, followed=False),
        "viewer": {**user(alice, 0, 1, False), "email": await email_of(sql, alice)},
        "userErrors": [],
    }
    second = await change(client, UNFOLLOW, bob, viewer=alice)
    assert second == first
    assert await follow_rows(sql, alice, bob) == 0
    assert await follow_rows(sql, carol, bob) == 1
    assert await follow_rows(sql, alice, carol) == 1


async def test_unfollowing_someone_never_followed_changes_nothing(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob = await new_users(sql, 2)
    payload = await change(client, UNFOLLOW, bob, viewer=alice)
    assert payload["userErrors"] == []
    assert payload["user"] == user(bob, followers=0, following=0, followed=False)
    assert payload["viewer"]["followingCount"] == 0


async def test_follow_after_unfollow_follows_again(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob = await new_users(sql, 2)
    await change(client, FOLLOW, bob, viewer=alice)
    await change(client, UNFOLLOW, bob, viewer=alice)
    again = await change(client, FOLLOW, bob, viewer=alice)
    assert again["user"] == user(bob, followers=1, following=0, followed=True)
    assert await follow_rows(sql, alice, bob) == 1


# ---- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mutation", [FOLLOW, UNFOLLOW], ids=["follow", "unfollow"])
async def test_following_yourself_is_self_follow(
    client: GraphQLClient, sql: asyncpg.Connection, mutation: str
) -> None:
    [alice] = await new_users(sql, 1)
    payload = await change(client, mutation, alice, viewer=alice)
    assert payload == {
        "user": None,
        "viewer": None,
        "userErrors": [
            {
                "field": "userId",
                "message": "userId: you cannot follow yourself",
                "code": "SELF_FOLLOW",
            }
        ],
    }
    assert await follow_rows(sql, alice, alice) == 0


@pytest.mark.parametrize("mutation", [FOLLOW, UNFOLLOW], ids=["follow", "unfollow"])
async def test_a_missing_user_is_not_found(
    client: GraphQLClient, sql: asyncpg.Connection, mutation: str
) -> None:
    [alice] = await new_users(sql, 1)
    payload = await change(client, mutation, MISSING, viewer=alice)
    assert payload == {
        "user": None,
        "viewer": None,
        "userErrors": [
            {
                "field": "userId",
                "message": "userId: no user with this ID exists",
                "code": "NOT_FOUND",
            }
        ],
    }
    assert await sql.fetchval("select count(*) from follows where follower_id = $1", alice) == 0


@pytest.mark.parametrize(
    ("user_id", "message"),
    [
        ("bm9wZQ", "userId is not a valid ID: 'bm9wZQ'"),
        (gid("Board", 1), "userId must be a User ID, got a Board ID"),
        (gid("Pin", 1), "userId must be a User ID, got a Pin ID"),
    ],
    ids=["garbage", "board-id", "pin-id"],
)
async def test_a_malformed_or_wrong_type_user_id_is_invalid_id(
    client: GraphQLClient, sql: asyncpg.Connection, user_id: str, message: str
) -> None:
    [alice] = await new_users(sql, 1)
    payload = await change(client, FOLLOW, user_id, viewer=alice)
    assert payload["userErrors"] == [{"field": "userId", "message": message, "code": "INVALID_ID"}]
    assert payload["user"] is None and payload["viewer"] is None


@pytest.mark.parametrize(
    ("mutation", "field"), [(FOLLOW, "followUser"), (UNFOLLOW, "unfollowUser")]
)
async def test_follow_and_unfollow_need_a_viewer(
    client: GraphQLClient, sql: asyncpg.Connection, mutation: str, field: str
) -> None:
    [bob] = await new_users(sql, 1)
    body = await client.execute(mutation, {"input": {"userId": gid("User", bob)}})
    assert body["data"] == {field: None}
    [error] = body["errors"]
    assert error["path"] == [field]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert await sql.fetchval("select count(*) from follows where followee_id = $1", bob) == 0


# ---- concurrency ------------------------------------------------------------------------------


async def test_twenty_concurrent_follows_by_one_viewer_leave_one_row(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob = await new_users(sql, 2)
    payloads = await asyncio.gather(*(change(client, FOLLOW, bob, viewer=alice) for _ in range(20)))
    for payload in payloads:
        assert payload["userErrors"] == []
        assert payload["user"] == user(bob, followers=1, following=0, followed=True)
        assert payload["viewer"]["followingCount"] == 1
    assert await follow_rows(sql, alice, bob) == 1
    data = await client.data(
        """query($id: ID!) {
            node(id: $id) { ... on User { followerCount followers { totalCount } } } }""",
        {"id": gid("User", bob)},
    )
    assert data == {"node": {"followerCount": 1, "followers": {"totalCount": 1}}}
    assert await drifts(sql) == []


async def test_twenty_users_following_one_at_once_make_twenty_followers(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    star, *fans = await new_users(sql, 21)
    payloads = await asyncio.gather(*(change(client, FOLLOW, star, viewer=fan) for fan in fans))
    for fan, payload in zip(fans, payloads, strict=True):
        assert payload["userErrors"] == []
        assert payload["user"]["viewerIsFollowing"] is True
        assert 1 <= payload["user"]["followerCount"] <= 20
        assert payload["viewer"] == {**user(fan, 0, 1, False), "email": await email_of(sql, fan)}
    assert sorted(p["user"]["followerCount"] for p in payloads)[-1] == 20
    followers = await sql.fetch("select follower_id from follows where followee_id = $1", star)
    assert sorted(r[0] for r in followers) == fans
    data = await client.data(
        """query($id: ID!) { node(id: $id) { ... on User {
            followerCount followingCount followers(first: 100) { totalCount nodes { id } } } } }""",
        {"id": gid("User", star)},
    )
    node = data["node"]
    assert (node["followerCount"], node["followingCount"]) == (20, 0)
    assert node["followers"]["totalCount"] == 20
    assert sorted(n["id"] for n in node["followers"]["nodes"]) == sorted(
        gid("User", fan) for fan in fans
    )
    assert await drifts(sql) == []


async def test_concurrent_follows_and_unfollows_by_one_viewer_leave_at_most_one_row(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    alice, bob = await new_users(sql, 2)
    mutations = [FOLLOW, UNFOLLOW] * 10
    payloads = await asyncio.gather(*(change(client, m, bob, viewer=alice) for m in mutations))
    assert all(p["userErrors"] == [] for p in payloads)
    rows = await follow_rows(sql, alice, bob)
    assert rows in (0, 1)
    assert await drifts(sql) == []
    final = await change(client, FOLLOW, bob, viewer=alice)
    assert final["user"] == user(bob, followers=1, following=0, followed=True)
