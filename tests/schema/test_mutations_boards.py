"""createBoard, updateBoard and deleteBoard through HTTP, against a real PostgreSQL.

Each payload shows the new state (counts, owner, privacy) and so do later root fields of the
same request; every refused input is a `userError` (field, message, code) and writes nothing;
a request without a viewer gets UNAUTHENTICATED and a null payload. Someone else's SECRET
board is refused with exactly the words of a missing one. deleteBoard takes the board's pins
and their comments with it, leaves repins elsewhere without `savedFrom`, and is one
transaction: a failure between its two statements (a trigger) leaves everything as it was.

Refusals run on one fresh world database per module (they write nothing, which every test
checks); tests that write get a fresh world database of their own (≈ 0.1 s each).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from resolvers.ids import encode_global_id
from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, serve
from tests.world import (
    ADA,
    C2,
    C3,
    OLIVE,
    OLIVE_PUBLIC,
    OLIVE_SECRET,
    OTTO,
    OTTO_PUBLIC,
    OTTO_SECRET,
    P1,
    P2,
    P3,
    P4,
    P6,
    P_REPIN_SECRET,
    P_SECRET_REPIN,
)

MISSING = 999  # no row of any type has this id
SIGN_IN = "sign in to change anything: send Authorization: Bearer <token>"
ERRORS = "userErrors { field message code }"
BOARD = "board { id name description privacy pinCount owner { username } }"
DELETED = "deletedBoardId deletedPinCount owner { username boards { totalCount nodes { id } } }"
Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class World:
    """A served copy of tests/world.py: its client and a direct connection to its database."""

    client: GraphQLClient
    conn: asyncpg.Connection


@asynccontextmanager
async def served_world(make_database: MakeDatabase) -> AsyncIterator[World]:
    """A fresh database holding tests/world.py, served in-process."""
    url = await new_database(make_database, with_world=True)
    conn = await asyncpg.connect(url)
    try:
        async with serve(url) as client:
            yield World(client, conn)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def shared(make_database: MakeDatabase) -> AsyncIterator[World]:
    """This module's world for refused writes (each test checks nothing changed)."""
    async with served_world(make_database) as served:
        yield served


@pytest.fixture
async def fresh(make_database: MakeDatabase) -> AsyncIterator[World]:
    """A world of this test's own, for writes that succeed."""
    async with served_world(make_database) as served:
        yield served


def gid(type_name: str, id: int) -> str:
    """The global ID of the `type_name` row `id`."""
    return encode_global_id(type_name, id)


def user_error(field: str, message: str, code: str) -> dict[str, str]:
    """One entry of a payload's `userErrors`."""
    return {"field": field, "message": message, "code": code}


def mutation_of(name: str, selection: str) -> str:
    """A mutation document running `name` with `$input`, selecting `selection` and errors."""
    input_type = name[0].upper() + name[1:] + "Input"  # createBoard: CreateBoardInput
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}"


async def mutate(
    client: GraphQLClient, name: str, input: dict[str, Any], selection: str, *, viewer: int | None
) -> dict[str, Any]:
    """Runs one mutation (expecting no GraphQL error) and returns its payload."""
    data = await client.data(mutation_of(name, selection), {"input": input}, viewer=viewer)
    payload: dict[str, Any] = data[name]
    return payload


async def snapshot(conn: asyncpg.Connection) -> Snapshot:
    """Every row of every table, to show that a refused write changed nothing."""
    tables = ("users", "boards", "pins", "comments", "follows")
    return {
        t: [tuple(r) for r in await conn.fetch(f"select * from {t} order by id")] for t in tables
    }


# ---- createBoard -------------------------------------------------------------------------------


async def test_create_board_trims_the_name_and_takes_the_defaults(fresh: World) -> None:
    selection = BOARD.replace("owner { username }", "owner { username boards { totalCount } }")
    payload = await mutate(
        fresh.client, "createBoard", {"name": "  Recipes \t"}, selection, viewer=ADA
    )
    board = payload["board"]
    assert payload["userErrors"] == []
    assert {k: v for k, v in board.items() if k != "id"} == {
        "name": "Recipes",
        "description": "",
        "privacy": "PUBLIC",
        "pinCount": 0,
        "owner": {"username": "ada", "boards": {"totalCount": 1}},
    }
    row = await fresh.conn.fetchrow(
        "select id, owner_id, name, description, privacy::text from boards where owner_id = $1",
        ADA,
    )
    assert row is not None
    assert board["id"] == gid("Board", row["id"])
    assert tuple(row)[1:] == (ADA, "Recipes", "", "PUBLIC")


async def test_create_board_at_the_length_limits(fresh: World) -> None:
    name, description = "n" * 100, "d" * 500
    payload = await mutate(
        fresh.client,
        "createBoard",
        {"name": f"  {name}  ", "description": description},
        "board { name description }",
        viewer=ADA,
    )
    assert payload == {
        "board": {"name": name, "description": description},
        "userErrors": [],
    }


async def test_a_secret_board_exists_only_for_its_owner(fresh: World) -> None:
    payload = await mutate(
        fresh.client,
        "createBoard",
        {"name": "Gifts", "description": "for otto", "privacy": "SECRET"},
        BOARD,
        viewer=ADA,
    )
    board_id = payload["board"]["id"]
    assert payload["board"]["privacy"] == "SECRET"
    query = """query($id: ID!) {
        board(id: $id) { name } node(id: $id) { id }
        user(username: "ada") { boards { totalCount nodes { id } } }
    }"""
    mine = await fresh.client.data(query, {"id": board_id}, viewer=ADA)
    assert mine == {
        "board": {"name": "Gifts"},
        "node": {"id": board_id},
        "user": {"boards": {"totalCount": 1, "nodes": [{"id": board_id}]}},
    }
    for viewer in (OTTO, OLIVE, None):
        theirs = await fresh.client.data(query, {"id": board_id}, viewer=viewer)
        assert theirs == {
            "board": None,
            "node": None,
            "user": {"boards": {"totalCount": 0, "nodes": []}},
        }, viewer


async def test_a_later_root_field_sees_the_board_created_before_it(fresh: World) -> None:
    selection = "board { name owner { boards { totalCount nodes { name } } } }"
    data = await fresh.client.data(
        f"""mutation {{
            a: createBoard(input: {{name: "A"}}) {{ {selection} }}
            b: createBoard(input: {{name: "B", privacy: SECRET}}) {{ {selection} }}
        }}""",
        viewer=ADA,
    )
    assert data == {
        "a": {
            "board": {"name": "A", "owner": {"boards": {"totalCount": 1, "nodes": [{"name": "A"}]}}}
        },
        "b": {
            "board": {
                "name": "B",
                "owner": {"boards": {"totalCount": 2, "nodes": [{"name": "B"}, {"name": "A"}]}},
            }
        },
    }


NAME_AND_DESCRIPTION_RULES = [
    ({"name": ""}, [user_error("name", "name must not be blank", "TOO_SHORT")]),
    ({"name": " \t\n "}, [user_error("name", "name must not be blank", "TOO_SHORT")]),
    (
        {"name": "n" * 101},
        [user_error("name", "name must be at most 100 characters, got 101", "TOO_LONG")],
    ),
    (
        {"name": " " + "n" * 101 + " "},
        [user_error("name", "name must be at most 100 characters, got 101", "TOO_LONG")],
    ),
    (
        {"name": "a\x00b"},
        [user_error("name", "name must not contain NUL characters", "INVALID_FORMAT")],
    ),
    (
        {"name": "ok", "description": "d" * 501},
        [
            user_error(
                "description", "description must be at most 500 characters, got 501", "TOO_LONG"
            )
        ],
    ),
    (
        {"name": "ok", "description": "\x00"},
        [
            user_error(
                "description", "description must not contain NUL characters", "INVALID_FORMAT"
            )
        ],
    ),
    (
        {"name": "  ", "description": "d" * 600},
        [
            user_error("name", "name must not be blank", "TOO_SHORT"),
            user_error(
                "description", "description must be at most 500 characters, got 600", "TOO_LONG"
            ),
        ],
    ),
]
RULE_IDS = [
    "empty",
    "blank",
    "name-too-long",
    "name-too-long-after-trim",
    "name-nul",
    "description-too-long",
    "description-nul",
    "both-at-once",
]


@pytest.mark.parametrize(("input", "errors"), NAME_AND_DESCRIPTION_RULES, ids=RULE_IDS)
async def test_create_board_refuses_broken_rules(
    shared: World, input: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    before = await snapshot(shared.conn)
    payload = await mutate(shared.client, "createBoard", input, "board { id }", viewer=OLIVE)
    assert payload == {"board": None, "userErrors": errors}
    assert await snapshot(shared.conn) == before


@pytest.mark.parametrize("name", ["createBoard", "updateBoard"])
async def test_an_unknown_privacy_is_a_graphql_error(shared: World, name: str) -> None:
    before = await snapshot(shared.conn)
    fields = 'name: "x"' if name == "createBoard" else f'boardId: "{gid("Board", OLIVE_PUBLIC)}"'
    inline = await shared.client.post(
        f"mutation {{ {name}(input: {{{fields}, privacy: PRIVATE}}) {{ board {{ id }} }} }}",
        viewer=OLIVE,
    )
    assert inline.status_code == 200, inline.text
    [error] = inline.json()["errors"]
    assert "data" not in inline.json()
    assert error["message"] == "Value 'PRIVATE' does not exist in 'BoardPrivacy' enum."
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}

    input: dict[str, Any] = {"name": "x", "privacy": "PRIVATE"}
    if name == "updateBoard":
        input["boardId"] = gid("Board", OLIVE_PUBLIC)
    variable = await shared.client.post(
        mutation_of(name, "board { id }"), {"input": input}, viewer=OLIVE
    )
    assert variable.status_code == 200, variable.text
    [error] = variable.json()["errors"]
    assert "data" not in variable.json()
    assert error["message"] == (
        "Variable '$input' has invalid value at .privacy: "
        "Value 'PRIVATE' does not exist in 'BoardPrivacy' enum."
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert await snapshot(shared.conn) == before


@pytest.mark.parametrize(
    ("name", "input"),
    [
        ("createBoard", {"name": "Mine"}),
        ("updateBoard", {"boardId": gid("Board", OLIVE_PUBLIC), "name": "Mine"}),
        ("deleteBoard", {"boardId": gid("Board", OLIVE_PUBLIC)}),
    ],
)
async def test_board_mutations_need_a_viewer(
    shared: World, name: str, input: dict[str, Any]
) -> None:
    before = await snapshot(shared.conn)
    response = await shared.client.post(mutation_of(name, "__typename"), {"input": input})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {name: None}
    [error] = body["errors"]
    assert {k: error[k] for k in ("message", "path", "extensions")} == {
        "message": SIGN_IN,
        "path": [name],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    assert await snapshot(shared.conn) == before


# ---- updateBoard -------------------------------------------------------------------------------


async def test_update_board_changes_only_the_fields_given(fresh: World) -> None:
    public = gid("Board", OLIVE_PUBLIC)
    data = await fresh.client.data(
        f"""mutation {{
            a: updateBoard(input: {{boardId: "{public}", name: "  Renamed  ", description: "new"}})
                {{ {BOARD} {ERRORS} }}
            b: updateBoard(input: {{boardId: "{public}", description: ""}}) {{ {BOARD} {ERRORS} }}
            c: updateBoard(input: {{boardId: "{public}"}}) {{ {BOARD} {ERRORS} }}
        }}""",
        viewer=OLIVE,
    )
    expected = {
        "id": public,
        "name": "Renamed",
        "description": "new",
        "privacy": "PUBLIC",
        "pinCount": 2,
        "owner": {"username": "olive"},
    }
    assert data["a"] == {"board": expected, "userErrors": []}
    assert data["b"] == {"board": {**expected, "description": ""}, "userErrors": []}
    assert data["c"] == data["b"]
    row = await fresh.conn.fetchrow(
        "select name, description, privacy::text from boards where id = $1", OLIVE_PUBLIC
    )
    assert row is not None
    assert tuple(row) == ("Renamed", "", "PUBLIC")


async def test_making_a_board_secret_hides_it_and_its_pins_at_once(fresh: World) -> None:
    public = gid("Board", OLIVE_PUBLIC)
    query = """query($board: ID!, $pin: ID!, $repin: ID!) {
        board(id: $board) { id } pin(id: $pin) { id } node(id: $pin) { id }
        user(username: "olive") { boards { totalCount } pins { totalCount } }
        pins(first: 100) { totalCount nodes { id } }
        repin: pin(id: $repin) { savedFrom { id } }
    }"""
    ids = {"board": public, "pin": gid("Pin", P1), "repin": gid("Pin", P4)}
    before = await fresh.client.data(query, ids, viewer=OTTO)
    assert before["board"] == {"id": public}
    assert before["repin"] == {"savedFrom": {"id": gid("Pin", P1)}}

    payload = await mutate(
        fresh.client,
        "updateBoard",
        {"boardId": public, "privacy": "SECRET"},
        "board { privacy pinCount pins { totalCount } }",
        viewer=OLIVE,
    )
    assert payload == {
        "board": {"privacy": "SECRET", "pinCount": 2, "pins": {"totalCount": 2}},
        "userErrors": [],
    }
    for viewer in (OTTO, ADA, None):
        after = await fresh.client.data(query, ids, viewer=viewer)
        visible = [P6, P4, P3] if viewer == OTTO else [P4, P3]
        assert after == {
            "board": None,
            "pin": None,
            "node": None,
            "user": {"boards": {"totalCount": 0}, "pins": {"totalCount": 0}},
            "pins": {"totalCount": len(visible), "nodes": [{"id": gid("Pin", p)} for p in visible]},
            "repin": {"savedFrom": None},
        }, viewer
    mine = await fresh.client.data(query, ids, viewer=OLIVE)
    assert mine["board"] == {"id": public}
    assert mine["repin"] == {"savedFrom": {"id": gid("Pin", P1)}}

    await mutate(
        fresh.client, "updateBoard", {"boardId": public, "privacy": "PUBLIC"}, "", viewer=OLIVE
    )
    assert await fresh.client.data(query, ids, viewer=OTTO) == before


@pytest.mark.parametrize(("input", "errors"), NAME_AND_DESCRIPTION_RULES, ids=RULE_IDS)
async def test_update_board_refuses_broken_rules(
    shared: World, input: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    before = await snapshot(shared.conn)
    payload = await mutate(
        shared.client,
        "updateBoard",
        {"boardId": gid("Board", OLIVE_PUBLIC), **input},
        "board { id }",
        viewer=OLIVE,
    )
    assert payload == {"board": None, "userErrors": errors}
    assert await snapshot(shared.conn) == before


NO_BOARD = user_error("boardId", "boardId: no board with this ID exists", "NOT_FOUND")
BOARD_ID_REFUSALS = [
    (
        OLIVE,
        "garbage",
        user_error("boardId", "boardId is not a valid ID: 'garbage'", "INVALID_ID"),
    ),
    (OLIVE, "", user_error("boardId", "boardId is not a valid ID: ''", "INVALID_ID")),
    (
        OLIVE,
        gid("Pin", P1),
        user_error("boardId", "boardId must be a Board ID, got a Pin ID", "INVALID_ID"),
    ),
    (
        OLIVE,
        gid("User", OLIVE),
        user_error("boardId", "boardId must be a Board ID, got a User ID", "INVALID_ID"),
    ),
    (OLIVE, gid("Board", MISSING), NO_BOARD),
    (OTTO, gid("Board", OLIVE_SECRET), NO_BOARD),  # hidden: the very words of a missing board
    (ADA, gid("Board", OTTO_SECRET), NO_BOARD),
    (
        OTTO,
        gid("Board", OLIVE_PUBLIC),
        user_error("boardId", "boardId: only the board's owner may do this", "FORBIDDEN"),
    ),
    (
        ADA,
        gid("Board", OTTO_PUBLIC),
        user_error("boardId", "boardId: only the board's owner may do this", "FORBIDDEN"),
    ),
]
BOARD_ID_IDS = [
    "garbage",
    "empty",
    "pin-id",
    "user-id",
    "missing",
    "someone-elses-secret",
    "another-secret",
    "someone-elses-public",
    "another-public",
]


@pytest.mark.parametrize("name", ["updateBoard", "deleteBoard"])
@pytest.mark.parametrize(("viewer", "board_id", "error"), BOARD_ID_REFUSALS, ids=BOARD_ID_IDS)
async def test_board_mutations_refuse_boards_not_the_viewers(
    shared: World, name: str, viewer: int, board_id: str, error: dict[str, str]
) -> None:
    before = await snapshot(shared.conn)
    input = {"boardId": board_id}
    if name == "updateBoard":
        input["name"] = "Taken over"
    selection = "board { id }" if name == "updateBoard" else "deletedBoardId deletedPinCount"
    payload = await mutate(shared.client, name, input, selection, viewer=viewer)
    assert payload["userErrors"] == [error]
    assert payload.get("board") is None and payload.get("deletedBoardId") is None
    assert await snapshot(shared.conn) == before


async def test_a_hidden_board_reads_exactly_like_a_missing_one(shared: World) -> None:
    async def answer(board: int) -> dict[str, Any]:
        return await mutate(
            shared.client,
            "deleteBoard",
            {"boardId": gid("Board", board)},
            "deletedBoardId deletedPinCount owner { id }",
            viewer=OTTO,
        )

    assert await answer(OLIVE_SECRET) == await answer(MISSING)


# ---- deleteBoard -------------------------------------------------------------------------------


async def test_delete_board_takes_its_pins_and_their_comments(fresh: World) -> None:
    payload = await mutate(
        fresh.client, "deleteBoard", {"boardId": gid("Board", OLIVE_PUBLIC)}, DELETED, viewer=OLIVE
    )
    assert payload == {
        "deletedBoardId": gid("Board", OLIVE_PUBLIC),
        "deletedPinCount": 2,
        "owner": {
            "username": "olive",
            "boards": {"totalCount": 1, "nodes": [{"id": gid("Board", OLIVE_SECRET)}]},
        },
        "userErrors": [],
    }
    conn = fresh.conn
    assert await conn.fetchval("select count(*) from boards where id = $1", OLIVE_PUBLIC) == 0
    pins = await conn.fetch("select id, board_id, saved_from_id from pins order by id")
    # P1 and P_REPIN_SECRET went with the board; repins of P1 elsewhere stay, without a source.
    assert [tuple(r) for r in pins] == [
        (P2, OLIVE_SECRET, None),
        (P3, OTTO_PUBLIC, P2),
        (P4, OTTO_PUBLIC, None),
        (P_SECRET_REPIN, OLIVE_SECRET, None),
        (P6, OTTO_SECRET, None),
    ]
    assert [r["id"] for r in await conn.fetch("select id from comments order by id")] == [C2, C3]

    query = """query($board: ID!, $pin: ID!, $repin: ID!) {
        board(id: $board) { id } node(id: $pin) { id }
        repin: pin(id: $repin) { id savedFrom { id } }
    }"""
    ids = {"board": gid("Board", OLIVE_PUBLIC), "pin": gid("Pin", P1), "repin": gid("Pin", P4)}
    for viewer in (OLIVE, OTTO, None):
        assert await fresh.client.data(query, ids, viewer=viewer) == {
            "board": None,
            "node": None,
            "repin": {"id": gid("Pin", P4), "savedFrom": None},
        }


async def test_a_later_root_field_sees_the_board_gone(fresh: World) -> None:
    secret = gid("Board", OTTO_SECRET)
    data = await fresh.client.data(
        f"""mutation {{
            a: deleteBoard(input: {{boardId: "{secret}"}}) {{ {DELETED} {ERRORS} }}
            b: deleteBoard(input: {{boardId: "{secret}"}}) {{ {DELETED} {ERRORS} }}
            c: updateBoard(input: {{boardId: "{secret}", name: "x"}}) {{ board {{ id }} {ERRORS} }}
        }}""",
        viewer=OTTO,
    )
    assert data == {
        "a": {
            "deletedBoardId": secret,
            "deletedPinCount": 1,
            "owner": {
                "username": "otto",
                "boards": {"totalCount": 1, "nodes": [{"id": gid("Board", OTTO_PUBLIC)}]},
            },
            "userErrors": [],
        },
        "b": {
            "deletedBoardId": None,
            "deletedPinCount": 0,
            "owner": None,
            "userErrors": [NO_BOARD],
        },
        "c": {"board": None, "userErrors": [NO_BOARD]},
    }
    # Olive's repin of P6 (which went with otto's secret board) stays, without a source.
    saved_from = await fresh.conn.fetchval(
        "select saved_from_id from pins where id = $1", P_REPIN_SECRET
    )
    assert saved_from is None


async def test_delete_an_empty_board(fresh: World) -> None:
    created = await mutate(
        fresh.client, "createBoard", {"name": "Empty"}, "board { id }", viewer=ADA
    )
    board_id = created["board"]["id"]
    payload = await mutate(fresh.client, "deleteBoard", {"boardId": board_id}, DELETED, viewer=ADA)
    assert payload == {
        "deletedBoardId": board_id,
        "deletedPinCount": 0,
        "owner": {"username": "ada", "boards": {"totalCount": 0, "nodes": []}},
        "userErrors": [],
    }


REFUSE_DELETE = f"""
create function refuse_board_delete() returns trigger language plpgsql as $$
begin
    if old.id = {OLIVE_PUBLIC} then
        raise exception 'test trigger: board % may not be deleted (% pins left on it)',
            old.id, (select count(*) from pins where board_id = old.id);
    end if;
    return old;
end $$;
create trigger refuse_board_delete before delete on boards
    for each row execute function refuse_board_delete();
"""
ALLOW_DELETE = """
drop trigger refuse_board_delete on boards;
drop function refuse_board_delete();
"""


async def test_delete_board_is_one_transaction(
    fresh: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The trigger fails the board's delete after its pins were deleted: all is rolled back."""
    before = await snapshot(fresh.conn)
    public = gid("Board", OLIVE_PUBLIC)
    await fresh.conn.execute(REFUSE_DELETE)
    try:
        with caplog.at_level(logging.ERROR):
            response = await fresh.client.post(
                f"""mutation {{
                    a: deleteBoard(input: {{boardId: "{public}"}}) {{ {DELETED} {ERRORS} }}
                    b: updateBoard(input: {{boardId: "{public}"}}) {{
                        board {{ pinCount pins {{ nodes {{ id commentCount }} }} }} {ERRORS}
                    }}
                }}""",
                viewer=OLIVE,
                headers={"Accept": "application/graphql-response+json"},
            )
    finally:
        await fresh.conn.execute(ALLOW_DELETE)
    assert response.status_code == 200, response.text
    body = response.json()
    [error] = body["errors"]
    assert {k: error[k] for k in ("message", "path", "extensions")} == {
        "message": "Internal server error",
        "path": ["a"],
        "extensions": {
            "code": "INTERNAL_SERVER_ERROR",
            "requestId": response.headers["X-Request-Id"],
        },
    }
    assert "test trigger" not in response.text
    # The trigger ran after deleteBoard had deleted the board's pins: they were rolled back.
    assert "test trigger: board 1 may not be deleted (0 pins left on it)" in caplog.text
    # The same request goes on, on the same connection, and finds the board as it was.
    assert body["data"] == {
        "a": None,
        "b": {
            "board": {
                "pinCount": 2,
                "pins": {
                    "nodes": [
                        {"id": gid("Pin", P_REPIN_SECRET), "commentCount": 0},
                        {"id": gid("Pin", P1), "commentCount": 1},
                    ]
                },
            },
            "userErrors": [],
        },
    }
    assert await snapshot(fresh.conn) == before

    payload = await mutate(
        fresh.client, "deleteBoard", {"boardId": public}, "deletedPinCount", viewer=OLIVE
    )
    assert payload == {"deletedPinCount": 2, "userErrors": []}
