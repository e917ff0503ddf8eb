"""Bad input through HTTP gets a clear error, never a 500.

Bad arguments (global IDs, `first`, `after`, `ids`) answer HTTP 200 with one GraphQL error
that names the argument and its value (`extensions.code` BAD_USER_INPUT, `path` set) and
null data up to the nearest nullable field. A bad Authorization header answers HTTP 401 with
a GraphQL-shaped UNAUTHENTICATED body and `WWW-Authenticate`. Malformed requests are 4xx.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import pytest

from resolvers.cursors import encode_cursor
from resolvers.ids import encode_global_id
from server.auth import issue_token
from tests import world
from tests.support import SECRET, GraphQLClient, without_cost
from tests.world import OLIVE, OLIVE_PUBLIC, OTTO, P1

ANOTHER_SECRET = "another-secret-of-at-least-32-characters"
MISSING_USER = 999_999


def b64(text: str) -> str:
    """Unpadded URL-safe base64 of `text`, the encoding global IDs and cursors use."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def token(claims: dict[str, Any], secret: str = SECRET) -> str:
    """An HS256 JWT with exactly `claims`."""
    return jwt.encode(claims, secret, algorithm="HS256")


def in_an_hour() -> int:
    """An `exp` claim that has not passed."""
    return int(time.time()) + 3600


async def one_error(
    client: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    viewer: int | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Posts `query`, expects HTTP 200 and exactly one GraphQL error; returns (data, error)."""
    response = await client.post(query, variables, viewer=viewer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(without_cost(body)) == {"data", "errors"}, body
    [error] = body["errors"]
    return body["data"], error


def bad_input(message: str, path: list[str], argument: str) -> dict[str, Any]:
    """The parts of a BAD_USER_INPUT error the client acts on."""
    return {
        "message": message,
        "path": path,
        "extensions": {"code": "BAD_USER_INPUT", "argument": argument},
    }


def essentials(error: dict[str, Any]) -> dict[str, Any]:
    """An error without its `locations`."""
    return {k: error.get(k) for k in ("message", "path", "extensions")}


# ---- global IDs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pin", "garbage", "id is not a valid ID: 'garbage'"),
        ("node", "", "id is not a valid ID: ''"),
        ("node", b64("Foo:1"), f"id is not a valid ID: '{b64('Foo:1')}'"),
        ("node", b64("Pin:0"), f"id is not a valid ID: '{b64('Pin:0')}'"),
        ("node", b64("Pin:-1"), f"id is not a valid ID: '{b64('Pin:-1')}'"),
        ("node", b64("Pin:01"), f"id is not a valid ID: '{b64('Pin:01')}'"),
        ("node", b64("Pin:1x"), f"id is not a valid ID: '{b64('Pin:1x')}'"),
        ("node", b64(f"Pin:{2**63}"), f"id is not a valid ID: '{b64(f'Pin:{2**63}')}'"),
        ("node", encode_global_id("Pin", P1) + "=", "id is not a valid ID: 'UGluOjE='"),
        ("board", "ü", "id is not a valid ID: 'ü'"),
        ("pin", encode_global_id("User", OLIVE), "id must be a Pin ID, got a User ID"),
        ("board", encode_global_id("Pin", P1), "id must be a Board ID, got a Pin ID"),
        ("pin", encode_global_id("Comment", 1), "id must be a Pin ID, got a Comment ID"),
    ],
    ids=[
        "garbage",
        "empty",
        "unknown-type",
        "zero",
        "negative",
        "leading-zero",
        "not-digits",
        "beyond-bigint",
        "padded",
        "not-base64",
        "user-id-as-pin",
        "pin-id-as-board",
        "comment-id-as-pin",
    ],
)
async def test_malformed_global_id(
    world_client: GraphQLClient, field: str, value: str, message: str
) -> None:
    data, error = await one_error(
        world_client, f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": value}
    )
    assert data == {field: None}
    assert essentials(error) == bad_input(message, [field], "id")


async def test_long_global_id_is_quoted_cut_short(world_client: GraphQLClient) -> None:
    value = "A" * 500
    data, error = await one_error(
        world_client, "query($id: ID!) { node(id: $id) { id } }", {"id": value}
    )
    assert data == {"node": None}
    assert essentials(error) == bad_input(f"id is not a valid ID: '{'A' * 40}…'", ["node"], "id")


@pytest.mark.parametrize("id", [999, 2**63 - 1], ids=["missing", "largest"])
async def test_well_formed_id_of_nothing_is_null_without_error(
    world_client: GraphQLClient, id: int
) -> None:
    query = "query($id: ID!) { pin(id: $id) { id } node(id: $id) { id } }"
    data = await world_client.data(query, {"id": encode_global_id("Pin", id)})
    assert data == {"pin": None, "node": None}


# ---- first -------------------------------------------------------------------------------------

# (name, query with a $first: Int variable, the erroring path, data once the error nulls it)
CONNECTIONS: list[tuple[str, str, list[str], Any]] = [
    ("pins", "pins(first: $first) { totalCount }", ["pins"], None),
    ("homeFeed", "homeFeed(first: $first) { totalCount }", ["homeFeed"], None),
    *(
        (
            f"user.{field}",
            f'user(username: "olive") {{ {field}(first: $first) {{ totalCount }} }}',
            ["user", field],
            {"user": None},
        )
        for field in ("boards", "pins", "followers", "following")
    ),
    (
        "board.pins",
        f'board(id: "{encode_global_id("Board", OLIVE_PUBLIC)}") '
        "{ pins(first: $first) { totalCount } }",
        ["board", "pins"],
        {"board": None},
    ),
    (
        "pin.comments",
        f'pin(id: "{encode_global_id("Pin", P1)}") {{ comments(first: $first) {{ totalCount }} }}',
        ["pin", "comments"],
        {"pin": None},
    ),
]


@pytest.mark.parametrize("first", [0, -1, 101, 500])
@pytest.mark.parametrize(
    ("selection", "path", "nulled"),
    [c[1:] for c in CONNECTIONS],
    ids=[c[0] for c in CONNECTIONS],
)
async def test_first_out_of_range(
    world_client: GraphQLClient, first: int, selection: str, path: list[str], nulled: Any
) -> None:
    data, error = await one_error(
        world_client, f"query($first: Int) {{ {selection} }}", {"first": first}, viewer=OTTO
    )
    assert data == nulled
    assert essentials(error) == bad_input(
        f"first must be between 1 and 100, got {first}", path, "first"
    )


async def test_first_500_says_which_rule_and_value(world_client: GraphQLClient) -> None:
    data, error = await one_error(world_client, "{ pins(first: 500) { nodes { id } } }")
    assert data is None
    assert error["message"] == "first must be between 1 and 100, got 500"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert error["path"] == ["pins"]


@pytest.mark.parametrize("first", [1, 100, None])
async def test_first_in_range_or_null_is_fine(
    world_client: GraphQLClient, first: int | None
) -> None:
    data = await world_client.data(
        "query($first: Int) { pins(first: $first) { nodes { id } } }", {"first": first}
    )
    visible = len(world.visible_pins(None))
    assert len(data["pins"]["nodes"]) == min(first or 20, visible)


async def test_first_beyond_32_bits_is_a_validation_error(world_client: GraphQLClient) -> None:
    response = await world_client.post("{ pins(first: 3000000000) { totalCount } }")
    assert response.status_code == 200  # a request error under application/json
    [error] = response.json()["errors"]
    assert "data" not in response.json()
    assert error["message"] == "Int cannot represent non 32-bit signed integer value: 3000000000"
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


# ---- after -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "",
        "ü",
        b64("cursor:0"),
        b64("cursor:-1"),
        b64("cursor:abc"),
        b64("cursor:"),
        b64("cursor:99999999999999999999"),
        b64("cursor:01"),
        encode_cursor(3) + "=",
        encode_global_id("Pin", 3),
        b64("3"),
    ],
    ids=[
        "garbage",
        "empty",
        "not-base64",
        "zero",
        "negative",
        "not-digits",
        "no-position",
        "beyond-bigint",
        "leading-zero",
        "padded",
        "a-global-id",
        "no-prefix",
    ],
)
async def test_malformed_after_cursor(world_client: GraphQLClient, after: str) -> None:
    data, error = await one_error(
        world_client,
        'query($after: String) { user(username: "otto") { pins(after: $after) { totalCount } } }',
        {"after": after},
    )
    assert data == {"user": None}
    assert essentials(error) == bad_input(
        f"after is not a valid cursor: {after!r} (use an endCursor or edge cursor)",
        ["user", "pins"],
        "after",
    )


async def test_long_after_cursor_is_quoted_cut_short(world_client: GraphQLClient) -> None:
    data, error = await one_error(world_client, f'{{ pins(after: "{"x" * 65}") {{ totalCount }} }}')
    assert data is None
    assert essentials(error) == bad_input(
        f"after is not a valid cursor: '{'x' * 40}…' (use an endCursor or edge cursor)",
        ["pins"],
        "after",
    )


async def test_an_end_cursor_is_a_valid_after(world_client: GraphQLClient) -> None:
    query = """query($after: String) {
        pins(first: 1, after: $after) { nodes { id } pageInfo { endCursor } } }"""
    first = (await world_client.data(query, {"after": None}))["pins"]
    second = (await world_client.data(query, {"after": first["pageInfo"]["endCursor"]}))["pins"]
    pins = world.newest_first(world.visible_pins(None))
    assert [first["nodes"], second["nodes"]] == [
        [{"id": encode_global_id("Pin", pins[0])}],
        [{"id": encode_global_id("Pin", pins[1])}],
    ]


# ---- nodes -------------------------------------------------------------------------------------


async def test_nodes_with_more_than_100_ids(world_client: GraphQLClient) -> None:
    ids = [encode_global_id("Pin", P1)] * 101
    data, error = await one_error(
        world_client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}
    )
    assert data is None
    assert essentials(error) == bad_input("ids may hold at most 100 IDs, got 101", ["nodes"], "ids")


async def test_nodes_with_100_ids_is_fine(world_client: GraphQLClient) -> None:
    ids = [encode_global_id("Pin", P1)] * 100
    data = await world_client.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert data == {"nodes": [{"id": encode_global_id("Pin", P1)}] * 100}


async def test_nodes_names_the_bad_id_by_index(world_client: GraphQLClient) -> None:
    ids = [encode_global_id("Pin", P1), encode_global_id("User", OLIVE), "bad"]
    data, error = await one_error(
        world_client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}
    )
    assert data is None
    assert essentials(error) == bad_input("ids[2] is not a valid ID: 'bad'", ["nodes"], "ids[2]")


# ---- authentication ----------------------------------------------------------------------------


def _bad_authorizations() -> list[tuple[str, str, str]]:
    """(case, Authorization header, message of the 401)."""
    scheme = "Authorization header must be 'Bearer <token>'"
    bad_sub = "bearer token is invalid: sub must be a user id"
    valid = issue_token(OLIVE, SECRET, 3600)
    return [
        ("garbage", "garbage", scheme),
        ("basic-scheme", "Basic b2xpdmU6cGFzc3dvcmQ=", scheme),
        ("token-scheme", f"Token {valid}", scheme),
        ("no-token", "Bearer", scheme),
        ("blank-token", "Bearer    ", scheme),
        ("not-a-jwt", "Bearer a.b.c", "bearer token is invalid: Invalid header padding"),
        (
            "other-secret",
            f"Bearer {issue_token(OLIVE, ANOTHER_SECRET, 3600)}",
            "bearer token is invalid: Signature verification failed",
        ),
        (
            "expired",
            f"Bearer {issue_token(OLIVE, SECRET, 3600, now=time.time() - 7200)}",
            "bearer token has expired",
        ),
        (
            "no-exp",
            f"Bearer {token({'sub': str(OLIVE)})}",
            'bearer token is invalid: Token is missing the "exp" claim',
        ),
        (
            "no-sub",
            f"Bearer {token({'exp': in_an_hour()})}",
            'bearer token is invalid: Token is missing the "sub" claim',
        ),
        (
            "sub-is-a-json-number",
            f"Bearer {token({'sub': OLIVE, 'exp': in_an_hour()})}",
            "bearer token is invalid: Subject must be a string",
        ),
        *(
            (f"sub-{case}", f"Bearer {token({'sub': sub, 'exp': in_an_hour()})}", bad_sub)
            for case, sub in [
                ("letters", "olive"),
                ("empty", ""),
                ("zero", "0"),
                ("negative", "-1"),
                ("decimal", "1.0"),
                ("spaced", " 1"),
                ("beyond-bigint", str(2**63)),
                ("superscript-digit", "\u00b2"),  # "²": str.isdigit() says yes, int() no
                ("fullwidth-digit", "\uff11"),  # fullwidth 1: str.isdigit() says yes, int() gives 1
            ]
        ),
    ]


BAD_AUTHORIZATIONS = _bad_authorizations()


@pytest.mark.parametrize(
    ("authorization", "message"),
    [c[1:] for c in BAD_AUTHORIZATIONS],
    ids=[c[0] for c in BAD_AUTHORIZATIONS],
)
async def test_bad_authorization_is_401(
    world_client: GraphQLClient, authorization: str, message: str
) -> None:
    response = await world_client.post(
        "{ viewer { id } }", headers={"Authorization": authorization}
    )
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert without_cost(response.json()) == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_bad_authorization_on_get_is_401_too(world_client: GraphQLClient) -> None:
    response = await world_client.http.get(
        "/graphql", params={"query": "{ viewer { id } }"}, headers={"Authorization": "garbage"}
    )
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_valid_token_of_a_user_that_does_not_exist(world_client: GraphQLClient) -> None:
    response = await world_client.post("{ viewer { id } }", viewer=MISSING_USER)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "no longer exists" in error["message"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
async def test_valid_token_names_the_viewer(world_client: GraphQLClient, scheme: str) -> None:
    response = await world_client.post(
        "{ viewer { username email } }",
        headers={"Authorization": f"{scheme} {world_client.token(OLIVE)}"},
    )
    assert response.status_code == 200
    assert without_cost(response.json()) == {
        "data": {"viewer": {"username": "olive", "email": world.email(OLIVE)}}
    }


async def test_no_authorization_is_anonymous(world_client: GraphQLClient) -> None:
    response = await world_client.post("{ viewer { id } pins(first: 100) { totalCount } }")
    assert response.status_code == 200
    assert without_cost(response.json()) == {
        "data": {"viewer": None, "pins": {"totalCount": len(world.visible_pins(None))}}
    }


# ---- GET, GraphiQL and malformed requests ----------------------------------------------------


async def test_get_with_a_query_executes_it(world_client: GraphQLClient) -> None:
    response = await world_client.http.get(
        "/graphql",
        params={"query": "{ viewer { username } pins(first: 100) { totalCount } }"},
        headers=world_client.headers(OTTO),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert without_cost(response.json()) == {
        "data": {
            "viewer": {"username": "otto"},
            "pins": {"totalCount": len(world.visible_pins(OTTO))},
        }
    }


async def test_get_for_a_browser_serves_graphiql(world_client: GraphQLClient) -> None:
    response = await world_client.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "pinql GraphiQL" in response.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),  # a UTF-16 byte order mark, then garbage
        (b"", "application/json"),
        (b'[{"query": "{ viewer { id } }"}]', "application/json"),
        (b'{"query": 5}', "application/json"),
        (b"{}", "application/json"),
        (b'{"query": "{ viewer { id } }", "variables": [1]}', "application/json"),
        (b"{ viewer { id } }", "text/plain"),
    ],
    ids=[
        "malformed-json",
        "not-utf8-json",
        "empty-body",
        "batch",
        "query-not-a-string",
        "no-query",
        "variables-not-an-object",
        "text-plain",
    ],
)
async def test_malformed_request_is_4xx(
    world_client: GraphQLClient, content: bytes, content_type: str
) -> None:
    response = await world_client.http.post(
        "/graphql", content=content, headers={"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text)


@pytest.mark.parametrize(
    ("query", "variables", "message", "code"),
    [
        ("{ viewer { ", None, "Syntax Error: Expected Name, found <EOF>.", "GRAPHQL_PARSE_FAILED"),
        (
            "{ nope }",
            None,
            "Cannot query field 'nope' on type 'Query'. Did you mean 'node' or 'nodes'?",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ pins(first: $f) { totalCount } }",
            None,
            "Variable '$f' is not defined.",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($f: Int) { pins(first: $f) { totalCount } }",
            {"f": "x"},
            "Variable '$f' has invalid value: Int cannot represent non-integer value: 'x'",
            "BAD_USER_INPUT",
        ),
        ("query A { viewer { id } } query B { viewer { id } }", None, "BAD_REQUEST", None),
    ],
    ids=["syntax", "unknown-field", "undefined-variable", "variable-of-wrong-type", "ambiguous"],
)
@pytest.mark.parametrize(
    ("accept", "status"),
    [("application/json", 200), ("application/graphql-response+json", 400)],
)
async def test_request_errors_have_no_data(
    world_client: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None,
    message: str,
    code: str | None,
    accept: str,
    status: int,
) -> None:
    """A request error: 200 under application/json, 400 under graphql-response+json, and
    never a `data` entry."""
    response = await world_client.post(query, variables, headers={"Accept": accept})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    if code is None:  # the message is the code
        assert error["extensions"]["code"] == message
        assert "operationName" in error["message"]
    else:
        assert error["message"] == message
        assert error["extensions"] == {"code": code}
