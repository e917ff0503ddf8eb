"""A valid token whose user was deleted after the worker last checked it (the edge refuses it
with 401 from the next check on: tests/server/test_live_viewers.py): every mutation that would
write a row referencing the viewer answers UNAUTHENTICATED (not INTERNAL_SERVER_ERROR with a
foreign-key traceback), and writes nothing; a read answers as for nobody.

The module writes into its own database (migrated, empty).
"""

from __future__ import annotations

import logging

import asyncpg
import pytest

from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.schema.test_mutations_follows import new_users
from tests.support import GraphQLClient

CREATE_BOARD = """mutation { createBoard(input: { name: "Gone" }) {
  board { id } userErrors { code } } }"""
FOLLOW = "mutation ($id: ID!) { followUser(input: { userId: $id }) { user { id } } }"
COMMENT = """mutation ($id: ID!) { addComment(input: { pinId: $id, text: "hi" }) {
  comment { id } userErrors { code } } }"""


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """This module's own database, migrated and empty."""
    return await new_database(make_database, with_world=False)


async def test_a_viewer_deleted_since_checked_is_unauthenticated_and_writes_nothing(
    client: GraphQLClient, sql: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    owner, gone = await new_users(sql, 2)
    board = await sql.fetchval(
        "insert into boards (owner_id, name) values ($1, 'b') returning id", owner
    )
    pin = await sql.fetchval(
        """insert into pins (board_id, creator_id, title, image_url, image_width, image_height,
               dominant_color)
           values ($1, $2, 't', 'https://example.com/a.jpg', 10, 10, '#000000') returning id""",
        board,
        owner,
    )
    seen = await client.execute("{ viewer { id } }", viewer=gone)
    assert seen["data"] == {"viewer": {"id": encode_global_id("User", gone)}}
    await sql.execute("delete from users where id = $1", gone)
    rows_before = await _rows(sql)
    caplog.set_level(logging.ERROR)
    for mutation, variables in [
        (CREATE_BOARD, {}),
        (FOLLOW, {"id": encode_global_id("User", owner)}),
        (COMMENT, {"id": encode_global_id("Pin", pin)}),
    ]:
        body = await client.execute(mutation, variables, viewer=gone)
        assert list(body["data"].values()) == [None], body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", body
        assert "no longer exists" in error["message"]
    assert await _rows(sql) == rows_before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    viewer = await client.execute("{ viewer { id } }", viewer=gone)
    assert viewer == {"data": {"viewer": None}, **_cost(viewer)}


async def _rows(sql: asyncpg.Connection) -> tuple[int, ...]:
    counts = await sql.fetchrow(
        "select (select count(*) from boards), (select count(*) from follows),"
        " (select count(*) from comments)"
    )
    assert counts is not None
    return tuple(counts)


def _cost(body: dict[str, object]) -> dict[str, object]:
    return {"extensions": body["extensions"]} if "extensions" in body else {}
