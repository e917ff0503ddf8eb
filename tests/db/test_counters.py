"""The counters (migration 0004, db/counters.py) against the real PostgreSQL: random writes of
every kind, one after another and twenty at once, never leave a counter that differs from
`count(*)` of what it counts; a drift is found and repaired; a pin whose creator does not own
its board is refused (the viewer-dependent counts rely on it)."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from db.counters import DEFER, TOTAL, Drift, drifts, rebuild
from db.migrate import migrate
from tests.conftest import MakeDatabase

USERS = 5
OPS = (
    "board",
    "pin",
    "save",
    "move",
    "privacy",
    "delete_pin",
    "delete_board",
    "comment",
    "delete_comment",
    "follow",
    "unfollow",
    "delete_user",
)
PIN = """insert into pins (board_id, creator_id, title, image_url, image_width, image_height,
    dominant_color, saved_from_id)
select b.id, b.owner_id, 't', 'https://example.com/a.jpg', 10, 10, '#000000', $2
from boards b where b.id = $1"""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    url = await make_database()
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def reset(sql: asyncpg.Connection) -> None:
    """USERS users, nothing else (TRUNCATE: its trigger empties the totals too)."""
    await sql.execute("truncate users, boards, pins, comments, follows cascade")
    await sql.executemany(
        "insert into users (username, display_name, email) values ($1, $1, $1 || '@x.test')",
        [(f"user{random.getrandbits(40):x}",) for _ in range(USERS)],
    )


async def ids(sql: asyncpg.Connection, table: str) -> list[int]:
    return [r[0] for r in await sql.fetch(f"select id from {table} order by id")]


async def write(sql: asyncpg.Connection, op: str, a: int, b: int, secret: bool) -> None:
    """One write of kind `op`; `a` and `b` pick its rows among those there (none: no-op)."""
    users, boards, pins = [await ids(sql, t) for t in ("users", "boards", "pins")]

    def pick(rows: list[int], n: int) -> int | None:
        return rows[n % len(rows)] if rows else None

    privacy = "SECRET" if secret else "PUBLIC"
    user, board, pin = pick(users, a), pick(boards, a), pick(pins, b)
    if op == "board" and user is not None:
        await sql.execute(
            "insert into boards (owner_id, name, privacy) values ($1, 'b', $2)", user, privacy
        )
    elif op == "pin" and board is not None:
        await sql.execute(PIN, board, None)
    elif op == "save" and board is not None and pin is not None:
        await sql.execute(PIN, board, pin)
    elif op == "move" and pin is not None:
        # onto another board of the same owner (a pin's creator owns its board)
        await sql.execute(
            """update pins p set board_id = o.id from boards b, boards o
               where p.id = $1 and b.id = p.board_id and o.owner_id = b.owner_id
                 and o.id <> b.id and o.id = (select min(id) from boards x
                                              where x.owner_id = b.owner_id and x.id <> b.id)""",
            pin,
        )
    elif op == "privacy" and board is not None:
        await sql.execute("update boards set privacy = $2 where id = $1", board, privacy)
    elif op == "delete_pin" and pin is not None:
        await sql.execute("delete from pins where id = $1", pin)
    elif op == "delete_board" and board is not None:
        await sql.execute("delete from boards where id = $1", board)
    elif op == "comment" and pin is not None and user is not None:
        await sql.execute(
            "insert into comments (pin_id, author_id, text) values ($1, $2, 'c')", pin, user
        )
    elif op == "delete_comment":
        await sql.execute(
            """delete from comments
               where id = (select id from comments order by id offset $1 limit 1)""",
            b % 7,
        )
    elif op in ("follow", "unfollow") and len(users) > 1:
        follower, followee = (
            users[a % len(users)],
            users[(a + 1 + b % (len(users) - 1)) % len(users)],
        )
        if op == "follow":
            await sql.execute(
                """insert into follows (follower_id, followee_id) values ($1, $2)
                   on conflict do nothing""",
                follower,
                followee,
            )
        else:
            await sql.execute(
                "delete from follows where follower_id = $1 and followee_id = $2",
                follower,
                followee,
            )
    elif op == "delete_user" and user is not None:
        await sql.execute("delete from users where id = $1", user)
        await sql.execute(
            "insert into users (username, display_name, email) values ($1, $1, $1 || '@x.test')",
            f"user{random.getrandbits(40):x}",
        )


steps = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99), st.booleans()),
    min_size=5,
    max_size=40,
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
@given(program=steps)
async def test_random_writes_keep_every_counter_true(
    sql: asyncpg.Connection, program: list[tuple[str, int, int, bool]]
) -> None:
    await reset(sql)
    for n, (op, a, b, secret) in enumerate(program):
        await write(sql, op, a, b, secret)
        assert await drifts(sql) == [], f"after step {n}: {op}({a}, {b}, {secret})"


async def test_twenty_writers_at_once_keep_every_counter_true(database: str) -> None:
    """Twenty connections write into the same few rows at once (saves of one pin, comments on
    it, follows both ways between the same users, privacy flips of the boards pins are added
    to): no deadlock, no lost count."""
    admin = await asyncpg.connect(database)
    await reset(admin)
    users = await ids(admin, "users")
    for user in users:
        await admin.execute("insert into boards (owner_id, name) values ($1, 'b')", user)
    boards = await ids(admin, "boards")
    await admin.execute(PIN, boards[0], None)
    [hot] = await ids(admin, "pins")
    rng = random.Random(7)
    program = [
        [
            (
                rng.choice(
                    ("save", "comment", "follow", "unfollow", "privacy", "pin", "delete_pin")
                ),
                rng.randrange(100),
                rng.randrange(100),
                rng.random() < 0.5,
            )
            for _ in range(15)
        ]
        for _ in range(20)
    ]

    async def writer(steps: list[tuple[str, int, int, bool]]) -> None:
        conn = await asyncpg.connect(database)
        try:
            for op, a, b, secret in steps:
                if op == "save":
                    await conn.execute(PIN, boards[a % len(boards)], hot)
                elif op == "comment":
                    await conn.execute(
                        "insert into comments (pin_id, author_id, text) values ($1, $2, 'c')",
                        hot,
                        users[a % len(users)],
                    )
                elif op == "delete_pin":
                    await conn.execute(
                        "delete from pins where id = (select max(id) from pins where id <> $1)",
                        hot,
                    )
                else:
                    await write(conn, op, a, b, secret)
        finally:
            await conn.close()

    try:
        await asyncio.gather(*(writer(steps) for steps in program))
        assert await drifts(admin) == []
        comments = await admin.fetchval("select comments from pin_counts where pin_id = $1", hot)
        assert comments == sum(1 for s in program for op, *_ in s if op == "comment")
    finally:
        await admin.close()


async def test_a_drift_is_found_and_repaired(sql: asyncpg.Connection) -> None:
    await reset(sql)
    [user, other, *_] = await ids(sql, "users")
    await sql.execute("insert into boards (owner_id, name) values ($1, 'b')", user)
    [board] = await ids(sql, "boards")
    await sql.execute(PIN, board, None)
    await sql.execute("insert into follows (follower_id, followee_id) values ($1, $2)", other, user)
    await sql.execute("update user_counts set followers = 7 where user_id = $1", user)
    await sql.execute("update pin_totals set public_pins = public_pins + 3 where stripe = 5")
    await sql.execute("delete from board_counts where board_id = $1", board)
    found = await drifts(sql)
    assert found == [
        Drift(
            "user_counts",
            user,
            {"followers": 7, "following": 0, "public_pins": 1, "secret_pins": 0},
            {"followers": 1, "following": 0, "public_pins": 1, "secret_pins": 0},
        ),
        Drift("board_counts", board, {"pins": None}, {"pins": 1}),
        Drift(TOTAL, None, {"public_pins": 4}, {"public_pins": 1}),
    ]
    async with sql.transaction():
        written = await rebuild(sql)
    assert written == {"user_counts": 1, "board_counts": 1, "pin_counts": 0, TOTAL: 1}
    assert await drifts(sql) == []


async def test_a_pin_whose_creator_does_not_own_its_board_is_refused(
    sql: asyncpg.Connection,
) -> None:
    await reset(sql)
    [owner, other, *_] = await ids(sql, "users")
    await sql.execute("insert into boards (owner_id, name) values ($1, 'b')", owner)
    [board] = await ids(sql, "boards")
    with pytest.raises(asyncpg.CheckViolationError, match=f"board {board} is owned by {owner}"):
        await sql.execute(
            """insert into pins (board_id, creator_id, title, image_url, image_width,
                   image_height, dominant_color)
               values ($1, $2, 't', 'https://example.com/a.jpg', 1, 1, '#000000')""",
            board,
            other,
        )
    assert await ids(sql, "pins") == []


async def test_a_bulk_load_with_counters_deferred_rebuilds_them(sql: asyncpg.Connection) -> None:
    await reset(sql)
    [user, *_] = await ids(sql, "users")
    async with sql.transaction():
        await sql.execute(DEFER)
        await sql.execute("insert into boards (owner_id, name) values ($1, 'b')", user)
        [board] = await ids(sql, "boards")
        for _ in range(3):
            await sql.execute(PIN, board, None)
        assert [d.table for d in await drifts(sql)] == ["user_counts", "board_counts"] + [
            "pin_counts"
        ] * 3 + [TOTAL]
        await rebuild(sql)
    assert await drifts(sql) == []
    # the setting ended with the transaction: the triggers count again
    await sql.execute(PIN, board, None)
    assert await drifts(sql) == []


async def test_one_owners_concurrent_pin_writes_never_deadlock(database: str) -> None:
    """Ten connections of one owner create pins on two boards, move pins between them both
    ways, flip the boards' privacy and save another user's pin, all at once: every write
    takes the counter rows in one order (boards, then the owner's counts, then board and
    pin counts, then the totals), so none deadlocks, and no count drifts."""
    admin = await asyncpg.connect(database)
    await reset(admin)
    owner, other, *_ = await ids(admin, "users")
    for user, privacy in ((owner, "PUBLIC"), (owner, "SECRET"), (other, "PUBLIC")):
        await admin.execute(
            "insert into boards (owner_id, name, privacy) values ($1, 'b', $2)", user, privacy
        )
    first, second, theirs = await ids(admin, "boards")
    await admin.execute(PIN, theirs, None)
    [saved] = await ids(admin, "pins")
    for board in (first, second):
        await admin.execute(PIN, board, None)
        await admin.execute(PIN, board, saved)
    move = """update pins set board_id = case board_id when $1 then $2 else $1 end
              where id = (select id from pins where creator_id = $3 order by random() limit 1)"""

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        conn = await asyncpg.connect(database)
        try:
            for _ in range(20):
                board = rng.choice((first, second))
                op = rng.randrange(4)
                if op == 0:
                    await conn.execute(PIN, board, None)
                elif op == 1:
                    await conn.execute(move, first, second, owner)
                elif op == 2:
                    privacy = rng.choice(("PUBLIC", "SECRET"))
                    await conn.execute(
                        "update boards set privacy = $2 where id = $1", board, privacy
                    )
                else:
                    await conn.execute(PIN, board, saved)
        finally:
            await conn.close()

    try:
        await asyncio.gather(*(writer(n) for n in range(10)))
        assert await drifts(admin) == []
    finally:
        await admin.close()
