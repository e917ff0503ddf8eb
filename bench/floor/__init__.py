"""The floor: each benchmarked operation without GraphQL, as fast as this stack can answer it.

A plain Starlette route per operation (`POST /floor/<key>` for feed, board, profile, pin,
latest, nodes, search and related, body `{"variables": {...}}`, the same bearer token) runs
the SQL statements pinql's loaders run for that operation, in the batches and order pinql
sends them, on one pooled connection, and builds the response's `data` from the records
with orjson. The
statements are the loaders' own constants; tests/bench/test_floor.py pins that the JSON
equals pinql's `data` and that the statements are the same, so the floor cannot drift.
Only the benchmark mounts these routes (bench/app.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.floor.latest import latest_pins
from bench.floor.nodes import node_lookup
from bench.floor.operations import board_page, home_feed, pin_close_up, profile_page
from bench.floor.request import FloorError, FloorOperation, FloorRequest
from bench.floor.search import related_pins, search_page
from db.pool import Database
from db.pool_setup import ConnectionInit
from resolvers.errors import BadUserInput
from server.auth import InvalidToken, Viewers

OPERATIONS: dict[str, FloorOperation] = {
    "feed": home_feed,
    "board": board_page,
    "profile": profile_page,
    "pin": pin_close_up,
    "latest": latest_pins,
    "nodes": node_lookup,
    "search": search_page,
    "related": related_pins,
}
"""The floor of each benchmarked operation, by the benchmark's key (route /floor/<key>)."""


def _variables(body: bytes) -> Mapping[str, Any]:
    try:
        parsed = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise FloorError(400, f"the body is not JSON: {exc}") from None
    variables = parsed.get("variables") if isinstance(parsed, dict) else None
    if not isinstance(variables, dict):
        raise FloorError(400, 'send {"variables": {...}}')
    return variables


def _endpoint(
    operation: FloorOperation, viewers: Viewers
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            viewer = viewers.from_header(request.headers.get("authorization"))
            variables = _variables(await request.body())
            database: Database = request.state.database
            async with database.connection() as conn:  # served in turn, as pinql's
                data = await operation(FloorRequest(conn, viewer), variables)
        except InvalidToken as exc:
            return _error(401, str(exc))
        except BadUserInput as exc:
            return _error(400, exc.message)
        except FloorError as exc:
            return _error(exc.status, str(exc))
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    return endpoint


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"errors": [{"message": message}]}), status_code=status)


def routes(secret: str) -> list[Route]:
    """`POST /floor/<key>` for each operation; tokens are checked with `secret` (and
    remembered, as pinql does)."""
    viewers = Viewers(secret)
    return [
        Route(f"/floor/{key}", _endpoint(operation, viewers), methods=["POST"])
        for key, operation in OPERATIONS.items()
    ]


def floor_app(
    database_url: str, secret: str, connection_init: ConnectionInit | None = None
) -> Starlette:
    """The floor routes alone, with a pool of their own (tests; the benchmark mounts the
    routes on pinql's app, sharing its pool)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Database]]:
        database = await Database.connect(database_url, init=connection_init)
        try:
            yield {"database": database}
        finally:
            await database.close()

    return Starlette(routes=routes(secret), lifespan=lifespan)
