"""The /graphql endpoint: authenticates the viewer, gives the request its loaders, runs Strawberry.

One request = one Session (one pooled connection, taken at the first statement) and one set
of loaders, released when the response has been sent.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from db.pool import Database
from loaders import Loaders
from resolvers.context import Context
from schema.build import PinqlSchema
from server.auth import InvalidToken, viewer_from_header
from server.graphiql import graphiql_html

_CONTEXT_KEY = "pinql.context"


class PinqlGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with pinql's context, orjson, and the offline GraphiQL page."""

    async def get_context(self, request: Any, response: Any) -> Context:
        context: Context = request.scope[_CONTEXT_KEY]
        return context

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(request.url.path))

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson's error is a JSONDecodeError, which Strawberry answers with 400; the
        # stdlib's json.loads raises UnicodeDecodeError on some invalid bytes (a 500).
        return orjson.loads(data)


class GraphQLEndpoint:
    """ASGI app for /graphql: 401 for a bad token, else the view with a fresh context."""

    def __init__(self, schema: PinqlSchema, secret: str) -> None:
        self.view = PinqlGraphQL(schema)
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Request(scope).headers
        try:
            viewer_id = viewer_from_header(headers.get("authorization"), self.secret)
        except InvalidToken as exc:
            await unauthenticated(str(exc))(scope, receive, send)
            return
        database: Database = scope["state"]["database"]
        session = database.session()
        scope[_CONTEXT_KEY] = Context(loaders=Loaders.build(session, viewer_id))
        try:
            await self.view(scope, receive, send)
        finally:
            await session.close()


def unauthenticated(message: str) -> Response:
    """HTTP 401 with a GraphQL error body, as GraphQL clients expect one."""
    body = {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
