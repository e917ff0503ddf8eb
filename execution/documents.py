"""Preparing documents: parsed, checked against the HTTP edge's limits and validated against
the schema, once per document; what `prepare` returns is immutable and cached by the HTTP
edge (by the document's SHA-256), so a persisted or repeated document is prepared once per
process."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    specified_rules,
)
from graphql.language import TokenKind, Visitor, visit
from strawberry.schema.schema import validate_document

from execution.errors import (
    BAD_REQUEST,
    PARSE_FAILED,
    TOO_MANY_TOKENS,
    VALIDATION_FAILED,
    request_error,
)
from schema.build import build_schema

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
    tokens: int = 0
    """The document's tokens, comments left out: what its syntax tree is made of (0 when it
    did not parse)."""

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
        tokens = _detach_tokens(document)
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
            return PreparedDocument(text, digest, document, tuple(refused), tokens=tokens)
    errors = validate_document(build_schema()._schema, document, tuple(specified_rules))
    for error in errors:
        error.extensions = {"code": VALIDATION_FAILED}
    return PreparedDocument(
        text, digest, document, tuple(errors), _introspects(document), tokens=tokens
    )


_NOT_COUNTED = frozenset({TokenKind.COMMENT, TokenKind.SOF, TokenKind.EOF})


def _detach_tokens(document: DocumentNode) -> int:
    """Unlinks the lexer's chain of tokens (each token's `prev` and `next`), which nothing
    after parsing reads: nodes keep their locations (`start`, `end`, `source`: what errors
    are located with), and the document holds no reference cycle, so reference counting
    frees it (execution/untracked.py). Returns how many tokens it held, comments left out."""
    count = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        following = token.next
        token.prev = token.next = None
        count += token.kind not in _NOT_COUNTED
        token = following
    return count


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
