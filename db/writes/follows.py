"""Follow writes: follow and unfollow a user, both idempotent and safe under concurrency."""

from __future__ import annotations

from db.pool import Connection
from db.privacy import VIEWER
from db.writes.errors import Code, Refused, UserError, not_found

# Whether a user exists.
USER_EXISTS = "select exists (select from users where id = $1)"
# The viewer follows a user (again: nothing changes; concurrent follows: one row).
FOLLOW = f"""
insert into follows (follower_id, followee_id) values ({VIEWER}, $2)
on conflict (follower_id, followee_id) do nothing
"""
# The viewer stops following a user (not following: nothing changes).
UNFOLLOW = f"delete from follows where follower_id = {VIEWER} and followee_id = $2"


async def _followable(conn: Connection, viewer: int, user_id: int) -> None:
    if user_id == viewer:
        raise Refused(UserError("userId", "userId: you cannot follow yourself", Code.SELF_FOLLOW))
    if not await conn.fetchval(USER_EXISTS, user_id):
        raise not_found("userId", "user")


async def follow(conn: Connection, viewer: int, user_id: int) -> None:
    """The viewer follows the user (a no-op when already following)."""
    await _followable(conn, viewer, user_id)
    await conn.execute(FOLLOW, viewer, user_id)


async def unfollow(conn: Connection, viewer: int, user_id: int) -> None:
    """The viewer stops following the user (a no-op when not following)."""
    await _followable(conn, viewer, user_id)
    await conn.execute(UNFOLLOW, viewer, user_id)
