"""Errors as clients see them: every error leaving execution has an `extensions.code`. A
database outage is SERVICE_UNAVAILABLE, a statement past statement_timeout is
STATEMENT_TIMEOUT (past lock_timeout, waiting for a lock: LOCK_TIMEOUT), an error a client
can act on (resolvers.errors) keeps its code, and any other unexpected exception (a bug) is
logged with its traceback and reaches the client only as `Internal server error` with the
request's id."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

from db.errors import CommitUnconfirmed, DatabaseUnavailable, LockTimeout, StatementTimeout
from resolvers.errors import PinqlError

log = logging.getLogger("pinql.execution")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_REQUEST = "BAD_REQUEST"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
STATEMENT_TIMEOUT = "STATEMENT_TIMEOUT"
LOCK_TIMEOUT = "LOCK_TIMEOUT"
WRITE_OUTCOME_UNKNOWN = "WRITE_OUTCOME_UNKNOWN"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"


def request_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    """An error that stops the request before execution (no `data` in the response)."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def coded(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """The error as the client sees it: its code kept, or masked when unexpected (logged
    with `request_id`, which the masked error also carries)."""
    original = error.original_error
    if isinstance(original, CommitUnconfirmed):
        message = (
            f"{original}: retrying with the same Idempotency-Key answers this again and "
            "writes nothing; read to see whether it happened"
        )
        return _replaced(error, message, WRITE_OUTCOME_UNKNOWN)
    if isinstance(original, DatabaseUnavailable):
        return _replaced(error, f"the database is unavailable: {original}", UNAVAILABLE)
    if isinstance(original, LockTimeout):
        return _replaced(error, str(original), LOCK_TIMEOUT)
    if isinstance(original, StatementTimeout):
        return _replaced(error, str(original), STATEMENT_TIMEOUT)
    if original is not None and not isinstance(original, PinqlError | GraphQLError):
        log.error("unexpected error at %s (request %s)", error.path, request_id, exc_info=original)
        ids = {} if request_id is None else {"requestId": request_id}
        return _replaced(error, "Internal server error", INTERNAL, **ids)
    if not (error.extensions or {}).get("code"):
        # Raised by graphql-core itself: variable coercion (no path), or a null in a non-null
        # field (a bug on our side).
        code = BAD_USER_INPUT if error.path is None else INTERNAL
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _replaced(error: GraphQLError, message: str, code: str, **extensions: Any) -> GraphQLError:
    """A new error at the same place, with its own message and code."""
    return GraphQLError(
        message, nodes=error.nodes, path=error.path, extensions={"code": code, **extensions}
    )


def formatted(errors: Sequence[GraphQLError]) -> list[dict[str, Any]]:
    """Errors as the response's `errors` entries."""
    return [dict(error.formatted) for error in errors]
