"""Which document an HTTP request runs: the registered one its `documentId` names, the APQ
document its `extensions.persistedQuery` names (with or without the text), or its `query`
text, as its client's policy allows; and whether a GET may run an operation."""

from __future__ import annotations

from functools import partial

from graphql import GraphQLError, OperationDefinitionNode, OperationType

from execution.documents import PreparedDocument
from execution.errors import BAD_REQUEST
from server.clients import Client
from server.graphql_http import GraphQLParams, RequestError
from server.persisted.policy import check_document_id
from server.persisted.queries import PersistedQueries, Refusal

SHA256_HEX = frozenset("0123456789abcdef")


async def request_document(
    persisted: PersistedQueries, client: Client, params: GraphQLParams, is_get: bool
) -> PreparedDocument | Refusal:
    """The document this request runs, as the client's policy allows (`is_get`: sent with
    GET, which runs queries only)."""
    if params.document_id is not None:
        if params.query is not None:
            raise RequestError(400, "send either documentId or query, not both")
        try:
            document_id = check_document_id(params.document_id)
        except ValueError as exc:
            raise RequestError(400, f"documentId: {exc}") from None
        return await persisted.resolve_document_id(client.name, document_id)
    apq = params.extensions.get("persistedQuery")
    if apq is not None:
        sha256 = _apq_hash(apq)
        if not is_get:
            return await persisted.resolve_apq(client.name, sha256, params.query)
        runs = partial(_get_runs_in, operation_name=params.operation_name)
        return await persisted.resolve_apq(client.name, sha256, params.query, runs)
    if params.query is None:
        raise RequestError(400, "the request has no query: send query (or a persisted query)")
    return await persisted.resolve_text(client.name, params.query)


def get_runs(operation: OperationDefinitionNode) -> bool:
    """Whether a GET may run `operation`: a query only (a GET must not change anything)."""
    return operation.operation is OperationType.QUERY


def _get_runs_in(prepared: PreparedDocument, operation_name: str | None) -> bool:
    """Whether a GET runs the operation it names in `prepared` (none to run: no)."""
    operation = prepared.operation(operation_name)
    return not isinstance(operation, GraphQLError) and get_runs(operation)


def _apq_hash(apq: object) -> str:
    """The sha256Hash of a valid `extensions.persistedQuery`, else RequestError (400)."""
    if not isinstance(apq, dict):
        raise RequestError(400, "extensions.persistedQuery must be an object")
    if apq.get("version") != 1:
        raise RequestError(
            400,
            f"Unsupported persisted query version: {apq.get('version')!r} (only 1 is supported)",
            BAD_REQUEST,
        )
    sha256 = apq.get("sha256Hash")
    if not isinstance(sha256, str) or len(sha256) != 64 or not SHA256_HEX.issuperset(sha256):
        raise RequestError(
            400, f"extensions.persistedQuery.sha256Hash must be 64 lowercase hex, got {sha256!r}"
        )
    return sha256
