"""The home feed by followee count: PostgreSQL time of `homeFeed(first: 30)` for viewers
following 10, 100, 1,000 and 5,000 users, on the benchmark's data set.

    .venv/bin/python -m bench.feed_scaling [--followees 10,100,1000,5000] [--runs 200]
        [--database pinql_bench] [--scale 10]

For each count it adds a viewer following that many of the users with the most pins (one
INSERT: the triggers count the follows and fan their pins into the viewer's feed, which it
times), then runs the home feed loader's statement (loaders/pins.py, a first page of 30)
--runs times on one connection with the pool's settings, and reports the median and 95th
percentile time per statement. For contrast it times the design it replaced, which read one
page per followee and merged them (PER_FOLLOWEE below), on the same viewer. The viewers are
deleted at the end (their follows and feed rows go with them). Prints a markdown table;
`ratio` is each median over the 10-followee one.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from dataclasses import dataclass

from bench.dataset import DATABASE, SCALE, SERVER_URL, ensure_dataset
from db.pool import Connection, Database
from db.privacy import VIEWER, board_visible
from loaders.base import AFTER, PAGED_SQL
from loaders.container import Loaders
from loaders.paging import PageArgs
from loaders.pins import PIN_WITH_BOARD

PAGE = 30
# The replaced design's page body: the newest page of each followee, merged.
PER_FOLLOWEE = f"""
    select fp.* from follows f
    cross join lateral (
        select p.id as position, {PIN_WITH_BOARD}
        where p.creator_id = f.followee_id and p.id < {AFTER} and {board_visible("b")}
        order by p.id desc limit k.lim
    ) as fp
    where f.follower_id = {VIEWER}
    order by fp.position desc limit k.lim
"""
# A new user following the $2 users with the most public pins; its id.
FOLLOWER = """
with viewer as (
    insert into users (username, display_name, email) values ($1, $1, $1 || '@bench.test')
    returning id
), followed as (
    insert into follows (follower_id, followee_id)
    select viewer.id, c.user_id from viewer,
        (select user_id from user_counts order by public_pins desc, user_id limit $2) c
)
select id from viewer
"""
FEED_ROWS = "select count(*) from feed_items where user_id = $1"
DELETE = "delete from users where id = any($1::bigint[])"


@dataclass(frozen=True, slots=True)
class Row:
    """One followee count's figures (milliseconds)."""

    followees: int
    feed_rows: int
    follow_ms: float
    median_ms: float
    p95_ms: float
    per_followee_ms: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.feed_scaling", description=__doc__)
    parser.add_argument("--followees", default="10,100,1000,5000")
    parser.add_argument("--runs", type=int, default=200, help="statements timed per count")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--scale", type=float, default=SCALE)
    return parser.parse_args(argv)


async def _timed(conn: Connection, sql: str, args: tuple[object, ...], runs: int) -> list[float]:
    """Each of `runs` executions' time (ms), sorted."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await conn.fetch(sql, *args)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


async def measure(url: str, followees: list[int], runs: int) -> list[Row]:
    """Adds a viewer per count, times its feed both ways, deletes the viewers."""
    database = await Database.connect(url, min_size=1, max_size=1)
    viewers: list[int] = []
    rows = []
    try:
        async with database.connection() as conn:
            for n in followees:
                started = time.perf_counter()
                viewer = await conn.fetchval(FOLLOWER, f"feedbench_{secrets.token_hex(4)}", n)
                follow_ms = (time.perf_counter() - started) * 1000
                viewers.append(viewer)
                session = database.session()
                loaders = Loaders.build(session, viewer)
                statement = loaders.home_feed.statement([(0, PageArgs(PAGE, None))])
                await session.close()
                assert statement is not None
                sql, args = statement
                fanned = await _timed(conn, sql, args, runs)
                replaced = await _timed(conn, PAGED_SQL.format(body=PER_FOLLOWEE), args, runs)
                rows.append(
                    Row(
                        n,
                        await conn.fetchval(FEED_ROWS, viewer),
                        follow_ms,
                        statistics.median(fanned),
                        fanned[int(len(fanned) * 0.95) - 1] if len(fanned) > 1 else fanned[0],
                        statistics.median(replaced),
                    )
                )
    finally:
        if viewers:
            async with database.connection() as conn:
                await conn.execute(DELETE, viewers)
        await database.close()
    return rows


def table(rows: list[Row]) -> str:
    """The markdown table of `rows`."""
    first = rows[0]
    lines = [
        "| followees | feed rows | follow (ms) | fan-out read median / p95 (ms) | ratio "
        "| per-followee read median (ms) | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.followees:,} | {row.feed_rows:,} | {row.follow_ms:,.0f} "
            f"| {row.median_ms:.2f} / {row.p95_ms:.2f} | {row.median_ms / first.median_ms:.2f} "
            f"| {row.per_followee_ms:.2f} | {row.per_followee_ms / first.per_followee_ms:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_dataset(args.database, args.scale)
    followees = [int(n) for n in args.followees.split(",")]
    rows = asyncio.run(measure(f"{SERVER_URL}/{args.database}", followees, args.runs))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
