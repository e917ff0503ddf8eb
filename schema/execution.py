"""Runs GraphQL documents against the schema: parse, validate and execute as separate steps.

The HTTP edge caches what `prepare` returns (by the document's SHA-256), so a persisted or
repeated document is parsed and validated once per process, limits included. Every error
leaves here with an `extensions.code`: a database outage is SERVICE_UNAVAILABLE, a statement
past statement_timeout is STATEMENT_TIMEOUT, and any other unexpected exception (a bug) is
logged with its traceback and reaches the client only as `Internal server error` with the
request's id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    specified_rules,
)
from graphql.language import Visitor, visit
from strawberry.schema.schema import validate_document

from db.errors import DatabaseUnavailable, StatementTimeout
from loaders.errors import PinqlError
from schema.build import build_schema

log = logging.getLogger("pinql.execution")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
STATEMENT_TIMEOUT = "STATEMENT_TIMEOUT"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
MAX_TOKENS = 2_000
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

DocumentCheck = Callable[[DocumentNode], Sequence[GraphQLError]]
"""Rules a document must pass before validation (the HTTP edge's limits), run once per
document; they must tolerate invalid documents (unknown fragments, fragment cycles)."""


class Preparer(Protocol):
    """`prepare` with the limits of a deployment bound (server.app.preparer)."""

    def __call__(self, text: str, sha256: str | None = None, /) -> PreparedDocument: ...


def sha256_hex(text: str) -> str:
    """The lowercase hex SHA-256 of `text` encoded as UTF-8: the APQ document hash."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A parsed document with its validation outcome; immutable, shared between requests."""

    text: str
    sha256: str
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    introspects: bool = False
    """Selects __schema or __type somewhere (`__typename` is not introspection here)."""

    @property
    def valid(self) -> bool:
        """Parsed and validated without errors."""
        return self.document is not None and not self.errors

    def operation(self, name: str | None) -> OperationDefinitionNode | GraphQLError:
        """The operation to run: the one named, or the only one; else an error saying why."""
        assert self.document is not None
        operations = [
            d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        if name is None:
            if len(operations) == 1:
                return operations[0]
            if not operations:
                return request_error("the document contains no operation", BAD_REQUEST)
            return request_error(
                "the document contains several operations: operationName must name one",
                BAD_REQUEST,
            )
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        return request_error(f"the document has no operation named {name!r}", BAD_REQUEST)


def request_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    """An error that stops the request before execution (no `data` in the response)."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def prepare(
    text: str,
    sha256: str | None = None,
    *,
    max_tokens: int = MAX_TOKENS,
    check: DocumentCheck | None = None,
) -> PreparedDocument:
    """Parses `text`, checks it with `check` (limits), then validates it against the schema
    (`sha256` when already known). Parsing stops past `max_tokens` tokens."""
    digest = sha256 or sha256_hex(text)
    try:
        document = parse(text, max_tokens=max_tokens)
    except GraphQLError as syntax_error:
        if "Document contains more than" in syntax_error.message:
            error = request_error(
                f"the document has more than {max_tokens} tokens; the limit is {max_tokens} "
                "(PINQL_MAX_TOKENS)",
                TOO_MANY_TOKENS,
                limit=max_tokens,
            )
            return PreparedDocument(text, digest, None, (error,))
        syntax_error.extensions = {"code": PARSE_FAILED}
        return PreparedDocument(text, digest, None, (syntax_error,))
    if check is not None:
        # Before validation, whose overlapping-fields rule is quadratic in a selection's
        # fields: a flood of aliases or root fields is refused before it costs that.
        refused = check(document)
        if refused:
            return PreparedDocument(text, digest, document, tuple(refused))
    errors = validate_document(build_schema()._schema, document, tuple(specified_rules))
    for error in errors:
        error.extensions = {"code": VALIDATION_FAILED}
    return PreparedDocument(text, digest, document, tuple(errors), _introspects(document))


class _IntrospectionFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> object:
        if node.name.value in INTROSPECTION_FIELDS:
            self.found = True
            return self.BREAK
        return None


def _introspects(document: DocumentNode) -> bool:
    finder = _IntrospectionFinder()
    visit(document, finder)
    return finder.found


async def run(
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    context: object,
    request_id: str | None = None,
) -> ExecutionResult:
    """Executes one operation of a valid document on graphql-core's path, its field errors
    reported by one rule (execution/reference.py); errors are coded, and unexpected ones
    masked (with `request_id`, which the log line also carries)."""
    from execution.reference import run as run_reference  # (it imports this module)

    return await run_reference(prepared, operation, variables, context, request_id)


def _coded(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """The error as the client sees it: its code kept, or masked when unexpected."""
    original = error.original_error
    if isinstance(original, DatabaseUnavailable):
        return _replaced(error, f"the database is unavailable: {original}", UNAVAILABLE)
    if isinstance(original, StatementTimeout):
        return _replaced(error, str(original), STATEMENT_TIMEOUT)
    if original is not None and not isinstance(original, PinqlError | GraphQLError):
        log.error("unexpected error at %s (request %s)", error.path, request_id, exc_info=original)
        ids = {} if request_id is None else {"requestId": request_id}
        return _replaced(error, "Internal server error", INTERNAL, **ids)
    if not (error.extensions or {}).get("code"):
        # Raised by graphql-core itself: variable coercion (no path), or a null in a non-null
        # field (a bug on our side).
        code = "BAD_USER_INPUT" if error.path is None else INTERNAL
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _replaced(error: GraphQLError, message: str, code: str, **extensions: Any) -> GraphQLError:
    """A new error at the same place, with its own message and code."""
    return GraphQLError(
        message, nodes=error.nodes, path=error.path, extensions={"code": code, **extensions}
    )


def formatted(errors: list[GraphQLError] | tuple[GraphQLError, ...]) -> list[dict[str, Any]]:
    """Errors as the response's `errors` entries."""
    return [dict(error.formatted) for error in errors]
