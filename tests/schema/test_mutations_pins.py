"""createPin, updatePin, deletePin, movePin and savePin through HTTP, against a real PostgreSQL.

Each payload shows the new state (the pin, its board's counts, the board it left, the pin it
was saved from) and so do later root fields of the same request; every refused input is a
`userError` (field, message, code) and writes nothing; without a viewer: UNAUTHENTICATED and
a null payload. A pin on someone else's SECRET board is refused with exactly the words of a
missing one. Moving a pin onto a SECRET board hides it from everyone else at once, on every
path and in every count. Concurrent saves of one pin onto one board make one repin.

Fixtures and helpers come from tests/schema/test_mutations_boards.py: refusals share one
fresh world database per module, writes get one of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from db.counters import drifts
from db.writes.pins import LOCK_SAVE
from tests.conftest import MakeDatabase
from tests.schema.test_mutations_boards import (
    BOARD_ID_IDS,
    BOARD_ID_REFUSALS,
    ERRORS,
    MISSING,
    SIGN_IN,
    World,
    gid,
    mutate,
    mutation_of,
    served_world,
    snapshot,
    user_error,
)
from tests.support import without_cost
from tests.world import (
    ADA,
    C1,
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

PIN = """pin {
    id title description link image { url width height dominantColor }
    creator { username } board { id pinCount } savedFrom { id } saveCount commentCount
}"""
NO_PIN = user_error("pinId", "pinId: no pin with this ID exists", "NOT_FOUND")
NOT_ON_YOUR_BOARD = user_error(
    "pinId", "pinId: only the owner of the pin's board may do this", "FORBIDDEN"
)
NEW_PIN: dict[str, Any] = {
    "boardId": gid("Board", OLIVE_PUBLIC),
    "title": "Sunset",
    "imageUrl": "https://img.example/sunset.jpg",
    "imageWidth": 640,
    "imageHeight": 480,
}
OWN_PIN = {OLIVE: P1, OTTO: P3}  # a pin on a PUBLIC board of the viewer's


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


def pin_refs(ids: list[int]) -> list[dict[str, str]]:
    """`nodes { id }` of a pin connection listing `ids`."""
    return [{"id": gid("Pin", p)} for p in ids]


OBJECTS = {
    "createPin": "pin { id }",
    "updatePin": "pin { id }",
    "savePin": "pin { id }",
    "deletePin": "deletedPinId board { id }",
    "movePin": "pin { id } previousBoard { id }",
}


async def refused(
    world: World, name: str, input: dict[str, Any], *, viewer: int
) -> list[dict[str, str]]:
    """Runs a mutation that must be refused: its userErrors (its objects are null, and no
    row of the database changed)."""
    before = await snapshot(world.conn)
    payload = await mutate(world.client, name, input, OBJECTS[name], viewer=viewer)
    assert await snapshot(world.conn) == before
    errors: list[dict[str, str]] = payload.pop("userErrors")
    assert set(payload.values()) == {None}, payload
    return errors


# ---- createPin ---------------------------------------------------------------------------------


async def test_create_pin_cleans_its_input(fresh: World) -> None:
    input = {
        **NEW_PIN,
        "title": "  Sunset  ",
        "description": " warm\n",
        "link": " https://example.com/sunset?at=dusk ",
        "imageUrl": "HTTPS://img.example/sunset.jpg",
        "imageWidth": 1,
        "imageHeight": 20_000,
        "dominantColor": " #A1B2C3 ",
    }
    payload = await mutate(fresh.client, "createPin", input, PIN, viewer=OLIVE)
    pin = payload["pin"]
    assert payload["userErrors"] == []
    assert {k: v for k, v in pin.items() if k != "id"} == {
        "title": "Sunset",
        "description": "warm",
        "link": "https://example.com/sunset?at=dusk",
        "image": {
            "url": "HTTPS://img.example/sunset.jpg",
            "width": 1,
            "height": 20_000,
            "dominantColor": "#a1b2c3",
        },
        "creator": {"username": "olive"},
        "board": {"id": gid("Board", OLIVE_PUBLIC), "pinCount": 3},
        "savedFrom": None,
        "saveCount": 0,
        "commentCount": 0,
    }
    row = await fresh.conn.fetchrow(
        """select id, board_id, creator_id, title, link, image_width, image_height,
               dominant_color, saved_from_id from pins order by id desc limit 1"""
    )
    assert row is not None
    assert pin["id"] == gid("Pin", row["id"])
    assert tuple(row)[1:] == (
        OLIVE_PUBLIC,
        OLIVE,
        "Sunset",
        "https://example.com/sunset?at=dusk",
        1,
        20_000,
        "#a1b2c3",
        None,
    )


async def test_create_pin_defaults(fresh: World) -> None:
    payload = await mutate(
        fresh.client,
        "createPin",
        {**NEW_PIN, "link": "   "},
        "pin { description link image { dominantColor } }",
        viewer=OLIVE,
    )
    assert payload == {
        "pin": {"description": "", "link": None, "image": {"dominantColor": "#e0e0e0"}},
        "userErrors": [],
    }


async def test_a_later_root_field_sees_the_pin_created_before_it(fresh: World) -> None:
    selection = "pin { title board { pinCount } creator { pins { totalCount nodes { title } } } }"
    data = await fresh.client.data(
        f"""mutation($a: CreatePinInput!, $b: CreatePinInput!) {{
            a: createPin(input: $a) {{ {selection} }}
            b: createPin(input: $b) {{ {selection} }}
        }}""",
        {"a": {**NEW_PIN, "title": "A"}, "b": {**NEW_PIN, "title": "B"}},
        viewer=OLIVE,
    )
    olive_pins = ["pin 7", "pin 5", "pin 2", "pin 1"]
    assert data == {
        "a": {
            "pin": {
                "title": "A",
                "board": {"pinCount": 3},
                "creator": {
                    "pins": {"totalCount": 5, "nodes": [{"title": t} for t in ["A", *olive_pins]]}
                },
            }
        },
        "b": {
            "pin": {
                "title": "B",
                "board": {"pinCount": 4},
                "creator": {
                    "pins": {
                        "totalCount": 6,
                        "nodes": [{"title": t} for t in ["B", "A", *olive_pins]],
                    }
                },
            }
        },
    }


async def test_a_later_root_field_counts_the_board_pins_created_before_it(fresh: World) -> None:
    selection = "pin { board { pinCount pins { totalCount } } }"
    data = await fresh.client.data(
        f"""mutation($input: CreatePinInput!) {{
            a: createPin(input: $input) {{ {selection} }}
            b: createPin(input: $input) {{ {selection} }}
        }}""",
        {"input": NEW_PIN},
        viewer=OLIVE,
    )
    assert data["a"]["pin"]["board"] == {"pinCount": 3, "pins": {"totalCount": 3}}
    assert data["b"]["pin"]["board"] == {"pinCount": 4, "pins": {"totalCount": 4}}


async def test_a_pin_on_a_secret_board_exists_only_for_its_owner(fresh: World) -> None:
    payload = await mutate(
        fresh.client,
        "createPin",
        {**NEW_PIN, "boardId": gid("Board", OLIVE_SECRET)},
        "pin { id board { pinCount } }",
        viewer=OLIVE,
    )
    pin_id = payload["pin"]["id"]
    assert payload["pin"]["board"] == {"pinCount": 3}
    query = """query($id: ID!) {
        pin(id: $id) { id } node(id: $id) { id }
        pins(first: 100) { nodes { id } } user(username: "olive") { pins { totalCount } }
    }"""
    mine = await fresh.client.data(query, {"id": pin_id}, viewer=OLIVE)
    assert mine["pin"] == {"id": pin_id}
    assert mine["pins"]["nodes"][0] == {"id": pin_id}
    assert mine["user"]["pins"]["totalCount"] == 5
    for viewer in (OTTO, ADA, None):
        theirs = await fresh.client.data(query, {"id": pin_id}, viewer=viewer)
        assert theirs["pin"] is None and theirs["node"] is None
        assert {"id": pin_id} not in theirs["pins"]["nodes"]
        assert theirs["user"]["pins"]["totalCount"] == 2  # P1 and P_REPIN_SECRET


def url_error(field: str, shown: str) -> dict[str, str]:
    """The refusal of a value that is not an absolute http(s) URL."""
    return user_error(field, f"{field} must be an http or https URL, got {shown}", "INVALID_URL")


def range_error(field: str, value: int) -> dict[str, str]:
    """The refusal of an image dimension out of 1..20000."""
    return user_error(field, f"{field} must be between 1 and 20000, got {value}", "OUT_OF_RANGE")


def colour_error(shown: str) -> dict[str, str]:
    """The refusal of a dominantColor that is not `#rrggbb`."""
    message = f"dominantColor must be a colour like #a1b2c3, got {shown}"
    return user_error("dominantColor", message, "INVALID_FORMAT")


TEXT_RULES: list[tuple[str, dict[str, Any], list[dict[str, str]]]] = [
    ("title-empty", {"title": ""}, [user_error("title", "title must not be blank", "TOO_SHORT")]),
    (
        "title-blank",
        {"title": " \t "},
        [user_error("title", "title must not be blank", "TOO_SHORT")],
    ),
    (
        "title-too-long",
        {"title": "t" * 101},
        [user_error("title", "title must be at most 100 characters, got 101", "TOO_LONG")],
    ),
    (
        "title-nul",
        {"title": "a\x00"},
        [user_error("title", "title must not contain NUL characters", "INVALID_FORMAT")],
    ),
    (
        "description-too-long",
        {"description": "d" * 501},
        [
            user_error(
                "description", "description must be at most 500 characters, got 501", "TOO_LONG"
            )
        ],
    ),
    (
        "description-nul",
        {"description": "\x00"},
        [
            user_error(
                "description", "description must not contain NUL characters", "INVALID_FORMAT"
            )
        ],
    ),
    (
        "link-javascript",
        {"link": "javascript:alert(1)"},
        [url_error("link", "'javascript:alert(1)'")],
    ),
    ("link-ftp", {"link": "ftp://example.com/a"}, [url_error("link", "'ftp://example.com/a'")]),
    ("link-relative", {"link": "/pins/1"}, [url_error("link", "'/pins/1'")]),
    ("link-no-scheme", {"link": "example.com/a"}, [url_error("link", "'example.com/a'")]),
    ("link-no-host", {"link": "https://"}, [url_error("link", "'https://'")]),
    (
        "link-space",
        {"link": "https://exa mple.com/"},
        [url_error("link", "'https://exa mple.com/'")],
    ),
    (
        "link-nul",
        {"link": "https://example.com/\x00"},
        [url_error("link", "'https://example.com/\\x00'")],
    ),
    (
        "link-cut-short",
        {"link": "javascript:" + "a" * 50},
        [url_error("link", "'javascript:" + "a" * 29 + "…'")],
    ),
    (
        "link-too-long",
        {"link": "https://example.com/" + "a" * 2029},
        [user_error("link", "link must be at most 2048 characters, got 2049", "TOO_LONG")],
    ),
]
IMAGE_RULES: list[tuple[str, dict[str, Any], list[dict[str, str]]]] = [
    (
        "image-url-javascript",
        {"imageUrl": "javascript:alert(1)"},
        [url_error("imageUrl", "'javascript:alert(1)'")],
    ),
    (
        "image-url-ftp",
        {"imageUrl": "ftp://img.example/a.jpg"},
        [url_error("imageUrl", "'ftp://img.example/a.jpg'")],
    ),
    ("image-url-relative", {"imageUrl": "a.jpg"}, [url_error("imageUrl", "'a.jpg'")]),
    ("image-url-empty", {"imageUrl": ""}, [url_error("imageUrl", "''")]),
    (
        "image-url-space",
        {"imageUrl": "https://img.example/a b.jpg"},
        [url_error("imageUrl", "'https://img.example/a b.jpg'")],
    ),
    ("width-zero", {"imageWidth": 0}, [range_error("imageWidth", 0)]),
    ("width-negative", {"imageWidth": -5}, [range_error("imageWidth", -5)]),
    ("width-too-big", {"imageWidth": 20_001}, [range_error("imageWidth", 20_001)]),
    ("height-zero", {"imageHeight": 0}, [range_error("imageHeight", 0)]),
    ("height-too-big", {"imageHeight": 1_000_000}, [range_error("imageHeight", 1_000_000)]),
    ("colour-name", {"dominantColor": "red"}, [colour_error("'red'")]),
    ("colour-short", {"dominantColor": "#abc"}, [colour_error("'#abc'")]),
    ("colour-not-hex", {"dominantColor": "#gggggg"}, [colour_error("'#gggggg'")]),
    ("colour-nul", {"dominantColor": "#a1b2c3\x00"}, [colour_error("'#a1b2c3\\x00'")]),
    (
        "all-at-once",
        {
            "title": "",
            "description": "d" * 501,
            "link": "ftp://x",
            "imageUrl": "/a.jpg",
            "imageWidth": 0,
            "imageHeight": 20_001,
            "dominantColor": "blue",
        },
        [
            user_error("title", "title must not be blank", "TOO_SHORT"),
            user_error(
                "description", "description must be at most 500 characters, got 501", "TOO_LONG"
            ),
            url_error("link", "'ftp://x'"),
            url_error("imageUrl", "'/a.jpg'"),
            range_error("imageWidth", 0),
            range_error("imageHeight", 20_001),
            colour_error("'blue'"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("input", "errors"),
    [pytest.param(i, e, id=name) for name, i, e in TEXT_RULES + IMAGE_RULES],
)
async def test_create_pin_refuses_broken_rules(
    shared: World, input: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    assert await refused(shared, "createPin", {**NEW_PIN, **input}, viewer=OLIVE) == errors


async def test_an_image_size_beyond_int_is_a_graphql_error(shared: World) -> None:
    before = await snapshot(shared.conn)
    input = {**NEW_PIN, "imageWidth": 2**31}
    response = await shared.client.post(
        mutation_of("createPin", "pin { id }"), {"input": input}, viewer=OLIVE
    )
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["message"] == (
        "Variable '$input' has invalid value at .imageWidth: "
        "Int cannot represent non 32-bit signed integer value: 2147483648"
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert await snapshot(shared.conn) == before


# ---- updatePin ---------------------------------------------------------------------------------


async def test_update_pin_changes_only_the_fields_given(fresh: World) -> None:
    pin = gid("Pin", P1)
    selection = "pin { id title description link image { url } board { pinCount } }"
    data = await fresh.client.data(
        f"""mutation {{
            a: updatePin(input: {{
                pinId: "{pin}", title: " New title ", description: "d", link: "http://e.com/x"
            }}) {{ {selection} {ERRORS} }}
            b: updatePin(input: {{pinId: "{pin}", description: " changed "}}) {{ {selection} }}
            c: updatePin(input: {{pinId: "{pin}", link: ""}}) {{ {selection} }}
            d: updatePin(input: {{pinId: "{pin}", link: "https://e.com/y"}}) {{ {selection} }}
            e: updatePin(input: {{pinId: "{pin}", link: "  "}}) {{ {selection} }}
        }}""",
        viewer=OLIVE,
    )
    expected = {
        "id": pin,
        "title": "New title",
        "description": "d",
        "link": "http://e.com/x",
        "image": {"url": "https://img.example/1.jpg"},
        "board": {"pinCount": 2},
    }
    assert data["a"] == {"pin": expected, "userErrors": []}
    assert data["b"] == {"pin": {**expected, "description": "changed"}}
    assert data["c"] == {"pin": {**expected, "description": "changed", "link": None}}
    assert data["d"] == {"pin": {**expected, "description": "changed", "link": "https://e.com/y"}}
    assert data["e"] == data["c"]
    row = await fresh.conn.fetchrow("select title, description, link from pins where id = $1", P1)
    assert row is not None
    assert tuple(row) == ("New title", "changed", None)


@pytest.mark.parametrize(
    ("input", "errors"),
    [
        *(pytest.param(i, e, id=name) for name, i, e in TEXT_RULES),
        pytest.param(
            {"title": "", "description": "\x00", "link": "ftp://x"},
            [
                user_error("title", "title must not be blank", "TOO_SHORT"),
                user_error(
                    "description", "description must not contain NUL characters", "INVALID_FORMAT"
                ),
                url_error("link", "'ftp://x'"),
            ],
            id="all-at-once",
        ),
    ],
)
async def test_update_pin_refuses_broken_rules(
    shared: World, input: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    assert await refused(shared, "updatePin", {"pinId": gid("Pin", P1), **input}, viewer=OLIVE) == (
        errors
    )


PIN_ID_REFUSALS = [
    pytest.param(
        OLIVE,
        "garbage",
        user_error("pinId", "pinId is not a valid ID: 'garbage'", "INVALID_ID"),
        id="garbage",
    ),
    pytest.param(
        OLIVE,
        gid("Pin", P1) + "=",
        user_error("pinId", "pinId is not a valid ID: 'UGluOjE='", "INVALID_ID"),
        id="padded",
    ),
    pytest.param(
        OLIVE,
        gid("Board", OLIVE_PUBLIC),
        user_error("pinId", "pinId must be a Pin ID, got a Board ID", "INVALID_ID"),
        id="board-id",
    ),
    pytest.param(
        OTTO,
        gid("Comment", C1),
        user_error("pinId", "pinId must be a Pin ID, got a Comment ID", "INVALID_ID"),
        id="comment-id",
    ),
    pytest.param(OLIVE, gid("Pin", MISSING), NO_PIN, id="missing"),
    pytest.param(OTTO, gid("Pin", P2), NO_PIN, id="on-someone-elses-secret-board"),
    pytest.param(ADA, gid("Pin", P6), NO_PIN, id="on-another-secret-board"),
    pytest.param(OTTO, gid("Pin", P1), NOT_ON_YOUR_BOARD, id="on-someone-elses-public-board"),
    pytest.param(ADA, gid("Pin", P3), NOT_ON_YOUR_BOARD, id="on-another-public-board"),
    # otto created nothing on olive's board; olive's repin of otto's pin is olive's to change
    pytest.param(OTTO, gid("Pin", P_REPIN_SECRET), NOT_ON_YOUR_BOARD, id="a-repin-of-yours"),
]


@pytest.mark.parametrize("name", ["updatePin", "deletePin", "movePin"])
@pytest.mark.parametrize(("viewer", "pin_id", "error"), PIN_ID_REFUSALS)
async def test_pin_mutations_refuse_pins_not_on_the_viewers_boards(
    shared: World, name: str, viewer: int, pin_id: str, error: dict[str, str]
) -> None:
    input = {"pinId": pin_id}
    if name == "updatePin":
        input["title"] = "Taken over"
    if name == "movePin":
        input["boardId"] = gid("Board", OTTO_PUBLIC)
    assert await refused(shared, name, input, viewer=viewer) == [error]


async def test_a_hidden_pin_reads_exactly_like_a_missing_one(shared: World) -> None:
    for name in ("updatePin", "deletePin", "movePin", "savePin"):
        answers = []
        for pin in (P2, P_SECRET_REPIN, MISSING):
            input = {"pinId": gid("Pin", pin), "boardId": gid("Board", OTTO_PUBLIC)}
            if name in ("updatePin", "deletePin"):
                del input["boardId"]
            response = await shared.client.post(
                mutation_of(name, "__typename"), {"input": input}, viewer=OTTO
            )
            body = response.json()
            cost = body["extensions"]["cost"]
            answers.append(
                (without_cost(body), cost["requestedQueryCost"], cost["actualQueryCost"])
            )
        assert answers[0] == answers[1] == answers[2], name
        assert answers[0][0]["data"][name]["userErrors"] == [NO_PIN]


# ---- deletePin ---------------------------------------------------------------------------------


async def test_delete_pin_takes_its_comments_and_unlinks_its_repins(fresh: World) -> None:
    pin = gid("Pin", P1)
    selection = "deletedPinId board { id pinCount pins { nodes { id } } }"
    data = await fresh.client.data(
        f"""mutation {{
            a: deletePin(input: {{pinId: "{pin}"}}) {{ {selection} {ERRORS} }}
            b: deletePin(input: {{pinId: "{pin}"}}) {{ {selection} {ERRORS} }}
        }}""",
        viewer=OLIVE,
    )
    assert data == {
        "a": {
            "deletedPinId": pin,
            "board": {
                "id": gid("Board", OLIVE_PUBLIC),
                "pinCount": 1,
                "pins": {"nodes": pin_refs([P_REPIN_SECRET])},
            },
            "userErrors": [],
        },
        "b": {"deletedPinId": None, "board": None, "userErrors": [NO_PIN]},
    }
    conn = fresh.conn
    assert await conn.fetchval("select count(*) from pins where id = $1", P1) == 0
    assert [r["id"] for r in await conn.fetch("select id from comments order by id")] == [C2, C3]
    repins = await conn.fetch(
        "select id, saved_from_id from pins where id = any($1::bigint[]) order by id",
        [P4, P_SECRET_REPIN],
    )
    assert [tuple(r) for r in repins] == [(P4, None), (P_SECRET_REPIN, None)]
    query = "query($id: ID!) { pin(id: $id) { savedFrom { id } } }"
    for viewer in (OLIVE, OTTO):
        assert await fresh.client.data(query, {"id": gid("Pin", P4)}, viewer=viewer) == {
            "pin": {"savedFrom": None}
        }


# ---- movePin -----------------------------------------------------------------------------------

SEEN_BY_OTHERS = """query($pin: ID!, $repin: ID!, $board: ID!) {
    pin(id: $pin) { id } node(id: $pin) { id } nodes(ids: [$pin]) { id }
    board(id: $board) { pinCount pins { totalCount nodes { id } } }
    user(username: "olive") { pins { totalCount nodes { id } } }
    pins(first: 100) { totalCount nodes { id } }
    repin: pin(id: $repin) { savedFrom { id saveCount } }
}"""


async def test_moving_a_pin_onto_a_secret_board_hides_it_at_once(fresh: World) -> None:
    ids = {"pin": gid("Pin", P1), "repin": gid("Pin", P4), "board": gid("Board", OLIVE_PUBLIC)}
    seen_before = await fresh.client.data(SEEN_BY_OTHERS, ids, viewer=OTTO)
    assert seen_before["repin"] == {"savedFrom": {"id": gid("Pin", P1), "saveCount": 1}}
    feed_before = await fresh.client.data("{ homeFeed { nodes { id } } }", viewer=ADA)
    assert feed_before == {"homeFeed": {"nodes": pin_refs([P_REPIN_SECRET, P1])}}

    payload = await mutate(
        fresh.client,
        "movePin",
        {"pinId": gid("Pin", P1), "boardId": gid("Board", OLIVE_SECRET)},
        "pin { id board { id pinCount } } previousBoard { id pinCount }",
        viewer=OLIVE,
    )
    assert payload == {
        "pin": {"id": gid("Pin", P1), "board": {"id": gid("Board", OLIVE_SECRET), "pinCount": 3}},
        "previousBoard": {"id": gid("Board", OLIVE_PUBLIC), "pinCount": 1},
        "userErrors": [],
    }
    assert await fresh.conn.fetchval("select board_id from pins where id = $1", P1) == OLIVE_SECRET

    for viewer in (OTTO, ADA, None):
        latest = [P_REPIN_SECRET, P6, P4, P3] if viewer == OTTO else [P_REPIN_SECRET, P4, P3]
        assert await fresh.client.data(SEEN_BY_OTHERS, ids, viewer=viewer) == {
            "pin": None,
            "node": None,
            "nodes": [None],
            "board": {
                "pinCount": 1,
                "pins": {"totalCount": 1, "nodes": pin_refs([P_REPIN_SECRET])},
            },
            "user": {"pins": {"totalCount": 1, "nodes": pin_refs([P_REPIN_SECRET])}},
            "pins": {"totalCount": len(latest), "nodes": pin_refs(latest)},
            "repin": {"savedFrom": None},
        }, viewer
    feed = "{ homeFeed { totalCount nodes { id } } }"  # otto and ada follow olive
    for viewer in (OTTO, ADA):
        assert await fresh.client.data(feed, viewer=viewer) == {
            "homeFeed": {"totalCount": 1, "nodes": pin_refs([P_REPIN_SECRET])}
        }, viewer
    own = await fresh.client.data(SEEN_BY_OTHERS, ids, viewer=OLIVE)
    assert own["pin"] == {"id": gid("Pin", P1)}
    assert own["repin"] == {"savedFrom": {"id": gid("Pin", P1), "saveCount": 2}}

    back = await mutate(
        fresh.client,
        "movePin",
        {"pinId": gid("Pin", P1), "boardId": gid("Board", OLIVE_PUBLIC)},
        "previousBoard { pinCount }",
        viewer=OLIVE,
    )
    assert back == {"previousBoard": {"pinCount": 2}, "userErrors": []}
    assert await fresh.client.data(SEEN_BY_OTHERS, ids, viewer=OTTO) == seen_before


async def test_moving_a_repin_onto_a_secret_board_lowers_its_sources_save_count(
    fresh: World,
) -> None:
    query = """query($source: ID!, $repin: ID!) {
        source: pin(id: $source) { saveCount }
        repin: pin(id: $repin) { id }
        user(username: "otto") { pins { totalCount nodes { id } } }
    }"""
    ids = {"source": gid("Pin", P1), "repin": gid("Pin", P4)}
    before = await fresh.client.data(query, ids, viewer=ADA)
    assert before["source"] == {"saveCount": 1}
    assert (await fresh.client.data(query, ids, viewer=OLIVE))["source"] == {"saveCount": 2}

    payload = await mutate(
        fresh.client,
        "movePin",
        {"pinId": gid("Pin", P4), "boardId": gid("Board", OTTO_SECRET)},
        "pin { savedFrom { id saveCount } }",
        viewer=OTTO,
    )
    # otto sees his own secret board: the save still counts for him
    assert payload == {
        "pin": {"savedFrom": {"id": gid("Pin", P1), "saveCount": 1}},
        "userErrors": [],
    }
    for viewer, saves in ((ADA, 0), (None, 0), (OLIVE, 1)):
        after = await fresh.client.data(query, ids, viewer=viewer)
        assert after == {
            "source": {"saveCount": saves},
            "repin": None,
            "user": {"pins": {"totalCount": 1, "nodes": pin_refs([P3])}},
        }, viewer


async def test_a_later_root_field_sees_the_pin_moved(fresh: World) -> None:
    pin, public, secret = gid("Pin", P1), gid("Board", OLIVE_PUBLIC), gid("Board", OLIVE_SECRET)
    selection = "pin { board { id pinCount } } previousBoard { id pinCount }"
    data = await fresh.client.data(
        f"""mutation {{
            a: movePin(input: {{pinId: "{pin}", boardId: "{secret}"}}) {{ {selection} }}
            b: movePin(input: {{pinId: "{pin}", boardId: "{public}"}}) {{ {selection} }}
            c: movePin(input: {{pinId: "{pin}", boardId: "{public}"}}) {{ {selection} }}
        }}""",
        viewer=OLIVE,
    )
    assert data == {
        "a": {
            "pin": {"board": {"id": secret, "pinCount": 3}},
            "previousBoard": {"id": public, "pinCount": 1},
        },
        "b": {
            "pin": {"board": {"id": public, "pinCount": 2}},
            "previousBoard": {"id": secret, "pinCount": 2},
        },
        "c": {  # onto the board it is on: nothing changes
            "pin": {"board": {"id": public, "pinCount": 2}},
            "previousBoard": {"id": public, "pinCount": 2},
        },
    }


def board_id_cases(viewers: set[int]) -> list[Any]:
    """BOARD_ID_REFUSALS as pytest params, for the given viewers only."""
    return [
        pytest.param(viewer, board_id, error, id=case)
        for (viewer, board_id, error), case in zip(BOARD_ID_REFUSALS, BOARD_ID_IDS, strict=True)
        if viewer in viewers
    ]


@pytest.mark.parametrize(("viewer", "board_id", "error"), board_id_cases({OLIVE, OTTO, ADA}))
async def test_create_pin_refuses_boards_not_the_viewers(
    shared: World, viewer: int, board_id: str, error: dict[str, str]
) -> None:
    assert await refused(shared, "createPin", {**NEW_PIN, "boardId": board_id}, viewer=viewer) == [
        error
    ]


@pytest.mark.parametrize(("viewer", "board_id", "error"), board_id_cases({OLIVE, OTTO}))
async def test_move_pin_refuses_boards_not_the_viewers(
    shared: World, viewer: int, board_id: str, error: dict[str, str]
) -> None:
    input = {"pinId": gid("Pin", OWN_PIN[viewer]), "boardId": board_id}
    assert await refused(shared, "movePin", input, viewer=viewer) == [error]


@pytest.mark.parametrize(("viewer", "board_id", "error"), board_id_cases({OLIVE, OTTO, ADA}))
async def test_save_pin_refuses_boards_not_the_viewers(
    shared: World, viewer: int, board_id: str, error: dict[str, str]
) -> None:
    input = {"pinId": gid("Pin", P1), "boardId": board_id}
    assert await refused(shared, "savePin", input, viewer=viewer) == [error]


# ---- savePin -----------------------------------------------------------------------------------


async def test_save_pin_copies_it_onto_the_viewers_board(fresh: World) -> None:
    payload = await mutate(
        fresh.client,
        "savePin",
        {"pinId": gid("Pin", P1), "boardId": gid("Board", OTTO_SECRET)},
        PIN.replace("savedFrom { id }", "savedFrom { id saveCount }"),
        viewer=OTTO,
    )
    saved = await fresh.conn.fetchrow(
        "select id, board_id, creator_id, saved_from_id from pins order by id desc limit 1"
    )
    assert saved is not None
    assert tuple(saved)[1:] == (OTTO_SECRET, OTTO, P1)
    assert payload == {
        "pin": {
            "id": gid("Pin", saved["id"]),
            "title": "pin 1",
            "description": "",
            "link": None,
            "image": {
                "url": "https://img.example/1.jpg",
                "width": 100,
                "height": 150,
                "dominantColor": "#336699",
            },
            "creator": {"username": "otto"},
            "board": {"id": gid("Board", OTTO_SECRET), "pinCount": 2},
            "savedFrom": {"id": gid("Pin", P1), "saveCount": 2},  # P4 and this save
            "saveCount": 0,
            "commentCount": 0,
        },
        "userErrors": [],
    }
    query = "query($id: ID!) { pin(id: $id) { saveCount } }"
    for viewer, saves in ((OLIVE, 2), (ADA, 1), (None, 1)):  # the new save is on a secret board
        assert await fresh.client.data(query, {"id": gid("Pin", P1)}, viewer=viewer) == {
            "pin": {"saveCount": saves}
        }, viewer


async def test_saving_a_pin_onto_the_same_board_again_returns_the_first_save(
    fresh: World,
) -> None:
    pin, secret = gid("Pin", P1), gid("Board", OTTO_SECRET)
    selection = "pin { id savedFrom { id saveCount } }"
    data = await fresh.client.data(
        f"""mutation {{
            a: savePin(input: {{pinId: "{pin}", boardId: "{secret}"}}) {{ {selection} }}
            b: savePin(input: {{pinId: "{pin}", boardId: "{secret}"}}) {{ {selection} }}
            c: savePin(input: {{pinId: "{pin}", boardId: "{gid("Board", OTTO_PUBLIC)}"}})
                {{ {selection} }}
        }}""",
        viewer=OTTO,
    )
    assert data["a"] == data["b"]
    assert data["a"]["pin"]["savedFrom"] == {"id": pin, "saveCount": 2}
    assert data["c"] == {"pin": {"id": gid("Pin", P4), "savedFrom": {"id": pin, "saveCount": 2}}}
    saves = await fresh.conn.fetch(
        "select board_id from pins where saved_from_id = $1 and creator_id = $2 order by id",
        P1,
        OTTO,
    )
    assert [r["board_id"] for r in saves] == [OTTO_PUBLIC, OTTO_SECRET]


async def test_a_save_of_a_secret_pin_hides_where_it_came_from(fresh: World) -> None:
    payload = await mutate(
        fresh.client,
        "savePin",
        {"pinId": gid("Pin", P2), "boardId": gid("Board", OLIVE_PUBLIC)},
        "pin { id savedFrom { id } }",
        viewer=OLIVE,
    )
    repin = payload["pin"]["id"]
    assert payload == {"pin": {"id": repin, "savedFrom": {"id": gid("Pin", P2)}}, "userErrors": []}
    query = "query($id: ID!) { pin(id: $id) { id savedFrom { id } } }"
    assert await fresh.client.data(query, {"id": repin}, viewer=OTTO) == {
        "pin": {"id": repin, "savedFrom": None}
    }


@pytest.mark.parametrize(
    ("viewer", "pin_id", "error"),
    [
        pytest.param(
            OTTO,
            "garbage",
            user_error("pinId", "pinId is not a valid ID: 'garbage'", "INVALID_ID"),
            id="garbage",
        ),
        pytest.param(
            OTTO,
            gid("User", OLIVE),
            user_error("pinId", "pinId must be a Pin ID, got a User ID", "INVALID_ID"),
            id="user-id",
        ),
        pytest.param(OTTO, gid("Pin", MISSING), NO_PIN, id="missing"),
        pytest.param(OTTO, gid("Pin", P2), NO_PIN, id="secret"),
        pytest.param(OTTO, gid("Pin", P_SECRET_REPIN), NO_PIN, id="secret-repin"),
        pytest.param(ADA, gid("Pin", P6), NO_PIN, id="another-secret"),
    ],
)
async def test_save_pin_refuses_pins_the_viewer_cannot_see(
    shared: World, viewer: int, pin_id: str, error: dict[str, str]
) -> None:
    board = OTTO_PUBLIC if viewer == OTTO else OTTO_SECRET  # ada owns no board: still NOT_FOUND
    input = {"pinId": pin_id, "boardId": gid("Board", board)}
    assert await refused(shared, "savePin", input, viewer=viewer) == [error]


async def test_concurrent_saves_onto_one_board_make_one_repin(fresh: World) -> None:
    input = {"pinId": gid("Pin", P1), "boardId": gid("Board", OTTO_SECRET)}
    payloads = await asyncio.gather(
        *(mutate(fresh.client, "savePin", input, "pin { id }", viewer=OTTO) for _ in range(20))
    )
    saves = await fresh.conn.fetch(
        "select id from pins where board_id = $1 and saved_from_id = $2", OTTO_SECRET, P1
    )
    assert len(saves) == 1
    expected = {"pin": {"id": gid("Pin", saves[0]["id"])}, "userErrors": []}
    assert payloads == [expected] * 20
    assert await drifts(fresh.conn) == []


async def test_concurrent_saves_onto_many_boards_make_one_repin_each(fresh: World) -> None:
    boards = [
        await fresh.conn.fetchval(
            "insert into boards (owner_id, name) values ($1, $2) returning id", ADA, f"ada {n}"
        )
        for n in range(4)
    ]
    requests = [
        (pin, board) for _ in range(3) for pin in (P1, P3, P_REPIN_SECRET) for board in boards
    ]
    payloads = await asyncio.gather(
        *(
            mutate(
                fresh.client,
                "savePin",
                {"pinId": gid("Pin", pin), "boardId": gid("Board", board)},
                "pin { id board { id } savedFrom { id } }",
                viewer=ADA,
            )
            for pin, board in requests
        )
    )
    rows = await fresh.conn.fetch(
        "select id, board_id, saved_from_id from pins where creator_id = $1", ADA
    )
    saved = {(r["saved_from_id"], r["board_id"]): r["id"] for r in rows}
    assert len(rows) == len(saved) == 3 * 4
    assert set(saved) == {(pin, board) for pin in (P1, P3, P_REPIN_SECRET) for board in boards}
    for (pin, board), payload in zip(requests, payloads, strict=True):
        assert payload == {
            "pin": {
                "id": gid("Pin", saved[pin, board]),
                "board": {"id": gid("Board", board)},
                "savedFrom": {"id": gid("Pin", pin)},
            },
            "userErrors": [],
        }
    assert await drifts(fresh.conn) == []


# ---- without a viewer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "input"),
    [
        ("createPin", NEW_PIN),
        ("updatePin", {"pinId": gid("Pin", P1), "title": "Mine"}),
        ("deletePin", {"pinId": gid("Pin", P1)}),
        ("movePin", {"pinId": gid("Pin", P1), "boardId": gid("Board", OLIVE_SECRET)}),
        ("savePin", {"pinId": gid("Pin", P1), "boardId": gid("Board", OLIVE_SECRET)}),
    ],
)
async def test_pin_mutations_need_a_viewer(shared: World, name: str, input: dict[str, Any]) -> None:
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


# ---- savePin racing other writes ---------------------------------------------------------------


async def lock_waits(conn: asyncpg.Connection, count: int) -> None:
    """Returns once `count` sessions of the database wait for a lock."""
    for _ in range(500):
        waiting = await conn.fetchval(
            "select count(*) from pg_stat_activity"
            " where datname = current_database() and wait_event_type = 'Lock'"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} sessions never waited for a lock")


async def test_a_pin_deleted_while_it_is_being_saved_is_not_found(fresh: World) -> None:
    """The pin's owner deletes it (holding its row) while ada saves it: NOT_FOUND, not a
    foreign-key failure."""
    conn = fresh.conn
    board = await conn.fetchval(
        "insert into boards (owner_id, name) values ($1, 'ada') returning id", ADA
    )
    async with conn.transaction():
        await conn.execute("select id from pins where id = $1 for update", P1)  # deletePin's lock
        save = asyncio.create_task(
            mutate(
                fresh.client,
                "savePin",
                {"pinId": gid("Pin", P1), "boardId": gid("Board", board)},
                "pin { id }",
                viewer=ADA,
            )
        )
        await lock_waits(conn, 1)
        await conn.execute("delete from pins where id = $1", P1)
    assert await save == {"pin": None, "userErrors": [NO_PIN]}
    assert await conn.fetchval("select count(*) from pins where board_id = $1", board) == 0


async def test_saving_and_moving_one_pin_at_once_do_not_deadlock(fresh: World) -> None:
    """olive saves P1 onto a board of hers while she moves it there: both succeed."""
    conn = fresh.conn
    board_id = await conn.fetchval(
        "insert into boards (owner_id, name) values ($1, 'new') returning id", OLIVE
    )
    board = gid("Board", board_id)
    async with conn.transaction():
        # Holds savePin after it has taken the board, until movePin has taken the pin.
        await conn.execute(LOCK_SAVE, board_id, P1)
        save = asyncio.create_task(
            mutate(
                fresh.client,
                "savePin",
                {"pinId": gid("Pin", P1), "boardId": board},
                "pin { board { id } savedFrom { id } }",
                viewer=OLIVE,
            )
        )
        await lock_waits(conn, 1)
        move = asyncio.create_task(
            mutate(
                fresh.client,
                "movePin",
                {"pinId": gid("Pin", P1), "boardId": board},
                "pin { board { id } }",
                viewer=OLIVE,
            )
        )
        await lock_waits(conn, 2)
    saved, moved = await asyncio.gather(save, move)
    assert saved == {
        "pin": {"board": {"id": board}, "savedFrom": {"id": gid("Pin", P1)}},
        "userErrors": [],
    }
    assert moved == {"pin": {"board": {"id": board}}, "userErrors": []}
    rows = await conn.fetch("select id, saved_from_id from pins where board_id = $1", board_id)
    assert sorted((r["id"], r["saved_from_id"]) for r in rows)[0] == (P1, None)
    assert len(rows) == 2
    assert await drifts(conn) == []
