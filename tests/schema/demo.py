"""What the schema tests run against in the demo data: the operations' texts, and subjects
(a feed viewer, a full board, a profile with a secret board, a repin...) picked with SQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
from graphql import OperationDefinitionNode, OperationType, parse

from resolvers.ids import encode_global_id
from server.persisted.folder import read_folder


async def one_row(conn: asyncpg.Connection, sql: str, *args: Any) -> asyncpg.Record:
    """The row a query must find."""
    row = await conn.fetchrow(sql, *args)
    assert row is not None, f"no row for {sql} {args}"
    return row


OPERATIONS_DIR = Path(__file__).resolve().parents[2] / "operations"


@cache
def _documents() -> dict[str, str]:
    return {d.path.name: d.text for d in read_folder(OPERATIONS_DIR)}


def operation(name: str) -> str:
    """The document of operations/`name` as the web client sends it: the file's text with
    the fragments it uses from other files (server/persisted/folder.py)."""
    return _documents()[name]


def query_files() -> set[str]:
    """The names of the files in operations/ that hold a query (not a mutation)."""
    return {
        name
        for name, text in _documents().items()
        if all(
            d.operation is OperationType.QUERY
            for d in parse(text).definitions
            if isinstance(d, OperationDefinitionNode)
        )
    }


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


@dataclass(frozen=True)
class Picks:
    """What the counted requests are about: the subjects, and rows to look up by ID."""

    subjects: Subjects
    lookup: dict[str, list[int]]
    """Ten ids per node type, all visible to anyone; no comment is on one of the pins."""

    def node_ids(self, per_type: int) -> list[str]:
        """`per_type` global IDs of each node type, types interleaved."""
        return [
            encode_global_id(type_name, ids[i])
            for i in range(per_type)
            for type_name, ids in self.lookup.items()
        ]


Variables = dict[str, Any]
# Per operation: its variables for a small and a large request (list sizes or id counts).
SIZES: dict[str, Callable[[Picks], tuple[Variables, Variables]]] = {
    "HomeFeed.graphql": lambda p: ({"first": 2}, {"first": 100}),
    "BoardPage.graphql": lambda p: (
        {"boardId": encode_global_id("Board", p.subjects.board), "first": 2},
        {"boardId": encode_global_id("Board", p.subjects.board), "first": 100},
    ),
    "ProfilePage.graphql": lambda p: (
        {"username": p.subjects.profile_username, "boardsFirst": 1},
        {"username": p.subjects.profile_username, "boardsFirst": 100},
    ),
    "PinCloseUp.graphql": lambda p: (
        {"pinId": encode_global_id("Pin", p.subjects.repin), "commentsFirst": 1},
        {"pinId": encode_global_id("Pin", p.subjects.repin), "commentsFirst": 100},
    ),
    "LatestPins.graphql": lambda p: ({"first": 2}, {"first": 100}),
    "NodeLookup.graphql": lambda p: ({"ids": p.node_ids(1)}, {"ids": p.node_ids(10)}),
    "SearchPage.graphql": lambda p: (
        {"query": "ideas", "first": 2},
        {"query": "ideas", "first": 100},
    ),
    "RelatedPins.graphql": lambda p: (
        {"pinId": encode_global_id("Pin", p.subjects.repin), "first": 2},
        {"pinId": encode_global_id("Pin", p.subjects.repin), "first": 100},
    ),
}
# Rows anyone may see, ten per type, for NodeLookup (comments on other pins than these).
LOOKUP_SQL = {
    "User": "select id from users order by id limit 10",
    "Board": "select id from boards where privacy = 'PUBLIC' order by id desc limit 10",
    "Pin": "select p.id from pins p join boards b on b.id = p.board_id "
    "where b.privacy = 'PUBLIC' order by p.id desc limit 10",
    "Comment": "select c.id from comments c join pins p on p.id = c.pin_id "
    "join boards b on b.id = p.board_id where b.privacy = 'PUBLIC' and p.id < ("
    "  select min(id) from (select p.id from pins p join boards b on b.id = p.board_id"
    "  where b.privacy = 'PUBLIC' order by p.id desc limit 10) as looked_up"
    ") order by c.id desc limit 10",
}
