"""Field errors on the fast path: where each happened, which part of the response it nulls
(graphql-core's null propagation), and how they are reported."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, located_error

from db.errors import DatabaseUnavailable, StatementTimeout
from schema.fast.plan import FieldPlan

Position = tuple[Any, dict[str, Any], str, int | None, FieldPlan]
"""Where a response object sits: (its parent's position or None at the root, the parent
object, the response key, the list index or None, the field)."""
Slot = tuple[int, str, int | None]
"""A nulled place of the response: (id of the object, response key, list index or None)."""
ROOT: Slot = (0, "", None)
"""The whole response (`data`) nulled."""


class FieldError:
    """A field error where it happened: the field, the object holding it (and that
    object's position), the list index when an item failed."""

    __slots__ = ("error", "field", "index", "out", "position")

    def __init__(
        self,
        field: FieldPlan,
        out: dict[str, Any],
        position: Position | None,
        index: int | None,
        error: Exception,
    ) -> None:
        self.field = field
        self.out = out
        self.position = position
        self.index = index
        self.error = error

    def path(self) -> list[str | int]:
        """The response path of the failed field (or item)."""
        tail: list[str | int] = [self.field.key]
        if self.index is not None:
            tail.append(self.index)
        return path_of(self.position) + tail


def faults(errors: list[FieldError]) -> bool:
    """Whether a database fault is among the errors: the answer is a 503 (or a timeout)
    whichever field reports it, and running the request again would only wait again."""
    return any(isinstance(e.error, DatabaseUnavailable | StatementTimeout) for e in errors)


def path_of(position: Position | None) -> list[str | int]:
    """The response path of the object at `position`."""
    path: list[str | int] = []
    while position is not None:
        parent, _out, key, index, _field = position
        if index is not None:
            path.append(index)
        path.append(key)
        position = parent
    path.reverse()
    return path


def settle(
    data: dict[str, Any], errors: list[FieldError]
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """Nulls the nearest nullable position of each error, as graphql-core propagates nulls;
    an error inside a position already nulled is not reported (graphql-core's
    `CollectedErrors`). Exact for one error; for several (database faults only) the order
    is the fast path's."""
    nulled: list[list[str | int]] = []
    located: list[GraphQLError] = []
    result: dict[str, Any] | None = data
    for error in errors:
        path = error.path()
        if result is None or any(path[: len(n)] == n for n in nulled):
            continue
        located.append(located_error(error.error, list(error.field.nodes), path))
        at = _null_nearest(error)
        if at is None:
            result = None
        else:
            nulled.append(at)
    return result, located


def _null_nearest(error: FieldError) -> list[str | int] | None:
    """Sets the nearest nullable place at or above the error to null; its path, or None
    when that is the whole response."""
    place = _nullable_place(error)
    if place is None:
        return None
    out, field, index, position = place
    if index is None:
        out[field.key] = None
        return [*path_of(position), field.key]
    items = out.get(field.key)
    if isinstance(items, list):
        items[index] = None
    return [*path_of(position), field.key, index]


def nearest_nullable(error: FieldError) -> Slot:
    """The slot an error nulls (ROOT: the whole response)."""
    place = _nullable_place(error)
    if place is None:
        return ROOT
    out, field, index, _position = place
    return (id(out), field.key, index)


def _nullable_place(
    error: FieldError,
) -> tuple[dict[str, Any], FieldPlan, int | None, Position | None] | None:
    """The nearest nullable place at or above the error, as (object, field, list index,
    the object's position): the failed field or item itself when nullable, else the
    objects (or lists) above it, as graphql-core propagates a null; None: `data` itself."""
    field, out, position, index = error.field, error.out, error.position, error.index
    while True:
        if index is not None:
            if not field.item_non_null:
                return out, field, index, position
            index = None
        if not field.non_null:
            return out, field, None, position
        if position is None:
            return None
        position, out, _key, index, field = position
