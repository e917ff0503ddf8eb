"""graphql-core's path: an operation executed by graphql-core on the Strawberry schema, with
the request's loaders in the context. It runs what the engine does not plan (mutations,
introspection, anything unusual), and every operation when the engine is switched off; the
differential tests compare the engine with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from graphql import ExecutionResult, OperationDefinitionNode, execute
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from execution.documents import PreparedDocument
from execution.errors import coded
from schema.build import build_schema


class _Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, letting go of the request's context once the response is
    built. graphql-core's executor is a reference cycle (it holds bound methods of itself,
    `async_helpers`), freed only by the garbage collector: through `context_value` it would
    keep every loader, row and page of the request alive until a collection finds it."""

    def build_response(self, data: dict[str, Any] | None) -> Any:
        self.context_value = None
        return super().build_response(data)


async def run(
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    context: object,
    request_id: str | None = None,
) -> ExecutionResult:
    """Executes one operation of a valid document; errors are coded, and unexpected ones
    masked (with `request_id`, which the log line also carries)."""
    assert prepared.valid and prepared.document is not None
    schema = build_schema()
    result = execute(
        schema._schema,
        prepared.document,
        variable_values=dict(variables) if variables is not None else None,
        operation_name=operation.name.value if operation.name else None,
        context_value=context,
        is_awaitable=cast(Any, optimized_is_awaitable),
        executor_class=_Executor,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    if result.errors:
        result.errors = [coded(error, request_id) for error in result.errors]
    return result
