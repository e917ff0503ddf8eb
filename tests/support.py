"""Test support: the app served in-process with its lifespan, a GraphQL client, statement logs."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import httpx
from asyncpg.connection import LoggedQuery
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from db import clients as registry
from db.viewers import EXISTING
from server.app import State, create_app
from server.auth import issue_token
from server.client_keys import KEY_HEADER, key_hash, new_key
from server.persisted.policy import ClientPolicy
from server.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

SECRET = "test-secret-for-pinql-tests-0123456789"


@dataclass
class StatementLog:
    """Every statement the app's connections sent, as asyncpg's query logger saw it: the
    requests' in `statements`, the edge's check that a signed-in viewer exists in
    `viewer_checks` (server/live_viewers.py: a worker's read shared by the requests that
    wait on it, made on a viewer's first sight, so not part of any request's count)."""

    statements: list[str] = field(default_factory=list)
    viewer_checks: list[str] = field(default_factory=list)

    async def attach(self, conn: asyncpg.Connection) -> None:
        """Pool `init` hook: log this connection's statements."""
        conn.add_query_logger(self._logged)

    def _logged(self, record: LoggedQuery) -> None:
        kept = self.viewer_checks if record.query == EXISTING else self.statements
        kept.append(record.query)

    def clear(self) -> None:
        """Forget what was logged so far."""
        self.statements.clear()
        self.viewer_checks.clear()

    @property
    def count(self) -> int:
        """How many statements were logged."""
        return len(self.statements)


@dataclass
class GraphQLClient:
    """Posts GraphQL requests to an in-process pinql, as a given viewer."""

    http: httpx.AsyncClient
    log: StatementLog
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)
    """The keys of the clients registered for this server (`served(clients=...)`)."""

    def client(self, name: str | None, version: str | None = "1.0.0") -> dict[str, str]:
        """The headers naming client `name` and proving it with its key (none for the
        anonymous client)."""
        if name is None:
            return {}
        headers = {"apollographql-client-name": name, KEY_HEADER: self.keys[name]}
        if version is not None:
            headers["apollographql-client-version"] = version
        return headers

    def token(self, user_id: int, ttl: int = 3600) -> str:
        """A valid bearer token for `user_id`."""
        return issue_token(user_id, self.settings.secret, ttl)

    def headers(self, viewer: int | None) -> dict[str, str]:
        """Authorization headers for `viewer` (none when anonymous)."""
        return {} if viewer is None else {"Authorization": f"Bearer {self.token(viewer)}"}

    async def post(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        viewer: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POSTs one operation; returns the raw response."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        return await self.http.post(
            "/graphql", json=body, headers={**self.headers(viewer), **(headers or {})}
        )

    async def execute(
        self, query: str, variables: Mapping[str, Any] | None = None, *, viewer: int | None = None
    ) -> dict[str, Any]:
        """POSTs one operation, expects HTTP 200, returns the JSON body (data and errors)."""
        response = await self.post(query, variables, viewer=viewer)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: Mapping[str, Any] | None = None, *, viewer: int | None = None
    ) -> dict[str, Any]:
        """POSTs one operation and returns `data`, failing on any GraphQL error."""
        body = await self.execute(query, variables, viewer=viewer)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def count_statements(
        self, query: str, variables: Mapping[str, Any] | None = None, *, viewer: int | None = None
    ) -> int:
        """How many SQL statements one successful request of `query` runs."""
        self.log.clear()
        await self.data(query, variables, viewer=viewer)
        return self.log.count


@asynccontextmanager
async def in_process(
    app: Starlette, base_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """Runs `app`'s lifespan, as uvicorn would, and yields an HTTP client for it and the
    lifespan's state."""
    async with app.router.lifespan_context(app) as lifespan_state:
        state = dict(lifespan_state or {})

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state)  # what uvicorn hands each request
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http, state


async def register_clients(
    database_url: str, policies: Mapping[str, str | Mapping[str, Any]]
) -> dict[str, str]:
    """Registers each client (name: policy) as `pinql clients add` does; their keys. The
    names must be new in that database."""
    keys = {name: new_key() for name in policies}
    conn = await asyncpg.connect(database_url)
    try:
        for name, policy in policies.items():
            as_json = ClientPolicy.model_validate(policy).model_dump_json()
            added = await registry.add(conn, name, as_json, key_hash(keys[name]))
            assert added, f"client {name!r} is already registered in {database_url}"
    finally:
        await conn.close()
    return keys


@asynccontextmanager
async def served(
    database_url: str,
    *,
    span_exporter: SpanExporter | None = None,
    clients: Any = None,  # Mapping[str, policy]; Any: callers spread settings dicts after it
    **settings: Any,
) -> AsyncIterator[tuple[GraphQLClient, State]]:
    """pinql in-process on `database_url` (settings override the tests' defaults): a client
    for it and the lifespan's state; `span_exporter` receives the spans when PINQL_OTEL is on;
    `clients` (name: policy) are registered first, their keys in GraphQLClient.keys."""
    keys = await register_clients(database_url, clients) if clients else {}
    config = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "PINQL_SECRET": SECRET,
            # The test process is not a worker: leave its garbage collector alone, and
            # serve /metrics on the app, not on a fixed port of the machine (prod's default).
            "PINQL_GC_TUNING": False,
            "PINQL_METRICS_PORT": 0,
            # In-process stores unless the test passes a Redis of its own: state kept in a
            # shared Redis (rate-limit buckets, idempotency keys) would outlive the run.
            "REDIS_URL": None,
            **settings,
        }
    )
    log = StatementLog()
    app = create_app(config, connection_init=log.attach, span_exporter=span_exporter)
    async with in_process(app, "http://pinql.test") as (http, state):
        yield GraphQLClient(http=http, log=log, settings=config, keys=keys), cast(State, state)


@asynccontextmanager
async def serve(
    database_url: str,
    *,
    clients: Any = None,  # Mapping[str, policy]; Any: callers spread settings dicts after it
    **settings: Any,
) -> AsyncIterator[GraphQLClient]:
    """Runs the app's lifespan, as uvicorn would, and yields a client for it (`clients`:
    as `served`)."""
    async with served(database_url, clients=clients, **settings) as (client, _):
        yield client


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """An executed response's body without its `extensions.cost` (checked to be there), for
    comparing the rest whole; tests/server/test_admission.py pins the cost itself."""
    extensions = body.get("extensions")
    if extensions is None:
        return body
    assert set(extensions) == {"cost"}, extensions
    assert extensions["cost"]["requestedQueryCost"] >= 0
    return {key: value for key, value in body.items() if key != "extensions"}


@contextmanager
def saving_garbage() -> Iterator[list[object]]:
    """Inside the block the garbage collector keeps what it finds unreachable (in
    `gc.garbage`) instead of freeing it, and collects only when asked."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


@asynccontextmanager
async def pins_locked(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding the pins table in ACCESS EXCLUSIVE mode for the block: every
    read of pins waits. Closing it at the end ends the lock (the block may end it sooner
    with `rollback`)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("begin; lock table pins in access exclusive mode")
        yield conn
    finally:
        await conn.close()
