"""Every mutation is one transaction: when its commit fails (a deferred constraint trigger
this test installs raises at COMMIT, after every statement of the mutation ran), nothing it
wrote stays, and the client gets a masked INTERNAL_SERVER_ERROR with HTTP 200, never a 500.
Without the trigger the same request succeeds, so the test exercised a real write."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.support import serve, without_cost
from tests.world import ADA, C1, OLIVE, OLIVE_PUBLIC, OLIVE_SECRET, OTTO, OTTO_SECRET, P1

TABLES = ("users", "boards", "pins", "comments", "follows")
FAIL_AT_COMMIT = """
create function fail_at_commit() returns trigger language plpgsql as $$
begin
    raise exception 'test: the commit is refused';
end $$;
"""
NEW_PIN = {"title": "t", "imageUrl": "https://img.example/t.jpg", "imageWidth": 1, "imageHeight": 1}

# mutation, its input type, who sends it, its input, and the table its commit must not change
CASES: list[tuple[str, str, int, dict[str, Any], str]] = [
    ("createBoard", "CreateBoardInput", OLIVE, {"name": "new"}, "boards"),
    (
        "updateBoard",
        "UpdateBoardInput",
        OLIVE,
        {"boardId": encode_global_id("Board", OLIVE_PUBLIC), "name": "renamed"},
        "boards",
    ),
    (
        "deleteBoard",
        "DeleteBoardInput",
        OLIVE,
        {"boardId": encode_global_id("Board", OLIVE_PUBLIC)},
        "boards",
    ),
    (
        "createPin",
        "CreatePinInput",
        OLIVE,
        {"boardId": encode_global_id("Board", OLIVE_PUBLIC), **NEW_PIN},
        "pins",
    ),
    (
        "updatePin",
        "UpdatePinInput",
        OLIVE,
        {"pinId": encode_global_id("Pin", P1), "title": "x"},
        "pins",
    ),
    ("deletePin", "DeletePinInput", OLIVE, {"pinId": encode_global_id("Pin", P1)}, "pins"),
    (
        "movePin",
        "MovePinInput",
        OLIVE,
        {"pinId": encode_global_id("Pin", P1), "boardId": encode_global_id("Board", OLIVE_SECRET)},
        "pins",
    ),
    (
        "savePin",
        "SavePinInput",
        OTTO,
        {"pinId": encode_global_id("Pin", P1), "boardId": encode_global_id("Board", OTTO_SECRET)},
        "pins",
    ),
    (
        "addComment",
        "AddCommentInput",
        OTTO,
        {"pinId": encode_global_id("Pin", P1), "text": "hi"},
        "comments",
    ),
    (
        "deleteComment",
        "DeleteCommentInput",
        OTTO,
        {"commentId": encode_global_id("Comment", C1)},
        "comments",
    ),
    ("followUser", "FollowInput", ADA, {"userId": encode_global_id("User", OTTO)}, "follows"),
    ("unfollowUser", "FollowInput", ADA, {"userId": encode_global_id("User", OLIVE)}, "follows"),
]


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in id order."""
    return {
        table: [tuple(row) for row in await conn.fetch(f"select * from {table} order by id")]
        for table in TABLES
    }


@pytest.mark.parametrize(
    ("name", "input_type", "viewer", "input", "table"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_failed_commit_leaves_nothing_written(
    make_database: MakeDatabase,
    name: str,
    input_type: str,
    viewer: int,
    input: dict[str, Any],
    table: str,
) -> None:
    url = await new_database(make_database, with_world=True)
    conn = await asyncpg.connect(url)
    query = f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ userErrors {{ code }} }} }}"
    try:
        await conn.execute(FAIL_AT_COMMIT)
        await conn.execute(
            f"create constraint trigger fail_at_commit after insert or update or delete on {table} "
            "deferrable initially deferred for each row execute function fail_at_commit()"
        )
        before = await snapshot(conn)
        async with serve(url) as client:
            response = await client.post(query, {"i": input}, viewer=viewer)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["data"] == {name: None}
            assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
            assert "commit is refused" not in response.text
            assert await snapshot(conn) == before

            await conn.execute(f"drop trigger fail_at_commit on {table}")
            done = await client.execute(query, {"i": input}, viewer=viewer)
            assert without_cost(done) == {"data": {name: {"userErrors": []}}}
            assert (await snapshot(conn))[table] != before[table]
    finally:
        await conn.close()
