"""The /graphql endpoint: who is asking (client, viewer), which document (text or persisted),
then execution with that request's loaders, answered as GraphQL over HTTP says. A mutation
sent with `Idempotency-Key` runs through server/idempotency.py (once per viewer and key).

One request = one Session (one pooled connection, taken at the first statement) and one set
of loaders, released before the response is sent. A browser GET without GraphQL parameters
gets the offline GraphiQL page.

Each request fills a RequestRecord (server/metrics.py); once the response is sent, it becomes
the request's metrics, its `pinql.access` line and the end of its span (PINQL_OTEL).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from db.pool import Database
from db.write_keys import WriteKey
from execution.documents import PreparedDocument
from execution.errors import INTERNAL, UNAVAILABLE, WRITE_OUTCOME_UNKNOWN, formatted
from execution.run import Runs
from loaders.base import batch_observer
from server.admission import Admission, Admitted, Refused
from server.auth import InvalidToken
from server.client_keys import KEY_HEADER, ClientDirectory
from server.clients import Client, InvalidClient, client_from_headers
from server.graphiql import graphiql_html
from server.graphql_http import (
    JSON,
    GraphQLParams,
    RequestError,
    accepts_html,
    error_response,
    has_graphql_parameters,
    json_response,
    negotiate,
    read_params,
    request_error_status,
)
from server.idempotency import Executed, Idempotency, idempotency_key, request_fingerprint
from server.live_viewers import LiveViewers
from server.logs import ACCESS, new_request_id, request_id
from server.metrics import Metrics, RequestRecord
from server.persisted.policy import Mode
from server.persisted.queries import Refusal
from server.persisted.request import get_runs, request_document
from server.settings import Settings
from server.tracing import Tracing

if TYPE_CHECKING:
    from opentelemetry.trace import Span

log = logging.getLogger("pinql.http")
access = logging.getLogger(ACCESS)

REQUEST_ID = "X-Request-Id"
TIMEOUT = "TIMEOUT"
VARY = "Accept, Authorization, apollographql-client-name, graphql-client-name"


class GraphQLEndpoint:
    """ASGI app for /graphql (GET and POST)."""

    def __init__(
        self, settings: Settings, metrics: Metrics | None = None, tracing: Tracing | None = None
    ) -> None:
        self.settings = settings
        self.get_max_age = settings.get_max_age
        self.metrics = metrics
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope, receive)
        headers = header_fields(scope)
        rid = new_request_id(headers.get(REQUEST_ID.lower()))
        token = request_id.set(rid)
        record = RequestRecord(rid)
        span = None
        if self.tracing is not None:
            span = self.tracing.start_request(request.method, headers)
            record.on_statement = self.tracing.statement_hook(span)
        batches = None
        if self.metrics is not None:
            batches = batch_observer.set(self.metrics.loader_batch)
        try:
            try:
                response = await self.handle(request, headers, record)
            except Exception:
                log.exception("unhandled error answering %s %s", request.method, request.url.path)
                extensions = {"code": INTERNAL, "requestId": rid}
                error = {"message": "Internal server error", "extensions": extensions}
                response = json_response({"errors": [error]}, 500, JSON)
            response.headers[REQUEST_ID] = rid
            record.status = response.status_code
            await response(scope, receive, send)
        finally:
            record.seconds = time.perf_counter() - started
            self._answered(scope, record, span)
            if batches is not None:
                batch_observer.reset(batches)
            request_id.reset(token)

    def _answered(self, scope: Scope, record: RequestRecord, span: Span | None) -> None:
        """Counts the request, writes its access line and ends its span."""
        if self.metrics is not None:
            self.metrics.observe(record)
        if access.isEnabledFor(logging.INFO):
            fields = record.access_fields()
            access.info("%s %s %d", scope["method"], scope["path"], record.status, extra=fields)
        if span is not None and self.tracing is not None:
            self.tracing.end_request(span, record)

    async def handle(
        self, request: Request, headers: Mapping[str, str], record: RequestRecord
    ) -> Response:
        """The response to one HTTP request (`headers`: `header_fields`)."""
        if request.method not in ("GET", "POST"):
            error = RequestError(405, f"method {request.method} is not allowed: use GET or POST")
            return error_response(error, headers={"Allow": "GET, POST"})
        accept = headers.get("accept")
        is_get = request.method == "GET"
        if (
            is_get
            and self.settings.graphiql_enabled
            and not has_graphql_parameters(request)
            and accepts_html(accept)
        ):
            return HTMLResponse(graphiql_html(request.url.path))
        media = negotiate(accept)
        if media is None:
            message = f"cannot answer with anything Accept allows ({accept!r}): use {JSON}"
            return error_response(RequestError(406, message, "NOT_ACCEPTABLE"))
        try:
            client = client_from_headers(headers)
            clients: ClientDirectory = request.state.clients
            await clients.authenticate(client, headers.get(KEY_HEADER))
            record.client, record.client_version = client.name, client.version
            signed_in: LiveViewers = request.state.live_viewers
            viewer_id = await signed_in.viewer_of(headers.get("authorization"))
            params = await read_params(
                request,
                headers,
                max_body_bytes=self.settings.max_body_bytes,
                max_variables_bytes=self.settings.max_variables_bytes,
            )
            # A persisted document, or one the client's policy requires to be registered,
            # names a bounded set of operations: its name may be a metric label.
            record.known = (
                params.document_id is not None
                or "persistedQuery" in params.extensions
                or clients.policy_for(client.name).mode is not Mode.OPEN
            )
            prepared = await request_document(request.state.persisted, client, params, is_get)
        except InvalidToken as exc:
            return unauthenticated(str(exc), media)
        except InvalidClient as exc:
            return error_response(RequestError(400, str(exc), "INVALID_CLIENT"), media)
        except RequestError as exc:
            return error_response(exc, media)
        if isinstance(prepared, Refusal):
            return json_response(prepared.body(), prepared.status, media, prepared.headers)
        record.document_hash = prepared.sha256
        response = await self._execute(request, prepared, params, client, viewer_id, media, record)
        if is_get:
            response.headers["Vary"] = VARY
        return response

    async def _execute(
        self,
        request: Request,
        prepared: PreparedDocument,
        params: GraphQLParams,
        client: Client,
        viewer_id: int | None,
        media: str,
        record: RequestRecord,
    ) -> Response:
        if prepared.document is None:  # a syntax error, or too many tokens
            return _request_errors(prepared.errors, media)
        operation = prepared.operation(params.operation_name)
        if isinstance(operation, GraphQLError):
            return _request_errors([operation], media)
        if operation.name is not None:
            record.operation = operation.name.value
        if request.method == "GET" and not get_runs(operation):
            error = RequestError(
                405, f"a {operation.operation.value} cannot be sent with GET: use POST"
            )
            return error_response(error, media, {"Allow": "POST"})
        if prepared.errors:
            return _request_errors(prepared.errors, media)
        admission: Admission = request.state.admission
        address = request.client.host if request.client else None
        admitted = await admission.admit(
            prepared, operation, params.variables, client.name, viewer_id, address
        )
        if isinstance(admitted, Refused):
            if admitted.cost is not None:
                record.cost = admitted.cost["requestedQueryCost"]
            record.throttled = admitted.http is not None and admitted.http.status == 429
            return _refused(admitted, media)
        record.cost = admitted.requested
        execute = partial(
            self._run, request, prepared, operation, params, viewer_id, admitted, media, record
        )
        if admitted.mutation:
            try:
                key = idempotency_key(request.headers)
            except RequestError as exc:
                return error_response(exc, media)
            if key is not None and viewer_id is not None:  # anonymous: refused anyway
                idempotency: Idempotency = request.state.idempotency
                name = operation.name.value if operation.name else None
                fingerprint = request_fingerprint(prepared.sha256, name, params.variables)
                response = await idempotency.run(viewer_id, key, fingerprint, execute, media)
                response.headers.update(admitted.headers())
                return response
        response = (await execute()).response
        response.headers.update(admitted.headers())
        return response

    async def _run(
        self,
        request: Request,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        params: GraphQLParams,
        viewer_id: int | None,
        admitted: Admitted,
        media: str,
        record: RequestRecord,
        write_key: WriteKey | None = None,
    ) -> Executed:
        """Executes the operation with this request's session and loaders, by its deadline (a
        keyed mutation: its writes recorded under `write_key`)."""
        database: Database = request.state.database
        if operation.operation is OperationType.QUERY and request.state.replica is not None:
            database = request.state.replica  # a mutation reads its payload on the primary
        admission: Admission = request.state.admission
        session = database.session(record.on_statement)
        record.session = session
        deadline = self.settings.request_timeout_seconds
        try:
            async with asyncio.timeout(deadline):
                runs: Runs = request.state.runs
                variables = params.variables
                outcome = await runs.run(
                    prepared, operation, variables, session, viewer_id, request_id.get(), write_key
                )
            result, record.execution = outcome.result, outcome.execution
            record.execution_reason = outcome.reason
            objects = outcome.objects
        except TimeoutError:
            message = (
                f"the request ran past its {deadline:g} s deadline "
                "(PINQL_REQUEST_TIMEOUT_SECONDS) and was stopped"
            )
            if session.commits:  # (a retry with its Idempotency-Key never writes them again)
                message += f" after {session.commits} write(s) had been committed"
            admission.settle(admitted, None)  # what it cost is unknown: give it all back
            response = error_response(RequestError(504, message, TIMEOUT), media)
            return Executed(response, ran=session.may_have_written, final=False)
        finally:
            await session.close()
        if result.errors and any(_code(e) == UNAVAILABLE for e in result.errors):
            admission.settle(admitted, None)
            errors = [e for e in result.errors if _code(e) == UNAVAILABLE][:1]
            unavailable = {"errors": formatted(errors)}
            response = json_response(unavailable, 503, media, {"Retry-After": "1"})
            return Executed(response, ran=session.may_have_written, final=False)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # variable coercion failed: nothing ran
            admission.settle(admitted, None)
            return Executed(_request_errors(result.errors, media), ran=False)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body = {"errors": formatted(result.errors), "data": result.data}
        body["extensions"] = {"cost": admission.settle(admitted, result.data, objects)}
        headers = {}
        if request.method == "GET":
            cacheable = viewer_id is None and not result.errors and self.get_max_age > 0
            headers["Cache-Control"] = (
                f"public, max-age={self.get_max_age}" if cacheable else "private, no-store"
            )
        unknown = any(_code(e) == WRITE_OUTCOME_UNKNOWN for e in result.errors or ())
        return Executed(json_response(body, 200, media, headers), ran=True, final=not unknown)


def header_fields(scope: Scope) -> dict[str, str]:
    """Each request header's first value, by its name (lowercase, as ASGI servers send it),
    read once: Starlette's `Headers` scans every header at each lookup, and a request looks
    up about ten."""
    fields: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in fields:
            fields[key] = value.decode("latin-1")
    return fields


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def _refused(refused: Refused, media: str) -> Response:
    """The answer to an operation admission refused."""
    extensions = {"cost": refused.cost} if refused.cost is not None else None
    if refused.http is not None:
        body = refused.http.body()
        if extensions:
            body["extensions"] = extensions
        return json_response(body, refused.http.status, media, refused.http.headers)
    assert refused.errors is not None
    return _request_errors(refused.errors, media, extensions)


def _request_errors(
    errors: list[GraphQLError] | tuple[GraphQLError, ...],
    media: str,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """A request error: no `data`; 400 under graphql-response+json, 200 under JSON."""
    body: dict[str, Any] = {"errors": formatted(errors)}
    if extensions:
        body["extensions"] = extensions
    return json_response(body, request_error_status(media), media)


def unauthenticated(message: str, media: str = JSON) -> Response:
    """HTTP 401 with a GraphQL error body, as GraphQL clients expect one."""
    error = RequestError(401, message, "UNAUTHENTICATED")
    return error_response(error, media, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
