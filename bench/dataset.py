"""The benchmark's data: the scale-10 data set in `pinql_bench` (seeded once), and the rows
the benchmarked operations are about, picked by SQL."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

import asyncpg

from bench.processes import VENV_BIN, run_checked
from db.migrate import migrate
from db.seed import BASE_COUNTS
from db.seed_rows import TABLES

SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "pinql_bench"
DATABASE_URL = f"{SERVER_URL}/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/14"
BASELINE_REDIS_URL = "redis://127.0.0.1:6379/15"
"""The baseline's server (`--baseline`): its own registered operations and state."""
SCALE = 10

# Whether a database of this name exists.
DATABASE_EXISTS = "select exists (select 1 from pg_database where datname = $1)"
# Whether the schema has been migrated (the users table exists).
HAS_USERS_TABLE = "select to_regclass('public.users') is not null"
# The user who follows the most users: a home feed with plenty in it.
TOP_FOLLOWER = "select follower_id from follows group by 1 order by count(*) desc, 1 limit 1"
# How many users a user follows.
FOLLOWEE_COUNT = "select count(*) from follows where follower_id = $1"
# The public board with the most pins.
FULLEST_BOARD = """
    select p.board_id from pins p join boards b on b.id = p.board_id
    where b.privacy = 'PUBLIC' group by 1 order by count(*) desc, 1 limit 1
"""
# The username of the user with the most public boards.
BUSIEST_PROFILE = """
    select u.username from users u join boards b on b.owner_id = u.id
    where b.privacy = 'PUBLIC' group by u.id order by count(*) desc, u.id limit 1
"""
# The repin with the most comments, itself and the pin it was saved from on public boards.
DISCUSSED_REPIN = """
    select p.id from pins p join boards b on b.id = p.board_id
    join pins s on s.id = p.saved_from_id join boards sb on sb.id = s.board_id
    join comments c on c.pin_id = p.id
    where b.privacy = 'PUBLIC' and sb.privacy = 'PUBLIC'
    group by p.id order by count(*) desc, p.id limit 1
"""

# NodeLookup's objects, all on public boards (visible to anyone), 3 of each type:
# the users the viewer followed last,
FOLLOWED_LAST = "select followee_id from follows where follower_id = $1 order by id desc limit 3"
# the newest public boards,
NEWEST_BOARDS = "select id from boards where privacy = 'PUBLIC' order by id desc limit 3"
# the newest pins on public boards,
NEWEST_PINS = """
    select p.id from pins p join boards b on b.id = p.board_id
    where b.privacy = 'PUBLIC' order by p.id desc limit 3
"""
# and the newest comments on pins on public boards.
NEWEST_COMMENTS = """
    select c.id from comments c join pins p on p.id = c.pin_id join boards b on b.id = p.board_id
    where b.privacy = 'PUBLIC' order by c.id desc limit 3
"""
NODES_PER_TYPE = 3


async def table_counts(url: str) -> dict[str, int] | None:
    """Rows per table; None when the schema is not migrated."""
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval(HAS_USERS_TABLE):
            return None
        return {t: int(await conn.fetchval(f"select count(*) from {t}")) for t in TABLES}
    finally:
        await conn.close()


async def _migrated(url: str) -> list[str]:
    """Applies the migrations `url` lacks (a data set seeded before a migration was added
    gets its tables); the versions applied."""
    conn = await asyncpg.connect(url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def _create_database_if_absent(database: str) -> bool:
    conn = await asyncpg.connect(f"{SERVER_URL}/postgres")
    try:
        if await conn.fetchval(DATABASE_EXISTS, database):
            return False
        await conn.execute(f'create database "{database}"')
        return True
    finally:
        await conn.close()


MIN_SCALE = 0.01
"""The smallest data set where every table is proportional to the scale."""


def dataset_database(scale: float) -> str:
    """The database holding the data set of `scale`: `pinql_bench` for the default (10),
    `pinql_bench_s<scale>` for another (`pinql_bench_s1`, `pinql_bench_s0_5`)."""
    if scale == SCALE:
        return DATABASE
    return f"{DATABASE}_s{scale:g}".replace(".", "_")


def ensure_dataset(database: str = DATABASE, scale: float = SCALE) -> dict[str, int]:
    """Creates and seeds `database` (`pinql_bench`) at `scale` (10; at least 0.01, where
    every table is proportional) unless it already holds that data set; its rows per
    table."""
    url = f"{SERVER_URL}/{database}"
    if asyncio.run(_create_database_if_absent(database)):
        print(f"created database {database}", flush=True)
    applied = asyncio.run(_migrated(url))
    if applied:
        print(f"migrated {database}: {', '.join(applied)}", flush=True)
    counts = asyncio.run(table_counts(url))
    if counts is None or counts["users"] == 0:
        print(f"seeding {database} at scale {scale} ...", flush=True)
        started = time.monotonic()
        env = {**os.environ, "DATABASE_URL": url}
        out = run_checked([str(VENV_BIN / "pinql"), "seed", "--scale", str(scale)], env)
        print(f"{out.strip()} (seed command: {time.monotonic() - started:.0f} s)", flush=True)
        counts = asyncio.run(table_counts(url))
        assert counts is not None
    expected = {t: round(getattr(BASE_COUNTS, t) * scale) for t in TABLES}
    if counts != expected:
        raise SystemExit(
            f"{database} holds {counts}, not the scale-{scale} data set {expected}: "
            f"drop it (dropdb -h 127.0.0.1 -U postgres {database}) and run again"
        )
    return counts


@dataclass(frozen=True, slots=True)
class Subjects:
    """The rows the benchmarked operations are about."""

    viewer: int
    """The signed-in viewer of every request: the user who follows the most users."""
    followees: int
    board: int
    """The public board with the most pins."""
    username: str
    """The user with the most public boards."""
    repin: int
    """The repin with the most comments (it and its source on public boards)."""
    nodes: tuple[tuple[str, int], ...]
    """NodeLookup's objects, (type, id) in the order asked for: a user the viewer followed
    last, the newest public board, pin and comment, then the next of each (3 of each)."""


async def pick_subjects(url: str) -> Subjects:
    """Finds the subjects in the database at `url`."""
    conn = await asyncpg.connect(url)
    try:
        viewer = int(await conn.fetchval(TOP_FOLLOWER))
        by_type = {
            "User": await conn.fetch(FOLLOWED_LAST, viewer),
            "Board": await conn.fetch(NEWEST_BOARDS),
            "Pin": await conn.fetch(NEWEST_PINS),
            "Comment": await conn.fetch(NEWEST_COMMENTS),
        }
        return Subjects(
            viewer=viewer,
            followees=int(await conn.fetchval(FOLLOWEE_COUNT, viewer)),
            board=int(await conn.fetchval(FULLEST_BOARD)),
            username=str(await conn.fetchval(BUSIEST_PROFILE)),
            repin=int(await conn.fetchval(DISCUSSED_REPIN)),
            nodes=tuple(
                (type_name, int(rows[i][0]))
                for i in range(NODES_PER_TYPE)
                for type_name, rows in by_type.items()
                if i < len(rows)
            ),
        )
    finally:
        await conn.close()
