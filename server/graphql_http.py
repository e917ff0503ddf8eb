"""GraphQL over HTTP (graphql.github.io/graphql-over-http): request parameters, media-type
negotiation, status codes and response bodies. No GraphQL execution happens here.

- Responses are `application/graphql-response+json` when the client accepts it, else
  `application/json` (also for a missing Accept or `*/*`); nothing acceptable is a 406.
- Under `application/json` every GraphQL result is HTTP 200. Under graphql-response+json a
  request error (parse, validation, operation selection, variable coercion) is HTTP 400 with
  no `data`; a result with `data` is 200.
- Malformed HTTP requests are 4xx with a GraphQL-shaped body: 400 for bad JSON, invalid UTF-8
  or parameters, 405 for a method or a GET mutation, 415 for a request media type other than
  JSON.
- Sizes are bounded before parsing: a POST body over PINQL_MAX_BODY_BYTES is 413 (refused from
  Content-Length, else while streaming: never read whole), a GET query string over it is 414,
  both REQUEST_TOO_LARGE; `variables` over PINQL_MAX_VARIABLES_BYTES (as sent: JSON-encoded) is
  413 VARIABLES_TOO_LARGE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
PARAMETERS = ("query", "operationName", "variables", "extensions", "documentId")
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
VARIABLES_TOO_LARGE = "VARIABLES_TOO_LARGE"
MAX_VARIABLES_DEPTH = 254  # orjson.dumps (idempotency fingerprints, logs) refuses deeper values


class RequestError(Exception):
    """An HTTP request that cannot become a GraphQL request: its status, message and code."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_REQUEST",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """One error, no data."""
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """The GraphQL request parameters of one HTTP request."""

    query: str | None = None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str | None:
    """The response media type for this Accept header, or None when nothing fits (406).

    A missing header, `*/*` and `application/*` get application/json (the spec's advice while
    legacy clients remain); an explicit graphql-response+json wins ties. (Remembered: each
    client sends the same header with every request.)"""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for media, quality in _media_ranges(accept):
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            candidate = (quality, 2, GRAPHQL_RESPONSE)
        elif media == JSON:
            candidate = (quality, 1, JSON)
        elif media in ("*/*", "application/*"):
            candidate = (quality, 0, JSON)
        else:
            continue
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else best[2]


def accepts_html(accept: str | None) -> bool:
    """Whether a browser asked for a page (GraphiQL)."""
    return any(media == "text/html" and q > 0 for media, q in _media_ranges(accept or ""))


def has_graphql_parameters(request: Request) -> bool:
    """Whether a GET carries a GraphQL request (a hash-only APQ GET counts)."""
    return any(name in request.query_params for name in PARAMETERS)


def _json_object(name: str, raw: str | None) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"{name} must be a JSON object: {exc}") from None
    return _object(name, value)


def _object(name: str, value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise RequestError(400, f"{name} must be an object, got {_json_type(value)}")


def _string(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RequestError(400, f"{name} must be a string, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {type(None): "null"}
    names |= {list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _params(source: Mapping[str, Any], *, encoded: bool) -> GraphQLParams:
    def obj(name: str) -> dict[str, Any] | None:
        raw = source.get(name)
        return _json_object(name, raw) if encoded else _object(name, raw)

    return GraphQLParams(
        query=_string("query", source.get("query")),
        operation_name=_string("operationName", source.get("operationName")) or None,
        variables=obj("variables"),
        extensions=obj("extensions") or {},
        document_id=_string("documentId", source.get("documentId")),
    )


async def read_params(
    request: Request,
    headers: Mapping[str, str],
    *,
    max_body_bytes: int,
    max_variables_bytes: int,
) -> GraphQLParams:
    """The GraphQL parameters of a GET (URL query) or POST (JSON body); RequestError if bad.
    `headers`: the request's, each first value by lowercase name (`header_fields`)."""
    if request.method == "GET":
        return _get_params(request, max_body_bytes, max_variables_bytes)
    _check_media_type(headers.get("content-type"))
    body = await _read_body(request, headers.get("content-length"), max_body_bytes)
    if not body.strip():
        raise RequestError(400, "the request body is empty: send a JSON object with a query")
    value = _decode_json(body)
    if isinstance(value, list):
        raise RequestError(400, "batched requests (a JSON array) are not supported")
    if not isinstance(value, dict):
        raise RequestError(400, f"the request body must be a JSON object, got {_json_type(value)}")
    params = _params(value, encoded=False)
    if params.variables is not None:
        size = len(_encoded_variables(params.variables))
        _check_variables_size(size, max_variables_bytes)
    return params


def _get_params(request: Request, max_body_bytes: int, max_variables_bytes: int) -> GraphQLParams:
    """A GET's parameters, after the URL's and the variables' sizes are checked."""
    size = len(request.scope.get("query_string", b""))
    if size > max_body_bytes:
        raise RequestError(
            414,
            _too_large("the URL's query string is", size, max_body_bytes) + ": use POST",
            REQUEST_TOO_LARGE,
        )
    raw = request.query_params.get("variables")
    if raw is not None:
        _check_variables_size(len(raw.encode()), max_variables_bytes)
    params = _params(request.query_params, encoded=True)
    if params.variables is not None:
        _encoded_variables(params.variables)  # refuses variables nested too deeply
    return params


def _check_media_type(content_type: str | None) -> None:
    """RequestError (415) unless the body is declared application/json in UTF-8."""
    if content_type is None:
        raise RequestError(415, "POST needs Content-Type: application/json", "UNSUPPORTED_MEDIA")
    media, *params = (p.strip().lower() for p in content_type.split(";"))
    if media != JSON:
        raise RequestError(
            415,
            f"POST body must be application/json, got {media or 'nothing'!r}",
            "UNSUPPORTED_MEDIA",
        )
    for param in params:
        key, _, value = param.partition("=")
        if key.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise RequestError(
                415, f"the body must be UTF-8, got charset {value!r}", "UNSUPPORTED_MEDIA"
            )


async def _read_body(request: Request, declared: str | None, limit: int) -> bytes:
    """The POST body, refused (413) from its Content-Length (`declared`) or once more than
    `limit` bytes arrived: a body without Content-Length (chunked) is never read whole."""
    if declared is not None:
        digits = declared.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise RequestError(400, f"Content-Length must be a number of bytes, got {declared!r}")
        digits = digits.lstrip("0") or "0"
        if len(digits) > len(str(limit)) or int(digits) > limit:  # no int() of 5000 digits
            size = digits if len(digits) <= 20 else f"more than {limit}"
            raise RequestError(
                413, _too_large("the request body is", size, limit), REQUEST_TOO_LARGE
            )
    chunks: list[bytes] = []
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise RequestError(
                    413,
                    _too_large("the request body is", f"more than {limit}", limit),
                    REQUEST_TOO_LARGE,
                )
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(400, "the client disconnected before the body ended") from None
    return b"".join(chunks)


def _decode_json(body: bytes) -> Any:
    """The body's JSON value; RequestError (400) saying what is wrong with it."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        problem = str(exc)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = body[exc.start : exc.end].hex(" ")
        raise RequestError(
            400, f"the request body is not valid UTF-8: bytes {bad} at offset {exc.start}"
        ) from None
    if "surrogate" in problem:
        problem += " (a \\uD800-\\uDFFF escape must be half of a surrogate pair)"
    raise RequestError(400, f"the request body is not valid JSON: {problem}")


def _encoded_variables(variables: dict[str, Any]) -> bytes:
    """`variables` as JSON; RequestError (400) when nested deeper than JSON encoders allow."""
    try:
        return orjson.dumps(variables)
    except orjson.JSONEncodeError:
        raise RequestError(
            400, f"variables must not nest deeper than {MAX_VARIABLES_DEPTH} levels"
        ) from None


def _check_variables_size(size: int, limit: int) -> None:
    if size > limit:
        raise RequestError(
            413,
            _too_large("variables are", size, limit, "PINQL_MAX_VARIABLES_BYTES"),
            VARIABLES_TOO_LARGE,
        )


def _too_large(
    subject: str, size: int | str, limit: int, setting: str = "PINQL_MAX_BODY_BYTES"
) -> str:
    """'the request body is 5000 bytes, over the limit of 4096 (PINQL_MAX_BODY_BYTES)'."""
    return f"{subject} {size} bytes, over the limit of {limit} ({setting})"


def json_response(
    body: Mapping[str, Any], status: int, media: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A GraphQL response body, orjson-encoded, as `media` with charset utf-8."""
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers=dict(headers or {}),
        media_type=f"{media}; charset=utf-8",
    )


def error_response(
    error: RequestError, media: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A refused HTTP request (4xx) with its GraphQL error."""
    return json_response(
        error.body(), error.status, media or JSON, {**error.headers, **(headers or {})}
    )


def request_error_status(media: str) -> int:
    """The status of a GraphQL request error (parse, validation, coercion) under `media`."""
    return 400 if media == GRAPHQL_RESPONSE else 200
