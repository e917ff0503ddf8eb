"""How values complete, as graphql-core completes them, for a batch at a time: leaves
(execution/leaves.py), lists (their items flattened into one batch and split back), and
objects (built by their selection, each runtime type's as one batch). A value that
graphql-core would refuse is a field error recorded where it happened (`FieldError`), its
place null; execution/settle.py settles them once the request is done.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from itertools import chain
from types import NoneType
from typing import Any

from graphql import GraphQLError
from graphql.pyutils import inspect

from db.errors import DatabaseUnavailable, StatementTimeout
from execution.leaves import INT_MAX, INT_MIN, LeafMode, as_is, in_range, kept_as_is, one_by_one
from execution.plan import Field, Selection

Fail = Callable[[int, Exception], None]
"""Reports the error of the value at an index of a batch."""
INT = LeafMode.INT


class FieldError:
    """A field error where it happened: the field of the object `outs[index]`, and the list
    item when an item failed. (`outs` may still be filling when it is recorded.)"""

    __slots__ = ("error", "field", "index", "item", "outs")

    def __init__(
        self,
        field: Field,
        outs: Sequence[dict[str, Any]],
        index: int,
        item: int | None,
        error: Exception,
    ) -> None:
        self.field = field
        self.outs = outs
        self.index = index
        self.item = item
        self.error = error


class Completion(ABC):
    """The completion of one request's values, and the field errors met doing it."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.fault: Exception | None = None
        """The first database fault met: the answer is a 503, no further wave runs."""
        self.typed: dict[int, Selection] = {}
        """The selection of each object built for an abstract field, by the id of its dict."""

    @abstractmethod
    def objects(self, selection: Selection, parents: list[Any]) -> list[dict[str, Any]]:
        """The response objects of a batch of parents of the selection's type."""

    def fail(
        self,
        field: Field,
        outs: Sequence[dict[str, Any]],
        index: int,
        item: int | None,
        error: Exception,
    ) -> None:
        """Records a field error (the value is written as null by the caller)."""
        self.errors.append(FieldError(field, outs, index, item, error))
        if self.fault is None and isinstance(error, DatabaseUnavailable | StatementTimeout):
            self.fault = error

    def complete(
        self,
        field: Field,
        values: list[Any],
        outs: Sequence[dict[str, Any]],
        at: Sequence[int] | None,
    ) -> list[Any]:
        """The values completed as graphql-core completes them; `outs[at[j]]` (`outs[j]`
        when `at` is None) is the object holding value j."""
        kept = field.as_is
        if kept is not None:  # a plain leaf: the usual column is kept as it is
            if len(values) == 1:
                v = values[0]
                if type(v) in kept and (
                    field.leaf_mode != INT or v is None or INT_MIN <= v <= INT_MAX
                ):
                    return values
            else:
                types = set(map(type, values))
                if types <= kept and (
                    field.leaf_mode != INT or in_range(values, NoneType in types)
                ):
                    return values
        elif field.selection is not None and not field.is_list:  # objects: the usual, no null
            classes = set(map(type, values))
            accepted = field.accepted
            if NoneType not in classes and (accepted is None or classes <= accepted):
                return self.objects(field.selection, values)
        if field.is_list:
            return self.lists(field, values, self.failing(field, outs, at), outs, at)
        leaf = field.leaf
        if leaf is not None:
            done = as_is(field.leaf_mode, kept, leaf, values) if kept is None else None
            if done is not None:
                return done
            fail = self.failing(field, outs, at)
            return one_by_one(leaf, field.non_null, field.null_message, values, fail)
        return self.values(field, values, field.non_null, lambda: self.failing(field, outs, at))

    def failing(
        self, field: Field, outs: Sequence[dict[str, Any]], at: Sequence[int] | None
    ) -> Fail:
        """What reports the error of value j of a column of `field` (`outs[at[j]]`'s)."""

        def fail(j: int, error: Exception) -> None:
            self.fail(field, outs, j if at is None else at[j], None, error)

        return fail

    def lists(
        self,
        field: Field,
        values: list[Any],
        fail: Fail,
        outs: Sequence[dict[str, Any]],
        at: Sequence[int] | None,
    ) -> list[Any]:
        """List values: their items completed as one batch, then split back."""
        if len(values) == 1 and type(values[0]) is list and field.leaf is None:
            items = values[0]  # one list of objects (a page's edges): no flattening

            def fail_one(k: int, error: Exception) -> None:
                self.fail(field, outs, 0 if at is None else at[0], k, error)

            return [self.values(field, items, field.item_non_null, lambda: fail_one)]
        column: list[Any] = [None] * len(values)
        lists: list[Any] = []
        where: list[int] = []
        for j, value in enumerate(values):
            if value is None:
                if field.non_null:
                    fail(j, TypeError(field.null_message))
            elif type(value) is list or type(value) is tuple:
                lists.append(value)
                where.append(j)
            else:
                named = f"'{field.parent_type}.{field.name}'"
                fail(j, GraphQLError(f"Expected Iterable, but did not find one for field {named}."))
        items = list(lists[0]) if len(lists) == 1 else list(chain.from_iterable(lists))
        starts = [0]
        for value in lists:
            starts.append(starts[-1] + len(value))

        def fail_item(k: int, error: Exception) -> None:
            n = next(n for n in range(len(lists)) if starts[n + 1] > k)
            j = where[n]
            self.fail(field, outs, j if at is None else at[j], k - starts[n], error)

        leaf = field.leaf
        if leaf is None:
            done = self.values(field, items, field.item_non_null, lambda: fail_item)
        else:
            kept = kept_as_is(field.leaf_mode, field.item_non_null)
            found = as_is(field.leaf_mode, kept, leaf, items)
            done = found or one_by_one(
                leaf, field.item_non_null, field.null_message, items, fail_item
            )
        for n, j in enumerate(where):
            column[j] = done[starts[n] : starts[n + 1]]
        return column

    def values(
        self, field: Field, values: list[Any], non_null: bool, failing: Callable[[], Fail]
    ) -> list[Any]:
        """Object values (of one field, or one list's items): their response objects, null
        where the value is null (an error where `non_null`; `failing` makes what reports
        errors, when there is one)."""
        classes = set(map(type, values))
        if NoneType not in classes:
            return self.of_type(field, values, failing, classes)
        classes.discard(NoneType)
        fail = failing()
        present, where = [], []
        for j, value in enumerate(values):
            if value is None:
                if non_null:
                    fail(j, TypeError(field.null_message))
            else:
                present.append(value)
                where.append(j)
        built = self.of_type(field, present, lambda: _through(where, fail), classes)
        return placed(len(values), where, built)

    def of_type(
        self,
        field: Field,
        values: list[Any],
        failing: Callable[[], Fail],
        classes: set[type],
    ) -> list[Any]:
        """The response objects of non-null values (of these classes), each of the field's
        type (an object type's, or a runtime type of an interface); null where one is
        not."""
        if field.selection is not None:
            accepted, is_type_of = field.accepted, field.is_type_of
            if accepted is None or classes <= accepted or _all_of_type(field, values, classes):
                return self.objects(field.selection, values)
            assert is_type_of is not None
            return self.by_type(
                field, values, failing(), lambda value: "" if is_type_of(value, None) else None
            )
        runtime_types = field.runtime_types
        return self.by_type(
            field,
            values,
            failing(),
            lambda value: next(
                (n for n, is_type_of in runtime_types if is_type_of(value, None)), None
            ),
        )

    def by_type(
        self, field: Field, values: list[Any], fail: Fail, type_of: Callable[[Any], str | None]
    ) -> list[Any]:
        """Values sorted by runtime type (`type_of`: its name, "" for the field's own type,
        None when none fits: an error, as graphql-core reports it), each type's built as one
        batch."""
        column: list[Any] = [None] * len(values)
        groups: dict[str, tuple[list[Any], list[int]]] = {}
        for j, value in enumerate(values):
            name = type_of(value)
            if name is None:
                fail(j, _type_error(field, value))
                continue
            group = groups.setdefault(name, ([], []))
            group[0].append(value)
            group[1].append(j)
        for name, (members, where) in groups.items():
            selection = field.selection if name == "" else (field.selections or {})[name]
            assert selection is not None
            built = self.objects(selection, members)
            if name:
                self.typed.update(dict.fromkeys(map(id, built), selection))
            for j, out in zip(where, built, strict=True):
                column[j] = out
        return column


def placed(length: int, at: list[int] | None, values: list[Any]) -> list[Any]:
    """A column of `length` nulls with `values[j]` at `at[j]` (`at` None: the values are
    the column)."""
    if at is None:
        return values
    column: list[Any] = [None] * length
    for index, value in zip(at, values, strict=True):
        column[index] = value
    return column


def _all_of_type(field: Field, values: list[Any], classes: set[type]) -> bool:
    """Whether every value (of these classes) is of the field's object type: its is_type_of
    checks the row's class, so one value of each class will do (and the classes it accepts
    are remembered in `field.accepted`)."""
    is_type_of = field.is_type_of
    assert is_type_of is not None and field.accepted is not None
    for cls in classes:
        if not is_type_of(next(v for v in values if type(v) is cls), None):
            return False
    field.accepted.update(classes)
    return True


def _through(where: list[int], fail: Fail) -> Fail:
    """`fail` for a batch taken at `where` of a larger one."""
    return lambda j, error: fail(where[j], error)


def _type_error(field: Field, value: Any) -> GraphQLError:
    """graphql-core's error for a value not of the field's type."""
    named = field.return_type
    if field.selection is not None:
        return GraphQLError(f"Expected value of type '{named.name}' but got: {inspect(value)}.")
    return GraphQLError(
        f"Abstract type '{named.name}' must resolve to an Object type at runtime for field"
        f" '{field.parent_type}.{field.name}'. Either the '{named.name}' type should provide"
        " a 'resolve_type' function or each possible type should provide an 'is_type_of'"
        " function."
    )
