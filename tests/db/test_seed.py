"""db.seed against the real PostgreSQL: counts, determinism, the data's shape, and its guards."""

from __future__ import annotations

import re
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest

from db.migrate import migrate
from db.seed import is_empty, seed
from db.seed_rows import ANCHOR, SeedCounts
from tests.conftest import MakeDatabase

SCALE = 0.05
SEED = 7
TABLES = ("users", "boards", "pins", "comments", "follows")

# Returns an md5 of every row of one table, in id order.
FINGERPRINT = "select md5(string_agg(t::text, '|' order by t.id)) from {table} t"
# Returns how many rows were created before the row with the next lower id.
OUT_OF_ORDER = """
select count(*) from (
    select created_at < lag(created_at) over (order by id) as early from {table}
) t where early
"""
# Each returns how many children predate (or share the moment of) their parent.
PREDATES_PARENT = {
    "board before its owner": """
        select count(*) from boards b join users u on u.id = b.owner_id
        where b.created_at <= u.created_at""",
    "pin before its board": """
        select count(*) from pins p join boards b on b.id = p.board_id
        where p.created_at <= b.created_at""",
    "comment before its pin": """
        select count(*) from comments c join pins p on p.id = c.pin_id
        where c.created_at <= p.created_at""",
    "comment before its author": """
        select count(*) from comments c join users u on u.id = c.author_id
        where c.created_at <= u.created_at""",
    "follow before its follower": """
        select count(*) from follows f join users u on u.id = f.follower_id
        where f.created_at <= u.created_at""",
    "follow before its followee": """
        select count(*) from follows f join users u on u.id = f.followee_id
        where f.created_at <= u.created_at""",
    "repin before the pin it saves": """
        select count(*) from pins p join pins s on s.id = p.saved_from_id
        where p.created_at <= s.created_at or p.id <= s.id""",
}
# Returns the follower count of every user, zeros included.
FOLLOWER_COUNTS = """
select count(f.id) from users u left join follows f on f.followee_id = u.id group by u.id
"""
# Returns the comment count of every pin, zeros included.
COMMENT_COUNTS = """
select count(c.id) from pins p left join comments c on c.pin_id = p.id group by p.id
"""


@dataclass(frozen=True, slots=True)
class Seeded:
    """A connection to a database seeded at SCALE with SEED, and what seed returned."""

    conn: asyncpg.Connection
    counts: SeedCounts


async def _migrated(make_database: MakeDatabase) -> asyncpg.Connection:
    conn = await asyncpg.connect(await make_database())
    await migrate(conn)
    return conn


async def _fingerprints(conn: asyncpg.Connection) -> dict[str, str]:
    return {t: await conn.fetchval(FINGERPRINT.format(table=t)) for t in TABLES}


async def _seeded_fingerprints(make_database: MakeDatabase, seed_number: int) -> dict[str, str]:
    conn = await _migrated(make_database)
    try:
        await seed(conn, scale=SCALE, seed=seed_number)
        return await _fingerprints(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def seeded(make_database: MakeDatabase) -> AsyncIterator[Seeded]:
    conn = await _migrated(make_database)
    counts = await seed(conn, scale=SCALE, seed=SEED)
    yield Seeded(conn, counts)
    await conn.close()


async def test_counts_are_proportional_to_scale(seeded: Seeded) -> None:
    expected = SeedCounts(users=100, boards=500, pins=5_000, comments=10_000, follows=2_000)
    assert seeded.counts == expected
    for table in TABLES:
        rows = await seeded.conn.fetchval(f"select count(*) from {table}")
        assert rows == getattr(expected, table), table


async def test_tiny_scale_still_gives_a_few_rows_of_each(make_database: MakeDatabase) -> None:
    conn = await _migrated(make_database)
    try:
        counts = await seed(conn, scale=0.0001, seed=1)
    finally:
        await conn.close()
    assert counts == SeedCounts(users=10, boards=10, pins=20, comments=20, follows=10)


async def test_same_seed_gives_identical_rows_and_another_seed_does_not(
    seeded: Seeded, make_database: MakeDatabase
) -> None:
    original = await _fingerprints(seeded.conn)
    same = await _seeded_fingerprints(make_database, SEED)
    other = await _seeded_fingerprints(make_database, SEED + 1)
    assert same == original
    assert all(other[t] != original[t] for t in TABLES)


@pytest.mark.parametrize("table", TABLES)
async def test_ids_grow_with_creation_time(seeded: Seeded, table: str) -> None:
    assert await seeded.conn.fetchval(OUT_OF_ORDER.format(table=table)) == 0


@pytest.mark.parametrize("rule", PREDATES_PARENT)
async def test_no_child_predates_its_parent(seeded: Seeded, rule: str) -> None:
    assert await seeded.conn.fetchval(PREDATES_PARENT[rule]) == 0


async def test_timestamps_fall_in_the_year_before_the_anchor(seeded: Seeded) -> None:
    for table in TABLES:
        span = await seeded.conn.fetchrow(
            f"select min(created_at) as first, max(created_at) as last from {table}"
        )
        assert span is not None
        assert ANCHOR - timedelta(days=365) <= span["first"] <= span["last"] < ANCHOR, table


async def test_about_a_tenth_of_boards_are_secret(seeded: Seeded) -> None:
    share = await seeded.conn.fetchval("select avg((privacy = 'SECRET')::int)::float8 from boards")
    assert 0.08 <= share <= 0.12


async def test_pins_are_made_by_their_boards_owner(seeded: Seeded) -> None:
    mismatched = await seeded.conn.fetchval(
        "select count(*) from pins p join boards b on b.id = p.board_id "
        "where p.creator_id <> b.owner_id"
    )
    assert mismatched == 0


async def test_about_a_tenth_of_pins_are_repins_that_reuse_the_saved_image(
    seeded: Seeded,
) -> None:
    share = await seeded.conn.fetchval(
        "select avg((saved_from_id is not null)::int)::float8 from pins"
    )
    assert 0.08 <= share <= 0.12
    different = await seeded.conn.fetchval(
        "select count(*) from pins p join pins s on s.id = p.saved_from_id "
        "where (p.title, p.image_url) <> (s.title, s.image_url)"
    )
    assert different == 0


async def test_follower_counts_follow_a_power_law(seeded: Seeded) -> None:
    counts = [r[0] for r in await seeded.conn.fetch(FOLLOWER_COUNTS)]
    assert max(counts) >= 4 * statistics.median(counts)
    pairs = await seeded.conn.fetchval(
        "select count(distinct (follower_id, followee_id)) from follows "
        "where follower_id <> followee_id"
    )
    assert pairs == seeded.counts.follows


async def test_popular_pins_get_most_comments(seeded: Seeded) -> None:
    counts = sorted((r[0] for r in await seeded.conn.fetch(COMMENT_COUNTS)), reverse=True)
    assert counts[0] >= 10 * statistics.mean(counts)
    top_tenth = sum(counts[: len(counts) // 10])
    assert top_tenth >= 0.4 * sum(counts)


async def test_rows_look_real(seeded: Seeded) -> None:
    conn = seeded.conn
    users = await conn.fetch("select id, username, email, avatar_url from users")
    assert all(u["email"] == f"{u['username']}@example.com" for u in users)
    assert all(
        u["avatar_url"] in (None, f"https://images.pinql.example/avatars/{u['id']}.jpg")
        for u in users
    )
    pins = await conn.fetch(
        "select link, image_url, image_width, image_height, dominant_color from pins"
    )
    assert all(re.fullmatch(r"https://images\.pinql\.example/pins/\d+\.jpg", p[1]) for p in pins)
    # Heights are 0.6 to 2.5 times the width, rounded to whole pixels.
    assert all(236 <= p[2] <= 1200 and 0.59 < p[3] / p[2] < 2.51 for p in pins)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", p[4]) for p in pins)
    links = [p[0] for p in pins]
    assert all(re.fullmatch(r"https?://[a-z0-9.]+/[a-z0-9-]+", link) for link in links if link)
    assert None in links
    assert await conn.fetchval("select count(distinct name) from boards") >= 20
    assert await conn.fetchval("select count(distinct text) from comments") >= 20


async def test_seeding_a_database_with_users_raises(seeded: Seeded) -> None:
    assert not await is_empty(seeded.conn)
    with pytest.raises(ValueError, match="users already has rows"):
        await seed(seeded.conn, scale=SCALE, seed=SEED)
    assert await seeded.conn.fetchval("select count(*) from users") == seeded.counts.users


async def test_is_empty_on_a_fresh_database(migrated_database: str) -> None:
    conn = await asyncpg.connect(migrated_database)
    try:
        assert await is_empty(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf")])
async def test_scale_must_be_positive_and_finite(seeded: Seeded, scale: float) -> None:
    with pytest.raises(ValueError, match="scale must be"):
        await seed(seeded.conn, scale=scale)


async def test_inserts_without_id_continue_after_the_seeded_ids(seeded: Seeded) -> None:
    conn = seeded.conn
    tr = conn.transaction()
    await tr.start()
    try:
        user = await conn.fetchval(
            "insert into users (username, display_name, email) "
            "values ('new.user', 'New User', 'new.user@example.com') returning id"
        )
        board = await conn.fetchval(
            "insert into boards (owner_id, name) values ($1, 'New board') returning id", user
        )
        pin = await conn.fetchval(
            "insert into pins (board_id, creator_id, title, image_url, image_width, "
            "image_height, dominant_color) values ($1, $2, 'New pin', 'x', 1, 1, '#000000') "
            "returning id",
            board,
            user,
        )
        comment = await conn.fetchval(
            "insert into comments (pin_id, author_id, text) values ($1, $2, 'Hi') returning id",
            pin,
            user,
        )
        follow = await conn.fetchval(
            "insert into follows (follower_id, followee_id) values ($1, 1) returning id", user
        )
        counts = seeded.counts
        assert (user, board, pin, comment, follow) == (
            counts.users + 1,
            counts.boards + 1,
            counts.pins + 1,
            counts.comments + 1,
            counts.follows + 1,
        )
    finally:
        await tr.rollback()
