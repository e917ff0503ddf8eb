"""The home feed fanned out on write (migration 0005, db/feeds.py), against the real PostgreSQL
and over HTTP: which feed rows each write leaves, that a pulled creator's pins reach the feed
without rows, that pages stay put while new pins arrive, and that the seeder's bulk fan-out
writes exactly the rows the triggers would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from db.counters import DEFER
from db.feeds import fan_out
from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database, seeded_database
from tests.schema.test_mutations_follows import new_users
from tests.support import GraphQLClient, serve

FEED = """query ($first: Int!, $after: String) {
  homeFeed(first: $first, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } }"""
PIN = """insert into pins (board_id, creator_id, title, image_url, image_width, image_height,
    dominant_color)
select b.id, b.owner_id, 't', 'https://example.com/a.jpg', 10, 10, '#000000'
from boards b where b.owner_id = $1 and b.privacy = $2::board_privacy
order by b.id limit 1
returning id"""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    return await new_database(make_database, with_world=False)


@pytest.fixture(scope="module")
async def client(database: str) -> AsyncIterator[GraphQLClient]:
    async with serve(database) as client:
        yield client


async def creators(sql: asyncpg.Connection, n: int) -> list[int]:
    """`n` new users, each with a public and a secret board."""
    users = await new_users(sql, n)
    for user in users:
        await sql.execute(
            "insert into boards (owner_id, name, privacy) values ($1, 'p', 'PUBLIC'),"
            " ($1, 's', 'SECRET')",
            user,
        )
    return users


async def follow(sql: asyncpg.Connection, follower: int, followee: int) -> None:
    await sql.execute(
        "insert into follows (follower_id, followee_id) values ($1, $2)", follower, followee
    )


async def pin(sql: asyncpg.Connection, creator: int, privacy: str = "PUBLIC") -> int:
    made: int = await sql.fetchval(PIN, creator, privacy)
    return made


async def rows(sql: asyncpg.Connection, user: int) -> list[int]:
    found = await sql.fetch("select pin_id from feed_items where user_id = $1", user)
    return sorted(r[0] for r in found)


async def feed(
    client: GraphQLClient, viewer: int, first: int = 50, after: str | None = None
) -> tuple[list[str], dict[str, Any]]:
    """The viewer's feed page: its pin ids and pageInfo."""
    data = await client.data(FEED, {"first": first, "after": after}, viewer=viewer)
    return [node["id"] for node in data["homeFeed"]["nodes"]], data["homeFeed"]["pageInfo"]


def gids(pins: list[int]) -> list[str]:
    return [encode_global_id("Pin", p) for p in sorted(pins, reverse=True)]


async def test_each_write_leaves_the_feed_rows_it_should(
    sql: asyncpg.Connection, client: GraphQLClient
) -> None:
    fan, creator, other = await creators(sql, 3)
    before = await pin(sql, creator)
    await follow(sql, fan, creator)
    assert await rows(sql, fan) == [before]  # a follow brings the followee's pins
    public, secret = await pin(sql, creator), await pin(sql, creator, "SECRET")
    await pin(sql, other)  # not followed
    assert await rows(sql, fan) == sorted([before, public, secret])
    # the secret pin has a row but never shows: the read checks the board
    assert (await feed(client, fan))[0] == gids([before, public])
    await sql.execute("delete from pins where id = $1", before)
    assert await rows(sql, fan) == sorted([public, secret])
    await sql.execute("update boards set privacy = 'PUBLIC' where owner_id = $1", creator)
    assert (await feed(client, fan))[0] == gids([public, secret])
    await sql.execute("delete from follows where follower_id = $1", fan)
    assert await rows(sql, fan) == []
    assert (await feed(client, fan))[0] == []


async def test_an_unfollow_hides_the_pins_even_if_rows_remain(
    sql: asyncpg.Connection, client: GraphQLClient
) -> None:
    fan, creator = await creators(sql, 2)
    await follow(sql, fan, creator)
    made = await pin(sql, creator)
    assert (await feed(client, fan))[0] == gids([made])
    async with sql.transaction():  # rows left behind (a bulk load skips the triggers)
        await sql.execute(DEFER)
        await sql.execute("delete from follows where follower_id = $1", fan)
    assert await rows(sql, fan) == [made]
    assert (await feed(client, fan))[0] == []


async def test_a_pulled_creators_pins_are_merged_at_read_time(
    sql: asyncpg.Connection, client: GraphQLClient
) -> None:
    fan, star, plain = await creators(sql, 3)
    for followee in (star, plain):
        await follow(sql, fan, followee)
    early = await pin(sql, star)  # fanned out before the star was pulled
    await sql.execute("update user_counts set pulled = true where user_id = $1", star)
    late = [await pin(sql, star) for _ in range(3)]
    mine = [await pin(sql, plain) for _ in range(2)]
    assert await rows(sql, fan) == sorted([early, *mine])  # the star's new pins: no rows
    # Merged, newest first, each once (the early pin has a row and is pulled too).
    expected = gids([early, *late, *mine])
    assert (await feed(client, fan))[0] == expected
    # Paged through, two at a time, nothing repeated or skipped.
    seen: list[str] = []
    after = None
    while True:
        page, info = await feed(client, fan, 2, after)
        seen += page
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == expected


async def test_a_creator_reaching_the_limit_is_pulled(sql: asyncpg.Connection) -> None:
    [star] = await creators(sql, 1)
    limit = await sql.fetchval("select feed_fan_out_limit()")
    fans = await new_users(sql, limit)
    await sql.execute(
        "insert into follows (follower_id, followee_id) select unnest($1::bigint[]), $2",
        fans[:-1],
        star,
    )
    assert not await sql.fetchval("select pulled from user_counts where user_id = $1", star)
    await follow(sql, fans[-1], star)
    assert await sql.fetchval("select pulled from user_counts where user_id = $1", star)
    made = await pin(sql, star)
    assert await sql.fetchval("select count(*) from feed_items where pin_id = $1", made) == 0


async def test_pages_stay_put_while_new_pins_arrive(
    sql: asyncpg.Connection, client: GraphQLClient
) -> None:
    fan, creator = await creators(sql, 2)
    await follow(sql, fan, creator)
    made = [await pin(sql, creator) for _ in range(6)]
    first, info = await feed(client, fan, 3)
    assert first == gids(made[3:])
    newer = [await pin(sql, creator) for _ in range(2)]
    second, _ = await feed(client, fan, 3, info["endCursor"])
    assert second == gids(made[:3])
    assert (await feed(client, fan, 2))[0] == gids(newer)


async def test_the_seeders_bulk_fan_out_writes_what_the_triggers_would(
    make_database: MakeDatabase,
) -> None:
    conn = await asyncpg.connect(await seeded_database(make_database, 0.05, 3))
    try:
        expected = await conn.fetchval(
            """select count(*) from follows f join pins p on p.creator_id = f.followee_id"""
        )
        assert await conn.fetchval("select count(*) from feed_items") == expected > 0
        missing = await conn.fetchval(
            """select count(*) from follows f join pins p on p.creator_id = f.followee_id
               where not exists (select from feed_items i
                                 where i.user_id = f.follower_id and i.pin_id = p.id)"""
        )
        assert missing == 0
        assert await fan_out(conn) == 0  # nothing left to write
    finally:
        await conn.close()
