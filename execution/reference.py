"""graphql-core's path, made deterministic: an operation run by graphql-core's executor, with
the field errors reported by the rule of execution/propagation.py, whatever order its
fields failed in.

graphql-core cancels the siblings of a failing non-null field, stops an object's fields at
the first that raises synchronously, and skips an error inside a position already nulled:
with several failures, its answer depends on task timing. `ReferenceExecutor` lets every
field and list item of an object settle, then raises the first error (in selection order,
by index) of those that null the same position, and hands every field error with the
position it nulls to `report`. Otherwise it is graphql-core's executor (Strawberry's
flavour): the same awaitable detection, the same value completion, and, with at most one
field error, the same result.
"""

from __future__ import annotations

from asyncio import ensure_future, gather
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, cast

from graphql import (
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    GraphQLError,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    execute,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import CollectedErrors
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from execution.documents import PreparedDocument
from execution.errors import coded
from execution.propagation import Nulled, report
from schema.build import build_schema


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
        executor_class=ReferenceExecutor,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    if result.errors:
        result.errors = [coded(error, request_id) for error in result.errors]
    return result


class ReferenceExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with deterministic field errors (see the module's docstring).

    Lists are completed without `@stream`: graphql-core's `execute` refuses a schema that
    declares it (and so does this executor), and pinql's lists are plain iterables (an
    async iterable keeps graphql-core's completion)."""

    collected_errors: EveryError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert self.schema.get_directive("stream") is None, "lists are completed without @stream"
        self.collected_errors = EveryError()

    def build_response(
        self, data: dict[str, Any] | None
    ) -> ExecutionResult | ExperimentalIncrementalExecutionResults:
        """The response, its errors by the rule; the request's context let go of first.

        graphql-core's executor is a reference cycle (it holds bound methods of itself,
        `async_helpers`), freed only by the garbage collector: through `context_value` it
        would keep every loader, row and page of the request alive until a collection
        finds it."""
        self.context_value = None
        result = super().build_response(data)
        nulls = self.collected_errors.nulls
        if nulls and isinstance(result, ExecutionResult):
            result.data, result.errors = report(result.data, nulls)
        return result

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """An object's fields, run concurrently, each to its end (none is cancelled, and a
        field raising synchronously does not stop the others). When non-null fields
        raised, the first of them in selection order is raised once all have settled: the
        others null the same position, and the rule reports only the first."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        for response_name, field_details_list in grouped_field_set.items():
            field_path = Path(path, response_name, parent_type.name)
            try:
                result = self.execute_field(
                    parent_type, source_value, field_details_list, field_path, position_context
                )
            except Exception as error:
                results[response_name] = _Failed(error)
                continue
            if result is not Undefined:
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        if awaitable_fields:
            return _settled_fields(results, awaitable_fields)
        _raise_first_failure(results.values())
        return results

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list's items, completed concurrently, each to its end; when non-null items
        raised, the first of them by index is raised once all have settled (as for an
        object's fields). An iterable that raises fails its field at once."""
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                try:
                    if self._complete_item(
                        item,
                        completed,
                        item_type,
                        field_details_list,
                        info,
                        item_path,
                        position_context,
                    ):
                        awaitable_indices.append(index)
                except Exception as error:  # a non-null item (it appended nothing)
                    completed.append(_Failed(error))
        except Exception:  # iterating failed: settle what it started, as graphql-core does
            self.settle_in_background([completed[index] for index in awaitable_indices])
            raise
        if awaitable_indices:
            return _settled_items(completed, awaitable_indices)
        _raise_first_failure(completed)
        return completed

    def _complete_item(
        self,
        item: Any,
        completed: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        item_path: Path,
        position_context: Any,
    ) -> bool:
        """Appends the item's completion to `completed`; whether it is awaitable. Raises
        when the item is non-null and fails."""
        if not self.is_awaitable(item):
            return self.complete_list_item_value(
                item, completed, item_type, field_details_list, info, item_path, position_context
            )
        completed.append(
            self.complete_awaitable_list_item_value(
                item, item_type, field_details_list, info, item_path, position_context
            )
        )
        return True


class EveryError(CollectedErrors):
    """Every field error with the position it nulls, unfiltered: `report` decides which
    are reported (graphql-core's own collector drops those inside a nulled position, which
    depends on the order they came in)."""

    __slots__ = ("nulls",)

    def __init__(self) -> None:
        super().__init__()
        self.nulls: list[Nulled] = []

    def add(self, error: GraphQLError, path: Path | None) -> None:
        """Records the error and the position it nulls (`path`; None: the root)."""
        self.nulls.append((error, None if path is None else path.as_list()))
        self._errors.append(error)


class _Failed:
    """A field or list item that raised, kept until its siblings have settled."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def _raise_first_failure(values: Iterable[Any]) -> None:
    """Raises the error of the first `_Failed` among the values, if any."""
    for value in values:
        if type(value) is _Failed:
            raise value.error


async def _settled_fields(results: dict[str, Any], awaitable: list[str]) -> dict[str, Any]:
    """The object's fields once every awaitable one has settled; raises the first failure."""
    results.update(zip(awaitable, await _settled([results[k] for k in awaitable]), strict=True))
    _raise_first_failure(results.values())
    return results


async def _settled_items(completed: list[Any], awaitable: list[int]) -> list[Any]:
    """The list's items once every awaitable one has settled; raises the first failure."""
    for index, value in zip(
        awaitable, await _settled([completed[i] for i in awaitable]), strict=True
    ):
        completed[index] = value
    _raise_first_failure(completed)
    return completed


async def _settled(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Each awaitable's value once all have settled, a `_Failed` where one raised an
    Exception. Anything else (a cancellation: the request's deadline) is raised at once,
    and the others are cancelled."""
    if len(awaitables) == 1:  # no task needed
        try:
            return [await awaitables[0]]
        except Exception as error:
            return [_Failed(error)]
    futures = [ensure_future(_caught(awaitable)) for awaitable in awaitables]
    try:
        return await gather(*futures)
    except BaseException:
        for future in futures:
            future.cancel()
        raise


async def _caught(awaitable: Awaitable[Any]) -> Any:
    """The awaitable's value, or a `_Failed` with the Exception it raised."""
    try:
        return await awaitable
    except Exception as error:
        return _Failed(error)
