"""bench/feed_scaling.py on a small seeded database: a row per followee count whose feed rows
are the followees' pins, times for both designs, and no bench viewer left behind."""

from __future__ import annotations

import asyncpg

from bench.feed_scaling import measure, table
from tests.conftest import MakeDatabase, seeded_database


async def test_feed_scaling_measures_each_count_and_cleans_up(
    make_database: MakeDatabase,
) -> None:
    url = await seeded_database(make_database, 0.05, 2)
    conn = await asyncpg.connect(url)
    try:
        rows = await measure(url, [2, 5], runs=3)
        assert [r.followees for r in rows] == [2, 5]
        top = await conn.fetch(
            "select user_id from user_counts order by public_pins desc, user_id limit 5"
        )
        for row in rows:
            pins = await conn.fetchval(
                "select count(*) from pins where creator_id = any($1::bigint[])",
                [r[0] for r in top[: row.followees]],
            )
            assert row.feed_rows == pins > 0
            assert 0 < row.median_ms <= row.p95_ms and row.per_followee_ms > 0
        assert not await conn.fetchval(
            "select count(*) from users where username like 'feedbench%'"
        )
        assert table(rows).splitlines()[2].startswith("| 2 | ")
    finally:
        await conn.close()
