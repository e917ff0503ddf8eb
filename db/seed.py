"""Loads the deterministic demo data set (users, boards, pins, comments, follows) with COPY."""

from __future__ import annotations

import math
import random

import asyncpg

from db.counters import DEFER, rebuild
from db.counters import TABLES as COUNTER_TABLES
from db.feeds import FEED_ROWS, fan_out
from db.search_terms import TERM_ROWS, index_terms
from db.seed_progress import SILENT, SeedProgress, counted
from db.seed_rows import TABLES, SeedCounts, generate

# Returns true when at least one user exists.
ANY_USER = "select exists (select 1 from users)"
# Moves each identity sequence to the largest id copied in, so the next insert gets max + 1.
SET_SEQUENCES = ";".join(
    f"select setval(pg_get_serial_sequence('{table}', 'id'), max(id)) from {table}"
    for table in TABLES
)
# Fresh planner statistics for the loaded tables and the rows derived from them.
ANALYZE = "analyze " + ", ".join(
    (*TABLES, *(counter.name for counter in COUNTER_TABLES), "feed_items")
)

# The counts at scale 1; other scales are proportional, with at least 10 to 20 rows a table.
BASE_COUNTS = SeedCounts(users=2_000, boards=10_000, pins=100_000, comments=200_000, follows=40_000)


async def is_empty(conn: asyncpg.Connection) -> bool:
    """Whether the database has no users at all (so the demo data set may be loaded)."""
    return not await conn.fetchval(ANY_USER)


async def seed(
    conn: asyncpg.Connection,
    *,
    scale: float = 1.0,
    seed: int = 1,
    progress: SeedProgress = SILENT,
) -> SeedCounts:
    """Loads the data set for (scale, seed) into empty tables in one transaction, counters
    home feeds and search postings included; returns counts.
    `progress` hears each table start, advance and end."""
    counts = _counts_for(scale)
    if not await is_empty(conn):
        raise ValueError("seed needs empty tables, but users already has rows")
    tables = generate(counts, random.Random(seed))
    async with conn.transaction():
        await conn.execute(DEFER)  # one rebuild beats triggers per row
        for table, columns, rows in tables:
            progress.start(table, getattr(counts, table))
            records = counted(rows, table, progress)
            await conn.copy_records_to_table(table, records=records, columns=columns)
            progress.done(table)
        counted_rows = counts.users + counts.boards + counts.pins
        progress.start("counters", counted_rows)  # derived from the rows: told as one step
        await rebuild(conn)
        progress.advance("counters", counted_rows)
        progress.done("counters")
        progress.start("feed_items", await conn.fetchval(FEED_ROWS))
        progress.advance("feed_items", await fan_out(conn))
        progress.done("feed_items")
        progress.start("search_terms", await conn.fetchval(TERM_ROWS))
        progress.advance("search_terms", await index_terms(conn))
        progress.done("search_terms")
        await conn.execute(SET_SEQUENCES)
    await conn.execute(ANALYZE)
    return counts


def _counts_for(scale: float) -> SeedCounts:
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale}")

    def scaled(base: int, minimum: int) -> int:
        return max(minimum, round(base * scale))

    users = scaled(BASE_COUNTS.users, 10)
    return SeedCounts(
        users=users,
        boards=scaled(BASE_COUNTS.boards, 10),
        pins=scaled(BASE_COUNTS.pins, 20),
        comments=scaled(BASE_COUNTS.comments, 20),
        # At tiny scales the proportional count would not fit: keep half the pairs unused.
        follows=min(scaled(BASE_COUNTS.follows, 10), users * (users - 1) // 2),
    )
