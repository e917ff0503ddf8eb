"""Leaf values completed a column at a time, as graphql-core completes them one by one.

graphql-core serializes each leaf with its type's `serialize` (`Executor.complete_leaf_value`)
and reports a null in a non-null field. A column whose values already are what they
serialize to (every String a `str`, every Int an `int` in 32 bits...) is kept as it is,
checked in C (`set(map(type, values))`); any other column is completed value by value the way
graphql-core does it, with an error for each value it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from types import NoneType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
    Undefined,
)
from graphql.execution import Executor

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""GraphQL's Int: 32 bits, signed."""

Fail = Callable[[int, Exception], None]
"""Reports the error of the value at an index of the column."""


class LeafMode:
    """How a leaf type's values are checked before they are kept as they are."""

    STR = 0
    """String and ID: a `str` serializes as itself."""
    BOOL = 1
    """Boolean: a `bool`."""
    INT = 2
    """Int: an `int` in 32 bits."""
    OTHER = 3
    """Anything else (DateTime, enums): its `serialize`, value by value."""


def leaf_mode(leaf: GraphQLLeafType) -> int:
    """How `leaf`'s values are checked."""
    if leaf is GraphQLString or leaf is GraphQLID:
        return LeafMode.STR
    if leaf is GraphQLBoolean:
        return LeafMode.BOOL
    if leaf is GraphQLInt:
        return LeafMode.INT
    return LeafMode.OTHER


_AS_IS: dict[int, set[type]] = {LeafMode.STR: {str}, LeafMode.BOOL: {bool}, LeafMode.INT: {int}}
"""The types whose values a mode's column keeps as they are."""
_OR_NULL: dict[int, set[type]] = {mode: {*types, NoneType} for mode, types in _AS_IS.items()}


def completed(
    leaf: GraphQLLeafType,
    mode: int,
    non_null: bool,
    null_message: str,
    values: list[Any],
    fail: Fail,
) -> list[Any]:
    """The column as graphql-core completes each value: serialized, or None where it
    fails (reported to `fail` with the value's index: a refused value, a null where the type
    is non-null)."""
    if mode != LeafMode.OTHER:
        types = set(map(type, values))
        if types <= (_AS_IS if non_null else _OR_NULL)[mode] and (
            mode != LeafMode.INT or _in_range(values)
        ):
            return values
    elif None not in values:
        try:
            serialized = list(map(leaf.serialize, values))
        except Exception:  # noqa: S110 (the value by value completion below reports it)
            pass
        else:
            if None not in serialized and Undefined not in serialized:
                return serialized
    return [
        _one(leaf, non_null, null_message, value, index, fail) for index, value in enumerate(values)
    ]


def _in_range(values: list[Any]) -> bool:
    present = [value for value in values if value is not None]
    return not present or (min(present) >= INT_MIN and max(present) <= INT_MAX)


def _one(
    leaf: GraphQLLeafType, non_null: bool, null_message: str, value: Any, index: int, fail: Fail
) -> Any:
    """One value as graphql-core completes it."""
    if value is None:
        if non_null:
            fail(index, TypeError(null_message))
        return None
    try:
        return Executor.complete_leaf_value(leaf, value)
    except Exception as error:
        fail(index, error)
        return None
