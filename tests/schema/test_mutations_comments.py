"""addComment and deleteComment through HTTP: the payload shows the new state in the same
response, refused inputs are userErrors naming field, rule and value (nothing written), and
a comment on a pin the viewer may not see cannot be told from one that does not exist.

The module writes into its own database holding tests/world.py (never the shared world):
each test makes the pins it comments on, so the tests do not depend on one another.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from resolvers.ids import encode_global_id
from tests import world
from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, without_cost
from tests.world import ADA, C3, OLIVE, OLIVE_PUBLIC, OLIVE_SECRET, OTTO, OTTO_PUBLIC, P2

MISSING = 999_999  # no row of any type has this id

COMMENT = "__typename id text author { id username email } pin { id }"
PIN = "id commentCount comments(first: 100) { totalCount nodes { id text } }"
ADD_COMMENT = f"""
mutation AddComment($input: AddCommentInput!) {{
  addComment(input: $input) {{
    comment {{ {COMMENT} }}
    pin {{ {PIN} }}
    userErrors {{ field message code }}
  }}
}}"""
DELETE_COMMENT = f"""
mutation DeleteComment($input: DeleteCommentInput!) {{
  deleteComment(input: $input) {{
    deletedCommentId
    pin {{ {PIN} }}
    userErrors {{ field message code }}
  }}
}}"""
NOT_FOUND_PIN = {
    "field": "pinId",
    "message": "pinId: no pin with this ID exists",
    "code": "NOT_FOUND",
}
NOT_FOUND_COMMENT = {
    "field": "commentId",
    "message": "commentId: no comment with this ID exists",
    "code": "NOT_FOUND",
}


def gid(type_name: str, id: int) -> str:
    """The global ID the API gives the `type_name` row `id`."""
    return encode_global_id(type_name, id)


@pytest.fixture(scope="module")
async def database(make_database: MakeDatabase) -> str:
    """This module's own database: tests/world.py, which these tests then write to."""
    return await new_database(make_database, with_world=True)


async def new_pin(sql: asyncpg.Connection, board: int) -> int:
    """A fresh pin (no comments) on `board`, created by the board's owner; its id."""
    pin: int = await sql.fetchval(
        """insert into pins (board_id, creator_id, title, image_url, image_width, image_height,
               dominant_color)
           select $1, owner_id, 'fresh', 'https://img.example/fresh.jpg', 10, 10, '#000000'
           from boards where id = $1 returning id""",
        board,
    )
    return pin


async def new_comment(sql: asyncpg.Connection, pin: int, author: int, text: str = "hi") -> int:
    """A comment by `author` on `pin`, written directly; its id."""
    comment: int = await sql.fetchval(
        "insert into comments (pin_id, author_id, text) values ($1, $2, $3) returning id",
        pin,
        author,
        text,
    )
    return comment


async def comments_of(sql: asyncpg.Connection, pin: int) -> list[tuple[int, int, str]]:
    """(id, author, text) of every comment on `pin` in the database, newest first."""
    rows = await sql.fetch(
        "select id, author_id, text from comments where pin_id = $1 order by id desc", pin
    )
    return [(r["id"], r["author_id"], r["text"]) for r in rows]


async def add_comment(
    client: GraphQLClient, pin_id: str, text: str, viewer: int | None
) -> dict[str, Any]:
    """addComment's payload (failing on any GraphQL error)."""
    data = await client.data(ADD_COMMENT, {"input": {"pinId": pin_id, "text": text}}, viewer=viewer)
    payload: dict[str, Any] = data["addComment"]
    return payload


async def delete_comment(client: GraphQLClient, comment_id: str, viewer: int) -> dict[str, Any]:
    """deleteComment's payload (failing on any GraphQL error)."""
    data = await client.data(DELETE_COMMENT, {"input": {"commentId": comment_id}}, viewer=viewer)
    payload: dict[str, Any] = data["deleteComment"]
    return payload


def pin_with(pin: int, comments: list[tuple[int, str]]) -> dict[str, Any]:
    """The payload's `pin` holding `comments` ((id, text), newest first)."""
    return {
        "id": gid("Pin", pin),
        "commentCount": len(comments),
        "comments": {
            "totalCount": len(comments),
            "nodes": [{"id": gid("Comment", c), "text": t} for c, t in comments],
        },
    }


# ---- addComment: success ----------------------------------------------------------------------


async def test_add_comment_returns_it_and_the_pin_with_its_new_count(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    first = await add_comment(client, gid("Pin", pin), "  lovely colours \n", viewer=OTTO)
    [(c1, author, text)] = await comments_of(sql, pin)
    assert (author, text) == (OTTO, "lovely colours")
    assert first == {
        "comment": {
            "__typename": "Comment",
            "id": gid("Comment", c1),
            "text": "lovely colours",
            "author": {"id": gid("User", OTTO), "username": "otto", "email": "otto@example.com"},
            "pin": {"id": gid("Pin", pin)},
        },
        "pin": pin_with(pin, [(c1, "lovely colours")]),
        "userErrors": [],
    }

    second = await add_comment(client, gid("Pin", pin), "agreed", viewer=ADA)
    c2 = (await comments_of(sql, pin))[0][0]
    assert second["comment"]["id"] == gid("Comment", c2)
    assert second["comment"]["author"] == {
        "id": gid("User", ADA),
        "username": "ada",
        "email": "ada@example.com",
    }
    assert second["pin"] == pin_with(pin, [(c2, "agreed"), (c1, "lovely colours")])


async def test_the_owner_comments_on_a_pin_of_their_secret_board(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_SECRET)
    payload = await add_comment(client, gid("Pin", pin), "note to self", viewer=OLIVE)
    [(comment, _, _)] = await comments_of(sql, pin)
    assert payload["userErrors"] == []
    assert payload["comment"]["id"] == gid("Comment", comment)
    assert payload["pin"] == pin_with(pin, [(comment, "note to self")])


@pytest.mark.parametrize(
    ("text", "stored"),
    [("x", "x"), ("x" * 1000, "x" * 1000), ("\t " + "y" * 1000 + " \n", "y" * 1000)],
    ids=["one-character", "1000-characters", "1000-after-trimming"],
)
async def test_comment_length_bounds_apply_after_trimming(
    client: GraphQLClient, sql: asyncpg.Connection, text: str, stored: str
) -> None:
    pin = await new_pin(sql, OTTO_PUBLIC)
    payload = await add_comment(client, gid("Pin", pin), text, viewer=ADA)
    assert payload["userErrors"] == []
    assert payload["comment"]["text"] == stored
    assert [t for _, _, t in await comments_of(sql, pin)] == [stored]


# ---- addComment: refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "code"),
    [
        ("", "text must not be blank", "TOO_SHORT"),
        ("  \n\t  ", "text must not be blank", "TOO_SHORT"),
        ("a\x00b", "text must not contain NUL characters", "INVALID_FORMAT"),
        ("z" * 1001, "text must be at most 1000 characters, got 1001", "TOO_LONG"),
        (" " + "z" * 1500 + " ", "text must be at most 1000 characters, got 1500", "TOO_LONG"),
    ],
    ids=["empty", "blank", "nul", "1001-characters", "too-long-after-trimming"],
)
async def test_a_bad_text_is_a_user_error_and_nothing_is_written(
    client: GraphQLClient, sql: asyncpg.Connection, text: str, message: str, code: str
) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    payload = await add_comment(client, gid("Pin", pin), text, viewer=OTTO)
    assert payload == {
        "comment": None,
        "pin": None,
        "userErrors": [{"field": "text", "message": message, "code": code}],
    }
    assert await comments_of(sql, pin) == []


@pytest.mark.parametrize(
    ("pin_id", "message"),
    [
        ("not-an-id", "pinId is not a valid ID: 'not-an-id'"),
        ("", "pinId is not a valid ID: ''"),
        (gid("User", OTTO), "pinId must be a Pin ID, got a User ID"),
        (gid("Comment", C3), "pinId must be a Pin ID, got a Comment ID"),
    ],
    ids=["garbage", "empty", "user-id", "comment-id"],
)
async def test_a_malformed_or_wrong_type_pin_id_is_invalid_id(
    client: GraphQLClient, sql: asyncpg.Connection, pin_id: str, message: str
) -> None:
    before = await sql.fetchval("select count(*) from comments")
    payload = await add_comment(client, pin_id, "hello", viewer=OTTO)
    assert payload == {
        "comment": None,
        "pin": None,
        "userErrors": [{"field": "pinId", "message": message, "code": "INVALID_ID"}],
    }
    assert await sql.fetchval("select count(*) from comments") == before


async def test_add_comment_needs_a_viewer(client: GraphQLClient, sql: asyncpg.Connection) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    body = await client.execute(ADD_COMMENT, {"input": {"pinId": gid("Pin", pin), "text": "hi"}})
    assert body["data"] == {"addComment": None}
    [error] = body["errors"]
    assert error["path"] == ["addComment"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert await comments_of(sql, pin) == []


@pytest.mark.parametrize("viewer", [OTTO, ADA], ids=["otto", "ada"])
async def test_a_pin_on_someone_elses_secret_board_is_not_found_like_a_missing_one(
    client: GraphQLClient, sql: asyncpg.Connection, viewer: int
) -> None:
    secret_pin = await new_pin(sql, OLIVE_SECRET)
    hidden = await add_comment(client, gid("Pin", secret_pin), "peek", viewer=viewer)
    missing = await add_comment(client, gid("Pin", MISSING), "peek", viewer=viewer)
    assert hidden == missing == {"comment": None, "pin": None, "userErrors": [NOT_FOUND_PIN]}
    assert await comments_of(sql, secret_pin) == []


async def test_a_pin_whose_board_turned_secret_takes_no_more_comments(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    board: int = await sql.fetchval(
        "insert into boards (owner_id, name) values ($1, 'soon secret') returning id", OLIVE
    )
    pin = await new_pin(sql, board)
    assert (await add_comment(client, gid("Pin", pin), "before", viewer=OTTO))["userErrors"] == []
    await sql.execute("update boards set privacy = 'SECRET' where id = $1", board)
    after = await add_comment(client, gid("Pin", pin), "after", viewer=OTTO)
    assert after["userErrors"] == [NOT_FOUND_PIN]
    assert [t for _, _, t in await comments_of(sql, pin)] == ["before"]


async def _wait_until_blocked(sql: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Returns once another backend of this database waits for a lock (or `task` ended)."""
    for _ in range(200):
        if task.done():
            return
        waiting = await sql.fetchval(
            """select count(*) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid()
                 and wait_event_type = 'Lock'"""
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the request neither finished nor waited for the lock")


async def test_a_pin_deleted_while_commenting_is_not_found_not_a_server_error(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    """The pin is deleted by a transaction that commits while addComment runs: addComment
    must see it gone (NOT_FOUND), not fail on the foreign key (INTERNAL_SERVER_ERROR)."""
    pin = await new_pin(sql, OLIVE_PUBLIC)
    variables = {"input": {"pinId": gid("Pin", pin), "text": "too late"}}
    async with sql.transaction():
        await sql.execute("delete from pins where id = $1", pin)
        task = asyncio.create_task(client.execute(ADD_COMMENT, variables, viewer=OTTO))
        await _wait_until_blocked(sql, task)
    body = await task
    assert without_cost(body) == {
        "data": {"addComment": {"comment": None, "pin": None, "userErrors": [NOT_FOUND_PIN]}}
    }
    assert await comments_of(sql, pin) == []


# ---- deleteComment ----------------------------------------------------------------------------


async def test_the_author_deletes_their_comment(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    keep = await new_comment(sql, pin, ADA, "stays")
    gone = await new_comment(sql, pin, OTTO, "goes")
    payload = await delete_comment(client, gid("Comment", gone), viewer=OTTO)
    assert payload == {
        "deletedCommentId": gid("Comment", gone),
        "pin": pin_with(pin, [(keep, "stays")]),
        "userErrors": [],
    }
    assert await comments_of(sql, pin) == [(keep, ADA, "stays")]


async def test_the_pins_board_owner_deletes_anyones_comment(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    comment = await new_comment(sql, pin, OTTO, "spam")
    payload = await delete_comment(client, gid("Comment", comment), viewer=OLIVE)
    assert payload == {
        "deletedCommentId": gid("Comment", comment),
        "pin": pin_with(pin, []),
        "userErrors": [],
    }
    assert await comments_of(sql, pin) == []


async def test_the_owner_deletes_a_comment_on_their_secret_board(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_SECRET)
    comment = await new_comment(sql, pin, OLIVE, "draft")
    payload = await delete_comment(client, gid("Comment", comment), viewer=OLIVE)
    assert payload["userErrors"] == []
    assert payload["pin"] == pin_with(pin, [])
    assert await comments_of(sql, pin) == []


async def test_anyone_else_may_not_delete_a_comment(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    comment = await new_comment(sql, pin, OTTO, "mine")
    payload = await delete_comment(client, gid("Comment", comment), viewer=ADA)
    assert payload == {
        "deletedCommentId": None,
        "pin": None,
        "userErrors": [
            {
                "field": "commentId",
                "message": "commentId: only its author or the pin's owner may delete a comment",
                "code": "FORBIDDEN",
            }
        ],
    }
    assert await comments_of(sql, pin) == [(comment, OTTO, "mine")]


@pytest.mark.parametrize("viewer", [OTTO, ADA], ids=["author-otto", "ada"])
async def test_a_comment_on_a_hidden_pin_is_not_found_even_for_its_author(
    client: GraphQLClient, sql: asyncpg.Connection, viewer: int
) -> None:
    """C3 is otto's comment on P2, which is on olive's SECRET board."""
    assert world.COMMENT_PIN[C3] == P2 and world.COMMENT_AUTHOR[C3] == OTTO
    hidden = await delete_comment(client, gid("Comment", C3), viewer=viewer)
    missing = await delete_comment(client, gid("Comment", MISSING), viewer=viewer)
    expected = {"deletedCommentId": None, "pin": None, "userErrors": [NOT_FOUND_COMMENT]}
    assert hidden == missing == expected
    assert await sql.fetchval("select count(*) from comments where id = $1", C3) == 1


async def test_deleting_a_comment_twice_is_not_found_the_second_time(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OTTO_PUBLIC)
    comment = await new_comment(sql, pin, ADA)
    assert (await delete_comment(client, gid("Comment", comment), viewer=ADA))["userErrors"] == []
    again = await delete_comment(client, gid("Comment", comment), viewer=ADA)
    assert again["userErrors"] == [NOT_FOUND_COMMENT]


@pytest.mark.parametrize(
    ("comment_id", "message"),
    [
        ("%%%", "commentId is not a valid ID: '%%%'"),
        (gid("Pin", P2), "commentId must be a Comment ID, got a Pin ID"),
        (gid("Board", OLIVE_PUBLIC), "commentId must be a Comment ID, got a Board ID"),
    ],
    ids=["garbage", "pin-id", "board-id"],
)
async def test_a_malformed_or_wrong_type_comment_id_is_invalid_id(
    client: GraphQLClient, comment_id: str, message: str
) -> None:
    payload = await delete_comment(client, comment_id, viewer=OLIVE)
    assert payload == {
        "deletedCommentId": None,
        "pin": None,
        "userErrors": [{"field": "commentId", "message": message, "code": "INVALID_ID"}],
    }


async def test_delete_comment_needs_a_viewer(
    client: GraphQLClient, sql: asyncpg.Connection
) -> None:
    pin = await new_pin(sql, OLIVE_PUBLIC)
    comment = await new_comment(sql, pin, OTTO)
    body = await client.execute(DELETE_COMMENT, {"input": {"commentId": gid("Comment", comment)}})
    assert body["data"] == {"deleteComment": None}
    [error] = body["errors"]
    assert error["path"] == ["deleteComment"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert await comments_of(sql, pin) == [(comment, OTTO, "hi")]
