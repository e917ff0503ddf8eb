"""Bad input never gets a 5xx: each kind of malformed request, its status, code and message.

Pinned elsewhere, not repeated here (tests/server/test_graphql_http.py):
`test_other_request_media_types_are_415` (wrong Content-Type, a charset other than UTF-8),
`test_bad_parameters_are_400` (malformed JSON, an empty body, a batched array, a body that is
not an object, `query` a number, `variables` an array, `extensions` a string, `operationName`
an object); tests/server/test_http_errors.py: `test_request_errors_have_no_data` (a String
for an Int variable, several operations without operationName) and
`test_first_beyond_32_bits_is_a_validation_error` (an Int literal beyond 32 bits).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, serve
from tests.world import OLIVE

MAX_BODY = 2048
MAX_VARIABLES = 1024
USER = "query($u: String!) { user(username: $u) { id } }"
FIRST = "query($f: Int) { pins(first: $f) { totalCount } }"
JSON_TYPE = {"Content-Type": "application/json"}
# `{"u":""}` around the string of a variables object holding one string variable `u`
VARIABLES_OVERHEAD = len('{"u":""}')


@pytest.fixture(scope="module")
async def small(world_database: str) -> AsyncIterator[GraphQLClient]:
    """pinql serving the world with a 2 KiB body limit and a 1 KiB variables limit."""
    async with serve(
        world_database, PINQL_MAX_BODY_BYTES=MAX_BODY, PINQL_MAX_VARIABLES_BYTES=MAX_VARIABLES
    ) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The only error of a response with `status`, which has no `data`."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) - {"extensions"} == {"errors"}, body
    [error] = body["errors"]
    assert isinstance(error, dict)
    return error


def data_of(response: httpx.Response) -> Any:
    """The `data` of an HTTP 200 response without errors (other extensions may come along)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def post_raw(
    client: GraphQLClient, content: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POSTs `content` as it is, declared application/json unless `headers` say otherwise."""
    return await client.http.post(
        "/graphql", content=content, headers={**JSON_TYPE, **(headers or {})}
    )


# ---- request media type ------------------------------------------------------------------------


async def test_post_without_content_type_is_415(world_client: GraphQLClient) -> None:
    response = await world_client.http.post("/graphql", content=b'{"query": "{ viewer { id } }"}')
    error = error_of(response, 415)
    assert error["extensions"]["code"] == "UNSUPPORTED_MEDIA"
    assert error["message"] == "POST needs Content-Type: application/json"


# ---- JSON and UTF-8 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "\xff"}', "the request body is not valid UTF-8: bytes ff at offset 11"),
        (b'{"query": "caf\xc3"}', "the request body is not valid UTF-8: bytes c3 at offset 14"),
        # a UTF-16 surrogate encoded as UTF-8 (CESU-8): not UTF-8
        (
            b'{"query": "\xed\xa0\x80"}',
            "the request body is not valid UTF-8: bytes ed at offset 11",
        ),
        (b"\xff\xfe{\x00}\x00", "the request body is not valid UTF-8: bytes ff at offset 0"),
    ],
    ids=["lone-ff", "truncated-sequence", "encoded-surrogate", "utf-16"],
)
async def test_invalid_utf8_is_400_naming_the_bytes(
    world_client: GraphQLClient, body: bytes, message: str
) -> None:
    error = error_of(await post_raw(world_client, body), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"query": "\\ud800"}',
            "the request body is not valid JSON: no low surrogate in string: line 1 column 12 "
            "(char 11) (a \\uD800-\\uDFFF escape must be half of a surrogate pair)",
        ),
        (
            b'{"query": "\\udc00"}',
            "the request body is not valid JSON: invalid high surrogate in string: line 1 "
            "column 12 (char 11) (a \\uD800-\\uDFFF escape must be half of a surrogate pair)",
        ),
        (
            b'\xef\xbb\xbf{"query": "{ viewer { id } }"}',
            "the request body is not valid JSON: UTF-8 byte order mark (BOM) is not supported",
        ),
        (b'{"query": "{ viewer { id } }"} {}', "unexpected content after document"),
    ],
    ids=["lone-high-surrogate", "lone-low-surrogate", "byte-order-mark", "trailing-content"],
)
async def test_json_that_is_not_unicode_text_is_400(
    world_client: GraphQLClient, body: bytes, message: str
) -> None:
    error = error_of(await post_raw(world_client, body), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]


async def test_nul_in_the_query_text_is_a_syntax_error(world_client: GraphQLClient) -> None:
    response = await post_raw(world_client, b'{"query": "{ viewer \\u0000 { id } }"}')
    error = error_of(response, 200)  # a request error, under application/json
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["message"] == "Syntax Error: Unexpected character: U+0000."


async def test_nul_in_a_variable_of_a_mutation_is_a_user_error(make_database: MakeDatabase) -> None:
    async with serve(await new_database(make_database, with_world=True)) as client:
        data = await client.data(
            """mutation($name: String!) {
                createBoard(input: {name: $name}) { board { id } userErrors { field message code } }
            }""",
            {"name": "before\x00after"},
            viewer=OLIVE,
        )
    assert data["createBoard"] == {
        "board": None,
        "userErrors": [
            {
                "field": "name",
                "message": "name must not contain NUL characters",
                "code": "INVALID_FORMAT",
            }
        ],
    }


async def test_nul_in_a_variable_of_a_lookup_finds_nothing(world_client: GraphQLClient) -> None:
    # PostgreSQL refuses NUL in text ("invalid byte sequence for encoding UTF8: 0x00"): sent,
    # the lookup would raise and the field be masked as INTERNAL_SERVER_ERROR. No username
    # holds NUL (db/writes/rules.py refuses it), so resolvers/query.py `user` finds none
    # without asking.
    response = await world_client.post(USER, {"u": "olive\x00"})
    assert data_of(response) == {"user": None}


async def test_variables_nested_deeper_than_json_encoders_allow_are_400(
    world_client: GraphQLClient,
) -> None:
    # orjson.dumps (the idempotency fingerprint) raised on these: a 500 before read_params
    # refused them.
    deep = "[" * 300 + "]" * 300
    body = f'{{"query": "mutation {{ __typename }}", "variables": {{"v": {deep}}}}}'
    headers = {**world_client.headers(OLIVE), "Idempotency-Key": "deep-variables-0001"}
    error = error_of(await post_raw(world_client, body.encode(), headers), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == "variables must not nest deeper than 254 levels"


# ---- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"null", "the request body must be a JSON object, got null"),
        (b"1", "the request body must be a JSON object, got a number"),
        (b"true", "the request body must be a JSON object, got a boolean"),
    ],
    ids=["null", "number", "boolean"],
)
async def test_a_body_that_is_not_an_object_is_400(
    world_client: GraphQLClient, body: bytes, message: str
) -> None:
    error = error_of(await post_raw(world_client, body), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == message


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ('"{}"', "variables must be an object, got a string"),
        ("1", "variables must be an object, got a number"),
        ("true", "variables must be an object, got a boolean"),
    ],
    ids=["string", "number", "boolean"],
)
async def test_post_variables_that_are_not_an_object_are_400(
    world_client: GraphQLClient, variables: str, message: str
) -> None:
    body = f'{{"query": "{{ viewer {{ id }} }}", "variables": {variables}}}'.encode()
    error = error_of(await post_raw(world_client, body), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == message


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ("[1]", "variables must be an object, got an array"),
        ('"x"', "variables must be an object, got a string"),
        ("1", "variables must be an object, got a number"),
        ("{nope", "variables must be a JSON object: unexpected character"),
        (
            "{'a': 1}",
            "variables must be a JSON object: unexpected character, expected a string key",
        ),
        ('{"a": 1', "variables must be a JSON object: unexpected end of data"),
    ],
    ids=["array", "string", "number", "not-json", "single-quotes", "unterminated"],
)
async def test_get_variables_that_are_not_a_json_object_are_400(
    world_client: GraphQLClient, variables: str, message: str
) -> None:
    response = await world_client.http.get(
        "/graphql", params={"query": "{ viewer { id } }", "variables": variables}
    )
    error = error_of(response, 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"].startswith(message), error["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": {"text": "{ viewer { id } }"}}', "query must be a string, got an object"),
        (b'{"query": ["{ viewer { id } }"]}', "query must be a string, got an array"),
        (b'{"query": null}', "the request has no query: send query (or a persisted query)"),
        (
            b'{"query": "{ viewer { id } }", "extensions": [1]}',
            "extensions must be an object, got an array",
        ),
        (
            b'{"query": "{ viewer { id } }", "extensions": 1}',
            "extensions must be an object, got a number",
        ),
    ],
    ids=["query-object", "query-array", "query-null", "extensions-array", "extensions-number"],
)
async def test_parameters_of_the_wrong_json_type_are_400(
    world_client: GraphQLClient, body: bytes, message: str
) -> None:
    error = error_of(await post_raw(world_client, body), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == message


async def test_unknown_operation_name_is_a_request_error(world_client: GraphQLClient) -> None:
    response = await world_client.http.post(
        "/graphql",
        json={"query": "query Mine { viewer { id } }", "operationName": "Yours"},
        headers={"Accept": "application/graphql-response+json"},
    )
    error = error_of(response, 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == "the document has no operation named 'Yours'"


# ---- variable values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": {"a": 1}},
            "Variable '$id' has invalid value: ID cannot represent value: {'a': 1}",
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": [1]},
            "Variable '$id' has invalid value: ID cannot represent value: [1]",
        ),
        (
            FIRST,
            {"f": 2**31},
            "Variable '$f' has invalid value: "
            "Int cannot represent non 32-bit signed integer value: 2147483648",
        ),
        (
            FIRST,
            {"f": 2**64},  # beyond 64 bits JSON parsers give a float: still refused
            "Variable '$f' has invalid value: "
            "Int cannot represent non 32-bit signed integer value: 1.8446744073709552e+19",
        ),
        (
            FIRST,
            {"f": 1.5},
            "Variable '$f' has invalid value: Int cannot represent non-integer value: 1.5",
        ),
        (
            'mutation($p: BoardPrivacy!) { createBoard(input: {name: "x", privacy: $p}) { '
            "board { id } } }",
            {"p": "HIDDEN"},
            "Variable '$p' has invalid value: Value 'HIDDEN' does not exist in "
            "'BoardPrivacy' enum.",
        ),
    ],
    ids=["object-for-id", "list-for-id", "int-2**31", "int-2**64", "float-for-int", "enum"],
)
async def test_variables_of_the_wrong_type_are_request_errors(
    world_client: GraphQLClient, query: str, variables: dict[str, Any], message: str
) -> None:
    error = error_of(await world_client.post(query, variables), 200)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == message


# ---- sizes -------------------------------------------------------------------------------------


async def test_a_string_variable_just_under_the_limit_runs(small: GraphQLClient) -> None:
    response = await small.post(USER, {"u": "x" * (MAX_VARIABLES - VARIABLES_OVERHEAD)})
    assert data_of(response) == {"user": None}


async def test_a_string_variable_just_over_the_limit_is_413(small: GraphQLClient) -> None:
    response = await small.post(USER, {"u": "x" * (MAX_VARIABLES - VARIABLES_OVERHEAD + 1)})
    error = error_of(response, 413)
    assert error["extensions"]["code"] == "VARIABLES_TOO_LARGE"
    assert error["message"] == (
        f"variables are {MAX_VARIABLES + 1} bytes, over the limit of {MAX_VARIABLES} "
        "(PINQL_MAX_VARIABLES_BYTES)"
    )


async def test_get_variables_over_the_limit_are_413(small: GraphQLClient) -> None:
    variables = '{"u": "' + "x" * MAX_VARIABLES + '"}'
    response = await small.http.get("/graphql", params={"query": USER, "variables": variables})
    error = error_of(response, 413)
    assert error["extensions"]["code"] == "VARIABLES_TOO_LARGE"
    assert error["message"] == (
        f"variables are {len(variables)} bytes, over the limit of {MAX_VARIABLES} "
        "(PINQL_MAX_VARIABLES_BYTES)"
    )


def body_of(size: int) -> bytes:
    """A valid request body of exactly `size` bytes (padded with spaces)."""
    body = b'{"query": "{ viewer { id } }"}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def test_a_body_at_the_limit_runs(small: GraphQLClient) -> None:
    response = await post_raw(small, body_of(MAX_BODY))
    assert data_of(response) == {"viewer": None}


async def test_a_body_over_the_limit_is_413_from_its_content_length(small: GraphQLClient) -> None:
    response = await post_raw(small, body_of(MAX_BODY + 1))
    error = error_of(response, 413)
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert error["message"] == (
        f"the request body is {MAX_BODY + 1} bytes, over the limit of {MAX_BODY} "
        "(PINQL_MAX_BODY_BYTES)"
    )


async def test_a_streamed_body_over_the_limit_is_413(small: GraphQLClient) -> None:
    body = body_of(MAX_BODY + 1)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = await small.http.post("/graphql", content=chunks(), headers=JSON_TYPE)
    assert "content-length" not in response.request.headers  # sent chunked
    error = error_of(response, 413)
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert error["message"] == (
        f"the request body is more than {MAX_BODY} bytes, over the limit of {MAX_BODY} "
        "(PINQL_MAX_BODY_BYTES)"
    )


async def test_a_streamed_body_at_the_limit_runs(small: GraphQLClient) -> None:
    body = body_of(MAX_BODY)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = await small.http.post("/graphql", content=chunks(), headers=JSON_TYPE)
    assert data_of(response) == {"viewer": None}


async def test_an_endless_body_is_refused_without_being_read(small: GraphQLClient) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "'
        while True:
            sent += 1
            yield b"x" * 1000

    response = await small.http.post("/graphql", content=endless(), headers=JSON_TYPE)
    assert error_of(response, 413)["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert sent == 3  # 11 + 3 x 1000 bytes: past 2048, reading stopped


async def test_a_content_length_that_lies_low_is_caught_while_reading(small: GraphQLClient) -> None:
    response = await post_raw(small, body_of(MAX_BODY + 500), {"Content-Length": "100"})
    error = error_of(response, 413)
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert f"more than {MAX_BODY} bytes" in error["message"]


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", "12, 12", ""])
async def test_a_malformed_content_length_is_400(small: GraphQLClient, length: str) -> None:
    request = small.http.build_request("POST", "/graphql", content=body_of(100), headers=JSON_TYPE)
    request.headers["Content-Length"] = length
    error = error_of(await small.http.send(request), 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == f"Content-Length must be a number of bytes, got {length!r}"


async def test_a_huge_content_length_is_413_without_reading(small: GraphQLClient) -> None:
    request = small.http.build_request("POST", "/graphql", content=body_of(100), headers=JSON_TYPE)
    request.headers["Content-Length"] = "9" * 5000  # int() of it would raise
    error = error_of(await small.http.send(request), 413)
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert error["message"] == (
        f"the request body is more than {MAX_BODY} bytes, over the limit of {MAX_BODY} "
        "(PINQL_MAX_BODY_BYTES)"
    )


async def test_an_overlong_get_url_is_414(small: GraphQLClient) -> None:
    query = "{ viewer { id } }" + " " * MAX_BODY
    response = await small.http.get("/graphql", params={"query": query})
    size = len(response.request.url.query)
    error = error_of(response, 414)
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert error["message"] == (
        f"the URL's query string is {size} bytes, over the limit of {MAX_BODY} "
        "(PINQL_MAX_BODY_BYTES): use POST"
    )


async def test_a_get_url_at_the_limit_runs(small: GraphQLClient) -> None:
    prefix = "query=" + "%7B+viewer+%7B+id+%7D+%7D"
    url = "/graphql?" + prefix + "+" * (MAX_BODY - len(prefix))
    response = await small.http.get(url)
    assert data_of(response) == {"viewer": None}
