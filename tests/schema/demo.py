"""What the schema tests run against in the demo data: the operations' texts, and subjects
(a feed viewer, a full board, a profile with a secret board, a repin...) picked with SQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg


async def one_row(conn: asyncpg.Connection, sql: str, *args: Any) -> asyncpg.Record:
    """The row a query must find."""
    row = await conn.fetchrow(sql, *args)
    assert row is not None, f"no row for {sql} {args}"
    return row


OPERATIONS_DIR = Path(__file__).resolve().parents[2] / "operations"


def operation(name: str) -> str:
    """The text of operations/`name`."""
    return (OPERATIONS_DIR / name).read_text()


@dataclass(frozen=True)
class Subjects:
    """Rows of the demo data set the operations are run on."""

    feed_viewer: int
    """The user who follows the most users: a home feed with plenty in it."""
    board: int
    """The public board with the most pins."""
    profile_user: int
    profile_username: str
    """The user with the most boards among those with a secret board."""
    secret_board: int
    """The profile user's secret board with the most pins."""
    repin: int
    """A repin with the most comments, itself and its source on public boards."""
    popular_user: int
    """The user with the most followers."""
    comment: int
    """The newest comment on the repin."""


async def pick_subjects(database_url: str) -> Subjects:
    """Finds the subjects in the demo database."""
    conn = await asyncpg.connect(database_url)
    try:
        feed_viewer = await conn.fetchval(
            "select follower_id from follows group by 1 order by count(*) desc, 1 limit 1"
        )
        board = await conn.fetchval(
            "select b.id from boards b join pins p on p.board_id = b.id "
            "where b.privacy = 'PUBLIC' group by b.id order by count(*) desc, b.id limit 1"
        )
        profile = await one_row(
            conn,
            "select u.id, u.username from users u join boards b on b.owner_id = u.id "
            "group by u.id having bool_or(b.privacy = 'SECRET') "
            "order by count(*) desc, u.id limit 1",
        )
        secret_board = await conn.fetchval(
            "select b.id from boards b left join pins p on p.board_id = b.id "
            "where b.owner_id = $1 and b.privacy = 'SECRET' "
            "group by b.id order by count(p.id) desc, b.id limit 1",
            profile["id"],
        )
        repin = await conn.fetchval(
            "select p.id from pins p join boards b on b.id = p.board_id "
            "join pins s on s.id = p.saved_from_id join boards sb on sb.id = s.board_id "
            "join comments c on c.pin_id = p.id "
            "where b.privacy = 'PUBLIC' and sb.privacy = 'PUBLIC' "
            "group by p.id order by count(*) desc, p.id limit 1"
        )
        popular_user = await conn.fetchval(
            "select followee_id from follows group by 1 order by count(*) desc, 1 limit 1"
        )
        comment = await conn.fetchval("select max(id) from comments where pin_id = $1", repin)
    finally:
        await conn.close()
    return Subjects(
        feed_viewer=feed_viewer,
        board=board,
        profile_user=profile["id"],
        profile_username=profile["username"],
        secret_board=secret_board,
        repin=repin,
        popular_user=popular_user,
        comment=comment,
    )
