"""server/tracing.py: one request span per request, one `db.query` child per statement the
connection saw, no parameter values or tokens in any attribute; nothing when off."""

from __future__ import annotations

import sys

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from resolvers.ids import encode_global_id
from server.app import create_app
from server.settings import Settings
from tests import world
from tests.conftest import MakeDatabase, new_database
from tests.support import served

QUERY = """query Board($id: ID!, $first: Int) {
  node(id: $id) { ... on Board { name pins(first: $first) { nodes { id creator { username } } } } }
}"""
BOARD_ID = encode_global_id("Board", world.OLIVE_PUBLIC)
SECRET_VARIABLE = "do-not-trace-me"
CREATE = """mutation CreateBoard($i: CreateBoardInput!) {
  createBoard(input: $i) { board { id name } userErrors { message } }
}"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def _attributes(spans: tuple[ReadableSpan, ...]) -> str:
    return repr([dict(span.attributes or {}) for span in spans])


async def test_a_request_span_with_one_child_per_statement(make_database: MakeDatabase) -> None:
    database = await new_database(make_database, with_world=True)  # it registers a client
    exporter = InMemorySpanExporter()
    served_web = served(database, span_exporter=exporter, clients={"web": "open"}, PINQL_OTEL=True)
    async with served_web as (client, _):
        client.log.clear()
        token = client.token(world.OLIVE)
        response = await client.http.post(
            "/graphql",
            json={"query": QUERY, "variables": {"id": BOARD_ID, "first": 2, "x": SECRET_VARIABLE}},
            headers={
                "Authorization": f"Bearer {token}",
                **client.client("web"),
                "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["node"]["name"]
        statements = list(client.log.statements)
    spans = exporter.get_finished_spans()
    requests = [s for s in spans if s.name == "graphql.request"]
    queries = [s for s in spans if s.name == "db.query"]
    assert len(requests) == 1 and len(spans) == 1 + len(queries)
    request = requests[0]
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["graphql.operation.name"] == "Board"
    assert request.attributes["pinql.client.name"] == "web"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["pinql.request_id"] == response.headers["X-Request-Id"]
    assert request.attributes["pinql.statements"] == len(statements)
    # the caller's trace goes on
    assert format(request.context.trace_id, "032x") == TRACE_ID
    assert request.parent is not None and format(request.parent.span_id, "016x") == PARENT_ID
    # one child per statement, as the connection saw them, within the request
    assert len(queries) == len(statements) >= 2
    assert sorted(str((q.attributes or {})["db.statement"]) for q in queries) == sorted(statements)
    assert request.start_time is not None and request.end_time is not None
    for query in queries:
        assert query.parent is not None and query.parent.span_id == request.context.span_id
        assert query.context.trace_id == request.context.trace_id
        assert query.kind is SpanKind.CLIENT
        assert (query.attributes or {})["db.system"] == "postgresql"
        assert query.start_time is not None and query.end_time is not None
        assert request.start_time <= query.start_time <= query.end_time <= request.end_time
    # statements carry placeholders, never values; no token, no variable anywhere
    attributes = _attributes(spans)
    leaks = (
        token,
        token.rsplit(".", 1)[1],
        SECRET_VARIABLE,
        BOARD_ID,
        "Bearer",
        client.keys["web"],
    )
    for leak in leaks:
        assert leak not in attributes


async def test_a_mutation_traces_its_transaction(make_database: MakeDatabase) -> None:
    database = await new_database(make_database, with_world=True)  # it writes
    exporter = InMemorySpanExporter()
    async with served(database, span_exporter=exporter, PINQL_OTEL=True) as (client, _):
        client.log.clear()
        data = await client.data(CREATE, {"i": {"name": SECRET_VARIABLE}}, viewer=world.ADA)
        assert data["createBoard"]["board"]["name"] == SECRET_VARIABLE
        statements = list(client.log.statements)
    spans = exporter.get_finished_spans()
    queries = sorted(str((s.attributes or {})["db.statement"]) for s in spans[:-1])
    assert spans[-1].name == "graphql.request"
    assert queries == sorted(statements)
    assert any(q.startswith("BEGIN") for q in queries) and "COMMIT;" in queries
    assert SECRET_VARIABLE not in _attributes(spans)


async def test_a_refused_request_has_its_span_and_no_statement(world_database: str) -> None:
    exporter = InMemorySpanExporter()
    async with served(world_database, span_exporter=exporter, PINQL_OTEL=True) as (client, _):
        refused = await client.post(QUERY, headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401
    (span,) = exporter.get_finished_spans()
    assert span.name == "graphql.request"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 401
    assert span.attributes["pinql.statements"] == 0
    assert "graphql.operation.name" not in span.attributes  # refused before the document
    assert span.status.status_code is not StatusCode.ERROR  # the client's error, not ours


async def test_off_makes_no_spans(world_database: str) -> None:
    exporter = InMemorySpanExporter()
    async with served(world_database, span_exporter=exporter, PINQL_OTEL=False) as (client, _):
        await client.data(QUERY, {"id": BOARD_ID, "first": 2}, viewer=world.OLIVE)
    assert exporter.get_finished_spans() == ()


def test_without_opentelemetry_startup_fails_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, world_database: str
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if not installed
    settings = Settings.model_validate({"DATABASE_URL": world_database, "PINQL_OTEL": True})
    with pytest.raises(RuntimeError, match=r"pip install 'pinql\[otel\]'"):
        create_app(settings)
    create_app(settings.model_copy(update={"otel": False}))  # off: not needed
