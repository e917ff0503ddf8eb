"""The home feed's rows (migration 0005_home_feed), built in bulk: the seeder loads with the
triggers deferred, then fans every pin out to its creator's followers at once."""

from __future__ import annotations

import asyncpg

# How many rows `fan_out` writes into empty feeds: each creator it will not pull, its
# followers times its pins (read from the counters, not joined again).
FEED_ROWS = """
select coalesce(sum(followers * (public_pins + secret_pins)), 0)::bigint from user_counts
where followers < feed_fan_out_limit() and not pulled
"""
# Marks the creators whose followers reached the fan-out limit as pulled (read-time merge).
PULL = "update user_counts set pulled = true where followers >= feed_fan_out_limit() and not pulled"
# Writes each pin of a creator who is not pulled into each of that creator's followers' feeds.
FAN_OUT = """
insert into feed_items (user_id, pin_id)
select f.follower_id, p.id
from follows f join pins p on p.creator_id = f.followee_id
join user_counts c on c.user_id = f.followee_id and not c.pulled
on conflict do nothing
"""


async def fan_out(conn: asyncpg.Connection) -> int:
    """Marks pulled creators and writes every missing feed row (counters must be true: the
    follower counts decide who is pulled); the rows written."""
    await conn.execute(PULL)
    status = await conn.execute(FAN_OUT)
    return int(status.split()[-1])
