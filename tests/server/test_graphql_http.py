"""GraphQL over HTTP details beyond the graphql-http audits: media-type negotiation, the
statuses and messages of refused requests, and the response media type."""

from __future__ import annotations

import pytest

from server.graphql_http import GRAPHQL_RESPONSE, JSON, negotiate
from server.graphql_view import header_fields
from tests.support import GraphQLClient, without_cost

QUERY = "{ viewer { id } }"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", JSON),
        ("text/html,application/xhtml+xml,*/*;q=0.8", JSON),
        ("Application/JSON; charset=utf-8", JSON),
        ("text/plain", None),
        ("application/json;q=0", None),
        ("application/xml, text/html", None),
    ],
)
def test_negotiate(accept: str | None, media: str | None) -> None:
    assert negotiate(accept) == media
    assert negotiate(accept) == media  # remembered: the same answer


def test_header_fields_keep_each_headers_first_value() -> None:
    scope = {
        "headers": [
            (b"accept", b"application/json"),
            (b"x-request-id", b"first"),
            (b"x-request-id", b"second"),
            (b"authorization", "Bearer t\u00e9".encode("latin-1")),
        ]
    }

    assert header_fields(scope) == {
        "accept": "application/json",
        "x-request-id": "first",  # as Starlette's Headers.get answers
        "authorization": "Bearer t\u00e9",
    }


async def test_an_incoming_request_id_is_kept(world_client: GraphQLClient) -> None:
    response = await world_client.post(QUERY, headers={"X-Request-Id": "lb-7.a_b"})
    assert response.headers["x-request-id"] == "lb-7.a_b"


async def test_graphql_response_json_is_served_when_asked(world_client: GraphQLClient) -> None:
    response = await world_client.post(QUERY, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert without_cost(response.json()) == {"data": {"viewer": None}}


async def test_nothing_acceptable_is_406(world_client: GraphQLClient) -> None:
    response = await world_client.post(QUERY, headers={"Accept": "text/plain"})
    assert response.status_code == 406
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "NOT_ACCEPTABLE"}
    assert "'text/plain'" in error["message"]


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/plain", "POST body must be application/json, got 'text/plain'"),
        ("application/graphql", "POST body must be application/json, got 'application/graphql'"),
        ("application/json; charset=latin-1", "the body must be UTF-8, got charset 'latin-1'"),
    ],
)
async def test_other_request_media_types_are_415(
    world_client: GraphQLClient, content_type: str, message: str
) -> None:
    response = await world_client.http.post(
        "/graphql",
        content=b'{"query": "{ viewer { id } }"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["errors"] == [
        {"message": message, "extensions": {"code": "UNSUPPORTED_MEDIA"}}
    ]


async def test_other_methods_are_405(world_client: GraphQLClient) -> None:
    response = await world_client.http.put("/graphql", json={"query": QUERY})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "batched requests (a JSON array) are not supported"),
        (b'[{"query": "{ viewer { id } }"}]', "batched requests (a JSON array) are not supported"),
        (b'"{ viewer { id } }"', "the request body must be a JSON object, got a string"),
        (b"{", "the request body is not valid JSON"),
        (b"", "the request body is empty: send a JSON object with a query"),
        (b"{}", "the request has no query: send query (or a persisted query)"),
        (b'{"query": 1}', "query must be a string, got a number"),
        (b'{"query": "{ viewer { id } }", "variables": []}', "variables must be an object"),
        (b'{"query": "{ viewer { id } }", "extensions": "x"}', "extensions must be an object"),
        (b'{"query": "{ viewer { id } }", "operationName": {}}', "operationName must be a string"),
        (b'{"query": "{ viewer { id } }", "documentId": "x"}', "either documentId or query"),
        (b'{"documentId": "a b"}', "documentId: document id must match"),
    ],
)
async def test_bad_parameters_are_400(
    world_client: GraphQLClient, body: bytes, message: str
) -> None:
    response = await world_client.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}


async def test_get_without_a_query_is_400_for_api_clients(world_client: GraphQLClient) -> None:
    response = await world_client.http.get("/graphql", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "has no query" in response.json()["errors"][0]["message"]


async def test_get_with_bad_variables_json_is_400(world_client: GraphQLClient) -> None:
    response = await world_client.http.get(
        "/graphql", params={"query": QUERY, "variables": "{nope"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("variables must be a JSON object")


async def test_unknown_document_id_is_404(world_client: GraphQLClient) -> None:
    response = await world_client.http.post("/graphql", json={"documentId": "sha256:nope"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
