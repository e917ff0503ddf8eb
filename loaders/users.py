"""User loaders: users by id and username, follower/following pages and counts, follow state."""

from __future__ import annotations

from collections.abc import Sequence

from db.waves import Row
from loaders.base import (
    AFTER,
    CountByIdLoader,
    PageByParentLoader,
    RowByIdLoader,
    SqlLoader,
    Statement,
)
from loaders.rows import UserRow, user_columns, user_row


class UserByIdLoader(RowByIdLoader[UserRow]):
    """Users by id."""

    # Returns the users with the given ids.
    sql = f"select {user_columns()} from users u where u.id = any($2::bigint[])"

    def make_row(self, record: Row, at: int) -> UserRow:
        return user_row(record, at)


class UserByUsernameLoader(SqlLoader[str, UserRow | None]):
    """Users by username; primes UserByIdLoader with what it finds."""

    primes = frozenset({"user_by_id"})

    # Returns the users with the given usernames.
    sql = f"select {user_columns()} from users u where u.username = any($2::text[])"

    def __init__(self, by_id: UserByIdLoader) -> None:
        super().__init__(by_id.session, by_id.viewer_id)
        self.by_id = by_id

    def statement(self, keys: list[str]) -> Statement | None:
        return self.sql, self.arguments(keys)

    def values(self, keys: list[str], rows: Sequence[Row]) -> list[UserRow | None]:
        by_name = {}
        for record in rows:
            row = user_row(record)
            self.by_id.prime(row.id, row)
            by_name[row.username] = row
        return [by_name.get(k) for k in keys]


class FollowerCountByUserIdLoader(CountByIdLoader):
    """How many users follow each user."""

    viewer_scoped = False
    # Returns (user id, follower count).
    sql = "select user_id, followers from user_counts where user_id = any($1::bigint[])"


class FollowingCountByUserIdLoader(CountByIdLoader):
    """How many users each user follows."""

    viewer_scoped = False
    # Returns (user id, following count).
    sql = "select user_id, following from user_counts where user_id = any($1::bigint[])"


class FollowersByUserIdLoader(PageByParentLoader[UserRow]):
    """Pages of a user's followers, most recent follow first (keyset: the follow's id)."""

    body = f"""
        select f.id as position, {user_columns()}
        from follows f join users u on u.id = f.follower_id
        where f.followee_id = k.parent_id and f.id < {AFTER}
        order by f.id desc limit k.lim
    """

    def make_row(self, record: Row, at: int) -> UserRow:
        return user_row(record, at)


class FollowingByUserIdLoader(PageByParentLoader[UserRow]):
    """Pages of the users a user follows, most recent follow first (keyset: the follow's id)."""

    body = f"""
        select f.id as position, {user_columns()}
        from follows f join users u on u.id = f.followee_id
        where f.follower_id = k.parent_id and f.id < {AFTER}
        order by f.id desc limit k.lim
    """

    def make_row(self, record: Row, at: int) -> UserRow:
        return user_row(record, at)


class ViewerFollowsByUserIdLoader(SqlLoader[int, bool]):
    """Whether the viewer follows each user; always False for an anonymous viewer."""

    # Returns the ids among $2 that the viewer follows.
    sql = """
        select f.followee_id from follows f
        where f.follower_id = $1::bigint and f.followee_id = any($2::bigint[])
    """

    def statement(self, keys: list[int]) -> Statement | None:
        if self.viewer_id is None:
            return None  # an anonymous viewer follows nobody
        return self.sql, self.arguments(keys)

    def values(self, keys: list[int], rows: Sequence[Row]) -> list[bool]:
        followed = {r[0] for r in rows}
        return [k in followed for k in keys]
