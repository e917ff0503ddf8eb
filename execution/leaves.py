"""Leaf values completed a column at a time, as graphql-core completes them one by one.

graphql-core serializes each leaf with its type's `serialize` (`Executor.complete_leaf_value`)
and reports a null in a non-null field. A column whose values already are what they
serialize to (every String a `str`, every Int an `int` in 32 bits...) is kept as it is,
checked in C (`set(map(type, values))`), and a column of another type is serialized in one
pass (`as_is`); any column with a value to refuse is completed value by value the way
graphql-core does it, with an error for each value it refuses (`one_by_one`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import NoneType
from typing import Any

from graphql import GraphQLBoolean, GraphQLID, GraphQLInt, GraphQLLeafType, GraphQLString
from graphql.execution import Executor
from graphql.pyutils.undefined import UndefinedType

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


_AS_IS: dict[int, type] = {LeafMode.STR: str, LeafMode.BOOL: bool, LeafMode.INT: int}


def kept_as_is(mode: int, non_null: bool) -> frozenset[type] | None:
    """The types of the values a column of this mode keeps as they are (with NoneType where
    the field is nullable); None: the leaf's `serialize`, value by value (an Int must also be
    in 32 bits: `in_range`)."""
    kept = _AS_IS.get(mode)
    if kept is None:
        return None
    return frozenset({kept} if non_null else {kept, NoneType})


def as_is(
    mode: int, kept: frozenset[type] | None, leaf: GraphQLLeafType, values: list[Any]
) -> list[Any] | None:
    """The column when every value completes as graphql-core completes it without an
    error: kept as it is (`kept`: `kept_as_is`), or serialized; None otherwise (then
    `one_by_one` completes it, errors and all)."""
    if kept is not None:
        types = set(map(type, values))
        if types <= kept and (mode != LeafMode.INT or in_range(values, NoneType in types)):
            return values
        return None
    if None in values:
        return None
    try:
        serialized = list(map(leaf.serialize, values))
    except Exception:  # the value by value completion reports it
        return None
    types = set(map(type, serialized))
    return None if NoneType in types or UndefinedType in types else serialized


def one_by_one(
    leaf: GraphQLLeafType, non_null: bool, null_message: str, values: list[Any], fail: Fail
) -> list[Any]:
    """The column as graphql-core completes each value: serialized, or None where it
    fails (reported to `fail` with the value's index: a refused value, a null where the type
    is non-null)."""
    return [
        _one(leaf, non_null, null_message, value, index, fail) for index, value in enumerate(values)
    ]


def in_range(values: list[Any], nulls: bool) -> bool:
    """Whether every Int of a column of ints (and nulls, when `nulls`) is in 32 bits."""
    present = [value for value in values if value is not None] if nulls else values
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
